//! The formats a rendered error comes in, one type shared by the renderer
//! (which engine path and escaper run), `Accept` negotiation, the settings'
//! `formats` list, export and the CLI.

use std::fmt;
use std::str::FromStr;

/// The request content types (before `;`, exact, case-sensitive) that take
/// the XML format under the gateway's rule.
pub const XML_CONTENT_TYPES: [&str; 3] = ["application/xml", "text/xml", "application/soap+xml"];

/// The response content type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A format an error is rendered in.
///
/// `Json` and `Xml` are the gateway's own: Tyk's Go templates
/// (`error*.json`, `error*.xml`) on html/template and text/template, byte
/// for byte. `Html`, `Text` and `Problem` (RFC 9457 problem details) are
/// error-render's, rendered from Tera pages (`<code>.<ext>.tera`) or the
/// built-in defaults, and offered only to clients that ask for them.
///
/// Non-exhaustive: a format may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `error*.json`, answered as `application/json`.
    Json,
    /// `error*.xml`, answered as `application/xml` (or the request's own
    /// XML content type under the gateway's rule).
    Xml,
    /// An HTML page, answered as `text/html; charset=utf-8`.
    Html,
    /// Plain text, answered as `text/plain; charset=utf-8`.
    Text,
    /// RFC 9457 problem details, answered as `application/problem+json`.
    Problem,
}

/// A format name that is not one of [`Format::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {name:?}: use one of json, xml, html, text, problem")]
pub struct UnknownFormat {
    /// The name as given.
    pub name: String,
}

impl Format {
    /// Every format, in the order that breaks negotiation ties when the
    /// settings do not give one: the gateway's two first, so that a client
    /// indifferent to the format (`*/*`) gets JSON as from the gateway.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Xml,
        Format::Html,
        Format::Text,
        Format::Problem,
    ];

    /// The format's name, as the settings' `formats`, `/render`'s `format`
    /// and the CLI's `--format` spell it: `json`, `xml`, `html`, `text`,
    /// `problem`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
            Format::Html => "html",
            Format::Text => "text",
            Format::Problem => "problem",
        }
    }

    /// The file extension of pages in this format: `json` and `xml` (Tyk's
    /// `error_<code>.<ext>` and Tera's `<code>.<ext>.tera`), `html`, `txt`
    /// and `problem.json` (Tera's `<code>.<ext>.tera`, and the files
    /// `export` writes).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
            Format::Html => "html",
            Format::Text => "txt",
            Format::Problem => "problem.json",
        }
    }

    /// The format a file extension names ([`Format::ext`]'s inverse).
    pub fn from_ext(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == ext)
    }

    /// Whether the gateway renders this format (JSON and XML, from Tyk's Go
    /// templates) rather than error-render's Tera pages.
    pub fn is_go(self) -> bool {
        matches!(self, Format::Json | Format::Xml)
    }

    /// The content type an answer in this format carries when the format
    /// was chosen rather than read off the request.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON_CONTENT_TYPE,
            Format::Xml => "application/xml",
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
            Format::Problem => "application/problem+json",
        }
    }

    /// The gateway's rule: the format a failing request's `Content-Type`
    /// asks for (its `Accept` is never consulted), and the bare content type
    /// to answer with, which for XML echoes the request's own.
    pub fn from_request_content_type(content_type: Option<&str>) -> (Format, &'static str) {
        let bare = content_type
            .map(|ct| ct.split(';').next().unwrap_or(""))
            .unwrap_or("");
        match XML_CONTENT_TYPES.iter().find(|&&t| t == bare) {
            Some(xml) => (Format::Xml, xml),
            None => (Format::Json, JSON_CONTENT_TYPE),
        }
    }

    /// The media types (type, subtype) that name this format exactly, for
    /// `Accept` negotiation.
    #[cfg(feature = "server")]
    pub(crate) fn media_types(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Format::Json => &[("application", "json"), ("text", "json")],
            Format::Xml => &[("application", "xml"), ("text", "xml")],
            Format::Html => &[("text", "html"), ("application", "xhtml+xml")],
            Format::Text => &[("text", "plain")],
            Format::Problem => &[("application", "problem+json")],
        }
    }
}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// A format by [`Format::name`], ASCII case ignored.
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat { name: s.to_owned() })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_rule_echoes_the_xml_content_type() {
        assert_eq!(
            Format::from_request_content_type(Some("text/xml; charset=utf-8")),
            (Format::Xml, "text/xml")
        );
        assert_eq!(
            Format::from_request_content_type(Some("Application/XML")),
            (Format::Json, JSON_CONTENT_TYPE)
        );
        assert_eq!(
            Format::from_request_content_type(None),
            (Format::Json, JSON_CONTENT_TYPE)
        );
    }

    #[test]
    fn extensions_and_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_ext(f.ext()), Some(f));
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!(Format::from_ext("txt"), Some(Format::Text));
        assert_eq!(Format::from_ext("text"), None);
        assert_eq!(" HTML ".parse::<Format>(), Ok(Format::Html));
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let e = "yaml".parse::<Format>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown format \"yaml\": use one of json, xml, html, text, problem"
        );
    }

    #[test]
    fn only_json_and_xml_are_the_gateways() {
        let go: Vec<_> = Format::ALL.into_iter().filter(|f| f.is_go()).collect();
        assert_eq!(go, [Format::Json, Format::Xml]);
    }
}
