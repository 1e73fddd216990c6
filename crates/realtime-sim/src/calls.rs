//! `POST /v1/realtime/calls` (SDP offer in, answer out) and `/calls/{id}/hangup`; each call runs
//! as one task that owns its WebRTC peer ([`str0m`], sans-IO, on its own UDP socket).

use std::{
    collections::VecDeque,
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use realtime_protocol::http::ApiError;
use str0m::{
    Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig,
    change::SdpOffer,
    channel::ChannelId,
    format::Codec,
    media::{Frequency, MediaKind, MediaTime, Mid},
    net::{Protocol, Receive},
};
use tokio::{net::UdpSocket, sync::mpsc};

use crate::{
    Simulator,
    control::Fault,
    conversation::Conversation,
    keys::{api_error, bearer, check_key, check_standard_key},
    lock, new_id,
};

/// An SDP offer is a few kilobytes; anything far larger is not one.
const MAX_SDP_BYTES: usize = 64 * 1024;
/// How long a call may stay disconnected before it is given up.
const DISCONNECTED_GRACE: Duration = Duration::from_secs(5);
/// The voice's packet time: one Opus frame of `speech::FRAME_SAMPLES`.
const FRAME: Duration = Duration::from_millis(20);

pub(crate) enum CallCommand {
    Hangup,
    /// Stop now, as a network loss looks (test control).
    Drop,
    /// Send `session_expired` now and end (test control).
    Expire,
}

/// `POST /v1/realtime/calls`.
pub(crate) async fn create_call(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let minted = match check_key(&sim, bearer(&headers)) {
        Ok(minted) => minted,
        Err(problem) => return problem.into_response(),
    };
    let is_sdp = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/sdp"));
    let bad_request = |message: &str| {
        api_error(
            StatusCode::BAD_REQUEST,
            ApiError::new("invalid_request_error", Some("invalid_offer"), message),
        )
    };
    if !is_sdp {
        return bad_request("The body must be an SDP offer with Content-Type: application/sdp.");
    }
    if body.len() > MAX_SDP_BYTES {
        return bad_request("The SDP offer is too large.");
    }
    let Ok(offer_text) = std::str::from_utf8(&body) else {
        return bad_request("The SDP offer is not text.");
    };
    let offer = match SdpOffer::from_sdp_string(offer_text) {
        Ok(offer) => offer,
        Err(error) => return bad_request(&format!("The SDP offer could not be parsed: {error}")),
    };

    let socket = match UdpSocket::bind("127.0.0.1:0").await {
        Ok(socket) => socket,
        Err(error) => return server_error(&format!("no UDP port for the call: {error}")),
    };
    let local = match socket.local_addr() {
        Ok(addr) => addr,
        Err(error) => return server_error(&format!("no local address: {error}")),
    };
    let mut rtc = RtcConfig::new()
        .clear_codecs()
        .enable_opus(true, false)
        .build(Instant::now());
    match Candidate::host(local, "udp") {
        Ok(candidate) => {
            rtc.add_local_candidate(candidate);
        }
        Err(error) => return server_error(&format!("no host candidate: {error}")),
    }
    let answer = match rtc.sdp_api().accept_offer(offer) {
        Ok(answer) => answer.to_sdp_string(),
        Err(error) => return bad_request(&format!("The SDP offer cannot be answered: {error}")),
    };

    let control = &sim.inner.control;
    if let Some(Fault::AnswerDelay { ms }) =
        control.take_fault(|f| matches!(f, Fault::AnswerDelay { .. }))
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let drop_after = match control.take_fault(|f| matches!(f, Fault::DropCallAfter { .. })) {
        Some(Fault::DropCallAfter { seconds }) => Some(Duration::from_secs(seconds)),
        _ => None,
    };
    let expire_after = match control.take_fault(|f| matches!(f, Fault::SessionExpiredAfter { .. }))
    {
        Some(Fault::SessionExpiredAfter { seconds }) => Some(Duration::from_secs(seconds)),
        _ => None,
    };

    let call_id = new_id("rtc");
    let (commands, receiver) = mpsc::channel(4);
    lock(&sim.inner.calls).insert(call_id.clone(), commands);
    let conversation = Conversation::new(
        minted.session_id.clone(),
        minted.session.clone(),
        sim.inner.config.reply_latency,
    );
    let call = CallTask {
        sim: sim.clone(),
        id: call_id.clone(),
        rtc,
        socket,
        commands: receiver,
        conversation,
        drop_at: drop_after.and_then(|d| Instant::now().checked_add(d)),
        expire_at: expire_after.and_then(|d| Instant::now().checked_add(d)),
        wire: Delayed::new(control.network_rtt()),
    };
    control
        .calls_started
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    control
        .calls_active
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(call_id, session_id = minted.session_id, "sim: call started");
    tokio::spawn(call.run());

    (
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "application/sdp".to_owned()),
            (header::LOCATION, format!("/v1/realtime/calls/{call_id}")),
        ],
        answer,
    )
        .into_response()
}

