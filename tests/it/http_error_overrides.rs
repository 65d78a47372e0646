//! Error Overrides in the service over real sockets: the render routes'
//! `api`, `flag` and `template_data`, `POST /render/upstream`, duplicate
//! header lines, `no_response` answered by the legacy render (and counted),
//! rules reloaded with the tyk.conf, and `override_messages` beside rules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use error_render::{ErrorRequest, Renderer};

use crate::common;

use common::TestServer as Server;

const TEMPLATES: [(&str, &str); 2] = [
    ("error.json", BUNDLED_ERROR_JSON),
    ("error.xml", BUNDLED_ERROR_XML),
];

/// The gateway's rules: a flag rule, a message-only rule (Tyk's second
/// `X-Generator`), and a rule naming a template that is not loaded (the
/// gateway drops the connection).
const GATEWAY_RULES: &str = r#"{
    "403": [{"match": {"flag": "AKI"}, "response": {"status_code": 401, "body": "{\"e\":\"gw\"}", "headers": {"X-Rule": "gw"}}}],
    "429": [{"response": {"message": "slow down"}}],
    "409": [{"response": {"template": "not_loaded"}}]
}"#;

/// One API's rules: every 4xx to a teapot, and upstream bodies by field.
const API: &str = r#"{
    "api_id": "a1",
    "error_overrides": {
        "404": [{"response": {"status_code": 418, "body": "api {{.Message}}", "message": "teapot"}}],
        "5xx": [{"match": {"body_field": "err.kind", "body_value": "db"}, "response": {"status_code": 503, "body": "db down", "headers": {"Retry-After": "5"}}}]
    }
}"#;

/// A folder holding a tyk.conf with `rules` (and `extra` keys) and an API
/// folder `apis/` holding [`API`].
fn gateway(rules: &str, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let apis = dir.path().join("apis");
    std::fs::create_dir(&apis).unwrap();
    std::fs::write(apis.join("a1.json"), API).unwrap();
    let conf = dir.path().join("tyk.conf");
    write_conf(&conf, rules, extra);
    (dir, conf)
}

