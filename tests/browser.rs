//! Browser unit tests: components mounted into a real DOM in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown --features hydrate`).
#![cfg(all(target_arch = "wasm32", feature = "hydrate"))]

use leptos::prelude::*;
use speaking_coach::{
    browser::{
        call::{ConnectError, Peer},
        mic::Microphone,
        recorder::Recorder,
    },
    components::topic_card::TopicCard,
    domain::{CefrLevel, Topic, TopicSlug},
    pages::topics::LevelFilter,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn topic() -> Topic {
    Topic {
        slug: TopicSlug::parse("a-doctors-visit").unwrap(),
        title: "A doctor's visit".into(),
        summary: "Explain how you feel.".into(),
        level: CefrLevel::B1,
        goal: "Be a calm doctor.".into(),
        vocabulary: vec!["a headache".into(); 7],
        suggested_minutes: 4,
    }
}

/// Mounts `view` into a fresh container and returns it; the view stays mounted for the test.
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let container: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&container).unwrap();
    leptos::mount::mount_to(container.clone(), view).forget();
    container
}

#[wasm_bindgen_test]
fn a_topic_card_links_to_its_page_and_shows_what_a_learner_needs() {
    let container = mount(|| view! { <ul><TopicCard topic=topic() /></ul> });
    let link = container
        .query_selector("a")
        .unwrap()
        .expect("the card is a link");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("/topics/a-doctors-visit")
    );
    let text = container.text_content().unwrap_or_default();
    assert!(text.contains("A doctor's visit"), "{text}");
    assert!(text.contains("B1"), "{text}");
    assert!(text.contains("Intermediate"), "{text}");
    assert!(text.contains("4 min"), "{text}");
    assert!(text.contains("7 words to practise"), "{text}");
}

#[wasm_bindgen_test]
async fn the_level_filter_marks_the_current_level_and_follows_it() {
    let selected = RwSignal::new(Some(CefrLevel::B2));
    let container = mount(move || view! { <LevelFilter selected /> });
    let current = |container: &web_sys::HtmlElement| {
        let nodes = container.query_selector_all("[aria-current=page]").unwrap();
        assert_eq!(nodes.length(), 1, "exactly one option is current");
        nodes.get(0).unwrap().text_content().unwrap_or_default()
    };
    assert_eq!(current(&container), "B2 · Upper intermediate");

    selected.set(None);
    // Effects run on the next tick of the browser's task queue.
    leptos::task::tick().await;
    assert_eq!(current(&container), "All levels");

    let links = container.query_selector_all("a").unwrap();
    assert_eq!(links.length(), 5, "all levels and one link per level");
}

/// Resolves after `ms` milliseconds of the browser's clock.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[wasm_bindgen_test]
async fn the_microphone_opens_is_metered_and_releases_its_device_when_dropped() {
    // Chromium's fake device (webdriver.json) grants permission and plays a periodic beep.
    let mic = Microphone::open().await.expect("the fake microphone opens");
    assert!(mic.is_live());
    // `Clone::clone`, not `.clone()`: web-sys' MediaStreamTrack has an inherent `clone()` that
    // makes a new track (the JS method); we want another handle to the same one.
    let track = Clone::clone(mic.track());

    let mut meter = mic.meter().expect("a meter");
    let mut loudest = 0.0f32;
    for _ in 0..30 {
        sleep(100).await;
        loudest = loudest.max(meter.level());
    }
    assert!(loudest > 0.01, "the meter moves with the input: {loudest}");

    mic.set_muted(true);
    assert!(!track.enabled());
    mic.set_muted(false);
    assert!(track.enabled());

    drop(meter);
    drop(mic);
    assert_eq!(
        track.ready_state(),
        web_sys::MediaStreamTrackState::Ended,
        "the device is released"
    );
}

#[wasm_bindgen_test]
async fn a_call_offers_the_microphone_and_the_events_channel_and_closes_when_dropped() {
    let mic = Microphone::open().await.expect("the fake microphone opens");
    let peer = Peer::new(&mic, true, |_| {}).expect("a peer connection");
    assert!(peer.sends_mic());
    peer.offered().await.expect("an offer");
    let sdp = peer.offer_sdp().expect("the offer is set");
    assert!(sdp.contains("m=audio"), "{sdp}");
    assert!(
        sdp.contains("a=sendrecv"),
        "the microphone goes up, the coach comes down"
    );
    assert!(
        sdp.contains("m=application") && sdp.contains("webrtc-datachannel"),
        "{sdp}"
    );

    // Nobody listens on port 9: the call fails with a reason, it does not hang.
    let secret = speaking_coach::domain::voice::VoiceCallSecret {
        client_secret: "ek_test".into(),
        expires_at: u64::MAX,
        calls_url: "http://127.0.0.1:9/v1/realtime/calls".into(),
    };
    let result = peer.connect(&secret, 5_000).await;
    assert!(matches!(result, Err(ConnectError::Failed(_))), "{result:?}");

    let connection = peer.connection();
    let track = Clone::clone(mic.track());
    drop(peer);
    assert_eq!(
        connection.signaling_state(),
        web_sys::RtcSignalingState::Closed
    );
    assert!(mic.is_live(), "the microphone is the caller's: still open");
    drop(mic);
    assert_eq!(track.ready_state(), web_sys::MediaStreamTrackState::Ended);
}

