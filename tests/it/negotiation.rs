//! Choosing the format: the proxy routes' `Accept` negotiation over the
//! enabled formats (real browsers', curl's, API clients' and problem-aware
//! clients' `Accept`), Traefik's extensions, `/render`'s `format`, and
//! `formats: [json, xml]` giving the gateway's answers exactly.

use std::io::{Read as _, Write as _};

use axum::body::Body;
use axum::http::Request;
use error_render::config::{Config, ConfigLayer};
use error_render::http::AppState;
use tower::ServiceExt as _;

use crate::common::{TestServer, templates};

/// Chrome 131's `Accept` for a page.
const CHROME: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
/// Firefox 133's.
const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/png,image/svg+xml,*/*;q=0.8";
/// Safari 18's.
const SAFARI: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// curl's (and most HTTP libraries').
const CURL: &str = "*/*";
/// A client that understands RFC 9457 and takes plain JSON second.
const PROBLEM_CLIENT: &str = "application/problem+json, application/json;q=0.9";

const JSON: &str = "application/json";
const XML: &str = "application/xml";
const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const PROBLEM: &str = "application/problem+json";

/// Compression off: an HTML page over 1 KiB would otherwise add
/// `Vary: accept-encoding` (`compression.rs` checks that).
const NO_COMPRESSION: &str = "compression: false\n";

/// The service's router over the shipped templates (`error.json`,
/// `error.xml`) with settings from YAML, compression off.
fn router(yaml: &str) -> axum::Router {
    let mut layer: ConfigLayer =
        serde_yaml_ng::from_str(&format!("{NO_COMPRESSION}{yaml}")).unwrap();
    layer.templates = Some(templates());
    let config = Config::from_layer(layer).unwrap();
    error_render::http::router(AppState::from_config(config).unwrap())
}

/// What the table checks of an answer.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: String,
    vary: Option<String>,
}

async fn ask(router: &axum::Router, method: &str, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let (answer, _) = ask_body(router, method, uri, headers, Body::empty()).await;
    answer
}

async fn ask_body(
    router: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> (Answer, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = router
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let text = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let answer = Answer {
        status: r.status().as_u16(),
        content_type: text("content-type").unwrap_or_default(),
        vary: text("vary"),
    };
    let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    (answer, String::from_utf8(body.to_vec()).unwrap())
}

fn answer(status: u16, content_type: &str, vary: Option<&str>) -> Answer {
    Answer {
        status,
        content_type: content_type.to_owned(),
        vary: vary.map(str::to_owned),
    }
}

/// 503's default message (the catalogue's).
const MESSAGE: &str = "Service temporarily unavailable.";

/// The body of a 503 is in the format its content type says (the built-in
/// page for HTML, text and problem details; the shipped templates for
/// JSON and XML).
fn assert_body(content_type: &str, body: &str, why: &str) {
    match content_type {
        HTML => assert!(
            body.starts_with("<!DOCTYPE html>")
                && body.contains("<title>503 Service Unavailable</title>"),
            "{why}: {body}"
        ),
        TEXT => assert!(
            body.starts_with("503 Service Unavailable\n"),
            "{why}: {body}"
        ),
        PROBLEM => {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["status"], 503, "{why}: {body}");
            assert_eq!(v["type"], "about:blank", "{why}: {body}");
            assert_eq!(v["detail"], MESSAGE, "{why}: {body}");
        }
        JSON => {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["error"], MESSAGE, "{why}: {body}");
        }
        _ => assert!(
            body.starts_with("<?xml") && body.contains(&format!("<error>{MESSAGE}</error>")),
            "{why}: {body}"
        ),
    }
}

