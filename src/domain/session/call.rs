//! The call itself: the check, Start, connecting (renewing a secret about to expire), the
//! conversation and its transcript, End and failures. Talking is in `talk.rs`, reconnecting
//! after a drop in `reconnect.rs`.

use std::collections::HashMap;

use realtime_protocol::{ClientEvent, ServerEvent, events::ResponseStatus};

use super::{
    Command, ConnectError, Effect, Input, MintError, PREFIX_PADDING_MS, Problem, SILENCE_MS,
    Session, Timer, ending::WrapReason, turn_detection, warm::Warm,
};
use crate::domain::{
    call::{CallEvent, CallFailure, CallNote, CallState, DropCause},
    transcript::{Change, SavedTurn, Speaker, Turn, TurnState},
};

impl Session {
    pub(super) fn command(&mut self, command: Command) {
        match command {
            // The shell answers with `CheckStarted` / `Started`, which carry what it knows.
            Command::Check | Command::Start => {}
            Command::End => self.end(),
            Command::Hold => self.hold(),
            Command::LetGo => self.let_go(),
            Command::SetMuted(muted) => {
                self.talk.muted = muted;
                if !self.talk.push_to_talk {
                    self.push(Effect::MicOpen(self.talk.mic_open()));
                }
            }
            Command::SetPushToTalk(on) => {
                self.talk.push_to_talk = on;
                self.talk.holding = false;
                if matches!(self.state, CallState::Live { .. }) {
                    self.send(turn_detection(on));
                }
                self.push(Effect::MicOpen(self.talk.mic_open()));
            }
            Command::ListInputs => self.push(Effect::ListInputs),
            Command::UseInput(device) => self.push(Effect::SwitchMic { device }),
        }
    }

    pub(super) fn call_input(&mut self, input: Input) {
        match input {
            Input::CheckStarted { supported } => self.check(supported),
            Input::Started { key } => self.start(key),
            Input::MicOpened => {
                if self.transition(CallEvent::MicReady) {
                    self.warm_up();
                } else if !self.state.holds_media() {
                    self.push(Effect::Release); // a microphone nobody needs any more
                }
            }
            Input::MicFailed(failure) => self.fail(failure),
            Input::MicEnded => self.mic_ended(),
            Input::MicSwitched { ok: true } => {
                self.problem = None;
                self.talk.mic_lost = false;
                self.note(CallNote::MicBack, None, 0);
                self.push(Effect::MicOpen(self.talk.mic_open()));
            }
            Input::MicSwitched { ok: false } => {
                self.problem = Some(Problem::MicWontOpen);
                self.push(Effect::ListInputs);
            }
            // A replacement call that cannot be made is one failed reconnection attempt.
            Input::PeerUnavailable if matches!(self.state, CallState::Reconnecting { .. }) => {
                self.attempt_failed()
            }
            Input::PeerUnavailable | Input::RecorderUnavailable => {
                self.fail(CallFailure::Unsupported)
            }
            Input::Minted { generation, result } if generation == self.generation => {
                self.minted(result)
            }
            Input::Answered { generation, result } if generation == self.generation => {
                self.answered(result)
            }
            Input::Opened { generation } if generation == self.generation => self.opened(),
            Input::Event { generation, event } if generation == self.generation => {
                self.on_event(event)
            }
            Input::Lost { generation, cause } if generation == self.generation => self.lost(cause),
            Input::Timer(Timer::ConnectTimeout { generation }) if generation == self.generation => {
                match self.state {
                    CallState::Ready => self.cool(),
                    CallState::Connecting => {
                        self.problem = Some(Problem::NotCompleted);
                        self.fail(CallFailure::CoachUnavailable);
                    }
                    CallState::Reconnecting { .. } => self.attempt_failed(),
                    _ => {}
                }
            }
            Input::Timer(Timer::Reconnect { generation }) if generation == self.generation => {
                if matches!(self.state, CallState::Reconnecting { .. }) {
                    self.next_call();
                    self.push(Effect::Mint {
                        generation: self.generation,
                    });
                }
            }
            Input::Timer(Timer::WarmExpiry { generation })
                if generation == self.generation && self.state == CallState::Ready =>
            {
                self.warm_expired()
            }
            Input::Timer(Timer::BackNotice) => self.back = false,
            // Anything from an older call, or a timer that no longer applies.
            _ => {}
        }
    }

