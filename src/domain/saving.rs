//! How the browser saves a session: one answer, for every save it makes (recording chunks, turns,
//! the session row and its end; on the live page and in recovery), to "that did not go through:
//! now what?", the waits between tries, and what the learner is told while something waits.
//! Deciding it in one place is what keeps a learner whose sign-in lapses mid-call from losing
//! audio.

use crate::error::AppError;

/// What to do about a request that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Offline, server trouble, a timeout or a rate limit: try again soon, with backoff.
    Now,
    /// The learner is signed out (their sign-in lapsed or was ended elsewhere): keep everything
    /// and try again once they are signed in again.
    Later,
    /// Refused for good (invalid, too large, different bytes for what the server already has):
    /// retrying cannot help, so this one piece is given up (and logged), not the rest.
    Never,
    /// Refused because the learner reached a limit (their storage, the session's audio or
    /// transcript): given up like `Never`, and the learner is told, since more of the same
    /// would be refused too.
    Full,
    /// The session no longer exists (the learner deleted it): what is left of it is dropped.
    Gone,
}

impl Retry {
    /// For an HTTP status: `None` when it succeeded.
    pub fn after_status(status: u16) -> Option<Retry> {
        match status {
            200..=299 => None,
            401 => Some(Retry::Later),
            404 | 410 => Some(Retry::Gone),
            408 | 425 | 429 => Some(Retry::Now),
            403 | 413 => Some(Retry::Full),
            400..=499 => Some(Retry::Never),
            // 5xx, and anything a proxy may invent.
            _ => Some(Retry::Now),
        }
    }

    /// For a server function's error.
    pub fn after_error(error: &AppError) -> Retry {
        match error {
            AppError::Unauthorized => Retry::Later,
            AppError::NotFound { .. } => Retry::Gone,
            AppError::InvalidInput { .. } | AppError::Conflict { .. } => Retry::Never,
            AppError::TooLarge { .. }
            | AppError::LimitReached {
                retry_after_secs: None,
                ..
            } => Retry::Full,
            AppError::LimitReached {
                retry_after_secs: Some(_),
                ..
            }
            | AppError::TooManyRequests { .. }
            | AppError::CoachUnavailable
            | AppError::Network { .. }
            | AppError::Internal { .. } => Retry::Now,
        }
    }
}

/// The waits between tries of one request: doubling from `FIRST_MS` up to `MAX_MS` while it is
/// worth retrying now; a steady `SIGNED_OUT_MS` while the learner is signed out (they come back
/// by signing in in another tab, and nothing on this page can tell when).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    next_ms: u32,
    failures: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next_ms: Self::FIRST_MS,
            failures: 0,
        }
    }
}

impl Backoff {
    pub const FIRST_MS: u32 = 500;
    pub const MAX_MS: u32 = 15_000;
    pub const SIGNED_OUT_MS: u32 = 2_000;

    /// How long to wait before trying again after a failure classed `retry`, or `None` when it
    /// must not be retried at all.
    pub fn wait_ms(&mut self, retry: Retry) -> Option<u32> {
        match retry {
            Retry::Never | Retry::Full | Retry::Gone => None,
            Retry::Later => {
                self.failures += 1;
                Some(Self::SIGNED_OUT_MS)
            }
            Retry::Now => {
                self.failures += 1;
                let wait = self.next_ms;
                self.next_ms = self.next_ms.saturating_mul(2).min(Self::MAX_MS);
                Some(wait)
            }
        }
    }

    /// Failures in a row so far (the page speaks up once they last).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// After a success: the next failure starts from the shortest wait again.
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// Why the page says part of the session is not saved yet. Nothing is lost in any of them: what
/// waits is kept in the browser (and sent by recovery if the page goes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveTrouble {
    /// The session row could not be made yet (the server cannot be reached).
    NotStarted,
    /// Turns have been waiting a while to be saved.
    TurnsWaiting,
    /// The learner is signed out: they sign in again in another tab and everything goes on.
    SignedOut,
    /// After End: the recording is still being sent.
    StillSending,
    /// After End: the session could not be marked ended (it will be recovered).
    NotEnded,
    /// A call that could not be brought back: its session could not be saved.
    NotSaved,
    /// A limit was reached (storage, the session's audio or transcript): what comes after is
    /// not saved.
    Full,
}

