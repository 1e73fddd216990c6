//! A lost call is replaced by a new one that carries the session on (see `CallState::reconnect_wait_ms`).

use super::*;

/// The call dropped (the network, or the call's time limit). A live session goes on: the
/// recorder keeps recording the microphone while a new call is opened (`reconnect`). A call that
/// never came up fails like any other start that did not work: it has no session to keep.
pub(super) fn lost(p: Practice, cause: DropCause) {
    let Some(state) = p.state.try_get_untracked() else {
        return; // the page is gone
    };
    match state {
        CallState::Live { .. } if transition(p, CallEvent::ConnectionLost) => {
            spawn_local(reconnect(p, cause));
        }
        // A reconnection attempt's own call was lost: `reconnect` moves on to the next one.
        CallState::Reconnecting { .. } => {
            p.gear.try_update_value(|gear| gear.attempt_lost = true);
        }
        CallState::Connecting => fail(p, CallFailure::ConnectionLost),
        _ => {}
    }
}

/// Opens new calls (with backoff, up to `CallState::MAX_RECONNECTS`) until one carries the
/// session on; after the last, the session is saved as it is. The learner can end at any time.
pub(super) async fn reconnect(p: Practice, cause: DropCause) {
    note(p, CallNote::Dropped, Some(cause), 0);
    // Whatever the lost call left open will never finish.
    settle_open_turns(p);
    p.gear.try_update_value(|gear| {
        gear.generation += 1;
        gear.peer = None;
    });
    loop {
        let Some(CallState::Reconnecting { attempt }) = p.state.try_get_untracked() else {
            return;
        };
        sleep(CallState::reconnect_wait_ms(attempt) as i32).await;
        match call_again(p).await {
            Ok(()) => {
                note(p, CallNote::Reconnected, Some(cause), attempt);
                return;
            }
            Err(why) => leptos::logging::warn!("reconnection attempt {attempt} failed: {why}"),
        }
        if !matches!(
            p.state.try_get_untracked(),
            Some(CallState::Reconnecting { .. })
        ) {
            return; // the learner ended the session meanwhile
        }
        transition(p, CallEvent::ConnectionLost);
        if let Some(CallState::Failed(_)) = p.state.try_get_untracked() {
            note(p, CallNote::GaveUp, Some(cause), attempt);
            keep_lost(p).await;
            return;
        }
    }
}

/// One attempt at a new call for the session: a fresh secret, a new peer, the offer, and the
/// channel opening (then `resume` carries the conversation over).
pub(super) async fn call_again(p: Practice) -> Result<(), String> {
    let slug = p
        .topic
        .try_with_value(|topic| topic.slug.as_str().to_owned())
        .ok_or("the page is gone")?;
    let secret = start_voice_call(slug)
        .await
        .map_err(|error| format!("no secret: {error}"))?;
    let made = p.gear.try_update_value(|gear| {
        gear.generation += 1;
        gear.attempt_lost = false;
        gear.peer = None;
        let generation = gear.generation;
        let mic = gear.mic.as_ref()?;
        let peer = Peer::new(mic, move |signal| on_signal(p, generation, signal));
        gear.peer = peer.ok();
        gear.secret = Some(secret.clone());
        gear.peer
            .as_ref()
            .map(|peer| peer.connect(&secret, ANSWER_TIMEOUT_MS))
    });
    let Some(Some(connecting)) = made else {
        return Err("no microphone or peer".into());
    };
    connecting
        .await
        .map_err(|error| format!("not connected: {error:?}"))?;
    let mut waited = 0;
    while waited < CONNECT_TIMEOUT_MS {
        match p.state.try_get_untracked() {
            Some(CallState::Live { .. }) => return Ok(()),
            Some(CallState::Reconnecting { .. }) => {}
            _ => return Err("the session ended".into()),
        }
        if p.gear.try_with_value(|gear| gear.attempt_lost) != Some(false) {
            return Err("lost while opening".into());
        }
        sleep(100).await;
        waited += 100;
    }
    Err("the call did not open in time".into())
}

/// The new call is open: it is told the conversation so far (and to continue it, not start
/// again), and the session goes on.
pub(super) fn resume(p: Practice) {
    let items = p
        .transcript
        .with_untracked(|transcript| transcript.replay());
    for item in items {
        send(
            p,
            &ClientEvent::ItemCreate {
                previous_item_id: None,
                item,
            },
        );
    }
    send(
        p,
        &ClientEvent::ItemCreate {
            previous_item_id: None,
            item: Item::text(
                "system",
                "The call dropped for a moment and is back. Continue the conversation from where \
                 it stopped: do not greet the learner or start over. If the learner was \
                 speaking, ask them to finish what they were saying.",
            ),
        },
    );
    if p.push_to_talk.get_untracked() {
        send(p, &turn_detection(true));
    } else {
        send(p, &ClientEvent::ResponseCreate { response: None });
    }
    if transition(p, CallEvent::Reconnected) {
        p.gear
            .update_value(|gear| gear.connected_at = timing::now());
        p.reconnects.try_update(|n| *n += 1);
        p.back.try_set(true);
        spawn_local(async move {
            sleep(BACK_NOTICE_MS).await;
            p.back.try_set(false);
        });
    }
}
