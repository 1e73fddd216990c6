//! The call with the coach: an RTCPeerConnection carrying the microphone up and the coach's voice
//! down, and the `oai-events` data channel parsed into the shared typed events. The same code
//! talks to OpenAI and to the local simulator: only the calls URL in the secret differs.
//!
//! The offer is made as soon as the peer is created (`Peer::new`). A call made during the
//! pre-call check (warm) sends no microphone until Start (`Peer::send_mic`): its audio sender has
//! no track, so not one packet of the learner's audio leaves the browser before then.

use std::{
    cell::{Cell, RefCell},
    future::Future,
    rc::Rc,
};

use realtime_protocol::{ClientEvent, ServerEvent, events::Unreadable};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, HtmlAudioElement, MediaStream, MessageEvent, RequestInit, Response,
    RtcDataChannel, RtcPeerConnection, RtcPeerConnectionState, RtcSdpType,
    RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::{JsError, mic::Microphone};
use crate::domain::voice::VoiceCallSecret;

/// What the call tells the page. Handlers run inside browser callbacks: they must not drop the
/// `Peer` synchronously (defer with `spawn_local`).
#[derive(Debug)]
pub enum PeerSignal {
    /// The data channel is open: the call is up and events can be sent.
    Opened,
    Event(ServerEvent),
    /// The coach's audio arrived; it is already playing through the call's audio element.
    CoachStream(MediaStream),
    /// The call is gone without the learner ending it.
    Lost(Lost),
}

/// How a call was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The connection failed, or stayed disconnected longer than `DISCONNECT_GRACE_MS`.
    Network,
    /// The data channel closed.
    ChannelClosed,
}

/// A `disconnected` connection often comes back by itself within a second or two (a Wi-Fi
/// hand-over); longer than this, the call is treated as lost.
const DISCONNECT_GRACE_MS: u32 = 2_000;

/// Why the call could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// 401: the secret expired or is unknown. A fresh secret may work.
    Unauthorized,
    /// Any other refusal, with the API's message.
    Refused { status: u16, message: String },
    /// No answer in time.
    Timeout,
    /// The request failed (offline, DNS, CORS) or the answer could not be applied.
    Failed(JsError),
}

type Handler = Rc<RefCell<dyn FnMut(PeerSignal)>>;

