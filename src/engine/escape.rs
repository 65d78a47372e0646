//! Escaping a message before it is spliced into a template, byte-for-byte as
//! the gateway (and Go's standard library) does it.
//!
//! The gateway escapes the message itself and hands it to the template as
//! trusted HTML, so which escaper runs decides the bytes a client sees. Each
//! function here mirrors one Go function; the doc comment names it.

use std::fmt::Write as _;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Which gateway release's escaping is reproduced.
///
/// `5.15` is the gateway's current code (minimal JSON escaping, HTML-escaped
/// XML); `5.14` is the latest final release (`JSEscapeString` for JSON, the raw
/// message for XML, which can produce invalid JSON and broken XML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// Tyk 5.15 (and 5.13.2): `jsonEscapeString` / `HTMLEscapeString`.
    #[default]
    V5_15,
    /// Tyk 4.0 to 5.14: `JSEscapeString` / raw.
    V5_14,
}

impl Profile {
    /// The profile's name as written in configuration: `5.15` or `5.14`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::V5_15 => "5.15",
            Profile::V5_14 => "5.14",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "5.15" => Ok(Profile::V5_15),
            "5.14" => Ok(Profile::V5_14),
            other => Err(format!(
                "unknown profile {other:?}: expected \"5.15\" or \"5.14\""
            )),
        }
    }
}

impl serde::Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Profile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Accept `5.15` written as a YAML/JSON number as well as a string.
        let v = serde_json::Value::deserialize(d)?;
        let s = match &v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "profile must be \"5.15\" or \"5.14\"",
                ));
            }
        };
        s.parse().map_err(serde::de::Error::custom)
    }
}

use crate::format::Format;

/// Escapes a message for `path` the way `profile`'s gateway does for legacy
/// templates.
pub fn escape_message(message: &str, path: Format, profile: Profile) -> String {
    let mut out = String::with_capacity(message.len());
    escape_message_into(&mut out, message, path, profile);
    out
}

/// [`escape_message`], appended to `out` (no allocation of its own).
pub fn escape_message_into(out: &mut String, message: &str, path: Format, profile: Profile) {
    match (path, profile) {
        (Format::Json, Profile::V5_15) => json_escape_into(out, message),
        (Format::Json, Profile::V5_14) => js_escape_into(out, message),
        (Format::Xml, Profile::V5_15) => escape_html_into(out, message, true),
        (Format::Xml, Profile::V5_14) => out.push_str(message),
        // Not the gateway's formats: their Tera pages escape for themselves.
        (Format::Html | Format::Text | Format::Problem, _) => out.push_str(message),
    }
}

/// The gateway's `jsonEscapeString` (`gateway/util.go`, 5.15): quote,
/// backslash and control bytes escaped, everything else copied.
pub fn json_escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    json_escape_into(&mut out, s);
    out
}

fn json_escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // Most messages need nothing: find the first byte that does, at once.
    let Some(first) = bytes
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
    else {
        out.push_str(s);
        return;
    };
    out.push_str(&s[..first]);
    let mut last = first;
    for (i, &c) in bytes.iter().enumerate().skip(first) {
        let replacement = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            c if c < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        if replacement.is_empty() {
            let _ = write!(out, "\\u{c:04x}");
        } else {
            out.push_str(replacement);
        }
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Go's `text/template.JSEscapeString` (unchanged from Go 1.19 to 1.26.5).
///
/// Non-printable runes are written as `\uXXXX` with Go's `%04X`, so a rune
/// above U+FFFF gets five or six hex digits, as in Go.
pub fn js_escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    js_escape_into(&mut out, s);
    out
}

