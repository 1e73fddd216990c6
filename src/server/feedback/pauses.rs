//! The loudness of a stored recording over time, for finding the learner's silent pauses
//! (`domain::fluency::pauses_in`). The recording (Ogg Opus, both voices mixed) is decoded one
//! packet at a time into 20 ms levels; no decoded audio is kept.

use std::io::Cursor;

use ogg::PacketReader;

/// Length of one level, in milliseconds.
pub const FRAME_MS: u64 = 20;
const RATE: usize = 48_000;
const FRAME_SAMPLES: usize = RATE / 1000 * FRAME_MS as usize;
/// The quietest level reported (digital silence).
const SILENCE_DB: f32 = -120.0;

#[derive(Debug, thiserror::Error)]
pub enum LevelsError {
    #[error("not an Ogg Opus recording: {0}")]
    NotOgg(String),
    #[error("the Opus decoder failed: {0}")]
    Decoder(&'static str),
}

/// One level in dBFS for every `FRAME_MS` of the recording, from its first sample (the Opus
/// pre-skip is taken off, as players do).
pub fn levels(ogg: &[u8]) -> Result<Vec<f32>, LevelsError> {
    let mut reader = PacketReader::new(Cursor::new(ogg));
    let mut next = || {
        reader
            .read_packet()
            .map_err(|error| LevelsError::NotOgg(error.to_string()))
    };
    let head = next()?.ok_or_else(|| LevelsError::NotOgg("empty".into()))?;
    if head.data.len() < 19 || &head.data[..8] != b"OpusHead" {
        return Err(LevelsError::NotOgg("no OpusHead".into()));
    }
    let mut skip = usize::from(u16::from_le_bytes([head.data[10], head.data[11]]));
    // OpusTags.
    next()?;
    // A mono decoder mixes a stereo stream down.
    let mut decoder = opus_rs::OpusDecoder::new(RATE as i32, 1).map_err(LevelsError::Decoder)?;
    let mut pcm = vec![0f32; 5_760];
    let mut levels = Vec::new();
    let mut frame_energy = 0f64;
    let mut frame_len = 0usize;
    while let Some(packet) = next()? {
        let samples = decoder
            .decode(&packet.data, pcm.len(), &mut pcm)
            .map_err(LevelsError::Decoder)?;
        for &sample in &pcm[..samples.min(pcm.len())] {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            frame_energy += f64::from(sample) * f64::from(sample);
            frame_len += 1;
            if frame_len == FRAME_SAMPLES {
                levels.push(db(frame_energy, frame_len));
                frame_energy = 0.0;
                frame_len = 0;
            }
        }
    }
    if frame_len > 0 {
        levels.push(db(frame_energy, frame_len));
    }
    Ok(levels)
}

fn db(energy: f64, samples: usize) -> f32 {
    let rms = (energy / samples as f64).sqrt();
    if rms <= 0.0 {
        SILENCE_DB
    } else {
        ((20.0 * rms.log10()) as f32).max(SILENCE_DB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::fluency::pauses_in,
        server::recording::{OpusAudio, packet_samples},
    };

    /// An Ogg Opus file of `parts`: (milliseconds, tone or silence), encoded 20 ms at a time.
    fn recording(parts: &[(u64, bool)]) -> Vec<u8> {
        let mut encoder =
            opus_rs::OpusEncoder::new(RATE as i32, 1, opus_rs::Application::Voip).unwrap();
        let mut packets = Vec::new();
        let mut at_ms = 0i64;
        let mut n = 0u64;
        for &(ms, tone) in parts {
            for _ in 0..ms / FRAME_MS {
                let frame: Vec<f32> = (0..FRAME_SAMPLES)
                    .map(|i| {
                        let t = (n * FRAME_SAMPLES as u64 + i as u64) as f32 / RATE as f32;
                        if tone {
                            0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                        } else {
                            0.0005 * (2.0 * std::f32::consts::PI * 50.0 * t).sin()
                        }
                    })
                    .collect();
                n += 1;
                let mut out = vec![0u8; 1500];
                let len = encoder.encode(&frame, FRAME_SAMPLES, &mut out).unwrap();
                out.truncate(len);
                assert!(packet_samples(&out).is_some());
                packets.push((at_ms, out));
                at_ms += FRAME_MS as i64;
            }
        }
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 1]);
        head.extend_from_slice(&312u16.to_le_bytes());
        head.extend_from_slice(&48_000u32.to_le_bytes());
        head.extend_from_slice(&[0, 0, 0]);
        OpusAudio { head, packets }.to_ogg().unwrap()
    }

    #[test]
    fn a_recording_becomes_one_level_per_20_ms_loud_where_it_is_loud() {
        let ogg = recording(&[(1_000, true), (1_000, false)]);
        let levels = levels(&ogg).unwrap();
        // 2 s of audio, less the pre-skip (312 samples: one partial frame at the end).
        assert!((99..=101).contains(&levels.len()), "{}", levels.len());
        let loud = levels[10..45].iter().copied().fold(f32::MAX, f32::min);
        let quiet = levels[60..95].iter().copied().fold(f32::MIN, f32::max);
        assert!(loud > -20.0, "tone at {loud} dB");
        assert!(quiet < -50.0, "silence at {quiet} dB");
    }

    #[test]
    fn a_pause_in_the_recording_is_found_where_it_is() {
        // Speech 1.5 s, a 1.2 s pause, speech 1 s, a 0.4 s gap, speech 1 s.
        let ogg = recording(&[
            (1_500, true),
            (1_200, false),
            (1_000, true),
            (400, false),
            (1_000, true),
        ]);
        let levels = levels(&ogg).unwrap();
        let pauses = pauses_in(&levels, FRAME_MS, &[(0, 5_100)]);
        assert_eq!(pauses.count, 1);
        assert!(
            (1_100..=1_300).contains(&pauses.longest_ms),
            "{}",
            pauses.longest_ms
        );
    }

    #[test]
    fn what_is_not_ogg_opus_is_refused() {
        assert!(matches!(levels(b"not audio"), Err(LevelsError::NotOgg(_))));
        assert!(matches!(levels(b""), Err(LevelsError::NotOgg(_))));
    }
}
