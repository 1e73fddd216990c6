//! One call's conversation: turns detected on the learner's audio, the coach's replies spoken on
//! the audio track, and the data-channel events of both, in the order the Realtime API sends them.
//! Pure state driven by the call task: audio in ([`Conversation::hear`]), client events in, a
//! 20 ms clock ([`Conversation::tick`]); events and audio packets out.

use std::{
    collections::VecDeque,
    sync::mpsc,
    time::{Duration, Instant},
};

use realtime_protocol::{
    ClientEvent, ServerEvent, SessionConfig,
    events::{Content, ErrorDetail, Item, Response, ResponseStatus},
};

use crate::{
    Simulator,
    control::Fault,
    new_id, params,
    recognizer::{Ears, RecognizeError},
    speech::{self, Vad, VadEvent, Voice},
};

enum Reply {
    Idle,
    /// Decided and announced (`response.created`); the voice is being rendered.
    Preparing {
        response_id: String,
        text: String,
        ready_at: Instant,
        voice: mpsc::Receiver<Result<Voice, speech::SpeechError>>,
        ending: Ending,
    },
    /// Its text and audio being made (much faster than they play, as at OpenAI), its audio
    /// playing: one 20 ms packet a tick.
    Speaking(Speaking),
}

/// How a response ends, as a test asked (`Fault::ResponseFails`, `Fault::ResponseIncomplete`).
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    Completed,
    /// Cut off after half of its words (`max_output_tokens`).
    Incomplete,
    /// `status: failed` with this error code, before any output.
    Failed(String),
}

struct Speaking {
    response_id: String,
    item_id: String,
    words: Vec<String>,
    /// Words made so far (their transcript deltas sent).
    words_made: usize,
    /// The words it will make (fewer than all for an incomplete response).
    words_limit: usize,
    /// `response.done` was sent: the response is no longer active, its audio may still play.
    done: bool,
    packets: Vec<Vec<u8>>,
    /// The audio was cleared, and nothing played since: no `output_audio_buffer.stopped`.
    cleared: bool,
    /// The next packet to play, the packets played, and where playing stops.
    next_packet: usize,
    played: usize,
    end_packet: usize,
}

impl Speaking {
    /// Packets whose audio was made: in proportion to the words made.
    fn packets_made(&self) -> usize {
        (self.packets.len() * self.words_made).div_ceil(self.words.len().max(1))
    }

    fn text_made(&self) -> String {
        self.words[..self.words_made].join(" ")
    }
}

/// Words of text (and their audio) made per 20 ms: the text runs well ahead of the voice.
const WORDS_MADE_PER_TICK: usize = 2;
/// A learner transcription held back (`Fault::TranscriptionLate`) comes at the latest this long
/// after the turn, if no reply starts first.
const LATE_TRANSCRIPT_MAX: Duration = Duration::from_secs(3);
/// ...and this long after the coach's reply began, when one does.
const LATE_AFTER_REPLY: Duration = Duration::from_millis(1_000);
/// Audio after the detected end of speech that goes to the recognizer with the turn (the quiet
/// tail of the last word).
const TRANSCRIBED_TAIL_MS: u64 = 300;
/// The longest item id a client may give (OpenAI's limit).
pub const MAX_CLIENT_ITEM_ID: usize = 32;

pub(crate) struct Conversation {
    session_id: String,
    session: SessionConfig,
    reply_latency: Duration,
    events: VecDeque<String>,
    audio: VecDeque<Vec<u8>>,
    vad: Vad,
    /// The learner item being spoken (server VAD), or the span heard since the last commit
    /// (push-to-talk).
    input_item: Option<String>,
    pending_span: Option<(u64, u64)>,
    last_item_id: Option<String>,
    reply: Reply,
    /// Transcription events held back until the coach's next reply has started.
    late: Option<(Instant, Vec<ServerEvent>)>,
    /// The learner's audio, for the recognizer.
    ears: Ears,
    /// Learner turns with the recognizer, in the order they were committed.
    hearing: VecDeque<Hearing>,
    /// The conversation's item ids, in order.
    items: Vec<String>,
    history: Vec<(String, String)>,
    follow_ups: usize,
    close_when_drained: bool,
}

/// Audio kept before detected speech (`prefix_padding_ms`, the API's default): OpenAI's
/// `audio_start_ms` includes it.
const PREFIX_PADDING_MS: u64 = 300;

const FOLLOW_UPS: &[&str] = &[
    "That's a good start. Can you tell me a little more about it?",
    "Interesting! Why do you think that is?",
    "Nice. Could you give me an example?",
    "Good. How would you say that in a different way?",
    "Thanks. What would you do next?",
];

impl Conversation {
    pub(crate) fn new(session_id: String, session: SessionConfig, reply_latency: Duration) -> Self {
        let silence = silence_ms(&session);
        Conversation {
            session_id,
            session,
            reply_latency,
            events: VecDeque::new(),
            audio: VecDeque::new(),
            vad: Vad::new(silence),
            input_item: None,
            pending_span: None,
            last_item_id: None,
            reply: Reply::Idle,
            late: None,
            ears: Ears::new(),
            hearing: VecDeque::new(),
            items: Vec::new(),
            history: Vec::new(),
            follow_ups: 0,
            close_when_drained: false,
        }
    }

    fn send(&mut self, event: ServerEvent) {
        if let Ok(text) = serde_json::to_string(&event) {
            self.events.push_back(text);
        }
    }

    pub(crate) fn next_event(&mut self) -> Option<String> {
        self.events.pop_front()
    }

    pub(crate) fn requeue_front(&mut self, text: String) {
        self.events.push_front(text);
    }

    /// When the reply being prepared is due to start speaking, if one is.
    pub(crate) fn reply_due(&self) -> Option<Instant> {
        match &self.reply {
            Reply::Preparing { ready_at, .. } => Some(*ready_at),
            _ => None,
        }
    }

    /// The next 20 ms Opus packet of the coach's voice, if the coach is speaking.
    pub(crate) fn next_audio(&mut self) -> Option<Vec<u8>> {
        self.audio.pop_front()
    }

    pub(crate) fn wants_close(&self) -> bool {
        self.close_when_drained && self.events.is_empty()
    }

    pub(crate) fn channel_opened(&mut self) {
        let session = self.session_json();
        self.send(ServerEvent::SessionCreated {
            event_id: Some(new_id("event")),
            session,
        });
    }

    pub(crate) fn session_expired(&mut self) {
        self.send(ServerEvent::Error {
            event_id: Some(new_id("event")),
            error: ErrorDetail {
                kind: "invalid_request_error".into(),
                code: Some("session_expired".into()),
                message: "Your session hit the maximum duration.".into(),
                param: None,
            },
        });
        self.close_when_drained = true;
    }

    fn server_vad(&self) -> bool {
        !matches!(
            audio_input(&self.session).and_then(|i| i.turn_detection.as_ref()),
            Some(None)
        )
    }