    pub(super) fn check(&mut self, supported: bool) {
        let event = if matches!(self.state, CallState::Failed(_)) {
            CallEvent::Retry
        } else {
            CallEvent::CheckStarted
        };
        if !self.transition(event) {
            return;
        }
        // Checking again from `Ready` starts over with a new secret: the warm call goes.
        self.cool();
        self.warm_calls = 0;
        self.problem = None;
        if !supported {
            self.fail(CallFailure::Unsupported);
            return;
        }
        self.push(Effect::OpenOutbox);
        self.push(Effect::OpenMic);
        self.push(Effect::Mint {
            generation: self.generation,
        });
    }

    /// Start: the recording starts and the call goes live, at once when the warm call is open.
    pub(super) fn start(&mut self, key: String) {
        let warm = std::mem::take(&mut self.warm);
        if !self.transition(CallEvent::StartPressed) {
            self.warm = warm;
            return;
        }
        self.problem = None;
        self.transcript = Default::default();
        self.transcript_version += 1;
        self.stamps.clear();
        self.coach_audio.clear();
        self.cut_short.clear();
        self.reply_retried = false;
        self.live_since = None;
        self.renewed = false;
        self.saves = Default::default();
        self.key = key.clone();
        self.recording_since = self.now.ms;
        let generation = self.generation;
        match warm {
            Warm::Open | Warm::Dialing => {
                // The coach hears the learner from now on; its voice plays (Start is a click).
                self.push(Effect::SendMic);
                self.push(Effect::Play);
                if warm == Warm::Open {
                    // The greeting is asked for first: the recorder takes a few milliseconds to
                    // start, and the coach takes longer than that to answer.
                    self.greet();
                    self.push(Effect::StartRecorder { key });
                    self.go_live();
                } else {
                    self.push(Effect::StartRecorder { key });
                }
            }
            Warm::Minting | Warm::Cold => {
                self.push(Effect::MakePeer {
                    generation,
                    mic: true,
                });
                self.push(Effect::StartRecorder { key });
                // While minting, the next warm call's secret is on its way: the call takes it.
                if warm == Warm::Cold {
                    self.connect();
                }
            }
        }
    }

    /// Posts the offer with the secret from the check, or a fresh one when it is about to expire.
    pub(super) fn connect(&mut self) {
        match self.fresh_secret() {
            Some(secret) => self.push(Effect::Connect {
                generation: self.generation,
                secret,
            }),
            None => {
                self.renewed = true;
                self.push(Effect::Mint {
                    generation: self.generation,
                });
            }
        }
    }

    pub(super) fn minted(
        &mut self,
        result: Result<crate::domain::voice::VoiceCallSecret, MintError>,
    ) {
        match (&self.state, result) {
            (CallState::Checking { .. }, Ok(secret)) => {
                self.secret = Some(secret);
                if self.transition(CallEvent::SecretReady) {
                    self.warm_up();
                }
            }
            (CallState::Ready, result) => self.minted_warm(result.ok()),
            (CallState::Connecting, Ok(secret)) => {
                self.secret = Some(secret.clone());
                self.push(Effect::Connect {
                    generation: self.generation,
                    secret,
                });
            }
            (CallState::Reconnecting { .. }, Ok(secret)) => {
                self.secret = Some(secret.clone());
                let generation = self.generation;
                self.push(Effect::MakePeer {
                    generation,
                    mic: true,
                });
                self.push(Effect::Connect { generation, secret });
            }
            // A limit will not lift by trying again, nor will a conflict (the session ended
            // elsewhere, another call is going on): the call ends with the server's words, and
            // what was said and recorded is saved as for a call that could not be brought back.
            (&CallState::Reconnecting { attempt }, Err(MintError::Limit(message))) => {
                self.refused_for_good(attempt, message, CallFailure::LimitReached);
            }
            (&CallState::Reconnecting { attempt }, Err(MintError::Conflict(message))) => {
                self.refused_for_good(attempt, message, CallFailure::ConnectionLost);
            }
            (CallState::Reconnecting { .. }, Err(_)) => self.attempt_failed(),
            (CallState::Checking { .. } | CallState::Connecting, Err(error)) => match error {
                MintError::TooManyAttempts { retry_after_secs } => {
                    self.fail(CallFailure::TooManyAttempts { retry_after_secs })
                }
                MintError::Refused(message) | MintError::Conflict(message) => {
                    self.problem = Some(Problem::Refused(message));
                    self.fail(CallFailure::CoachUnavailable);
                }
                MintError::Limit(message) => {
                    self.problem = Some(Problem::Refused(message));
                    self.fail(CallFailure::LimitReached);
                }
            },
            _ => {}
        }
    }

