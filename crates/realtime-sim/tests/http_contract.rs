//! The simulator's HTTP contract: paths, JSON shapes and status codes as the Realtime API has them.

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use realtime_protocol::http::{ApiError, ClientSecret};
use realtime_sim::{DEV_API_KEY, SimConfig, Simulator};
use serde_json::{Value, json};
use tower::ServiceExt;

fn simulator() -> Simulator {
    Simulator::new(SimConfig {
        api_key: DEV_API_KEY.to_owned().into(),
        reply_latency: std::time::Duration::from_millis(10),
        recognizer: None,
    })
}

async fn post(router: &Router, path: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

fn mint_body() -> Value {
    json!({
        "expires_after": {"anchor": "created_at", "seconds": 600},
        "session": {"type": "realtime", "model": "gpt-realtime-mini", "instructions": "Be a coach.",
                     "audio": {"output": {"voice": "marin"}}}
    })
}

const MINT: &str = "/v1/realtime/client_secrets";

#[tokio::test]
async fn minting_returns_an_ephemeral_key_bound_to_the_session() {
    let sim = simulator();
    let (status, body) = post(&sim.router(), MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret: ClientSecret = serde_json::from_value(body).unwrap();
    assert!(secret.value.starts_with("ek_"), "{}", secret.value);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 590..=now + 610).contains(&secret.expires_at));
    let session = secret.session.expect("the session echo");
    assert!(session.id.unwrap().starts_with("sess_"));
    assert_eq!(session.config.instructions.as_deref(), Some("Be a coach."));
    assert_eq!(sim.counters().mints, 1);
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_401_with_the_api_error_body() {
    let router = simulator().router();
    for key in [None, Some("sk-wrong")] {
        let (status, body) = post(&router, MINT, key, mint_body()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let error: ApiError = serde_json::from_value(body).unwrap();
        assert_eq!(error.error.code.as_deref(), Some("invalid_api_key"));
    }
}

#[tokio::test]
async fn bad_sessions_are_400_naming_the_parameter() {
    let router = simulator().router();
    let cases = [
        (
            json!({"session": {"type": "transcription"}}),
            "session.type",
        ),
        (
            json!({"session": {"type": "realtime", "model": "gpt-9"}}),
            "session.model",
        ),
        (
            json!({"expires_after": {"anchor": "created_at", "seconds": 5}, "session": {"type": "realtime"}}),
            "expires_after.seconds",
        ),
        (
            json!({"expires_after": {"anchor": "created_at", "seconds": 7201}, "session": {"type": "realtime"}}),
            "expires_after.seconds",
        ),
        // As OpenAI: an unknown parameter is named, nested ones by their path, and so is a
        // value outside its enum.
        (
            json!({"nonsense": true, "session": {"type": "realtime"}}),
            "nonsense",
        ),
        (
            json!({"session": {"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad", "padding": 1}}}}}),
            "session.audio.input.turn_detection.padding",
        ),
        (
            json!({"session": {"type": "realtime", "audio": {"input": {"noise_reduction": {"type": "loud"}}}}}),
            "session.audio.input.noise_reduction.type",
        ),
        (
            json!({"expires_after": 600, "session": {"type": "realtime"}}),
            "expires_after",
        ),
        (json!({"other": true}), "other"),
    ];
    for (body, param) in cases {
        let (status, answer) = post(&router, MINT, Some(DEV_API_KEY), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["param"], param, "{answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn expiry_defaults_to_600_seconds() {
    let body = json!({"session": {"type": "realtime"}});
    let (status, answer) = post(&simulator().router(), MINT, Some(DEV_API_KEY), body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["session"]["model"], "gpt-realtime");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires_at = answer["expires_at"].as_u64().unwrap();
    assert!((now + 595..=now + 605).contains(&expires_at));
}

#[tokio::test]
async fn a_key_lifetime_fault_stands_for_another_expiry_and_expires_at_says_so() {
    let router = simulator().router();
    let faults = json!({"faults": [{"kind": "key_lifetime", "seconds": 40}]});
    let (status, _) = post(&router, "/control/faults", Some(DEV_API_KEY), faults).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (status, answer) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let expires_at = answer["expires_at"].as_u64().unwrap();
    assert!((now + 39..=now + 41).contains(&expires_at), "{answer}");
    // Used once: the next key lives the 600 s asked for.
    let (_, answer) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert!(
        answer["expires_at"].as_u64().unwrap() >= now + 595,
        "{answer}"
    );
}

#[tokio::test]
async fn queued_mint_faults_fail_the_next_mints_in_order() {
    let sim = simulator();
    let router = sim.router();
    let faults = json!({"faults": [{"kind": "mint_error", "status": 500}, {"kind": "mint_error", "status": 429}]});
    let response = router
        .clone()
        .oneshot(
            Request::post("/control/faults")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {DEV_API_KEY}"))
                .body(Body::from(faults.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let (first, body) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(first, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["type"], "server_error");
    let (second, body) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(second, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let (third, _) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(third, StatusCode::OK);
    assert_eq!(sim.counters().mints, 1);
}

async fn mint_key(router: &Router) -> String {
    let (status, body) = post(router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::OK);
    body["value"].as_str().unwrap().to_owned()
}

async fn post_sdp(
    router: &Router,
    key: Option<&str>,
    content_type: &str,
    sdp: &str,
) -> (StatusCode, Value) {
    let mut request =
        Request::post("/v1/realtime/calls").header(header::CONTENT_TYPE, content_type);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(sdp.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn calls_need_a_live_ephemeral_key() {
    let sim = simulator();
    let router = sim.router();
    for key in [None, Some("ek_unknown"), Some(DEV_API_KEY)] {
        let (status, body) = post_sdp(&router, key, "application/sdp", "v=0").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }

    // A key whose lifetime is cut to one second by fault injection expires.
    let faults = json!({"faults": [{"kind": "key_ttl", "seconds": 1}]});
    let response = router
        .clone()
        .oneshot(
            Request::post("/control/faults")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {DEV_API_KEY}"))
                .body(Body::from(faults.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let key = mint_key(&router).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = post_sdp(&router, Some(&key), "application/sdp", "v=0").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "expired_api_key");
}

#[tokio::test]
async fn a_bad_offer_is_400() {
    let router = simulator().router();
    let key = mint_key(&router).await;
    let (status, body) = post_sdp(&router, Some(&key), "application/json", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = post_sdp(&router, Some(&key), "application/sdp", "this is not sdp").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_offer");
}

#[tokio::test]
async fn hanging_up_an_unknown_call_is_404_and_needs_the_standard_key() {
    let router = simulator().router();
    let hangup = |key: &'static str| {
        Request::post("/v1/realtime/calls/rtc_nope/hangup")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    };
    let response = router.clone().oneshot(hangup(DEV_API_KEY)).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = router.clone().oneshot(hangup("ek_whatever")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

const RESPONSES: &str = "/v1/responses";

fn response_body(schema: Value) -> Value {
    json!({
        "model": "gpt-5-mini",
        "input": "Conversation:\n[1] I am agree with you.\n",
        "text": {"format": {"type": "json_schema", "name": "feedback", "strict": true, "schema": schema}},
        "store": false
    })
}

fn small_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["focus"],
           "properties": {"focus": {"type": "string"}}})
}

#[tokio::test]
async fn responses_answer_in_openais_shape_with_json_that_follows_the_schema() {
    let sim = simulator();
    let schema = small_schema();
    let (status, body) = post(
        &sim.router(),
        RESPONSES,
        Some(DEV_API_KEY),
        response_body(schema.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert!(body["id"].as_str().unwrap().starts_with("resp_"));
    let message = &body["output"][0];
    assert_eq!(
        (message["type"].as_str(), message["role"].as_str()),
        (Some("message"), Some("assistant"))
    );
    let text = message["content"][0]["text"].as_str().unwrap();
    let answer: Value = serde_json::from_str(text).unwrap();
    assert_eq!(realtime_sim::schema::validate(&answer, &schema), Ok(()));
    assert_eq!(sim.counters().responses, 1);
}

#[tokio::test]
async fn responses_refuse_what_openai_refuses() {
    let sim = simulator();
    let router = sim.router();
    let code = |body: &Value| body["error"]["code"].as_str().map(str::to_owned);
    let param = |body: &Value| body["error"]["param"].as_str().map(str::to_owned);

    let (status, body) = post(&router, RESPONSES, None, response_body(small_schema())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body).as_deref(), Some("invalid_api_key"));
    // A client secret is not the standard key.
    let (status, _) = post(
        &router,
        RESPONSES,
        Some("ek_nothing"),
        response_body(small_schema()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let mut unknown = response_body(small_schema());
    unknown["temprature"] = json!(1);
    let (status, body) = post(&router, RESPONSES, Some(DEV_API_KEY), unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (code(&body).as_deref(), param(&body).as_deref()),
        (Some("unknown_parameter"), Some("temprature"))
    );

    let mut no_model = response_body(small_schema());
    no_model.as_object_mut().unwrap().remove("model");
    let (_, body) = post(&router, RESPONSES, Some(DEV_API_KEY), no_model).await;
    assert_eq!(code(&body).as_deref(), Some("missing_required_parameter"));

    let mut model = response_body(small_schema());
    model["model"] = json!("gpt-imaginary");
    let (_, body) = post(&router, RESPONSES, Some(DEV_API_KEY), model).await;
    assert_eq!(code(&body).as_deref(), Some("model_not_found"));

    let mut reasoning = response_body(small_schema());
    reasoning["model"] = json!("gpt-4.1-mini");
    reasoning["reasoning"] = json!({"effort": "low"});
    let (_, body) = post(&router, RESPONSES, Some(DEV_API_KEY), reasoning).await;
    assert_eq!(code(&body).as_deref(), Some("unsupported_parameter"));

    // strict: every property required, no others allowed.
    let loose = json!({"type": "object", "properties": {"focus": {"type": "string"}}});
    let (status, body) = post(&router, RESPONSES, Some(DEV_API_KEY), response_body(loose)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body).as_deref(), Some("invalid_json_schema"));
    assert_eq!(param(&body).as_deref(), Some("text.format.schema"));
    assert_eq!(
        sim.counters().responses,
        0,
        "none of these reached the model"
    );
}

#[tokio::test]
async fn queued_outcomes_come_back_in_order() {
    let sim = simulator();
    let router = sim.router();
    let (status, _) = post(
        &router,
        "/control/responses",
        Some(DEV_API_KEY),
        json!({"outcomes": [
            {"kind": "error", "status": 429},
            {"kind": "error", "status": 429, "code": "insufficient_quota"},
            {"kind": "error", "status": 500},
            {"kind": "refusal"},
            {"kind": "incomplete"},
            {"kind": "failed"},
            {"kind": "invalid_json"},
            {"kind": "answer", "output": {"focus": "Say it slowly."}}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let next = || {
        let router = router.clone();
        async move {
            post(
                &router,
                RESPONSES,
                Some(DEV_API_KEY),
                response_body(small_schema()),
            )
            .await
        }
    };
    let (status, body) = next().await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limit_exceeded"))
    );
    let (status, body) = next().await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("insufficient_quota"))
    );
    let (status, body) = next().await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("server_error"))
    );
    let (_, body) = next().await;
    assert_eq!(body["output"][0]["content"][0]["type"], "refusal");
    let (_, body) = next().await;
    assert_eq!(
        (
            body["status"].as_str(),
            body["incomplete_details"]["reason"].as_str()
        ),
        (Some("incomplete"), Some("max_output_tokens"))
    );
    let (_, body) = next().await;
    assert_eq!(
        (body["status"].as_str(), body["error"]["code"].as_str()),
        (Some("failed"), Some("server_error"))
    );
    let (_, body) = next().await;
    let text = body["output"][0]["content"][0]["text"].as_str().unwrap();
    assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
    let (_, body) = next().await;
    assert_eq!(
        body["output"][0]["content"][0]["text"],
        r#"{"focus":"Say it slowly."}"#
    );
    // Then the rule set again.
    let (status, _) = next().await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn control_needs_the_standard_key() {
    let sim = simulator();
    let router = sim.router();
    let faults = json!({"faults": [{"kind": "mint_error", "status": 503}]});
    for key in [
        None,
        Some("ek_not-the-standard-key"),
        Some("sk-sim-development-kez"),
    ] {
        let (status, body) = post(&router, "/control/faults", key, faults.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}: {body}");
    }
    for (path, body) in [
        ("/control/transcripts", json!({"texts": ["I said this"]})),
        ("/control/calls", json!({"action": "drop"})),
        ("/control/reset", json!({})),
        (
            "/control/responses",
            json!({"outcomes": [{"kind": "refusal"}]}),
        ),
    ] {
        let (status, _) = post(&router, path, None, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // Nothing anonymous reached the queues: the next mint succeeds.
    let (status, body) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = post(&router, "/control/faults", Some(DEV_API_KEY), faults).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn fault_values_past_their_bounds_are_refused_not_panicked_on() {
    let sim = simulator();
    let router = sim.router();
    let max = u64::MAX;
    for (fault, param) in [
        (json!({"kind": "key_ttl", "seconds": max}), "seconds"),
        (
            json!({"kind": "drop_call_after", "seconds": max}),
            "seconds",
        ),
        (
            json!({"kind": "session_expired_after", "seconds": 3601}),
            "seconds",
        ),
        (json!({"kind": "answer_delay", "ms": max}), "ms"),
        (json!({"kind": "mint_error", "status": 200}), "status"),
        (json!({"kind": "key_lifetime", "seconds": 9}), "seconds"),
        (json!({"kind": "key_lifetime", "seconds": max}), "seconds"),
    ] {
        let (status, body) = post(
            &router,
            "/control/faults",
            Some(DEV_API_KEY),
            json!({"faults": [fault]}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
        assert_eq!(body["error"]["code"], "invalid_value", "{body}");
    }
    // Refused faults were not queued: minting still works.
    let (status, body) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The largest accepted values are used without overflow.
    let (status, _) = post(
        &router,
        "/control/faults",
        Some(DEV_API_KEY),
        json!({"faults": [{"kind": "key_ttl", "seconds": 3600}]}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = post(&router, MINT, Some(DEV_API_KEY), mint_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn queues_and_instructions_are_bounded() {
    let sim = simulator();
    let router = sim.router();
    let many: Vec<Value> = (0..=realtime_sim::MAX_FAULTS)
        .map(|_| json!({"kind": "transcription_fails"}))
        .collect();
    let (status, body) = post(
        &router,
        "/control/faults",
        Some(DEV_API_KEY),
        json!({"faults": many}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let long = "a".repeat(4_001);
    let (status, _) = post(
        &router,
        "/control/transcripts",
        Some(DEV_API_KEY),
        json!({"texts": [long]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let mut body = mint_body();
    body["session"]["instructions"] = json!("x".repeat(realtime_sim::MAX_INSTRUCTIONS_BYTES + 1));
    let (status, answer) = post(&router, MINT, Some(DEV_API_KEY), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["param"], "session.instructions");
}

#[tokio::test]
async fn an_emulated_network_answers_one_round_trip_later_until_reset() {
    use std::time::{Duration, Instant};
    // Far longer than a mint or a setting takes here, so "not delayed" is "under one round trip".
    const RTT: Duration = Duration::from_millis(500);
    let sim = simulator();
    let router = sim.router();
    let timed = |path: &'static str, body: Value| {
        let router = router.clone();
        async move {
            let started = Instant::now();
            let (status, body) = post(&router, path, Some(DEV_API_KEY), body).await;
            (status, body, started.elapsed())
        }
    };
    let mint = || async {
        let (status, body, took) = timed(MINT, mint_body()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        took
    };
    for (settings, param) in [
        (json!({"network_rtt_ms": 1001}), "network_rtt_ms"),
        (
            json!({"late_transcription_percent": 101}),
            "late_transcription_percent",
        ),
    ] {
        let (status, body, _) = timed("/control/settings", settings).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
    assert!(mint().await < RTT);

    let rtt = json!({"network_rtt_ms": RTT.as_millis() as u64});
    let (status, _, _) = timed("/control/settings", rtt).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(mint().await >= RTT);
    // The other setting, left out, leaves the network as it is; the control API is not delayed.
    let late = json!({"late_transcription_percent": 10});
    let (status, _, took) = timed("/control/settings", late).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(took < RTT);
    assert!(mint().await >= RTT);

    let (status, _, _) = timed("/control/reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(mint().await < RTT);
}
