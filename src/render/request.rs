//! What to render and with which settings: the request, the renderer's
//! options, how a render went, and the caller's mistakes.

use std::collections::BTreeMap;
use std::fmt;

use crate::catalogue::{Catalogue, Entry};
use crate::escape::Profile;
use crate::format::Format;
use crate::overrides::Overrides;

/// How a render went. The same words appear in the CLI, logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Rendered by the set's template.
    Ok,
    /// The template failed while executing; the body is the bundled default.
    Exec,
    /// The set has no template for the request; the body is the bundled default.
    Missing,
    /// The set does not load; nothing is rendered.
    Load,
}

impl Outcome {
    /// `ok`, `exec`, `missing` or `load`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Exec => "exec",
            Outcome::Missing => "missing",
            Outcome::Load => "load",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings that shape every render of a [`Renderer`](super::Renderer).
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Which gateway release's escaping to reproduce.
    pub profile: Profile,
    /// Leave out `X-Generator: tyk.io` (tyk.conf `hide_generator_header`).
    pub hide_generator_header: bool,
    /// Add `Connection: close` (tyk.conf `close_connections`).
    pub close_connections: bool,
    /// Give templates exactly the gateway's data, `{Message}`, and nothing
    /// more (no `StatusCode` or catalogue fields).
    pub strict_tyk: bool,
    /// `override_messages` to apply to the gateway's error IDs.
    pub overrides: Overrides,
    /// Ignore `overrides`, as gateway releases 5.0.9-5.0.15, 5.2.4-5.2.6 and
    /// 5.3.0 onwards do (a start-up ordering bug).
    pub ignore_overrides: bool,
    /// Per-code messages used when a caller gives only a status.
    pub default_messages: BTreeMap<u16, String>,
    /// The base URL of problem details' `type` (the setting
    /// `problem_type_base`): `type` is this and the error's catalogue id
    /// (`native::problem_type`); without it (or without an id),
    /// `about:blank`.
    pub problem_type_base: Option<String>,
}

/// What to render: which error, for which request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorRequest {
    /// The status code (ignored when `id` is set).
    pub code: Option<u16>,
    /// The message; without one, the code's default message.
    pub message: Option<String>,
    /// A catalogue entry id or gateway error ID, instead of code and message.
    pub id: Option<String>,
    /// The failing request's `Content-Type` header, which picks the format
    /// by the gateway's rule when `format` is not set.
    pub content_type: Option<String>,
    /// The format to answer in, when the caller chose it (by `Accept`
    /// negotiation, a file extension, a flag): it wins over `content_type`.
    pub format: Option<Format>,
    /// A profile for this render only.
    pub profile: Option<Profile>,
    /// Extra string fields for the template (request context), escaped like
    /// the message. Ignored under `strict_tyk`.
    pub fields: Vec<(String, String)>,
}

impl ErrorRequest {
    /// An error with this status code.
    pub fn code(code: u16) -> Self {
        ErrorRequest {
            code: Some(code),
            ..Self::default()
        }
    }

    /// A catalogue entry or gateway error ID (`403-quota-exceeded`,
    /// `auth.key_not_found`).
    pub fn id(id: impl Into<String>) -> Self {
        ErrorRequest {
            id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the failing request's `Content-Type`.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets the format to answer in, over the gateway's `Content-Type` rule.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// The format to answer in and its bare content type: the chosen one,
    /// else the gateway's rule on the request's `Content-Type`.
    pub fn answer_format(&self) -> (Format, &'static str) {
        match self.format {
            Some(format) => (format, format.content_type()),
            None => Format::from_request_content_type(self.content_type.as_deref()),
        }
    }

    /// Sets the profile for this render.
    #[must_use]
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }
}

/// Why a request could not be rendered at all (the caller's mistake).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// Neither a code nor an id was given.
    #[error("no error given: pass a status code or an id")]
    NoError,
    /// The code is not an HTTP status.
    #[error("status code {0} is not an HTTP status: use 100-999 (errors are 400-599)")]
    InvalidCode(u16),
    /// The id is in neither the catalogue nor the gateway's error IDs.
    #[error(
        "unknown error id {id:?}: use a catalogue id (`error-render catalogue` lists them) \
         or a gateway error ID ({})",
        known_ids()
    )]
    UnknownId {
        /// The id given.
        id: String,
    },
}

fn known_ids() -> String {
    Catalogue::builtin()
        .override_ids()
        .iter()
        .map(|o| o.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error after resolving ids, default messages and overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedError {
    /// The status to answer with.
    pub code: u16,
    /// The message to render.
    pub message: String,
    /// The catalogue entry the error belongs to, if any.
    pub entry: Option<Entry>,
    /// The gateway error ID whose override changed the error, if any.
    pub overridden_by: Option<String>,
}
