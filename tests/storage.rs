//! The storage backends, one suite run against both: local disk, and a real S3-compatible server
//! (SeaweedFS, started by `script/test`; its address comes in `S3_TEST_*`).
#![cfg(feature = "ssr")]

use std::sync::Arc;

use bytes::Bytes;
use secrecy::SecretString;
use speaking_coach::server::{
    config::{S3Config, StorageConfig},
    storage::{ObjectKey, Storage, StorageError},
};
use uuid::Uuid;

/// A local store in a fresh folder.
async fn local() -> Storage {
    let dir = std::env::temp_dir().join(format!("speaking-coach-storage-{}", Uuid::new_v4()));
    Storage::from_config(&StorageConfig::Local { dir })
}

/// The S3 store of the server `script/test` started. Without it the S3 tests fail (they must not
/// pass silently): set `S3_TESTS=skip` to leave them out on purpose.
async fn s3() -> Option<Storage> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var("S3_TEST_ENDPOINT") else {
        assert_eq!(
            var("S3_TESTS").as_deref(),
            Some("skip"),
            "S3_TEST_ENDPOINT is not set: run the tests through script/test (it starts SeaweedFS), \
             or set S3_TESTS=skip to leave the S3 backend out"
        );
        return None;
    };
    let config = S3Config {
        bucket: var("S3_TEST_BUCKET").unwrap_or_else(|| "recordings".into()),
        region: "us-east-1".into(),
        endpoint: Some(endpoint),
        access_key_id: var("S3_TEST_ACCESS_KEY_ID").expect("S3_TEST_ACCESS_KEY_ID"),
        secret_access_key: SecretString::from(
            var("S3_TEST_SECRET_ACCESS_KEY").expect("S3_TEST_SECRET_ACCESS_KEY"),
        ),
        force_path_style: true,
    };
    let storage = Storage::from_config(&StorageConfig::S3(config));
    if let Storage::S3(store) = &storage {
        store.ensure_bucket().await.expect("the test bucket exists");
    }
    Some(storage)
}

/// Keys unique to one test run, so tests can share a bucket.
fn key(name: &str) -> ObjectKey {
    ObjectKey::parse(&format!("tests/{}/{name}", Uuid::new_v4())).unwrap()
}

async fn put_get_and_overwrite(storage: Storage) {
    let key = key("object");
    assert_eq!(storage.get(&key).await.unwrap(), None);
    assert_eq!(storage.size(&key).await.unwrap(), None);
    storage
        .put(&key, Bytes::from_static(b"first version"), "text/plain")
        .await
        .unwrap();
    assert_eq!(
        storage.get(&key).await.unwrap().as_deref(),
        Some(&b"first version"[..])
    );
    storage
        .put(&key, Bytes::from_static(b"second"), "text/plain")
        .await
        .unwrap();
    assert_eq!(
        storage.get(&key).await.unwrap().as_deref(),
        Some(&b"second"[..])
    );
    assert_eq!(storage.size(&key).await.unwrap(), Some(6));
}

async fn ranges(storage: Storage) {
    let key = key("range");
    let body: Vec<u8> = (0..=255).collect();
    storage
        .put(&key, Bytes::from(body.clone()), "application/octet-stream")
        .await
        .unwrap();
    let read = storage
        .get_range(&key, 10, Some(19))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.start, read.end, read.size), (10, 19, 256));
    assert_eq!(&read.bytes[..], &body[10..20]);
    let mut streamed = storage
        .read_range(&key, 100, Some(199))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (streamed.start, streamed.end, streamed.size),
        (100, 199, 256)
    );
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut streamed.body, &mut bytes)
        .await
        .unwrap();
    assert_eq!(bytes, &body[100..200], "a streamed range stops at its end");
    let tail = storage.get_range(&key, 250, None).await.unwrap().unwrap();
    assert_eq!(&tail.bytes[..], &body[250..]);
    let clamped = storage
        .get_range(&key, 250, Some(9_999))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(clamped.end, 255);
    assert!(matches!(
        storage.get_range(&key, 256, None).await,
        Err(StorageError::RangeNotSatisfiable { size: 256 })
    ));
    assert!(matches!(
        storage.read_range(&key, 256, None).await,
        Err(StorageError::RangeNotSatisfiable { size: 256 })
    ));
    assert_eq!(
        storage
            .get_range(&self::key("none"), 0, None)
            .await
            .unwrap(),
        None
    );
}

async fn delete_is_idempotent(storage: Storage) {
    let key = key("doomed");
    storage
        .put(&key, Bytes::from_static(b"x"), "text/plain")
        .await
        .unwrap();
    storage.delete(&key).await.unwrap();
    assert_eq!(storage.get(&key).await.unwrap(), None);
    storage.delete(&key).await.unwrap();
}

async fn listing_by_prefix(storage: Storage) {
    let prefix = format!("tests/{}/", Uuid::new_v4());
    for name in ["b", "a", "c/d"] {
        let key = ObjectKey::parse(&format!("{prefix}{name}")).unwrap();
        storage
            .put(&key, Bytes::from_static(b"."), "text/plain")
            .await
            .unwrap();
    }
    let listed: Vec<String> = storage
        .list(&prefix)
        .await
        .unwrap()
        .iter()
        .map(|key| key.as_str().trim_start_matches(&prefix).to_owned())
        .collect();
    assert_eq!(listed, ["a", "b", "c/d"]);
    assert!(
        storage
            .list(&format!("tests/{}/", Uuid::new_v4()))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn concurrent_writers(storage: Storage) {
    // Many writers to one key: the result is one of them, whole.
    let shared = Arc::new(key("contended"));
    let bodies: Vec<Vec<u8>> = (0..8u8).map(|n| vec![n; 64 * 1024]).collect();
    let writers = bodies.iter().cloned().map(|body| {
        let storage = storage.clone();
        let key = Arc::clone(&shared);
        tokio::spawn(async move { storage.put(&key, Bytes::from(body), "x/y").await })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap().unwrap();
    }
    let stored = storage.get(&shared).await.unwrap().unwrap();
    assert!(
        bodies.iter().any(|body| stored[..] == body[..]),
        "a torn write"
    );

    // Many writers to many keys: every object arrives.
    let prefix = format!("tests/{}/", Uuid::new_v4());
    let writers = (0..16u32).map(|n| {
        let storage = storage.clone();
        let key = ObjectKey::parse(&format!("{prefix}{n:02}")).unwrap();
        tokio::spawn(async move {
            storage
                .put(&key, Bytes::from(n.to_string()), "text/plain")
                .await
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap().unwrap();
    }
    assert_eq!(storage.list(&prefix).await.unwrap().len(), 16);
}

async fn ready(storage: Storage) {
    storage.check().await.unwrap();
}

macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod on_local_disk {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::local().await).await;
                }
            )*
        }
        mod on_s3 {
            $(
                #[tokio::test]
                async fn $test() {
                    if let Some(storage) = super::s3().await {
                        super::$test(storage).await;
                    }
                }
            )*
        }
    };
}

suite!(
    put_get_and_overwrite,
    ranges,
    delete_is_idempotent,
    listing_by_prefix,
    concurrent_writers,
    ready,
);