    /// A reconnection the server refused for good: the call ends as `failure`, with its words.
    fn refused_for_good(&mut self, attempt: u32, message: String, failure: CallFailure) {
        self.problem = Some(Problem::Refused(message));
        self.note(CallNote::GaveUp, self.dropped, attempt);
        self.transition(CallEvent::Failed(failure));
        self.wrap_up(WrapReason::Lost);
    }

    pub(super) fn answered(&mut self, result: Result<(), ConnectError>) {
        let generation = self.generation;
        match (&self.state, result) {
            (CallState::Ready, result) if self.warm == Warm::Dialing => self.answered_warm(result),
            (CallState::Connecting | CallState::Reconnecting { .. }, Ok(())) => self.timer(
                Timer::ConnectTimeout { generation },
                Self::CONNECT_TIMEOUT_MS,
            ),
            (CallState::Reconnecting { .. }, Err(_)) => self.attempt_failed(),
            (CallState::Connecting, Err(ConnectError::Unauthorized)) if !self.renewed => {
                self.secret = None;
                self.connect();
            }
            (CallState::Connecting, Err(error)) => {
                self.problem = Some(match error {
                    ConnectError::Unauthorized => Problem::SecretExpired,
                    ConnectError::Timeout => Problem::NoAnswer,
                    ConnectError::Busy => Problem::Busy,
                    ConnectError::Refused => Problem::Unavailable,
                    ConnectError::Failed => Problem::NoConnection,
                    ConnectError::NoPeer => Problem::NoPeer,
                });
                self.fail(CallFailure::CoachUnavailable);
            }
            _ => {}
        }
    }

    /// The call's channel opened: a warm call waits for Start, a first call greets, a
    /// replacement carries on.
    pub(super) fn opened(&mut self) {
        match self.state {
            CallState::Ready if self.warm == Warm::Dialing => self.warm = Warm::Open,
            CallState::Connecting => {
                self.greet();
                self.go_live();
            }
            CallState::Reconnecting { attempt } => self.resume(attempt),
            _ => {}
        }
    }

    /// The secret has the coach's turn detection off: on now (unless the learner talks by
    /// holding the button), and the coach greets first.
    fn greet(&mut self) {
        self.send(turn_detection(self.talk.push_to_talk));
        self.send(ClientEvent::ResponseCreate { response: None });
        if self.talk.push_to_talk {
            self.push(Effect::MicOpen(false));
        }
    }

    /// The call is live: the clock runs, and from now on there is a session to keep.
    fn go_live(&mut self) {
        self.transition(CallEvent::Connected);
        self.connected_at = self.now.ms;
        self.live_since = Some(self.now.ms);
        self.push(Effect::Live);
        self.register();
    }

