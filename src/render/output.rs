//! What a render gives: the response the gateway would send, as a
//! [`Rendered`] or, for the service, a [`Reply`] sharing its body.

use std::sync::Arc;

use bytes::Bytes;

use super::Outcome;
use crate::format::JSON_CONTENT_TYPE;

/// A rendered response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rendered {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, names in lower case, in the order the gateway sets them.
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: String,
    /// The template file used (`None` when the set had none).
    pub template: Option<String>,
    /// How it went.
    pub outcome: Outcome,
    /// The error, for `exec` and `missing`.
    pub error: Option<String>,
}

/// A rendered response as the service sends it: the body is shared (a
/// cached body is not copied) and the headers are static.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The bare response content type.
    pub content_type: &'static str,
    /// The body, byte for byte.
    pub body: Bytes,
    /// The template file used (`None` when the set had none).
    pub template: Option<Arc<str>>,
    /// How it went.
    pub outcome: Outcome,
    /// The error, for `exec` and `missing`.
    pub error: Option<Arc<str>>,
    /// Whether the body came from the generation's cache.
    pub cached: bool,
    pub(super) generator: bool,
    pub(super) close: bool,
}

impl Reply {
    /// Response headers, names in lower case, in the order the gateway sets
    /// them (the same as [`Rendered::headers`]).
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &'static str)> + Clone {
        header_lines(self.content_type, self.generator, self.close)
    }
}

/// The gateway's header lines for an answer, in its order: the one place
/// both [`Reply`] and [`Rendered`] take them from.
pub(super) fn header_lines(
    content_type: &'static str,
    generator: bool,
    close: bool,
) -> impl Iterator<Item = (&'static str, &'static str)> + Clone {
    [
        Some(("content-type", content_type)),
        generator.then_some(("x-generator", "tyk.io")),
        close.then_some(("connection", "close")),
    ]
    .into_iter()
    .flatten()
}

impl Rendered {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bare response content type.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or(JSON_CONTENT_TYPE)
    }
}
