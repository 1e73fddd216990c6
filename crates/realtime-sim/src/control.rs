//! Fault injection, queued transcripts and counters: what tests and demos steer and observe.

use std::{
    collections::VecDeque,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Json,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use realtime_protocol::http::ApiError;
use serde::{Deserialize, Serialize};

use crate::{
    Simulator,
    keys::{api_error, check_standard_key},
    lock,
    responses::{MAX_QUEUED, ResponseOutcome},
};

/// Faults that may wait at once.
pub const MAX_FAULTS: usize = 64;
/// Learner transcripts that may wait at once, and the longest one.
pub const MAX_TRANSCRIPTS: usize = 256;
pub const MAX_TRANSCRIPT_CHARS: usize = 4_000;
/// The longest a fault may make anything wait or last: an hour (a call's limit at OpenAI).
pub const MAX_FAULT_SECS: u64 = 3_600;
/// The longest an SDP answer may be held back: past any client's timeout, not a held request.
pub const MAX_ANSWER_DELAY_MS: u64 = 30_000;

/// A fault for the next mint or call. Each is used once, in the order queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The next mint answers this status (500, 429, ...) with the API's error body.
    MintError { status: u16 },
    /// The next minted key stops opening calls after `seconds` (whatever `expires_at` says).
    KeyTtl { seconds: u64 },
    /// The next minted key lives `seconds` and its `expires_at` says so: the secret OpenAI
    /// gives for `expires_after.seconds` of that (10 to 7200, as that field takes), whatever
    /// the request asked for.
    KeyLifetime { seconds: u64 },
    /// The next call's SDP answer is sent `ms` late.
    AnswerDelay { ms: u64 },
    /// The next call stops (media and data channel go silent, as a network loss) after `seconds`.
    DropCallAfter { seconds: u64 },
    /// The next call gets `error` `session_expired` after `seconds`, then ends.
    SessionExpiredAfter { seconds: u64 },
    /// The next learner transcription fails.
    TranscriptionFails,
    /// The next learner transcription arrives only after the coach's reply to it has begun (as
    /// at OpenAI, where transcription runs beside the reply).
    TranscriptionLate,
    /// The next response fails (`response.done` with `status: failed`) with this error code,
    /// e.g. `server_error` or `insufficient_quota`.
    ResponseFails { code: String },
    /// The next response stops half-way (`status: incomplete`, `max_output_tokens`).
    ResponseIncomplete,
}

