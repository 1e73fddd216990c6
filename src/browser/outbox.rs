//! The session's outbox, in IndexedDB: every chunk the recorder makes and every settled transcript
//! turn is written here first and removed only once the server has acknowledged it, so a closed,
//! reloaded or crashed tab loses at most the chunk that was being recorded. Store `attempts`
//! remembers each recording (its key, topic and, once the call is up, its session); store `chunks`
//! holds the unsent pieces under `[key, sequence]`, store `turns` the unsaved turns (as JSON)
//! under `[key, item id]`.
//!
//! A live page holds a Web Lock named after its attempt (`hold`), so recovery in another tab
//! (`try_hold`) never touches a recording that is still going on; the browser releases the lock
//! the moment the page goes away.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, Event, IdbDatabase, IdbKeyRange, IdbObjectStore, IdbObjectStoreParameters,
    IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
};

use super::JsError;
use crate::domain::transcript::SavedTurn;

const NAME: &str = "speaking-coach";
/// 1: attempts and chunks; 2: turns.
const VERSION: u32 = 2;
const ATTEMPTS: &str = "attempts";
const CHUNKS: &str = "chunks";
const TURNS: &str = "turns";

/// One recording this browser made, as the outbox remembers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The attempt's UUID (also the idempotency key of its session's start).
    pub key: String,
    pub topic: String,
    /// The signed-in learner's email: only they recover it.
    pub owner: String,
    /// The session id, once the call was up and the server made the session.
    pub session: Option<String>,
    /// `Date.now()` when recording started.
    pub started_ms: f64,
    /// `Date.now()` when the call came up: a session to make (if the server has not yet) and
    /// keep. `None`: the call never came up, and there is nothing to keep.
    pub live_ms: Option<f64>,
}

pub struct Outbox {
    db: IdbDatabase,
    /// Closes the connection when a newer version of the app upgrades the database.
    _on_version_change: Closure<dyn FnMut()>,
}

fn set(object: &Object, field: &str, value: &JsValue) -> Result<(), JsError> {
    Reflect::set(object, &JsValue::from_str(field), value)?;
    Ok(())
}

fn get(object: &JsValue, field: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(field)).unwrap_or(JsValue::UNDEFINED)
}

/// Waits for `request` and answers its result.
async fn finished(request: &IdbRequest) -> Result<JsValue, JsError> {
    // Handlers are set before this task yields, so no event can be missed.
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => Ok(request.result()?),
        Err(_) => Err(request
            .error()
            .ok()
            .flatten()
            .map(|error| JsError::from(JsValue::from(error)))
            .unwrap_or_else(|| JsError::named("UnknownError", "The browser's storage failed."))),
    }
}

/// Waits until `transaction` has committed.
async fn committed(transaction: &IdbTransaction) -> Result<(), JsError> {
    let promise = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
        transaction.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    transaction.set_oncomplete(None);
    transaction.set_onerror(None);
    transaction.set_onabort(None);
    outcome.map(drop).map_err(|_| {
        transaction
            .error()
            .map(|error| JsError::from(JsValue::from(error)))
            .unwrap_or_else(|| JsError::named("AbortError", "The browser's storage failed."))
    })
}

/// The key range of every record of attempt `key` in `chunks` or `turns` (`[key, n]` and
/// `[key, "id"]`): from `[key]` up to `[key, []]`, as an array sorts after numbers and strings.
fn records_of(key: &str) -> Result<IdbKeyRange, JsError> {
    let low = Array::of1(&JsValue::from_str(key));
    let high = Array::of2(&JsValue::from_str(key), &Array::new());
    Ok(IdbKeyRange::bound(&low, &high)?)
}

