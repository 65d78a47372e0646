//! A tower layer (feature `server`) that replaces a service's error
//! responses with the rendered error for their status, in the format the
//! request's `Accept` negotiates (JSON and XML as the gateway would have
//! answered, or error-render's HTML, text and problem details), following a
//! live template set across reloads. Compression is left to the app.
//!
//! ```
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{Extension, Router, http::StatusCode, routing::get};
//! use error_render::layer::{ErrorLayer, RenderAs};
//! use error_render::Renderer;
//! use tower::ServiceExt as _;
//!
//! let store = std::sync::Arc::new(Renderer::builder().templates("templates").build_store()?);
//! let app = Router::new()
//!     .route("/quota", get(|| async {
//!         (StatusCode::TOO_MANY_REQUESTS, Extension(RenderAs::code(429).message("Quota exceeded")))
//!     }))
//!     .layer(ErrorLayer::new(store));
//!
//! let request = axum::http::Request::get("/quota").body(axum::body::Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), 429);
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "{\n    \"error\": \"Quota exceeded\"\n}");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
//! ```

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};

use crate::config::{Config, ExtraHeaders, StatusRewrites};
use crate::http::negotiate::{Format, Offer, is_indifferent, negotiate};
use crate::render::{ErrorRequest, Rendered, Renderer};
use crate::store::Store;

/// Which responses the layer replaces. A response a handler marked with
/// [`RenderAs`] is replaced under every choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Select {
    /// Every response with a status of 400 or more (the default).
    #[default]
    Errors,
    /// Responses with one of these statuses.
    Statuses(BTreeSet<u16>),
    /// Error responses (400 or more) whose body is known to be empty, so a
    /// handler's own error body is kept.
    EmptyBodies,
    /// Only responses a handler marked.
    Marked,
}

impl Select {
    /// [`Select::Statuses`] from a list.
    pub fn statuses(codes: impl IntoIterator<Item = u16>) -> Self {
        Select::Statuses(codes.into_iter().collect())
    }
}

/// A response extension by which a handler names the error to render in
/// place of its response: a catalogue id (or gateway error ID), or a
/// status with an optional message. The rendered error's status becomes
/// the response's.
///
/// ```
/// use axum::{Extension, http::StatusCode, response::IntoResponse};
/// use error_render::layer::RenderAs;
///
/// async fn quota() -> impl IntoResponse {
///     (StatusCode::TOO_MANY_REQUESTS, Extension(RenderAs::code(429).message("Quota exceeded")))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderAs {
    request: ErrorRequest,
}

impl RenderAs {
    /// The error with this catalogue id or gateway error ID
    /// (`error-render catalogue` lists them).
    pub fn catalogue(id: impl Into<String>) -> Self {
        RenderAs {
            request: ErrorRequest::id(id),
        }
    }

    /// The error for this status, with the default message unless
    /// [`message`](Self::message) gives one.
    pub fn code(code: u16) -> Self {
        RenderAs {
            request: ErrorRequest::code(code),
        }
    }

    /// The message to render.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.request = self.request.message(message);
        self
    }
}

/// Wraps a service so that its error responses are rendered error bodies.
/// See the [module docs](self).
#[derive(Debug, Clone)]
pub struct ErrorLayer {
    /// Every service the layer wraps shares these; the builder methods
    /// change a copy only if a service already holds them.
    shared: Arc<Shared>,
}

/// What every wrapped service shares, behind one `Arc`.
#[derive(Debug, Clone)]
struct Shared {
    store: Arc<Store>,
    select: Select,
    /// The formats offered, in order of preference (the settings' `formats`).
    formats: Vec<Format>,
    headers: ExtraHeaders,
    rewrites: StatusRewrites,
    request_context: bool,
}

