//! The preview's HTTP API over real sockets: the catalogue, live and inline
//! renders with their limits, the event stream, the optional token, and the
//! page's security headers.

use crate::common;

use std::time::{Duration, Instant};

use common::TestServer;
use error_render::Catalogue;
use error_render::http::ERROR_HEADER;
use error_render::http::preview::{CONTENT_SECURITY_POLICY, MAX_BODY_BYTES};
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use serde_json::{Value, json};

const TOKEN: &str = "s3cret-token";

/// How long a wait for the server may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// The service on 127.0.0.1:0 with settings from YAML over a temp folder
/// holding the bundled templates.
async fn start(yaml: &str) -> TestServer {
    TestServer::start(
        yaml,
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
        ],
        false,
    )
    .await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn ok_json(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn assert_own_error(r: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(header(&r, ERROR_HEADER).as_deref(), Some("1"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

async fn post_render(s: &TestServer, body: &Value) -> reqwest::Response {
    client()
        .post(s.url("/preview/render"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The keys of `error-render render --json`.
fn assert_envelope_keys(env: &Value) {
    let mut keys: Vec<&str> = env
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["body", "error", "headers", "outcome", "status", "template"],
        "{env}"
    );
}

#[tokio::test]
async fn catalogue_api_renders_every_entry_for_json_and_xml() {
    let s = start("").await;
    let c = ok_json(
        client()
            .get(s.url("/preview/api/catalogue"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let catalogue = Catalogue::builtin();
    let entries = c["entries"].as_array().unwrap();
    assert_eq!(catalogue.entries().len(), 108);
    assert_eq!(
        entries.len(),
        catalogue.entries().len() + catalogue.override_ids().len()
    );
    for (row, e) in entries.iter().zip(catalogue.entries()) {
        assert_eq!(row["kind"], "entry");
        assert_eq!(row["id"], e.id);
        assert_eq!(row["code"], e.code);
        assert_eq!(row["action"], e.action);
        assert_envelope_keys(&row["json"]);
        assert_eq!(row["json"]["status"], e.code);
        assert_eq!(row["json"]["template"], "error.json");
        assert_eq!(row["xml"]["template"], "error.xml");
        assert_eq!(row["json"]["outcome"], "ok");
        assert_eq!(
            row["xml"]["headers"]["content-type"], "application/xml",
            "{row}"
        );
        assert_eq!(row["overridden"], Value::Null);
    }
    let ids: Vec<&str> = entries[108..]
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = catalogue
        .override_ids()
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(ids, want);
    assert_eq!(c["generation"], 1);
    assert_eq!(c["findings"], json!([]));
    assert_eq!(c["last_reload_error"], Value::Null);
    assert_eq!(
        c["templates"]["files"],
        json!([
            {"name": "error.json", "text": BUNDLED_ERROR_JSON},
            {"name": "error.xml", "text": BUNDLED_ERROR_XML},
        ])
    );
    // Another profile for the whole catalogue.
    let c = ok_json(
        client()
            .get(s.url("/preview/api/catalogue?profile=5.14"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(c["profile"], "5.14");
}

#[tokio::test]
async fn catalogue_marks_what_overrides_changed() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = dir.path().join("o.yaml");
    std::fs::write(
        &overrides,
        "auth.key_not_found:\n  code: 401\n  message: Invalid or missing API key\n",
    )
    .unwrap();
    let s = start(&format!("overrides: {}\n", overrides.display())).await;
    let c = ok_json(
        client()
            .get(s.url("/preview/api/catalogue"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let rows = c["entries"].as_array().unwrap();
    let by_id = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    let id = by_id("auth.key_not_found");
    assert_eq!(
        id["overridden"],
        json!({"by": "auth.key_not_found", "code": 401, "message": "Invalid or missing API key"})
    );
    assert_eq!(id["json"]["status"], 401);
    assert!(
        id["json"]["body"]
            .as_str()
            .unwrap()
            .contains("Invalid or missing API key")
    );
    // The published 403 with the same default message is what a proxy
    // asking by code and message gets: overridden too.
    let entry = by_id("403-access-to-this-api-has-been-disallowed");
    assert_eq!(entry["overridden"]["by"], "auth.key_not_found");
    let untouched = by_id("auth.cert_expired");
    assert_eq!(untouched["overridden"], Value::Null);
}

#[tokio::test]
async fn get_render_is_the_envelope_of_the_live_render() {
    let s = start("status_rewrites:\n  429: 503\nheaders:\n  \"*\":\n    X-Extra: yes\n").await;
    let env = ok_json(
        client()
            .get(
                s.url("/preview/render?code=429&message=Slow+down%21&content_type=application/xml"),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_envelope_keys(&env);
    let live = client()
        .get(s.url("/render/429?message=Slow+down%21&content_type=application/xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(env["status"], live.status().as_u16());
    assert_eq!(env["status"], 503, "status_rewrites apply, as on /render");
    assert_eq!(env["headers"]["content-type"], "application/xml");
    assert_eq!(env["headers"]["x-generator"], "tyk.io");
    assert_eq!(env["headers"]["x-extra"], "yes");
    assert_eq!(env["template"], "error.xml");
    assert_eq!(env["outcome"], "ok");
    assert_eq!(env["error"], Value::Null);
    assert_eq!(env["body"], live.text().await.unwrap());

    // By id, and the service's own errors for bad parameters.
    let env = ok_json(
        client()
            .get(s.url("/preview/render?id=auth.cert_expired"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        env["body"]
            .as_str()
            .unwrap()
            .contains("Certificate has expired")
    );
    for (query, code) in [
        ("", "invalid_code"),
        ("code=200", "invalid_code"),
        ("code=abc", "invalid_code"),
        ("id=nope", "unknown_id"),
        ("code=500&profile=4.0", "invalid_parameter"),
    ] {
        let r = client()
            .get(s.url(&format!("/preview/render?{query}")))
            .send()
            .await
            .unwrap();
        assert_own_error(r, 400, code).await;
    }
}

#[tokio::test]
async fn post_render_uses_inline_templates_and_writes_nothing() {
    let s = start("").await;
    let env = ok_json(
        post_render(
            &s,
            &json!({
                "templates": {
                    "error.json": "{\"inline\": \"{{.Message}}\", \"code\": {{.StatusCode}}}",
                    "error_429.xml": "<slow>{{.Message}}</slow>",
                },
                "code": 429,
                "message": "a < b & \"c\"",
                "content_type": "text/xml",
            }),
        )
        .await,
    )
    .await;
    assert_envelope_keys(&env);
    assert_eq!(env["status"], 429);
    assert_eq!(env["template"], "error_429.xml");
    assert_eq!(env["body"], "<slow>a &lt; b &amp; &#34;c&#34;</slow>");
    assert_eq!(env["headers"]["content-type"], "text/xml");

    let env = ok_json(
        post_render(
            &s,
            &json!({
                "templates": { "error.json": "{\"inline\": \"{{.Message}}\", \"code\": {{.StatusCode}}}" },
                "code": 503,
                "profile": "5.14",
            }),
        )
        .await,
    )
    .await;
    assert_eq!(
        env["body"],
        "{\"inline\": \"Service temporarily unavailable.\", \"code\": 503}"
    );
    // Without templates: the live set.
    let env = ok_json(post_render(&s, &json!({ "code": 404 })).await).await;
    assert_eq!(env["body"], "{\n    \"error\": \"Not Found\"\n}");

    let mut names: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["error.json", "error.xml"]);
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("error.json")).unwrap(),
        BUNDLED_ERROR_JSON
    );
    assert_eq!(s.state.store.snapshot().generation, 1);
}

#[tokio::test]
async fn inline_template_that_does_not_parse_gives_line_and_column() {
    let s = start("").await;
    let env = ok_json(
        post_render(
            &s,
            &json!({
                "templates": { "error.json": "{\n  \"e\": \"{{.Message | shout}}\"\n}", "error.xml": "{{if}}" },
                "code": 403,
            }),
        )
        .await,
    )
    .await;
    assert_eq!(env["outcome"], "load");
    assert_eq!(env["status"], Value::Null);
    assert_eq!(env["body"], Value::Null);
    let problems = env["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{env}");
    assert_eq!(problems[0]["file"], "error.json");
    assert_eq!(problems[0]["line"], 2);
    assert_eq!(problems[0]["column"], 22, "{env}");
    assert_eq!(problems[1]["file"], "error.xml");
    let error = env["error"].as_str().unwrap();
    assert!(
        error.starts_with("error.json:2:22: function \"shout\" not defined"),
        "{error}"
    );
}

#[tokio::test]
async fn inline_templates_over_a_limit_get_clear_errors() {
    let s = start("").await;
    let limits = error_render::RenderLimits::inline();

    // Loading: too large, too many, recursive.
    let big = "x".repeat(limits.max_template_bytes.unwrap() + 1);
    let env =
        ok_json(post_render(&s, &json!({"templates": {"error.json": big}, "code": 500})).await)
            .await;
    assert_eq!(env["outcome"], "load");
    assert!(
        env["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("max_template_bytes"),
        "{env}"
    );
    let many: serde_json::Map<String, Value> = (0..=limits.max_templates.unwrap())
        .map(|i| (format!("error_{}.json", 400 + i), json!("x")))
        .collect();
    let env = ok_json(post_render(&s, &json!({"templates": many, "code": 500})).await).await;
    assert_eq!(env["outcome"], "load");
    assert!(
        env["error"]
            .as_str()
            .unwrap()
            .contains("too many templates"),
        "{env}"
    );
    let env = ok_json(
        post_render(
            &s,
            &json!({"templates": {"error.json": "{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}"}, "code": 500}),
        )
        .await,
    )
    .await;
    assert_eq!(env["outcome"], "load", "{env}");
    assert!(
        env["error"].as_str().unwrap().starts_with("error.json"),
        "{env}"
    );

    // Rendering: range iterations and output size stop the render, which
    // falls back to the bundled body with the reason.
    for (template, word) in [
        ("{{range 100000000}}x{{end}}", "range"),
        (
            "{{range 900}}{{printf \"%0200d\" 0}}{{end}}",
            "max_output_bytes",
        ),
    ] {
        let env = ok_json(
            post_render(
                &s,
                &json!({"templates": {"error.json": template}, "code": 500}),
            )
            .await,
        )
        .await;
        assert_eq!(env["outcome"], "exec", "{template}: {env}");
        let error = env["error"].as_str().unwrap();
        assert!(error.contains(word), "{template}: {error}");
        assert_eq!(
            env["body"],
            "{\n    \"error\": \"There was a problem proxying the request\"\n}"
        );
    }
}

#[tokio::test]
async fn wrong_methods_get_the_services_own_405_naming_the_allowed_ones() {
    let s = start("").await;
    for (path, allow) in [
        ("/preview/render", "GET, HEAD, POST"),
        ("/preview/signin", "POST"),
    ] {
        let r = client().delete(s.url(path)).send().await.unwrap();
        assert_eq!(header(&r, "allow").as_deref(), Some(allow), "{path}");
        assert_own_error(r, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn bad_render_requests_are_own_errors() {
    let s = start("").await;
    // Over the body limit: 413 before parsing.
    let huge = format!(
        "{{\"code\": 500, \"templates\": {{\"error.json\": \"{}\"}}}}",
        "x".repeat(MAX_BODY_BYTES)
    );
    let r = client()
        .post(s.url("/preview/render"))
        .body(huge)
        .send()
        .await
        .unwrap();
    let message = assert_own_error(r, 413, "body_too_large").await;
    assert!(message.contains(&MAX_BODY_BYTES.to_string()), "{message}");

    for (body, status, code) in [
        (json!({"code": 500, "template": {}}), 400, "malformed_json"),
        (json!({"message": "no code"}), 400, "invalid_code"),
        (json!({"code": 200}), 400, "invalid_code"),
        (
            json!({"code": 500, "profile": "9"}),
            400,
            "invalid_parameter",
        ),
        (
            json!({"code": 500, "templates": {"../error.json": "x"}}),
            400,
            "invalid_parameter",
        ),
        (
            json!({"code": 500, "templates": {"notes.txt": "x"}}),
            400,
            "invalid_parameter",
        ),
        (
            json!({"code": 500, "message": "m".repeat(5000)}),
            400,
            "message_too_long",
        ),
    ] {
        let r = post_render(&s, &body).await;
        assert_own_error(r, status, code).await;
    }
}

/// Reads server-sent events until one whose data satisfies `want`.
async fn next_event(
    r: &mut reqwest::Response,
    buffer: &mut String,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                assert!(event.contains("event: reload"), "{event}");
                let data: Value = serde_json::from_str(data).unwrap();
                if want(&data) {
                    return data;
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, r.chunk())
            .await
            .expect("no event in time")
            .unwrap()
            .expect("the stream ended");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn events_announce_reloads_and_failed_reloads() {
    let s = start("").await;
    let mut r = client().get(s.url("/preview/events")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("text/event-stream")
    );
    let mut buf = String::new();
    let first = next_event(&mut r, &mut buf, |_| true).await;
    assert_eq!(first, json!({"generation": 1, "failed_at": null}));

    std::fs::write(
        s.dir.path().join("error.json"),
        "{\"new\": \"{{.Message}}\"}",
    )
    .unwrap();
    s.state.store.reload().unwrap();
    let next = next_event(&mut r, &mut buf, |_| true).await;
    assert_eq!(next, json!({"generation": 2, "failed_at": null}));

    std::fs::write(s.dir.path().join("error.json"), "{{.Message").unwrap();
    assert!(s.state.store.reload().is_err());
    let failed = next_event(&mut r, &mut buf, |_| true).await;
    assert_eq!(failed["generation"], 2);
    assert!(failed["failed_at"].is_string(), "{failed}");
}

#[tokio::test]
async fn shutdown_is_not_held_by_an_open_event_stream() {
    let mut s = start("").await;
    let mut r = client().get(s.url("/preview/events")).send().await.unwrap();
    let mut buf = String::new();
    next_event(&mut r, &mut buf, |_| true).await;
    s.stop();
    let task = s.task.take().unwrap();
    let served = tokio::time::timeout(WAIT, task)
        .await
        .expect("graceful shutdown finished with an event stream open");
    served.unwrap().unwrap();
    // The stream ended rather than being cut mid-event.
    let rest = tokio::time::timeout(WAIT, r.chunk()).await.unwrap();
    assert!(matches!(rest, Ok(None)), "{rest:?}");
}

#[tokio::test]
async fn token_guards_the_api_with_a_bearer_and_the_page_with_a_cookie() {
    let s = start(&format!("preview:\n  token: {TOKEN}\n")).await;
    let api = s.url("/preview/api/catalogue");

    // The API: 401 JSON without the token or with a wrong one, 200 with it.
    let r = client().get(&api).send().await.unwrap();
    assert_eq!(
        header(&r, "www-authenticate").as_deref(),
        Some("Bearer realm=\"error-render preview\"")
    );
    assert_own_error(r, 401, "unauthorized").await;
    for wrong in [
        "Bearer wrong",
        "Bearer s3cret-toke",
        "Basic czNjcmV0LXRva2Vu",
        TOKEN,
    ] {
        let r = client()
            .get(&api)
            .header("authorization", wrong)
            .send()
            .await
            .unwrap();
        assert_own_error(r, 401, "unauthorized").await;
    }
    let r = client().get(&api).bearer_auth(TOKEN).send().await.unwrap();
    ok_json(r).await;
    for path in ["/preview/render?code=500", "/preview/events"] {
        let r = client().get(s.url(path)).send().await.unwrap();
        assert_own_error(r, 401, "unauthorized").await;
    }
    let r = post_render(&s, &json!({"code": 500})).await;
    assert_own_error(r, 401, "unauthorized").await;

    // The page: the sign-in form, never the app, without the cookie.
    let r = client().get(s.url("/preview")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/preview/signin\">"),
        "{html}"
    );
    assert!(!html.contains("app.js"));
    // The stylesheet is public: the form uses it.
    let r = client()
        .get(s.url("/preview/assets/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A wrong token: the form again, with a word, and no cookie.
    let r = client()
        .post(s.url("/preview/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "set-cookie"), None);
    assert!(r.text().await.unwrap().contains("not the one configured"));

    // The right token: a cookie for the page, then a redirect to it.
    let r = client()
        .post(s.url("/preview/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(header(&r, "location").as_deref(), Some("/preview"));
    let cookie = header(&r, "set-cookie").unwrap();
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"HttpOnly"), "{cookie}");
    assert!(attributes.contains(&"SameSite=Strict"), "{cookie}");
    assert!(attributes.contains(&"Path=/preview"), "{cookie}");
    let pair = attributes[0];
    assert!(pair.starts_with("error_render_preview="), "{cookie}");

    let r = client()
        .get(s.url("/preview"))
        .header("cookie", format!("theme=dark; {pair}"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("/preview/assets/app.js"));
    let r = client()
        .get(&api)
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    ok_json(r).await;
    let r = client()
        .get(&api)
        .header("cookie", "error_render_preview=s3cret-tokeN")
        .send()
        .await
        .unwrap();
    assert_own_error(r, 401, "unauthorized").await;
}

#[tokio::test]
async fn preview_can_be_turned_off() {
    let s = start("preview:\n  enabled: false\n").await;
    for path in [
        "/preview",
        "/preview/api/catalogue",
        "/preview/assets/app.js",
    ] {
        let r = client().get(s.url(path)).send().await.unwrap();
        assert_own_error(r, 404, "not_found").await;
    }
    // Everything else still answers.
    let r = client().get(s.url("/render/500")).send().await.unwrap();
    assert_eq!(r.status(), 500);
}

#[tokio::test]
async fn page_and_assets_are_self_contained_and_locked_down() {
    let s = start("").await;
    let mut texts = Vec::new();
    for (path, content_type) in [
        ("/preview", "text/html; charset=utf-8"),
        ("/preview/assets/app.js", "text/javascript; charset=utf-8"),
        ("/preview/assets/style.css", "text/css; charset=utf-8"),
    ] {
        let r = client().get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-type").as_deref(), Some(content_type));
        assert_eq!(
            header(&r, "content-security-policy").as_deref(),
            Some(CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(
            header(&r, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        texts.push((path, r.text().await.unwrap()));
    }
    assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self'"));
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    for (path, text) in &texts {
        // Nothing from elsewhere: no absolute URLs to fetch.
        for scheme in ["http://", "https://", "//cdn"] {
            assert!(!text.contains(scheme), "{path} refers to {scheme}");
        }
    }
    // No inline script or style in the page, and no markup built from data
    // in the script.
    let (_, html) = &texts[0];
    for tag in html.split("<script").skip(1) {
        assert!(tag.trim_start().starts_with("src="), "inline script: {tag}");
    }
    assert!(!html.contains("<style"), "inline style");
    assert!(!html.contains(" style="), "inline style attribute");
    let (_, js) = &texts[1];
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!js.contains(sink), "app.js uses {sink}");
    }
    let r = client()
        .get(s.url("/preview/assets/other.js"))
        .send()
        .await
        .unwrap();
    assert_own_error(r, 404, "not_found").await;
}
