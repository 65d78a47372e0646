//! error-render renders API-gateway error responses from Tyk Gateway's error
//! templates, byte for byte as the gateway does, for sidecars, previews,
//! CI validation and Rust programs.
//!
//! A template folder holds `error.json`, `error.xml`, `error_<code>.json`
//! and `error_<code>.xml` (Go templates using `{{.Message}}`). There are
//! three ways to use it from Rust; `docs/embedding.md` has the details.
//!
//! **Render once.** [`Renderer::builder`] names the sources (template
//! folder, tyk.conf, overrides, config file, environment) with the
//! service's precedence and loads them into a [`Renderer`]. Every render
//! gives one [`Rendered`]: the status, the header lines ([`HeaderLines`],
//! in the gateway's order, a name possibly repeated) and the body as
//! `Bytes`, shared from the loaded set's cache when it depends only on the
//! error:
//!
//! ```
//! use error_render::{ErrorRequest, Outcome, Renderer};
//!
//! let renderer = Renderer::builder().templates("templates").build()?;
//! let r = renderer.render(
//!     &ErrorRequest::code(429)
//!         .message("API Rate Limit Exceeded")
//!         .content_type("application/xml; charset=utf-8"),
//! )?;
//! assert_eq!(r.outcome, Outcome::Ok);
//! assert_eq!(r.content_type(), "application/xml");
//! assert_eq!(r.header("x-generator"), Some("tyk.io"));
//! assert_eq!(
//!     r.body,
//!     "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>API Rate Limit Exceeded</error>\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **A live renderer** (feature `watch`). The same builder's `build_live`
//! watches exactly the files the build read and reloads on a change,
//! keeping the last good set when a reload fails:
//!
//! ```
//! # #[cfg(feature = "watch")] {
//! use error_render::{ErrorRequest, Renderer};
//!
//! let live = Renderer::builder().templates("templates").build_live()?;
//! let r = live.render(&ErrorRequest::code(404))?;
//! assert_eq!(r.body, "{\n    \"error\": \"Not Found\"\n}");
//! // Each reload attempt is announced, to wait on instead of sleeping.
//! let _reloads = live.subscribe();
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **A tower layer** (feature `server`). `layer::ErrorLayer` wraps an axum,
//! hyper or tower service so that its error responses become the rendered
//! error for their status, in the format the request asks for, following
//! the live set:
//!
//! ```
//! # #[cfg(feature = "server")] {
//! use axum::{Router, http::StatusCode, routing::get};
//! use error_render::Renderer;
//! use error_render::layer::ErrorLayer;
//! use tower::ServiceExt as _;
//!
//! let live = Renderer::builder().templates("templates").build_live()?;
//! let app = Router::new()
//!     .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
//!     .layer(ErrorLayer::from_live(&live));
//!
//! let request = axum::http::Request::get("/missing").body(axum::body::Body::empty())?;
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let response = runtime.block_on(app.oneshot(request))?;
//! assert_eq!(response.status(), 404);
//! assert_eq!(response.headers()["content-type"], "application/json");
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate's features, all on by default: `server` (the HTTP service,
//! its metrics and the tower layer; implies `watch`), `watch` (live reload)
//! and `cli` (the `error-render` command). Without them the library
//! renders, validates and exports with neither an async runtime nor an
//! HTTP stack.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod engine;
pub mod error;
pub mod error_overrides;
pub mod export;
mod format;
#[cfg(feature = "server")]
pub mod http;
mod live;
pub mod native;
pub mod render;
mod sources;
pub mod validate;

// The module paths from before the folders, so that code written against
// them keeps compiling: those an embedder names stay public (Go's escapers
// in `escape` among them); the rest are implementation, whose items the
// root re-exports where an embedder needs them.
pub(crate) use engine::{blocks, contexts, gocompat, gofmt, limits, rawbytes, tree};
pub use engine::{escape, set};
#[cfg(feature = "server")]
pub use http::layer;
pub(crate) use live::builder;
pub use live::store;
#[cfg(feature = "watch")]
pub use live::watch;
pub(crate) use render::select;
pub use sources::{catalogue, overrides};

/// docs/embedding.md, whose examples run as doctests.
#[cfg(all(doctest, feature = "server"))]
#[doc = include_str!("../docs/embedding.md")]
pub struct EmbeddingDocs;

/// docs/library.md, whose examples run as doctests.
#[cfg(all(doctest, feature = "server"))]
#[doc = include_str!("../docs/library.md")]
pub struct LibraryDocs;

pub use builder::{BuildError, RendererBuilder};
pub use catalogue::Catalogue;
pub use error::{ExecError, LoadError, SourceError};
pub use escape::Profile;
pub use format::{Format, UnknownFormat};
#[cfg(feature = "server")]
pub use layer::{ErrorLayer, RenderAs};
pub use limits::RenderLimits;
#[cfg(feature = "watch")]
pub use live::LiveRenderer;
pub use native::{NativeData, NativeKind, NativeSet};
pub use overrides::Overrides;
pub use render::{
    ErrorRequest, HeaderLines, Outcome, RenderError, RenderOptions, Rendered, Renderer,
};
pub use set::{TemplateFile, TemplateSet};
pub use store::Store;