impl ErrorLayer {
    /// Renders with the live set of `store` (each response takes the
    /// generation current when it is answered), replacing every error
    /// response, in any of the five formats ([`Format::ALL`]'s order).
    pub fn new(store: Arc<Store>) -> Self {
        ErrorLayer {
            shared: Arc::new(Shared {
                store,
                select: Select::default(),
                formats: Format::ALL.to_vec(),
                headers: ExtraHeaders::default(),
                rewrites: StatusRewrites::default(),
                request_context: false,
            }),
        }
    }

    /// Over a live renderer's store, with its settings' extra headers and
    /// status rewrites, as the service answers.
    #[cfg(feature = "watch")]
    pub fn from_live(live: &crate::live::LiveRenderer) -> Self {
        ErrorLayer::new(Arc::clone(live.store())).config(live.config())
    }

    /// Which responses to replace.
    pub fn select(mut self, select: Select) -> Self {
        Arc::make_mut(&mut self.shared).select = select;
        self
    }

    /// The formats `Accept` is negotiated over, in order of preference (a
    /// tie, and a client that accepts none of them, gets the first), as the
    /// settings' `formats`. `[Format::Json, Format::Xml]` answers as the
    /// gateway would, without `Vary: Accept`.
    pub fn formats(mut self, formats: impl IntoIterator<Item = Format>) -> Self {
        Arc::make_mut(&mut self.shared).formats = formats.into_iter().collect();
        self
    }

    /// Adds the settings' formats (`formats`), per-status extra headers
    /// (`headers`), status rewrites (`status_rewrites`) and request context
    /// for templates (`request_context`: `RequestID` from `X-Request-ID`
    /// and the like), as the service applies them.
    pub fn config(mut self, config: &Config) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        shared.formats.clone_from(&config.formats);
        shared.headers = config.headers.clone();
        shared.rewrites = config.status_rewrites.clone();
        shared.request_context = config.request_context;
        self
    }
}

impl<S> tower::Layer<S> for ErrorLayer {
    type Service = ErrorService<S>;