    pub(super) fn on_event(&mut self, event: ServerEvent) {
        // Once the learner ended (or the call failed for good), what the old call says is moot.
        if matches!(self.state, CallState::Ended | CallState::Failed(_)) {
            return;
        }
        if let Some(Change::Added(index) | Change::Updated(index)) = self.transcript.apply(&event) {
            self.stamp_and_save(index);
        }
        let now = self.recording_ms();
        match &event {
            ServerEvent::ResponseCreated { response, .. } => {
                self.active_response = Some(response.id.clone());
            }
            ServerEvent::ResponseDone { response, .. } => {
                if self.active_response.as_deref() == Some(response.id.as_str()) {
                    self.active_response = None;
                }
                match response.status {
                    // The reply is final once its audio has played (`output_audio_buffer.stopped`).
                    Some(ResponseStatus::Completed) => {
                        self.reply_retried = false;
                        if self.problem == Some(Problem::ReplyFailed) {
                            self.problem = None;
                        }
                    }
                    Some(
                        ResponseStatus::Cancelled
                        | ResponseStatus::Incomplete
                        | ResponseStatus::Failed,
                    ) => {
                        self.cut_short(&response.id);
                        if response.status == Some(ResponseStatus::Failed) {
                            self.reply_failed(response);
                        }
                    }
                    Some(ResponseStatus::InProgress) | None => {}
                }
            }
            ServerEvent::OutputAudioStarted { response_id, .. } => {
                self.coach_audio
                    .entry(response_id.clone())
                    .or_insert((now, None));
                self.transition(CallEvent::CoachStartedSpeaking);
            }
            // Played to its end: all of the reply was heard (all that was made of it, for one
            // cut short).
            ServerEvent::OutputAudioStopped { response_id, .. } => {
                self.audio_ended(response_id, now);
                let settled = if self.cut_short.remove(response_id) {
                    self.transcript.cut_off_reply(response_id, u64::MAX)
                } else {
                    self.transcript.finish_reply(response_id)
                };
                self.save_all(settled);
                self.transition(CallEvent::CoachStoppedSpeaking);
            }
            ServerEvent::OutputAudioCleared { response_id, .. } => {
                self.audio_ended(response_id, now);
                self.cut_short.remove(response_id);
                let played = self.played_ms(response_id);
                let cut = self.transcript.cut_off_reply(response_id, played);
                self.save_all(cut);
                self.transition(CallEvent::CoachStoppedSpeaking);
            }
            // The server's own measure of what played of an item the learner interrupted.
            ServerEvent::ItemTruncated {
                item_id,
                audio_end_ms,
                ..
            } => {
                if let Some(response) = self.transcript.response_of(item_id).map(str::to_owned)
                    && let Some((start, end)) = self.coach_audio.get_mut(&response)
                {
                    end.get_or_insert(*start + audio_end_ms);
                }
                let cut = self.transcript.cut_off_item(item_id, *audio_end_ms);
                self.save_all(cut);
            }
            ServerEvent::ItemDone { item, .. }
                if item.role == "assistant" && item.status.as_deref() == Some("incomplete") =>
            {
                let id = item.id.as_deref().unwrap_or_default();
                match self.transcript.response_of(id).map(str::to_owned) {
                    Some(response) => self.cut_short(&response),
                    None => {
                        let cut = self.transcript.cut_off_item(id, 0);
                        self.save_all(cut);
                    }
                }
            }
            ServerEvent::Error { error, .. }
                if error.code.as_deref() == Some("session_expired") =>
            {
                self.lost(DropCause::SessionExpired)
            }
            _ => {}
        }
    }

    /// Milliseconds since the recording started.
    fn recording_ms(&self) -> u64 {
        (self.now.ms - self.recording_since).max(0.0) as u64
    }

    fn audio_ended(&mut self, response_id: &str, now: u64) {
        if let Some((_, end)) = self.coach_audio.get_mut(response_id) {
            end.get_or_insert(now);
        }
    }

    /// A reply that will not be finished (cancelled, incomplete, failed): interrupted, with
    /// what was heard of it. Audio still playing was made already and plays out, so it settles
    /// when that stops (or is cleared); otherwise now.
    fn cut_short(&mut self, response_id: &str) {
        if matches!(self.coach_audio.get(response_id), Some((_, None))) {
            self.cut_short.insert(response_id.to_owned());
        } else {
            let played = self.played_ms(response_id);
            let cut = self.transcript.cut_off_reply(response_id, played);
            self.save_all(cut);
        }
    }

    /// How long `response_id`'s audio played (so far): nothing if it never started.
    fn played_ms(&self, response_id: &str) -> u64 {
        self.coach_audio
            .get(response_id)
            .map_or(0, |&(start, end)| {
                end.unwrap_or_else(|| self.recording_ms())
                    .saturating_sub(start)
            })
    }

    fn save_all(&mut self, indexes: impl IntoIterator<Item = usize>) {
        for index in indexes {
            self.stamp_and_save(index);
        }
    }

    /// `response.done` with `status: failed`. Out of quota, the coach cannot answer again: the
    /// call ends, everything kept. Otherwise the reply is asked for once more, and the learner
    /// told why the coach went quiet.
    fn reply_failed(&mut self, response: &realtime_protocol::events::Response) {
        if response.error_code() == Some("insufficient_quota") {
            self.problem = Some(Problem::CoachOutOfCredit);
            self.talk.holding = false;
            self.settle_open_turns();
            self.transition(CallEvent::Failed(CallFailure::CoachUnavailable));
            self.wrap_up(WrapReason::Lost);
            return;
        }
        self.problem = Some(Problem::ReplyFailed);
        if !self.reply_retried && self.active_response.is_none() {
            self.reply_retried = true;
            self.send(ClientEvent::ResponseCreate { response: None });
        }
    }

