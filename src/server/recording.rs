//! Recordings: what Chromium's MediaRecorder makes (WebM with Opus, but no duration and no cues,
//! so browsers show `Infinity` and seek badly) turned into Ogg Opus, which carries its exact
//! length in its granule positions and seeks well in every browser.
//!
//! The duration is computed from the media itself: the last packet's time plus its length.

use std::io::{self, Read, Write};

use ogg::{PacketWriteEndInfo, PacketWriter};
use webm_iterable::{
    WebmIterator,
    errors::TagIteratorError,
    matroska_spec::{Block, Master, MatroskaSpec, SimpleBlock},
};

/// Opus always counts time in 48 kHz samples.
const OPUS_RATE: u64 = 48_000;

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("not a WebM recording: {0}")]
    NotWebm(String),
    #[error("the recording has no Opus audio track")]
    NoOpusTrack,
    #[error("the recording holds no audio")]
    Empty,
    #[error("a malformed Opus packet at {at_ms} ms")]
    BadPacket { at_ms: i64 },
    #[error("writing the Ogg file: {0}")]
    Write(#[from] io::Error),
}

/// The Opus audio of a recording: its identification header and its packets with their times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusAudio {
    /// `OpusHead` (the WebM track's CodecPrivate, byte for byte the Ogg ID header).
    pub head: Vec<u8>,
    /// (milliseconds from the start, one Opus packet), in order.
    pub packets: Vec<(i64, Vec<u8>)>,
}

/// Reads the Opus track of a WebM file. A file cut short (a crashed tab's last chunk) gives the
/// packets before the cut.
pub fn read_webm(bytes: &[u8]) -> Result<OpusAudio, RecordingError> {
    let mut head = None;
    let mut packets = Vec::new();
    each_packet(bytes, |found| {
        match found {
            Found::Head(found) => head = Some(found.to_vec()),
            Found::Packet(at, packet) => packets.push((at, packet.to_vec())),
        }
        Ok(())
    })?;
    let head = head.ok_or(RecordingError::NoOpusTrack)?;
    if packets.is_empty() {
        return Err(RecordingError::Empty);
    }
    Ok(OpusAudio { head, packets })
}

/// Converts a WebM recording to Ogg Opus as it is read, holding one packet at a time (however
/// long the recording, memory stays small); returns the duration in ms. What a cut-short file
/// gives is what [`read_webm`] gives, and the bytes written are those of [`OpusAudio::to_ogg`].
pub fn webm_to_ogg(input: impl Read, output: impl Write) -> Result<u64, RecordingError> {
    let mut ogg: Option<OggStream<_>> = None;
    let mut output = Some(output);
    each_packet(input, |found| match (found, ogg.as_mut()) {
        (Found::Head(head), _) => {
            if let Some(output) = output.take() {
                ogg = Some(OggStream::start(output, head)?);
            }
            Ok(())
        }
        (Found::Packet(at, packet), Some(ogg)) => ogg.packet(at, packet),
        (Found::Packet(..), None) => Err(RecordingError::NoOpusTrack),
    })?;
    let (_, duration_ms) = ogg.ok_or(RecordingError::NoOpusTrack)?.finish()?;
    Ok(duration_ms)
}

