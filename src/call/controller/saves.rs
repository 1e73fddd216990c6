//! Saving's requests: the outbox (the browser's durable copy, which recovery sends if the page
//! goes first) and the server. Each reports back to the model, which decides what follows
//! (`domain::session`); failures are classed once, by `domain::saving::Retry`.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;

use super::{Practice, dispatch};
use crate::{
    browser::{
        outbox::{Attempt, Outbox},
        upload::put_chunk,
    },
    call::api::{end_practice, note_call, save_turn, start_practice},
    domain::{
        call::{CallNote, DropCause},
        saving::Retry,
        session::Input,
        transcript::SavedTurn,
    },
    error::AppError,
};

/// A server function's failure, classed (and logged: the kind only, never any content).
fn classed(what: &str, error: AppError) -> Retry {
    let retry = Retry::after_error(&error);
    crate::console_warn!("{what} ({retry:?}): {error}");
    retry
}

/// This attempt's key and the outbox, when the page still has them.
fn outbox(p: Practice) -> Option<(String, Option<Rc<Outbox>>)> {
    p.gear
        .with(|gear| {
            let key = gear.attempt.as_ref()?.key.clone();
            Some((key, gear.outbox.clone()))
        })
        .flatten()
}

pub(super) fn open_outbox(p: Practice) {
    spawn_local(async move {
        match Outbox::open().await {
            Ok(outbox) => {
                p.gear.update(|gear| gear.outbox = Some(Rc::new(outbox)));
            }
            Err(error) => crate::console_warn!(
                "recording kept in page memory only ({}: {})",
                error.name,
                error.message
            ),
        }
    });
}

/// Saves the attempt in the outbox (in the background: a failure only costs the crash copy).
pub(super) fn remember(outbox: Option<Rc<Outbox>>, attempt: Attempt) {
    let Some(outbox) = outbox else {
        return;
    };
    spawn_local(async move {
        if let Err(error) = outbox.save(&attempt).await {
            crate::console_warn!("recording not noted in the outbox: {}", error.message);
        }
    });
}

pub(super) fn register(p: Practice, key: String) {
    let slug = super::slug(p);
    spawn_local(async move {
        let result = start_practice(&slug, &key)
            .await
            .map_err(|error| classed("session not started yet", error));
        dispatch(p, Input::Registered { key, result });
    });
}

/// The outbox notes the attempt's session (recovery then carries it on instead of making one).
pub(super) fn note_session(p: Practice, session: String) {
    let noted = p.gear.update(|gear| {
        let attempt = gear.attempt.as_mut()?;
        attempt.session = Some(session);
        Some((gear.outbox.clone(), attempt.clone()))
    });
    if let Some(Some((outbox, attempt))) = noted {
        remember(outbox, attempt);
    }
}

pub(super) fn store_turn(p: Practice, turn: SavedTurn) {
    let Some((key, outbox)) = outbox(p) else {
        return;
    };
    spawn_local(async move {
        if let Some(outbox) = outbox
            && let Err(error) = outbox.put_turn(&key, &turn).await
        {
            crate::console_warn!("turn kept in memory only: {}", error.message);
        }
        dispatch(
            p,
            Input::TurnStored {
                item_id: turn.item_id,
            },
        );
    });
}

pub(super) fn save(p: Practice, session: String, turn: SavedTurn) {
    spawn_local(async move {
        let item_id = turn.item_id.clone();
        let result = save_turn(&session, &turn)
            .await
            .map(|_| ())
            .map_err(|error| classed("turn not saved yet", error));
        dispatch(p, Input::TurnSaved { item_id, result });
    });
}

pub(super) fn forget_turn(p: Practice, item_id: String) {
    let Some((key, Some(outbox))) = outbox(p) else {
        return;
    };
    spawn_local(async move {
        if let Err(error) = outbox.remove_turn(&key, &item_id).await {
            crate::console_warn!("saved turn left in the outbox: {}", error.message);
        }
    });
}

pub(super) fn upload(p: Practice, session: String, sequence: u32) {
    let Some(blob) = p
        .gear
        .with(|gear| gear.chunks.get(&sequence).cloned())
        .flatten()
    else {
        crate::console_warn!("chunk {sequence} is not in the page any more");
        dispatch(
            p,
            Input::Uploaded {
                sequence,
                result: Err(Retry::Never),
            },
        );
        return;
    };
    spawn_local(async move {
        let result = match put_chunk(&session, sequence, &blob).await {
            Ok(status) => match Retry::after_status(status) {
                None => Ok(()),
                Some(retry) => {
                    crate::console_warn!("chunk {sequence} not uploaded ({retry:?}): {status}");
                    Err(retry)
                }
            },
            Err(error) => {
                crate::console_warn!("chunk {sequence} not uploaded: {}", error.name);
                Err(Retry::Now)
            }
        };
        dispatch(p, Input::Uploaded { sequence, result });
    });
}

pub(super) fn forget_chunk(p: Practice, sequence: u32) {
    p.gear.update(|gear| gear.chunks.remove(&sequence));
    let Some((key, Some(outbox))) = outbox(p) else {
        return;
    };
    spawn_local(async move {
        if let Err(error) = outbox.remove(&key, sequence).await {
            crate::console_warn!("chunk {sequence} left in the outbox: {}", error.message);
        }
    });
}

pub(super) fn end(p: Practice, session: String, turns: u32, words: Vec<String>) {
    spawn_local(async move {
        let result = end_practice(&session, turns, &words)
            .await
            .map_err(|error| classed("session not ended yet", error));
        dispatch(p, Input::EndSaved { result });
    });
}

/// Forgets this page's recording: the outbox copy, the chunks and the lock.
pub(super) fn discard(p: Practice) {
    let Some((key, outbox, lock)) = p
        .gear
        .update(|gear| {
            gear.chunks.clear();
            let key = gear.attempt.as_ref()?.key.clone();
            Some((key, gear.outbox.clone(), gear.lock.take()))
        })
        .flatten()
    else {
        return;
    };
    spawn_local(async move {
        if let Some(outbox) = outbox
            && let Err(error) = outbox.forget(&key).await
        {
            crate::console_warn!("recording left in the outbox: {}", error.message);
        }
        drop(lock);
    });
}

/// Tells the server's log what happened to the call (only for the log).
pub(super) fn note(session: String, what: CallNote, cause: Option<DropCause>, attempt: u32) {
    spawn_local(async move {
        if let Err(error) = note_call(&session, what, cause, attempt).await {
            crate::console_warn!("call event not logged: {error}");
        }
    });
}
