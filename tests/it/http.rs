//! The HTTP service over real sockets: every route, protocol and format
//! rule, the service's own errors, operations routes, and the binary's
//! start, readiness and graceful stop.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use error_render::config::{Config, ConfigLayer};
use error_render::http::{AppState, ERROR_HEADER};
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use error_render::{ErrorRequest, Renderer};

/// A per-code template that prints every request-context field.
const CONTEXT_451: &str = r#"{"id":"{{.RequestID}}","uri":"{{.OriginalURI}}","ns":"{{.Namespace}}","ing":"{{.IngressName}}","svc":"{{.ServiceName}}","port":"{{.ServicePort}}","m":"{{.Message}}"}"#;

use crate::common;

use common::TestServer as Server;

use crate::common::free_port;

/// The bundled templates and a per-code template printing the context.
const TEMPLATES: [(&str, &str); 3] = [
    ("error.json", BUNDLED_ERROR_JSON),
    ("error.xml", BUNDLED_ERROR_XML),
    ("error_451.json", CONTEXT_451),
];

impl Server {
    /// A renderer over the same templates, for the expected bytes.
    fn renderer(&self) -> Renderer {
        self.state.store.snapshot().renderer.clone()
    }
}

/// Starts the service with settings from YAML over [`TEMPLATES`].
async fn start(yaml: &str) -> Server {
    Server::start(yaml, &TEMPLATES, false).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Asserts a response is the service's own error with this status and code.
async fn assert_own_error(r: reqwest::Response, status: u16, code: &str) {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(header(&r, ERROR_HEADER).as_deref(), Some("1"));
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("application/json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

/// The response the renderer gives for `req`, as (status, content type, body).
fn expected(s: &Server, req: ErrorRequest) -> (u16, String, String) {
    let r = s.renderer().render(&req).unwrap();
    (
        r.status,
        r.content_type().to_owned(),
        r.body_text().into_owned(),
    )
}

async fn parts(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let ct = header(&r, "content-type").unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

#[tokio::test]
async fn render_code_answers_the_error_itself() {
    let s = start("").await;
    let r = get(&s.url("/render/404")).await;
    assert_eq!(header(&r, "x-generator").as_deref(), Some("tyk.io"));
    assert!(header(&r, ERROR_HEADER).is_none());
    // No headers the gateway does not send.
    assert!(header(&r, "cache-control").is_none());
    assert_eq!(parts(r).await, expected(&s, ErrorRequest::code(404)));

    let r = get(&s.url("/render/403?message=Key+not%20authorised")).await;
    assert_eq!(
        parts(r).await,
        expected(&s, ErrorRequest::code(403).message("Key not authorised"))
    );

    let r = get(&s.url("/render/403?id=auth.key_not_found")).await;
    assert_eq!(
        parts(r).await,
        expected(&s, ErrorRequest::id("auth.key_not_found"))
    );
}

/// Go slices bytes: `slice .Message 0 20` of the catalogue's "OAuth client
/// doesn’t exist" cuts the apostrophe's three bytes after two, and the
/// gateway sends those two bytes (Go 1.26.5). The response carries them.
#[tokio::test]
async fn a_cut_utf8_sequence_goes_out_as_its_bytes() {
    let s = Server::start(
        "",
        &[("error.json", "{\"error\": \"{{slice .Message 0 20}}\"}")],
        false,
    )
    .await;
    let r = get(&s.url("/render/404?message=OAuth+client+doesn%E2%80%99t+exist")).await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        b"{\"error\": \"OAuth client doesn\xe2\x80\"}"
    );
}

#[tokio::test]
async fn render_format_follows_the_gateway_content_type_rule() {
    let s = start("").await;
    let xml = expected(&s, ErrorRequest::code(500).content_type("application/xml"));
    let json = expected(&s, ErrorRequest::code(500));
    assert_eq!(xml.1, "application/xml");

    // The parameter.
    let r = get(&s.url("/render/500?content_type=application/xml")).await;
    assert_eq!(parts(r).await, xml);
    // X-Original-Content-Type, over the request's own Content-Type.
    let r = client()
        .get(s.url("/render/500"))
        .header("x-original-content-type", "text/xml; charset=utf-8")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts(r).await,
        expected(&s, ErrorRequest::code(500).content_type("text/xml"))
    );
    // The request's own Content-Type; exact match before `;` only.
    let r = client()
        .get(s.url("/render/500"))
        .header("content-type", "Application/XML")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, json);
    // The parameter wins over both headers.
    let r = client()
        .get(s.url("/render/500?content_type=application/json"))
        .header("x-original-content-type", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, json);
}

#[tokio::test]
async fn any_method_renders_and_bodies_are_ignored() {
    let s = start("").await;
    // nginx error_page keeps the client's POST and its body.
    let r = client()
        .post(s.url("/render/503"))
        .header("content-type", "application/soap+xml")
        .body("<soap>not ours</soap>")
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts(r).await,
        expected(
            &s,
            ErrorRequest::code(503).content_type("application/soap+xml")
        )
    );
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let r = client()
            .request(method, s.url("/render/502"))
            .body("ignored")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 502);
    }
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let s = start("").await;
    let r = client().head(s.url("/render/401")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("application/json")
    );
    let len: usize = header(&r, "content-length").unwrap().parse().unwrap();
    assert_eq!(len, expected(&s, ErrorRequest::code(401)).2.len());
    assert_eq!(r.text().await.unwrap(), "");

    let r = client()
        .head(s.url("/"))
        .header("x-code", "502")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    assert_eq!(r.text().await.unwrap(), "");
}

