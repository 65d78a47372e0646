//! Checks of a loaded set that need no rendering of catalogue cases: missing
//! `error.json`/`error.xml`, per-code files the gateway never looks up,
//! fields its classic handler lacks, and html/template rewriting.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gotmpl::Value;
use gotmpl::html::HTML;

use super::wellformed::excerpt;
use super::{Collector, Finding, Rule};
use crate::catalogue::Catalogue;
use crate::format::Format;
use crate::overrides::Overrides;
use crate::set::TemplateSet;
use crate::tree::{self, UseKind};

/// The fields error-render gives templates besides `Message` (unless
/// `strict_tyk`); the gateway's classic handler gives none of them.
const EXTENSION_FIELDS: [&str; 4] = ["StatusCode", "Title", "Action", "ID"];

/// Missing `error.json` (an error) and per-code XML without `error.xml`.
pub(crate) fn missing_files(set: &TemplateSet, failed: &BTreeSet<String>, out: &mut Collector) {
    out.checked(Rule::MissingErrorJson, None);
    // A file that exists but failed to load is reported as such already.
    if !set.contains("error.json") && !failed.contains("error.json") {
        out.push(Finding::new(
            Rule::MissingErrorJson,
            None,
            "no error.json: the gateway falls back to it for every request without a more \
             specific template, and without it such requests crash in the gateway (the \
             connection is dropped, no response); add error.json (the gateway's own is \
             `{\"error\": \"{{.Message}}\"}`)",
        ));
    }
    out.checked(Rule::MissingErrorXml, None);
    let per_code_xml: Vec<&str> = set
        .files()
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| per_code_name(n).is_some_and(|(_, ext)| ext == "xml"))
        .collect();
    if !per_code_xml.is_empty() && !set.contains("error.xml") && !failed.contains("error.xml") {
        out.push(Finding::new(
            Rule::MissingErrorXml,
            None,
            format!(
                "XML templates ({}) but no error.xml: XML requests for any other status fall \
                 back to error.json, rendered as text and answered as application/json; add \
                 error.xml",
                per_code_xml.join(", ")
            ),
        ));
    }
}

/// Splits `error_<code>.<json|xml>` into the code text and extension.
pub(crate) fn per_code_name(name: &str) -> Option<(&str, &str)> {
    let (code, ext) = name.strip_prefix("error_")?.split_once('.')?;
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) && matches!(ext, "json" | "xml"))
        .then_some((code, ext))
}

/// The code of a per-code template name the gateway can look up: decimal
/// without leading zeros (it formats the status with `strconv.Itoa`), and a
/// status an HTTP response can carry.
pub(crate) fn lookup_code(name: &str) -> Option<u16> {
    let (code, _) = per_code_name(name)?;
    if code.starts_with('0') {
        return None;
    }
    code.parse::<u16>().ok().filter(|c| (100..=999).contains(c))
}

/// Every status the gateway sends with a templated error: the catalogue's
/// codes, the override IDs' defaults, and configured override codes.
pub(crate) fn gateway_codes(overrides: &Overrides) -> BTreeSet<u16> {
    let catalogue = Catalogue::builtin();
    catalogue
        .entries()
        .iter()
        .map(|e| e.code)
        .chain(catalogue.override_ids().iter().map(|o| o.code))
        .chain(overrides.iter().filter_map(|(_, o)| o.code))
        .collect()
}

/// `error_<code>` files the gateway never looks up, or only for statuses
/// it never sends.
pub(crate) fn unknown_codes(set: &TemplateSet, overrides: &Overrides, out: &mut Collector) {
    let known = gateway_codes(overrides);
    for file in set.files() {
        let Some((code_text, ext)) = per_code_name(&file.name) else {
            continue;
        };
        out.checked(Rule::UnknownCodeTemplate, Some(&file.name));
        let message = match code_text.parse::<u32>() {
            _ if code_text.starts_with('0') => {
                let trimmed = code_text.trim_start_matches('0');
                format!(
                    "the gateway looks up error_<status>.{ext} with the status written without \
                     leading zeros, so `{}` is never used; rename it to `error_{trimmed}.{ext}`",
                    file.name
                )
            }
            Ok(code) if !(100..=599).contains(&code) => format!(
                "status {code} is outside 100-599: no gateway error has it, so `{}` is never \
                 used",
                file.name
            ),
            Ok(code) if u16::try_from(code).is_ok_and(|c| known.contains(&c)) => continue,
            Ok(code) => format!(
                "the gateway never sends status {code} with a templated error (it sends {}), \
                 so `{}` is only used if a plugin or an Error Override rule answers with {code}",
                known
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                file.name
            ),
            Err(_) => format!(
                "status {code_text} is not a number the gateway can send, so `{}` is never used",
                file.name
            ),
        };
        out.push(Finding::new(
            Rule::UnknownCodeTemplate,
            Some(file.name.clone()),
            message,
        ));
    }
}

/// The templates the classic error handler executes: `error.json`,
/// `error.xml` and every per-code template it can look up.
pub(crate) fn classic_entries(set: &TemplateSet) -> Vec<String> {
    set.template_names()
        .filter(|n| matches!(*n, "error.json" | "error.xml") || lookup_code(n).is_some())
        .map(str::to_owned)
        .collect()
}

