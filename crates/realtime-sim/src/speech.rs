//! The coach's voice: espeak-ng renders text to speech, which is resampled to 48 kHz and cut into
//! 20 ms Opus packets ready to be sent in real time. Also the learner side's voice-activity
//! detection.

use std::process::Command;

/// 20 ms at 48 kHz, mono.
pub const FRAME_SAMPLES: usize = 960;
pub const SAMPLE_RATE: u32 = 48_000;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("espeak-ng could not be run (is it installed?): {0}")]
    Spawn(#[from] std::io::Error),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("espeak-ng produced no usable WAV: {0}")]
    Wav(&'static str),
    #[error("Opus encoding failed: {0}")]
    Opus(&'static str),
}

/// A reply ready to send: Opus packets of 20 ms each.
#[derive(Debug, Clone)]
pub struct Voice {
    pub packets: Vec<Vec<u8>>,
}

impl Voice {
    pub fn duration_ms(&self) -> u64 {
        self.packets.len() as u64 * 20
    }
}

/// Speaks `text` (blocking: run it on a blocking thread).
pub fn synthesize(text: &str) -> Result<Voice, SpeechError> {
    let output = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "165", "--stdout", "--", text])
        .output()?;
    if !output.status.success() {
        return Err(SpeechError::Failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let (rate, samples) = parse_wav(&output.stdout)?;
    let pcm = resample(&samples, rate, SAMPLE_RATE);
    encode(&pcm)
}

/// Reads a 16-bit mono PCM WAV (what espeak-ng writes) into its rate and samples.
pub fn parse_wav(bytes: &[u8]) -> Result<(u32, Vec<i16>), SpeechError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(SpeechError::Wav("not a RIFF/WAVE file"));
    }
    let mut rate = None;
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let body = at + 8;
        match id {
            b"fmt " if body + 16 <= bytes.len() => {
                let channels = u16::from_le_bytes([bytes[body + 2], bytes[body + 3]]);
                let bits = u16::from_le_bytes([bytes[body + 14], bytes[body + 15]]);
                if channels != 1 || bits != 16 {
                    return Err(SpeechError::Wav("expected 16-bit mono"));
                }
                rate = Some(u32::from_le_bytes([
                    bytes[body + 4],
                    bytes[body + 5],
                    bytes[body + 6],
                    bytes[body + 7],
                ]));
            }
            b"data" => {
                let rate = rate.ok_or(SpeechError::Wav("data before fmt"))?;
                // espeak-ng writing to a pipe cannot seek back to fill in sizes: trust the bytes.
                let end = if size == 0 || size == u32::MAX as usize || body + size > bytes.len() {
                    bytes.len()
                } else {
                    body + size
                };
                let samples = bytes[body..end]
                    .chunks_exact(2)
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                    .collect();
                return Ok((rate, samples));
            }
            _ => {}
        }
        at = body + size + (size & 1);
    }
    Err(SpeechError::Wav("no data chunk"))
}

/// Linear-interpolation resampling: plenty for a simulator's voice.
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<f32> {
    if samples.is_empty() || from == 0 {
        return Vec::new();
    }
    let out_len = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    (0..out_len)
        .map(|i| {
            let pos = i as f64 * step;
            let index = pos as usize;
            let frac = (pos - index as f64) as f32;
            let a = f32::from(samples[index.min(samples.len() - 1)]);
            let b = f32::from(samples[(index + 1).min(samples.len() - 1)]);
            (a + (b - a) * frac) / 32768.0
        })
        .collect()
}

/// Cuts 48 kHz mono PCM into 20 ms Opus packets (the last one padded with silence).
pub fn encode(pcm: &[f32]) -> Result<Voice, SpeechError> {
    let mut encoder = opus_rs::OpusEncoder::new(SAMPLE_RATE as i32, 1, opus_rs::Application::Voip)
        .map_err(SpeechError::Opus)?;
    let mut packets = Vec::with_capacity(pcm.len() / FRAME_SAMPLES + 1);
    let mut frame = [0f32; FRAME_SAMPLES];
    let mut out = [0u8; 1500];
    for chunk in pcm.chunks(FRAME_SAMPLES) {
        frame.fill(0.0);
        frame[..chunk.len()].copy_from_slice(chunk);
        let len = encoder
            .encode(&frame, FRAME_SAMPLES, &mut out)
            .map_err(SpeechError::Opus)?;
        packets.push(out[..len].to_vec());
    }
    Ok(Voice { packets })
}

/// Energy-based voice activity detection on 48 kHz mono frames.
#[derive(Debug)]
pub struct Vad {
    silence_ms_to_stop: u64,
    speaking: bool,
    loud_run: u32,
    quiet_ms: u64,
    /// Milliseconds of input audio seen so far.
    pub position_ms: u64,
    speech_start_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    Started { at_ms: u64 },
    Stopped { started_ms: u64, ended_ms: u64 },
}