/// `POST /v1/realtime/calls/{id}/hangup` (standard key).
pub(crate) async fn hangup(
    State(sim): State<Simulator>,
    Path(call_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(problem) = check_standard_key(&sim, &headers) {
        return problem.into_response();
    }
    let sender = lock(&sim.inner.calls).get(&call_id).cloned();
    match sender {
        Some(sender) => {
            let _ = sender.send(CallCommand::Hangup).await;
            StatusCode::OK.into_response()
        }
        None => api_error(
            StatusCode::NOT_FOUND,
            ApiError::new("invalid_request_error", Some("not_found"), "No such call."),
        ),
    }
}

fn server_error(message: &str) -> Response {
    tracing::error!(message, "sim: call setup failed");
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiError::new("server_error", None, "The call could not be set up."),
    )
}

struct CallTask {
    sim: Simulator,
    id: String,
    rtc: Rtc,
    socket: UdpSocket,
    commands: mpsc::Receiver<CallCommand>,
    conversation: Conversation,
    drop_at: Option<Instant>,
    expire_at: Option<Instant>,
    /// Datagrams on their way to the browser through the emulated network.
    wire: Delayed<(Vec<u8>, SocketAddr)>,
}

impl CallTask {
    async fn run(mut self) {
        let outcome = self.drive().await;
        let control = &self.sim.inner.control;
        control
            .calls_active
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        lock(&self.sim.inner.calls).remove(&self.id);
        match outcome {
            Ok(reason) => tracing::info!(call_id = self.id, reason, "sim: call ended"),
            Err(error) => tracing::warn!(call_id = self.id, %error, "sim: call failed"),
        }
    }

    /// One frame of the conversation's clock: the conversation moves on, and the coach's next
    /// 20 ms of voice, if any, goes out.
    fn frame(
        &mut self,
        connected: bool,
        audio_mid: Option<Mid>,
        rtp_time: &mut u64,
    ) -> Result<(), str0m::RtcError> {
        self.conversation.tick(Instant::now());
        if connected
            && let Some(packet) = self.conversation.next_audio()
            && let Some(mid) = audio_mid
            && let Some(writer) = self.rtc.writer(mid)
        {
            let pt = writer
                .payload_params()
                .find(|p| p.spec().codec == Codec::Opus)
                .map(|p| p.pt());
            if let Some(pt) = pt {
                let time = MediaTime::new(*rtp_time, Frequency::FORTY_EIGHT_KHZ);
                writer.write(pt, Instant::now(), time, packet)?;
                *rtp_time += crate::speech::FRAME_SAMPLES as u64;
                self.sim
                    .inner
                    .control
                    .audio_frames_sent
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        self.rtc.handle_input(Input::Timeout(Instant::now()))
    }

    async fn drive(&mut self) -> Result<&'static str, str0m::RtcError> {
        let local = self.socket.local_addr().map_err(str0m::RtcError::Io)?;
        let mut buf = vec![0u8; 2000];
        let mut decoder = opus_rs::OpusDecoder::new(48_000, 1).ok();
        let mut pcm = vec![0f32; 5760];
        let mut audio_mid: Option<Mid> = None;
        let mut channel: Option<ChannelId> = None;
        let mut connected = false;
        let mut rtp_time: u64 = 0;
        let mut disconnected_since: Option<Instant> = None;
        let mut closing = false;
        let mut frame_clock = tokio::time::interval(FRAME);
        frame_clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let started = Instant::now();

        loop {
            // Drain everything str0m wants to do before the next input.
            let deadline = loop {
                match self.rtc.poll_output()? {
                    Output::Timeout(at) => break at,
                    Output::Transmit(transmit) => {
                        let datagram = (transmit.contents.to_vec(), transmit.destination);
                        if let Some((contents, to)) = self.wire.send(Instant::now(), datagram) {
                            let _ = self.socket.send_to(&contents, to).await;
                        }
                    }
                    Output::Event(event) => match event {
                        Event::Connected => connected = true,
                        Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                            disconnected_since.get_or_insert_with(Instant::now);
                        }
                        Event::IceConnectionStateChange(_) => disconnected_since = None,
                        Event::MediaAdded(media) if media.kind == MediaKind::Audio => {
                            audio_mid = Some(media.mid);
                        }
                        Event::MediaData(data) => {
                            self.sim
                                .inner
                                .control
                                .audio_frames_received
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if let Some(decoder) = decoder.as_mut()
                                && let Ok(n) = decoder.decode(&data.data, 5760, &mut pcm)
                            {
                                self.conversation.hear(&pcm[..n], Instant::now(), &self.sim);
                            }
                        }
                        Event::ChannelOpen(id, label) if label == "oai-events" => {
                            channel = Some(id);
                            self.conversation.channel_opened();
                        }
                        Event::ChannelData(data) => {
                            let text = String::from_utf8_lossy(&data.data);
                            self.conversation
                                .client_event(&text, Instant::now(), &self.sim);
                        }
                        Event::ChannelClose(_) | Event::Closed => return Ok("peer closed"),
                        _ => {}
                    },
                }
            };
            while let Some((contents, to)) = self.wire.arrived(Instant::now()) {
                let _ = self.socket.send_to(&contents, to).await;
            }
            if !self.rtc.is_alive() {
                return Ok(if closing { "session expired" } else { "closed" });
            }
            let now = Instant::now();
            if disconnected_since.is_some_and(|since| now - since > DISCONNECTED_GRACE) {
                return Ok("peer vanished");
            }
            if self.drop_at.is_some_and(|at| now >= at) {
                // As a network loss looks: no goodbye, media and data simply stop.
                self.rtc.disconnect();
                return Ok("dropped (fault injection)");
            }
            if self.expire_at.is_some_and(|at| now >= at) {
                self.expire_at = None;
                self.conversation.session_expired();
            }

            // Hand queued events to the data channel, one write per turn of the loop.
            if let Some(id) = channel
                && let Some(text) = self.conversation.next_event()
                && let Some(mut open) = self.rtc.channel(id)
            {
                if open.write(false, text.as_bytes())? {
                    self.sim
                        .inner
                        .control
                        .events_sent
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                } else {
                    self.conversation.requeue_front(text);
                }
                continue;
            }
            if self.conversation.wants_close() && !closing {
                // Graceful: SCTP shutdown and DTLS close_notify, so the browser sees the end.
                self.rtc.close()?;
                closing = true;
                continue;
            }

            // A reply due between two frames starts when it is due, and its frames follow from
            // there: the reply latency is the wait for the first audio, not rounded up to a frame.
            let reply_due = self.conversation.reply_due().filter(|at| *at > now);
            let wake = deadline
                .min(now + FRAME)
                .min(reply_due.unwrap_or(deadline))
                .min(self.wire.next().unwrap_or(deadline));
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    let Ok((n, source)) = received else { continue };
                    let Ok(receive) = Receive::new(Protocol::Udp, source, local, &buf[..n]) else { continue };
                    self.rtc.handle_input(Input::Receive(Instant::now(), receive))?;
                }
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                    if let Some(due) = reply_due.filter(|at| Instant::now() >= *at) {
                        self.frame(connected, audio_mid, &mut rtp_time)?;
                        // The next frames follow from when this one was due, not from when it
                        // went: the timer wakes on whole milliseconds, so counting from "now"
                        // would send the second frame up to a millisecond more than 20 ms after
                        // the first, and Chromium's jitter buffer, which plays the first frame at
                        // once, would then run dry (see contracts/realtime.md).
                        frame_clock.reset_at(tokio::time::Instant::from_std(due + FRAME));
                    } else {
                        self.rtc.handle_input(Input::Timeout(Instant::now()))?;
                    }
                }
                _ = frame_clock.tick() => {
                    self.frame(connected, audio_mid, &mut rtp_time)?;
                    if !connected && started.elapsed() > Duration::from_secs(30) {
                        return Ok("never connected");
                    }
                }
                command = self.commands.recv() => match command {
                    Some(CallCommand::Hangup) | None => {
                        self.rtc.close()?;
                        closing = true;
                    }
                    Some(CallCommand::Drop) => self.drop_at = Some(Instant::now()),
                    Some(CallCommand::Expire) => self.expire_at = Some(Instant::now()),
                }
            }
        }
    }
}

