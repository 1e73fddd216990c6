//! Recovery of recordings a closed, reloaded or crashed tab (or a practice page left mid-call) left
//! in this browser. When a signed-in learner opens a page, every recording in the outbox that no
//! live page holds is finished: its unsent chunks and turns are sent, then the session is
//! recovered on the server (ended at its last sign of life, its recording made for good), and the
//! learner is told, with a link to what was said. It runs in the recovery notice's island
//! (`components::recovery`). Pages without a call load the wasm only when this browser's outbox
//! holds an attempt (`app.rs`, `Scripts`), so they run this only then.

use leptos::prelude::*;

/// A session recovered in this browser: its id and topic title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub session: String,
    pub topic: String,
}

/// The page's recovery state (in the notice's island): what was recovered, and whether a run is
/// going.
#[derive(Clone, Copy)]
pub struct Recoveries {
    pub recovered: RwSignal<Vec<Recovered>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    running: RwSignal<bool>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    again: RwSignal<bool>,
}

impl Default for Recoveries {
    fn default() -> Self {
        Self::new()
    }
}

impl Recoveries {
    pub fn new() -> Self {
        Recoveries {
            recovered: RwSignal::new(Vec::new()),
            running: RwSignal::new(false),
            again: RwSignal::new(false),
        }
    }

    /// Recovers what `owner` left in this browser (once at a time; a request during a run makes
    /// one more run after it).
    pub fn run(self, owner: String) {
        #[cfg(feature = "hydrate")]
        {
            if self.running.get_untracked() {
                self.again.set(true);
                return;
            }
            self.running.set(true);
            leptos::task::spawn_local(async move {
                loop {
                    self.again.set(false);
                    let found = browser::recover_left_behind(&owner).await;
                    if !found.is_empty() {
                        self.recovered.update(|list| list.extend(found));
                    }
                    if !self.again.get_untracked() {
                        break;
                    }
                }
                self.running.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = owner;
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Recovered;
    use crate::{
        api::practice::{recover_practice, save_turn, start_practice},
        browser::{
            outbox::{self, Attempt, Outbox},
            upload::put_chunk,
        },
        domain::saving::Retry,
        error::AppError,
    };

    /// Sends one chunk: `None` when the server has it, else how it failed (classed as the live
    /// page classes it).
    async fn send(session: &str, sequence: u32, chunk: &web_sys::Blob) -> Option<Retry> {
        match put_chunk(session, sequence, chunk).await {
            Ok(status) => Retry::after_status(status),
            Err(_) => Some(Retry::Now),
        }
    }

    /// How a server function's answer about one piece of the attempt went.
    fn answered<T>(result: Result<T, AppError>) -> Option<Retry> {
        let error = result.err()?;
        leptos::logging::warn!("recovery: {error}");
        Some(Retry::after_error(&error))
    }

    /// Whether to go on with the attempt after sending one piece of it. A piece the server has,
    /// or will never take, leaves the outbox; a session that is gone takes the whole attempt with
    /// it; offline, server trouble or being signed out leave everything for next time.
    async fn go_on(outbox: &Outbox, key: &str, failed: Option<Retry>) -> Option<()> {
        match failed {
            None | Some(Retry::Never | Retry::Full) => Some(()),
            Some(Retry::Gone) => {
                let _ = outbox.forget(key).await;
                None
            }
            Some(Retry::Now | Retry::Later) => None,
        }
    }

    /// The attempt's session: the one the page made, or, for a call that came up while the
    /// server could not be reached, one made now (as of when the call came up). `None` when
    /// there is none to keep (then the attempt is forgotten) or not yet (the server is down).
    async fn session_of(outbox: &Outbox, attempt: &Attempt) -> Option<String> {
        if let Some(session) = &attempt.session {
            return Some(session.clone());
        }
        let Some(live_ms) = attempt.live_ms else {
            // The call never came up: there is no session to add it to.
            let _ = outbox.forget(&attempt.key).await;
            return None;
        };
        let started = start_practice(
            attempt.topic.clone(),
            attempt.key.clone(),
            Some(live_ms as i64),
        )
        .await;
        match started {
            Ok(session) => {
                let made = Attempt {
                    session: Some(session.id.clone()),
                    ..attempt.clone()
                };
                let _ = outbox.save(&made).await;
                Some(session.id)
            }
            Err(error) => match Retry::after_error(&error) {
                Retry::Never | Retry::Full | Retry::Gone => {
                    let _ = outbox.forget(&attempt.key).await;
                    None
                }
                Retry::Now | Retry::Later => {
                    leptos::logging::warn!("recovery left for next time: {error}");
                    None
                }
            },
        }
    }

    /// Finishes one attempt. `Some` when its session was recovered.
    async fn finish(outbox: &Outbox, attempt: &Attempt) -> Option<Recovered> {
        let session = session_of(outbox, attempt).await?;
        let session = session.as_str();
        for (sequence, chunk) in outbox.pending(&attempt.key).await.ok()? {
            go_on(outbox, &attempt.key, send(session, sequence, &chunk).await).await?;
            let _ = outbox.remove(&attempt.key, sequence).await;
        }
        for turn in outbox.pending_turns(&attempt.key).await.ok()? {
            let saved = save_turn(session.to_owned(), turn.clone()).await;
            go_on(outbox, &attempt.key, answered(saved)).await?;
            let _ = outbox.remove_turn(&attempt.key, &turn.item_id).await;
        }
        match recover_practice(session.to_owned()).await {
            Ok(recovered) => {
                let _ = outbox.forget(&attempt.key).await;
                leptos::logging::log!("recovered an interrupted practice session");
                Some(Recovered {
                    session: recovered.id,
                    topic: recovered.topic.title,
                })
            }
            Err(error) if Retry::after_error(&error) == Retry::Gone => {
                let _ = outbox.forget(&attempt.key).await;
                None
            }
            Err(error) => {
                leptos::logging::warn!("recovery left for next time: {error}");
                None
            }
        }
    }

    /// Finishes every attempt of `owner` that no live page holds.
    pub async fn recover_left_behind(owner: &str) -> Vec<Recovered> {
        let Ok(outbox) = Outbox::open().await else {
            return Vec::new();
        };
        let attempts = outbox.attempts().await.unwrap_or_default();
        let mut recovered = Vec::new();
        for attempt in attempts.iter().filter(|attempt| attempt.owner == owner) {
            // Held: its recording is live in a tab of this browser.
            let Ok(Some(_lock)) = outbox::try_hold(&attempt.key).await else {
                continue;
            };
            if let Some(done) = finish(&outbox, attempt).await {
                recovered.push(done);
            }
        }
        recovered
    }
}
