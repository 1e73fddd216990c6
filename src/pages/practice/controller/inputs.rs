//! A microphone that stops mid-call pauses it until the learner picks another one.

use super::*;

/// The microphone stopped by itself. Before a call that is a failure like no microphone; during
/// one the call pauses (the coach hears silence, the recording goes on) until the learner picks
/// an input.
pub(super) fn mic_lost(p: Practice) {
    let Some(state) = p.state.try_get_untracked() else {
        return;
    };
    match state {
        CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. } => {
            if p.mic_lost.try_get_untracked() != Some(false) {
                return;
            }
            p.mic_lost.try_set(true);
            note(p, CallNote::MicLost, None, 0);
            list_inputs(p);
        }
        CallState::Checking { .. } | CallState::Ready => fail(p, CallFailure::NoMic),
        _ => {}
    }
}

/// Lists the microphones to choose from.
pub fn list_inputs(p: Practice) {
    spawn_local(async move {
        let inputs = mic::inputs()
            .await
            .into_iter()
            .map(|input| (input.id, input.label))
            .collect();
        p.inputs.try_set(inputs);
    });
}

/// Goes on with the microphone `device` (an id from `list_inputs`): the call sends it and the
/// recording mixes it in from now on.
pub fn use_input(p: Practice, device: String) {
    spawn_local(async move {
        let mic = match Microphone::open_device(Some(&device)).await {
            Ok(mic) => mic,
            Err(error) => {
                leptos::logging::warn!("microphone not opened: {error:?}");
                p.problem.try_set(Some(
                    "That microphone could not be opened. Check it is plugged in, or choose another one."
                        .into(),
                ));
                list_inputs(p);
                return;
            }
        };
        let mut mic = mic;
        mic.on_ended(move || mic_lost(p));
        let replacing = p
            .gear
            .try_with_value(|gear| gear.peer.as_ref().map(|peer| peer.replace_mic(&mic)))
            .flatten();
        let replaced = match replacing {
            Some(Ok(replacing)) => replacing.await.map(|_| ()).map_err(JsError::from),
            Some(Err(error)) => Err(error),
            None => Ok(()), // between calls: the next one is made with this microphone
        };
        if let Err(error) = replaced {
            leptos::logging::warn!("microphone not switched in the call: {}", error.message);
        }
        let open = if p.push_to_talk.try_get_untracked() == Some(true) {
            p.holding.try_get_untracked() == Some(true)
        } else {
            p.muted.try_get_untracked() == Some(false)
        };
        mic.set_muted(!open);
        let meter = mic.meter().ok();
        p.gear.try_update_value(|gear| {
            if let Some(recorder) = gear.recorder.as_mut()
                && let Err(error) = recorder.add_mic(mic.stream())
            {
                leptos::logging::warn!("new microphone not recorded: {}", error.message);
            }
            gear.meter = meter;
            gear.mic = Some(mic);
        });
        p.problem.try_set(None);
        p.mic_lost.try_set(false);
        note(p, CallNote::MicBack, None, 0);
    });
}
