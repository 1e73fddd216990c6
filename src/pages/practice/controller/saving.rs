//! Saving what a call produces: the session row, each settled turn, each recording chunk, and the
//! end. Everything goes to the browser's outbox first (a tab that goes away leaves it to
//! recovery), then to the server through `persevere`, the page's one retry loop, which follows
//! the one classification in `domain::saving`. Browser only.
//!
//! Every task here may outlive the page (the learner can leave at any time), so after each wait
//! it reads the page's signals only through `try_` accessors: a page that is gone stops it.

use std::{future::Future, rc::Rc};

use leptos::{prelude::*, task::spawn_local};
use web_sys::Blob;

use super::{Practice, release};
use crate::{
    api::practice::{end_practice, save_turn, start_practice},
    browser::{
        outbox::{Attempt, Outbox},
        sleep,
        upload::put_chunk,
    },
    domain::{
        practice::words_used,
        saving::{Backoff, Retry, SaveTrouble},
        transcript::{SavedTurn, TurnState},
    },
    error::AppError,
};

/// After this many failures in a row a save the learner cannot see says it is waiting.
const SPEAK_UP_AFTER: u32 = 4;
/// The end is tried this many times; after that the session is left for recovery to end.
const END_TRIES: u32 = 5;

/// How `persevere` came out.
enum Saved<T> {
    Done(T),
    /// Refused for good (`Retry::Never`) or the session is gone (`Retry::Gone`).
    Refused(Retry),
    /// Still failing after the allowed number of tries.
    GaveUp,
    /// The page went away meanwhile: what was being saved waits in the outbox for recovery.
    PageGone,
}

/// Shows `trouble` (being signed out stays on show over anything else, see `SaveTrouble::over`).
pub(super) fn raise(p: Practice, trouble: SaveTrouble) {
    p.trouble
        .try_update(|shown| *shown = Some(SaveTrouble::over(trouble, *shown)));
}

/// `trouble` is over.
pub(super) fn settle(p: Practice, trouble: SaveTrouble) {
    if p.trouble.try_get_untracked() == Some(Some(trouble)) {
        p.trouble.try_set(None);
    }
}

fn page_gone(p: Practice) -> bool {
    p.state.try_get_untracked().is_none()
}

/// The page's one retry loop. Tries `attempt` until it goes through or is refused, waiting as
/// `Backoff` says between tries, for as long as the page lives (or until it failed `tries` times
/// for passing reasons, when given: being signed out is waited out whatever `tries` says).
/// While the learner is signed out the page asks them to sign in again (and it is over with the
/// first save that goes through); `waiting` is said once a save keeps failing.
async fn persevere<T, F, Fut>(
    p: Practice,
    what: &'static str,
    waiting: Option<SaveTrouble>,
    tries: Option<u32>,
    mut attempt: F,
) -> Saved<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, (Retry, String)>>,
{
    let mut backoff = Backoff::default();
    let mut passing = 0;
    loop {
        let (retry, detail) = match attempt().await {
            Ok(value) => {
                settle(p, SaveTrouble::SignedOut);
                return Saved::Done(value);
            }
            Err(failed) => failed,
        };
        leptos::logging::warn!("{what} ({retry:?}): {detail}");
        let Some(wait) = backoff.wait_ms(retry) else {
            return Saved::Refused(retry);
        };
        if retry == Retry::Later {
            raise(p, SaveTrouble::SignedOut);
        } else if let Some(trouble) = waiting
            && backoff.failures() >= SPEAK_UP_AFTER
        {
            raise(p, trouble);
        }
        if retry == Retry::Now {
            passing += 1;
            if tries.is_some_and(|tries| passing >= tries) {
                return Saved::GaveUp;
            }
        }
        sleep(wait as i32).await;
        if page_gone(p) {
            return Saved::PageGone;
        }
    }
}

/// A server function's failure, classed.
fn classed(error: AppError) -> (Retry, String) {
    (Retry::after_error(&error), error.to_string())
}

