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
    new_id,
    speech::{self, Vad, VadEvent, Voice},
};

enum Reply {
    Idle,
    /// Decided and announced (`response.created`); the voice is being rendered.
    Preparing {
        response_id: String,
        item_id: String,
        text: String,
        ready_at: Instant,
        voice: mpsc::Receiver<Result<Voice, speech::SpeechError>>,
    },
    Speaking {
        response_id: String,
        item_id: String,
        words: Vec<String>,
        packets: VecDeque<Vec<u8>>,
        total_packets: usize,
        words_sent: usize,
    },
}

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
            },
        });
        self.close_when_drained = true;
    }

    fn server_vad(&self) -> bool {
        !matches!(
            self.session
                .audio
                .as_ref()
                .and_then(|a| a.input.as_ref())
                .and_then(|i| i.turn_detection.as_ref()),
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
            // The learner talking over the coach stops the coach (barge-in).
            self.cancel_reply("turn_detected");
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
        self.commit_learner_turn(item_id, ended_ms - started_ms, sim);
        let auto_reply = self
            .session
            .audio
            .as_ref()
            .and_then(|a| a.input.as_ref())
            .and_then(|i| i.turn_detection.clone())
            .flatten()
            .and_then(|t| t.create_response)
            .unwrap_or(true);
        if auto_reply {
            self.start_reply(now);
        }
    }

    /// `input_audio_buffer.committed`, the user item, then its transcription.
    fn commit_learner_turn(&mut self, item_id: String, speech_ms: u64, sim: &Simulator) {
        let previous = self.last_item_id.replace(item_id.clone());
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
        if control
            .take_fault(|f| matches!(f, Fault::TranscriptionFails))
            .is_some()
        {
            self.send(ServerEvent::InputTranscriptFailed {
                event_id: Some(new_id("event")),
                item_id,
                error: ErrorDetail {
                    kind: "transcription_error".into(),
                    code: Some("audio_unintelligible".into()),
                    message: "The audio could not be transcribed (fault injection).".into(),
                },
            });
            return;
        }
        // The simulator cannot understand speech: it says so, unless a test queued the words.
        let transcript = control.next_transcript().unwrap_or_else(|| {
            format!(
                "(simulated transcript: {:.1} s of speech)",
                speech_ms as f64 / 1000.0
            )
        });
        self.history.push(("user".into(), transcript.clone()));
        self.send(ServerEvent::InputTranscriptDelta {
            event_id: Some(new_id("event")),
            item_id: item_id.clone(),
            delta: transcript.clone(),
        });
        self.send(ServerEvent::InputTranscriptCompleted {
            event_id: Some(new_id("event")),
            item_id,
            transcript,
        });
    }

    /// A JSON message from the client on the data channel.
    pub(crate) fn client_event(&mut self, text: &str, now: Instant, sim: &Simulator) {
        let event = match serde_json::from_str::<ClientEvent>(text) {
            Ok(event) => event,
            Err(error) => {
                self.error(
                    "invalid_request_error",
                    "invalid_event",
                    &format!("The event could not be read: {error}"),
                );
                return;
            }
        };
        match event {
            ClientEvent::SessionUpdate { session } => {
                if session.kind != SessionConfig::KIND {
                    self.error(
                        "invalid_request_error",
                        "invalid_value",
                        "session.type must be 'realtime'.",
                    );
                    return;
                }
                if session.instructions.is_some() {
                    self.session.instructions = session.instructions;
                }
                if let Some(audio) = session.audio {
                    self.session.audio = Some(audio);
                }
                self.vad = Vad::new(silence_ms(&self.session));
                let session = self.session_json();
                self.send(ServerEvent::SessionUpdated {
                    event_id: Some(new_id("event")),
                    session,
                });
            }
            ClientEvent::ResponseCreate { .. } => {
                if matches!(self.reply, Reply::Idle) {
                    self.start_reply(now);
                } else {
                    self.error(
                        "invalid_request_error",
                        "conversation_already_has_active_response",
                        "Conversation already has an active response.",
                    );
                }
            }
            ClientEvent::ResponseCancel | ClientEvent::OutputAudioClear => {
                self.cancel_reply("client_cancelled");
            }
            ClientEvent::ItemCreate { item, .. } => {
                let text = item
                    .content
                    .iter()
                    .find_map(|c| c.text.clone().or_else(|| c.transcript.clone()))
                    .unwrap_or_default();
                self.history.push((item.role.clone(), text));
                let mut item = item;
                let id = item.id.clone().unwrap_or_else(|| new_id("item"));
                item.id = Some(id.clone());
                let previous = self.last_item_id.replace(id);
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
                    self.commit_learner_turn(new_id("item"), end.saturating_sub(start), sim);
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

    fn start_reply(&mut self, now: Instant) {
        let text = self.reply_text();
        let response_id = new_id("resp");
        let item_id = new_id("item");
        self.send(ServerEvent::ResponseCreated {
            event_id: Some(new_id("event")),
            response: Response {
                id: response_id.clone(),
                status: Some(ResponseStatus::InProgress),
                status_details: None,
            },
        });
        let (sender, voice) = mpsc::channel();
        let spoken = text.clone();
        tokio::task::spawn_blocking(move || {
            let _ = sender.send(speech::synthesize(&spoken));
        });
        self.reply = Reply::Preparing {
            response_id,
            item_id,
            text,
            ready_at: now + self.reply_latency,
            voice,
        };
    }

    fn cancel_reply(&mut self, reason: &str) {
        let (response_id, item_id, spoken) = match std::mem::replace(&mut self.reply, Reply::Idle) {
            Reply::Idle => return,
            Reply::Preparing { response_id, .. } => (response_id, None, String::new()),
            Reply::Speaking {
                response_id,
                item_id,
                words,
                words_sent,
                ..
            } => (response_id, Some(item_id), words[..words_sent].join(" ")),
        };
        self.audio.clear();
        if let Some(item_id) = item_id {
            self.history.push(("assistant".into(), spoken.clone()));
            self.send(ServerEvent::OutputAudioCleared {
                event_id: Some(new_id("event")),
                response_id: response_id.clone(),
            });
            let previous = self.last_item_id.clone();
            self.send(ServerEvent::ItemDone {
                event_id: Some(new_id("event")),
                item: assistant_item(&item_id, &spoken, "incomplete"),
                previous_item_id: previous,
            });
        }
        self.send(ServerEvent::ResponseDone {
            event_id: Some(new_id("event")),
            response: Response {
                id: response_id,
                status: Some(ResponseStatus::Cancelled),
                status_details: Some(serde_json::json!({"type": "cancelled", "reason": reason})),
            },
        });
    }

    /// Every 20 ms: start a prepared reply when due, pace the transcript with the audio, finish.
    pub(crate) fn tick(&mut self, now: Instant) {
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
                    item_id,
                    text,
                    ..
                } = std::mem::replace(&mut self.reply, Reply::Idle)
                else {
                    return;
                };
                let packets: VecDeque<Vec<u8>> = match result {
                    Ok(voice) => voice.packets.into(),
                    Err(error) => {
                        tracing::error!(%error, "sim: the coach's voice could not be rendered");
                        VecDeque::new()
                    }
                };
                let previous = self.last_item_id.replace(item_id.clone());
                self.send(ServerEvent::ItemAdded {
                    event_id: Some(new_id("event")),
                    item: assistant_item(&item_id, "", "in_progress"),
                    previous_item_id: previous,
                });
                self.send(ServerEvent::OutputAudioStarted {
                    event_id: Some(new_id("event")),
                    response_id: response_id.clone(),
                });
                self.reply = Reply::Speaking {
                    response_id,
                    item_id,
                    words: text.split_whitespace().map(str::to_owned).collect(),
                    total_packets: packets.len().max(1),
                    packets,
                    words_sent: 0,
                };
            }
            Reply::Speaking {
                response_id,
                item_id,
                words,
                packets,
                total_packets,
                words_sent,
            } => {
                if let Some(packet) = packets.pop_front() {
                    self.audio.push_back(packet);
                }
                let played = *total_packets - packets.len();
                let due = (words.len() * played).div_ceil(*total_packets);
                let mut deltas = Vec::new();
                while *words_sent < due.min(words.len()) {
                    let prefix = if *words_sent == 0 { "" } else { " " };
                    deltas.push(format!("{prefix}{}", words[*words_sent]));
                    *words_sent += 1;
                }
                let (response_id, item_id) = (response_id.clone(), item_id.clone());
                let finished = packets.is_empty();
                let transcript = words.join(" ");
                for delta in deltas {
                    self.send(ServerEvent::OutputTranscriptDelta {
                        event_id: Some(new_id("event")),
                        response_id: response_id.clone(),
                        item_id: item_id.clone(),
                        delta,
                    });
                }
                if finished {
                    self.reply = Reply::Idle;
                    self.history.push(("assistant".into(), transcript.clone()));
                    self.send(ServerEvent::OutputTranscriptDone {
                        event_id: Some(new_id("event")),
                        response_id: response_id.clone(),
                        item_id: item_id.clone(),
                        transcript: transcript.clone(),
                    });
                    let previous = self.last_item_id.clone();
                    self.send(ServerEvent::ItemDone {
                        event_id: Some(new_id("event")),
                        item: assistant_item(&item_id, &transcript, "completed"),
                        previous_item_id: previous,
                    });
                    self.send(ServerEvent::OutputAudioStopped {
                        event_id: Some(new_id("event")),
                        response_id: response_id.clone(),
                    });
                    self.send(ServerEvent::ResponseDone {
                        event_id: Some(new_id("event")),
                        response: Response {
                            id: response_id,
                            status: Some(ResponseStatus::Completed),
                            status_details: None,
                        },
                    });
                }
            }
        }
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

fn silence_ms(session: &SessionConfig) -> u64 {
    session
        .audio
        .as_ref()
        .and_then(|a| a.input.as_ref())
        .and_then(|i| i.turn_detection.clone())
        .flatten()
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
mod conversation_tests {
    use super::*;
    use crate::{DEV_API_KEY, SimConfig};

    fn sim() -> Simulator {
        Simulator::new(SimConfig {
            api_key: DEV_API_KEY.to_owned().into(),
            reply_latency: Duration::from_millis(0),
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

    struct Harness {
        conversation: Conversation,
        sim: Simulator,
        now: Instant,
        events: Vec<ServerEvent>,
        audio_packets: usize,
    }

    impl Harness {
        fn new(ptt: bool) -> Self {
            let mut conversation = Conversation::new("sess_1".into(), session(ptt), Duration::ZERO);
            conversation.channel_opened();
            Harness {
                conversation,
                sim: sim(),
                now: Instant::now(),
                events: Vec::new(),
                audio_packets: 0,
            }
        }

        fn drain(&mut self) {
            while let Some(text) = self.conversation.next_event() {
                self.events.push(ServerEvent::from_json(&text).unwrap());
            }
            while self.conversation.next_audio().is_some() {
                self.audio_packets += 1;
            }
        }

        fn types(&self) -> Vec<&'static str> {
            self.events.iter().map(kind).collect()
        }

        fn client(&mut self, event: serde_json::Value) {
            self.conversation
                .client_event(&event.to_string(), self.now, &self.sim);
            self.drain();
        }

        /// `ms` of audio at `amplitude` (0 = silence), as 20 ms frames from the microphone.
        fn hear(&mut self, ms: u64, amplitude: f32) {
            for frame in 0..ms / 20 {
                let pcm: Vec<f32> = (0..speech::FRAME_SAMPLES)
                    .map(|i| {
                        let t = (frame as usize * speech::FRAME_SAMPLES + i) as f32 / 48_000.0;
                        amplitude * (t * 2.0 * std::f32::consts::PI * 200.0).sin()
                    })
                    .collect();
                self.now += Duration::from_millis(20);
                self.conversation.hear(&pcm, self.now, &self.sim);
                self.drain();
            }
        }

        /// Runs the 20 ms clock until `until` is among the events (the voice renders for real).
        async fn run_until(&mut self, until: &str) {
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
    }

    fn kind(event: &ServerEvent) -> &'static str {
        match event {
            ServerEvent::SessionCreated { .. } => "session.created",
            ServerEvent::SessionUpdated { .. } => "session.updated",
            ServerEvent::SpeechStarted { .. } => "speech_started",
            ServerEvent::SpeechStopped { .. } => "speech_stopped",
            ServerEvent::Committed { .. } => "committed",
            ServerEvent::ItemAdded { .. } => "item.added",
            ServerEvent::ItemDone { .. } => "item.done",
            ServerEvent::InputTranscriptDelta { .. } => "input_transcript.delta",
            ServerEvent::InputTranscriptCompleted { .. } => "input_transcript.completed",
            ServerEvent::InputTranscriptFailed { .. } => "input_transcript.failed",
            ServerEvent::ResponseCreated { .. } => "response.created",
            ServerEvent::OutputTranscriptDelta { .. } => "output_transcript.delta",
            ServerEvent::OutputTranscriptDone { .. } => "output_transcript.done",
            ServerEvent::OutputAudioStarted { .. } => "audio.started",
            ServerEvent::OutputAudioStopped { .. } => "audio.stopped",
            ServerEvent::OutputAudioCleared { .. } => "audio.cleared",
            ServerEvent::ResponseDone { .. } => "response.done",
            ServerEvent::RateLimitsUpdated { .. } => "rate_limits.updated",
            ServerEvent::Error { .. } => "error",
            ServerEvent::Unknown => "unknown",
        }
    }

    fn without_deltas(types: &[&'static str]) -> Vec<&'static str> {
        types
            .iter()
            .copied()
            .filter(|t| *t != "output_transcript.delta")
            .collect()
    }

    #[tokio::test]
    async fn a_greeting_comes_in_the_api_order_with_its_words_paced_by_the_audio() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("response.done").await;
        assert_eq!(
            without_deltas(&h.types()),
            [
                "session.created",
                "response.created",
                "item.added",
                "audio.started",
                "output_transcript.done",
                "item.done",
                "audio.stopped",
                "response.done"
            ]
        );
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
    }

    #[tokio::test]
    async fn server_vad_turns_carry_their_timing_and_get_a_reply() {
        let mut h = Harness::new(false);
        h.hear(500, 0.0);
        h.hear(1000, 0.3);
        h.hear(700, 0.0);
        assert_eq!(
            h.types(),
            [
                "session.created",
                "speech_started",
                "speech_stopped",
                "committed",
                "item.added",
                "item.done",
                "input_transcript.delta",
                "input_transcript.completed",
                "response.created"
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
    async fn queued_transcripts_and_transcription_faults_apply_to_the_next_turns() {
        let mut h = Harness::new(false);
        h.sim.queue_transcript("We could go hiking.");
        h.sim.queue_fault(Fault::TranscriptionFails);
        h.hear(600, 0.3);
        h.hear(600, 0.0);
        assert!(
            h.types().contains(&"input_transcript.failed"),
            "{:?}",
            h.types()
        );
        h.hear(600, 0.3);
        h.hear(600, 0.0);
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
    async fn talking_over_the_coach_cancels_the_reply() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("output_transcript.delta").await;
        h.hear(200, 0.3);
        let types = h.types();
        let at = types.iter().position(|t| *t == "speech_started").unwrap();
        assert_eq!(
            &types[at..],
            [
                "speech_started",
                "audio.cleared",
                "item.done",
                "response.done"
            ]
        );
        assert!(
            matches!(h.events.last(), Some(ServerEvent::ResponseDone { response, .. })
            if response.status == Some(ResponseStatus::Cancelled))
        );
        assert!(
            matches!(&h.events[h.events.len() - 2], ServerEvent::ItemDone { item, .. }
            if item.status.as_deref() == Some("incomplete"))
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
                "committed",
                "item.added",
                "item.done",
                "input_transcript.delta",
                "input_transcript.completed"
            ]
        );
        h.client(serde_json::json!({"type": "response.create"}));
        assert_eq!(h.types().last(), Some(&"response.created"));
    }

    #[tokio::test]
    async fn replayed_items_continue_the_conversation_without_a_new_greeting() {
        let mut h = Harness::new(false);
        h.client(serde_json::json!({"type": "conversation.item.create",
            "item": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi! Ready?"}]}}));
        h.client(serde_json::json!({"type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Yes, let's plan."}]}}));
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
        h.client(serde_json::json!({"type": "response.create"}));
        h.run_until("output_transcript.done").await;
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
