//! Finalization: a session's uploaded chunks assembled, in order, into one seekable recording
//! (Ogg Opus, with its duration read from the media), stored as `recording.ogg`.
//!
//! A final recording is made once: every later (or concurrent) call answers the same, and the
//! chunks that went into it are removed. A provisional one (made by the server when the tab went
//! quiet) keeps its chunks and is made again when the browser brings the rest. A missing chunk
//! ends the recording there and is recorded as a gap; bytes that are not audio fail with the
//! reason stored, and the chunks are kept.

use std::{
    io::{self, Read},
    sync::{Arc, Mutex},
};

use bytes::{Buf, Bytes};
use uuid::Uuid;

use super::{
    db::{
        chunks,
        recordings::{self, Claim},
    },
    recording::{RecordingError, webm_to_ogg},
    state::AppState,
    storage::{ObjectKey, Storage, StorageError},
};
use crate::{domain::practice::Recording, error::AppError};

/// Whether more audio may still come for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finalize {
    /// Everything there is has been sent (End, recovery, or the learner's choice): the recording
    /// is made for good and its chunks removed.
    Final,
    /// From what has arrived so far; the chunks are kept for a later, final one.
    Provisional,
}

pub const RECORDING_MIME: &str = "audio/ogg; codecs=opus";

/// Chunk numbers in `0..=max` that are not in `present` (sorted).
fn missing(present: &[u32]) -> Vec<u32> {
    let Some(max) = present.last() else {
        return Vec::new();
    };
    (0..=*max)
        .filter(|n| present.binary_search(n).is_err())
        .collect()
}

/// How long one finalization holds its claim on a session before renewing it (every
/// `RENEW_EVERY_SECS` while it works); a process that dies holding it lets the next one in after
/// at most this.
const CLAIM_SECS: i64 = 120;
const RENEW_EVERY_SECS: u64 = 30;

/// How long a caller that must have the recording (End, recovery) waits for another
/// finalization of the same session to finish, checking every `BUSY_POLL_MS`.
const BUSY_WAIT_MS: u64 = 20_000;
const BUSY_POLL_MS: u64 = 250;

/// Finalizes the session's recording, once at a time per session: a second call while one runs
/// is a `Conflict` at once (it holds no connection while the first works). The work runs in a
/// task of its own, so a caller that goes away does not leave the claim held.
#[tracing::instrument(skip_all, fields(session_id = %session, ?mode))]
pub async fn finalize(
    state: &AppState,
    session: Uuid,
    mode: Finalize,
) -> Result<Recording, AppError> {
    let holder = match recordings::claim(&state.db, session, CLAIM_SECS).await? {
        Claim::Taken(holder) => holder,
        Claim::Busy => {
            return Err(AppError::Conflict {
                message: "This recording is being put together right now. Try again in a moment."
                    .into(),
            });
        }
        Claim::NoSession => return Err(AppError::not_found("practice session")),
    };
    let worker = state.clone();
    let work = tokio::spawn(async move {
        let renewing = tokio::spawn(renew_while_working(worker.db.clone(), session, holder));
        let outcome = finalize_claimed(&worker, session, mode).await;
        renewing.abort();
        if let Err(error) = recordings::release(&worker.db, session, holder).await {
            tracing::warn!(%error, "finalization claim left to expire");
        }
        outcome
    });
    match work.await {
        Ok(outcome) => outcome,
        Err(error) => Err(super::error::internal("finalize task", &error)),
    }
}

/// Keeps the claim alive while a long finalization works (a long recording on slow storage), so
/// that no other process takes it over meanwhile; stops when the claim is no longer this one's.
async fn renew_while_working(db: sqlx::PgPool, session: Uuid, holder: Uuid) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(RENEW_EVERY_SECS));
    every.tick().await;
    loop {
        every.tick().await;
        match recordings::renew(&db, session, holder, CLAIM_SECS).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("finalization claim lost before the work finished");
                return;
            }
            Err(error) => tracing::warn!(%error, "finalization claim not renewed"),
        }
    }
}

/// [`finalize`], waiting (without holding anything) while another finalization of the session
/// runs, up to `BUSY_WAIT_MS`.
pub async fn finalize_waiting(
    state: &AppState,
    session: Uuid,
    mode: Finalize,
) -> Result<Recording, AppError> {
    let mut waited = 0;
    loop {
        match finalize(state, session, mode).await {
            Err(AppError::Conflict { .. }) if waited < BUSY_WAIT_MS => {
                tokio::time::sleep(std::time::Duration::from_millis(BUSY_POLL_MS)).await;
                waited += BUSY_POLL_MS;
            }
            outcome => return outcome,
        }
    }
}