/// Fields other than `.Message` in any template the classic handler runs.
///
/// Templates only reachable from Error Override rules (Tyk 5.13+, e.g.
/// `error_upstream.json`) are left alone: those get `StatusCode` there.
pub(crate) fn non_tyk_fields(set: &TemplateSet, out: &mut Collector) {
    let entries = classic_entries(set);
    let mut seen = BTreeSet::new();
    for name in set.call_closure(&entries) {
        let (Some(tree), Some(file)) = (set.tree(&name), set.file_of(&name)) else {
            continue;
        };
        out.checked(Rule::NonTykField, Some(&file.name));
        for u in tree::uses(tree) {
            if u.kind != UseKind::Field || u.name == "Message" {
                continue;
            }
            // A file's trees can share nodes (its body and its defines).
            if !seen.insert((file.name.clone(), u.offset, u.name.clone())) {
                continue;
            }
            let message = if EXTENSION_FIELDS.contains(&u.name.as_str()) {
                format!(
                    "`.{}` is an error-render extension: the gateway's classic error handler \
                     gives templates only `.Message`, so on the gateway the response is cut \
                     off at this field; remove it, or keep this template for error-render only",
                    u.name
                )
            } else {
                format!(
                    "`.{}` is not in the template's data: the gateway gives only `.Message` \
                     (the response is cut off at this field); use `.Message`",
                    u.name
                )
            };
            out.push(
                Finding::new(Rule::NonTykField, Some(file.name.clone()), message)
                    .at(Some(u.line), Some(tree::column(&file.text, u.offset))),
            );
        }
    }
}

/// `{{template "name"}}` calls without data to templates that read fields:
/// Go runs the called template on nil data, so its `.Message` is empty (a
/// common slip when splitting a template into `define`s).
pub(crate) fn templates_without_data(set: &TemplateSet, out: &mut Collector) {
    let mut seen = BTreeSet::new();
    for name in set.template_names() {
        let (Some(tree), Some(file)) = (set.tree(name), set.file_of(name)) else {
            continue;
        };
        out.checked(Rule::TemplateWithoutData, Some(&file.name));
        for call in tree::uses(tree) {
            if call.kind != UseKind::Template || !call.without_data {
                continue;
            }
            let reads_fields = set
                .tree(&call.name)
                .is_some_and(|t| tree::uses(t).iter().any(|u| u.kind == UseKind::Field));
            // A file's trees can share nodes (its body and its defines).
            if !reads_fields || !seen.insert((file.name.clone(), call.offset)) {
                continue;
            }
            let message = format!(
                "{{{{template {name:?}}}}} passes no data, so {name:?} runs on nil data (as in Go) \
                 and its fields, `.Message` included, are empty: write {{{{template {name:?} .}}}}",
                name = call.name
            );
            out.push(
                Finding::new(Rule::TemplateWithoutData, Some(file.name.clone()), message)
                    .at(Some(call.line), Some(tree::column(&file.text, call.offset))),
            );
        }
    }
}

/// Data with every field error-render gives, each a plain word that no
/// escaper changes, so two engines' outputs differ only by rewriting.
fn plain_data() -> Value {
    let mut map: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    for name in ["Message", "Title", "Action", "ID"] {
        map.insert(name.into(), HTML::from(name).into());
    }
    map.insert("StatusCode".into(), Value::Int(500));
    Value::Map(Arc::new(map))
}

/// The largest template [`html_rewrites`] renders through html/template
/// (about 25 MB of escaping).
const HTML_REWRITE_MAX_BYTES: usize = 256 * 1024;

/// `.json` templates whose text html/template changes: rendered with the
/// same plain data through html/template (the gateway's JSON path) and
/// text/template; any difference is rewriting the author did not write.
///
/// Escaping a template for html/template costs about 100 times its size in
/// memory, so it is done only where it can find something: html/template
/// leaves text alone until a `<` opens a tag or comment, so a set without
/// one is not rendered at all, and a file over [`HTML_REWRITE_MAX_BYTES`]
/// is left unchecked.
pub(crate) fn html_rewrites(set: &TemplateSet, out: &mut Collector) {
    let data = plain_data();
    // Templates call each other, so one `<` anywhere may matter anywhere.
    let any_tag = set.files().iter().any(|f| f.text.contains('<'));
    for file in set.files() {
        if !file.name.ends_with(".json") || !set.contains(&file.name) {
            continue;
        }
        out.checked(Rule::HtmlRewrite, Some(&file.name));
        if !any_tag || file.text.len() > HTML_REWRITE_MAX_BYTES {
            continue;
        }
        let (mut html, mut text) = (String::new(), String::new());
        // Failures are exec errors, reported by the render checks.
        if set
            .execute(&file.name, Format::Json, &data, &mut html)
            .is_err()
            || set
                .execute(&file.name, Format::Xml, &data, &mut text)
                .is_err()
            || html == text
        {
            continue;
        }
        let at = html
            .bytes()
            .zip(text.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(html.len().min(text.len()));
        let spot = rewrite_spot(&file.text);
        let what = spot.map_or("html/template escapes or removes part of it", |s| s.what);
        let mut finding = Finding::new(
            Rule::HtmlRewrite,
            Some(file.name.clone()),
            format!(
                "the gateway renders JSON templates with html/template, which changes this \
                 template's text ({what}): the response has `{}` where the template says `{}`; \
                 write the text so that html/template leaves it alone",
                excerpt(&html, at),
                excerpt(&text, at)
            ),
        )
        .quoting(format!(
            "the gateway renders JSON templates with html/template, which changes this \
             template's text ({what}) at byte {at} of the output; write the text so that \
             html/template leaves it alone"
        ));
        if let Some(s) = spot {
            finding = finding.at(Some(s.line), Some(tree::column(&file.text, s.offset)));
        }
        out.push(finding);
    }
}

/// A place in a template's text that html/template rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spot {
    offset: usize,
    line: usize,
    what: &'static str,
}