/// Forgets this page's recording: the outbox copy, the queue and the lock.
pub(super) async fn discard(p: Practice) {
    let Some((outbox, key, lock)) = p.gear.try_update_value(|gear| {
        gear.unsent.clear();
        (gear.outbox.clone(), gear.key.clone(), gear.lock.take())
    }) else {
        return;
    };
    if let Some(outbox) = outbox
        && let Err(error) = outbox.forget(&key).await
    {
        leptos::logging::warn!("recording left in the outbox: {}", error.message);
    }
    drop(lock);
}

/// Saves the attempt in the outbox (in the background: a failure only costs the crash copy).
pub(super) fn remember(outbox: Option<Rc<Outbox>>, attempt: Attempt) {
    let Some(outbox) = outbox else {
        return;
    };
    spawn_local(async move {
        if let Err(error) = outbox.save(&attempt).await {
            leptos::logging::warn!("recording not noted in the outbox: {}", error.message);
        }
    });
}

/// Saves a settled turn now, or once the session row exists. The turn waits in the outbox until
/// the server has it, so a tab that goes away first leaves it to recovery. It is retried for as
/// long as the page lives (End waits for it); only a refusal gives up.
pub(super) fn persist_turn(p: Practice, turn: SavedTurn) {
    let Some((key, outbox)) = p
        .gear
        .try_with_value(|gear| (gear.key.clone(), gear.outbox.clone()))
    else {
        return;
    };
    let Some(session) = p.session_id.get_untracked() else {
        // Kept in the outbox too, for recovery to send should the page go before the session
        // row is made.
        if let Some(outbox) = outbox {
            let (key, turn) = (key, turn.clone());
            spawn_local(async move {
                if let Err(error) = outbox.put_turn(&key, &turn).await {
                    leptos::logging::warn!("turn kept in memory only: {}", error.message);
                }
            });
        }
        p.gear.update_value(|gear| gear.unsaved.push(turn));
        return;
    };
    p.pending_turns.update(|pending| *pending += 1);
    spawn_local(async move {
        if let Some(outbox) = &outbox
            && let Err(error) = outbox.put_turn(&key, &turn).await
        {
            leptos::logging::warn!("turn kept in memory only: {}", error.message);
        }
        let saved = persevere(
            p,
            "turn not saved yet",
            Some(SaveTrouble::TurnsWaiting),
            None,
            || {
                let (session, turn) = (session.clone(), turn.clone());
                async move { save_turn(session, turn).await.map_err(classed) }
            },
        )
        .await;
        if let Saved::PageGone = saved {
            return; // recovery sends it
        }
        if let Some(outbox) = &outbox
            && let Err(error) = outbox.remove_turn(&key, &turn.item_id).await
        {
            leptos::logging::warn!("saved turn left in the outbox: {}", error.message);
        }
        p.pending_turns.try_update(|pending| *pending -= 1);
        if p.pending_turns.try_get_untracked() == Some(0) {
            settle(p, SaveTrouble::TurnsWaiting);
        }
    });
}

/// A chunk from the recorder: written to the outbox first, then queued for upload.
pub(super) fn keep(p: Practice, chunk: Blob) {
    let Some((sequence, key, outbox)) = p.gear.try_update_value(|gear| {
        let sequence = gear.next_sequence;
        gear.next_sequence += 1;
        gear.writing += 1;
        (sequence, gear.key.clone(), gear.outbox.clone())
    }) else {
        return;
    };
    spawn_local(async move {
        if let Some(outbox) = outbox
            && let Err(error) = outbox.put(&key, sequence, &chunk).await
        {
            leptos::logging::warn!("chunk {sequence} kept in memory only: {}", error.message);
        }
        let queued = p.gear.try_update_value(|gear| {
            gear.writing -= 1;
            let at = gear.unsent.partition_point(|(n, _)| *n < sequence);
            gear.unsent.insert(at, (sequence, chunk));
        });
        if queued.is_some() {
            upload(p);
        }
    });
}