/// The table the issue asks for: each row a setting, a client's wish on
/// ingress-nginx's `X-Format` and on Traefik's `Accept`, and the format
/// answered.
#[tokio::test]
async fn accept_negotiation_table() {
    let rows: &[(&str, &str, Option<&str>, &str)] = &[
        // (formats setting, why, Accept, content type answered)
        ("", "Chrome", Some(CHROME), HTML),
        ("", "Firefox", Some(FIREFOX), HTML),
        ("", "Safari", Some(SAFARI), HTML),
        ("", "curl", Some(CURL), JSON),
        ("", "an API client", Some("application/json"), JSON),
        ("", "a problem-aware client", Some(PROBLEM_CLIENT), PROBLEM),
        ("", "plain text", Some("text/plain"), TEXT),
        ("", "XHTML only", Some("application/xhtml+xml"), HTML),
        ("", "XML explicitly", Some("application/xml"), XML),
        // Equal q: the range listed first wins.
        (
            "",
            "tie, html first",
            Some("text/html;q=0.5, text/plain;q=0.5"),
            HTML,
        ),
        (
            "",
            "tie, text first",
            Some("text/plain;q=0.5, text/html;q=0.5"),
            TEXT,
        ),
        (
            "",
            "higher q wins",
            Some("text/html;q=0.4, text/plain;q=0.6"),
            TEXT,
        ),
        // Equal q on one range: the settings' order decides.
        (
            "formats: [html, json]\n",
            "*/* with html first",
            Some(CURL),
            HTML,
        ),
        ("", "text/* with json first", Some("text/*"), JSON),
        // q=0 refuses.
        ("", "html refused", Some("text/html;q=0, */*"), JSON),
        ("", "every format refused", Some("*/*;q=0"), JSON),
        // Unknown types: the first enabled format, as today.
        ("", "an image", Some("image/png"), JSON),
        ("", "garbage", Some("garbage"), JSON),
        (
            "formats: [text, json]\n",
            "unknown with text first",
            Some("image/png"),
            TEXT,
        ),
        // Disabled formats are never chosen.
        (
            "formats: [json, xml]\n",
            "Chrome, html disabled",
            Some(CHROME),
            XML,
        ),
        (
            "formats: [json, xml]\n",
            "text disabled",
            Some("text/plain"),
            JSON,
        ),
        (
            "formats: [json]\n",
            "problem disabled",
            Some(PROBLEM_CLIENT),
            JSON,
        ),
        (
            "formats: [html]\n",
            "only html",
            Some("application/json"),
            HTML,
        ),
        // No wish at all: the first enabled format.
        ("", "no Accept", None, JSON),
        (
            "formats: [problem, json]\n",
            "no Accept, problem first",
            None,
            PROBLEM,
        ),
    ];
    for &(formats, why, accept, want) in rows {
        let router = router(formats);
        // Answers vary on Accept once a format beyond the gateway's is on.
        let beyond = formats.is_empty()
            || ["html", "text", "problem"]
                .iter()
                .any(|f| formats.contains(f));
        let vary = beyond.then_some("accept");

        let mut ingress = vec![("x-code", "503")];
        ingress.extend(accept.map(|a| ("x-format", a)));
        let (got, body) = ask_body(&router, "GET", "/any/path", &ingress, Body::empty()).await;
        assert_eq!(got, answer(503, want, vary), "ingress-nginx: {why}");
        assert_body(want, &body, why);

        let traefik: Vec<_> = accept.map(|a| ("accept", a)).into_iter().collect();
        let (got, body) = ask_body(&router, "GET", "/503", &traefik, Body::empty()).await;
        assert_eq!(got, answer(503, want, vary), "Traefik: {why}");
        assert_body(want, &body, why);
    }
}

/// `formats: [json, xml]` is today's service: a browser gets XML (its
/// `application/xml;q=0.9` beats `*/*`), and no answer says `Vary`.
#[tokio::test]
async fn json_and_xml_only_answer_as_before_over_http() {
    let s = TestServer::start(
        "formats: [json, xml]\n",
        &[
            ("error.json", error_render::render::BUNDLED_ERROR_JSON),
            ("error.xml", error_render::render::BUNDLED_ERROR_XML),
        ],
        false,
    )
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = client
        .get(s.url("/"))
        .header("x-code", "404")
        .header("x-format", CHROME)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], XML);
    assert!(r.headers().get("vary").is_none());
    let renderer = s.state.store.snapshot().renderer.clone();
    let want = renderer
        .render(&error_render::ErrorRequest::code(404).content_type(XML))
        .unwrap()
        .body;
    assert_eq!(r.text().await.unwrap(), want);
    let r = client.get(s.url("/404.html")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("use .json or .xml"), "{body}");
}

/// Traefik's `/{status}.{ext}`: the extension decides, whatever `Accept`
/// says, and the answer does not vary on it.
#[tokio::test]
async fn traefik_extensions_choose_the_format() {
    let router = router("");
    for (path, want) in [
        ("/502.html", HTML),
        ("/502.txt", TEXT),
        ("/502.json", JSON),
        ("/502.xml", XML),
        ("/502.problem.json", PROBLEM),
    ] {
        let got = ask(&router, "GET", path, &[("accept", "application/json")]).await;
        assert_eq!(got, answer(502, want, None), "{path}");
    }
    let (got, body) = ask_body(&router, "GET", "/502.yaml", &[], Body::empty()).await;
    assert_eq!(got.status, 400);
    assert!(
        body.contains("use .json, .xml, .html, .txt or .problem.json"),
        "{body}"
    );
}

