//! Choosing the template and response content type for a request, exactly as
//! the gateway's legacy error handler does.

use crate::escape::Path;
use crate::set::TemplateSet;

/// The request content types (before `;`, exact, case-sensitive) that take
/// the XML path.
pub const XML_CONTENT_TYPES: [&str; 3] = ["application/xml", "text/xml", "application/soap+xml"];

/// The response content type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The format a request asks for, from its `Content-Type` alone.
///
/// Returns the engine path and the bare content type to answer with. The
/// `Accept` header is never consulted, as on the gateway.
pub fn request_format(content_type: Option<&str>) -> (Path, &'static str) {
    let bare = content_type
        .map(|ct| ct.split(';').next().unwrap_or(""))
        .unwrap_or("");
    match XML_CONTENT_TYPES.iter().find(|&&t| t == bare) {
        Some(xml) => (Path::Xml, xml),
        None => (Path::Json, JSON_CONTENT_TYPE),
    }
}

/// The template chosen for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The template's name (a file of the set).
    pub template: String,
    /// The engine path, which also decides how the message is escaped.
    pub path: Path,
    /// The response's bare content type.
    pub content_type: &'static str,
}

/// `error_<code>.<ext>`, then `error.<ext>`, then `error.json`.
///
/// The last step keeps the XML path (text/template, XML escaping) but
/// answers `application/json`: the gateway's quirk, kept for byte
/// compatibility. `None` when the set has none of them.
pub fn select(set: &TemplateSet, code: u16, content_type: Option<&str>) -> Option<Selection> {
    let (path, ct) = request_format(content_type);
    let ext = path.ext();
    let per_code = format!("error_{code}.{ext}");
    if set.contains(&per_code) {
        return Some(Selection {
            template: per_code,
            path,
            content_type: ct,
        });
    }
    let generic = format!("error.{ext}");
    if set.contains(&generic) {
        return Some(Selection {
            template: generic,
            path,
            content_type: ct,
        });
    }
    set.contains("error.json").then(|| Selection {
        template: "error.json".to_owned(),
        path,
        content_type: JSON_CONTENT_TYPE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::TemplateFile;

    fn set(names: &[&str]) -> TemplateSet {
        TemplateSet::from_files(names.iter().map(|n| TemplateFile {
            name: (*n).into(),
            text: "x".into(),
        }))
        .unwrap()
    }

    #[test]
    fn xml_only_for_exact_types_before_semicolon() {
        assert_eq!(request_format(Some("text/xml; charset=utf-8")).0, Path::Xml);
        assert_eq!(
            request_format(Some("application/soap+xml")).1,
            "application/soap+xml"
        );
        for json in [
            "Application/XML",
            "application/xml ;charset=x",
            "",
            "text/html",
        ] {
            assert_eq!(
                request_format(Some(json)),
                (Path::Json, JSON_CONTENT_TYPE),
                "{json}"
            );
        }
        assert_eq!(request_format(None).0, Path::Json);
    }

    #[test]
    fn per_code_then_generic_then_error_json() {
        let s = set(&["error.json", "error_401.xml"]);
        let xml = Some("application/xml");
        assert_eq!(select(&s, 401, xml).unwrap().template, "error_401.xml");
        let fallback = select(&s, 403, xml).unwrap();
        assert_eq!(
            (
                fallback.template.as_str(),
                fallback.path,
                fallback.content_type
            ),
            ("error.json", Path::Xml, JSON_CONTENT_TYPE)
        );
        assert_eq!(select(&set(&["error.xml"]), 401, None), None);
    }
}
