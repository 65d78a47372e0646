//! Choosing the template and response content type for a request, exactly as
//! the gateway's legacy error handler does.

use std::collections::HashMap;
use std::sync::Arc;

use crate::format::Format;
use crate::set::TemplateSet;

pub use crate::format::JSON_CONTENT_TYPE;

/// The format a request asks for, from its `Content-Type` alone: see
/// [`Format::from_request_content_type`].
pub fn request_format(content_type: Option<&str>) -> (Format, &'static str) {
    Format::from_request_content_type(content_type)
}

/// The template chosen for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The template's name (a file of the set).
    pub template: String,
    /// The engine path, which also decides how the message is escaped.
    pub path: Format,
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

/// [`select`] precomputed for one set: which template answers each code on
/// each path, found by table lookup rather than by formatting names.
///
/// Templates are named by their position in [`names`](Self::names).
#[derive(Debug, Clone, Default)]
pub struct Selector {
    names: Vec<Arc<str>>,
    /// `error_<code>.json` and `error_<code>.xml`, by code.
    per_code: HashMap<u16, [Option<usize>; 2]>,
    /// `error.json` and `error.xml`.
    generic: [Option<usize>; 2],
}

/// What [`Selector::select`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The template, a position in [`Selector::names`].
    pub template: usize,
    /// The engine path.
    pub path: Format,
    /// The response's bare content type.
    pub content_type: &'static str,
}

fn slot(path: Format) -> usize {
    match path {
        // The gateway's formats; the others have no Go templates to slot.
        Format::Json | Format::Html | Format::Problem => 0,
        Format::Xml | Format::Text => 1,
    }
}

impl Selector {
    /// The table for `set`.
    pub fn new(set: &TemplateSet) -> Self {
        let mut selector = Selector::default();
        for name in set.template_names() {
            let place = if let Some(rest) = name.strip_prefix("error_") {
                match per_code_name(rest) {
                    Some((code, path)) => {
                        &mut selector.per_code.entry(code).or_default()[slot(path)]
                    }
                    None => continue,
                }
            } else if name == "error.json" {
                &mut selector.generic[0]
            } else if name == "error.xml" {
                &mut selector.generic[1]
            } else {
                continue;
            };
            *place = Some(selector.names.len());
            selector.names.push(name.into());
        }
        selector
    }

    /// The names of the templates the table can choose.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// The same choice as [`select`], for a request already classified by
    /// [`request_format`].
    pub fn select(&self, code: u16, path: Format, content_type: &'static str) -> Option<Choice> {
        let own = self
            .per_code
            .get(&code)
            .and_then(|t| t[slot(path)])
            .or(self.generic[slot(path)]);
        if let Some(template) = own {
            return Some(Choice {
                template,
                path,
                content_type,
            });
        }
        self.generic[0].map(|template| Choice {
            template,
            path,
            content_type: JSON_CONTENT_TYPE,
        })
    }

    /// Whether `code` has an XML template (`error_<code>.xml` or `error.xml`).
    pub fn has_xml(&self, code: u16) -> bool {
        self.generic[1].is_some() || self.per_code.get(&code).is_some_and(|t| t[1].is_some())
    }
}

/// `<code>.json` or `<code>.xml`, with the code written as `format!` writes
/// a `u16` (so `error_0404.json` is, as for the gateway, no code's template).
fn per_code_name(rest: &str) -> Option<(u16, Format)> {
    let (digits, path) = if let Some(d) = rest.strip_suffix(".json") {
        (d, Format::Json)
    } else {
        (rest.strip_suffix(".xml")?, Format::Xml)
    };
    let code: u16 = digits.parse().ok()?;
    (digits.bytes().all(|b| b.is_ascii_digit()) && code.to_string() == digits)
        .then_some((code, path))
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
        assert_eq!(
            request_format(Some("text/xml; charset=utf-8")).0,
            Format::Xml
        );
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
                (Format::Json, JSON_CONTENT_TYPE),
                "{json}"
            );
        }
        assert_eq!(request_format(None).0, Format::Json);
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
            ("error.json", Format::Xml, JSON_CONTENT_TYPE)
        );
        assert_eq!(select(&set(&["error.xml"]), 401, None), None);
    }

    #[test]
    fn selector_agrees_with_select() {
        let sets = [
            set(&[
                "error.json",
                "error_401.xml",
                "error_0403.json",
                "error_x.json",
            ]),
            set(&["error.xml", "error_429.json", "error_429.xml"]),
            set(&["error.json", "error.xml", "error_500.json"]),
        ];
        for s in &sets {
            let table = Selector::new(s);
            for code in [401, 403, 429, 500, 503] {
                for ct in [None, Some("application/xml"), Some("text/xml")] {
                    let (path, bare) = request_format(ct);
                    let want = select(s, code, ct);
                    let got = table.select(code, path, bare).map(|c| Selection {
                        template: table.names()[c.template].to_string(),
                        path: c.path,
                        content_type: c.content_type,
                    });
                    assert_eq!(got, want, "{s:?} {code} {ct:?}");
                }
                let xml = s.contains(&format!("error_{code}.xml")) || s.contains("error.xml");
                assert_eq!(table.has_xml(code), xml);
            }
        }
    }
}