#[tokio::test]
async fn post_render_takes_json() {
    let s = start("").await;
    let r = client()
        .post(s.url("/render"))
        .json(&serde_json::json!({
            "code": 429, "message": "Slow <down>", "content_type": "application/xml",
            "profile": "5.14"
        }))
        .send()
        .await
        .unwrap();
    let mut want = ErrorRequest::code(429)
        .message("Slow <down>")
        .content_type("application/xml");
    want.profile = Some(error_render::Profile::V5_14);
    assert_eq!(parts(r).await, expected(&s, want));

    let r = client()
        .post(s.url("/render"))
        .json(&serde_json::json!({"id": "auth.key_not_found"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts(r).await,
        expected(&s, ErrorRequest::id("auth.key_not_found"))
    );

    // GET /render takes the query.
    let r = get(&s.url("/render?code=400&message=x")).await;
    assert_eq!(
        parts(r).await,
        expected(&s, ErrorRequest::code(400).message("x"))
    );
}

#[tokio::test]
async fn post_render_bad_bodies_are_own_errors() {
    let s = start("limits:\n  max_body_bytes: 100\n  max_message_bytes: 8\n").await;
    let post = |body: Vec<u8>| {
        client()
            .post(s.url("/render"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = post(br#"{"code": 404, "colour": "red"}"#.to_vec())
        .await
        .unwrap();
    assert_own_error(r, 400, "malformed_json").await;
    let r = post(b"{not json".to_vec()).await.unwrap();
    assert_own_error(r, 400, "malformed_json").await;
    let r = post(b"{\"code\": 404, \"message\": \"\xff\"}".to_vec())
        .await
        .unwrap();
    assert_own_error(r, 400, "invalid_utf8").await;
    let r = post(vec![b' '; 101]).await.unwrap();
    assert_own_error(r, 413, "body_too_large").await;
    let r = post(br#"{"code": 200}"#.to_vec()).await.unwrap();
    assert_own_error(r, 400, "invalid_code").await;
    let r = post(br#"{"message": "no code"}"#.to_vec()).await.unwrap();
    assert_own_error(r, 400, "invalid_code").await;
    let r = post(br#"{"code": 404, "message": "123456789"}"#.to_vec())
        .await
        .unwrap();
    assert_own_error(r, 400, "message_too_long").await;
    let r = post(br#"{"id": "no.such_id"}"#.to_vec()).await.unwrap();
    assert_own_error(r, 400, "unknown_id").await;
    let r = post(br#"{"code": 404, "profile": "9"}"#.to_vec())
        .await
        .unwrap();
    assert_own_error(r, 400, "invalid_parameter").await;
}

#[tokio::test]
async fn bad_requests_are_own_errors() {
    let s = start("limits:\n  max_message_bytes: 8\n").await;
    for (path, status, code) in [
        ("/render/abc", 400, "invalid_code"),
        ("/render/200", 400, "invalid_code"),
        ("/render/600", 400, "invalid_code"),
        ("/render/4040", 400, "invalid_code"),
        ("/render/404?id=no.such_id", 400, "unknown_id"),
        ("/render/404?message=123456789", 400, "message_too_long"),
        ("/render/404?message=%ff%fe", 400, "invalid_utf8"),
        ("/render", 400, "invalid_code"),
        ("/render/404?profile=6", 400, "invalid_parameter"),
        ("/nowhere", 404, "not_found"),
        ("/render/404/extra", 404, "not_found"),
        ("/", 404, "not_found"),
        ("/503.pdf", 400, "invalid_parameter"),
        ("/render/404?format=pdf", 400, "invalid_parameter"),
        ("/99", 400, "invalid_code"),
    ] {
        let r = get(&s.url(path)).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_own_error(r, status, code).await;
    }
    // The message limit is inclusive.
    let r = get(&s.url("/render/404?message=12345678")).await;
    assert_eq!(r.status().as_u16(), 404);

    for path in ["/healthz", "/readyz", "/version", "/status", "/metrics"] {
        let r = client().post(s.url(path)).send().await.unwrap();
        assert_eq!(header(&r, "allow").as_deref(), Some("GET, HEAD"));
        assert_own_error(r, 405, "method_not_allowed").await;
    }
    let r = client()
        .get(s.url("/"))
        .header("x-code", "teapot")
        .send()
        .await
        .unwrap();
    assert_own_error(r, 400, "invalid_code").await;
}

#[tokio::test]
async fn ingress_nginx_negotiates_x_format() {
    // The gateway's formats only (the HTML, text and problem cases are
    // `negotiation.rs`'s): a browser's Accept gets XML, as before.
    let s = start("formats: [json, xml]\n").await;
    let xml = expected(&s, ErrorRequest::code(503).content_type("application/xml"));
    let json = expected(&s, ErrorRequest::code(503));
    for (accept, want) in [
        (None, &json),
        (Some("application/xml"), &xml),
        (Some("text/html,application/xml;q=0.9,*/*;q=0.8"), &xml),
        (Some("application/xml;q=0.4, application/json"), &json),
        (Some("application/xml;q=0"), &json),
        (Some("*/*"), &json),
        (Some("application/xml, application/json"), &xml),
        (Some("image/png"), &json),
    ] {
        let mut req = client()
            .get(s.url("/any/path/at/all"))
            .header("x-code", "503")
            .header("x-original-uri", "/api/v1/things");
        if let Some(a) = accept {
            req = req.header("x-format", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(&parts(r).await, want, "{accept:?}");
    }
}

#[tokio::test]
async fn ingress_nginx_context_fields() {
    let s = start("request_context: true\n").await;
    let r = client()
        .get(s.url("/"))
        .header("x-code", "451")
        .header("x-request-id", "req-1")
        .header("x-original-uri", "/a?b=<c>")
        .header("x-namespaces", "shop")
        .header("x-ingress-name", "web")
        .header("x-service-name", "api")
        .header("x-service-port", "8080")
        .header("authorization", "Bearer secret-token")
        .header("cookie", "session=secret-cookie")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 451);
    let body = r.text().await.unwrap();
    let mut req = ErrorRequest::code(451);
    req.fields = [
        ("RequestID", "req-1"),
        ("OriginalURI", "/a?b=<c>"),
        ("Namespace", "shop"),
        ("IngressName", "web"),
        ("ServiceName", "api"),
        ("ServicePort", "8080"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(body, expected(&s, req).2);
    assert!(body.contains("req-1") && body.contains("shop"), "{body}");
    // No secret echoed.
    assert!(!body.contains("secret"), "{body}");

    // Without the headers the fields are empty, not an execution error.
    let r = client()
        .get(s.url("/"))
        .header("x-code", "451")
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.starts_with(r#"{"id":"","uri":"""#), "{body}");
}

#[tokio::test]
async fn context_fields_are_off_by_default() {
    let s = start("").await;
    let r = client()
        .get(s.url("/"))
        .header("x-code", "451")
        .header("x-request-id", "req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 451);
    assert!(!r.text().await.unwrap().contains("req-1"));
}

#[tokio::test]
async fn traefik_status_paths() {
    let s = start("").await;
    let xml = expected(&s, ErrorRequest::code(502).content_type("application/xml"));
    let json = expected(&s, ErrorRequest::code(502));
    assert_eq!(parts(get(&s.url("/502.xml")).await).await, xml);
    assert_eq!(parts(get(&s.url("/502.json")).await).await, json);
    assert_eq!(parts(get(&s.url("/502")).await).await, json);
    // The extension wins over Accept.
    let r = client()
        .get(s.url("/502.json"))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, json);
    // The forwarded Accept, then Content-Type.
    let r = client()
        .get(s.url("/502?url=http%3A%2F%2Fexample%2F"))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, xml);
    let r = client()
        .get(s.url("/502"))
        .header("content-type", "text/xml; charset=utf-8")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, xml);
    // An Accept of only */* says nothing: Content-Type decides.
    let r = client()
        .get(s.url("/502"))
        .header("accept", "*/*")
        .header("content-type", "text/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, xml);
    let r = client()
        .get(s.url("/502"))
        .header("accept", "application/json, */*")
        .header("content-type", "text/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await, json);
}

#[tokio::test]
async fn status_rewrites_extra_headers_and_default_messages() {
    let s = start(
        "status_rewrites:\n  401: 404\n  5xx: 503\n\
         headers:\n  \"*\":\n    Access-Control-Allow-Origin: \"*\"\n  \
         503:\n    Retry-After: 30\n  404:\n    X-Hidden: yes\n\
         default_messages:\n  502: Upstream is napping\n",
    )
    .await;
    let r = get(&s.url("/render/401")).await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(header(&r, "x-hidden").as_deref(), Some("yes"));
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    // The body is still the 401's.
    assert_eq!(
        r.text().await.unwrap(),
        expected(&s, ErrorRequest::code(401)).2
    );

    let r = get(&s.url("/render/502")).await;
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("30"));
    assert!(r.text().await.unwrap().contains("Upstream is napping"));

    let r = get(&s.url("/render/418")).await;
    assert_eq!(r.status().as_u16(), 418);
    assert!(header(&r, "retry-after").is_none());
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
}

/// Sends a raw HTTP/1.1 request and returns the response head, lower-cased.
fn raw_head(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap().to_ascii_lowercase()
}

#[tokio::test]
async fn connection_header_is_never_sent() {
    let s = start("close_connections: true\nhide_generator_header: true\n").await;
    // The renderer itself asks for it...
    let r = s.renderer().render(&ErrorRequest::code(500)).unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    // ...but the service never sends it.
    let addr = s.addr;
    let head = tokio::task::spawn_blocking(move || raw_head(addr, "/render/500"))
        .await
        .unwrap();
    assert!(head.starts_with("http/1.1 500"), "{head}");
    assert!(!head.contains("\r\nconnection:"), "{head}");
    assert!(!head.contains("x-generator"), "{head}");
}

#[tokio::test]
async fn ops_routes() {
    let s = start("").await;
    let r = get(&s.url("/healthz")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = get(&s.url("/readyz")).await;
    assert_eq!(r.status().as_u16(), 200);
    let r = get(&s.url("/version")).await;
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["name"], "error-render");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let r = client().head(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_count_renders_and_reloads() {
    let s = start("").await;
    assert_eq!(get(&s.url("/render/404")).await.status().as_u16(), 404);
    assert_eq!(get(&s.url("/render/404")).await.status().as_u16(), 404);
    let store = Arc::clone(&s.state.store);
    tokio::task::spawn_blocking(move || store.reload().unwrap())
        .await
        .unwrap();
    let r = get(&s.url("/metrics")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        header(&r, "content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains(r#"error_render_renders_total{code="404",outcome="ok"} 2"#),
        "{text}"
    );
    assert!(
        text.contains("error_render_render_duration_seconds_count 2"),
        "{text}"
    );
    assert!(
        text.contains(r#"error_render_reloads_total{result="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"error_render_reloads_total{result="failed"} 0"#),
        "{text}"
    );
    assert!(
        text.contains("error_render_template_generation 2"),
        "{text}"
    );
}

#[tokio::test]
async fn status_reports_generation_and_last_reload_error() {
    let s = start("").await;
    let v: serde_json::Value = get(&s.url("/status")).await.json().await.unwrap();
    assert_eq!(v["generation"], 1);
    assert!(v["loaded_at"].as_str().unwrap().ends_with('Z'), "{v}");
    assert!(v["load_duration_ms"].is_number(), "{v}");
    assert_eq!(
        v["templates"]["files"],
        serde_json::json!(["error.json", "error.xml", "error_451.json"])
    );
    assert!(v["last_reload_error"].is_null(), "{v}");

    // Break a template: the reload fails, the last good set keeps serving.
    let dir = s.state.config.templates.clone();
    std::fs::write(dir.join("error.json"), "{\n  {{.Message\n").unwrap();
    let store = Arc::clone(&s.state.store);
    let failed = tokio::task::spawn_blocking(move || store.reload())
        .await
        .unwrap();
    assert!(failed.is_err());
    let v: serde_json::Value = get(&s.url("/status")).await.json().await.unwrap();
    assert_eq!(v["generation"], 1);
    let err = &v["last_reload_error"];
    assert_eq!(err["problems"][0]["file"], "error.json", "{v}");
    assert_eq!(err["problems"][0]["line"], 3, "{v}");
    assert_eq!(v["reloads"]["failed"], 1);
    assert_eq!(get(&s.url("/render/404")).await.status().as_u16(), 404);
}

/// Whether `GET /readyz` answers 200, with short timeouts.
fn ready(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: x\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    // hyper answers in the request's version.
    stream.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") && buf.ends_with(b" 200")
}

#[test]
fn binary_serves_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in TEMPLATES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let bin = env!("CARGO_BIN_EXE_error-render");
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["serve", "--listen", &addr.to_string(), "--templates"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // Only this test's settings, plus a Kubernetes-style variable that must
    // only warn.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ERROR_RENDER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("ERROR_RENDER_PORT", "tcp://10.0.0.1:8080");
    let mut child = cmd.spawn().unwrap();

    // Wait for readiness: bounded polling of short connection attempts.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready(addr) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "serve never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }

    let health = std::process::Command::new(bin)
        .args(["healthcheck", "--url", &format!("http://{addr}/healthz")])
        .status()
        .unwrap();
    assert!(health.success());
    // Without --url it asks where `serve` would listen with the same
    // environment: `:port` (every interface) through loopback.
    let followed = std::process::Command::new(bin)
        .arg("healthcheck")
        .env("ERROR_RENDER_LISTEN", format!(":{port}"))
        .env_remove("ERROR_RENDER_CONFIG")
        .status()
        .unwrap();
    assert!(
        followed.success(),
        "healthcheck follows ERROR_RENDER_LISTEN"
    );
    let missing = std::process::Command::new(bin)
        .args(["healthcheck", "--url", &format!("http://{addr}/nowhere")])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(missing.code(), Some(1));

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));

    // Nothing listens any more.
    let closed = std::process::Command::new(bin)
        .args(["healthcheck", "--url", &format!("http://{addr}/healthz")])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(closed.code(), Some(1));
}

#[test]
fn example_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config.yaml");
    let layer = ConfigLayer::from_file(&path).unwrap();
    let config = Config::from_layer(layer).unwrap();
    assert_eq!(config.status_rewrites.apply(401), 404);
    assert!(config.request_context);
}

#[test]
fn start_fails_without_a_loadable_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_layer(ConfigLayer {
        templates: Some(dir.path().to_owned()),
        ..ConfigLayer::default()
    })
    .unwrap();
    let err = AppState::from_config(config).unwrap_err().to_string();
    assert!(err.contains("no template found"), "{err}");
}

/// Sends each request on one keep-alive connection and returns each raw
/// response (head and `Content-Length` body), its `date` line blanked.
fn raw_exchanges(addr: SocketAddr, requests: &[String]) -> Vec<String> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = Vec::new();
    for req in requests {
        stream.write_all(req.as_bytes()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed before answering {req:?}");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.parse().unwrap());
            if body.len() >= len {
                let head: Vec<&str> = head
                    .lines()
                    .map(|l| {
                        if l.starts_with("date: ") {
                            "date: -"
                        } else {
                            l
                        }
                    })
                    .collect();
                out.push(format!("{}\r\n\r\n{body}", head.join("\r\n")));
                break;
            }
        }
    }
    out
}

/// The service answers the proxy routes without its router (src/http/fast.rs):
/// what it sends must be, byte for byte, what the router sends when hyper
/// serves it alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_sends_the_routers_bytes() {
    let s = start("headers:\n  \"503\":\n    Retry-After: \"30\"\n").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let router_addr = listener.local_addr().unwrap();
    let router = error_render::http::router(s.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let requests: Vec<String> = [
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /render/403?message=Quota%20exceeded HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /render/503?message=any+thing%21 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /render/451 HTTP/1.1\r\nHost: x\r\nX-Request-ID: r1\r\n\r\n",
        "GET /render/404 HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n\r\n",
        "GET /render/99 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: application/json\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nX-Code: 404\r\nX-Format: application/xml\r\n\r\n",
        "GET /404 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /503.xml HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    .map(str::to_owned)
    .to_vec();
    let (fast, slow) = (s.addr, router_addr);
    let (fast, slow) = tokio::task::spawn_blocking({
        let requests = requests.clone();
        move || {
            (
                raw_exchanges(fast, &requests),
                raw_exchanges(slow, &requests),
            )
        }
    })
    .await
    .unwrap();
    for ((req, fast), slow) in requests.iter().zip(&fast).zip(&slow) {
        assert_eq!(fast, slow, "{req:?}");
    }
    assert!(fast[2].contains("any thing!"), "{}", fast[2]);
    assert!(fast[6].contains("retry-after: 30"), "{}", fast[6]);
}

/// Pinned to one CPU (as `taskset` or a one-CPU container does), `serve`
/// runs a single-threaded runtime: the proxy routes answer on a keep-alive
/// connection and SIGTERM still stops it gracefully with that connection
/// open and idle.
#[test]
fn binary_on_one_cpu_serves_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in TEMPLATES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let bin = env!("CARGO_BIN_EXE_error-render");
    let mut cmd = std::process::Command::new("taskset");
    cmd.args([
        "-c",
        "0",
        bin,
        "serve",
        "--listen",
        &addr.to_string(),
        "--templates",
    ])
    .arg(dir.path())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ERROR_RENDER_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd.spawn().expect("taskset (util-linux) runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready(addr) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "serve never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }

    let requests = [
        "GET /render/403?message=Quota%20exceeded HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n\r\n".to_owned(),
        "GET /404 HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
    ];
    let answers = raw_exchanges(addr, &requests);
    for (answer, status) in answers.iter().zip(["403", "503", "404", "200"]) {
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer}"
        );
    }
    assert!(
        answers[0].ends_with("\"Quota exceeded\"\n}"),
        "{}",
        answers[0]
    );

    // An idle keep-alive connection must not hold the stop.
    let idle = TcpStream::connect(addr).unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    drop(idle);
}
