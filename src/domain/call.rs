//! The life of a practice call as a pure state machine. Browser code only feeds it events; every
//! transition, including the failures, is decided (and unit-tested) here.

use serde::{Deserialize, Serialize};

/// Why a call could not start or go on. Each has its own message and way forward in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallFailure {
    /// `NotAllowedError`: the learner (or the browser) refused the microphone.
    MicDenied,
    /// `NotFoundError`: there is no microphone.
    NoMic,
    /// `NotReadableError`: another app holds the microphone.
    MicBusy,
    /// No `navigator.mediaDevices`: the page is not served over HTTPS (or localhost).
    InsecureContext,
    /// The browser lacks WebRTC or MediaRecorder.
    Unsupported,
    /// The coach could not be reached (minting or call setup failed after retries).
    CoachUnavailable,
    /// Too many attempts in a short time; try again after the wait.
    TooManyAttempts { retry_after_secs: u64 },
    /// One of the learner's limits says no (the detail is the server's words).
    LimitReached,
    /// The connection could not be restored.
    ConnectionLost,
}

/// A moment in a call's life that the server logs against the session (never any content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallNote {
    /// The call was lost; a new one is being opened.
    Dropped,
    /// A new call carries the session on.
    Reconnected,
    /// Every attempt to reconnect failed: the session is saved as it is.
    GaveUp,
    /// The microphone stopped (unplugged, or taken away by the system); the call is paused.
    MicLost,
    /// Another microphone was chosen and the call goes on.
    MicBack,
}