/// The audio sender's track (the one sender a call has).
fn sent_track(peer: &Peer) -> Option<web_sys::MediaStreamTrack> {
    let sender: web_sys::RtcRtpSender = peer.connection().get_senders().get(0).unchecked_into();
    sender.track()
}

#[wasm_bindgen_test]
async fn a_warm_call_offers_audio_both_ways_but_sends_the_microphone_only_once_told() {
    let mic = Microphone::open().await.expect("the fake microphone opens");
    let peer = Peer::new(&mic, false, |_| {}).expect("a peer connection");
    peer.offered().await.expect("an offer");
    let sdp = peer.offer_sdp().expect("the offer is set");
    assert!(
        sdp.contains("m=audio") && sdp.contains("a=sendrecv"),
        "the same offer as a call sending the microphone: {sdp}"
    );
    assert!(!peer.sends_mic());
    assert!(sent_track(&peer).is_none(), "nothing to send before Start");

    peer.send_mic(&mic)
        .expect("a sender")
        .await
        .expect("the microphone is sent");
    assert!(peer.sends_mic());
    assert_eq!(sent_track(&peer).map(|t| t.id()), Some(mic.track().id()));
    assert!(
        peer.connection().local_description().is_some(),
        "no new offer needed"
    );
}

#[wasm_bindgen_test]
async fn the_recorder_mixes_in_the_coach_and_hands_out_chunks_until_finished() {
    use std::{cell::RefCell, rc::Rc};

    let mic = Microphone::open().await.expect("the fake microphone opens");
    let chunks: Rc<RefCell<Vec<f64>>> = Rc::default();
    let sink = Rc::clone(&chunks);
    let mut recorder = Recorder::start(mic.stream(), 250, move |chunk| {
        sink.borrow_mut().push(chunk.size());
    })
    .expect("recording starts");
    assert!(recorder.is_recording());
    assert!(
        recorder.mime_type().starts_with("audio/"),
        "{}",
        recorder.mime_type()
    );

    // A stand-in for the coach: a tone on a media stream, as the remote track would be.
    let context = web_sys::AudioContext::new().unwrap();
    let tone = context.create_oscillator().unwrap();
    let coach = context.create_media_stream_destination().unwrap();
    tone.connect_with_audio_node(&coach).unwrap();
    tone.start().unwrap();
    assert!(recorder.coach_level() < 0.001, "no coach yet");
    recorder
        .add_coach(&coach.stream())
        .expect("the coach joins the mix");
    let mut loudest = 0.0f32;
    for _ in 0..10 {
        sleep(100).await;
        loudest = loudest.max(recorder.coach_level());
    }
    assert!(loudest > 0.05, "the coach is audible in the mix: {loudest}");

    let before_finish = chunks.borrow().len();
    assert!(
        before_finish >= 2,
        "chunks arrive while recording: {before_finish}"
    );
    recorder.finish().await;
    let sizes = chunks.borrow().clone();
    assert!(
        sizes.len() > before_finish,
        "the last chunk arrives on finish"
    );
    assert!(sizes.iter().all(|size| *size > 0.0));
    let _ = context.close();
}

fn blob(text: &str) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    web_sys::Blob::new_with_str_sequence(&parts).unwrap()
}