/// Uploads the recorded chunks in order while the learner speaks, each retried until the server
/// has it, then dropped from the outbox. One upload loop at a time; it starts once the session
/// row exists. A chunk the server refuses for good is given up (the rest still go); a session
/// deleted meanwhile takes its recording with it.
pub(super) fn upload(p: Practice) {
    let Some(Some(session)) = p.session_id.try_get_untracked() else {
        return;
    };
    let start = p
        .gear
        .try_update_value(|gear| !std::mem::replace(&mut gear.uploading, true))
        .unwrap_or(false);
    if !start {
        return;
    }
    spawn_local(async move {
        loop {
            let next = p
                .gear
                .try_update_value(|gear| {
                    let next = gear.unsent.front().cloned();
                    gear.uploading = next.is_some();
                    next
                })
                .flatten();
            let Some((sequence, blob)) = next else {
                p.saving.try_set(false);
                return;
            };
            p.saving.try_set(true);
            let sent = persevere(p, "recording chunk not uploaded yet", None, None, || {
                let (session, blob) = (session.clone(), blob.clone());
                async move {
                    match put_chunk(&session, sequence, &blob).await {
                        Ok(status) => match Retry::after_status(status) {
                            None => Ok(()),
                            Some(retry) => Err((retry, format!("chunk {sequence}: {status}"))),
                        },
                        Err(error) => {
                            Err((Retry::Now, format!("chunk {sequence}: {}", error.name)))
                        }
                    }
                }
            })
            .await;
            match sent {
                Saved::Done(()) | Saved::Refused(Retry::Never) | Saved::GaveUp => {
                    let acknowledged = p.gear.try_update_value(|gear| {
                        gear.unsent.pop_front();
                        (gear.key.clone(), gear.outbox.clone())
                    });
                    if let Some((key, Some(outbox))) = acknowledged
                        && let Err(error) = outbox.remove(&key, sequence).await
                    {
                        leptos::logging::warn!(
                            "chunk {sequence} left in the outbox: {}",
                            error.message
                        );
                    }
                }
                Saved::Refused(_) => {
                    discard(p).await;
                    p.gear.try_update_value(|gear| gear.uploading = false);
                    p.saving.try_set(false);
                    return;
                }
                Saved::PageGone => return,
            }
        }
    });
}

/// Waits (up to `limit_ms`) until every recorded chunk and every settled turn is on the server.
async fn uploaded(p: Practice, limit_ms: i32) -> bool {
    let mut waited = 0;
    loop {
        let done = p
            .gear
            .try_with_value(|gear| gear.unsent.is_empty() && gear.writing == 0)
            .unwrap_or(true)
            && p.pending_turns.try_get_untracked().unwrap_or(0) == 0;
        if done {
            return true;
        }
        if waited >= limit_ms {
            return false;
        }
        sleep(100).await;
        waited += 100;
    }
}