/// Traefik with an indifferent `Accept` falls back to the request's
/// `Content-Type` under the gateway's rule: it picks JSON or XML, never a
/// format the request body happened to be in (`text/plain`).
#[tokio::test]
async fn traefik_content_type_fallback_keeps_the_gateways_rule() {
    let router = router("");
    let vary = Some("accept");
    for (ct, want) in [
        ("application/xml", XML),
        ("text/xml; charset=utf-8", XML),
        ("text/plain", JSON),
        ("text/html", JSON),
    ] {
        let got = ask(
            &router,
            "GET",
            "/404",
            &[("accept", "*/*"), ("content-type", ct)],
        )
        .await;
        assert_eq!(got, answer(404, want, vary), "{ct}");
    }
}

/// `/render` keeps Tyk's Content-Type rule (a browser's `Accept` changes
/// nothing); `format` in the query or the JSON body chooses; an unknown or
/// disabled one is the service's 400 naming the valid ones.
#[tokio::test]
async fn render_takes_format_explicitly() {
    let router = router("");
    let got = ask(&router, "GET", "/render/404", &[("accept", CHROME)]).await;
    assert_eq!(got, answer(404, JSON, None));
    let got = ask(&router, "GET", "/render/404?format=html", &[]).await;
    assert_eq!(got, answer(404, HTML, None));
    let got = ask(&router, "GET", "/render?code=404&format=problem", &[]).await;
    assert_eq!(got, answer(404, PROBLEM, None));
    let (got, _) = ask_body(
        &router,
        "POST",
        "/render",
        &[("content-type", "application/json")],
        Body::from(r#"{"code": 404, "format": "text"}"#),
    )
    .await;
    assert_eq!(got, answer(404, TEXT, None));
    // The format wins over the content type.
    let got = ask(
        &router,
        "GET",
        "/render/404?format=json&content_type=application/xml",
        &[],
    )
    .await;
    assert_eq!(got, answer(404, JSON, None));

    let (got, body) = ask_body(
        &router,
        "GET",
        "/render/404?format=yaml",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(got.status, 400);
    assert!(
        body.contains("unknown format \\\"yaml\\\": use one of json, xml, html, text, problem"),
        "{body}"
    );
    let (got, body) = ask_body(
        &router,
        "POST",
        "/render",
        &[],
        Body::from(r#"{"code": 404, "format": "pdf"}"#),
    )
    .await;
    assert_eq!(got.status, 400, "{body}");

    let json_xml = self::router("formats: [json, xml]\n");
    let (got, body) = ask_body(
        &json_xml,
        "GET",
        "/render/404?format=html",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(got.status, 400);
    assert!(
        body.contains("format html is not enabled (setting formats): use json or xml"),
        "{body}"
    );
}

/// `problem_type_base` makes a catalogue error's `type` the base and its
/// id; the request context's original URI is the `instance`.
#[tokio::test]
async fn problem_details_take_the_type_base_and_instance() {
    let router = router("problem_type_base: https://errors.example/\nrequest_context: true\n");
    let (got, body) = ask_body(
        &router,
        "GET",
        "/render/403?id=403-quota-exceeded&format=problem",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(got, answer(403, PROBLEM, None));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["type"], "https://errors.example/403-quota-exceeded",
        "{body}"
    );
    let (_, body) = ask_body(
        &router,
        "GET",
        "/render/403?id=403-quota-exceeded&format=problem",
        &[("x-original-uri", "/api/orders?id=7")],
        Body::empty(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["instance"], "/api/orders?id=7", "{body}");
    // A code without a catalogue entry has no type to name.
    let (_, body) = ask_body(
        &router,
        "GET",
        "/render/418?format=problem",
        &[],
        Body::empty(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "about:blank", "{body}");
}

/// One case over a real socket, through the connection's fast path: a
/// browser on ingress-nginx gets HTML and `Vary: Accept`.
#[tokio::test]
async fn a_browser_gets_html_over_a_socket() {
    let s = TestServer::start(
        NO_COMPRESSION,
        &[("error.json", error_render::render::BUNDLED_ERROR_JSON)],
        false,
    )
    .await;
    let addr = s.addr;
    let head = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /shop HTTP/1.1\r\nHost: x\r\nX-Code: 404\r\nX-Format: {CHROME}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    let head = head.split("\r\n\r\n").next().unwrap().to_owned();
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    assert!(
        head.contains("\r\ncontent-type: text/html; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nvary: accept\r\n"), "{head}");
}
