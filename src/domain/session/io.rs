//! What goes into the session model and what comes out of it.

use realtime_protocol::{ClientEvent, ServerEvent};

use crate::domain::{
    call::{CallFailure, CallNote, DropCause},
    saving::Retry,
    transcript::SavedTurn,
    voice::VoiceCallSecret,
};

/// When an input happened: a monotonic clock (`performance.now()`, for the recording's times
/// and timers) and the wall clock (for the secret's expiry).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Now {
    pub ms: f64,
    pub unix_secs: f64,
}

/// What the learner asks of the call (the view's buttons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The pre-call check (again, after a failure).
    Check,
    Start,
    End,
    /// Push-to-talk pressed and let go.
    Hold,
    LetGo,
    SetMuted(bool),
    SetPushToTalk(bool),
    /// List the microphones to choose from, and go on with one of them.
    ListInputs,
    UseInput(String),
}

/// Why minting a secret failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MintError {
    TooManyAttempts {
        retry_after_secs: u64,
    },
    /// The server's own explanation, for the learner.
    Refused(String),
    /// One of the learner's limits says no (today's calls, live sessions, the session's call
    /// time); the server's words, for the learner.
    Limit(String),
    /// The call contradicts what is stored (the session has ended, another of the learner's
    /// sessions has a call going on); the server's words, for the learner.
    Conflict(String),
}

/// Why posting the offer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// 401: the secret expired or is unknown.
    Unauthorized,
    /// The calls URL did not answer in time.
    Timeout,
    /// 429.
    Busy,
    /// Any other refusal.
    Refused,
    /// The request failed (offline, CORS, a bad answer).
    Failed,
    /// There is no call to connect (the browser could not make one).
    NoPeer,
}

/// Something happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Command(Command),
    /// The check: whether this browser can make calls at all.
    CheckStarted {
        supported: bool,
    },
    /// Start, with a new key identifying this attempt's session row.
    Started {
        key: String,
    },
    MicOpened,
    MicFailed(CallFailure),
    /// The microphone stopped by itself (unplugged, taken away).
    MicEnded,
    /// The microphone chosen with `UseInput` is in use, or could not be opened.
    MicSwitched {
        ok: bool,
    },
    /// The browser could not make the call's peer connection, or start the recorder.
    PeerUnavailable,
    RecorderUnavailable,
    Minted {
        generation: u32,
        result: Result<VoiceCallSecret, MintError>,
    },
    /// The offer was answered (or not).
    Answered {
        generation: u32,
        result: Result<(), ConnectError>,
    },
    /// The call's data channel opened.
    Opened {
        generation: u32,
    },
    Event {
        generation: u32,
        event: ServerEvent,
    },
    Lost {
        generation: u32,
        cause: DropCause,
    },
    /// The recorder made chunk `sequence`; it is now in the outbox (or in memory only).
    ChunkMade,
    ChunkStored {
        sequence: u32,
    },
    TurnStored {
        item_id: String,
    },
    Registered {
        key: String,
        result: Result<String, Retry>,
    },
    TurnSaved {
        item_id: String,
        result: Result<(), Retry>,
    },
    Uploaded {
        sequence: u32,
        result: Result<(), Retry>,
    },
    EndSaved {
        result: Result<(), Retry>,
    },
    /// Everything `Effect::Release` let go of is let go (the recorder's last chunk is made).
    Released,
    Timer(Timer),
    /// The page is going away: nothing after this does anything.
    Left,
}

/// A wait the model asked for; it comes back as `Input::Timer` (a timer that no longer applies
/// when it fires does nothing). Asking again for the same timer restarts it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The call `generation` must be up by now.
    ConnectTimeout {
        generation: u32,
    },
    /// The warm call `generation`'s secret is about to expire: time to close it.
    WarmExpiry {
        generation: u32,
    },
    /// Time for the next reconnection attempt (scheduled while the call was `generation`).
    Reconnect {
        generation: u32,
    },
    RetryRegister,
    RetryTurn {
        item_id: String,
    },
    RetryChunk,
    RetryEnd,
    /// After End: saving is taking long enough to say so.
    SlowSaving,
    /// "You're back" has been on show long enough.
    BackNotice,
}

/// Something for the browser to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open the browser's outbox (the durable copy of what is not yet on the server).
    OpenOutbox,
    OpenMic,
    SwitchMic {
        device: String,
    },
    ListInputs,
    Mint {
        generation: u32,
    },
    /// Make the peer connection for call `generation` (if there is none), sending the
    /// microphone from the start, or (a warm call) only from `SendMic` on.
    MakePeer {
        generation: u32,
        mic: bool,
    },
    /// The warm call sends the microphone from now on.
    SendMic,
    /// Play the coach's voice (inside the Start click, which browsers let play sound).
    Play,
    Connect {
        generation: u32,
        secret: VoiceCallSecret,
    },
    DropPeer,
    Send(ClientEvent),
    /// Let the microphone through to the coach, or not.
    MicOpen(bool),
    /// Start recording this attempt, noting it in the outbox under `key`.
    StartRecorder {
        key: String,
    },
    /// The call came up: the clock starts and the outbox notes the attempt live.
    Live,
    /// Stop the recorder (its last chunk comes first), the microphone, the call and the timers.
    Release,
    Register {
        key: String,
    },
    /// The outbox notes the attempt's session.
    NoteSession {
        session: String,
    },
    StoreTurn(SavedTurn),
    SaveTurn {
        session: String,
        turn: SavedTurn,
    },
    ForgetTurn {
        item_id: String,
    },
    Upload {
        session: String,
        sequence: u32,
    },
    ForgetChunk {
        sequence: u32,
    },
    EndSession {
        session: String,
        turns: u32,
        words: Vec<String>,
    },
    /// Forget this attempt's outbox copy and lock.
    Discard,
    /// Tell the server's log (never any content).
    Note {
        session: String,
        what: CallNote,
        cause: Option<DropCause>,
        attempt: u32,
    },
    Timer {
        timer: Timer,
        after_ms: u32,
    },
    /// The page is gone: drop every browser object now.
    Teardown,
}

/// A detail for the learner about the latest failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The server's own words on why no secret was given.
    Refused(String),
    SecretExpired,
    NoAnswer,
    Busy,
    Unavailable,
    NoConnection,
    NotCompleted,
    NoPeer,
    NotRegistered,
    MicWontOpen,
    /// The coach's reply failed (`response.done` with `status: failed`); it was asked again.
    ReplyFailed,
    /// The coach's service is out of quota: it cannot answer again, so the call ended.
    CoachOutOfCredit,
}

/// How the learner talks to the coach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Talk {
    pub muted: bool,
    pub push_to_talk: bool,
    /// Push-to-talk is held down.
    pub holding: bool,
    /// The microphone stopped mid-call: the call is paused until another one is chosen.
    pub mic_lost: bool,
}

impl Talk {
    /// Whether the microphone goes through to the coach: while held with push-to-talk,
    /// otherwise unless muted.
    pub fn mic_open(&self) -> bool {
        if self.push_to_talk {
            self.holding
        } else {
            !self.muted
        }
    }
}
