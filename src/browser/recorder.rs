//! The recording: a MediaRecorder over a Web Audio mix of the microphone and the coach, so the
//! saved file has both sides of the conversation. It hands out a chunk every `slice_ms` for the
//! caller to keep (and, with persistence, upload while the learner speaks).
//!
//! Chromium feeds a remote WebRTC stream into Web Audio only while a media element also plays
//! it: the call's audio element does (see `call.rs`).

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{
    AnalyserNode, AudioContext, Blob, BlobEvent, MediaRecorder, MediaRecorderOptions, MediaStream,
    MediaStreamAudioDestinationNode, MediaStreamAudioSourceNode, RecordingState,
};

use super::JsError;

/// The containers we ask for, best first. Chromium and Firefox record WebM/Opus, Safari MP4/AAC.
const MIME_TYPES: [&str; 3] = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4"];

/// True when this browser can record audio at all.
pub fn is_supported() -> bool {
    let window = web_sys::window();
    window.is_some_and(|window| {
        js_sys::Reflect::has(&window, &"MediaRecorder".into()).unwrap_or(false)
            && js_sys::Reflect::has(&window, &"AudioContext".into()).unwrap_or(false)
    })
}

/// A recording in progress. Dropping it stops the recorder (the last chunk is still delivered)
/// and closes its audio context.
#[must_use = "recording stops as soon as this is dropped"]
pub struct Recorder {
    context: AudioContext,
    destination: MediaStreamAudioDestinationNode,
    coach_level: AnalyserNode,
    recorder: MediaRecorder,
    sources: Vec<MediaStreamAudioSourceNode>,
    samples: Vec<f32>,
    on_data: Option<Closure<dyn FnMut(JsValue)>>,
}

impl Recorder {
    /// Starts recording `mic` now; the coach joins the mix with `add_coach`. Create it from a
    /// click (the audio context needs a user gesture to run).
    pub fn start(
        mic: &MediaStream,
        slice_ms: i32,
        mut on_chunk: impl FnMut(Blob) + 'static,
    ) -> Result<Recorder, JsError> {
        let context = AudioContext::new().map_err(JsError::from)?;
        let _ = context.resume();
        let destination = context
            .create_media_stream_destination()
            .map_err(JsError::from)?;
        let coach_level = context.create_analyser().map_err(JsError::from)?;
        coach_level.set_fft_size(512);
        let source = context
            .create_media_stream_source(mic)
            .map_err(JsError::from)?;
        source
            .connect_with_audio_node(&destination)
            .map_err(JsError::from)?;
        let options = MediaRecorderOptions::new();
        if let Some(mime) = MIME_TYPES
            .iter()
            .find(|mime| MediaRecorder::is_type_supported(mime))
        {
            options.set_mime_type(mime);
        }
        options.set_audio_bits_per_second(64_000);
        let recorder = MediaRecorder::new_with_media_stream_and_media_recorder_options(
            &destination.stream(),
            &options,
        )
        .map_err(JsError::from)?;
        let on_data = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let event: BlobEvent = event.unchecked_into();
            if let Some(blob) = event.data()
                && blob.size() > 0.0
            {
                on_chunk(blob);
            }
        });
        recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
        recorder
            .start_with_time_slice(slice_ms)
            .map_err(JsError::from)?;
        Ok(Recorder {
            samples: vec![0.0; coach_level.fft_size() as usize],
            context,
            destination,
            coach_level,
            recorder,
            sources: vec![source],
            on_data: Some(on_data),
        })
    }

    /// Mixes another microphone into the recording (the first one stopped).
    pub fn add_mic(&mut self, mic: &MediaStream) -> Result<(), JsError> {
        self.mix_in(mic).map(|_| ())
    }

    /// Mixes the coach's voice into the recording (and into the coach level meter).
    pub fn add_coach(&mut self, coach: &MediaStream) -> Result<(), JsError> {
        let coach_level = self.coach_level.clone();
        self.mix_in(coach)?
            .connect_with_audio_node(&coach_level)
            .map_err(JsError::from)?;
        Ok(())
    }

    /// A source for `stream`, connected to the recording.
    fn mix_in(&mut self, stream: &MediaStream) -> Result<&MediaStreamAudioSourceNode, JsError> {
        let source = self
            .context
            .create_media_stream_source(stream)
            .map_err(JsError::from)?;
        source
            .connect_with_audio_node(&self.destination)
            .map_err(JsError::from)?;
        self.sources.push(source);
        Ok(&self.sources[self.sources.len() - 1])
    }

    /// The RMS level of the coach's voice over the latest ~10 ms: how the page knows the coach is
    /// actually audible (not merely that an event said so).
    pub fn coach_level(&mut self) -> f32 {
        self.coach_level
            .get_float_time_domain_data(&mut self.samples);
        let energy: f32 = self.samples.iter().map(|s| s * s).sum();
        (energy / self.samples.len().max(1) as f32).sqrt()
    }

    /// The recording's container, e.g. `audio/webm;codecs=opus`.
    pub fn mime_type(&self) -> String {
        self.recorder.mime_type()
    }

    pub fn is_recording(&self) -> bool {
        self.recorder.state() == RecordingState::Recording
    }

    /// Stops recording and waits until the last chunk has been handed out.
    pub async fn finish(self) {
        if self.recorder.state() == RecordingState::Inactive {
            return;
        }
        let stopped = js_sys::Promise::new(&mut |resolve, _| {
            self.recorder.set_onstop(Some(&resolve));
        });
        let _ = self.recorder.stop();
        let _ = wasm_bindgen_futures::JsFuture::from(stopped).await;
        self.recorder.set_onstop(None);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.recorder.state() != RecordingState::Inactive {
            let _ = self.recorder.stop();
            // The last `dataavailable` (then `stop`) fires after this returns: its handler must
            // live until then, so the `stop` event releases it.
            let on_data = self.on_data.take();
            let release = Closure::once_into_js(move |_: JsValue| drop(on_data));
            self.recorder.set_onstop(Some(release.unchecked_ref()));
        }
        for source in &self.sources {
            source.disconnect().ok();
        }
        let _ = self.context.close();
    }
}