    fn session_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.session).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("id".into(), self.session_id.clone().into());
            object.insert("object".into(), "realtime.session".into());
        }
        value
    }

    /// The learner's decoded audio (48 kHz mono).
    pub(crate) fn hear(&mut self, pcm: &[f32], now: Instant, sim: &Simulator) {
        self.ears.hear(pcm);
        for frame in pcm.chunks(speech::FRAME_SAMPLES) {
            match self.vad.push(frame) {
                Some(VadEvent::Started { at_ms }) => self.speech_started(at_ms),
                Some(VadEvent::Stopped {
                    started_ms,
                    ended_ms,
                }) => self.speech_stopped(started_ms, ended_ms, now, sim),
                None => {}
            }
        }
    }

    fn speech_started(&mut self, at_ms: u64) {
        if self.server_vad() {
            let item_id = new_id("item");
            self.input_item = Some(item_id.clone());
            // As OpenAI: the start includes the prefix padding kept before speech was detected.
            self.send(ServerEvent::SpeechStarted {
                event_id: Some(new_id("event")),
                item_id,
                audio_start_ms: at_ms.saturating_sub(PREFIX_PADDING_MS),
            });
            // The learner talking over the coach stops the coach (barge-in), unless the session
            // asked otherwise.
            if self.interrupts() {
                self.barge_in();
            }
        } else {
            let end = self.pending_span.map_or(at_ms, |(_, end)| end);
            self.pending_span = Some((self.pending_span.map_or(at_ms, |(s, _)| s), end));
        }
    }

    fn speech_stopped(&mut self, started_ms: u64, ended_ms: u64, now: Instant, sim: &Simulator) {
        if !self.server_vad() {
            let start = self.pending_span.map_or(started_ms, |(s, _)| s);
            self.pending_span = Some((start, ended_ms));
            return;
        }
        let item_id = self.input_item.take().unwrap_or_else(|| new_id("item"));
        // As OpenAI: the end includes the silence that had to pass before speech counted as
        // stopped.
        self.send(ServerEvent::SpeechStopped {
            event_id: Some(new_id("event")),
            item_id: item_id.clone(),
            audio_end_ms: ended_ms + silence_ms(&self.session),
        });
        self.commit_learner_turn(item_id, (started_ms, ended_ms), now, sim);
        let auto_reply = self
            .turn_detection()
            .and_then(|t| t.create_response)
            .unwrap_or(true);
        if auto_reply && self.active_response().is_none() {
            self.start_reply(now, sim);
        }
    }

    fn turn_detection(&self) -> Option<realtime_protocol::session::TurnDetection> {
        turn_detection(&self.session)
    }

    fn interrupts(&self) -> bool {
        self.turn_detection()
            .and_then(|t| t.interrupt_response)
            .unwrap_or(true)
    }

    /// The response being made now, if any (not one whose audio only still plays).
    fn active_response(&self) -> Option<&str> {
        match &self.reply {
            Reply::Preparing { response_id, .. } => Some(response_id),
            Reply::Speaking(speaking) if !speaking.done => Some(&speaking.response_id),
            _ => None,
        }
    }

    /// `input_audio_buffer.committed`, the user item, then its transcription. `speech` is where
    /// the voice detection heard speech, in ms of the call's audio.
    fn commit_learner_turn(
        &mut self,
        item_id: String,
        speech: (u64, u64),
        now: Instant,
        sim: &Simulator,
    ) {
        let previous = self.last_item_id.replace(item_id.clone());
        self.items.push(item_id.clone());
        // The learner spoke, whenever (and whether) the words come: the reply answers them.
        self.history.push(("user".into(), String::new()));
        self.send(ServerEvent::Committed {
            event_id: Some(new_id("event")),
            item_id: item_id.clone(),
            previous_item_id: previous.clone(),
        });
        let item = Item {
            id: Some(item_id.clone()),
            kind: "message".into(),
            role: "user".into(),
            content: vec![Content {
                kind: "input_audio".into(),
                text: None,
                transcript: None,
            }],
            status: Some("completed".into()),
        };
        self.send(ServerEvent::ItemAdded {
            event_id: Some(new_id("event")),
            item: item.clone(),
            previous_item_id: previous.clone(),
        });
        self.send(ServerEvent::ItemDone {
            event_id: Some(new_id("event")),
            item,
            previous_item_id: previous,
        });
        let control = &sim.inner.control;
        // Transcription runs beside the reply: at OpenAI it often lands after the reply began.
        // (A recognized one is late by nature: it comes when the recognizer is done.)
        let late = control
            .take_fault(|f| matches!(f, Fault::TranscriptionLate))
            .is_some()
            || control.late_by_chance();
        let Some(events) = self.transcription(item_id, speech, sim) else {
            return;
        };
        if late {
            self.late = Some((now + LATE_TRANSCRIPT_MAX, events));
        } else {
            for event in events {
                self.send(event);
            }
        }
    }

    /// The transcription of a learner turn: its text or its failure now, or `None` when it went
    /// to the recognizer (its events come from [`Conversation::tick`] when it is done). A test's
    /// fault or queued text comes first; without a recognizer the text is a placeholder.
    fn transcription(
        &mut self,
        item_id: String,
        (started_ms, ended_ms): (u64, u64),
        sim: &Simulator,
    ) -> Option<Vec<ServerEvent>> {
        let speech_ms = ended_ms.saturating_sub(started_ms);
        let control = &sim.inner.control;
        if control
            .take_fault(|f| matches!(f, Fault::TranscriptionFails))
            .is_some()
        {
            return Some(vec![transcription_failed(
                item_id,
                "audio_unintelligible",
                "The audio could not be transcribed (fault injection).",
            )]);
        }
        let transcript = match (control.next_transcript(), sim.recognizer()) {
            (Some(queued), _) => queued,
            (None, Some(recognizer)) => {
                let audio = self.ears.span(
                    started_ms.saturating_sub(PREFIX_PADDING_MS),
                    ended_ms + TRANSCRIBED_TAIL_MS,
                );
                let prompt = audio_input(&self.session)
                    .and_then(|i| i.transcription.as_ref())
                    .and_then(|t| t.prompt.clone());
                self.hearing.push_back(Hearing {
                    item_id,
                    speech_ms,
                    answer: recognizer.transcribe(audio, prompt),
                });
                return None;
            }
            // The simulator cannot understand speech without its recognizer: it says so.
            (None, None) => format!(
                "(simulated transcript: {:.1} s of speech)",
                speech_ms as f64 / 1000.0
            ),
        };
        Some(self.transcribed(item_id, transcript, speech_ms))
    }

    /// A learner turn's transcript, as a delta and its completion.
    fn transcribed(
        &mut self,
        item_id: String,
        transcript: String,
        speech_ms: u64,
    ) -> Vec<ServerEvent> {
        vec![
            ServerEvent::InputTranscriptDelta {
                event_id: Some(new_id("event")),
                item_id: item_id.clone(),
                content_index: 0,
                delta: transcript.clone(),
            },
            ServerEvent::InputTranscriptCompleted {
                event_id: Some(new_id("event")),
                item_id,
                content_index: 0,
                transcript,
                usage: Some(serde_json::json!({"type": "duration",
                    "seconds": speech_ms as f64 / 1000.0})),
            },
        ]
    }

    /// Sends what the recognizer has finished, in the order the turns were committed (a turn
    /// waits for the one before it, as OpenAI's transcriptions of one session arrive in order).
    fn hear_back(&mut self) {
        while let Some(hearing) = self.hearing.front_mut() {
            let answer = match hearing.answer.try_recv() {
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => return,
                Ok(answer) => answer,
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    Err(RecognizeError::Crashed)
                }
            };
            let Some(Hearing {
                item_id, speech_ms, ..
            }) = self.hearing.pop_front()
            else {
                return;
            };
            let events = match answer {
                Ok(text) => self.transcribed(item_id, text, speech_ms),
                Err(error) => {
                    tracing::warn!(%error, "sim: a learner turn could not be transcribed");
                    let code = match error {
                        RecognizeError::TimedOut | RecognizeError::Busy => "transcription_timeout",
                        _ => "transcription_failed",
                    };
                    vec![transcription_failed(
                        item_id,
                        code,
                        "The audio could not be transcribed by the local recognizer.",
                    )]
                }
            };
            for event in events {
                self.send(event);
            }
        }
    }

    /// Sends a held-back transcription.
    fn release_late(&mut self) {
        if let Some((_, events)) = self.late.take() {
            for event in events {
                self.send(event);
            }
        }
    }

    /// A JSON message from the client on the data channel.
    pub(crate) fn client_event(&mut self, text: &str, now: Instant, sim: &Simulator) {
        // Checked as OpenAI checks it: its type, then every parameter by name.
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value @ serde_json::Value::Object(_)) => value,
            _ => {
                self.error(
                    "invalid_request_error",
                    "invalid_json",
                    "The event is not a JSON object.",
                );
                return;
            }
        };
        let kind = value["type"].as_str().unwrap_or_default();
        let Some(shape) = params::client_event(kind) else {
            self.error_with_param(
                "invalid_request_error",
                "invalid_value",
                &format!("Invalid value: '{kind}'. It is not a client event type."),
                "type",
            );
            return;
        };
        if let Err(refusal) = params::check(&value, &shape, "") {
            self.error_with_param(
                "invalid_request_error",
                refusal.code,
                &refusal.message,
                &refusal.param,
            );
            return;
        }
        if kind == "session.update" && value["session"].get("type").is_none() {
            self.error_with_param(
                "invalid_request_error",
                "missing_required_parameter",
                "Missing required parameter: 'session.type'.",
                "session.type",
            );
            return;
        }
        let event = match serde_json::from_value::<ClientEvent>(value.clone()) {
            Ok(event) => event,
            Err(error) => {
                self.error(
                    "invalid_request_error",
                    "unsupported_event",
                    &format!("The simulator does not take this event: {error}"),
                );
                return;
            }
        };
        match event {
            ClientEvent::SessionUpdate { session } => {
                if session.kind != SessionConfig::KIND {
                    self.error_with_param(
                        "invalid_request_error",
                        "invalid_value",
                        "Invalid value: 'transcription'. A realtime session stays 'realtime'.",
                        "session.type",
                    );
                    return;
                }
                // Only what the update gives changes.
                let mut merged = serde_json::to_value(&self.session).unwrap_or_default();
                params::merge(&mut merged, &value["session"]);
                match serde_json::from_value::<SessionConfig>(merged) {
                    Ok(session) => self.session = session,
                    Err(error) => {
                        self.error(
                            "invalid_request_error",
                            "invalid_value",
                            &format!("The session could not be read: {error}"),
                        );
                        return;
                    }
                }
                // A new voice detection from here on, its clock still the call's: the times of
                // later turns count from the call's first audio, as OpenAI's do.
                let position_ms = self.vad.position_ms;
                self.vad = Vad::new(silence_ms(&self.session));
                self.vad.position_ms = position_ms;
                let session = self.session_json();
                self.send(ServerEvent::SessionUpdated {
                    event_id: Some(new_id("event")),
                    session,
                });
            }
            ClientEvent::ResponseCreate { .. } => {
                if self.active_response().is_none() {
                    self.start_reply(now, sim);
                } else {
                    let message = format!(
                        "Conversation already has an active response in progress: {}. Wait \
                         until the response is finished before creating a new one.",
                        self.active_response().unwrap_or_default()
                    );
                    self.error(
                        "invalid_request_error",
                        "conversation_already_has_active_response",
                        &message,
                    );
                }
            }
            ClientEvent::ResponseCancel => {
                if self.active_response().is_some() {
                    self.cancel_response("client_cancelled");
                } else {
                    self.error(
                        "invalid_request_error",
                        "response_cancel_not_active",
                        "Cancellation failed: no active response found",
                    );
                }
            }
            // Stops the audio playing; a response being made goes on (OpenAI: cancel it first).
            ClientEvent::OutputAudioClear => self.clear_audio(),
            ClientEvent::ItemCreate { item, .. } => {
                if let Some(id) = item.id.as_deref()
                    && id.len() > MAX_CLIENT_ITEM_ID
                {
                    self.error_with_param(
                        "invalid_request_error",
                        "string_above_max_length",
                        &format!(
                            "Invalid 'item.id': string too long. Expected a string with maximum \
                             length {MAX_CLIENT_ITEM_ID}, but got a string with length {} instead.",
                            id.len()
                        ),
                        "item.id",
                    );
                    return;
                }
                let text = item
                    .content
                    .iter()
                    .find_map(|c| c.text.clone().or_else(|| c.transcript.clone()))
                    .unwrap_or_default();
                self.history.push((item.role.clone(), text));
                let mut item = item;
                let id = item.id.clone().unwrap_or_else(|| new_id("item"));
                item.id = Some(id.clone());
                let previous = self.last_item_id.replace(id.clone());
                self.items.push(id);
                self.send(ServerEvent::ItemAdded {
                    event_id: Some(new_id("event")),
                    item: item.clone(),
                    previous_item_id: previous.clone(),
                });
                self.send(ServerEvent::ItemDone {
                    event_id: Some(new_id("event")),
                    item,
                    previous_item_id: previous,
                });
            }
            ClientEvent::InputAudioCommit => match self.pending_span.take() {
                Some((start, end)) => {
                    let end = if self.vad.is_speaking() {
                        self.vad.position_ms
                    } else {
                        end
                    };
                    self.commit_learner_turn(new_id("item"), (start, end.max(start)), now, sim);
                }
                None => self.error(
                    "invalid_request_error",
                    "input_audio_buffer_commit_empty",
                    "The input audio buffer is empty.",
                ),
            },
            ClientEvent::InputAudioClear => self.pending_span = None,
        }
    }

    fn error(&mut self, kind: &str, code: &str, message: &str) {
        self.send(ServerEvent::Error {
            event_id: Some(new_id("event")),
            error: ErrorDetail {
                kind: kind.into(),
                code: Some(code.into()),
                message: message.into(),
                param: None,
            },
        });
    }

    fn error_with_param(&mut self, kind: &str, code: &str, message: &str, param: &str) {
        self.send(ServerEvent::Error {
            event_id: Some(new_id("event")),
            error: ErrorDetail {
                kind: kind.into(),
                code: Some(code.into()),
                message: message.into(),
                param: Some(param.into()),
            },
        });
    }

    fn reply_text(&mut self) -> String {
        let coach_spoke = self.history.iter().any(|(role, _)| role == "assistant");
        let learner_spoke = self.history.iter().any(|(role, _)| role == "user");
        if !coach_spoke && !learner_spoke {
            return match topic(self.session.instructions.as_deref()) {
                Some(topic) => format!(
                    "Hi! I'm your speaking coach. Today we're practising {topic}. Are you ready? Tell me how you'd like to begin."
                ),
                None => {
                    "Hi! I'm your speaking coach. What would you like to talk about today?".into()
                }
            };
        }
        // A note from the client (e.g. "the call dropped, carry on") is not a turn.
        let last_turn = self.history.iter().rev().find(|(role, _)| role != "system");
        if matches!(last_turn, Some((role, _)) if role == "assistant") {
            return "Let's carry on where we left off. What would you like to say next?".into();
        }
        let text = FOLLOW_UPS[self.follow_ups % FOLLOW_UPS.len()].to_owned();
        self.follow_ups += 1;
        text
    }

    fn start_reply(&mut self, now: Instant, sim: &Simulator) {
        let response_id = new_id("resp");
        let ending =
            match sim.inner.control.take_fault(|f| {
                matches!(f, Fault::ResponseFails { .. } | Fault::ResponseIncomplete)
            }) {
                Some(Fault::ResponseFails { code }) => Ending::Failed(code),
                Some(Fault::ResponseIncomplete) => Ending::Incomplete,
                _ => Ending::Completed,
            };
        self.send(ServerEvent::ResponseCreated {
            event_id: Some(new_id("event")),
            response: response(&response_id, ResponseStatus::InProgress, None, Vec::new()),
        });
        // "Emitted at the beginning of a Response."
        self.send(ServerEvent::RateLimitsUpdated {
            event_id: Some(new_id("event")),
            rate_limits: vec![
                serde_json::json!({"name": "requests", "limit": 20_000, "remaining": 19_999, "reset_seconds": 0.003}),
                serde_json::json!({"name": "tokens", "limit": 4_000_000, "remaining": 3_999_000, "reset_seconds": 0.015}),
            ],
        });
        if let Ending::Failed(code) = ending {
            let (kind, message) = if code == "insufficient_quota" {
                (
                    "insufficient_quota",
                    "You exceeded your current quota, please check your plan and billing details.",
                )
            } else {
                (
                    "server_error",
                    "The server had an error while processing your request.",
                )
            };
            let details = serde_json::json!({"type": "failed",
                "error": {"type": kind, "code": code, "message": message}});
            self.send(ServerEvent::ResponseDone {
                event_id: Some(new_id("event")),
                response: response(
                    &response_id,
                    ResponseStatus::Failed,
                    Some(details),
                    Vec::new(),
                ),
            });
            return;
        }
        let text = self.reply_text();
        let (sender, voice) = mpsc::channel();
        let spoken = text.clone();
        tokio::task::spawn_blocking(move || {
            let _ = sender.send(speech::synthesize(&spoken));
        });
        self.reply = Reply::Preparing {
            response_id,
            text,
            ready_at: now + self.reply_latency,
            voice,
            ending,
        };
    }

    /// The learner spoke over the coach: a response being made is cancelled, and the audio
    /// playing is cleared, its item truncated where it was cut.
    fn barge_in(&mut self) {
        let active = self.active_response().is_some();
        self.clear_audio();
        if active {
            self.cancel_response("turn_detected");
        }
    }

    /// `response.cancel`: the response stops being made (`response.done`, cancelled); what
    /// audio it made already still plays.
    fn cancel_response(&mut self, reason: &str) {
        match std::mem::replace(&mut self.reply, Reply::Idle) {
            Reply::Idle => {}
            Reply::Preparing { response_id, .. } => {
                let details = serde_json::json!({"type": "cancelled", "reason": reason});
                self.send(ServerEvent::ResponseDone {
                    event_id: Some(new_id("event")),
                    response: response(
                        &response_id,
                        ResponseStatus::Cancelled,
                        Some(details),
                        Vec::new(),
                    ),
                });
            }
            Reply::Speaking(mut speaking) => {
                if !speaking.done {
                    speaking.end_packet = speaking.packets_made();
                    let details = serde_json::json!({"type": "cancelled", "reason": reason});
                    self.finish_response(&mut speaking, ResponseStatus::Cancelled, Some(details));
                }
                self.reply = Reply::Speaking(speaking);
            }
        }
    }

    /// `output_audio_buffer.clear` (or a barge-in): the audio made and not yet played is dropped
    /// and the assistant item truncated at what played.
    fn clear_audio(&mut self) {
        let Reply::Speaking(speaking) = &mut self.reply else {
            return;
        };
        if speaking.played == 0 && speaking.next_packet >= speaking.end_packet {
            return;
        }
        let (response_id, item_id) = (speaking.response_id.clone(), speaking.item_id.clone());
        let audio_end_ms = speaking.played as u64 * 20;
        let made = speaking.packets_made();
        speaking.next_packet = made.max(speaking.next_packet);
        speaking.cleared = true;
        let finished = speaking.done;
        self.audio.clear();
        if finished {
            self.reply = Reply::Idle;
        }
        self.send(ServerEvent::OutputAudioCleared {
            event_id: Some(new_id("event")),
            response_id,
        });
        self.send(ServerEvent::ItemTruncated {
            event_id: Some(new_id("event")),
            item_id,
            content_index: 0,
            audio_end_ms,
        });
    }

    /// The end of a response being made: the done events of its part, item and response, in
    /// OpenAI's order.
    fn finish_response(
        &mut self,
        speaking: &mut Speaking,
        status: ResponseStatus,
        details: Option<serde_json::Value>,
    ) {
        speaking.done = true;
        let (response_id, item_id) = (speaking.response_id.clone(), speaking.item_id.clone());
        let transcript = speaking.text_made();
        let item_status = if status == ResponseStatus::Completed {
            "completed"
        } else {
            "incomplete"
        };
        self.history.push(("assistant".into(), transcript.clone()));
        self.send(ServerEvent::OutputAudioDone {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
            item_id: item_id.clone(),
            output_index: 0,
            content_index: 0,
        });
        self.send(ServerEvent::OutputTranscriptDone {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
            item_id: item_id.clone(),
            output_index: 0,
            content_index: 0,
            transcript: transcript.clone(),
        });
        self.send(ServerEvent::ContentPartDone {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
            item_id: item_id.clone(),
            output_index: 0,
            content_index: 0,
            part: serde_json::json!({"type": "audio", "transcript": transcript}),
        });
        let item = assistant_item(&item_id, &transcript, item_status);
        self.send(ServerEvent::OutputItemDone {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
            output_index: 0,
            item: item.clone(),
        });
        let previous = self.previous_of(&item_id);
        self.send(ServerEvent::ItemDone {
            event_id: Some(new_id("event")),
            item: item.clone(),
            previous_item_id: previous,
        });
        self.send(ServerEvent::ResponseDone {
            event_id: Some(new_id("event")),
            response: response(&response_id, status, details, vec![item]),
        });
    }

    /// The item before `item_id` in the conversation.
    fn previous_of(&self, item_id: &str) -> Option<String> {
        let at = self.items.iter().position(|id| id == item_id)?;
        at.checked_sub(1).map(|before| self.items[before].clone())
    }

    /// Every 20 ms: start a prepared reply when due; make its text and audio ahead of playing,
    /// play one packet; the done events when it is made, `stopped` when it has played.
    pub(crate) fn tick(&mut self, now: Instant) {
        self.hear_back();
        if self.late.as_ref().is_some_and(|(due, _)| now >= *due) {
            self.release_late();
        }
        match &mut self.reply {
            Reply::Idle => {}
            Reply::Preparing {
                ready_at, voice, ..
            } => {
                if now < *ready_at {
                    return;
                }
                let Ok(result) = voice.try_recv() else {
                    return;
                };
                let Reply::Preparing {
                    response_id,
                    text,
                    ending,
                    ..
                } = std::mem::replace(&mut self.reply, Reply::Idle)
                else {
                    return;
                };
                let packets = match result {
                    Ok(voice) => voice.packets,
                    Err(error) => {
                        tracing::error!(%error, "sim: the coach's voice could not be rendered");
                        Vec::new()
                    }
                };
                self.start_speaking(response_id, text, packets, ending, now);
            }
            Reply::Speaking(_) => self.speak(),
        }
    }

    fn start_speaking(
        &mut self,
        response_id: String,
        text: String,
        packets: Vec<Vec<u8>>,
        ending: Ending,
        now: Instant,
    ) {
        let item_id = new_id("item");
        let item = assistant_item(&item_id, "", "in_progress");
        self.send(ServerEvent::OutputItemAdded {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
            output_index: 0,
            item: Item {
                content: Vec::new(),
                ..item.clone()
            },
        });
        let previous = self.last_item_id.replace(item_id.clone());
        self.items.push(item_id.clone());
        // The learner spoke, whenever (and whether) the words come: the reply answers them.
        self.history.push(("user".into(), String::new()));
        self.send(ServerEvent::ItemAdded {
            event_id: Some(new_id("event")),
            item: Item {
                content: Vec::new(),
                ..item
            },
            previous_item_id: previous,
        });
        self.send(ServerEvent::ContentPartAdded {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
            item_id: item_id.clone(),
            output_index: 0,
            content_index: 0,
            part: serde_json::json!({"type": "audio", "transcript": ""}),
        });
        self.send(ServerEvent::OutputAudioStarted {
            event_id: Some(new_id("event")),
            response_id: response_id.clone(),
        });
        // A transcription held back lands a moment after the reply has begun.
        if let Some((due, _)) = &mut self.late {
            *due = (*due).min(now + LATE_AFTER_REPLY);
        }
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let words_limit = match ending {
            Ending::Incomplete => words.len() / 2,
            _ => words.len(),
        };
        let end_packet = (packets.len() * words_limit).div_ceil(words.len().max(1));
        self.reply = Reply::Speaking(Speaking {
            response_id,
            item_id,
            words,
            words_made: 0,
            words_limit,
            done: false,
            cleared: false,
            packets,
            next_packet: 0,
            played: 0,
            end_packet,
        });
        // The first words and the first 20 ms of voice go out now: the reply latency is the
        // whole wait for the first audio, not one frame less.
        self.speak();
    }

    fn speak(&mut self) {
        let Reply::Speaking(mut speaking) = std::mem::replace(&mut self.reply, Reply::Idle) else {
            return;
        };
        if !speaking.done {
            let made = (speaking.words_made + WORDS_MADE_PER_TICK).min(speaking.words_limit);
            for at in speaking.words_made..made {
                let prefix = if at == 0 { "" } else { " " };
                self.send(ServerEvent::OutputTranscriptDelta {
                    event_id: Some(new_id("event")),
                    response_id: speaking.response_id.clone(),
                    item_id: speaking.item_id.clone(),
                    output_index: 0,
                    content_index: 0,
                    delta: format!("{prefix}{}", speaking.words[at]),
                });
            }
            speaking.words_made = made;
            if made == speaking.words_limit {
                let (status, details) = if speaking.words_limit < speaking.words.len() {
                    (
                        ResponseStatus::Incomplete,
                        Some(
                            serde_json::json!({"type": "incomplete", "reason": "max_output_tokens"}),
                        ),
                    )
                } else {
                    (ResponseStatus::Completed, None)
                };
                self.finish_response(&mut speaking, status, details);
            }
        }
        if speaking.next_packet < speaking.end_packet.min(speaking.packets_made()) {
            self.audio
                .push_back(speaking.packets[speaking.next_packet].clone());
            speaking.next_packet += 1;
            speaking.played += 1;
            speaking.cleared = false;
        }
        if speaking.done && speaking.next_packet >= speaking.end_packet {
            // Audio cleared is not also stopped.
            if !speaking.cleared {
                self.send(ServerEvent::OutputAudioStopped {
                    event_id: Some(new_id("event")),
                    response_id: speaking.response_id.clone(),
                });
            }
            return;
        }
        self.reply = Reply::Speaking(speaking);
    }
}

