//! Benchmark helper: gives an existing practice session a finished recording `seconds` long (the
//! committed Chromium fixture's audio repeated), stored where the app stores recordings, through
//! the app's own configuration (`DATABASE_URL`, `STORAGE_*`, `S3_*`). `script/bench replay` uses it
//! to measure playback of a long recording without speaking for minutes first.
//!
//!   cargo run --release --features ssr --example seed_recording -- <session-id> <seconds>

use speaking_coach::{
    domain::practice::Recording,
    server::{
        config::Config,
        db::recordings,
        finalize::RECORDING_MIME,
        recording::{OpusAudio, read_webm},
        storage::{ObjectKey, Storage},
    },
};

const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/chromium-mediarecorder.webm");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(session), Some(seconds)) = (args.next(), args.next()) else {
        return Err("usage: seed_recording <session-id> <seconds>".into());
    };
    let session = uuid::Uuid::parse_str(&session)?;
    let wanted_ms = seconds.parse::<u64>()? * 1000;

    let fixture = read_webm(FIXTURE)?;
    let period = fixture.duration_ms() as i64;
    let mut audio = OpusAudio {
        head: fixture.head.clone(),
        packets: Vec::new(),
    };
    let mut offset = 0;
    while audio.duration_ms() < wanted_ms {
        for (at, packet) in &fixture.packets {
            audio.packets.push((offset + at, packet.clone()));
        }
        offset += period;
    }
    let ogg = audio.to_ogg()?;

    let config = Config::load()?;
    let storage = Storage::from_config(&config.storage);
    let size_bytes = ogg.len() as u64;
    storage
        .put(
            &ObjectKey::recording(session, "ogg"),
            ogg.into(),
            RECORDING_MIME,
        )
        .await?;
    let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    let recording = Recording::Ready {
        mime_type: RECORDING_MIME.into(),
        size_bytes,
        duration_ms: audio.duration_ms(),
        missing_chunks: Vec::new(),
        provisional: false,
    };
    recordings::save(&pool, session, &recording).await?;
    println!("{}", audio.duration_ms());
    Ok(())
}