/// One call. Dropping it closes the data channel and the peer connection and silences the
/// coach's audio; the microphone is the caller's and stays open.
#[must_use = "the call ends as soon as this is dropped"]
pub struct Peer {
    pc: RtcPeerConnection,
    channel: RtcDataChannel,
    audio: HtmlAudioElement,
    /// Settles once the offer is set locally; awaited by `connect`.
    offered: js_sys::Promise,
    /// The microphone goes to the coach (from the start, or since `send_mic`).
    sends_mic: Cell<bool>,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Peer {
    /// A peer connection with the events channel, sending `mic` now or (`send` false) only from
    /// `send_mic` on; its offer is being made.
    pub fn new(
        mic: &Microphone,
        send: bool,
        on_signal: impl FnMut(PeerSignal) + 'static,
    ) -> Result<Peer, JsError> {
        let handler: Handler = Rc::new(RefCell::new(on_signal));
        let emit = move |handler: &Handler, signal: PeerSignal| {
            if let Ok(mut handle) = handler.try_borrow_mut() {
                handle(signal);
            }
        };
        let pc = RtcPeerConnection::new().map_err(JsError::from)?;
        let audio = HtmlAudioElement::new().map_err(JsError::from)?;
        audio.set_autoplay(true);
        if send {
            pc.add_track_0(mic.track(), mic.stream());
        } else {
            // Send and receive audio, with nothing to send yet.
            pc.add_transceiver_with_str("audio");
        }
        let channel = pc.create_data_channel("oai-events");
        let mut handlers: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();

        let on_track = {
            let handler = Rc::clone(&handler);
            let audio = Clone::clone(&audio);
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let event: RtcTrackEvent = event.unchecked_into();
                let stream = match event.streams().get(0).dyn_into::<MediaStream>() {
                    Ok(stream) => stream,
                    Err(_) => {
                        let Ok(stream) = MediaStream::new() else {
                            return;
                        };
                        stream.add_track(&event.track());
                        stream
                    }
                };
                audio.set_src_object(Some(&stream));
                // Start is a click, so autoplay is allowed; a refusal is retried by autoplay.
                if let Ok(playing) = audio.play() {
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = JsFuture::from(playing).await;
                    });
                }
                emit(&handler, PeerSignal::CoachStream(stream));
            })
        };
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        handlers.push(on_track);

        let on_state = {
            let handler = Rc::clone(&handler);
            let pc = Clone::clone(&pc);
            Closure::<dyn FnMut(JsValue)>::new(move |_| match pc.connection_state() {
                RtcPeerConnectionState::Failed => emit(&handler, PeerSignal::Lost(Lost::Network)),
                RtcPeerConnectionState::Disconnected => {
                    let (handler, pc) = (Rc::clone(&handler), Clone::clone(&pc));
                    wasm_bindgen_futures::spawn_local(async move {
                        super::sleep(DISCONNECT_GRACE_MS).await;
                        // Still down (a closed peer was dropped on purpose: not lost).
                        if pc.connection_state() == RtcPeerConnectionState::Disconnected {
                            emit(&handler, PeerSignal::Lost(Lost::Network));
                        }
                    });
                }
                _ => {}
            })
        };
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        handlers.push(on_state);

        let on_open = {
            let handler = Rc::clone(&handler);
            Closure::<dyn FnMut(JsValue)>::new(move |_| emit(&handler, PeerSignal::Opened))
        };
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        handlers.push(on_open);

        let on_message = {
            let handler = Rc::clone(&handler);
            let mut unreadable = 0u32;
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let event: MessageEvent = event.unchecked_into();
                let Some(text) = event.data().as_string() else {
                    return;
                };
                // Unknown event types parse as `Unknown`. One that cannot be read at all is
                // skipped, logged by its type only (never its content) and counted.
                match ServerEvent::from_json(&text) {
                    Ok(event) => emit(&handler, PeerSignal::Event(event)),
                    Err(Unreadable(field)) => {
                        unreadable += 1;
                        let kind = realtime_protocol::events::event_type(&text)
                            .unwrap_or_else(|| "(not an event)".to_owned());
                        crate::console_warn!(
                            "Realtime: skipped an event that could not be read: {kind}, at \
                             `{field}` ({unreadable} in this call)"
                        );
                    }
                }
            })
        };
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        handlers.push(on_message);

        let on_close = {
            let handler = Rc::clone(&handler);
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                emit(&handler, PeerSignal::Lost(Lost::ChannelClosed))
            })
        };
        channel.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        handlers.push(on_close);

        let offered = {
            let pc = Clone::clone(&pc);
            wasm_bindgen_futures::future_to_promise(async move {
                let offer = JsFuture::from(pc.create_offer()).await?;
                JsFuture::from(pc.set_local_description(offer.unchecked_ref())).await
            })
        };
        Ok(Peer {
            pc,
            channel,
            audio,
            offered,
            sends_mic: Cell::new(send),
            _handlers: handlers,
        })
    }

    /// Waits until the offer is set locally.
    pub async fn offered(&self) -> Result<(), JsError> {
        JsFuture::from(Clone::clone(&self.offered))
            .await
            .map(drop)
            .map_err(JsError::from)
    }

    /// Another handle to the peer connection (to watch its state).
    pub fn connection(&self) -> RtcPeerConnection {
        Clone::clone(&self.pc)
    }

    /// The offer as it stands (with the ICE candidates gathered so far).
    pub fn offer_sdp(&self) -> Option<String> {
        self.pc
            .local_description()
            .map(|description| description.sdp())
    }

    /// Opens the call: POSTs the offer to the secret's calls URL and applies the answer. Resolves
    /// to the call id from the `Location` header when there is one. The future holds its own
    /// handles, so the `Peer` may be kept elsewhere (and dropped, which fails the future).
    pub fn connect(
        &self,
        secret: &VoiceCallSecret,
        timeout_ms: i32,
    ) -> impl Future<Output = Result<Option<String>, ConnectError>> + 'static + use<> {
        let pc = Clone::clone(&self.pc);
        let offered = Clone::clone(&self.offered);
        let secret = secret.clone();
        async move {
            let failed = |error: JsValue| ConnectError::Failed(JsError::from(error));
            JsFuture::from(offered).await.map_err(failed)?;
            let sdp = pc.local_description().map(|d| d.sdp()).ok_or_else(|| {
                ConnectError::Failed(JsError::named("InvalidStateError", "no offer"))
            })?;
            let (status, location, body) = post_offer(&secret, &sdp, timeout_ms).await?;
            match status {
                200 | 201 => {}
                401 => return Err(ConnectError::Unauthorized),
                status => {
                    return Err(ConnectError::Refused {
                        status,
                        message: api_error_message(&body),
                    });
                }
            }
            let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            description.set_sdp(&body);
            JsFuture::from(pc.set_remote_description(&description))
                .await
                .map_err(failed)?;
            Ok(location.and_then(|location| location.rsplit('/').next().map(str::to_owned)))
        }
    }

    /// Sends an event to the coach. False when the channel is not open.
    pub fn send(&self, event: &ClientEvent) -> bool {
        self.channel.send_with_str(&event.to_json()).is_ok()
    }

    /// Whether the coach hears the microphone.
    pub fn sends_mic(&self) -> bool {
        self.sends_mic.get()
    }

    /// A warm call sends `mic` from now on; settles once it does.
    pub fn send_mic(&self, mic: &Microphone) -> Result<JsFuture, JsError> {
        let sending = self.replace_mic(mic)?;
        self.sends_mic.set(true);
        Ok(sending)
    }

    /// Plays the coach's voice (again): a browser that refused to play it before any click
    /// plays it when this runs inside one.
    pub fn play(&self) {
        if self.audio.src_object().is_some()
            && let Ok(playing) = self.audio.play()
        {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(playing).await;
            });
        }
    }

    /// Sends `mic` from now on instead of the microphone the call started with; settles once the
    /// switch is made.
    pub fn replace_mic(&self, mic: &Microphone) -> Result<JsFuture, JsError> {
        let sender = self
            .pc
            .get_senders()
            .iter()
            .find_map(|sender| sender.dyn_into::<web_sys::RtcRtpSender>().ok())
            .ok_or_else(|| JsError::named("InvalidStateError", "the call sends no audio"))?;
        Ok(JsFuture::from(sender.replace_track(Some(mic.track()))))
    }

    /// The element playing the coach's voice.
    pub fn audio(&self) -> &HtmlAudioElement {
        &self.audio
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Silence the handlers first: closing fires `close` events we caused ourselves.
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.channel.set_onopen(None);
        self.channel.set_onmessage(None);
        self.channel.set_onclose(None);
        self.channel.close();
        self.pc.close();
        let _ = self.audio.pause();
        self.audio.set_src_object(None);
    }
}

