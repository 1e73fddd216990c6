//! `PUT /api/practice/{session}/chunks/{sequence}`: one piece of a session's recording, uploaded
//! by the browser while the learner speaks. A plain axum route (not a server function) so the
//! body is read as a stream with a hard size limit.
//!
//! Idempotent per (session, sequence): the same bytes again are acknowledged (200) and change
//! nothing; different bytes for a place already taken are refused (409). Pieces may arrive in any
//! order. Someone else's session is not found (404). Once a session's recording is final, no
//! more pieces are taken (409); while it is provisional they are, for recovery.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    auth::CurrentUser,
    db::{
        chunks::{self, Inserted},
        recordings,
    },
    limits,
    owned::owned,
    state::AppState,
    storage::ObjectKey,
};
use crate::error::AppError;

/// The largest piece accepted. The recorder sends one every 4 s (about 32 KB at 64 kbit/s); this
/// leaves room for long slices and other codecs while bounding memory per request.
pub const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// The highest sequence number: more than a day of 4-second pieces.
pub const MAX_SEQUENCE: u32 = 100_000;

#[derive(Debug, Serialize)]
pub struct ChunkReceipt {
    pub sequence: u32,
    pub size: usize,
    /// Hex SHA-256 of the bytes stored.
    pub sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_session, sequence = raw_sequence))]
pub async fn put_chunk(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((raw_session, raw_sequence)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<ChunkReceipt>), AppError> {
    let session = owned(&state.db, &user, &raw_session).await?.id;
    let sequence = raw_sequence
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_SEQUENCE)
        .ok_or_else(|| {
            AppError::invalid(format!(
                "The chunk number must be a whole number from 0 to {MAX_SEQUENCE}."
            ))
        })?;
    if recordings::find(&state.db, session)
        .await?
        .is_some_and(|done| !done.is_provisional())
    {
        return Err(AppError::Conflict {
            message: "This session's recording is already complete: no more audio can be added."
                .into(),
        });
    }

    let too_large = || AppError::TooLarge {
        limit_bytes: MAX_CHUNK_BYTES as u64,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_CHUNK_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = match Limited::new(body, MAX_CHUNK_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(too_large());
        }
        Err(error) => {
            tracing::info!(%error, "chunk upload interrupted");
            return Err(AppError::invalid(
                "The upload was interrupted. Please send it again.",
            ));
        }
    };
    if bytes.is_empty() {
        return Err(AppError::invalid("A chunk cannot be empty."));
    }
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    let receipt = ChunkReceipt {
        sequence,
        size: bytes.len(),
        sha256: hex(&digest),
    };
    let conflict = || AppError::Conflict {
        message: format!("Chunk {sequence} was already received with different content."),
    };

    match chunks::hash_of(&state.db, session, sequence).await? {
        Some(stored) if stored == digest => return Ok((StatusCode::OK, Json(receipt))),
        Some(_) => return Err(conflict()),
        None => {}
    }
    limits::admit_upload(
        &state.db,
        &state.config.limits,
        user.id,
        session,
        receipt.size as u64,
    )
    .await?;
    let key = ObjectKey::chunk(session, sequence, &digest);
    state
        .storage
        .put(&key, bytes, "application/octet-stream")
        .await?;
    match chunks::insert(&state.db, session, sequence, receipt.size, &digest).await {
        Ok(Inserted::Yes) => {
            tracing::info!(size = receipt.size, "chunk stored");
            return Ok((StatusCode::CREATED, Json(receipt)));
        }
        Ok(Inserted::Taken) => {}
        // Deleted while the piece was uploading: nothing may keep its audio.
        Ok(Inserted::Gone) => {
            state.storage.delete(&key).await?;
            return Err(AppError::not_found("practice session"));
        }
        Err(error) => {
            if let Err(error) = state.storage.delete(&key).await {
                tracing::warn!(%error, "a stored chunk without its receipt was not removed");
            }
            return Err(error.into());
        }
    }
    // A concurrent upload took this place between our check and our insert.
    match chunks::hash_of(&state.db, session, sequence).await? {
        Some(stored) if stored == digest => Ok((StatusCode::OK, Json(receipt))),
        _ => {
            state.storage.delete(&key).await?;
            Err(conflict())
        }
    }
}