    /// Notes when a turn was first seen and when it settled (in recording time), and saves it
    /// once it has settled.
    pub(super) fn stamp_and_save(&mut self, index: usize) {
        // Every change of the transcript comes through here.
        self.transcript_version += 1;
        let Some(turn) = self.transcript.turns().get(index).cloned() else {
            return;
        };
        let now = self.recording_ms();
        let stamp = self
            .stamps
            .entry(turn.item_id.clone())
            .or_insert((now, None));
        if turn.is_settled() && stamp.1.is_none() {
            stamp.1 = Some(now.max(stamp.0));
        }
        let (seen, Some(settled)) = *stamp else {
            return;
        };
        let (start_ms, end_ms) = match turn.speaker {
            Speaker::Learner => self.learner_span(&turn, settled),
            // A reply is where its audio played; text the coach never voiced (a replayed item,
            // a reply cut off before it was heard) takes no time.
            Speaker::Coach => match self
                .transcript
                .response_of(&turn.item_id)
                .and_then(|response| self.coach_audio.get(response))
            {
                Some(&(start, end)) => (start, end.unwrap_or(settled).max(start)),
                None if turn.state == TurnState::Interrupted => (settled, settled),
                None => (seen, settled),
            },
        };
        self.persist_turn(SavedTurn {
            item_id: turn.item_id,
            speaker: turn.speaker,
            text: turn.text,
            state: turn.state,
            start_ms: Some(start_ms),
            end_ms: Some(end_ms),
            position: u32::try_from(index).unwrap_or(u32::MAX),
        });
    }

    /// Where the learner spoke, from the coach's own voice detection (measured from when the
    /// call came up): its start includes the padding kept before speech and its end the silence
    /// that ended the turn, both taken off. Without it (push-to-talk), when the turn was seen.
    fn learner_span(&self, turn: &Turn, settled: u64) -> (u64, u64) {
        let call_offset = (self.connected_at - self.recording_since).max(0.0) as u64;
        let Some(start) = turn.audio_start_ms else {
            let seen = self.stamps.get(&turn.item_id).map_or(settled, |s| s.0);
            return (seen, settled);
        };
        let start = call_offset + start + u64::from(PREFIX_PADDING_MS);
        let end = turn.audio_end_ms.map_or(settled, |end| {
            call_offset + end.saturating_sub(u64::from(SILENCE_MS))
        });
        (start, end.max(start))
    }

    /// Settles every turn still open (a coach reply as interrupted, with what played of it; a
    /// learner turn as not transcribed) and saves them: the call they belonged to is over.
    pub(super) fn settle_open_turns(&mut self) {
        let played: HashMap<String, u64> = self
            .coach_audio
            .keys()
            .map(|response| (response.clone(), self.played_ms(response)))
            .collect();
        let transcript = &mut self.transcript;
        let responses: HashMap<String, String> = transcript
            .turns()
            .iter()
            .filter_map(|turn| {
                let response = transcript.response_of(&turn.item_id)?;
                Some((turn.item_id.clone(), response.to_owned()))
            })
            .collect();
        let settled = transcript.settle_open(|item| {
            responses
                .get(item)
                .and_then(|response| played.get(response))
                .copied()
        });
        self.save_all(settled);
    }

    /// End: hang up, keep a sentence cut off as far as it got, save everything, then the
    /// session's summary.
    pub(super) fn end(&mut self) {
        if !self.transition(CallEvent::EndPressed) {
            return;
        }
        self.talk.holding = false;
        self.settle_open_turns();
        self.wrap_up(WrapReason::End);
    }

    /// Stops everything the page holds (microphone included) and fails with `failure`. A call
    /// that never came up has no session: what was recorded for it is dropped.
    pub(super) fn fail(&mut self, failure: CallFailure) {
        if self.transition(CallEvent::Failed(failure)) {
            // Whatever the released call still says (an offer answered late) is the old one's:
            // a check started again must not take it for its own warm call's.
            self.generation += 1;
            self.warm = Warm::Cold;
            self.talk.holding = false;
            self.release();
            if self.live_since.is_none() {
                self.saves.discard_when_released();
            }
        }
    }

    pub(super) fn release(&mut self) {
        self.saves.releasing();
        self.push(Effect::Release);
    }
}