/// POSTs the SDP offer with the client secret; the answer's status, `Location` and body.
async fn post_offer(
    secret: &VoiceCallSecret,
    sdp: &str,
    timeout_ms: i32,
) -> Result<(u16, Option<String>, String), ConnectError> {
    let failed = |error: JsValue| ConnectError::Failed(JsError::from(error));
    let headers = Headers::new().map_err(failed)?;
    headers
        .append("Content-Type", "application/sdp")
        .map_err(failed)?;
    headers
        .append("Authorization", &format!("Bearer {}", secret.client_secret))
        .map_err(failed)?;
    let abort = AbortController::new().map_err(failed)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(sdp));
    init.set_headers(&headers);
    init.set_signal(Some(&abort.signal()));
    let window = web_sys::window().ok_or_else(|| failed(JsValue::NULL))?;
    let timer = {
        let abort = Clone::clone(&abort);
        Closure::once_into_js(move || abort.abort())
    };
    let timer_id = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(timer.unchecked_ref(), timeout_ms)
        .map_err(failed)?;
    let result = async {
        let answer: Response =
            JsFuture::from(window.fetch_with_str_and_init(&secret.calls_url, &init))
                .await?
                .unchecked_into();
        let body = JsFuture::from(answer.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let location = answer.headers().get("Location").ok().flatten();
        Ok::<_, JsValue>((answer.status(), location, body))
    }
    .await;
    window.clear_timeout_with_handle(timer_id);
    result.map_err(|error| {
        let error = JsError::from(error);
        if error.name == "AbortError" {
            ConnectError::Timeout
        } else {
            ConnectError::Failed(error)
        }
    })
}

/// The message of an API error body (`{"error":{"message":…}}`), or a plain fallback.
fn api_error_message(body: &str) -> String {
    js_sys::JSON::parse(body)
        .ok()
        .and_then(|json| js_sys::Reflect::get(&json, &"error".into()).ok())
        .and_then(|error| js_sys::Reflect::get(&error, &"message".into()).ok())
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| "The coach could not take the call.".to_owned())
}
