//! Objects in an S3 bucket (AWS, or any S3-compatible server), through aws-sdk-s3. The client is
//! configured only from `StorageConfig`: it reads no AWS environment variables or profiles.

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    error::{DisplayErrorContext, SdkError},
    primitives::ByteStream,
};
use bytes::Bytes;
use secrecy::ExposeSecret;

use super::{ObjectKey, RangeReader, StorageError, clamp_range};
use crate::server::config::S3Config;

pub struct S3Store {
    client: Client,
    bucket: String,
}

fn s3_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StorageError {
    StorageError::S3(DisplayErrorContext(&error).to_string())
}

impl S3Store {
    pub fn new(config: &S3Config) -> Self {
        let credentials = Credentials::new(
            config.access_key_id.clone(),
            config.secret_access_key.expose_secret().to_owned(),
            None,
            None,
            "speaking-coach-config",
        );
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(config.force_path_style);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        S3Store {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
        }
    }

    /// Creates the bucket when it does not exist yet (development and tests).
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error)
                if error.as_service_error().is_some_and(|e| {
                    e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(error) => Err(s3_error(error)),
        }
    }

    pub async fn put(
        &self,
        key: &ObjectKey,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.put_stream(key, ByteStream::from(body), content_type)
            .await
    }

    /// Uploads the file as it is read.
    pub async fn put_file(
        &self,
        key: &ObjectKey,
        path: &std::path::Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|error| StorageError::S3(error.to_string()))?;
        self.put_stream(key, body, content_type).await
    }

    async fn put_stream(
        &self,
        key: &ObjectKey,
        body: ByteStream,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        let Some(body) = self.object(key, None).await? else {
            return Ok(None);
        };
        let bytes = body
            .collect()
            .await
            .map_err(|error| StorageError::S3(error.to_string()))?;
        Ok(Some(bytes.into_bytes()))
    }

    pub async fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        end: Option<u64>,
    ) -> Result<Option<RangeReader>, StorageError> {
        // One HEAD first: S3's own answer to a range past the end is an error without the size.
        let Some(size) = self.size(key).await? else {
            return Ok(None);
        };
        let end = clamp_range(start, end, size)?;
        let body = self
            .object(key, Some(format!("bytes={start}-{end}")))
            .await?;
        Ok(body.map(|body| RangeReader {
            body: Box::pin(body.into_async_read()),
            start,
            end,
            size,
        }))
    }

    /// A URL that reads the object directly from S3 until `expires_in` has passed.
    pub async fn presigned_get(
        &self,
        key: &ObjectKey,
        expires_in: std::time::Duration,
    ) -> Result<String, StorageError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
            .map_err(|error| StorageError::S3(error.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(config)
            .await
            .map_err(s3_error)?;
        Ok(request.uri().to_owned())
    }

    /// The object's body (or the `range` of it) as it arrives, `None` when there is no such key.
    async fn object(
        &self,
        key: &ObjectKey,
        range: Option<String>,
    ) -> Result<Option<ByteStream>, StorageError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_range(range)
            .send()
            .await
        {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(s3_error(error)),
        };
        Ok(Some(object.body))
    }

    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(head) => Ok(Some(
                head.content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(s3_error(error)),
        }
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectKey>, StorageError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(s3_error)?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key())
                    .filter_map(|key| ObjectKey::parse(key).ok()),
            );
        }
        Ok(keys)
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }
}