/// Why a call was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropCause {
    /// The connection failed or stayed disconnected.
    Network,
    /// The events channel closed.
    ChannelClosed,
    /// The call reached its maximum length (`session_expired`).
    SessionExpired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallState {
    /// Nothing started yet.
    Idle,
    /// The pre-call check: the microphone is being opened and the secret minted, out of sight.
    Checking {
        mic_ready: bool,
        secret_ready: bool,
    },
    /// Everything slow is done: Start is enabled.
    Ready,
    /// Offer, answer, ICE and the data channel.
    Connecting,
    Live {
        coach_speaking: bool,
    },
    Reconnecting {
        attempt: u32,
    },
    Ended,
    Failed(CallFailure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    CheckStarted,
    MicReady,
    SecretReady,
    StartPressed,
    /// The peer connection is up and the data channel open.
    Connected,
    CoachStartedSpeaking,
    CoachStoppedSpeaking,
    ConnectionLost,
    Reconnected,
    EndPressed,
    Failed(CallFailure),
    /// "Try again" after a failure: back to the check.
    Retry,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event:?} cannot happen while {state:?}")]
pub struct InvalidTransition {
    pub state: CallState,
    pub event: CallEvent,
}

impl CallState {
    /// How many times a lost connection is retried before the call fails.
    pub const MAX_RECONNECTS: u32 = 5;

    pub fn on(self, event: CallEvent) -> Result<CallState, InvalidTransition> {
        use CallEvent as E;
        use CallState as S;
        let next = match (&self, &event) {
            // Ending is always possible once something started, and always ends cleanly.
            (S::Idle | S::Ended, E::EndPressed) => None,
            (_, E::EndPressed) => Some(S::Ended),
            // Failures end the attempt wherever it was (but a finished call stays finished).
            (S::Ended, E::Failed(_)) => None,
            (_, E::Failed(failure)) => Some(S::Failed(failure.clone())),

            (S::Idle | S::Ready, E::CheckStarted) | (S::Failed(_), E::Retry) => Some(S::Checking {
                mic_ready: false,
                secret_ready: false,
            }),
            (S::Checking { secret_ready, .. }, E::MicReady) => {
                Some(Self::checked(true, *secret_ready))
            }
            (S::Checking { mic_ready, .. }, E::SecretReady) => {
                Some(Self::checked(*mic_ready, true))
            }
            (S::Ready, E::StartPressed) => Some(S::Connecting),
            (S::Connecting | S::Reconnecting { .. }, E::Connected) => Some(S::Live {
                coach_speaking: false,
            }),
            (S::Live { .. }, E::CoachStartedSpeaking) => Some(S::Live {
                coach_speaking: true,
            }),
            (S::Live { .. }, E::CoachStoppedSpeaking) => Some(S::Live {
                coach_speaking: false,
            }),
            (S::Live { .. }, E::ConnectionLost) => Some(S::Reconnecting { attempt: 1 }),
            // A call lost before it came up has no session to carry on: it failed to start.
            (S::Connecting, E::ConnectionLost) => Some(S::Failed(CallFailure::ConnectionLost)),
            (S::Reconnecting { attempt }, E::ConnectionLost) if *attempt < Self::MAX_RECONNECTS => {
                Some(S::Reconnecting {
                    attempt: attempt + 1,
                })
            }
            (S::Reconnecting { .. }, E::ConnectionLost) => {
                Some(S::Failed(CallFailure::ConnectionLost))
            }
            (S::Reconnecting { .. }, E::Reconnected) => Some(S::Live {
                coach_speaking: false,
            }),
            _ => None,
        };
        next.ok_or(InvalidTransition { state: self, event })
    }

    /// How long to wait before reconnection attempt `attempt` (1-based): a quick first try,
    /// then 1, 2, 4 and 8 s.
    pub fn reconnect_wait_ms(attempt: u32) -> u32 {
        match attempt {
            0 | 1 => 250,
            n => 1_000 << (n - 2).min(4),
        }
    }

    fn checked(mic_ready: bool, secret_ready: bool) -> CallState {
        if mic_ready && secret_ready {
            CallState::Ready
        } else {
            CallState::Checking {
                mic_ready,
                secret_ready,
            }
        }
    }

    /// The status pill's text.
    pub fn label(&self) -> &'static str {
        match self {
            CallState::Idle => "Not started",
            CallState::Checking { .. } => "Getting ready",
            CallState::Ready => "Ready",
            CallState::Connecting => "Connecting",
            CallState::Live {
                coach_speaking: true,
            } => "Live — coach speaking",
            CallState::Live {
                coach_speaking: false,
            } => "Live — listening",
            CallState::Reconnecting { .. } => "Reconnecting",
            CallState::Ended => "Ended",
            CallState::Failed(_) => "Stopped",
        }
    }

    /// Whether the microphone and the connection should be held.
    pub fn holds_media(&self) -> bool {
        matches!(
            self,
            CallState::Checking { .. }
                | CallState::Ready
                | CallState::Connecting
                | CallState::Live { .. }
                | CallState::Reconnecting { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[CallEvent]) -> Result<CallState, InvalidTransition> {
        events
            .iter()
            .cloned()
            .try_fold(CallState::Idle, |state, event| state.on(event))
    }

    #[test]
    fn the_happy_path_from_check_to_end() {
        use CallEvent::*;
        let state = run(&[CheckStarted, SecretReady, MicReady]).unwrap();
        assert_eq!(state, CallState::Ready);
        let state = state.on(StartPressed).unwrap();
        assert_eq!(state, CallState::Connecting);
        let state = state
            .on(Connected)
            .unwrap()
            .on(CoachStartedSpeaking)
            .unwrap();
        assert_eq!(state.label(), "Live — coach speaking");
        let state = state.on(CoachStoppedSpeaking).unwrap();
        assert_eq!(state.label(), "Live — listening");
        let ended = state.on(EndPressed).unwrap();
        assert_eq!(ended, CallState::Ended);
        assert!(!ended.holds_media());
    }

    #[test]
    fn start_waits_for_both_the_microphone_and_the_secret() {
        use CallEvent::*;
        let half = run(&[CheckStarted, MicReady]).unwrap();
        assert_eq!(
            half,
            CallState::Checking {
                mic_ready: true,
                secret_ready: false
            }
        );
        assert!(half.clone().on(StartPressed).is_err());
        assert!(half.holds_media());
    }

    #[test]
    fn failures_stop_the_attempt_and_retry_goes_back_to_the_check() {
        use CallEvent::*;
        let denied = run(&[CheckStarted, Failed(CallFailure::MicDenied)]).unwrap();
        assert_eq!(denied, CallState::Failed(CallFailure::MicDenied));
        assert!(
            !denied.holds_media(),
            "a failed check releases the microphone"
        );
        let again = denied.on(Retry).unwrap();
        assert_eq!(
            again,
            CallState::Checking {
                mic_ready: false,
                secret_ready: false
            }
        );
        let setup = run(&[
            CheckStarted,
            MicReady,
            SecretReady,
            StartPressed,
            Failed(CallFailure::CoachUnavailable),
        ]);
        assert_eq!(
            setup.unwrap(),
            CallState::Failed(CallFailure::CoachUnavailable)
        );
    }

    #[test]
    fn a_lost_connection_is_retried_a_bounded_number_of_times() {
        use CallEvent::*;
        let live = run(&[CheckStarted, MicReady, SecretReady, StartPressed, Connected]).unwrap();
        let once = live.on(ConnectionLost).unwrap();
        assert_eq!(once, CallState::Reconnecting { attempt: 1 });
        assert_eq!(
            once.clone().on(Reconnected).unwrap(),
            CallState::Live {
                coach_speaking: false
            }
        );
        let mut state = once;
        for attempt in 2..=CallState::MAX_RECONNECTS {
            state = state.on(ConnectionLost).unwrap();
            assert_eq!(state, CallState::Reconnecting { attempt });
        }
        assert_eq!(
            state.on(ConnectionLost).unwrap(),
            CallState::Failed(CallFailure::ConnectionLost)
        );
    }

    #[test]
    fn reconnection_attempts_wait_longer_each_time() {
        let waits: Vec<_> = (1..=CallState::MAX_RECONNECTS + 2)
            .map(CallState::reconnect_wait_ms)
            .collect();
        assert_eq!(waits, [250, 1_000, 2_000, 4_000, 8_000, 16_000, 16_000]);
    }

    #[test]
    fn a_call_lost_while_it_is_being_opened_failed_to_start() {
        use CallEvent::*;
        let connecting = run(&[CheckStarted, MicReady, SecretReady, StartPressed]).unwrap();
        assert_eq!(
            connecting.on(ConnectionLost).unwrap(),
            CallState::Failed(CallFailure::ConnectionLost)
        );
    }

    #[test]
    fn the_learner_can_end_at_any_time_but_an_ended_call_stays_ended() {
        use CallEvent::*;
        for prefix in [
            vec![CheckStarted],
            vec![CheckStarted, MicReady, SecretReady],
            vec![CheckStarted, MicReady, SecretReady, StartPressed],
            vec![
                CheckStarted,
                MicReady,
                SecretReady,
                StartPressed,
                Connected,
                ConnectionLost,
            ],
        ] {
            let state = run(&prefix).unwrap();
            assert_eq!(
                state.on(EndPressed).unwrap(),
                CallState::Ended,
                "{prefix:?}"
            );
        }
        let ended = run(&[CheckStarted, EndPressed]).unwrap();
        assert!(
            ended
                .clone()
                .on(Failed(CallFailure::ConnectionLost))
                .is_err()
        );
        assert!(ended.clone().on(Connected).is_err());
        assert!(ended.on(EndPressed).is_err());
    }

    #[test]
    fn events_out_of_place_are_rejected_not_ignored() {
        use CallEvent::*;
        for (events, bad) in [
            (vec![], Connected),
            (vec![], StartPressed),
            (vec![CheckStarted], Reconnected),
            (
                vec![CheckStarted, MicReady, SecretReady],
                CoachStartedSpeaking,
            ),
        ] {
            let state = run(&events).unwrap();
            let error = state.clone().on(bad.clone()).unwrap_err();
            assert_eq!((error.state, error.event), (state, bad));
        }
    }
}
