//! Object storage for recordings: one interface, two backends. Local disk is the default (files
//! under `STORAGE_DIR`); S3 (`STORAGE_BACKEND=s3`) works with AWS and S3-compatible servers.
//! Keys are built here from ids only, never from what a user typed; objects are private.

mod local;
mod s3;

use std::{fmt, sync::Arc};

use bytes::Bytes;
use uuid::Uuid;

pub use local::LocalStore;
pub use s3::S3Store;

use super::config::StorageConfig;

/// A validated object key: `/`-separated segments of `[a-z0-9._-]`, none starting with `.`
/// (which also rules out `.` and `..`, and the local store's temporary files).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Every session's objects live under this prefix.
    pub const SESSIONS: &str = "sessions/";

    /// Everything stored for one practice session lives under this prefix.
    pub fn session_prefix(session: Uuid) -> String {
        format!("{}{session}/", Self::SESSIONS)
    }

    /// The session this object belongs to, for keys under [`Self::SESSIONS`].
    pub fn session(&self) -> Option<Uuid> {
        let rest = self.0.strip_prefix(Self::SESSIONS)?;
        let (id, _) = rest.split_once('/')?;
        Uuid::parse_str(id).ok()
    }

    /// One uploaded piece of a session's recording, named by its place and its content's hash
    /// (so two different uploads for one place can never overwrite each other).
    pub fn chunk(session: Uuid, sequence: u32, sha256: &[u8; 32]) -> Self {
        let hash: String = sha256[..8].iter().map(|b| format!("{b:02x}")).collect();
        ObjectKey(format!("sessions/{session}/chunks/{sequence:08}-{hash}"))
    }

    /// A session's assembled recording.
    pub fn recording(session: Uuid, extension: &str) -> Self {
        ObjectKey(format!("sessions/{session}/recording.{extension}"))
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        let valid_segment = |segment: &str| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        };
        if raw.len() <= 512 && raw.split('/').all(valid_segment) {
            Ok(ObjectKey(raw.to_owned()))
        } else {
            Err(InvalidKey(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid object key")]
pub struct InvalidKey(String);

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("S3: {0}")]
    S3(String),
    /// The range starts at or beyond the object's end.
    #[error("the range starts beyond the object's end ({size} bytes)")]
    RangeNotSatisfiable { size: u64 },
}

impl From<StorageError> for crate::error::AppError {
    fn from(error: StorageError) -> Self {
        super::error::internal("storage", &error)
    }
}

/// Part of an object as it is read, and the object's whole size.
pub struct RangeReader {
    pub body: std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>,
    /// First and last byte (inclusive) of `body` within the object.
    pub start: u64,
    pub end: u64,
    pub size: u64,
}

/// Part of an object, and the object's whole size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRead {
    pub bytes: Bytes,
    /// First and last byte (inclusive) of `bytes` within the object.
    pub start: u64,
    pub end: u64,
    pub size: u64,
}

#[derive(Clone)]
pub enum Storage {
    Local(Arc<LocalStore>),
    S3(Arc<S3Store>),
}

impl Storage {
    pub fn from_config(config: &StorageConfig) -> Self {
        match config {
            StorageConfig::Local { dir } => Storage::Local(Arc::new(LocalStore::new(dir))),
            StorageConfig::S3(s3) => Storage::S3(Arc::new(S3Store::new(s3))),
        }
    }

