//! error-render renders API-gateway error responses from Tyk Gateway's error
//! templates, byte for byte as the gateway does, for sidecars, previews,
//! CI validation and Rust programs.
//!
//! A template folder holds `error.json`, `error.xml`, `error_<code>.json`
//! and `error_<code>.xml` (Go templates using `{{.Message}}`). Load it into a
//! [`TemplateSet`], wrap it in a [`Renderer`] with [`RenderOptions`], and
//! render an [`ErrorRequest`] into a [`Rendered`] response:
//!
//! ```
//! use error_render::{ErrorRequest, Renderer, Outcome};
//!
//! let renderer = Renderer::from_dir("templates")?;
//! let r = renderer.render(
//!     &ErrorRequest::code(429)
//!         .message("API Rate Limit Exceeded")
//!         .content_type("application/xml; charset=utf-8"),
//! )?;
//! assert_eq!(r.outcome, Outcome::Ok);
//! assert_eq!(r.content_type(), "application/xml");
//! assert_eq!(
//!     r.body,
//!     "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>API Rate Limit Exceeded</error>\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod blocks;
pub mod catalogue;
pub mod config;
pub mod error;
pub mod error_overrides;
pub mod escape;
pub mod export;
mod gocompat;
pub mod http;
pub mod limits;
pub mod overrides;
pub mod render;
pub mod select;
pub mod set;
pub mod store;
mod tree;
pub mod validate;
pub mod watch;

pub use catalogue::Catalogue;
pub use error::{ExecError, LoadError, SourceError};
pub use escape::{Path, Profile};
pub use limits::RenderLimits;
pub use overrides::Overrides;
pub use render::{ErrorRequest, Outcome, RenderError, RenderOptions, Rendered, Renderer};
pub use set::{TemplateFile, TemplateSet};
