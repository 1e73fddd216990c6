//! The warm call: once the check is done (`Ready`), the call to the coach is opened at once, with
//! the microphone not yet sent (the call's audio sender has no track) and the coach's turn
//! detection off (the secret is minted with `turn_detection: null`). Nothing the learner says
//! reaches the coach, and nothing is committed or answered, until Start: Start only lets the
//! microphone through and sends the first events, so the greeting is one reply's thinking time
//! away instead of a connection's.
//!
//! A warm call never fails the page. If it cannot be made, is refused or drops, the page goes
//! cold and Start makes the call as it always could (`call.rs`). A warm call is closed before its
//! secret expires and a new one made, [`Session::WARM_CALLS`] at most per check: a learner who
//! never presses Start holds nothing open for long, and one who waits gets a fresh call.

use super::{ConnectError, Effect, Session, Timer};
use crate::domain::{call::CallState, voice::VoiceCallSecret};

/// Where the warm call stands (only while `Ready`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Warm {
    /// No call open: Start makes one.
    #[default]
    Cold,
    /// A secret for the next warm call is being minted.
    Minting,
    /// The offer is posted (or answered) and the channel not open yet.
    Dialing,
    /// The call is up, waiting for Start.
    Open,
}

impl Session {
    /// How many warm calls one check opens (each lasts its secret's life, less the margin).
    pub const WARM_CALLS: u32 = 3;

    pub fn warm(&self) -> Warm {
        self.warm
    }

    /// Opens the warm call with the check's secret, if the page is ready and the secret fresh.
    pub(super) fn warm_up(&mut self) {
        if self.state != CallState::Ready || self.warm != Warm::Cold {
            return;
        }
        let Some(secret) = self.fresh_secret() else {
            return;
        };
        let generation = self.generation;
        self.warm_calls += 1;
        self.warm = Warm::Dialing;
        let lasts_secs = secret.expires_at as f64 - Self::SECRET_MARGIN_SECS - self.now.unix_secs;
        self.push(Effect::MakePeer {
            generation,
            mic: false,
        });
        self.push(Effect::Connect { generation, secret });
        self.timer(
            Timer::WarmExpiry { generation },
            (lasts_secs * 1000.0).clamp(0.0, f64::from(u32::MAX)) as u32,
        );
    }

    /// The check's secret while it is still good for opening a call.
    pub(super) fn fresh_secret(&self) -> Option<VoiceCallSecret> {
        self.secret
            .as_ref()
            .filter(|secret| {
                secret.expires_at as f64 - self.now.unix_secs > Self::SECRET_MARGIN_SECS
            })
            .cloned()
    }

    /// Closes the warm call (whatever it still says is ignored): the page is cold.
    pub(super) fn cool(&mut self) {
        if self.warm != Warm::Cold {
            self.warm = Warm::Cold;
            self.next_call();
        }
    }

    /// A secret minted while ready: the next warm call opens with it.
    pub(super) fn minted_warm(&mut self, secret: Option<VoiceCallSecret>) {
        if self.warm != Warm::Minting {
            return;
        }
        self.warm = Warm::Cold;
        if let Some(secret) = secret {
            self.secret = Some(secret);
            self.warm_up();
        }
    }

    /// The warm call's offer was answered (or not). A refused secret is replaced once; any
    /// other failure leaves the page cold, for Start to try again.
    pub(super) fn answered_warm(&mut self, result: Result<(), ConnectError>) {
        match result {
            Ok(()) => self.timer(
                Timer::ConnectTimeout {
                    generation: self.generation,
                },
                Self::CONNECT_TIMEOUT_MS,
            ),
            Err(ConnectError::Unauthorized) => {
                self.secret = None;
                self.cool();
                if !self.renewed {
                    self.renewed = true;
                    self.mint_warm();
                }
            }
            Err(_) => self.cool(),
        }
    }

    /// The warm call's secret is about to expire: a new call, while the check allows one more.
    pub(super) fn warm_expired(&mut self) {
        self.cool();
        if self.warm_calls < Self::WARM_CALLS {
            self.mint_warm();
        }
    }

    fn mint_warm(&mut self) {
        self.warm = Warm::Minting;
        self.push(Effect::Mint {
            generation: self.generation,
        });
    }
}
