//! What a render gives: [`Rendered`], the response the gateway would send,
//! with its header lines as a [`HeaderLines`] list.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use super::Outcome;
use crate::format::JSON_CONTENT_TYPE;

/// A rendered response: what the gateway would send for an error.
///
/// From a [`Renderer`](super::Renderer) the body of an error that depends
/// only on the error is rendered once per loaded set and then shared, so
/// cloning the body, and a render served from memory, copy nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rendered {
    /// The HTTP status.
    pub status: u16,
    /// Response header lines, names in lower case, in the order the gateway
    /// writes them; a name may repeat.
    pub headers: HeaderLines,
    /// The body, byte for byte (serialised as text, see
    /// [`body_text`](Self::body_text)).
    #[serde(serialize_with = "body_as_text")]
    pub body: Bytes,
    /// The template file used (`None` when the set had none).
    pub template: Option<Arc<str>>,
    /// How it went.
    pub outcome: Outcome,
    /// The error, for `exec` and `missing`.
    pub error: Option<Arc<str>>,
    /// Whether the body came from the loaded set's cache (a detail of the
    /// service's path, left out of the serialised form).
    #[serde(skip)]
    pub cached: bool,
}

impl Rendered {
    /// The first value of header `name` (compared without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The bare response content type.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or(JSON_CONTENT_TYPE)
    }

    /// The body as text, when it is valid UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// The body as text the way Go's `encoding/json` writes it: valid UTF-8
    /// as it is, and one U+FFFD for each byte that is not part of a valid
    /// sequence (a truncated three-byte sequence gives two).
    pub fn body_text(&self) -> Cow<'_, str> {
        go_lossy(&self.body)
    }

    /// The body in base64 (standard alphabet, padded) when it is not valid
    /// UTF-8, for the `render --json` envelope's `body_b64`: the exact
    /// bytes beside [`body_text`](Self::body_text)'s replacement (feature
    /// `server`, which the envelope's users, the CLI and the preview, need).
    #[cfg(feature = "server")]
    pub fn body_b64(&self) -> Option<String> {
        use base64::Engine as _;
        std::str::from_utf8(&self.body)
            .is_err()
            .then(|| base64::engine::general_purpose::STANDARD.encode(&self.body))
    }
}

fn body_as_text<S: serde::Serializer>(body: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&go_lossy(body))
}

/// `bytes` as text with Go's `encoding/json` replacement: one U+FFFD per
/// invalid byte. `String::from_utf8_lossy` folds a truncated sequence into
/// one U+FFFD, so its text would differ from what Go tools print.
pub(crate) fn go_lossy(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        // A chunk's invalid bytes are a lead byte and continuations that
        // cannot start a sequence, so Go (which restarts at the next byte)
        // rejects each of them too.
        for _ in chunk.invalid() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    Cow::Owned(out)
}

/// One header line: name (lower case) and value, borrowed when static.
type Line = (Cow<'static, str>, Cow<'static, str>);

/// How many lines are kept inline, without a heap allocation: the
/// gateway's own (content type, `X-Generator`, `Connection`).
const INLINE: usize = 3;

/// A response's header lines, in order, a name possibly repeated (Tyk's
/// Error Overrides send a second `X-Generator`).
///
/// The first three lines are kept inline, so the gateway's own header
/// lines cost no allocation; a list grows on the heap only past them.
/// Serialised as a list of `[name, value]` pairs.
///
/// ```
/// use error_render::HeaderLines;
///
/// let mut lines = HeaderLines::new();
/// lines.push("Content-Type", "application/json");
/// lines.push("x-generator", "tyk.io");
/// lines.push("x-generator", "my-gateway");
/// assert_eq!(lines.get("content-type"), Some("application/json"));
/// assert_eq!(lines.get_all("X-Generator").collect::<Vec<_>>(), ["tyk.io", "my-gateway"]);
/// assert_eq!(lines.iter().count(), 3);
/// ```
#[derive(Clone, Default)]
pub struct HeaderLines {
    /// Filled from the start: `inline[i]` is `Some` only if every earlier
    /// slot is, and `more` is empty until all are.
    inline: [Option<Line>; INLINE],
    more: Vec<Line>,
    /// How many leading lines are the gateway's own: static, valid HTTP
    /// names and values, sent without checking or copying.
    trusted: usize,
}

impl HeaderLines {
    /// No lines.
    pub fn new() -> Self {
        Self::default()
    }