impl SaveTrouble {
    /// What the page shows when `raised` comes up while it shows `shown`: being signed out is
    /// what the learner can act on, so it stays until it is over.
    pub fn over(raised: SaveTrouble, shown: Option<SaveTrouble>) -> SaveTrouble {
        match shown {
            Some(SaveTrouble::SignedOut) => SaveTrouble::SignedOut,
            _ => raised,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classed_once_for_every_save() {
        for ok in [200, 201, 204, 206] {
            assert_eq!(Retry::after_status(ok), None, "{ok}");
        }
        assert_eq!(Retry::after_status(401), Some(Retry::Later));
        assert_eq!(Retry::after_status(404), Some(Retry::Gone));
        for soon in [408, 429, 500, 502, 503, 504] {
            assert_eq!(Retry::after_status(soon), Some(Retry::Now), "{soon}");
        }
        for never in [400, 409, 422] {
            assert_eq!(Retry::after_status(never), Some(Retry::Never), "{never}");
        }
        for full in [403, 413] {
            assert_eq!(Retry::after_status(full), Some(Retry::Full), "{full}");
        }
    }

    #[test]
    fn server_function_errors_are_classed_like_their_status() {
        let errors = [
            AppError::Unauthorized,
            AppError::not_found("session"),
            AppError::invalid("too long"),
            AppError::Conflict {
                message: "different bytes".into(),
            },
            AppError::TooLarge { limit_bytes: 1024 },
            AppError::LimitReached {
                message: "Your storage is full.".into(),
                retry_after_secs: None,
            },
            AppError::LimitReached {
                message: "Today's calls are used.".into(),
                retry_after_secs: Some(60),
            },
            AppError::TooManyRequests {
                retry_after_secs: 3,
            },
            AppError::CoachUnavailable,
            AppError::Network {
                detail: "offline".into(),
            },
            AppError::Internal {
                reference: "abcd1234".into(),
            },
        ];
        for error in errors {
            assert_eq!(
                Some(Retry::after_error(&error)),
                Retry::after_status(error.status()),
                "{error:?}"
            );
        }
    }

    #[test]
    fn a_signed_out_learner_loses_nothing_and_is_polled_steadily() {
        let mut backoff = Backoff::default();
        for _ in 0..50 {
            assert_eq!(
                backoff.wait_ms(Retry::after_status(401).unwrap()),
                Some(Backoff::SIGNED_OUT_MS)
            );
        }
        assert_eq!(backoff.failures(), 50);
    }

    #[test]
    fn transient_failures_back_off_doubling_up_to_a_ceiling_and_start_over_after_a_success() {
        let mut backoff = Backoff::default();
        let waits: Vec<_> = (0..8)
            .map(|_| backoff.wait_ms(Retry::Now).unwrap())
            .collect();
        assert_eq!(
            waits,
            [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]
        );
        backoff.reset();
        assert_eq!(backoff.wait_ms(Retry::Now), Some(500));
        assert_eq!(backoff.failures(), 1);
    }

    #[test]
    fn refusals_and_deleted_sessions_are_never_retried() {
        let mut backoff = Backoff::default();
        assert_eq!(backoff.wait_ms(Retry::Never), None);
        assert_eq!(backoff.wait_ms(Retry::Gone), None);
    }

    #[test]
    fn being_signed_out_stays_on_show_until_it_is_over() {
        use SaveTrouble::*;
        assert_eq!(SaveTrouble::over(TurnsWaiting, Some(SignedOut)), SignedOut);
        assert_eq!(SaveTrouble::over(SignedOut, Some(TurnsWaiting)), SignedOut);
        assert_eq!(
            SaveTrouble::over(StillSending, Some(NotStarted)),
            StillSending
        );
        assert_eq!(SaveTrouble::over(NotStarted, None), NotStarted);
    }
}