impl Vad {
    /// RMS above which a frame counts as speech (about -36 dBFS).
    const THRESHOLD: f32 = 0.016;
    /// Consecutive loud frames before speech is believed (40 ms).
    const FRAMES_TO_START: u32 = 2;

    pub fn new(silence_ms_to_stop: u64) -> Self {
        Vad {
            silence_ms_to_stop,
            speaking: false,
            loud_run: 0,
            quiet_ms: 0,
            position_ms: 0,
            speech_start_ms: 0,
        }
    }

    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Feeds one decoded frame; returns a change of state, if any.
    pub fn push(&mut self, frame: &[f32]) -> Option<VadEvent> {
        let frame_ms = (frame.len() as u64 * 1000) / u64::from(SAMPLE_RATE);
        let rms = if frame.is_empty() {
            0.0
        } else {
            (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt()
        };
        let start_of_frame = self.position_ms;
        self.position_ms += frame_ms;
        let loud = rms > Self::THRESHOLD;
        if !self.speaking {
            self.loud_run = if loud { self.loud_run + 1 } else { 0 };
            if self.loud_run >= Self::FRAMES_TO_START {
                self.speaking = true;
                self.quiet_ms = 0;
                let run_ms = u64::from(self.loud_run - 1) * frame_ms;
                self.speech_start_ms = start_of_frame.saturating_sub(run_ms);
                return Some(VadEvent::Started {
                    at_ms: self.speech_start_ms,
                });
            }
            return None;
        }
        if loud {
            self.quiet_ms = 0;
            return None;
        }
        self.quiet_ms += frame_ms;
        if self.quiet_ms >= self.silence_ms_to_stop {
            self.speaking = false;
            self.loud_run = 0;
            return Some(VadEvent::Stopped {
                started_ms: self.speech_start_ms,
                ended_ms: self.position_ms - self.quiet_ms,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: u64, amplitude: f32) -> Vec<f32> {
        let n = (ms as usize) * 48;
        (0..n)
            .map(|i| amplitude * (i as f32 * 2.0 * std::f32::consts::PI * 220.0 / 48_000.0).sin())
            .collect()
    }

    #[test]
    fn vad_finds_speech_between_silences() {
        let mut vad = Vad::new(500);
        let mut audio = tone(1000, 0.0);
        audio.extend(tone(1500, 0.3));
        audio.extend(tone(1000, 0.0));
        let events: Vec<VadEvent> = audio
            .chunks(FRAME_SAMPLES)
            .filter_map(|f| vad.push(f))
            .collect();
        assert_eq!(
            events,
            vec![
                VadEvent::Started { at_ms: 1000 },
                VadEvent::Stopped {
                    started_ms: 1000,
                    ended_ms: 2500
                }
            ]
        );
    }

    #[test]
    fn quiet_noise_is_not_speech() {
        let mut vad = Vad::new(500);
        let events: Vec<VadEvent> = tone(3000, 0.005)
            .chunks(FRAME_SAMPLES)
            .filter_map(|f| vad.push(f))
            .collect();
        assert!(events.is_empty());
    }

    #[test]
    fn wav_parsing_and_resampling() {
        let mut wav = Vec::new();
        wav.extend(b"RIFF\0\0\0\0WAVEfmt ");
        wav.extend(16u32.to_le_bytes());
        wav.extend(1u16.to_le_bytes()); // PCM
        wav.extend(1u16.to_le_bytes()); // mono
        wav.extend(24_000u32.to_le_bytes());
        wav.extend(48_000u32.to_le_bytes());
        wav.extend(2u16.to_le_bytes());
        wav.extend(16u16.to_le_bytes());
        wav.extend(b"data");
        wav.extend(0xFFFF_FFFFu32.to_le_bytes()); // unknown size, as from a pipe
        for s in [0i16, 1000, 2000, 3000] {
            wav.extend(s.to_le_bytes());
        }
        let (rate, samples) = parse_wav(&wav).unwrap();
        assert_eq!(
            (rate, samples.as_slice()),
            (24_000, &[0, 1000, 2000, 3000][..])
        );
        let up = resample(&samples, 24_000, 48_000);
        assert_eq!(up.len(), 8);
        assert!((up[1] - 500.0 / 32768.0).abs() < 1e-6);
    }

    #[test]
    fn espeak_speech_becomes_opus_packets_that_decode_to_sound() {
        let voice = synthesize("Hello, I am your speaking coach.").expect("espeak-ng is installed");
        assert!(voice.duration_ms() > 1000, "{} ms", voice.duration_ms());
        let mut decoder = opus_rs::OpusDecoder::new(48_000, 1).unwrap();
        let mut pcm = vec![0f32; 5760];
        let mut energy = 0.0f32;
        for packet in &voice.packets {
            let n = decoder.decode(packet, 5760, &mut pcm).unwrap();
            energy += pcm[..n].iter().map(|s| s * s).sum::<f32>();
        }
        let rms = (energy / (voice.packets.len() * FRAME_SAMPLES) as f32).sqrt();
        assert!(rms > 0.02, "the decoded voice is audible, rms {rms}");
    }
}