    fn layer(&self, inner: S) -> ErrorService<S> {
        ErrorService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`ErrorLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct ErrorService<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// What the layer keeps of the request to choose the format: the
/// `Accept` and `Content-Type` values (a `HeaderValue` clone shares its
/// bytes, so requests answered untouched pay no copy).
struct Wish {
    accept: Option<HeaderValue>,
    content_type: Option<HeaderValue>,
    /// The request context for templates, when the settings expose it.
    fields: Option<Vec<(String, String)>>,
}

impl Wish {
    fn of(headers: &HeaderMap, request_context: bool) -> Wish {
        Wish {
            accept: headers.get(http::header::ACCEPT).cloned(),
            content_type: headers.get(CONTENT_TYPE).cloned(),
            fields: request_context.then(|| context_fields(headers)),
        }
    }

    /// Sets how `ask` picks its format, as the service's Traefik route
    /// does: the `Accept`, negotiated over the formats on offer for its
    /// code, when it states a preference; else the gateway's rule on the
    /// request's own `Content-Type`, between the gateway's formats on offer.
    fn choose_format(&self, renderer: &Renderer, formats: &[Format], ask: &mut ErrorRequest) {
        let code = match ask.code {
            Some(code) => Some(code),
            None => renderer.resolve(ask).ok().map(|r| r.code),
        };
        let offer = Offer::new(formats, |f| {
            f != Format::Xml || code.is_some_and(|c| renderer.has_xml(c))
        });
        if let Some(accept) = header_text(&self.accept).filter(|a| !is_indifferent(a)) {
            ask.format = Some(negotiate(accept, offer.as_slice()));
            ask.content_type = None;
            return;
        }
        // The request's body type says nothing of what its client reads, so
        // it chooses between JSON and XML only, when both are on offer.
        let gateway = Offer::new(offer.as_slice(), Format::is_go);
        match gateway.as_slice() {
            [_, _] => {
                // The renderer applies the rule itself, so an XML answer
                // echoes the request's own XML content type as the gateway's.
                ask.format = None;
                ask.content_type = header_text(&self.content_type).map(str::to_owned);
            }
            [only] => ask.format = Some(*only),
            _ => ask.format = Some(offer.default_format()),
        }
    }
}

/// A header's value as text, if it is.
fn header_text(value: &Option<HeaderValue>) -> Option<&str> {
    value.as_ref().and_then(|v| v.to_str().ok())
}

/// The service's request context: every field present (empty when its
/// header is absent), so a template using one never fails on a request
/// without it.
fn context_fields(headers: &HeaderMap) -> Vec<(String, String)> {
    crate::http::routes::CONTEXT
        .iter()
        .map(|(field, names)| {
            let value = names
                .iter()
                .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
                .unwrap_or("");
            ((*field).to_owned(), value.to_owned())
        })
        .collect()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for ErrorService<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: HttpBody<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let wish = Wish::of(req.headers(), self.shared.request_context);
        let shared = Arc::clone(&self.shared);
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(shared.answer(response, &wish))
        })
    }
}

impl Shared {
    fn answer<B>(&self, response: Response<B>, wish: &Wish) -> Response<Body>
    where
        B: HttpBody<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let marked = parts.extensions.remove::<RenderAs>();
        let replace = marked.is_some()
            || match &self.select {
                Select::Errors => status >= 400,
                Select::Statuses(codes) => codes.contains(&status),
                Select::EmptyBodies => status >= 400 && body.size_hint().exact() == Some(0),
                Select::Marked => false,
            };
        if !replace {
            return Response::from_parts(parts, Body::new(body));
        }
        let mut ask = match marked {
            Some(m) => m.request,
            None => ErrorRequest::code(status),
        };
        // One snapshot decides the format and renders, so a reload between
        // the two cannot pair one set's formats with another's templates.
        let snap = self.store.current();
        wish.choose_format(&snap.renderer, &self.formats, &mut ask);
        if let Some(fields) = &wish.fields {
            ask.fields.clone_from(fields);
        }
        let Some(reply) = render_or_status(&snap.renderer, &ask, status) else {
            return Response::from_parts(parts, Body::new(body));
        };
        drop(body);
        let status = self.rewrites.apply(reply.status);
        parts.status = StatusCode::from_u16(status).unwrap_or(parts.status);
        let headers = &mut parts.headers;
        // The handler's body is gone: its length, type and coding go with
        // it (a coding left behind would make the client decode plain text).
        headers.remove(CONTENT_LENGTH);
        headers.remove(CONTENT_ENCODING);
        super::response::put_headers(headers, &reply.headers, self.headers.for_status(status));
        if self.formats.iter().any(|f| !f.is_go()) && !varies_on_accept(headers) {
            // Appended: a `Vary` the handler or the settings set is kept.
            headers.append(VARY, HeaderValue::from_static("accept"));
        }
        Response::from_parts(parts, Body::from(reply.body))
    }
}

/// Whether a `Vary` line already names `Accept` (or `*`).
fn varies_on_accept(headers: &HeaderMap) -> bool {
    headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| {
            let name = name.trim();
            name == "*" || name.eq_ignore_ascii_case("accept")
        })
}

/// Renders `ask`. A handler's error that does not render (an unknown id, a
/// code out of range) falls back to the response's own status; a template
/// that fails as it runs is already answered with the bundled default by
/// the renderer.
fn render_or_status(renderer: &Renderer, ask: &ErrorRequest, status: u16) -> Option<Rendered> {
    match renderer.render(ask) {
        Ok(reply) => Some(reply),
        Err(e) => {
            tracing::warn!(error = %e, status, "the handler's error does not render; rendering its status");
            let fallback = ErrorRequest {
                content_type: ask.content_type.clone(),
                format: ask.format,
                ..ErrorRequest::code(status)
            };
            renderer.render(&fallback).ok()
        }
    }
}