    /// `local` or `s3`, for logs and the readiness report.
    pub fn backend(&self) -> &'static str {
        match self {
            Storage::Local(_) => "local",
            Storage::S3(_) => "s3",
        }
    }

    /// Stores `body` under `key`, replacing what was there. Readers see the old object or the new
    /// one, never a mix; of concurrent writers, one wins whole.
    pub async fn put(
        &self,
        key: &ObjectKey,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        match self {
            Storage::Local(store) => store.put(key, body).await,
            Storage::S3(store) => store.put(key, body, content_type).await,
        }
    }

    /// Stores the file at `path` under `key`, read as it is sent (never whole in memory), with the
    /// same all-or-nothing guarantee as [`Storage::put`].
    pub async fn put_file(
        &self,
        key: &ObjectKey,
        path: &std::path::Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        match self {
            Storage::Local(store) => store.put_file(key, path).await,
            Storage::S3(store) => store.put_file(key, path, content_type).await,
        }
    }

    /// The whole object, or `None` when there is none.
    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        match self {
            Storage::Local(store) => store.get(key).await,
            Storage::S3(store) => store.get(key).await,
        }
    }

    /// Bytes `start..=end` (to the object's end when `end` is `None` or beyond it), read as they
    /// are sent: nothing is held in memory beyond what the reader buffers.
    pub async fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        end: Option<u64>,
    ) -> Result<Option<RangeReader>, StorageError> {
        match self {
            Storage::Local(store) => store.read_range(key, start, end).await,
            Storage::S3(store) => store.read_range(key, start, end).await,
        }
    }

    /// Bytes `start..=end` (to the object's end when `end` is `None` or beyond it), in memory.
    pub async fn get_range(
        &self,
        key: &ObjectKey,
        start: u64,
        end: Option<u64>,
    ) -> Result<Option<RangeRead>, StorageError> {
        let Some(mut reader) = self.read_range(key, start, end).await? else {
            return Ok(None);
        };
        let mut bytes =
            Vec::with_capacity(usize::try_from(reader.end - reader.start + 1).unwrap_or(0));
        tokio::io::AsyncReadExt::read_to_end(&mut reader.body, &mut bytes).await?;
        Ok(Some(RangeRead {
            bytes: Bytes::from(bytes),
            start: reader.start,
            end: reader.end,
            size: reader.size,
        }))
    }

    /// A short-lived URL that reads the object straight from the store, where the store has one
    /// (S3); `None` for local disk, whose objects the app serves itself.
    pub async fn presigned_get(
        &self,
        key: &ObjectKey,
        expires_in: std::time::Duration,
    ) -> Result<Option<String>, StorageError> {
        match self {
            Storage::Local(_) => Ok(None),
            Storage::S3(store) => store.presigned_get(key, expires_in).await.map(Some),
        }
    }

    /// The object's size, or `None` when there is none.
    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, StorageError> {
        match self {
            Storage::Local(store) => store.size(key).await,
            Storage::S3(store) => store.size(key).await,
        }
    }

    /// Removes the object; removing one that is not there is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match self {
            Storage::Local(store) => store.delete(key).await,
            Storage::S3(store) => store.delete(key).await,
        }
    }

    /// Every key under `prefix` (which ends with `/`), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectKey>, StorageError> {
        let mut keys = match self {
            Storage::Local(store) => store.list(prefix).await?,
            Storage::S3(store) => store.list(prefix).await?,
        };
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(keys)
    }

    /// Can we store and read? (`/readyz`.)
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            Storage::Local(store) => store.check().await,
            Storage::S3(store) => store.check().await,
        }
    }
}

/// The inclusive end of a read of `start..=end` from an object of `size` bytes.
fn clamp_range(start: u64, end: Option<u64>, size: u64) -> Result<u64, StorageError> {
    if start >= size {
        return Err(StorageError::RangeNotSatisfiable { size });
    }
    Ok(end.map_or(size - 1, |end| end.min(size - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_built_from_ids_and_parsed_strictly() {
        let session = Uuid::nil();
        assert_eq!(
            ObjectKey::chunk(session, 7, &[0xab; 32]).as_str(),
            "sessions/00000000-0000-0000-0000-000000000000/chunks/00000007-abababababababab"
        );
        assert!(ObjectKey::parse("sessions/a/recording.ogg").is_ok());
        assert_eq!(
            ObjectKey::recording(session, "ogg").session(),
            Some(session)
        );
        assert_eq!(ObjectKey::parse("sessions/a/b").unwrap().session(), None);
        assert_eq!(ObjectKey::parse("other/x").unwrap().session(), None);
        for bad in [
            "",
            "a//b",
            "../etc/passwd",
            "a/./b",
            "A/b",
            "a/b c",
            "/a",
            "a/",
            "a/.tmp-1",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_are_clamped_to_the_object() {
        assert_eq!(clamp_range(0, None, 10).unwrap(), 9);
        assert_eq!(clamp_range(2, Some(4), 10).unwrap(), 4);
        assert_eq!(clamp_range(2, Some(40), 10).unwrap(), 9);
        assert!(clamp_range(10, None, 10).is_err());
        assert!(clamp_range(0, None, 0).is_err());
    }
}