async fn finalize_claimed(
    state: &AppState,
    session: Uuid,
    mode: Finalize,
) -> Result<Recording, AppError> {
    if let Some(done) = recordings::find(&state.db, session).await?
        && !done.is_provisional()
    {
        return Ok(done);
    }
    let provisional = mode == Finalize::Provisional;
    let receipts = chunks::list(&state.db, session).await?;
    let numbers: Vec<u32> = receipts.iter().map(|(n, _)| *n).collect();
    let missing_chunks = missing(&numbers);
    let first_gap = missing_chunks.first().copied().unwrap_or(u32::MAX);
    let usable: Vec<ObjectKey> = receipts
        .iter()
        .filter(|(n, _)| *n < first_gap)
        .filter_map(|(n, hash)| {
            let hash: [u8; 32] = hash.as_slice().try_into().ok()?;
            Some(ObjectKey::chunk(session, *n, &hash))
        })
        .collect();
    let failed = |reason: String| Recording::Failed {
        reason,
        missing_chunks: missing_chunks.clone(),
        provisional,
    };

    if usable.is_empty() {
        let outcome = failed("No audio was received for this session.".into());
        return record(state, session, outcome).await;
    }
    // The pieces are read one at a time and the Ogg file written to a temporary file as they
    // are converted: memory holds one piece, however long the session.
    let scratch = std::env::temp_dir().join(format!(
        "speaking-coach-recording-{session}-{}.ogg",
        Uuid::new_v4().simple()
    ));
    let pieces = Pieces::new(state.storage.clone(), usable.clone());
    let trouble = pieces.trouble.clone();
    // Ok(Ok(duration, size)), or Ok(Err(why the audio can't be used)), or Err (try again later).
    let made: Result<Result<(u64, u64), String>, AppError> = match convert(pieces, &scratch).await {
        Ok(Ok(duration_ms)) => store(state, session, &scratch)
            .await
            .map(|size| Ok((duration_ms, size))),
        Ok(Err(error)) => match trouble.lock().map(|mut t| t.take()).unwrap_or_default() {
            Some(Trouble::Missing) => Ok(Err(
                "A piece of the recording went missing from storage.".into(),
            )),
            Some(Trouble::Storage(error)) => Err(error.into()),
            None => {
                tracing::warn!(%error, "recording not finalized");
                Ok(Err(format!("The recording could not be read ({error}).")))
            }
        },
        Err(error) => Err(error),
    };
    let _ = tokio::fs::remove_file(&scratch).await;
    let (duration_ms, size_bytes) = match made? {
        Ok(made) => made,
        Err(reason) => return record(state, session, failed(reason)).await,
    };
    let outcome = Recording::Ready {
        mime_type: RECORDING_MIME.into(),
        size_bytes,
        duration_ms,
        missing_chunks: missing_chunks.clone(),
        provisional,
    };
    let outcome = record(state, session, outcome).await?;
    if !provisional {
        for key in &usable {
            state.storage.delete(key).await?;
        }
    }
    tracing::info!(
        duration_ms,
        size_bytes,
        missing = missing_chunks.len(),
        provisional,
        "recording finalized"
    );
    Ok(outcome)
}

/// Converts the pieces' WebM into an Ogg file at `output` (CPU and file work: on a blocking
/// thread); answers the duration, or why the audio could not be read.
async fn convert(
    pieces: Pieces,
    output: &std::path::Path,
) -> Result<Result<u64, RecordingError>, AppError> {
    let output = output.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut file = io::BufWriter::new(std::fs::File::create(&output)?);
        let converted = webm_to_ogg(pieces, &mut file);
        io::Write::flush(&mut file)?;
        Ok::<_, io::Error>(converted)
    })
    .await
    .map_err(|error| super::error::internal("recording conversion", &error))?
    .map_err(|error| super::error::internal("recording file", &error))
}

/// Stores the converted recording; answers its size.
async fn store(state: &AppState, session: Uuid, file: &std::path::Path) -> Result<u64, AppError> {
    let size = tokio::fs::metadata(file)
        .await
        .map_err(|error| super::error::internal("recording file", &error))?
        .len();
    state
        .storage
        .put_file(&ObjectKey::recording(session, "ogg"), file, RECORDING_MIME)
        .await?;
    Ok(size)
}

/// Why reading the pieces stopped, when it was not the audio's fault.
enum Trouble {
    /// A piece is gone from storage: the recording ends in a gap for good.
    Missing,
    /// Storage failed: worth trying again later.
    Storage(StorageError),
}

/// A session's pieces read one after another as one stream, each fetched from storage when the
/// reader gets to it (from a blocking thread: each fetch waits on the runtime). A fetch that
/// fails ends the stream with an error and says why in `trouble`.
struct Pieces {
    storage: Storage,
    keys: std::vec::IntoIter<ObjectKey>,
    current: Bytes,
    runtime: tokio::runtime::Handle,
    trouble: Arc<Mutex<Option<Trouble>>>,
}

impl Pieces {
    fn new(storage: Storage, keys: Vec<ObjectKey>) -> Self {
        Pieces {
            storage,
            keys: keys.into_iter(),
            current: Bytes::new(),
            runtime: tokio::runtime::Handle::current(),
            trouble: Arc::default(),
        }
    }

    fn stop(&self, trouble: Trouble) -> io::Error {
        if let Ok(mut slot) = self.trouble.lock() {
            *slot = Some(trouble);
        }
        io::Error::other("a piece of the recording could not be read from storage")
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            let Some(key) = self.keys.next() else {
                return Ok(0);
            };
            match self.runtime.block_on(self.storage.get(&key)) {
                Ok(Some(piece)) => self.current = piece,
                Ok(None) => return Err(self.stop(Trouble::Missing)),
                Err(error) => return Err(self.stop(Trouble::Storage(error))),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Stores the outcome and answers what is stored.
async fn record(
    state: &AppState,
    session: Uuid,
    outcome: Recording,
) -> Result<Recording, AppError> {
    recordings::save(&state.db, session, &outcome).await?;
    Ok(recordings::find(&state.db, session)
        .await?
        .unwrap_or(outcome))
}

#[cfg(test)]
mod tests {
    use super::missing;

    #[test]
    fn gaps_are_the_numbers_that_never_arrived() {
        assert_eq!(missing(&[]), Vec::<u32>::new());
        assert_eq!(missing(&[0, 1, 2]), Vec::<u32>::new());
        assert_eq!(missing(&[0, 2, 5]), vec![1, 3, 4]);
        assert_eq!(missing(&[1]), vec![0]);
    }
}
