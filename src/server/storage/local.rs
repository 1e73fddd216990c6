//! Objects as files under one folder. Writes go to a temporary file that is renamed into place,
//! so a reader never sees half an object.

use std::{
    io::SeekFrom,
    path::{Path, PathBuf},
};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use super::{ObjectKey, RangeReader, StorageError, clamp_range};

pub struct LocalStore {
    root: PathBuf,
}

fn missing(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::NotFound
}

impl LocalStore {
    pub fn new(root: &Path) -> Self {
        LocalStore {
            root: root.to_owned(),
        }
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        // Keys are validated segments, so this never leaves `root`.
        self.root.join(key.as_str())
    }

    pub async fn put(&self, key: &ObjectKey, body: Bytes) -> Result<(), StorageError> {
        self.write_into_place(key, async |temporary| {
            let mut file = tokio::fs::File::create(temporary).await?;
            file.write_all(&body).await?;
            file.sync_all().await
        })
        .await
    }

    pub async fn put_file(&self, key: &ObjectKey, source: &Path) -> Result<(), StorageError> {
        self.write_into_place(key, async |temporary| {
            tokio::fs::copy(source, temporary).await?;
            tokio::fs::File::open(temporary).await?.sync_all().await
        })
        .await
    }

    /// Has `write` fill a temporary file beside `key`'s, then renames it into place, so a reader
    /// never sees half an object; the temporary file is removed if anything fails.
    async fn write_into_place(
        &self,
        key: &ObjectKey,
        write: impl AsyncFnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<(), StorageError> {
        let path = self.path(key);
        let folder = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(folder).await?;
        let temporary = folder.join(format!(".tmp-{}", Uuid::new_v4()));
        let written = async {
            write(&temporary).await?;
            tokio::fs::rename(&temporary, &path).await
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        Ok(written?)
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(error) if missing(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        end: Option<u64>,
    ) -> Result<Option<RangeReader>, StorageError> {
        let mut file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(error) if missing(&error) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let size = file.metadata().await?.len();
        let end = clamp_range(start, end, size)?;
        file.seek(SeekFrom::Start(start)).await?;
        Ok(Some(RangeReader {
            body: Box::pin(file.take(end - start + 1)),
            start,
            end,
            size,
        }))
    }

    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, StorageError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if missing(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(error) if !missing(&error) => Err(error.into()),
            _ => Ok(()),
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectKey>, StorageError> {
        let mut keys = Vec::new();
        let mut folders = vec![self.root.join(prefix.trim_end_matches('/'))];
        while let Some(folder) = folders.pop() {
            let mut entries = match tokio::fs::read_dir(&folder).await {
                Ok(entries) => entries,
                Err(error) if missing(&error) => continue,
                Err(error) => return Err(error.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                if entry.file_type().await?.is_dir() {
                    folders.push(path);
                } else if let Some(key) = path
                    .strip_prefix(&self.root)
                    .ok()
                    .and_then(|relative| relative.to_str())
                    .and_then(|relative| ObjectKey::parse(relative).ok())
                {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(&self.root).await?;
        let probe = self.root.join(format!(".ready-{}", Uuid::new_v4()));
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }
}