/// Finds the first text (outside `{{ }}`) html/template would rewrite: an
/// HTML comment, which it removes, or a `<` that does not start a tag,
/// which it writes as `&lt;`. Used only to place a difference the renders
/// proved, so an approximate split of actions is enough.
fn rewrite_spot(src: &str) -> Option<Spot> {
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{{") {
            i = match src[i + 2..].find("}}") {
                Some(end) => i + 2 + end + 2,
                None => bytes.len(),
            };
            continue;
        }
        if bytes[i] == b'<' {
            let rest = &bytes[i + 1..];
            let what = if rest.starts_with(b"!--") {
                Some("an HTML comment, which it removes")
            } else if rest.len() >= 8 && rest[..8].eq_ignore_ascii_case(b"!doctype") {
                None
            } else {
                let name = rest.strip_prefix(b"/").unwrap_or(rest);
                if name.first().is_some_and(u8::is_ascii_alphabetic) {
                    None
                } else {
                    Some("a `<` that does not start a tag, which it writes as `&lt;`")
                }
            };
            if let Some(what) = what {
                return Some(Spot {
                    offset: i,
                    line: src[..i].matches('\n').count() + 1,
                    what,
                });
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::TemplateFile;

    fn set(files: &[(&str, &str)]) -> TemplateSet {
        TemplateSet::from_files(files.iter().map(|(n, t)| TemplateFile {
            name: (*n).into(),
            text: (*t).into(),
        }))
        .unwrap()
    }

    fn found(s: &TemplateSet, check: fn(&TemplateSet, &mut Collector)) -> Vec<Finding> {
        let mut out = Collector::default();
        check(s, &mut out);
        out.findings
    }

    #[test]
    fn per_code_names() {
        assert_eq!(per_code_name("error_401.json"), Some(("401", "json")));
        assert_eq!(per_code_name("error_upstream.json"), None);
        assert_eq!(per_code_name("error_401.html"), None);
        assert_eq!(lookup_code("error_0401.json"), None);
        assert_eq!(lookup_code("error_1000.json"), None);
        assert_eq!(lookup_code("error_418.xml"), Some(418));
    }

    #[test]
    fn fields_found_with_place_only_in_classic_templates() {
        let s = set(&[
            (
                "error.json",
                "{\"a\": \"{{.Message}}\",\n \"c\": {{.StatusCode}}}",
            ),
            ("error_upstream.json", "{{.StatusCode}}"),
        ]);
        let f = found(&s, non_tyk_fields);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].line, f[0].column), (Some(2), Some(9)));
    }

    #[test]
    fn template_calls_without_data_to_field_readers_are_found() {
        let s = set(&[(
            "error.json",
            "{{define \"m\"}}{{.Message}}{{end}}{{define \"k\"}}ok{{end}}\n\
             {{template \"m\"}}{{template \"m\" .}}{{template \"k\"}}",
        )]);
        let f = found(&s, templates_without_data);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].line, f[0].column), (Some(2), Some(3)));
        assert!(
            f[0].message.contains("{{template \"m\" .}}"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn comment_and_stray_lt_are_rewrites() {
        let s = set(&[
            ("error.json", "<!-- c -->{\"error\": \"{{.Message}}\"}"),
            ("error_401.json", "{\"a\": \"1 <= 2 {{.Message}}\"}"),
            ("error_403.json", "{\"a\": \"<b>{{.Message}}</b>\"}"),
        ]);
        let f = found(&s, html_rewrites);
        let files: Vec<_> = f.iter().map(|f| f.file.as_deref().unwrap()).collect();
        assert_eq!(files, ["error.json", "error_401.json"], "{f:?}");
        assert_eq!(f[1].column, Some(10));
    }

    #[test]
    fn spot_skips_actions_and_tags() {
        assert_eq!(rewrite_spot("{{if lt 1 2}}<b>x</b>{{end}}"), None);
        assert_eq!(rewrite_spot("<!DOCTYPE x>"), None);
        assert_eq!(rewrite_spot("a\n<?xml?>").map(|s| s.line), Some(2));
    }
}
