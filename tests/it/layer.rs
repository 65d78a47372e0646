//! The tower layer over axum apps, driven with `oneshot` (no sockets): which
//! responses it replaces, the format it negotiates over every format (and
//! over the settings' `formats`), the handler's extension, its headers, a
//! reload followed, and renders that fail.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use error_render::config::{Config, ConfigLayer};
use error_render::layer::{ErrorLayer, RenderAs, Select};
use error_render::store::Store;
use error_render::{RenderLimits, Renderer, TemplateFile, TemplateSet};
use tower::ServiceExt as _;

#[allow(dead_code)]
#[path = "../../examples/axum_layer.rs"]
mod example;

const JSON_404: &str = "{\n    \"error\": \"Not Found\"\n}";
const XML_404: &str = "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>Not Found</error>\n";

fn bundled() -> Arc<Store> {
    Arc::new(
        Renderer::builder()
            .templates(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
            .build_store()
            .expect("the bundled templates load"),
    )
}

/// The example's app over the bundled templates.
fn example_app() -> Router {
    example::app(ErrorLayer::new(bundled()))
}

/// Routes covering what the selection modes tell apart.
fn app(layer: ErrorLayer) -> Router {
    Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "the handler's own body") }),
        )
        .route(
            "/teapot",
            get(|| async { (StatusCode::IM_A_TEAPOT, Extension(RenderAs::code(503))) }),
        )
        .route(
            "/tagged",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    [
                        ("x-request-id", "abc"),
                        ("content-type", "text/plain"),
                        ("x-generator", "my-app"),
                    ],
                    "plain text",
                )
            }),
        )
        .route(
            "/gzipped",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    [("content-encoding", "gzip"), ("vary", "origin")],
                    "compressed bytes, as an inner CompressionLayer left them",
                )
            }),
        )
        .route(
            "/unknown-id",
            get(|| async {
                (
                    StatusCode::FORBIDDEN,
                    Extension(RenderAs::catalogue("no.such.id")),
                )
            }),
        )
        .route(
            "/by-id",
            get(|| async {
                (
                    StatusCode::OK,
                    Extension(RenderAs::catalogue("auth.key_not_found")),
                )
            }),
        )
        .layer(layer)
}

