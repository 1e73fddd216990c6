//! Wrapping a session up (after End, or a call that could not be brought back): everything
//! recorded and said goes up first, then the session is ended (which makes its recording for
//! good) and the browser's copy is forgotten. Until then the session is not ended: if the
//! learner leaves first, recovery sends what is left next time.

use super::{Effect, Session, Timer};
use crate::domain::{
    practice::words_used,
    saving::{Backoff, Retry, SaveTrouble},
    transcript::TurnState,
};

/// The end is tried this many times; after that the session is left for recovery to end.
const END_TRIES: u32 = 5;
/// After End, saving that takes longer than this says so.
const SLOW_AFTER_MS: u32 = 20_000;

/// Why the call is being wrapped up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WrapReason {
    /// The learner pressed End: the page moves on to the summary.
    End,
    /// The call could not be brought back: the failure panel links to what was kept.
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WrapPhase {
    /// Everything recorded and said goes up first.
    Sending,
    /// The end is being saved (`waiting`: between tries).
    Ending {
        tries: u32,
        waiting: bool,
    },
    Done,
}

#[derive(Debug)]
pub(super) struct WrapUp {
    reason: WrapReason,
    phase: WrapPhase,
    backoff: Backoff,
}

impl Session {
    /// Stops the call and the recorder, sends every chunk and turn, then ends the session (which
    /// makes its recording for good) and forgets the browser's copy. Until then the session is
    /// not ended: if the learner leaves first, recovery sends what is left next time.
    pub(super) fn wrap_up(&mut self, reason: WrapReason) {
        self.release();
        self.saves.wrap = Some(WrapUp {
            reason,
            phase: WrapPhase::Sending,
            backoff: Backoff::default(),
        });
        self.timer(Timer::SlowSaving, SLOW_AFTER_MS);
    }

    pub(super) fn wrap_step(&mut self) {
        let Some(wrap) = &self.saves.wrap else {
            return;
        };
        if wrap.phase != WrapPhase::Sending || self.saves.releasing {
            return;
        }
        if self.saves.session.is_none() {
            if self.saves.registering.is_some() {
                return; // the session row comes first
            }
            // The call never came up, or its session was refused: there is nothing to end.
            let reason = wrap.reason;
            self.set_phase(WrapPhase::Done);
            if self.live_since.is_none() {
                self.push(Effect::Discard);
            } else if reason == WrapReason::Lost && self.saves.trouble.is_none() {
                self.raise(SaveTrouble::NotSaved);
            }
            return;
        }
        if self.saves.pending_turns() > 0 || self.saves.unsent_chunks() > 0 {
            return;
        }
        self.saves.settle(SaveTrouble::StillSending);
        self.set_phase(WrapPhase::Ending {
            tries: 0,
            waiting: false,
        });
        self.end_session();
    }

    pub(super) fn set_phase(&mut self, phase: WrapPhase) {
        if let Some(wrap) = self.saves.wrap.as_mut() {
            wrap.phase = phase;
        }
    }

    /// Marks the session ended with its counts.
    pub(super) fn end_session(&mut self) {
        let Some(session) = self.saves.session.clone() else {
            return;
        };
        let turns = self
            .transcript
            .turns()
            .iter()
            .filter(|turn| turn.state != TurnState::InProgress)
            .count() as u32;
        let words = self
            .vocabulary
            .iter()
            .zip(words_used(&self.vocabulary, &self.transcript))
            .filter(|(_, used)| *used)
            .map(|(word, _)| word.clone())
            .collect();
        self.push(Effect::EndSession {
            session,
            turns,
            words,
        });
    }

    pub(super) fn end_saved(&mut self, result: Result<(), Retry>) {
        let Some(wrap) = self.saves.wrap.as_mut() else {
            return;
        };
        let WrapPhase::Ending { tries, .. } = wrap.phase else {
            return;
        };
        let reason = wrap.reason;
        let retry = match result {
            Ok(()) => {
                wrap.phase = WrapPhase::Done;
                self.went_through();
                let session = self.saves.session.clone();
                match reason {
                    WrapReason::End => self.saves.finished = session,
                    WrapReason::Lost => self.saves.kept = session,
                }
                self.push(Effect::Discard);
                return;
            }
            Err(retry) => retry,
        };
        // Passing trouble is tried `END_TRIES` times; being signed out is waited out.
        let tries = tries + u32::from(retry == Retry::Now);
        let after = wrap.backoff.wait_ms(retry).filter(|_| tries < END_TRIES);
        match after {
            Some(after) => {
                wrap.phase = WrapPhase::Ending {
                    tries,
                    waiting: true,
                };
                if retry == Retry::Later {
                    self.raise(SaveTrouble::SignedOut);
                }
                self.timer(Timer::RetryEnd, after);
            }
            None => {
                wrap.phase = WrapPhase::Done;
                self.raise(SaveTrouble::NotEnded);
            }
        }
    }

    /// Time to try the end again.
    pub(super) fn retry_end(&mut self) {
        if let Some(WrapUp {
            phase: WrapPhase::Ending { waiting, .. },
            ..
        }) = self.saves.wrap.as_mut()
            && *waiting
        {
            *waiting = false;
            self.end_session();
        }
    }

    /// Saving after End is taking a while: the page says so (and keeps waiting).
    pub(super) fn slow_saving(&mut self) {
        if matches!(&self.saves.wrap, Some(wrap) if wrap.phase == WrapPhase::Sending) {
            self.raise(SaveTrouble::StillSending);
        }
    }
}