/// A response as `response.created` and `response.done` carry it.
fn response(
    id: &str,
    status: ResponseStatus,
    status_details: Option<serde_json::Value>,
    output: Vec<Item>,
) -> Response {
    Response {
        id: id.to_owned(),
        status: Some(status),
        status_details,
        object: Some("realtime.response".into()),
        output: Some(output),
        conversation_id: Some("conv_sim".into()),
        output_modalities: Some(vec!["audio".into()]),
    }
}

/// A learner turn with the recognizer: its answer comes when it is done.
struct Hearing {
    item_id: String,
    speech_ms: u64,
    answer: tokio::sync::oneshot::Receiver<Result<String, RecognizeError>>,
}

fn transcription_failed(item_id: String, code: &str, message: &str) -> ServerEvent {
    ServerEvent::InputTranscriptFailed {
        event_id: Some(new_id("event")),
        item_id,
        content_index: 0,
        error: ErrorDetail {
            kind: "transcription_error".into(),
            code: Some(code.into()),
            message: message.into(),
            param: None,
        },
    }
}

fn assistant_item(item_id: &str, transcript: &str, status: &str) -> Item {
    Item {
        id: Some(item_id.to_owned()),
        kind: "message".into(),
        role: "assistant".into(),
        content: vec![Content {
            kind: "output_audio".into(),
            text: None,
            transcript: Some(transcript.to_owned()),
        }],
        status: Some(status.to_owned()),
    }
}

