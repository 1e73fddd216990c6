//! Every failure's words for the learner, in one place: why a call stopped (`CallFailure`), a
//! detail about it (`Problem`), and why part of a session is not saved yet (`SaveTrouble`).

use crate::domain::{call::CallFailure, saving::SaveTrouble, session::Problem};

impl CallFailure {
    /// The failure panel's heading.
    pub fn title(&self) -> &'static str {
        match self {
            CallFailure::MicDenied => "Speaking Coach can't hear you",
            CallFailure::NoMic => "No microphone found",
            CallFailure::MicBusy => "Your microphone is busy",
            CallFailure::InsecureContext => "Voice practice needs a secure connection",
            CallFailure::Unsupported => "This browser can't run voice practice",
            CallFailure::CoachUnavailable => "We couldn't reach your coach",
            CallFailure::TooManyAttempts { .. } => "Too many attempts",
            CallFailure::LimitReached => "You've reached a limit",
            CallFailure::ConnectionLost => "The connection to your coach dropped",
        }
    }

    /// What happened and what to do, for a call that `went_live` or not; `problem` is the
    /// detail the page knows, if any. Empty for too many attempts: the page counts the wait down.
    pub fn advice<'a>(&self, went_live: bool, problem: Option<&'a Problem>) -> &'a str {
        match self {
            CallFailure::MicDenied => {
                "Your browser blocked the microphone. Click the microphone or lock icon in the \
                 address bar, allow the microphone for this site, then try again."
            }
            CallFailure::NoMic => "Connect a headset or a microphone, then try again.",
            CallFailure::MicBusy => {
                "Another app or browser tab is using it. Close that, then try again."
            }
            CallFailure::InsecureContext => {
                "Open Speaking Coach with an https:// address to use your microphone."
            }
            CallFailure::Unsupported => "Please use a recent Chrome, Edge, Firefox or Safari.",
            CallFailure::CoachUnavailable => problem.unwrap_or(&Problem::Unavailable).message(),
            CallFailure::TooManyAttempts { .. } => "",
            CallFailure::LimitReached => problem.unwrap_or(&Problem::Unavailable).message(),
            CallFailure::ConnectionLost if !went_live => {
                "It dropped while the call was starting, before anything was recorded. Please \
                 try again."
            }
            // A reconnection the server refused (another call going on): its words.
            CallFailure::ConnectionLost => match problem {
                Some(refused @ Problem::Refused(_)) => refused.message(),
                _ => "We tried to reconnect several times and could not reach your coach.",
            },
        }
    }
}

impl Problem {
    /// What the learner reads.
    pub fn message(&self) -> &str {
        match self {
            Problem::Refused(message) => message,
            Problem::SecretExpired => {
                "Your call pass expired and could not be renewed. Please try again."
            }
            Problem::NoAnswer => {
                "Your coach didn't answer in time. Check your connection and try again."
            }
            Problem::Busy => "The coach is very busy right now. Please try again in a minute.",
            Problem::Unavailable => {
                "The coach is unavailable right now. Please try again in a moment."
            }
            Problem::NoConnection => {
                "We couldn't connect the call. Check your connection and try again."
            }
            Problem::NotCompleted => {
                "The call could not be completed. Check your connection and try again."
            }
            Problem::NoPeer => "The call could not be set up in this browser.",
            Problem::NotRegistered => {
                "This session could not be saved: please end it and start a new one."
            }
            Problem::MicWontOpen => {
                "That microphone could not be opened. Check it is plugged in, or choose another one."
            }
            Problem::ReplyFailed => {
                "Your coach couldn't answer just then. We asked again; if it stays quiet, please \
                 say that once more."
            }
            Problem::CoachOutOfCredit => {
                "The coach service has run out of credit, so the call had to stop. Please try \
                 again later."
            }
        }
    }
}

impl SaveTrouble {
    /// What the learner reads.
    pub fn message(self) -> &'static str {
        match self {
            SaveTrouble::NotStarted => {
                "This session isn't saved yet: we keep trying. You can keep talking; check your \
                 connection."
            }
            SaveTrouble::TurnsWaiting => {
                "Part of this conversation is not saved yet. We keep trying: check your connection."
            }
            SaveTrouble::SignedOut => {
                "You've been signed out, so this conversation can't be saved for now. Sign in \
                 again in a new tab and keep this one open: nothing is lost, and everything is \
                 saved once you're back."
            }
            SaveTrouble::StillSending => {
                "Part of this conversation is still being saved. Keep this page open for a \
                 moment; if you leave, the recording is sent the next time you open Speaking \
                 Coach."
            }
            SaveTrouble::NotEnded => {
                "We couldn't save the end of this session. Check your connection."
            }
            SaveTrouble::NotSaved => "We couldn't save this session. Check your connection.",
            SaveTrouble::Full => {
                "You've reached a limit, so the rest of this session can't be saved: your \
                 storage is full, or this session is as long as a session can be. What was saved \
                 so far is kept. Your account page shows what you've used; deleting old sessions \
                 makes room."
            }
        }
    }
}
