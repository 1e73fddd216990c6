//! Background jobs on Postgres, with the `underway` crate: the feedback job.
//!
//! Why `underway` (see the plan): it works with our sqlx 0.8 (tower-sessions' store keeps us
//! there), enqueues inside our own transactions (so ending a session and asking for its feedback
//! commit together), takes tasks with `FOR UPDATE SKIP LOCKED` (safe with several app
//! processes), wakes workers with LISTEN/NOTIFY, records heartbeats (a task whose process died
//! runs again elsewhere), retries with backoff up to a bound, and keeps its tables in its own
//! `underway` schema (created by our migration 0013, a copy of underway's own). Each running task
//! holds a transaction and its connection, so workers get their own pool, sized for their
//! concurrency.

use std::{sync::Arc, time::Duration};

use jiff::{Span, ToSpan};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::OnceCell;
use underway::{
    Queue, Task, Worker,
    task::{Error as TaskError, Result as TaskResult, RetryPolicy},
};
use uuid::Uuid;

use super::feedback::{self, FeedbackDeps, MakeError};
use crate::error::AppError;

/// The queue's name in `underway.task_queue`.
pub const FEEDBACK_QUEUE: &str = "feedback";

/// Attempts of one feedback request before it is given up.
pub const FEEDBACK_ATTEMPTS: i32 = 4;

/// One feedback job: make `generation` of the session's feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackJob {
    pub session: Uuid,
    pub generation: i32,
}

/// The feedback task, as `underway` runs it.
pub struct FeedbackTask {
    deps: FeedbackDeps,
    retry: RetryPolicy,
}

impl FeedbackTask {
    /// `first_retry`: the wait before the second attempt; each later one waits three times longer
    /// (at most two minutes). `underway` counts these waits from when the job was queued.
    pub fn new(deps: FeedbackDeps, first_retry: Duration) -> Self {
        let first_ms = i32::try_from(first_retry.as_millis()).unwrap_or(i32::MAX);
        let retry = RetryPolicy::builder()
            .max_attempts(deps.max_attempts)
            .initial_interval_ms(first_ms)
            .max_interval_ms(120_000)
            .backoff_coefficient(3.0)
            .build();
        FeedbackTask { deps, retry }
    }
}

impl Task for FeedbackTask {
    type Input = FeedbackJob;
    type Output = ();

    async fn execute(&self, mut tx: Transaction<'_, Postgres>, job: FeedbackJob) -> TaskResult<()> {
        match feedback::make(&self.deps, &mut tx, job.session, job.generation).await {
            Ok(_) => {
                tx.commit().await?;
                Ok(())
            }
            Err(MakeError::Retry(reason)) => Err(TaskError::Retryable(reason)),
            Err(MakeError::GaveUp(reason)) => Err(TaskError::Fatal(reason)),
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Longer than the reviewer's own request timeout, so a slow model is our failure to handle.
    fn timeout(&self) -> Span {
        3.minutes()
    }

    /// A task whose heartbeat stops this long (its process died) runs again on another worker.
    fn heartbeat(&self) -> Span {
        15.seconds()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error(transparent)]
    Queue(#[from] underway::queue::Error),
}

impl From<JobsError> for AppError {
    fn from(error: JobsError) -> Self {
        super::error::internal("jobs", &error)
    }
}

/// Queuing feedback jobs, and the worker that runs them. Cheap to clone.
#[derive(Clone)]
pub struct FeedbackJobs {
    pool: PgPool,
    task: Arc<FeedbackTask>,
    queue: Arc<OnceCell<Arc<Queue<FeedbackTask>>>>,
}

impl FeedbackJobs {
    pub fn new(pool: PgPool, task: FeedbackTask) -> Self {
        FeedbackJobs {
            pool,
            task: Arc::new(task),
            queue: Arc::new(OnceCell::new()),
        }
    }

    /// The queue, made on first use (its row in `underway.task_queue`; underway's tables come
    /// with the app's migrations).
    pub async fn ready(&self) -> Result<Arc<Queue<FeedbackTask>>, JobsError> {
        self.queue
            .get_or_try_init(|| async {
                let queue = Queue::builder()
                    .name(FEEDBACK_QUEUE)
                    .pool(self.pool.clone())
                    .build()
                    .await?;
                Ok(Arc::new(queue))
            })
            .await
            .cloned()
    }

    /// Queues `generation` of the session's feedback inside the caller's transaction.
    pub async fn enqueue(
        &self,
        conn: &mut PgConnection,
        session: Uuid,
        generation: i32,
    ) -> Result<(), JobsError> {
        let queue = self.ready().await?;
        queue
            .enqueue(
                conn,
                &*self.task,
                &FeedbackJob {
                    session,
                    generation,
                },
            )
            .await?;
        Ok(())
    }

    /// A worker running at most `concurrency` feedback jobs at once, on its own `pool` (each
    /// running job holds a transaction: size it `2 × concurrency + 3`, see `worker_pool_size`).
    pub async fn worker(
        &self,
        pool: PgPool,
        concurrency: usize,
    ) -> Result<Worker<FeedbackTask>, JobsError> {
        self.ready().await?;
        let task = FeedbackTask {
            deps: FeedbackDeps {
                db: pool.clone(),
                ..self.task.deps.clone()
            },
            retry: self.task.retry,
        };
        let queue = Queue::builder()
            .name(FEEDBACK_QUEUE)
            .pool(pool)
            .build()
            .await?;
        let mut worker = Worker::new(Arc::new(queue), task);
        worker.set_concurrency_limit(concurrency.max(1));
        Ok(worker)
    }
}

/// Connections a feedback worker of `concurrency` needs: two listeners (new tasks, shutdown),
/// then per running task its transaction and the queries it makes, plus heartbeats.
pub fn worker_pool_size(concurrency: u32) -> u32 {
    2 * concurrency + 3
}
