//! The call to the coach: secrets, the peer connection, the offer, and what the call says.

use wasm_bindgen_futures::spawn_local;

use super::{Practice, dispatch, later, media};
use crate::{
    browser::{
        JsError,
        call::{self, Lost, Peer, PeerSignal},
        timing,
    },
    call::api::start_voice_call,
    domain::{
        call::DropCause,
        session::{ConnectError, Input, MintError},
        voice::VoiceCallSecret,
    },
    error::AppError,
};

/// How long the calls URL may take to answer the offer.
const ANSWER_TIMEOUT_MS: i32 = 10_000;

/// Mints a secret for call `generation`.
pub(super) fn mint(p: Practice, generation: u32) {
    let slug = super::slug(p);
    let session = super::session_key(p);
    spawn_local(async move {
        let result = match start_voice_call(&slug, session.as_deref()).await {
            Ok(secret) => {
                timing::mark(timing::MINTED);
                Ok(secret)
            }
            Err(AppError::TooManyRequests { retry_after_secs }) => {
                Err(MintError::TooManyAttempts { retry_after_secs })
            }
            Err(AppError::LimitReached { message, .. }) => Err(MintError::Limit(message)),
            Err(AppError::Conflict { message }) => Err(MintError::Conflict(message)),
            Err(error) => Err(MintError::Refused(error.to_string())),
        };
        dispatch(p, Input::Minted { generation, result });
    });
}

/// Makes the peer connection for call `generation` (its offer starts at once), sending the
/// microphone now or (`mic` false, a warm call) from `send_mic` on, unless there is one already
/// or no microphone.
pub(super) fn make(p: Practice, generation: u32, mic: bool) {
    let made = p.gear.update(|gear| {
        if gear.peer.is_some() {
            return Ok(());
        }
        let Some(microphone) = gear.mic.as_ref() else {
            return Ok(());
        };
        gear.peer = Some(Peer::new(microphone, mic, move |signal| {
            on_signal(p, generation, signal)
        })?);
        Ok::<(), crate::browser::JsError>(())
    });
    if let Some(Err(error)) = made {
        crate::console_warn!("call setup failed: {}", error.name);
        later(p, Input::PeerUnavailable);
    }
}

/// Posts the offer of call `generation` with `secret`.
pub(super) fn connect(p: Practice, generation: u32, secret: VoiceCallSecret) {
    let connecting = p
        .gear
        .with(|gear| {
            gear.peer
                .as_ref()
                .map(|peer| peer.connect(&secret, ANSWER_TIMEOUT_MS))
        })
        .flatten();
    spawn_local(async move {
        let result = match connecting {
            None => Err(ConnectError::NoPeer),
            Some(connecting) => connecting.await.map(|_| ()).map_err(|error| match error {
                call::ConnectError::Unauthorized => ConnectError::Unauthorized,
                call::ConnectError::Timeout => ConnectError::Timeout,
                call::ConnectError::Refused { status: 429, .. } => ConnectError::Busy,
                call::ConnectError::Refused { status, message } => {
                    crate::console_warn!("call refused ({status}): {message}");
                    ConnectError::Refused
                }
                call::ConnectError::Failed(error) => {
                    crate::console_warn!("call failed: {} {}", error.name, error.message);
                    ConnectError::Failed
                }
            }),
        };
        // The page's first call (later ones replace a dropped call).
        if result.is_ok() && generation == 0 {
            timing::mark(timing::ANSWERED);
        }
        dispatch(p, Input::Answered { generation, result });
    });
}

/// The warm call sends the microphone from now on.
pub(super) fn send_mic(p: Practice) {
    let sending = p
        .gear
        .with(|gear| {
            let mic = gear.mic.as_ref()?;
            Some(gear.peer.as_ref()?.send_mic(mic))
        })
        .flatten();
    let Some(sending) = sending else {
        return;
    };
    spawn_local(async move {
        let sent = match sending {
            Ok(sending) => sending.await.map(drop).map_err(JsError::from),
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            crate::console_warn!("microphone not sent in the call: {}", error.message);
        }
    });
}

/// Plays the coach's voice; called inside the Start click, where browsers allow sound.
pub(super) fn play(p: Practice) {
    p.gear.with(|gear| {
        if let Some(peer) = gear.peer.as_ref() {
            peer.play();
        }
    });
}

/// Leaves the current call: dropped in a task of its own (this may run inside its callbacks).
pub(super) fn drop_peer(p: Practice) {
    let dropped = p.gear.update(|gear| {
        gear.coach_stream = None;
        gear.peer.take()
    });
    if let Some(Some(peer)) = dropped {
        spawn_local(async move { drop(peer) });
    }
}

fn on_signal(p: Practice, generation: u32, signal: PeerSignal) {
    match signal {
        PeerSignal::Opened => {
            timing::mark(timing::CALL_OPEN);
            dispatch(p, Input::Opened { generation })
        }
        PeerSignal::Event(event) => dispatch(p, Input::Event { generation, event }),
        PeerSignal::CoachStream(stream) => {
            let current = p.model.with(|model| model.session.generation());
            if current != Some(generation) {
                return;
            }
            // A warm call's voice comes before the recorder: it is added when that starts.
            let recording = p.gear.update(|gear| {
                gear.coach_stream = Some(Clone::clone(&stream));
                let recorder = gear.recorder.as_mut()?;
                let _ = recorder.add_coach(&stream);
                Some(())
            });
            if recording.flatten().is_some() {
                media::watch_coach_audio(p);
            }
        }
        PeerSignal::Lost(how) => {
            let cause = match how {
                Lost::Network => DropCause::Network,
                Lost::ChannelClosed => DropCause::ChannelClosed,
            };
            later(p, Input::Lost { generation, cause });
        }
    }
}
