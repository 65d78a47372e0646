//! The service never hangs or breaks a response on any Error Overrides rule
//! set from a small grammar: through the router, every request to a render
//! route or `POST /render/upstream` gets a whole HTTP response in time, with
//! a final status and framing that matches its body.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use error_render::Renderer;
use error_render::config::Config;
use error_render::http::{AppState, router};
use proptest::prelude::*;
use tower::ServiceExt as _;

fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("403"),
        Just("4xx"),
        Just("5xx"),
        Just("500"),
        Just("+403"),
        Just("4XX")
    ]
}

fn rule() -> impl Strategy<Value = serde_json::Value> {
    (
        prop_oneof![Just(""), Just("AKI"), Just("URS")],
        prop_oneof![Just(""), Just("^Key"), Just("(")],
        prop::sample::select(vec![-2i64, 0, 100, 150, 200, 204, 304, 401, 599, 1000]),
        prop_oneof![
            Just(""),
            Just("plain"),
            Just("{{.Message}}"),
            Just("{{.Nope}}"),
            Just("{{ .Message }}"),
            Just("{{.Message")
        ],
        prop_oneof![Just(""), Just("error"), Just("error_missing")],
        prop_oneof![Just(""), Just("custom")],
        prop_oneof![
            Just(serde_json::json!({})),
            Just(serde_json::json!({"X-A": "1"})),
            Just(serde_json::json!({"Content-Length": "99"})),
            Just(serde_json::json!({"Transfer-Encoding": "chunked"})),
            Just(serde_json::json!({"Bad Name": "v"})),
            Just(serde_json::json!({"X-B": "a\nb"})),
        ],
    )
        .prop_map(|(flag, pattern, status, body, template, message, headers)| {
            serde_json::json!({
                "match": {"flag": flag, "message_pattern": pattern, "body_field": "e", "body_value": "1"},
                "response": {"status_code": status, "body": body, "template": template,
                             "message": message, "headers": headers}
            })
        })
}

fn rules() -> impl Strategy<Value = serde_json::Value> {
    proptest::collection::btree_map(key(), proptest::collection::vec(rule(), 0..3), 0..3)
        .prop_map(|m| serde_json::to_value(m).unwrap())
}

/// A request to one of the routes that apply rules.
fn request() -> impl Strategy<Value = Request<Body>> {
    prop_oneof![
        prop::sample::select(vec![
            "/render/403?flag=AKI",
            "/render/403?api=a",
            "/render/500?message=Key+gone&api=a",
            "/render/401",
        ])
        .prop_map(|uri| Request::get(uri).body(Body::empty()).unwrap()),
        (
            prop::sample::select(vec![200i64, 404, 500, 503]),
            prop_oneof![Just(""), Just(r#"{"e": "1"}"#)],
        )
            .prop_map(|(status, body)| {
                let json = serde_json::json!({"api": "a", "status": status, "body": body,
                    "headers": [["X-Up", "1"], ["X-Up", "2"]]});
                Request::post("/render/upstream")
                    .header("content-type", "application/json")
                    .body(Body::from(json.to_string()))
                    .unwrap()
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_service_always_answers_whole(gw in rules(), api in rules(), disabled in any::<bool>(), req in request()) {
        let dir = tempfile::tempdir().unwrap();
        let apis = dir.path().join("apis");
        std::fs::create_dir(&apis).unwrap();
        std::fs::write(dir.path().join("tyk.conf"), serde_json::json!({"error_overrides": gw}).to_string()).unwrap();
        std::fs::write(apis.join("a.json"), serde_json::json!({
            "api_id": "a", "error_overrides_disabled": disabled, "error_overrides": api,
        }).to_string()).unwrap();
        let config = Arc::new(Config {
            templates: concat!(env!("CARGO_MANIFEST_DIR"), "/templates").into(),
            tyk_conf: Some(dir.path().join("tyk.conf")),
            apis: Some(apis),
            ..Config::default()
        });
        let store = Arc::new(Renderer::store_from_config(Arc::clone(&config)).unwrap());
        let app = router(AppState::new(store, config));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (status, length, body) = runtime.block_on(async {
            let response = tokio::time::timeout(Duration::from_secs(10), app.oneshot(req))
                .await
                .expect("an answer, not a hang")
                .unwrap();
            let status = response.status().as_u16();
            let length = response.headers().get("content-length").map(|v| v.to_str().unwrap().parse::<usize>().unwrap());
            let body = tokio::time::timeout(Duration::from_secs(10), axum::body::to_bytes(response.into_body(), usize::MAX))
                .await
                .expect("the whole body, not a hang")
                .expect("a body that does not break off");
            (status, length, body)
        });
        prop_assert!((200..=999).contains(&status), "a final status, got {}", status);
        if let Some(length) = length {
            prop_assert_eq!(length, body.len());
        }
    }
}
