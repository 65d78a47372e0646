//! The browser preview under `/preview`: a catalogue page showing every error
//! rendered by the live template set, a playground that renders edited
//! templates without touching the disk, and the JSON API behind both.
//!
//! Everything the page needs is compiled into the binary (no CDN). The page
//! puts every piece of template, message and rendered text into the DOM as
//! text, and is served with a Content-Security-Policy that allows no inline
//! script, so a `<script>` in a template or a message never runs.
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /preview` | The page (or the sign-in form when a token is set and missing). |
//! | `POST /preview/signin` | Form `token=...`: sets the sign-in cookie. |
//! | `GET /preview/assets/{file}` | `app.js`, `style.css`. |
//! | `GET /preview/api/catalogue` | Every entry rendered as JSON and XML, the findings, the files. |
//! | `GET /preview/api/rules[?api=ID]` | The Error Overrides rules in order, and every catalogue entry through them. |
//! | `POST /preview/api/rules` | Pasted rules tried on an error or an upstream response. |
//! | `GET /preview/events` | Server-sent events: the generation and last reload failure, on change. |
//! | `GET /preview/render?code=...&format=...` | The `render --json` envelope from the live set, in any enabled format. |
//! | `POST /preview/render` | The envelope from inline templates (`error*` and `*.tera`), under strict limits; for `format: html`, with `frame`, the URL of the page for the sandboxed frame. |
//! | `GET /preview/frame?code=...` | The live set's HTML page alone, for the page's sandboxed frame, under its own strict CSP. |
//! | `GET /preview/frame?inline=ID` | A playground render's HTML page (kept a few minutes), the same way. |

mod api;
mod assets;
mod auth;
mod events;
mod frames;
mod guard;
mod inline;
mod rules;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::sync::{Semaphore, watch};

use super::{ApiError, AppState};

pub use api::{FRAME_CONTENT_SECURITY_POLICY, envelope};
pub use inline::MAX_BODY_BYTES;

/// The page's Content-Security-Policy: scripts, styles and connections from
/// this origin only; no inline script or style, no plugins; frames only of
/// this origin (the HTML view's `/preview/frame`, itself sandboxed).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the preview's handlers share, beyond [`AppState`].
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    /// Set once the server begins a graceful shutdown, so that event streams
    /// (which never end by themselves) let it finish.
    closing: Arc<watch::Sender<bool>>,
    /// Inline renders run one at a time: each is CPU work on a blocking
    /// thread, and a visitor typing fast must not starve the rendering
    /// routes.
    inline_renders: Arc<Semaphore>,
    /// The playground's last HTML pages, for its sandboxed frame.
    frames: Arc<frames::InlineFrames>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Shared {
            closing: Arc::new(watch::Sender::new(false)),
            inline_renders: Arc::new(Semaphore::new(1)),
            frames: Arc::new(frames::InlineFrames::default()),
        }
    }

    /// Ends every open event stream: the server is shutting down.
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// The preview's routes, to merge into the service's router when
/// `preview.enabled`.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/preview", get(auth::page))
        .route("/preview/", get(auth::page))
        .route(
            "/preview/signin",
            post(auth::signin).fallback(|m: Method| not_allowed(m, "POST")),
        )
        .route("/preview/assets/{file}", get(assets::asset))
        .route("/preview/api/catalogue", get(api::catalogue))
        .route(
            "/preview/api/rules",
            get(rules::view)
                .post(rules::test)
                .fallback(|m: Method| not_allowed(m, "GET, HEAD, POST")),
        )
        .route("/preview/events", get(events::events))
        .route("/preview/frame", get(api::frame))
        .route(
            "/preview/render",
            get(api::render_get)
                .post(api::render_post)
                .fallback(|m: Method| not_allowed(m, "GET, HEAD, POST")),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::host_and_origin,
        ))
        .layer(axum::middleware::map_response(security_headers))
}

/// The service's own 405, naming what the route takes.
async fn not_allowed(method: Method, allow: &'static str) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        allow,
    }
}

/// Headers on every preview response, pages, assets and API alike.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    // A response that brings its own (the frame's stricter one) keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    // The page and its answers change with every reload.
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
