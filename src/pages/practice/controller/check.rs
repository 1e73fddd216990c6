//! The pre-call check: the microphone (with its level meter) and the call secret at once, then
//! the offer made ahead of Start.

use super::*;

/// The pre-call check: the browser, the microphone and the call secret, all at once.
pub fn check(p: Practice) {
    let event = if matches!(p.state.get_untracked(), CallState::Failed(_)) {
        CallEvent::Retry
    } else {
        CallEvent::CheckStarted
    };
    if !transition(p, event) {
        return;
    }
    p.problem.try_set(None);
    if !calls_supported() {
        fail(p, CallFailure::Unsupported);
        return;
    }
    timing::mark(timing::CHECK);
    spawn_local(async move {
        match Outbox::open().await {
            Ok(outbox) => p
                .gear
                .update_value(|gear| gear.outbox = Some(Rc::new(outbox))),
            Err(error) => leptos::logging::warn!(
                "recording kept in page memory only ({}: {})",
                error.name,
                error.message
            ),
        }
    });
    spawn_local(async move {
        match Microphone::open().await {
            Ok(mut mic) => {
                mic.on_ended(move || mic_lost(p));
                let meter = mic.meter().ok();
                p.gear.try_update_value(|gear| {
                    gear.mic = Some(mic);
                    gear.meter = meter;
                });
                timing::mark(timing::MIC_READY);
                watch_meter(p);
                if transition(p, CallEvent::MicReady) {
                    prepare_peer(p);
                }
            }
            Err(error) => fail(p, error.into()),
        }
    });
    spawn_local(async move {
        if let Some(secret) = mint(p).await {
            p.gear.try_update_value(|gear| gear.secret = Some(secret));
            if transition(p, CallEvent::SecretReady) {
                prepare_peer(p);
            }
        }
    });
}

/// A fresh call secret, or `None` after failing the page with the reason.
pub(super) async fn mint(p: Practice) -> Option<VoiceCallSecret> {
    let slug = p
        .topic
        .try_with_value(|topic| topic.slug.as_str().to_owned())?;
    match start_voice_call(slug).await {
        Ok(secret) => {
            timing::mark(timing::MINTED);
            Some(secret)
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            fail(p, CallFailure::TooManyAttempts { retry_after_secs });
            None
        }
        Err(error) => {
            p.problem.try_set(Some(error.to_string()));
            fail(p, CallFailure::CoachUnavailable);
            None
        }
    }
}

pub(super) fn watch_meter(p: Practice) {
    let timer = Interval::new(60, move || {
        let level = p
            .gear
            .try_update_value(|gear| gear.meter.as_mut().map(LevelMeter::level))
            .flatten();
        if let Some(level) = level {
            p.mic_level.try_set(level);
        }
    });
    p.gear
        .try_update_value(|gear| gear.meter_timer = timer.ok());
}

/// Once ready, make the call's offer ahead of Start.
pub(super) fn prepare_peer(p: Practice) {
    if p.state.try_get_untracked() != Some(CallState::Ready) {
        return;
    }
    let made = p.gear.try_update_value(|gear| {
        if gear.peer.is_some() {
            return Ok::<(), crate::browser::JsError>(());
        }
        let Some(mic) = gear.mic.as_ref() else {
            return Ok(());
        };
        let generation = gear.generation;
        gear.peer = Some(Peer::new(mic, move |signal| {
            on_signal(p, generation, signal)
        })?);
        Ok(())
    });
    if let Some(Err(error)) = made {
        leptos::logging::warn!("call setup failed: {}", error.name);
        fail(p, CallFailure::Unsupported);
    }
}