fn js_escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if c.is_ascii() || go_is_print(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
    }
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Other spaces (U+00A0) and format characters (U+200B,
/// U+2028) are not printable.
///
/// The category table is the `unicode-general-category` crate's, which may
/// follow a newer Unicode version than Go 1.26.5 (Unicode 15): a code point
/// assigned since then is printable here and escaped by Go.
pub fn go_is_print(c: char) -> bool {
    use GeneralCategory as G;
    if c == ' ' {
        return true;
    }
    !matches!(
        get_general_category(c),
        G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
    )
}

/// Go's `html/template.HTMLEscapeString`: the five HTML specials as
/// entities, and NUL as U+FFFD.
pub fn html_template_escape_string(s: &str) -> String {
    escape_html_with(s, true)
}

/// Go's `html.EscapeString` (package `html`): the five HTML specials, with
/// no NUL handling. The gateway uses it for Error Override XML messages.
pub fn html_escape_string(s: &str) -> String {
    escape_html_with(s, false)
}

fn escape_html_with(s: &str, replace_nul: bool) -> String {
    let mut out = String::with_capacity(s.len());
    escape_html_into(&mut out, s, replace_nul);
    out
}

fn escape_html_into(out: &mut String, s: &str, replace_nul: bool) {
    let mut last = 0;
    for (i, c) in s.bytes().enumerate() {
        let replacement = match c {
            b'"' => "&#34;",
            b'\'' => "&#39;",
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            0 if replace_nul => "\u{FFFD}",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(replacement);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    // The gateway's own table (`gateway/util_test.go` Test_jsonEscapeString).
    #[test]
    fn json_escape_matches_gateway_table() {
        assert_eq!(json_escape_string(""), "");
        assert_eq!(json_escape_string("O'Connor"), "O'Connor");
        assert_eq!(
            json_escape_string("Critical \"error\""),
            "Critical \\\"error\\\""
        );
        assert_eq!(
            json_escape_string("C:\\Windows\\System32"),
            "C:\\\\Windows\\\\System32"
        );
        assert_eq!(
            json_escape_string("Line1\nLine2\r\tTab"),
            "Line1\\nLine2\\r\\tTab"
        );
        assert_eq!(
            json_escape_string("Char\x00 and char\x1F"),
            "Char\\u0000 and char\\u001f"
        );
        assert_eq!(json_escape_string("señor pomidor 🚀"), "señor pomidor 🚀");
        assert_eq!(
            json_escape_string("\"O'Connor\"\n\t\x07\\"),
            "\\\"O'Connor\\\"\\n\\t\\u0007\\\\"
        );
        assert_eq!(json_escape_string("a<b>&'="), "a<b>&'=");
    }

    // Research §3.3, checked with Go 1.19.
    #[test]
    fn js_escape_matches_go() {
        assert_eq!(
            js_escape_string("a \"quoted\" <tag> & 'apos' = x"),
            "a \\\"quoted\\\" \\u003Ctag\\u003E \\u0026 \\'apos\\' \\u003D x"
        );
        assert_eq!(
            js_escape_string("line1\nline2\ttab\r\x01\x7f"),
            "line1\\u000Aline2\\u0009tab\\u000D\\u0001\x7f"
        );
        assert_eq!(js_escape_string("back\\slash"), "back\\\\slash");
        assert_eq!(
            js_escape_string("é 🚀 \u{2028} \u{a0} \u{200b}"),
            "é 🚀 \\u2028 \\u00A0 \\u200B"
        );
        assert_eq!(js_escape_string("a\0b"), "a\\u0000b");
        assert_eq!(js_escape_string("\u{E0001}"), "\\uE0001");
    }

    #[test]
    fn html_template_escape_replaces_nul() {
        assert_eq!(
            html_template_escape_string("a \"quoted\" <tag> & 'apos' = x"),
            "a &#34;quoted&#34; &lt;tag&gt; &amp; &#39;apos&#39; = x"
        );
        assert_eq!(html_template_escape_string("a\0b"), "a\u{FFFD}b");
        assert_eq!(html_template_escape_string("line\nnext é"), "line\nnext é");
    }

    #[test]
    fn html_package_escape_keeps_nul() {
        assert_eq!(html_escape_string("a\0<b>"), "a\0&lt;b&gt;");
        assert_eq!(html_escape_string("it's"), "it&#39;s");
    }

    #[test]
    fn profile_selects_escaper() {
        let m = "it's <b>";
        assert_eq!(escape_message(m, Format::Json, Profile::V5_15), "it's <b>");
        assert_eq!(
            escape_message(m, Format::Json, Profile::V5_14),
            "it\\'s \\u003Cb\\u003E"
        );
        assert_eq!(
            escape_message(m, Format::Xml, Profile::V5_15),
            "it&#39;s &lt;b&gt;"
        );
        assert_eq!(escape_message(m, Format::Xml, Profile::V5_14), m);
    }

    #[test]
    fn profile_parses_and_rejects() {
        assert_eq!("5.14".parse::<Profile>(), Ok(Profile::V5_14));
        assert!("5.16".parse::<Profile>().unwrap_err().contains("5.15"));
    }
}