/// A one-way stretch of the emulated network (`network_rtt_ms`): what goes in comes out `delay`
/// later, in order. With no delay it is a plain wire.
struct Delayed<T> {
    delay: Duration,
    queue: VecDeque<(Instant, T)>,
}

impl<T> Delayed<T> {
    fn new(delay: Duration) -> Self {
        Delayed {
            delay,
            queue: VecDeque::new(),
        }
    }

    /// Puts `item` on the wire at `now`: back at once when there is no delay, else held.
    fn send(&mut self, now: Instant, item: T) -> Option<T> {
        if self.delay.is_zero() {
            return Some(item);
        }
        self.queue.push_back((now + self.delay, item));
        None
    }

    /// The next item whose time on the wire is over at `now`.
    fn arrived(&mut self, now: Instant) -> Option<T> {
        if self.queue.front().is_some_and(|(at, _)| *at <= now) {
            self.queue.pop_front().map(|(_, item)| item)
        } else {
            None
        }
    }

    /// When the next item comes out.
    fn next(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulated_network_holds_each_datagram_one_delay_in_order() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut plain = Delayed::new(Duration::ZERO);
        assert_eq!(plain.send(at(0), 1), Some(1));
        assert_eq!(plain.next(), None);

        let mut wire = Delayed::new(Duration::from_millis(50));
        assert_eq!(wire.send(at(0), 1), None);
        assert_eq!(wire.send(at(20), 2), None);
        assert_eq!(wire.next(), Some(at(50)));
        assert_eq!(wire.arrived(at(49)), None);
        assert_eq!(wire.arrived(at(50)), Some(1));
        assert_eq!(wire.arrived(at(50)), None);
        assert_eq!(wire.next(), Some(at(70)));
        assert_eq!(wire.send(at(60), 3), None);
        assert_eq!(wire.arrived(at(200)), Some(2));
        assert_eq!(wire.arrived(at(200)), Some(3));
        assert_eq!(wire.arrived(at(200)), None);
    }
}