/// Creates the session row once the call is up, retrying for as long as the page lives (what is
/// said and recorded meanwhile waits in the outbox).
pub(super) async fn register(p: Practice) {
    let (Some(slug), Some(key)) = (
        p.topic
            .try_with_value(|topic| topic.slug.as_str().to_owned()),
        p.gear.try_with_value(|gear| gear.key.clone()),
    ) else {
        return;
    };
    // `false`: the learner started another call since (or the page is gone).
    let current = {
        let key = key.clone();
        move || p.gear.try_with_value(|gear| gear.key == key) == Some(true)
    };
    let started = persevere(
        p,
        "session not started yet",
        Some(SaveTrouble::NotStarted),
        None,
        || {
            let (slug, key, current) = (slug.clone(), key.clone(), current.clone());
            async move {
                if !current() {
                    return Ok(None);
                }
                start_practice(slug, key, None)
                    .await
                    .map(Some)
                    .map_err(classed)
            }
        },
    )
    .await;
    let session = match started {
        Saved::Done(Some(session)) if current() => session,
        // Refused for good (an unknown topic, a key used for another one): retrying is no use.
        Saved::Refused(_) => {
            p.problem.try_set(Some(
                "This session could not be saved: please end it and start a new one.".into(),
            ));
            return;
        }
        _ => return,
    };
    let noted = p.gear.try_update_value(|gear| {
        let attempt = gear.attempt.as_mut()?;
        attempt.session = Some(session.id.clone());
        Some((gear.outbox.clone(), attempt.clone()))
    });
    if let Some(Some((outbox, attempt))) = noted {
        remember(outbox, attempt);
    }
    p.session_id.try_set(Some(session.id));
    settle(p, SaveTrouble::NotStarted);
    upload(p);
    let unsaved = p
        .gear
        .try_update_value(|gear| std::mem::take(&mut gear.unsaved))
        .unwrap_or_default();
    for turn in unsaved {
        persist_turn(p, turn);
    }
}

/// Stops the call and the recorder, sends every chunk, then ends the session (which makes its
/// recording for good) and forgets the browser's copy. Until the chunks are up the session is not
/// ended: if the learner leaves first, recovery sends them next time.
pub(super) async fn wrap_up(p: Practice) -> Option<String> {
    release(p).await;
    wait_for_session(p).await;
    upload(p);
    if !uploaded(p, 20_000).await {
        raise(p, SaveTrouble::StillSending);
        while !uploaded(p, 60_000).await {}
        settle(p, SaveTrouble::StillSending);
    }
    let id = save(p).await?;
    discard(p).await;
    Some(id)
}

/// Saves the session a call that could not be brought back leaves behind; the failure panel
/// links to its summary once it is saved, or says why not.
pub(super) async fn keep_lost(p: Practice) {
    match wrap_up(p).await {
        Some(id) => {
            p.kept.try_set(Some(id));
        }
        // `save` says what went wrong, except when the session row was never made.
        None if p.trouble.try_get_untracked() == Some(None) => raise(p, SaveTrouble::NotSaved),
        None => {}
    }
}

/// The session row is made when the call comes up; give a start still in flight a moment.
async fn wait_for_session(p: Practice) {
    for _ in 0..20 {
        // `None`: the page is gone (its signals disposed).
        let (Some(session), Some(live_since)) = (
            p.session_id.try_get_untracked(),
            p.live_since.try_get_untracked(),
        ) else {
            return;
        };
        if session.is_some() || live_since.is_none() {
            return;
        }
        sleep(250).await;
    }
}

/// Marks the session ended with its counts. `None` when there is no session (the call never
/// came up) or it could not be ended (then the page says so, and recovery ends it later).
async fn save(p: Practice) -> Option<String> {
    wait_for_session(p).await;
    // A page left while saving has no signals any more: its outbox copy is recovered instead.
    let id = p.session_id.try_get_untracked().flatten()?;
    let vocabulary = p.topic.try_with_value(|topic| topic.vocabulary.clone())?;
    let (turns, words) = p.transcript.try_with_untracked(|transcript| {
        let turns = transcript
            .turns()
            .iter()
            .filter(|turn| turn.state != TurnState::InProgress)
            .count();
        let words = vocabulary
            .iter()
            .zip(words_used(&vocabulary, transcript))
            .filter(|(_, used)| *used)
            .map(|(word, _)| word.clone())
            .collect::<Vec<_>>();
        (turns as u32, words)
    })?;
    let ended = persevere(p, "session not ended yet", None, Some(END_TRIES), || {
        let (id, words) = (id.clone(), words.clone());
        async move { end_practice(id, turns, words).await.map_err(classed) }
    })
    .await;
    match ended {
        Saved::Done(_) => Some(id),
        Saved::PageGone => None,
        Saved::Refused(_) | Saved::GaveUp => {
            raise(p, SaveTrouble::NotEnded);
            None
        }
    }
}