async fn text_of(blob: &web_sys::Blob) -> String {
    wasm_bindgen_futures::JsFuture::from(blob.text())
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

fn turn(item_id: &str, position: u32, text: &str) -> speaking_coach::domain::transcript::SavedTurn {
    use speaking_coach::domain::transcript::{SavedTurn, Speaker, TurnState};
    SavedTurn {
        item_id: item_id.into(),
        speaker: if position.is_multiple_of(2) {
            Speaker::Coach
        } else {
            Speaker::Learner
        },
        text: text.into(),
        state: TurnState::Final,
        start_ms: Some(u64::from(position) * 1_000),
        end_ms: Some(u64::from(position) * 1_000 + 900),
        position,
    }
}

#[wasm_bindgen_test]
async fn the_outbox_keeps_chunks_and_turns_until_they_are_acknowledged_and_survives_reopening() {
    use speaking_coach::browser::outbox::{Attempt, Outbox};
    let key = speaking_coach::browser::random_uuid().unwrap();
    let other = speaking_coach::browser::random_uuid().unwrap();
    let outbox = Outbox::open().await.unwrap();
    let attempt = Attempt {
        key: key.clone(),
        topic: "ordering-at-a-cafe".into(),
        owner: "learner@example.org".into(),
        session: None,
        started_ms: js_sys::Date::now(),
        live_ms: None,
    };
    outbox.save(&attempt).await.unwrap();
    for (sequence, text) in [(0, "zero"), (1, "one"), (2, "two"), (10, "ten")] {
        outbox.put(&key, sequence, &blob(text)).await.unwrap();
    }
    outbox.remove(&key, 1).await.unwrap();
    for saved in [
        turn("item_c", 2, "A latte, please."),
        turn("item_a", 0, "Hello! What can I get you?"),
        turn("item_b", 1, "Coffee"),
        turn("item_d", 3, "Anything else?"),
    ] {
        outbox.put_turn(&key, &saved).await.unwrap();
    }
    // A turn saved again (its final text came later) replaces the first copy.
    outbox
        .put_turn(&key, &turn("item_b", 1, "A cup of coffee, please."))
        .await
        .unwrap();
    outbox.remove_turn(&key, "item_d").await.unwrap();
    // Another recording's pieces, which forgetting this one must leave alone.
    outbox.put(&other, 0, &blob("other")).await.unwrap();
    outbox
        .put_turn(&other, &turn("item_a", 0, "Someone else's turn"))
        .await
        .unwrap();
    outbox
        .save(&Attempt {
            session: Some("5f0c8a8e-3c1b-4e0e-9d7a-0d7f3e2b9a11".into()),
            live_ms: Some(1_764_000_000_000.0),
            ..attempt.clone()
        })
        .await
        .unwrap();
    drop(outbox);

    // A new page (here: a new connection) finds what the last one left.
    let outbox = Outbox::open().await.unwrap();
    let mine: Vec<Attempt> = outbox
        .attempts()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.key == key)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].owner, "learner@example.org");
    assert_eq!(
        mine[0].session.as_deref(),
        Some("5f0c8a8e-3c1b-4e0e-9d7a-0d7f3e2b9a11")
    );
    assert_eq!(mine[0].live_ms, Some(1_764_000_000_000.0));
    let pending = outbox.pending(&key).await.unwrap();
    let numbers: Vec<u32> = pending.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        [0, 2, 10],
        "in recording order, acknowledged one gone"
    );
    assert_eq!(text_of(&pending[1].1).await, "two");
    assert_eq!(
        outbox.pending_turns(&key).await.unwrap(),
        [
            turn("item_a", 0, "Hello! What can I get you?"),
            turn("item_b", 1, "A cup of coffee, please."),
            turn("item_c", 2, "A latte, please."),
        ],
        "in the conversation's order, the saved one gone, the later copy kept"
    );

    outbox.forget(&key).await.unwrap();
    assert!(outbox.pending(&key).await.unwrap().is_empty());
    assert!(outbox.pending_turns(&key).await.unwrap().is_empty());
    assert_eq!(outbox.pending(&other).await.unwrap().len(), 1);
    assert_eq!(
        outbox.pending_turns(&other).await.unwrap(),
        [turn("item_a", 0, "Someone else's turn")]
    );
    outbox.forget(&other).await.unwrap();
    assert!(
        outbox
            .attempts()
            .await
            .unwrap()
            .iter()
            .all(|a| a.key != key)
    );
}

#[wasm_bindgen_test]
async fn a_live_recordings_lock_keeps_recovery_away_until_released() {
    use speaking_coach::browser::outbox::{hold, try_hold};
    let key = speaking_coach::browser::random_uuid().unwrap();
    let live = hold(&key).unwrap();
    // The lock is granted asynchronously: give it a moment.
    speaking_coach::browser::sleep(50).await;
    assert!(
        try_hold(&key).await.unwrap().is_none(),
        "held by the live page"
    );
    drop(live);
    speaking_coach::browser::sleep(50).await;
    let recovered = try_hold(&key).await.unwrap();
    assert!(recovered.is_some(), "free once the page lets go");
    drop(recovered);
}

/// Dates in the server's answers are read with the browser's `Date.parse` (no chrono parser in
/// the wasm): to the millisecond, whatever the offset, and a time that is not one is an error.
#[wasm_bindgen_test]
fn the_browser_reads_the_servers_times_to_the_millisecond() {
    use chrono::{TimeZone, Utc};
    use speaking_coach::domain::{account::Account, time};

    let expected =
        Utc.with_ymd_and_hms(2026, 12, 7, 19, 18, 0).unwrap() + chrono::Duration::milliseconds(123);
    // As the server writes it: chrono's RFC 3339, microseconds from Postgres.
    assert_eq!(time::parse("2026-12-07T19:18:00.123456Z"), Some(expected));
    assert_eq!(time::parse("2026-12-07T20:18:00.123+01:00"), Some(expected));
    assert_eq!(time::parse("not a time"), None);

    let account: Account = serde_json::from_str(
        r#"{"email":"ana@example.org","created_at":"2026-12-07T19:18:00.123456Z"}"#,
    )
    .expect("an account as the server sends it");
    assert_eq!(account.created_at, expected);
    assert_eq!(account.usage, None);
    let unreadable =
        serde_json::from_str::<Account>(r#"{"email":"ana@example.org","created_at":"yesterday"}"#);
    assert!(unreadable.is_err());
}
