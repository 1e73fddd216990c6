//! Rate limits every app process shares, kept in Postgres (`rate_limits`) with the generic cell
//! rate algorithm: a key may be used `burst` times at once, then once more every `period`. One
//! row per key holds the time until which its burst is used up; one statement checks and counts
//! a use, under the row's lock, so N processes allow what one would.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// `burst` uses at once, then one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub period: Duration,
    pub burst: u32,
}

impl Rate {
    /// `n` a minute, all of them at once if need be.
    pub fn per_minute(n: u32) -> Rate {
        let n = n.max(1);
        Rate {
            period: Duration::from_secs(60) / n,
            burst: n,
        }
    }
}

/// The row's key: the limit's name and its subject (an address, an email, a learner's id),
/// hashed so the table never holds them in clear.
fn key(limit: &str, subject: &str) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(limit.as_bytes());
    hash.update([0]);
    hash.update(subject.as_bytes());
    hash.finalize().to_vec()
}

/// Counts one use of `subject` under `limit`: `Ok(())` when it is within `rate`, else how long
/// until the next use would be (and nothing is counted).
pub async fn take(
    pool: &PgPool,
    limit: &str,
    subject: &str,
    rate: Rate,
) -> Result<Result<(), Duration>, sqlx::Error> {
    let period = rate.period.as_secs_f64();
    let allowance = period * f64::from(rate.burst.max(1));
    let key = key(limit, subject);
    // The update's condition sees the row's newest version under its lock, whatever this
    // statement's snapshot is: concurrent uses from any process are counted one after another.
    let counted = sqlx::query(
        r#"insert into rate_limits as r (key, not_before)
           values ($1, now() + make_interval(secs => $2))
           on conflict (key) do update
               set not_before = greatest(r.not_before, now()) + make_interval(secs => $2)
               where greatest(r.not_before, now()) + make_interval(secs => $2)
                     <= now() + make_interval(secs => $3)"#,
    )
    .bind(&key)
    .bind(period)
    .bind(allowance)
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    if counted {
        return Ok(Ok(()));
    }
    // Refused: how long until the burst has room for one more (read afresh, after the refusal).
    let wait: Option<f64> = sqlx::query_scalar(
        r#"select extract(epoch from greatest(not_before, now()) + make_interval(secs => $2)
                  - now() - make_interval(secs => $3))::float8
           from rate_limits where key = $1"#,
    )
    .bind(&key)
    .bind(period)
    .bind(allowance)
    .fetch_optional(pool)
    .await?;
    let wait = wait.filter(|secs| *secs > 0.0).unwrap_or(period);
    Ok(Err(Duration::from_secs_f64(wait.max(0.001))))
}

/// Forgets keys whose burst has fully come back (the same as never having been used), so the
/// table stays as small as the traffic of the last few minutes.
pub async fn forget_idle(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from rate_limits where not_before < now()")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_A_MINUTE: Rate = Rate {
        period: Duration::from_secs(30),
        burst: 2,
    };

    #[sqlx::test]
    async fn a_burst_then_a_wait_that_says_how_long(db: PgPool) {
        for _ in 0..2 {
            assert_eq!(
                take(&db, "test", "ana", TWO_A_MINUTE).await.unwrap(),
                Ok(())
            );
        }
        let wait = take(&db, "test", "ana", TWO_A_MINUTE)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        // A refused use is not counted: the wait does not grow.
        let again = take(&db, "test", "ana", TWO_A_MINUTE)
            .await
            .unwrap()
            .unwrap_err();
        assert!(again <= wait, "{again:?} > {wait:?}");
        // Other subjects and other limits are their own.
        assert_eq!(
            take(&db, "test", "ben", TWO_A_MINUTE).await.unwrap(),
            Ok(())
        );
        assert_eq!(
            take(&db, "other", "ana", TWO_A_MINUTE).await.unwrap(),
            Ok(())
        );
    }

    #[sqlx::test]
    async fn uses_come_back_with_time(db: PgPool) {
        let fast = Rate {
            period: Duration::from_millis(200),
            burst: 1,
        };
        assert_eq!(take(&db, "test", "ana", fast).await.unwrap(), Ok(()));
        assert!(take(&db, "test", "ana", fast).await.unwrap().is_err());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(take(&db, "test", "ana", fast).await.unwrap(), Ok(()));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(forget_idle(&db).await.unwrap(), 1);
    }

    #[sqlx::test]
    async fn concurrent_uses_never_exceed_the_burst(db: PgPool) {
        let rate = Rate {
            period: Duration::from_secs(60),
            burst: 5,
        };
        let tries = (0..40).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { take(&db, "test", "ana", rate).await.unwrap() })
        });
        let allowed = futures::future::join_all(tries)
            .await
            .into_iter()
            .filter(|outcome| matches!(outcome, Ok(Ok(()))))
            .count();
        assert_eq!(allowed, 5);
    }

    #[sqlx::test]
    async fn the_table_holds_no_subject_in_clear(db: PgPool) {
        take(&db, "auth", "ana@example.org", TWO_A_MINUTE)
            .await
            .unwrap()
            .unwrap();
        let (key,): (Vec<u8>,) = sqlx::query_as("select key from rate_limits")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(key.len(), 32);
        assert!(!String::from_utf8_lossy(&key).contains("ana"));
    }
}