/// What walking a WebM stream finds, in order: the Opus track's header, then its packets.
enum Found<'a> {
    /// The track's OpusHead (checked).
    Head(&'a [u8]),
    /// One packet and its time in ms.
    Packet(i64, &'a [u8]),
}

/// Walks the Opus track of a WebM stream, telling `found` what it finds. Blocks before the track
/// is known, and of other tracks, are skipped; a stream cut short ends at the cut.
fn each_packet(
    input: impl Read,
    mut found: impl FnMut(Found<'_>) -> Result<(), RecordingError>,
) -> Result<(), RecordingError> {
    let mut input = input;
    let mut magic = [0u8; 4];
    if input.read_exact(&mut magic).is_err() || magic != [0x1A, 0x45, 0xDF, 0xA3] {
        return Err(RecordingError::NotWebm("no EBML header".into()));
    }
    let tags = WebmIterator::new(
        io::Cursor::new(magic).chain(input),
        &[MatroskaSpec::TrackEntry(Master::Start)],
    );
    let mut scale_ns: u64 = 1_000_000;
    let mut track: Option<u64> = None;
    let mut cluster_time: u64 = 0;
    for tag in tags {
        let tag = match tag {
            Ok(tag) => tag,
            Err(TagIteratorError::UnexpectedEOF { .. }) => break,
            Err(error) => return Err(RecordingError::NotWebm(error.to_string())),
        };
        match &tag {
            MatroskaSpec::TimestampScale(scale) => scale_ns = (*scale).max(1),
            MatroskaSpec::TrackEntry(Master::Full(children)) if track.is_none() => {
                let opus = children
                    .iter()
                    .any(|c| matches!(c, MatroskaSpec::CodecID(id) if id == "A_OPUS"));
                let number = children.iter().find_map(|c| match c {
                    MatroskaSpec::TrackNumber(n) => Some(*n),
                    _ => None,
                });
                let head = children.iter().find_map(|c| match c {
                    MatroskaSpec::CodecPrivate(head) => Some(head),
                    _ => None,
                });
                if let (true, Some(number), Some(head)) = (opus, number, head) {
                    if !is_opus_head(head) {
                        return Err(RecordingError::NoOpusTrack);
                    }
                    found(Found::Head(head))?;
                    track = Some(number);
                }
            }
            MatroskaSpec::Timestamp(time) => cluster_time = *time,
            MatroskaSpec::SimpleBlock(_) | MatroskaSpec::Block(_) => {
                if let Some((number, relative, frames)) = block_frames(&tag)?
                    && track == Some(number)
                {
                    let at = block_ms(cluster_time, relative, scale_ns);
                    each_frame(at, frames.iter().map(Vec::as_slice), &mut found)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `head` is an OpusHead (RFC 7845 §5.1) long enough to hold its pre-skip.
fn is_opus_head(head: &[u8]) -> bool {
    head.len() >= 19 && head.starts_with(b"OpusHead")
}

/// A block's track, its time relative to its cluster, and its frames.
type BlockFrames = (u64, i16, Vec<Vec<u8>>);

/// The frames of a (Simple)Block tag; `None` for other tags and for a block too short to hold its
/// header, which the parser would panic on: it is damage, skipped.
fn block_frames(tag: &MatroskaSpec) -> Result<Option<BlockFrames>, RecordingError> {
    let bad = |error: webm_iterable::errors::WebmCoercionError| {
        RecordingError::NotWebm(error.to_string())
    };
    let owned = |frames: Vec<webm_iterable::matroska_spec::Frame<'_>>| {
        frames
            .iter()
            .map(|frame| frame.data.to_vec())
            .collect::<Vec<_>>()
    };
    Ok(match tag {
        MatroskaSpec::SimpleBlock(data) if data.len() >= 4 => {
            let block = SimpleBlock::try_from(tag).map_err(bad)?;
            Some((
                block.track,
                block.timestamp,
                owned(block.read_frame_data().map_err(bad)?),
            ))
        }
        MatroskaSpec::Block(data) if data.len() >= 4 => {
            let block = Block::try_from(tag).map_err(bad)?;
            Some((
                block.track,
                block.timestamp,
                owned(block.read_frame_data().map_err(bad)?),
            ))
        }
        _ => None,
    })
}

fn block_ms(cluster_time: u64, relative: i16, scale_ns: u64) -> i64 {
    let ticks = i128::from(cluster_time) + i128::from(relative);
    (ticks * i128::from(scale_ns) / 1_000_000) as i64
}

/// Laced frames (Chromium never laces) follow each other without a gap.
fn each_frame<'a>(
    at_ms: i64,
    frames: impl Iterator<Item = &'a [u8]>,
    found: &mut impl FnMut(Found<'_>) -> Result<(), RecordingError>,
) -> Result<(), RecordingError> {
    let mut offset_samples = 0u64;
    for frame in frames {
        let ms = at_ms + (offset_samples * 1000 / OPUS_RATE) as i64;
        offset_samples +=
            u64::from(packet_samples(frame).ok_or(RecordingError::BadPacket { at_ms: ms })?);
        found(Found::Packet(ms, frame))?;
    }
    Ok(())
}

/// The number of 48 kHz samples in one Opus packet (RFC 6716 §3.1), `None` when malformed.
pub fn packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame: u32 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config & 3)],
        12..=15 => [480, 960][usize::from(config & 1)],
        _ => [120, 240, 480, 960][usize::from(config & 3)],
    };
    let frames: u32 = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3F),
    };
    let total = frame * frames;
    (frames > 0 && total <= 5_760).then_some(total)
}

