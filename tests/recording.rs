//! Recordings made by Chromium's MediaRecorder become Ogg Opus files with their true length.
//! The fixture is a real Chromium recording: 87 Opus packets of 60 ms, 5.220 s of audio.
#![cfg(feature = "ssr")]

use std::io::{Cursor, Read};

use speaking_coach::server::recording::{RecordingError, packet_samples, read_webm, webm_to_ogg};

const FIXTURE: &[u8] = include_bytes!("fixtures/chromium-mediarecorder.webm");

#[test]
fn the_duration_comes_from_the_media_and_matches_the_truth() {
    let audio = read_webm(FIXTURE).expect("a Chromium recording reads");
    assert_eq!(audio.packets.len(), 87);
    assert_eq!(&audio.head[..8], b"OpusHead");
    let duration = audio.duration_ms();
    assert!(
        (5_120..=5_320).contains(&duration),
        "{duration} ms, truth 5220 ms"
    );
    assert_eq!(duration, 5_220);
}

#[test]
fn the_ogg_file_has_every_packet_and_the_exact_length() {
    let audio = read_webm(FIXTURE).unwrap();
    let ogg = audio.to_ogg().unwrap();
    let mut reader = ogg::PacketReader::new(Cursor::new(ogg));
    let head = reader.read_packet().unwrap().unwrap();
    assert!(head.data.starts_with(b"OpusHead") && head.first_in_stream());
    let tags = reader.read_packet().unwrap().unwrap();
    assert!(tags.data.starts_with(b"OpusTags"));
    let mut count = 0;
    let mut last = None;
    while let Some(packet) = reader.read_packet().unwrap() {
        count += 1;
        last = Some((packet.absgp_page(), packet.last_in_stream()));
    }
    assert_eq!(count, 87);
    // 87 packets of 2880 samples; pre-skip 0: 250 560 samples = 5.220 s.
    assert_eq!(last, Some((250_560, true)));
}

/// Hands out its bytes a few at a time, as pieces fetched one by one do.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(333);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn converting_as_it_reads_gives_the_same_file_and_length() {
    let whole = read_webm(FIXTURE).unwrap();
    let mut streamed = Vec::new();
    let duration = webm_to_ogg(Trickle(FIXTURE), &mut streamed).unwrap();
    assert_eq!(duration, whole.duration_ms());
    assert_eq!(streamed, whole.to_ogg().unwrap(), "byte for byte");

    let cut = &FIXTURE[..FIXTURE.len() / 2];
    let mut streamed = Vec::new();
    let duration = webm_to_ogg(Trickle(cut), &mut streamed).unwrap();
    assert_eq!(duration, read_webm(cut).unwrap().duration_ms());
    assert!(duration < 5_220);

    let garbage: Vec<u8> = (0..4096u32).map(|n| (n * 7919 % 251) as u8).collect();
    assert!(matches!(
        webm_to_ogg(Trickle(&garbage), &mut Vec::new()),
        Err(RecordingError::NotWebm(_))
    ));
    assert!(matches!(
        webm_to_ogg(Trickle(b""), &mut Vec::new()),
        Err(RecordingError::NotWebm(_))
    ));
}

#[test]
fn a_recording_cut_short_keeps_what_came_before_the_cut() {
    let cut = &FIXTURE[..FIXTURE.len() / 2];
    let audio = read_webm(cut).expect("a truncated recording still reads");
    assert!(
        audio.packets.len() > 20 && audio.packets.len() < 87,
        "{}",
        audio.packets.len()
    );
    assert!(audio.duration_ms() < 5_220);
}

#[test]
fn garbage_is_refused_with_a_reason_never_a_panic() {
    let garbage: Vec<u8> = (0..4096u32).map(|n| (n * 7919 % 251) as u8).collect();
    assert!(matches!(
        read_webm(&garbage),
        Err(RecordingError::NotWebm(_))
    ));
    assert!(matches!(read_webm(b""), Err(RecordingError::NotWebm(_))));
    // A WebM header followed by junk.
    let mut fake = FIXTURE[..40].to_vec();
    fake.extend_from_slice(&garbage);
    assert!(read_webm(&fake).is_err());
}

#[test]
fn opus_packet_lengths_follow_rfc_6716() {
    assert_eq!(packet_samples(&[0xFB, 0x83]), Some(2880)); // CELT FB 20 ms, 3 frames
    assert_eq!(packet_samples(&[0xF8]), Some(960)); // CELT FB 20 ms, one frame
    assert_eq!(packet_samples(&[0x09]), Some(1920)); // SILK NB 20 ms, two frames
    assert_eq!(packet_samples(&[0x03, 0x00]), None); // code 3 with no frames
    assert_eq!(packet_samples(&[]), None);
}
