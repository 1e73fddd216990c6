//! The microphone: permission, the live track, mute, and a level meter for the pre-call check.

use wasm_bindgen::{JsCast, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AnalyserNode, AudioContext, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use super::JsError;
use crate::domain::call::CallFailure;

/// Why the microphone could not be opened, from the DOMException's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MicError {
    /// `NotAllowedError` / `SecurityError`: permission refused.
    Denied,
    /// `NotFoundError` / `OverconstrainedError`: no usable microphone.
    NotFound,
    /// `NotReadableError` / `AbortError`: another program holds it.
    Busy,
    /// No `navigator.mediaDevices`: not a secure context (HTTPS or localhost).
    InsecureContext,
    Other(JsError),
}

impl From<JsError> for MicError {
    fn from(error: JsError) -> Self {
        match error.name.as_str() {
            "NotAllowedError" | "SecurityError" => MicError::Denied,
            "NotFoundError" | "OverconstrainedError" => MicError::NotFound,
            "NotReadableError" | "AbortError" => MicError::Busy,
            _ => MicError::Other(error),
        }
    }
}

impl From<MicError> for CallFailure {
    fn from(error: MicError) -> Self {
        match error {
            MicError::Denied => CallFailure::MicDenied,
            MicError::NotFound => CallFailure::NoMic,
            MicError::Busy | MicError::Other(_) => CallFailure::MicBusy,
            MicError::InsecureContext => CallFailure::InsecureContext,
        }
    }
}

/// An open microphone. Dropping it stops every track of its stream.
#[must_use = "the microphone closes as soon as this is dropped"]
pub struct Microphone {
    stream: MediaStream,
    track: MediaStreamTrack,
    on_ended: Option<Closure<dyn FnMut()>>,
}

/// A microphone the browser offers: its device id and a name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub id: String,
    pub label: String,
}

/// `navigator.mediaDevices`, which browsers leave out of pages not served securely (web-sys's
/// getter would hand back `undefined` as if it were there).
fn media_devices() -> Result<web_sys::MediaDevices, MicError> {
    let navigator = web_sys::window()
        .ok_or(MicError::InsecureContext)?
        .navigator();
    let devices = js_sys::Reflect::get(&navigator, &"mediaDevices".into())
        .unwrap_or(wasm_bindgen::JsValue::UNDEFINED);
    if devices.is_undefined() || devices.is_null() {
        return Err(MicError::InsecureContext);
    }
    Ok(devices.unchecked_into())
}

/// The microphones the browser offers now (named once the page has microphone permission).
pub async fn inputs() -> Vec<Input> {
    let Ok(devices) = media_devices() else {
        return Vec::new();
    };
    let Ok(listed) = devices.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(listed) = JsFuture::from(listed).await else {
        return Vec::new();
    };
    js_sys::Array::from(&listed)
        .iter()
        .filter_map(|device| device.dyn_into::<web_sys::MediaDeviceInfo>().ok())
        .filter(|device| device.kind() == web_sys::MediaDeviceKind::Audioinput)
        .enumerate()
        .map(|(n, device)| Input {
            id: device.device_id(),
            label: match device.label() {
                label if label.is_empty() => format!("Microphone {}", n + 1),
                label => label,
            },
        })
        .collect()
}

impl Microphone {
    /// Asks for the microphone (with echo cancellation, noise suppression and gain control).
    pub async fn open() -> Result<Self, MicError> {
        Self::open_device(None).await
    }

    /// Asks for one microphone by its device id (`None`: the browser's choice).
    pub async fn open_device(device: Option<&str>) -> Result<Self, MicError> {
        let devices = media_devices()?;
        let constraints = MediaStreamConstraints::new();
        let audio = js_sys::Object::new();
        for key in ["echoCancellation", "noiseSuppression", "autoGainControl"] {
            let _ = js_sys::Reflect::set(&audio, &key.into(), &true.into());
        }
        if let Some(device) = device.filter(|device| !device.is_empty()) {
            let exact = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&exact, &"exact".into(), &device.into());
            let _ = js_sys::Reflect::set(&audio, &"deviceId".into(), &exact);
        }
        constraints.set_audio(&audio);
        let promise = devices
            .get_user_media_with_constraints(&constraints)
            .map_err(|error| MicError::from(JsError::from(error)))?;
        let stream: MediaStream = JsFuture::from(promise)
            .await
            .map_err(|error| MicError::from(JsError::from(error)))?
            .unchecked_into();
        let track: MediaStreamTrack = stream
            .get_audio_tracks()
            .get(0)
            .dyn_into()
            .map_err(|_| MicError::NotFound)?;
        Ok(Microphone {
            stream,
            track,
            on_ended: None,
        })
    }

    /// Calls `lost` when the microphone stops by itself (unplugged, or taken by the system); not
    /// when the page closes it.
    pub fn on_ended(&mut self, lost: impl FnMut() + 'static) {
        let lost = Closure::<dyn FnMut()>::new(lost);
        self.track.set_onended(Some(lost.as_ref().unchecked_ref()));
        self.on_ended = Some(lost);
    }

    pub fn stream(&self) -> &MediaStream {
        &self.stream
    }

    pub fn track(&self) -> &MediaStreamTrack {
        &self.track
    }

    /// Muting sends silence without releasing the device.
    pub fn set_muted(&self, muted: bool) {
        self.track.set_enabled(!muted);
    }

    pub fn is_live(&self) -> bool {
        self.track.ready_state() == web_sys::MediaStreamTrackState::Live
    }

    /// A meter of this microphone's input level.
    pub fn meter(&self) -> Result<LevelMeter, JsError> {
        LevelMeter::new(&self.stream)
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        self.track.set_onended(None);
        for track in self.stream.get_tracks().iter() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.stop();
            }
        }
    }
}

/// The input level of a stream, for the pre-call check's meter. Dropping it closes its audio
/// context.
#[must_use]
pub struct LevelMeter {
    context: AudioContext,
    analyser: AnalyserNode,
    samples: Vec<f32>,
}

impl LevelMeter {
    pub fn new(stream: &MediaStream) -> Result<Self, JsError> {
        let context = AudioContext::new().map_err(JsError::from)?;
        let analyser = context.create_analyser().map_err(JsError::from)?;
        analyser.set_fft_size(1024);
        context
            .create_media_stream_source(stream)
            .map_err(JsError::from)?
            .connect_with_audio_node(&analyser)
            .map_err(JsError::from)?;
        Ok(LevelMeter {
            samples: vec![0.0; analyser.fft_size() as usize],
            context,
            analyser,
        })
    }

    /// The RMS level of the latest ~20 ms, from 0 (silence) to about 1 (full scale).
    pub fn level(&mut self) -> f32 {
        self.analyser.get_float_time_domain_data(&mut self.samples);
        let energy: f32 = self.samples.iter().map(|s| s * s).sum();
        (energy / self.samples.len().max(1) as f32).sqrt()
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        let _ = self.context.close();
    }
}