impl OpusAudio {
    /// The real length: the last packet's time plus its own length.
    pub fn duration_ms(&self) -> u64 {
        let Some((at, last)) = self.packets.last() else {
            return 0;
        };
        let last_ms = u64::from(packet_samples(last).unwrap_or(0)) * 1000 / OPUS_RATE;
        u64::try_from(*at).unwrap_or(0) + last_ms
    }

    /// An Ogg Opus file (RFC 7845) of this audio: seekable, with its exact length.
    pub fn to_ogg(&self) -> Result<Vec<u8>, RecordingError> {
        let mut ogg = OggStream::start(Vec::new(), &self.head)?;
        for (at, packet) in &self.packets {
            ogg.packet(*at, packet)?;
        }
        Ok(ogg.finish()?.0)
    }
}

/// An Ogg Opus stream being written: the headers first, then each packet as it comes. The last
/// packet must end the stream, so one packet is held back until the next arrives or the stream
/// is finished. Pages end about every second, as opusenc does, so seeking lands close.
struct OggStream<W: Write> {
    writer: PacketWriter<'static, W>,
    granule: u64,
    on_page: u64,
    held: Option<(i64, Vec<u8>)>,
}

impl<W: Write> OggStream<W> {
    const SERIAL: u32 = 0x5C0A_C401;

    /// Writes the ID header (`head`, an OpusHead) and the comment header.
    fn start(output: W, head: &[u8]) -> Result<Self, RecordingError> {
        if !is_opus_head(head) {
            return Err(RecordingError::NoOpusTrack);
        }
        let mut writer = PacketWriter::new(output);
        writer.write_packet(head.to_vec(), Self::SERIAL, PacketWriteEndInfo::EndPage, 0)?;
        writer.write_packet(opus_tags(), Self::SERIAL, PacketWriteEndInfo::EndPage, 0)?;
        // The pre-skip: samples the decoder drops at the start.
        let pre_skip = u64::from(u16::from_le_bytes([head[10], head[11]]));
        Ok(OggStream {
            writer,
            granule: pre_skip,
            on_page: 0,
            held: None,
        })
    }

    /// Adds a packet spoken at `at_ms`.
    fn packet(&mut self, at_ms: i64, packet: &[u8]) -> Result<(), RecordingError> {
        if let Some((at, held)) = self.held.replace((at_ms, packet.to_vec())) {
            self.write(at, held, false)?;
        }
        Ok(())
    }

    /// Ends the stream with the last packet; answers the output and the duration in ms (the last
    /// packet's time plus its length).
    fn finish(mut self) -> Result<(W, u64), RecordingError> {
        let (at, last) = self.held.take().ok_or(RecordingError::Empty)?;
        let last_ms = u64::from(packet_samples(&last).unwrap_or(0)) * 1000 / OPUS_RATE;
        self.write(at, last, true)?;
        Ok((
            self.writer.into_inner(),
            u64::try_from(at).unwrap_or(0) + last_ms,
        ))
    }

    fn write(&mut self, at_ms: i64, packet: Vec<u8>, last: bool) -> Result<(), RecordingError> {
        let samples =
            u64::from(packet_samples(&packet).ok_or(RecordingError::BadPacket { at_ms })?);
        self.granule += samples;
        self.on_page += samples;
        let end = if last {
            PacketWriteEndInfo::EndStream
        } else if self.on_page >= OPUS_RATE {
            self.on_page = 0;
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        self.writer
            .write_packet(packet, Self::SERIAL, end, self.granule)?;
        Ok(())
    }
}

fn opus_tags() -> Vec<u8> {
    let vendor = b"speaking-coach";
    let mut tags = Vec::with_capacity(8 + 4 + vendor.len() + 4);
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    tags
}