impl Fault {
    /// The fault's values within what the simulator accepts, or which one is not and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let seconds = |param, seconds: u64| {
            if seconds > MAX_FAULT_SECS {
                Err((
                    param,
                    format!("{param} must be at most {MAX_FAULT_SECS}, got {seconds}."),
                ))
            } else {
                Ok(())
            }
        };
        match *self {
            Fault::MintError { status } if !(400..=599).contains(&status) => Err((
                "status",
                format!("status must be an error status (400 to 599), got {status}."),
            )),
            Fault::KeyTtl { seconds: s } => seconds("seconds", s),
            Fault::KeyLifetime { seconds: s } if !(10..=7_200).contains(&s) => Err((
                "seconds",
                format!("seconds must be between 10 and 7200, got {s}."),
            )),
            Fault::AnswerDelay { ms } if ms > MAX_ANSWER_DELAY_MS => Err((
                "ms",
                format!("ms must be at most {MAX_ANSWER_DELAY_MS}, got {ms}."),
            )),
            Fault::DropCallAfter { seconds: s } | Fault::SessionExpiredAfter { seconds: s } => {
                seconds("seconds", s)
            }
            Fault::ResponseFails { ref code }
                if !["server_error", "insufficient_quota", "rate_limit_exceeded"]
                    .contains(&code.as_str()) =>
            {
                Err((
                    "code",
                    format!(
                        "code must be server_error, insufficient_quota or rate_limit_exceeded, \
                         got {code:?}."
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// What crossed the wire, for tests to assert on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub mints: u64,
    pub calls_started: u64,
    pub calls_active: u64,
    pub audio_frames_received: u64,
    pub audio_frames_sent: u64,
    pub events_sent: u64,
    /// Requests to `POST /v1/responses` that passed the API's checks.
    pub responses: u64,
    /// Learner turns the speech recognizer transcribed, and those it failed (timed out, crashed,
    /// busy), and how often it was started again.
    pub recognized: u64,
    pub recognizer_failures: u64,
    pub recognizer_restarts: u64,
}

#[derive(Default)]
pub(crate) struct Control {
    faults: Mutex<VecDeque<Fault>>,
    transcripts: Mutex<VecDeque<String>>,
    responses: Mutex<VecDeque<ResponseOutcome>>,
    responses_answered: AtomicU64,
    /// Percent of learner transcriptions that arrive after the coach's reply began.
    late_percent: AtomicU64,
    /// The emulated network's round trip, in milliseconds (0: none).
    network_rtt_ms: AtomicU64,
    mints: AtomicU64,
    pub(crate) calls_started: AtomicU64,
    pub(crate) calls_active: AtomicU64,
    pub(crate) audio_frames_received: AtomicU64,
    pub(crate) audio_frames_sent: AtomicU64,
    pub(crate) events_sent: AtomicU64,
}

impl Control {
    /// Removes and returns the first queued fault that `wanted` accepts.
    pub(crate) fn take_fault(&self, wanted: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(wanted)?;
        faults.remove(index)
    }

    /// Whether this learner transcription comes late, by chance (`/control/settings`).
    pub(crate) fn late_by_chance(&self) -> bool {
        let percent = self.late_percent.load(Ordering::Relaxed);
        percent > 0 && u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 100 / 256 < percent
    }

    /// The round trip of the emulated network between the simulator and its clients
    /// (`/control/settings`): every HTTP answer and every packet of a call started from now on
    /// leaves this much later.
    pub(crate) fn network_rtt(&self) -> Duration {
        Duration::from_millis(self.network_rtt_ms.load(Ordering::Relaxed))
    }

    /// The text of the next learner utterance, if a test queued one.
    pub(crate) fn next_transcript(&self) -> Option<String> {
        lock(&self.transcripts).pop_front()
    }

    /// Queues checked faults; all or none. The error is the answer to send.
    pub(crate) fn queue_faults(&self, faults: Vec<Fault>) -> Result<(), Refused> {
        for fault in &faults {
            fault
                .check()
                .map_err(|(param, message)| Refused::new(param, message))?;
        }
        append_bounded(&mut lock(&self.faults), faults, MAX_FAULTS).map_err(|waiting| {
            Refused::new(
                "faults",
                format!("At most {MAX_FAULTS} faults may wait ({waiting} already do)."),
            )
        })
    }

    /// Queues what the learner's next utterances say; all or none.
    pub(crate) fn queue_transcripts(&self, texts: Vec<String>) -> Result<(), Refused> {
        if texts
            .iter()
            .any(|text| text.chars().count() > MAX_TRANSCRIPT_CHARS)
        {
            return Err(Refused::new(
                "texts",
                format!("A transcript may have at most {MAX_TRANSCRIPT_CHARS} characters."),
            ));
        }
        append_bounded(&mut lock(&self.transcripts), texts, MAX_TRANSCRIPTS).map_err(|waiting| {
            Refused::new(
                "texts",
                format!("At most {MAX_TRANSCRIPTS} transcripts may wait ({waiting} already do)."),
            )
        })
    }

    /// Queues outcomes for the next Responses requests; refused (with how many wait) past
    /// `MAX_QUEUED`.
    pub(crate) fn queue_responses(&self, outcomes: Vec<ResponseOutcome>) -> Result<(), usize> {
        append_bounded(&mut lock(&self.responses), outcomes, MAX_QUEUED)
    }

    pub(crate) fn next_response(&self) -> Option<ResponseOutcome> {
        lock(&self.responses).pop_front()
    }

    pub(crate) fn count_response(&self) {
        self.responses_answered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_mint(&self) {
        self.mints.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counters(&self) -> Counters {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Counters {
            mints: get(&self.mints),
            calls_started: get(&self.calls_started),
            calls_active: get(&self.calls_active),
            audio_frames_received: get(&self.audio_frames_received),
            audio_frames_sent: get(&self.audio_frames_sent),
            events_sent: get(&self.events_sent),
            responses: get(&self.responses_answered),
            recognized: 0,
            recognizer_failures: 0,
            recognizer_restarts: 0,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct QueueFaults {
    faults: Vec<Fault>,
}

/// A control request the simulator does not take, answered as the API answers a bad value.
#[derive(Debug)]
pub(crate) struct Refused(ApiError);

impl Refused {
    pub(crate) fn new(param: &str, message: String) -> Self {
        Refused(
            ApiError::new("invalid_request_error", Some("invalid_value"), message)
                .with_param(param),
        )
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        api_error(StatusCode::BAD_REQUEST, self.0)
    }
}

fn no_content(result: Result<(), Refused>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// Every `/control/…` request must carry the simulator's standard key, as a mint does: nobody
/// but the app's operator (and its tests) steers the calls of others.
pub(crate) async fn require_key(
    State(sim): State<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    match check_standard_key(&sim, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(problem) => problem.into_response(),
    }
}

/// The emulated network (`network_rtt_ms`) on the API's requests: each is answered one round
/// trip later, as a client far from the server sees it.
pub(crate) async fn emulated_network(
    State(sim): State<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    let rtt = sim.inner.control.network_rtt();
    if !rtt.is_zero() {
        tokio::time::sleep(rtt).await;
    }
    next.run(request).await
}

/// `POST /control/faults` `{"faults":[{"kind":"mint_error","status":500}, ...]}`.
pub(crate) async fn queue_faults(
    State(sim): State<Simulator>,
    Json(body): Json<QueueFaults>,
) -> Response {
    no_content(sim.inner.control.queue_faults(body.faults))
}

#[derive(Debug, Deserialize)]
pub(crate) struct QueueTranscripts {
    texts: Vec<String>,
}

/// `POST /control/transcripts` `{"texts":["I'd like a coffee", ...]}`: what the learner's next
/// utterances "said", since the simulator cannot understand speech.
pub(crate) async fn queue_transcripts(
    State(sim): State<Simulator>,
    Json(body): Json<QueueTranscripts>,
) -> Response {
    no_content(sim.inner.control.queue_transcripts(body.texts))
}

/// The longest emulated round trip.
pub const MAX_NETWORK_RTT_MS: u64 = 1_000;

/// `POST /control/settings` `{"late_transcription_percent": 30, "network_rtt_ms": 50}`: how the
/// calls behave from now on; a setting left out stays as it was.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// Percent (0 to 100) of learner transcriptions that arrive only after the coach's reply
    /// to them began.
    late_transcription_percent: Option<u64>,
    /// A network between the simulator and its clients (0 to 1000 ms of round trip): the API's
    /// answers, and every packet of the calls started from now on (ICE, DTLS, SCTP, events and
    /// voice), leave this much later. For measuring what a round trip to OpenAI costs a flow;
    /// never more lenient than OpenAI, which is always at least one round trip away.
    network_rtt_ms: Option<u64>,
}

pub(crate) async fn settings(State(sim): State<Simulator>, Json(body): Json<Settings>) -> Response {
    if let Some(percent) = body.late_transcription_percent
        && percent > 100
    {
        return Refused::new(
            "late_transcription_percent",
            format!("late_transcription_percent must be 0 to 100, got {percent}."),
        )
        .into_response();
    }
    if let Some(rtt) = body.network_rtt_ms
        && rtt > MAX_NETWORK_RTT_MS
    {
        return Refused::new(
            "network_rtt_ms",
            format!("network_rtt_ms must be 0 to {MAX_NETWORK_RTT_MS}, got {rtt}."),
        )
        .into_response();
    }
    let control = &sim.inner.control;
    if let Some(percent) = body.late_transcription_percent {
        control.late_percent.store(percent, Ordering::Relaxed);
    }
    if let Some(rtt) = body.network_rtt_ms {
        control.network_rtt_ms.store(rtt, Ordering::Relaxed);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// What to do to the calls going on now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallAction {
    /// Stop them as a network loss looks: media and data go silent.
    Drop,
    /// Send `session_expired` (the call's time limit), then end them.
    Expire,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActOnCalls {
    action: CallAction,
}

#[derive(Debug, Serialize)]
pub(crate) struct ActedOn {
    calls: usize,
}

/// `POST /control/calls` `{"action":"drop"}` or `{"action":"expire"}`: a fault at this very
/// moment (mid-reply, mid-sentence), for every call going on; answers how many there were.
pub(crate) async fn act_on_calls(
    State(sim): State<Simulator>,
    Json(body): Json<ActOnCalls>,
) -> Json<ActedOn> {
    let senders: Vec<_> = lock(&sim.inner.calls).values().cloned().collect();
    let command = || match body.action {
        CallAction::Drop => crate::calls::CallCommand::Drop,
        CallAction::Expire => crate::calls::CallCommand::Expire,
    };
    let mut calls = 0;
    for sender in senders {
        if sender.send(command()).await.is_ok() {
            calls += 1;
        }
    }
    Json(ActedOn { calls })
}

/// `GET /control/counters`.
pub(crate) async fn counters(State(sim): State<Simulator>) -> Json<Counters> {
    Json(sim.counters())
}

/// `POST /control/reset`: forget queued faults, transcripts and Responses outcomes, and the
/// settings.
pub(crate) async fn reset(State(sim): State<Simulator>) -> StatusCode {
    lock(&sim.inner.control.faults).clear();
    lock(&sim.inner.control.transcripts).clear();
    lock(&sim.inner.control.responses).clear();
    sim.inner.control.late_percent.store(0, Ordering::Relaxed);
    sim.inner.control.network_rtt_ms.store(0, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

/// Appends all of `items` to `queue` if it then holds at most `max`; otherwise nothing, and the
/// error is how many already wait.
fn append_bounded<T>(queue: &mut VecDeque<T>, items: Vec<T>, max: usize) -> Result<(), usize> {
    if queue.len() + items.len() > max {
        return Err(queue.len());
    }
    queue.extend(items);
    Ok(())
}