fn audio_input(session: &SessionConfig) -> Option<&realtime_protocol::session::AudioInput> {
    session.audio.as_ref().and_then(|a| a.input.as_ref())
}

fn turn_detection(session: &SessionConfig) -> Option<realtime_protocol::session::TurnDetection> {
    audio_input(session)
        .and_then(|i| i.turn_detection.clone())
        .flatten()
}

fn silence_ms(session: &SessionConfig) -> u64 {
    turn_detection(session)
        .and_then(|t| t.silence_duration_ms)
        .map_or(500, u64::from)
}

/// The topic named in the instructions (a line `Topic: …`), if any.
fn topic(instructions: Option<&str>) -> Option<String> {
    instructions?
        .lines()
        .find_map(|line| line.trim().strip_prefix("Topic:"))
        .map(|topic| topic.trim().trim_end_matches('.').to_owned())
        .filter(|topic| !topic.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topic_comes_from_the_instructions() {
        assert_eq!(
            topic(Some(
                "You are a coach.\nTopic: Ordering at a café.\nLevel: A2"
            )),
            Some("Ordering at a café".into())
        );
        assert_eq!(topic(Some("No topic here")), None);
        assert_eq!(topic(None), None);
    }
}

#[cfg(test)]
pub(crate) mod conversation_tests {
    use super::*;
    use crate::{DEV_API_KEY, SimConfig};

    fn sim() -> Simulator {
        Simulator::new(SimConfig {
            api_key: DEV_API_KEY.to_owned().into(),
            reply_latency: Duration::from_millis(0),
            recognizer: None,
        })
    }

    fn session(ptt: bool) -> SessionConfig {
        let mut json = serde_json::json!({
            "type": "realtime",
            "instructions": "Coach.\nTopic: Planning a weekend.\n",
        });
        if ptt {
            json["audio"] = serde_json::json!({"input": {"turn_detection": null}});
        }
        serde_json::from_value(json).unwrap()
    }

    pub(crate) struct Harness {
        pub(crate) conversation: Conversation,
        pub(crate) sim: Simulator,
        now: Instant,
        pub(crate) events: Vec<ServerEvent>,
        /// Every event as sent, JSON.
        pub(crate) sent: Vec<serde_json::Value>,
        audio_packets: usize,
    }

    impl Harness {
        pub(crate) fn new(ptt: bool) -> Self {
            let mut conversation = Conversation::new("sess_1".into(), session(ptt), Duration::ZERO);
            conversation.channel_opened();
            let mut harness = Harness {
                conversation,
                sim: sim(),
                now: Instant::now(),
                events: Vec::new(),
                sent: Vec::new(),
                audio_packets: 0,
            };
            harness.drain();
            harness
        }

        pub(crate) fn drain(&mut self) {
            while let Some(text) = self.conversation.next_event() {
                self.events.push(ServerEvent::from_json(&text).unwrap());
                self.sent.push(serde_json::from_str(&text).unwrap());
            }
            while self.conversation.next_audio().is_some() {
                self.audio_packets += 1;
            }
        }

        pub(crate) fn types(&self) -> Vec<&str> {
            self.sent
                .iter()
                .map(|event| event["type"].as_str().unwrap_or_default())
                .collect()
        }

        /// The types since the `n`th event, transcript deltas left out.
        fn types_from(&self, n: usize) -> Vec<&str> {
            self.types()[n..]
                .iter()
                .copied()
                .filter(|t| !t.ends_with("transcript.delta"))
                .collect()
        }

        pub(crate) fn client(&mut self, event: serde_json::Value) {
            self.conversation
                .client_event(&event.to_string(), self.now, &self.sim);
            self.drain();
        }

        /// `ms` of audio at `amplitude` (0 = silence), as 20 ms frames from the microphone, with
        /// the clock running.
        pub(crate) fn hear(&mut self, ms: u64, amplitude: f32) {
            for frame in 0..ms / 20 {
                let pcm: Vec<f32> = (0..speech::FRAME_SAMPLES)
                    .map(|i| {
                        let t = (frame as usize * speech::FRAME_SAMPLES + i) as f32 / 48_000.0;
                        amplitude * (t * 2.0 * std::f32::consts::PI * 200.0).sin()
                    })
                    .collect();
                self.now += Duration::from_millis(20);
                self.conversation.hear(&pcm, self.now, &self.sim);
                self.conversation.tick(self.now);
                self.drain();
            }
        }

        /// Runs the 20 ms clock until `until` is among the events (the voice renders for real).
        pub(crate) async fn run_until(&mut self, until: &str) {
            for _ in 0..5000 {
                if self.types().contains(&until) {
                    return;
                }
                self.now += Duration::from_millis(20);
                self.conversation.tick(self.now);
                self.drain();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            panic!("never saw {until}: {:?}", self.types());
        }

        /// Runs the clock `ticks` times.
        pub(crate) fn run(&mut self, ticks: usize) {
            for _ in 0..ticks {
                self.now += Duration::from_millis(20);
                self.conversation.tick(self.now);
                self.drain();
            }
        }

        fn position(&self, kind: &str) -> usize {
            self.types()
                .iter()
                .position(|t| *t == kind)
                .unwrap_or_else(|| panic!("no {kind}: {:?}", self.types()))
        }
    }

    const ONE_REPLY: [&str; 13] = [
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "output_audio_buffer.started",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "output_audio_buffer.stopped",
    ];

    #[tokio::test]
    async fn a_reply_comes_in_openai_order_its_text_well_ahead_of_its_audio() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("output_audio_buffer.stopped").await;
        assert_eq!(h.types_from(1), ONE_REPLY);
        let deltas: String = h
            .events
            .iter()
            .filter_map(|e| match e {
                ServerEvent::OutputTranscriptDelta { delta, .. } => Some(delta.clone()),
                _ => None,
            })
            .collect();
        let done = h.events.iter().find_map(|e| match e {
            ServerEvent::OutputTranscriptDone { transcript, .. } => Some(transcript.clone()),
            _ => None,
        });
        assert_eq!(Some(deltas), done);
        assert!(done.unwrap().contains("Planning a weekend"));
        assert!(h.audio_packets > 50, "{} packets of voice", h.audio_packets);
        // The whole text (and the response) is done long before the audio has played.
        let played_at_done = {
            let mut h2 = Harness::new(false);
            h2.client(serde_json::json!({"type": "response.create"}));
            h2.run_until("response.done").await;
            h2.audio_packets
        };
        assert!(
            played_at_done * 4 < h.audio_packets,
            "{played_at_done} of {} packets played when the text was done",
            h.audio_packets
        );
    }

    #[tokio::test]
    async fn the_first_audio_leaves_as_the_reply_starts_not_a_frame_later() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("output_audio_buffer.started").await;
        assert_eq!(
            h.audio_packets, 1,
            "the first 20 ms of voice goes with output_audio_buffer.started"
        );
        assert!(
            h.types()
                .contains(&"response.output_audio_transcript.delta"),
            "and the first words: {:?}",
            h.types()
        );
    }

    #[tokio::test]
    async fn server_vad_turns_carry_their_timing_and_get_a_reply() {
        let mut h = Harness::new(false);
        h.hear(500, 0.0);
        h.hear(1000, 0.3);
        h.hear(700, 0.0);
        assert_eq!(
            &h.types()[..9],
            [
                "session.created",
                "input_audio_buffer.speech_started",
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.added",
                "conversation.item.done",
                "conversation.item.input_audio_transcription.delta",
                "conversation.item.input_audio_transcription.completed",
                "response.created",
            ]
        );
        assert!(matches!(
            h.events[1],
            // Speech from 500 ms, less OpenAI's 300 ms prefix padding...
            ServerEvent::SpeechStarted {
                audio_start_ms: 200,
                ..
            }
        ));
        assert!(matches!(
            h.events[2],
            // ...to 1500 ms, plus the 500 ms of silence that ended it.
            ServerEvent::SpeechStopped {
                audio_end_ms: 2000,
                ..
            }
        ));
        assert!(
            matches!(&h.events[7], ServerEvent::InputTranscriptCompleted { transcript, .. }
            if transcript == "(simulated transcript: 1.0 s of speech)")
        );
    }

    #[tokio::test]
    async fn a_session_update_keeps_the_calls_audio_clock() {
        let mut h = Harness::new(false);
        h.hear(1000, 0.0);
        h.client(serde_json::json!({
            "type": "session.update",
            "session": {"type": "realtime", "instructions": "Talk about the weather."},
        }));
        h.hear(1000, 0.3);
        h.hear(700, 0.0);
        let started = h.events.iter().find_map(|e| match e {
            ServerEvent::SpeechStarted { audio_start_ms, .. } => Some(*audio_start_ms),
            _ => None,
        });
        // Speech from 1000 ms into the call, less the 300 ms prefix padding.
        assert_eq!(started, Some(700));
    }

    #[tokio::test]
    async fn queued_transcripts_and_transcription_faults_apply_to_the_next_turns() {
        let mut h = Harness::new(true);
        h.sim.queue_transcript("We could go hiking.");
        h.sim.queue_fault(Fault::TranscriptionFails);
        h.hear(600, 0.3);
        h.hear(600, 0.0);
        h.client(serde_json::json!({"type": "input_audio_buffer.commit"}));
        assert!(
            h.types()
                .contains(&"conversation.item.input_audio_transcription.failed"),
            "{:?}",
            h.types()
        );
        h.hear(600, 0.3);
        h.hear(600, 0.0);
        h.client(serde_json::json!({"type": "input_audio_buffer.commit"}));
        let completed: Vec<&str> = h
            .events
            .iter()
            .filter_map(|e| match e {
                ServerEvent::InputTranscriptCompleted { transcript, .. } => {
                    Some(transcript.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(completed, ["We could go hiking."]);
    }

    #[tokio::test]
    async fn a_recognized_turn_is_its_own_audio_and_comes_when_ready_queued_words_first() {
        let mut h = Harness::new(false);
        h.sim = Simulator::new(SimConfig {
            api_key: DEV_API_KEY.to_owned().into(),
            reply_latency: Duration::from_millis(0),
            recognizer: Some(crate::recognizer::testing::fake()),
        });
        h.sim.queue_transcript("Queued words.");
        h.hear(500, 0.0);
        h.hear(1000, 0.3);
        h.hear(700, 0.0);
        // The second turn: from 2200 to 3200 ms.
        h.hear(1000, 0.3);
        h.hear(700, 0.0);
        let completed = |h: &Harness| -> Vec<String> {
            h.events
                .iter()
                .filter_map(|e| match e {
                    ServerEvent::InputTranscriptCompleted { transcript, .. } => {
                        Some(transcript.clone())
                    }
                    _ => None,
                })
                .collect()
        };
        for _ in 0..500 {
            if completed(&h).len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            h.run(1);
        }
        // The stand-in answers with the number of samples it heard: the turn less its 300 ms of
        // prefix padding to 300 ms after it, at 16 kHz.
        assert_eq!(
            completed(&h),
            [
                "Queued words.",
                &format!("{} samples", (1000 + 300 + 300) * 16)
            ]
        );
        // It came when the recognizer was done: after the coach's reply to it had begun.
        let replies: Vec<usize> = h
            .types()
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == "response.created")
            .map(|(i, _)| i)
            .collect();
        let last_completed = h
            .types()
            .iter()
            .rposition(|t| *t == "conversation.item.input_audio_transcription.completed")
            .unwrap();
        assert!(
            replies.len() >= 2 && replies[1] < last_completed,
            "{:?}",
            h.types()
        );
        assert_eq!(h.sim.counters().recognized, 1);
        // The reply answered the learner although their words came after it began.
        h.run_until("output_audio_buffer.stopped").await;
        let said: String = h
            .events
            .iter()
            .filter_map(|e| match e {
                ServerEvent::OutputTranscriptDelta { delta, .. } => Some(delta.as_str()),
                _ => None,
            })
            .collect();
        assert!(!said.contains("carry on"), "{said}");
    }

    #[tokio::test]
    async fn a_late_transcription_lands_after_the_reply_began() {
        let mut h = Harness::new(false);
        h.sim.queue_transcript("We could go hiking.");
        h.sim.queue_fault(Fault::TranscriptionLate);
        h.hear(600, 0.3);
        h.hear(600, 0.0);
        assert!(
            !h.types()
                .contains(&"conversation.item.input_audio_transcription.completed")
        );
        h.run_until("conversation.item.input_audio_transcription.completed")
            .await;
        assert!(
            h.position("output_audio_buffer.started")
                < h.position("conversation.item.input_audio_transcription.completed")
        );
    }

    #[tokio::test]
    async fn talking_over_the_coach_clears_its_audio_and_truncates_its_item() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("response.done").await;
        h.run(40);
        let before = h.types().len();
        h.hear(200, 0.3);
        assert_eq!(
            h.types_from(before),
            [
                "input_audio_buffer.speech_started",
                "output_audio_buffer.cleared",
                "conversation.item.truncated",
            ],
            "the response was done: nothing to cancel"
        );
        let truncated = h
            .sent
            .iter()
            .find(|e| e["type"] == "conversation.item.truncated");
        let played = truncated.unwrap()["audio_end_ms"].as_u64().unwrap();
        assert!((800..=1_300).contains(&played), "{played} ms played");
        h.run(100);
        assert!(!h.types().contains(&"output_audio_buffer.stopped"));
    }

    #[tokio::test]
    async fn talking_over_a_reply_being_made_cancels_it() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("response.output_audio_transcript.delta").await;
        let before = h.types().len();
        h.hear(20, 0.3);
        h.hear(200, 0.3);
        let types = h.types_from(before);
        assert_eq!(
            types[..3],
            [
                "input_audio_buffer.speech_started",
                "output_audio_buffer.cleared",
                "conversation.item.truncated"
            ]
        );
        assert!(
            h.events
                .iter()
                .any(|e| matches!(e, ServerEvent::ResponseDone { response, .. }
                if response.status == Some(ResponseStatus::Cancelled))),
            "{types:?}"
        );
        assert!(
            h.events
                .iter()
                .any(|e| matches!(e, ServerEvent::ItemDone { item, .. }
            if item.status.as_deref() == Some("incomplete")))
        );
        h.run(200);
        assert!(
            !h.types().contains(&"output_audio_buffer.stopped"),
            "audio cleared is not also stopped"
        );
    }

    #[tokio::test]
    async fn cancel_and_clear_are_separate_and_checked() {
        let mut h = Harness::new(true);
        h.client(serde_json::json!({"type": "response.cancel"}));
        assert!(
            matches!(h.events.last(), Some(ServerEvent::Error { error, .. })
            if error.code.as_deref() == Some("response_cancel_not_active"))
        );
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("response.done").await;
        // Done being made, still playing: clearing stops the audio, nothing is cancelled.
        h.run(10);
        let before = h.types().len();
        h.client(serde_json::json!({"type": "output_audio_buffer.clear"}));
        assert_eq!(
            h.types_from(before),
            ["output_audio_buffer.cleared", "conversation.item.truncated"]
        );
        h.client(serde_json::json!({"type": "response.cancel"}));
        assert_eq!(h.types().last(), Some(&"error"));
    }

    #[tokio::test]
    async fn failed_and_incomplete_responses_on_request() {
        let mut h = Harness::new(true);
        h.sim.queue_fault(Fault::ResponseFails {
            code: "insufficient_quota".into(),
        });
        h.client(serde_json::json!({"type": "response.create"}));
        let done = h.sent.last().unwrap();
        assert_eq!(done["type"], "response.done");
        assert_eq!(done["response"]["status"], "failed");
        assert_eq!(
            done["response"]["status_details"]["error"]["code"],
            "insufficient_quota"
        );
        h.sim.queue_fault(Fault::ResponseIncomplete);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("output_audio_buffer.stopped").await;
        let done = h
            .sent
            .iter()
            .rfind(|e| e["type"] == "response.done")
            .unwrap();
        assert_eq!(done["response"]["status"], "incomplete");
        assert_eq!(
            done["response"]["status_details"]["reason"],
            "max_output_tokens"
        );
    }

    #[tokio::test]
    async fn push_to_talk_waits_for_commit_and_response_create() {
        let mut h = Harness::new(true);
        h.client(serde_json::json!({"type": "input_audio_buffer.commit"}));
        assert!(
            matches!(h.events.last(), Some(ServerEvent::Error { error, .. })
            if error.code.as_deref() == Some("input_audio_buffer_commit_empty"))
        );
        h.hear(800, 0.3);
        h.hear(800, 0.0);
        assert_eq!(
            h.types(),
            ["session.created", "error"],
            "no server VAD events"
        );
        h.client(serde_json::json!({"type": "input_audio_buffer.commit"}));
        assert_eq!(
            &h.types()[2..],
            [
                "input_audio_buffer.committed",
                "conversation.item.added",
                "conversation.item.done",
                "conversation.item.input_audio_transcription.delta",
                "conversation.item.input_audio_transcription.completed"
            ]
        );
        h.client(serde_json::json!({"type": "response.create"}));
        assert_eq!(&h.types()[7..], ["response.created", "rate_limits.updated"]);
        h.client(serde_json::json!({"type": "response.create"}));
        assert!(
            matches!(h.events.last(), Some(ServerEvent::Error { error, .. })
            if error.code.as_deref() == Some("conversation_already_has_active_response"))
        );
    }

    #[tokio::test]
    async fn replayed_items_continue_the_conversation_without_a_new_greeting() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "conversation.item.create",
            "item": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi! Ready?"}]}}));
        h.client(serde_json::json!({"type": "conversation.item.create",
            "item": {"id": "item_0123456789abcdefghijkl", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Yes, let's plan."}]}}));
        let previous: Vec<Option<String>> = h
            .events
            .iter()
            .filter_map(|e| match e {
                ServerEvent::ItemAdded {
                    previous_item_id, ..
                } => Some(previous_item_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(previous.len(), 2);
        assert!(
            previous[0].is_none() && previous[1].is_some(),
            "items are chained"
        );
        // OpenAI's limit on a client's item id.
        let long = format!("item_{}", "a".repeat(28));
        h.client(serde_json::json!({"type": "conversation.item.create",
            "item": {"id": long, "type": "message", "role": "user", "content": [{"type": "input_text", "text": "No."}]}}));
        let error = h.sent.last().unwrap();
        assert_eq!(error["error"]["code"], "string_above_max_length");
        assert_eq!(error["error"]["param"], "item.id");
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("response.output_audio_transcript.done").await;
        let reply = h.events.iter().find_map(|e| match e {
            ServerEvent::OutputTranscriptDone { transcript, .. } => Some(transcript.clone()),
            _ => None,
        });
        assert!(
            !reply.unwrap().starts_with("Hi!"),
            "the coach does not greet again"
        );
    }

    #[tokio::test]
    async fn session_update_and_expiry() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "session.update", "session": {"type": "realtime", "instructions": "New."}}));
        assert!(
            matches!(h.events.last(), Some(ServerEvent::SessionUpdated { session, .. })
            if session["instructions"] == "New." && session["id"] == "sess_1")
        );
        h.client(
            serde_json::json!({"type": "session.update", "session": {"type": "transcription"}}),
        );
        assert_eq!(h.types().last(), Some(&"error"));
        h.client(serde_json::json!({"type": "no.such.event"}));
        assert_eq!(h.types().last(), Some(&"error"));

        h.conversation.session_expired();
        assert!(!h.conversation.wants_close(), "the error is sent first");
        h.drain();
        assert!(
            matches!(h.events.last(), Some(ServerEvent::Error { error, .. })
            if error.code.as_deref() == Some("session_expired"))
        );
        assert!(h.conversation.wants_close());
    }
}
