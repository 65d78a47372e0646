//! The formats a rendered error comes in, one type shared by the renderer
//! (which engine path and escaper run), `Accept` negotiation and the CLI.

use std::fmt;

/// The request content types (before `;`, exact, case-sensitive) that take
/// the XML format under the gateway's rule.
pub const XML_CONTENT_TYPES: [&str; 3] = ["application/xml", "text/xml", "application/soap+xml"];

/// The response content type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A format a template set renders: which templates answer
/// (`error*.<ext>`), which engine path runs them (html/template for JSON,
/// text/template for XML) and so which escaper the message goes through.
///
/// Non-exhaustive: HTML, text and problem details are to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `error*.json`, answered as `application/json`.
    Json,
    /// `error*.xml`, answered as `application/xml` (or the request's own
    /// XML content type under the gateway's rule).
    Xml,
}

impl Format {
    /// The file extension of templates in this format.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// The format a file extension names (`json`, `xml`).
    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }

    /// The bare content type an answer in this format carries when the
    /// format was chosen rather than read off the request.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON_CONTENT_TYPE,
            Format::Xml => "application/xml",
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

    /// The media types that name this format exactly, for `Accept`
    /// negotiation.
    #[cfg(feature = "server")]
    pub(crate) fn media_types(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Format::Json => &[("application", "json"), ("text", "json")],
            Format::Xml => &[("application", "xml"), ("text", "xml")],
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ext())
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
    fn extensions_round_trip() {
        for f in [Format::Json, Format::Xml] {
            assert_eq!(Format::from_ext(f.ext()), Some(f));
        }
        assert_eq!(Format::from_ext("html"), None);
    }
}