    /// The gateway's lines for an answer, in its order, none allocated.
    pub(crate) fn gateway(content_type: &'static str, generator: bool, close: bool) -> Self {
        let mut lines = Self::new();
        lines.push(Cow::Borrowed("content-type"), Cow::Borrowed(content_type));
        if generator {
            lines.push(Cow::Borrowed("x-generator"), Cow::Borrowed("tyk.io"));
        }
        if close {
            lines.push(Cow::Borrowed("connection"), Cow::Borrowed("close"));
        }
        lines.trusted = lines.len();
        lines
    }

    /// Appends a line; the name is kept in lower case.
    pub fn push(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) {
        let mut name = name.into();
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            name = Cow::Owned(name.to_ascii_lowercase());
        }
        let line = (name, value.into());
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(line),
            None => self.more.push(line),
        }
    }

    /// Every line, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.lines().map(|(n, v)| (&**n, &**v))
    }

    fn lines(&self) -> impl Iterator<Item = &Line> + Clone {
        self.inline.iter().flatten().chain(&self.more)
    }

    /// The lines as HTTP header lines, the gateway's own without a copy (a
    /// checked `HeaderName` copies its name), a line HTTP cannot carry as
    /// `None`.
    #[cfg(feature = "server")]
    pub(crate) fn http_lines(
        &self,
    ) -> impl Iterator<Item = (&str, Option<(http::HeaderName, http::HeaderValue)>)> {
        self.lines().enumerate().map(|(i, (name, value))| {
            let line = match (name, value) {
                (Cow::Borrowed(n), Cow::Borrowed(v)) if i < self.trusted => Some((
                    http::HeaderName::from_static(n),
                    http::HeaderValue::from_static(v),
                )),
                _ => http::HeaderName::from_bytes(name.as_bytes())
                    .ok()
                    .zip(http::HeaderValue::from_str(value).ok()),
            };
            (&**name, line)
        })
    }

    /// The first value of `name` (compared without regard to case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every value of `name`, in order (compared without regard to case).
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.lines().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.inline[0].is_none()
    }
}

impl PartialEq for HeaderLines {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderLines {}

impl fmt::Debug for HeaderLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl serde::Serialize for HeaderLines {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<N, V> FromIterator<(N, V)> for HeaderLines
where
    N: Into<Cow<'static, str>>,
    V: Into<Cow<'static, str>>,
{
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut lines = Self::new();
        for (n, v) in iter {
            lines.push(n, v);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's encoding/json replaces each invalid byte; Rust's lossy
    /// conversion would give one U+FFFD for the truncated sequence.
    #[test]
    fn a_truncated_sequence_gives_one_replacement_per_byte() {
        assert_eq!(go_lossy(b"doesn\xe2\x80"), "doesn\u{fffd}\u{fffd}");
        assert_eq!(go_lossy(b"a\xffb\xe2\x82\xacc"), "a\u{fffd}b\u{20ac}c");
        assert!(matches!(go_lossy("plain é".as_bytes()), Cow::Borrowed(_)));
    }

    #[cfg(feature = "server")]
    #[test]
    fn base64_only_for_a_body_that_is_not_text() {
        let mut r = Rendered {
            status: 500,
            headers: HeaderLines::new(),
            body: Bytes::from_static(b"doesn\xe2\x80"),
            template: None,
            outcome: Outcome::Ok,
            error: None,
            cached: false,
        };
        assert_eq!(r.body_b64().as_deref(), Some("ZG9lc27igA=="));
        assert_eq!(r.body_text(), "doesn\u{fffd}\u{fffd}");
        r.body = Bytes::from_static(b"fine");
        assert_eq!(r.body_b64(), None);
    }

    #[test]
    fn lines_keep_order_and_repeats_past_the_inline_ones() {
        let mut lines = HeaderLines::gateway("application/json", true, true);
        lines.push("X-Generator", String::from("second"));
        let all: Vec<_> = lines.iter().collect();
        assert_eq!(
            all,
            [
                ("content-type", "application/json"),
                ("x-generator", "tyk.io"),
                ("connection", "close"),
                ("x-generator", "second"),
            ]
        );
        assert_eq!(lines.get("x-generator"), Some("tyk.io"));
        assert_eq!(lines.len(), 4);
        // Serialised as today's `Vec<(String, String)>` was.
        let vec: Vec<(String, String)> = all
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(
            serde_json::to_string(&lines).unwrap(),
            serde_json::to_string(&vec).unwrap()
        );
    }
}
