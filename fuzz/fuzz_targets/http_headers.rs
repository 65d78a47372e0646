//! The proxy-facing HTTP surface: ingress-nginx's headers (`X-Code`,
//! `X-Format`, `X-Original-URI`, `X-Namespace`, ...), Traefik's
//! `/{status}[.ext]` paths with `Accept`, and the `/render` routes, driven
//! through `error_render::http::router` in process.
//!
//! A panic in a handler aborts (libfuzzer-sys's panic hook runs before
//! `CatchPanicLayer`), and the service's own 500 (`internal`) is a finding too: the
//! service only sends one when something it built is invalid.
//!
//! Input fields: control (bits 0-1 method, bit 2 request context and
//! rewrites), path and query, then one field per header of `HEADERS`
//! (empty: absent), then the body.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use error_render::config::{Config, ConfigLayer};
use error_render::http::{AppState, ERROR_HEADER, router};
use error_render::store::Store;
use error_render::{Overrides, Renderer, TemplateFile, TemplateSet};
use error_render_fuzz::{Control, Fields};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const HEADERS: [&str; 12] = [
    "x-code",
    "x-format",
    "x-original-uri",
    "x-namespace",
    "x-namespaces",
    "x-ingress-name",
    "x-service-name",
    "x-service-port",
    "x-request-id",
    "accept",
    "content-type",
    "x-original-content-type",
];

/// Status rewrites, extra headers and request context, as a deployment
/// might configure them.
const RICH_CONFIG: &str = "\
request_context: true
status_rewrites: {\"401\": 403, 5xx: 503}
headers:
  \"*\": {cache-control: no-store}
  4xx: {x-kind: client}
default_messages: {418: teapot}
";

const CONTEXT_TEMPLATE: &str = r#"{"error": "{{.Message}}", "id": "{{.RequestID}}", "uri": "{{.OriginalURI}}", "ns": "{{.Namespace}}", "svc": "{{.ServiceName}}:{{.ServicePort}}", "ing": "{{.IngressName}}"}"#;

struct Fixture {
    runtime: Runtime,
    plain: Router,
    rich: Router,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let files = [
            ("error.json", error_render::render::BUNDLED_ERROR_JSON),
            ("error.xml", error_render::render::BUNDLED_ERROR_XML),
            (
                "error_404.xml",
                "<missing uri=\"{{.OriginalURI}}\">{{.Message}}</missing>",
            ),
            ("error_503.json", CONTEXT_TEMPLATE),
        ];
        let set = Arc::new(
            TemplateSet::from_files(files.map(|(name, text)| TemplateFile {
                name: name.to_owned(),
                text: text.into(),
            }))
            .expect("the fixture set loads"),
        );
        let state = |config: Config| {
            let renderer = Renderer::new(
                Arc::clone(&set),
                config.render_options(Overrides::default()),
            );
            router(AppState::new(
                Arc::new(Store::fixed(renderer)),
                Arc::new(config),
            ))
        };
        let rich = ConfigLayer::parse(RICH_CONFIG, Path::new("fuzz.yaml"))
            .and_then(Config::from_layer)
            .expect("the fixture config is valid");
        Fixture {
            // Timers, as in the service: request bodies are read under a
            // timeout.
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime"),
            plain: state(Config::default()),
            rich: state(rich),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let mut fields = Fields::new(data);
    let control = Control::read(fields.bytes());
    let mut target = fields.text();
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    let method = [Method::GET, Method::POST, Method::HEAD, Method::PUT]
        [usize::from(control.flags & 3)]
    .clone();
    let mut builder = Request::builder().method(method);
    builder = match target.parse::<axum::http::Uri>() {
        Ok(uri) => builder.uri(uri),
        Err(_) => builder.uri("/"),
    };
    for name in HEADERS {
        let value = fields.bytes();
        if value.is_empty() {
            continue;
        }
        // Bytes a proxy could not send are refused before the service.
        if let Ok(value) = HeaderValue::from_bytes(value) {
            builder = builder.header(HeaderName::from_static(name), value);
        }
    }
    let body: Vec<u8> = fields.rest().flat_map(|f| f.iter().copied()).collect();
    let Ok(request) = builder.body(Body::from(body)) else {
        return;
    };
    let app = if control.bit(2) {
        fixture.rich.clone()
    } else {
        fixture.plain.clone()
    };
    fixture.runtime.block_on(async move {
        let response = app
            .oneshot(request)
            .await
            .expect("the router is infallible");
        // The service's own errors carry ERROR_HEADER; a rendered 500 does
        // not, so only the service's `internal` answer matches.
        let internal = response.status() == StatusCode::INTERNAL_SERVER_ERROR
            && response.headers().contains_key(ERROR_HEADER);
        let (_, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .expect("the body is in memory")
            .to_bytes();
        assert!(
            !internal,
            "the service answered with an internal error: {}",
            String::from_utf8_lossy(&body)
        );
    });
});