impl Outbox {
    /// Opens (creating on first use) the outbox of this origin.
    pub async fn open() -> Result<Outbox, JsError> {
        let factory = web_sys::window()
            .and_then(|window| window.indexed_db().ok().flatten())
            .ok_or_else(|| JsError::named("NotSupportedError", "This browser has no IndexedDB."))?;
        let request: IdbOpenDbRequest = factory.open_with_u32(NAME, VERSION)?;
        let upgrade = Closure::<dyn FnMut(Event)>::new(|event: Event| {
            let Some(db) = event
                .target()
                .and_then(|target| target.dyn_into::<IdbOpenDbRequest>().ok())
                .and_then(|request| request.result().ok())
                .and_then(|result| result.dyn_into::<IdbDatabase>().ok())
            else {
                return;
            };
            let names = db.object_store_names();
            if !names.contains(ATTEMPTS) {
                let params = IdbObjectStoreParameters::new();
                params.set_key_path(&JsValue::from_str("key"));
                let _ = db.create_object_store_with_optional_parameters(ATTEMPTS, &params);
            }
            if !names.contains(CHUNKS) {
                let params = IdbObjectStoreParameters::new();
                params.set_key_path(&Array::of2(&"key".into(), &"sequence".into()));
                let _ = db.create_object_store_with_optional_parameters(CHUNKS, &params);
            }
            if !names.contains(TURNS) {
                let params = IdbObjectStoreParameters::new();
                params.set_key_path(&Array::of2(&"key".into(), &"item_id".into()));
                let _ = db.create_object_store_with_optional_parameters(TURNS, &params);
            }
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let opened = finished(&request).await;
        request.set_onupgradeneeded(None);
        let db: IdbDatabase = opened?.dyn_into()?;
        // A newer version of the app (a new schema) opening the outbox in another tab must not
        // wait for this page: let go (this page's later writes fail and stay in its memory).
        let closing = db.clone();
        let on_version_change = Closure::<dyn FnMut()>::new(move || closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        Ok(Outbox {
            db,
            _on_version_change: on_version_change,
        })
    }

    fn store(
        &self,
        name: &str,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore), JsError> {
        let transaction = self.db.transaction_with_str_and_mode(name, mode)?;
        let store = transaction.object_store(name)?;
        Ok((transaction, store))
    }

    /// Remembers (or updates) an attempt.
    pub async fn save(&self, attempt: &Attempt) -> Result<(), JsError> {
        let record = Object::new();
        set(&record, "key", &attempt.key.as_str().into())?;
        set(&record, "topic", &attempt.topic.as_str().into())?;
        set(&record, "owner", &attempt.owner.as_str().into())?;
        set(
            &record,
            "session",
            &attempt
                .session
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        )?;
        set(&record, "started_ms", &attempt.started_ms.into())?;
        set(
            &record,
            "live_ms",
            &attempt.live_ms.map_or(JsValue::NULL, JsValue::from_f64),
        )?;
        let (transaction, store) = self.store(ATTEMPTS, IdbTransactionMode::Readwrite)?;
        store.put(&record)?;
        committed(&transaction).await
    }

    /// Every attempt this browser still holds, oldest first.
    pub async fn attempts(&self) -> Result<Vec<Attempt>, JsError> {
        let (_, store) = self.store(ATTEMPTS, IdbTransactionMode::Readonly)?;
        let all: Array = finished(&store.get_all()?).await?.dyn_into()?;
        let mut attempts: Vec<Attempt> = all
            .iter()
            .filter_map(|record| {
                Some(Attempt {
                    key: get(&record, "key").as_string()?,
                    topic: get(&record, "topic").as_string().unwrap_or_default(),
                    owner: get(&record, "owner").as_string().unwrap_or_default(),
                    session: get(&record, "session").as_string(),
                    started_ms: get(&record, "started_ms").as_f64().unwrap_or(0.0),
                    // Recorded before version 2: a session, if any, was made when it came up.
                    live_ms: get(&record, "live_ms").as_f64(),
                })
            })
            .collect();
        attempts.sort_by(|a, b| a.started_ms.total_cmp(&b.started_ms));
        Ok(attempts)
    }

    /// Keeps a chunk until the server has it. Answers once it is durably written.
    pub async fn put(&self, key: &str, sequence: u32, chunk: &Blob) -> Result<(), JsError> {
        let record = Object::new();
        set(&record, "key", &key.into())?;
        set(&record, "sequence", &sequence.into())?;
        set(&record, "blob", chunk)?;
        let (transaction, store) = self.store(CHUNKS, IdbTransactionMode::Readwrite)?;
        store.put(&record)?;
        committed(&transaction).await
    }

    /// Forgets a chunk the server has acknowledged.
    pub async fn remove(&self, key: &str, sequence: u32) -> Result<(), JsError> {
        let (transaction, store) = self.store(CHUNKS, IdbTransactionMode::Readwrite)?;
        store.delete(&Array::of2(&key.into(), &sequence.into()))?;
        committed(&transaction).await
    }

    /// The chunks of `key` not yet acknowledged, in order.
    pub async fn pending(&self, key: &str) -> Result<Vec<(u32, Blob)>, JsError> {
        let (_, store) = self.store(CHUNKS, IdbTransactionMode::Readonly)?;
        let all: Array = finished(&store.get_all_with_key(&records_of(key)?.into())?)
            .await?
            .dyn_into()?;
        Ok(all
            .iter()
            .filter_map(|record| {
                let sequence = get(&record, "sequence").as_f64()? as u32;
                let blob = get(&record, "blob").dyn_into::<Blob>().ok()?;
                Some((sequence, blob))
            })
            .collect())
    }

    /// Keeps a settled turn until the server has it (saving it again replaces it).
    pub async fn put_turn(&self, key: &str, turn: &SavedTurn) -> Result<(), JsError> {
        let json = serde_json::to_string(turn)
            .map_err(|error| JsError::named("DataError", &error.to_string()))?;
        let record = Object::new();
        set(&record, "key", &key.into())?;
        set(&record, "item_id", &turn.item_id.as_str().into())?;
        set(&record, "turn", &json.into())?;
        let (transaction, store) = self.store(TURNS, IdbTransactionMode::Readwrite)?;
        store.put(&record)?;
        committed(&transaction).await
    }

    /// Forgets a turn the server has saved.
    pub async fn remove_turn(&self, key: &str, item_id: &str) -> Result<(), JsError> {
        let (transaction, store) = self.store(TURNS, IdbTransactionMode::Readwrite)?;
        store.delete(&Array::of2(&key.into(), &item_id.into()))?;
        committed(&transaction).await
    }

    /// The turns of `key` not yet saved, in the conversation's order.
    pub async fn pending_turns(&self, key: &str) -> Result<Vec<SavedTurn>, JsError> {
        let (_, store) = self.store(TURNS, IdbTransactionMode::Readonly)?;
        let all: Array = finished(&store.get_all_with_key(&records_of(key)?.into())?)
            .await?
            .dyn_into()?;
        let mut turns: Vec<SavedTurn> = all
            .iter()
            .filter_map(|record| serde_json::from_str(&get(&record, "turn").as_string()?).ok())
            .collect();
        turns.sort_by_key(|turn| turn.position);
        Ok(turns)
    }

    /// Forgets an attempt with its chunks and turns.
    pub async fn forget(&self, key: &str) -> Result<(), JsError> {
        let names = Array::of3(&ATTEMPTS.into(), &CHUNKS.into(), &TURNS.into());
        let transaction = self
            .db
            .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)?;
        transaction.object_store(ATTEMPTS)?.delete(&key.into())?;
        let records = records_of(key)?;
        transaction.object_store(CHUNKS)?.delete(&records)?;
        transaction.object_store(TURNS)?.delete(&records)?;
        committed(&transaction).await
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

/// The lock a live recording holds.
fn lock_name(key: &str) -> String {
    format!("speaking-coach-recording-{key}")
}

/// A held Web Lock; released when dropped (or when the page goes away).
#[must_use = "the lock is released as soon as this is dropped"]
pub struct Held {
    release: Option<Function>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

/// `navigator.locks.request(name, options, callback)`.
fn request_lock(name: &str, options: &Object, callback: &JsValue) -> Result<(), JsError> {
    let navigator = web_sys::window()
        .ok_or_else(|| JsError::named("NotSupportedError", "No window."))?
        .navigator();
    let locks = get(&navigator, "locks");
    let request: Function = get(&locks, "request")
        .dyn_into()
        .map_err(|_| JsError::named("NotSupportedError", "This browser has no Web Locks."))?;
    request.call3(&locks, &JsValue::from_str(name), options, callback)?;
    Ok(())
}

/// Takes the lock of attempt `key` (queued behind anyone holding it) until dropped.
pub fn hold(key: &str) -> Result<Held, JsError> {
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue { held.into() });
    request_lock(&lock_name(key), &Object::new(), &callback)?;
    Ok(Held { release })
}

/// Takes the lock of attempt `key` if nobody holds it: `None` when its recording is live in
/// another tab.
pub async fn try_hold(key: &str) -> Result<Option<Held>, JsError> {
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut grant = None;
    let granted = Promise::new(&mut |resolve, _| grant = Some(resolve));
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let free = !lock.is_null();
        if let Some(grant) = grant {
            let _ = grant.call1(&JsValue::NULL, &JsValue::from_bool(free));
        }
        if free {
            held.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = Object::new();
    set(&options, "ifAvailable", &JsValue::TRUE)?;
    request_lock(&lock_name(key), &options, &callback)?;
    let free = JsFuture::from(granted).await?.as_bool().unwrap_or(false);
    Ok(free.then_some(Held { release }))
}