fn write_conf(conf: &Path, rules: &str, extra: &str) {
    std::fs::write(
        conf,
        format!(r#"{{{extra}"app_path": "apis", "error_overrides": {rules}}}"#),
    )
    .unwrap();
}

async fn start(conf: &Path) -> Server {
    Server::start(
        &format!("tyk_conf: {}\n", conf.display()),
        &TEMPLATES,
        false,
    )
    .await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn metrics(server: &Server) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn render_routes_apply_gateway_rules_by_flag() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let r = client()
        .get(server.url("/render/403?flag=AKI"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["x-rule"], "gw");
    assert_eq!(r.text().await.unwrap(), r#"{"e":"gw"}"#);

    // Without the flag no rule matches: the legacy render. (A code alone
    // is its catalogue entry, whose flag the gateway would set.)
    let r = client()
        .get(server.url("/render/403?message=no"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("x-rule").is_none());

    // POST /render takes the flag as a field.
    let r = client()
        .post(server.url("/render"))
        .json(&serde_json::json!({"code": 403, "message": "no", "flag": "AKI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn render_routes_apply_an_apis_rules_by_api() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let r = client()
        .get(server.url("/render/404?api=a1&message=gone"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 418);
    // Templates get the rule's message, as in the gateway.
    assert_eq!(r.text().await.unwrap(), "api teapot");

    // The same error for no API: the legacy render.
    let r = client()
        .get(server.url("/render/404"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let r = client()
        .post(server.url("/render"))
        .json(
            &serde_json::json!({"code": 404, "api": "a1", "template_data": {"InvalidParams": "x"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 418);

    let r = client()
        .get(server.url("/render/404?api=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.text().await.unwrap().contains("a1"),
        "names the known ids"
    );
}

#[tokio::test]
async fn a_message_only_rule_sends_both_x_generator_lines() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let r = client()
        .get(server.url("/render/429"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let generators: Vec<_> = r.headers().get_all("x-generator").iter().collect();
    assert_eq!(generators, ["tyk.io", "tyk.io"]);
    assert!(r.text().await.unwrap().contains("slow down"));
}

#[tokio::test]
async fn no_response_rule_answers_the_legacy_render_and_is_counted() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let legacy = Renderer::from_dir(server.dir.path())
        .unwrap()
        .render(&ErrorRequest::code(409))
        .unwrap();
    for _ in 0..2 {
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            client().get(server.url("/render/409")).send(),
        )
        .await
        .expect("an answer, not a hang")
        .unwrap();
        assert_eq!(r.status().as_u16(), 409);
        assert_eq!(r.text().await.unwrap(), legacy.body);
    }
    let m = metrics(&server).await;
    assert!(
        m.lines().any(|l| l.contains("outcome=\"no_response\"")
            && l.contains("409")
            && l.ends_with(" 2")),
        "{m}"
    );
}

#[tokio::test]
async fn upstream_route_applies_api_rules_by_body_field() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let r = client()
        .post(server.url("/render/upstream"))
        .json(&serde_json::json!({
            "api": "a1", "status": 500,
            "headers": [["Content-Type", "application/json"]],
            "body": "{\"err\": {\"kind\": \"db\"}}"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(r.text().await.unwrap(), "db down");
}

#[tokio::test]
async fn upstream_route_passes_duplicate_header_lines_on() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let r = client()
        .post(server.url("/render/upstream"))
        .json(&serde_json::json!({
            "api": "a1", "status": 502,
            "headers": [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]],
            "body": "upstream says no"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502, "no rule matched: unchanged");
    let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(r.text().await.unwrap(), "upstream says no");
}

#[tokio::test]
async fn upstream_no_response_answers_the_legacy_render() {
    let rules = r#"{"5xx": [{"response": {"template": "not_loaded"}}]}"#;
    let (_dir, conf) = gateway(rules, "");
    let server = start(&conf).await;
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        client()
            .post(server.url("/render/upstream"))
            .json(&serde_json::json!({"status": 503, "body": "x"}))
            .send(),
    )
    .await
    .expect("an answer, not a hang")
    .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["x-generator"], "tyk.io");
    assert!(metrics(&server).await.contains("outcome=\"no_response\""));
}

#[tokio::test]
async fn upstream_route_refuses_a_bad_body() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    for body in [r#"{"status": 5000}"#, r#"{"status": 500, "nope": 1}"#, "[]"] {
        let r = client()
            .post(server.url("/render/upstream"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
    }
    let r = client()
        .get(server.url("/render/upstream"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

#[tokio::test]
async fn a_reload_swaps_rules_and_a_broken_rule_file_keeps_the_last_good_set() {
    let (_dir, conf) = gateway(GATEWAY_RULES, "");
    let server = start(&conf).await;
    let status = |path: &'static str| {
        let url = server.url(path);
        async move { client().get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status("/render/403?flag=AKI").await, 401);

    write_conf(
        &conf,
        r#"{"403": [{"response": {"status_code": 451, "body": "new"}}]}"#,
        "",
    );
    server.state.store.reload().unwrap();
    assert_eq!(status("/render/403").await, 451);

    // Rules of the wrong shape: the reload fails, the last good set serves.
    write_conf(&conf, r#"{"403": {"response": 1}}"#, "");
    let err = server.state.store.reload().unwrap_err();
    assert!(err.message.contains("tyk.conf"), "{err}");
    assert_eq!(status("/render/403").await, 451);

    // A broken API definition too.
    write_conf(&conf, GATEWAY_RULES, "");
    std::fs::write(conf.parent().unwrap().join("apis/a1.json"), "{").unwrap();
    let err = server.state.store.reload().unwrap_err();
    assert!(err.message.contains("a1.json"), "{err}");
    assert_eq!(status("/render/403").await, 451);
}

#[tokio::test]
async fn the_watcher_follows_the_api_folder() {
    let (dir, conf) = gateway(GATEWAY_RULES, "");
    let server = Server::start(&format!("tyk_conf: {}\n", conf.display()), &TEMPLATES, true).await;
    let mut reloads = server.state.store.subscribe();
    let before = *reloads.borrow_and_update();
    let api = dir.path().join("apis/a1.json");
    let tmp = dir.path().join("apis/next.tmp");
    std::fs::write(&tmp, API.replace("418", "410")).unwrap();
    std::fs::rename(&tmp, &api).unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            reloads.changed().await.unwrap();
            if server.state.store.snapshot().generation > 1 {
                break;
            }
        }
    })
    .await
    .expect("a reload within 20 s");
    assert!(*reloads.borrow() > before);
    let r = client()
        .get(server.url("/render/404?api=a1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 410);
}

#[tokio::test]
async fn compile_warnings_are_load_warnings_at_status() {
    let rules = r#"{"4XX": [{"response": {"status_code": 400}}], "403": [{"match": {"message_pattern": "("}, "response": {"status_code": 401}}]}"#;
    let (_dir, conf) = gateway(rules, "");
    let server = start(&conf).await;
    let status: serde_json::Value = client()
        .get(server.url("/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let warnings = status["warnings"].to_string();
    assert!(warnings.contains("4XX"), "{warnings}");
    assert!(warnings.contains("error_overrides"), "{warnings}");
}

/// A tyk.conf with `error_overrides` describes a 5.13+ gateway, which
/// ignores `override_messages`.
#[test]
fn override_messages_beside_rules_are_ignored_unless_asked_for() {
    let extra =
        r#""override_messages": {"auth.key_not_found": {"code": 401, "message": "Invalid key"}}, "#;
    let (_dir, conf) = gateway(GATEWAY_RULES, extra);
    let req = ErrorRequest::id("auth.key_not_found");
    let message = |r: Renderer| r.resolve(&req).unwrap().message;

    let r = Renderer::builder()
        .templates("templates")
        .tyk_conf(&conf)
        .build()
        .unwrap();
    assert_ne!(message(r), "Invalid key");

    let r = Renderer::builder()
        .templates("templates")
        .tyk_conf(&conf)
        .ignore_overrides(false)
        .build()
        .unwrap();
    assert_eq!(message(r), "Invalid key");

    // Without rules they apply by default, as before.
    let (_dir, conf) = gateway("{}", extra);
    let r = Renderer::builder()
        .templates("templates")
        .tyk_conf(&conf)
        .build()
        .unwrap();
    assert_eq!(message(r), "Invalid key");
}

/// A message-only rule (429) and a rule with only a status and a header
/// (404 → 410): in error-render's own formats they render that format's
/// page with the rule's status and message (the original message for the
/// second), keeping the rule's header.
const TEMPLATE_RULES: &str = r#"{
    "429": [{"response": {"message": "slow down"}}],
    "404": [{"response": {"status_code": 410, "headers": {"X-Rule": "gone"}}}]
}"#;

#[tokio::test]
async fn a_rule_leaving_the_body_to_the_templates_renders_the_negotiated_format() {
    let (_dir, conf) = gateway(TEMPLATE_RULES, "");
    let server = start(&conf).await;
    let get = |path: &str| client().get(server.url(path)).send();

    let html = get("/render/429?format=html").await.unwrap();
    assert_eq!(html.status().as_u16(), 429);
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    let page = html.text().await.unwrap();
    assert!(page.contains("slow down"), "{page}");

    let text = get("/429.txt").await.unwrap();
    assert_eq!(text.status().as_u16(), 429);
    assert!(text.text().await.unwrap().contains("slow down"));

    let problem = get("/render/404?format=problem").await.unwrap();
    assert_eq!(problem.status().as_u16(), 410);
    assert_eq!(
        problem.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(problem.headers()["x-rule"], "gone");
    let details: serde_json::Value = problem.json().await.unwrap();
    assert_eq!(details["status"], 410);
    assert_eq!(details["detail"], "Not Found");

    // JSON keeps the gateway's answer, byte for byte: both X-Generator lines.
    let json = get("/render/429").await.unwrap();
    let generators: Vec<_> = json.headers().get_all("x-generator").iter().collect();
    assert_eq!(generators, ["tyk.io", "tyk.io"]);
}