async fn get_with(
    app: &Router,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Response, String) {
    let mut req = Request::get(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (status, Response::from_parts(parts, Body::empty()), text)
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn example_ok_is_untouched() {
    let (status, r, body) = get_with(&example_app(), "/ok", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok\n");
    assert_eq!(header(&r, "x-generator"), None);
    assert_eq!(
        header(&r, "content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn example_bare_404_is_rendered() {
    let (status, r, body) = get_with(&example_app(), "/missing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, JSON_404);
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(header(&r, "x-generator"), Some("tyk.io"));
    assert_eq!(
        header(&r, "content-length"),
        Some(body.len().to_string().as_str())
    );
}

#[tokio::test]
async fn example_quota_renders_the_handlers_message() {
    let (status, _, body) = get_with(&example_app(), "/quota", &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body, "{\n    \"error\": \"Quota exceeded\"\n}");
}

#[tokio::test]
async fn accept_naming_xml_picks_xml() {
    let app = example_app();
    let (_, r, body) = get_with(&app, "/missing", &[("accept", "application/xml")]).await;
    assert_eq!(body, XML_404);
    assert_eq!(header(&r, "content-type"), Some("application/xml"));
    // Accept wins over the Content-Type rule when it names a format.
    let (_, _, body) = get_with(
        &app,
        "/missing",
        &[
            ("accept", "application/json"),
            ("content-type", "application/xml"),
        ],
    )
    .await;
    assert_eq!(body, JSON_404);
}

#[tokio::test]
async fn without_a_preference_the_gateways_content_type_rule_decides() {
    let app = example_app();
    for accept in [None, Some("*/*")] {
        let mut headers = vec![("content-type", "text/xml; charset=utf-8")];
        headers.extend(accept.map(|a| ("accept", a)));
        let (_, r, body) = get_with(&app, "/missing", &headers).await;
        assert_eq!(body, XML_404, "accept {accept:?}");
        assert_eq!(header(&r, "content-type"), Some("text/xml"));
    }
    let (_, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(body, JSON_404);
}

#[tokio::test]
async fn default_selection_replaces_every_error_and_keeps_2xx() {
    let app = app(ErrorLayer::new(bundled()));
    let (status, _, body) = get_with(&app, "/ok", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "fine"));
    let (status, _, body) = get_with(&app, "/boom", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("\"error\""), "{body}");
    // A route that does not exist is the router's bare 404.
    let (status, _, body) = get_with(&app, "/nowhere", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, JSON_404));
}

#[tokio::test]
async fn status_list_replaces_only_those_statuses() {
    let app = app(ErrorLayer::new(bundled()).select(Select::statuses([404])));
    let (_, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(body, JSON_404);
    let (status, _, body) = get_with(&app, "/boom", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "the handler's own body");
}

#[tokio::test]
async fn empty_bodies_mode_keeps_a_handlers_own_error_body() {
    let app = app(ErrorLayer::new(bundled()).select(Select::EmptyBodies));
    let (_, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(body, JSON_404);
    let (_, _, body) = get_with(&app, "/boom", &[]).await;
    assert_eq!(body, "the handler's own body");
}

#[tokio::test]
async fn marked_mode_replaces_only_marked_responses() {
    let app = app(ErrorLayer::new(bundled()).select(Select::Marked));
    let (status, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, ""));
    // The extension names the status to answer with, whatever the handler's.
    let (status, _, body) = get_with(&app, "/teapot", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        "{\n    \"error\": \"Service temporarily unavailable.\"\n}"
    );
}

#[tokio::test]
async fn a_catalogue_id_names_status_and_message() {
    let app = app(ErrorLayer::new(bundled()));
    let (status, _, body) = get_with(&app, "/by-id", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        "{\n    \"error\": \"Access to this API has been disallowed\"\n}"
    );
}

#[tokio::test]
async fn handler_headers_are_kept_and_the_renderers_win() {
    let app = app(ErrorLayer::new(bundled()));
    let (status, r, body) = get_with(&app, "/tagged", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, JSON_404));
    assert_eq!(header(&r, "x-request-id"), Some("abc"));
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    let generators: Vec<_> = r.headers().get_all("x-generator").iter().collect();
    assert_eq!(generators, ["tyk.io"]);
}

#[tokio::test]
async fn settings_add_extra_headers_and_rewrite_statuses() {
    let layer = ConfigLayer::parse(
        "headers:\n  \"404\":\n    cache-control: no-store\nstatus_rewrites:\n  \"500\": 502\n",
        std::path::Path::new("config.yaml"),
    )
    .unwrap();
    let config = Config::from_layer(layer).unwrap();
    let app = app(ErrorLayer::new(bundled()).config(&config));
    let (_, r, _) = get_with(&app, "/missing", &[]).await;
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    let (status, r, _) = get_with(&app, "/boom", &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(header(&r, "cache-control"), None);
}

#[tokio::test]
async fn request_context_reaches_templates_when_the_settings_expose_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("error.json"),
        "{{.Message}} [{{.RequestID}}]",
    )
    .unwrap();
    let builder = Renderer::builder().templates(dir.path()).layer(
        ConfigLayer::parse("request_context: true\n", std::path::Path::new("c.yaml")).unwrap(),
    );
    let settings = builder.settings().unwrap();
    let store = Arc::new(builder.build_store().unwrap());
    let app = app(ErrorLayer::new(store).config(&settings));
    let (_, _, body) = get_with(&app, "/missing", &[("x-request-id", "r-1")]).await;
    assert_eq!(body, "Not Found [r-1]");
    let (_, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(body, "Not Found []");
}

#[tokio::test]
async fn a_reload_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("error.json");
    std::fs::write(&file, "old {{.Message}}").unwrap();
    let store = Arc::new(
        Renderer::builder()
            .templates(dir.path())
            .build_store()
            .unwrap(),
    );
    let app = app(ErrorLayer::new(Arc::clone(&store)));
    let (_, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(body, "old Not Found");

    std::fs::write(&file, "new {{.Message}}").unwrap();
    assert_eq!(store.reload().unwrap(), 2);
    let (_, _, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(body, "new Not Found");
}

#[tokio::test]
async fn an_id_that_does_not_render_falls_back_to_the_status() {
    let app = app(ErrorLayer::new(bundled()));
    let (status, _, body) = get_with(&app, "/unknown-id", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("\"error\""), "{body}");
}

#[tokio::test]
async fn a_template_failing_as_it_runs_answers_the_bundled_default() {
    let recursive = r#"{{define "r"}}x{{template "r" .}}{{end}}{{template "r" .}}"#;
    let set = TemplateSet::from_files_limited(
        [TemplateFile {
            name: "error.json".into(),
            text: recursive.into(),
        }],
        RenderLimits::service(),
    )
    .unwrap();
    let renderer = Renderer::new(Arc::new(set), Default::default());
    let app = app(ErrorLayer::new(Arc::new(Store::fixed(renderer))));
    let (status, r, body) = get_with(&app, "/missing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, JSON_404);
    assert_eq!(header(&r, "content-type"), Some("application/json"));
}

/// Not only axum: a bare tower service with its own body type.
#[tokio::test]
async fn wraps_a_plain_tower_service() {
    use tower::{Layer as _, ServiceExt as _};
    let inner = tower::service_fn(|req: Request<()>| async move {
        let status = if req.uri().path() == "/ok" { 200 } else { 502 };
        let response = Response::builder()
            .status(status)
            .body(String::from("inner"))
            .unwrap();
        Ok::<_, std::convert::Infallible>(response)
    });
    let service = ErrorLayer::new(bundled()).layer(inner);
    let call = |path: &'static str| {
        let service = service.clone();
        async move {
            let response = service
                .oneshot(Request::get(path).body(()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    assert_eq!(call("/ok").await, (StatusCode::OK, "inner".to_owned()));
    let (status, body) = call("/fail").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("\"error\""), "{body}");
}

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The settings from YAML.
fn config(yaml: &str) -> Config {
    Config::from_layer(ConfigLayer::parse(yaml, std::path::Path::new("config.yaml")).unwrap())
        .unwrap()
}

/// The layer used to offer JSON and XML only: a browser got XML.
#[tokio::test]
async fn a_browser_gets_the_html_page() {
    let (status, r, body) = get_with(&example_app(), "/missing", &[("accept", BROWSER)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "content-type"), Some("text/html; charset=utf-8"));
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.contains("Not Found"), "{body}");
    assert_eq!(header(&r, "vary"), Some("accept"));
}

#[tokio::test]
async fn problem_json_gets_problem_details() {
    let accept = "application/problem+json, application/json;q=0.9";
    let (status, r, body) = get_with(&example_app(), "/quota", &[("accept", accept)]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "content-type"), Some("application/problem+json"));
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 429, "{body}");
    assert_eq!(problem["detail"], "Quota exceeded", "{body}");
    assert_eq!(header(&r, "vary"), Some("accept"));
}

#[tokio::test]
async fn text_plain_gets_text() {
    let (_, r, body) = get_with(&example_app(), "/missing", &[("accept", "text/plain")]).await;
    assert_eq!(
        header(&r, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(body.contains("Not Found"), "{body}");
}

/// With the gateway's formats only, the layer answers as the gateway:
/// a browser gets XML (its `application/xml;q=0.9` beats `*/*;q=0.8`) and
/// nothing varies on `Accept` beyond what it always did.
#[tokio::test]
async fn the_gateways_formats_answer_as_the_gateway_without_vary() {
    for layer in [
        ErrorLayer::new(bundled()).formats([error_render::Format::Json, error_render::Format::Xml]),
        ErrorLayer::new(bundled()).config(&config("formats: [json, xml]\n")),
    ] {
        let app = app(layer);
        let (_, r, body) = get_with(&app, "/missing", &[("accept", BROWSER)]).await;
        assert_eq!(body, XML_404);
        assert_eq!(header(&r, "content-type"), Some("application/xml"));
        assert_eq!(header(&r, "vary"), None);
        let (_, r, body) = get_with(&app, "/missing", &[("accept", "text/plain")]).await;
        assert_eq!(body, JSON_404);
        assert_eq!(header(&r, "vary"), None);
    }
}

/// The settings' order decides ties and the answer to no wish at all; a
/// list without the gateway's formats never answers JSON, whatever the
/// request's `Content-Type`.
#[tokio::test]
async fn the_settings_formats_are_the_offer() {
    let app = app(ErrorLayer::new(bundled()).config(&config("formats: [text, html]\n")));
    for headers in [
        &[][..],
        &[("accept", "*/*"), ("content-type", "application/xml")][..],
        &[("accept", "application/json")][..],
    ] {
        let (_, r, _) = get_with(&app, "/missing", headers).await;
        assert_eq!(
            header(&r, "content-type"),
            Some("text/plain; charset=utf-8"),
            "{headers:?}"
        );
    }
    let (_, r, _) = get_with(&app, "/missing", &[("accept", BROWSER)]).await;
    assert_eq!(header(&r, "content-type"), Some("text/html; charset=utf-8"));
}

/// A handler's `Content-Encoding` used to stay on the rendered body, so a
/// client would try to decode the plain error body; its `Vary` is kept.
#[tokio::test]
async fn a_handlers_content_encoding_goes_with_its_body() {
    let app = app(ErrorLayer::new(bundled()));
    let (status, r, body) = get_with(&app, "/gzipped", &[("accept", BROWSER)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "content-encoding"), None);
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    let vary: Vec<_> = r.headers().get_all("vary").iter().collect();
    assert_eq!(vary, ["origin", "accept"]);
}
