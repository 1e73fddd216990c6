//! The call to the coach: secrets, the peer connection, the offer, and what the call says.

use leptos::{prelude::*, task::spawn_local};

use super::{Practice, dispatch, later, media};
use crate::{
    api::voice::start_voice_call,
    browser::{
        call::{self, Lost, Peer, PeerSignal},
        timing,
    },
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
    let Some(slug) = super::slug(p) else {
        return;
    };
    let session = super::session_key(p);
    spawn_local(async move {
        let result = match start_voice_call(slug, session).await {
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

/// Makes the peer connection for call `generation` (its offer starts at once), unless there is
/// one already or no microphone to send.
pub(super) fn make(p: Practice, generation: u32) {
    let made = p.gear.try_update_value(|gear| {
        if gear.peer.is_some() {
            return Ok(());
        }
        let Some(mic) = gear.mic.as_ref() else {
            return Ok(());
        };
        gear.peer = Some(Peer::new(mic, move |signal| {
            on_signal(p, generation, signal)
        })?);
        Ok::<(), crate::browser::JsError>(())
    });
    if let Some(Err(error)) = made {
        leptos::logging::warn!("call setup failed: {}", error.name);
        later(p, Input::PeerUnavailable);
    }
}

/// Posts the offer of call `generation` with `secret`.
pub(super) fn connect(p: Practice, generation: u32, secret: VoiceCallSecret) {
    let connecting = p
        .gear
        .try_with_value(|gear| {
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
                    leptos::logging::warn!("call refused ({status}): {message}");
                    ConnectError::Refused
                }
                call::ConnectError::Failed(error) => {
                    leptos::logging::warn!("call failed: {} {}", error.name, error.message);
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

/// Leaves the current call: dropped in a task of its own (this may run inside its callbacks).
pub(super) fn drop_peer(p: Practice) {
    if let Some(Some(peer)) = p.gear.try_update_value(|gear| gear.peer.take()) {
        spawn_local(async move { drop(peer) });
    }
}

fn on_signal(p: Practice, generation: u32, signal: PeerSignal) {
    match signal {
        PeerSignal::Opened => dispatch(p, Input::Opened { generation }),
        PeerSignal::Event(event) => dispatch(p, Input::Event { generation, event }),
        PeerSignal::CoachStream(stream) => {
            let current = p.model.try_with_value(|model| model.session.generation());
            if current != Some(generation) {
                return;
            }
            p.gear.try_update_value(|gear| {
                if let Some(recorder) = gear.recorder.as_mut() {
                    let _ = recorder.add_coach(&stream);
                }
            });
            media::watch_coach_audio(p);
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
