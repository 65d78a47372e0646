//! Rendering every case through the real [`Renderer`]: every catalogue
//! entry and gateway error ID, and hostile messages, for a JSON and an XML
//! request. Execution failures are errors; each output is judged by the
//! template that rendered it (`.json` → valid JSON, `.xml` → well-formed
//! XML), reporting the first failing case per template.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::set_checks::{gateway_codes, lookup_code};
use super::wellformed::{Malformed, check_json, check_xml, excerpt, is_xml_char};
use super::{Collector, Finding, Rule};
use crate::catalogue::Catalogue;
use crate::escape::Profile;
use crate::format::Format;
use crate::native::{NativeKind, NativeSet};
use crate::render::{ErrorRequest, Outcome, RenderOptions, Rendered, Renderer};
use crate::select;
use crate::set::TemplateSet;
use crate::tree::{self, UseKind};

/// The request Content-Type of an XML case.
const XML_REQUEST: &str = "application/xml";

/// Messages that break careless templates: each (name, message).
fn hostile_messages() -> Vec<(&'static str, String)> {
    let mut big = String::with_capacity(10 * 1024 + 16);
    while big.len() < 10 * 1024 {
        big.push_str("quote \" apostrophe ' back\\slash <tag> & amp; é 🚀 line\n");
    }
    vec![
        ("double quotes", "He said \"no\"".into()),
        ("backslashes", "C:\\path\\to\\file \\d+ \\u0041".into()),
        ("newlines and tabs", "line1\nline2\r\n\tindented".into()),
        ("less-than and ampersand", "a < b && c > d <tag> &".into()),
        ("entity-like text", "&amp; &#39; &bogus; & ;".into()),
        ("apostrophe", "it's the client's key".into()),
        (
            "non-ASCII",
            "héllo wörld 日本語 🚀 \u{2028}\u{2029} \u{a0}\u{200b}".into(),
        ),
        ("empty", String::new()),
        ("10 KB", big),
        (
            "control characters",
            "bell\u{7} nul\u{0} esc\u{1b} del\u{7f}".into(),
        ),
        (
            "template-like text",
            "{{.Message}} {{template \"x\"}}".into(),
        ),
        ("closing tag", "</error><injected/>".into()),
    ]
}

/// One render to make.
struct Case {
    /// How the report names it.
    label: String,
    request: ErrorRequest,
    /// Whether XML 1.0 can carry the message at all.
    xml_ok: bool,
    /// Whether an HTML page can carry the message without a parse error:
    /// control characters and noncharacters are errors however escaped.
    html_ok: bool,
    /// The message is the user's own (an `override_messages` entry).
    user_message: bool,
    /// For a catalogue entry in HTML: its status. Entries of one status
    /// differ only in their text, which the page escapes, so one of them is
    /// parsed as HTML per page and status (html5ever's parse is most of the
    /// time a folder with HTML pages takes to validate).
    html_once: Option<u16>,
}

fn format_name(content_type: Option<&str>) -> &'static str {
    match content_type {
        Some(_) => "XML request",
        None => "JSON request",
    }
}

/// Every case for `set`: catalogue entries and gateway error IDs (with
/// their overrides applied) for both request types, and each hostile
/// message once per distinct template the statuses select.
fn cases(set: &TemplateSet, options: &RenderOptions) -> Vec<Case> {
    let catalogue = Catalogue::builtin();
    let formats = [None, Some(XML_REQUEST)];
    let mut out = Vec::new();
    for entry in catalogue.entries() {
        for ct in formats {
            let mut request = ErrorRequest::id(&entry.id);
            request.content_type = ct.map(str::to_owned);
            out.push(Case {
                label: format!("catalogue entry {}, {}", entry.id, format_name(ct)),
                xml_ok: entry.message.chars().all(is_xml_char),
                html_ok: entry.message.chars().all(is_html_char),
                request,
                user_message: false,
                html_once: None,
            });
        }
    }
    for o in catalogue.override_ids() {
        let configured = options.overrides.get(&o.id);
        let message = configured
            .and_then(|c| c.message.clone())
            .unwrap_or_else(|| o.message.clone());
        for ct in formats {
            let mut request = ErrorRequest::id(&o.id);
            request.content_type = ct.map(str::to_owned);
            out.push(Case {
                label: format!(
                    "gateway error {}{}, {}",
                    o.id,
                    if configured.is_some() {
                        " (overridden)"
                    } else {
                        ""
                    },
                    format_name(ct)
                ),
                xml_ok: message.chars().all(is_xml_char),
                html_ok: message.chars().all(is_html_char),
                request,
                user_message: configured.is_some_and(|c| c.message.is_some())
                    && !options.ignore_overrides,
                html_once: None,
            });
        }
    }
    // One status per distinct (template, path, content type) it selects.
    let mut codes: BTreeSet<u16> = gateway_codes(&options.overrides)
        .into_iter()
        .filter(|c| (100..=999).contains(c))
        .collect();
    codes.extend(set.template_names().filter_map(lookup_code));
    // A status with no per-code template, to reach error.json/error.xml.
    if let Some(c) = (400..=599).find(|c| {
        !set.contains(&format!("error_{c}.json")) && !set.contains(&format!("error_{c}.xml"))
    }) {
        codes.insert(c);
    }
    let mut targets = BTreeSet::new();
    let hostile = hostile_messages();
    for code in codes {
        for ct in formats {
            let Some(sel) = select::select(set, code, ct) else {
                continue;
            };
            if !targets.insert((sel.template.clone(), sel.path.ext(), sel.content_type)) {
                continue;
            }
            for (name, message) in &hostile {
                let mut request = ErrorRequest::code(code).message(message.clone());
                request.content_type = ct.map(str::to_owned);
                out.push(Case {
                    label: format!(
                        "hostile message \"{name}\" (status {code}, {})",
                        format_name(ct)
                    ),
                    xml_ok: message.chars().all(is_xml_char),
                    html_ok: message.chars().all(is_html_char),
                    request,
                    user_message: false,
                    html_once: None,
                });
            }
        }
    }
    out
}

/// The cases of error-render's own formats: every catalogue entry and
/// gateway error ID in each enabled format of HTML, text and problem
/// details, and the hostile messages once per distinct `.tera` page of the
/// folder (of every kind, JSON and XML included), for the statuses that
/// reach it. The built-in pages are not judged: they are error-render's.
fn native_cases(native: &NativeSet, options: &RenderOptions, formats: &[Format]) -> Vec<Case> {
    let catalogue = Catalogue::builtin();
    let own: Vec<Format> = formats.iter().copied().filter(|f| !f.is_go()).collect();
    let mut out = Vec::new();
    // A case whose page would be the built-in one is not judged: skipping
    // it keeps a folder without `.tera` pages as fast as before.
    let has_page = |f: Format, code: u16| {
        NativeKind::from_ext(f.ext()).is_some_and(|k| native.lookup(code, k).is_some())
    };
    // Every catalogue entry and gateway error ID, at the code it answers
    // with after `override_messages`.
    let ids = catalogue
        .entries()
        .iter()
        .map(|e| ("catalogue entry", e.id.as_str(), e.code))
        .chain(
            catalogue
                .override_ids()
                .iter()
                .map(|o| ("gateway error", o.id.as_str(), o.code)),
        );
    for f in &own {
        for (what, id, code) in ids.clone() {
            let code = options
                .overrides
                .get(id)
                .and_then(|o| o.code)
                .unwrap_or(code);
            if !has_page(*f, code) {
                continue;
            }
            out.push(Case {
                label: format!("{what} {id}, {}", f.name()),
                xml_ok: true,
                html_ok: true,
                request: ErrorRequest::id(id).format(*f),
                user_message: false,
                html_once: Some(code),
            });
        }
    }
    let mut codes: BTreeSet<u16> = gateway_codes(&options.overrides)
        .into_iter()
        .filter(|c| (100..=999).contains(c))
        .collect();
    for file in native.files() {
        let head = file.name.split('.').next().unwrap_or_default();
        match head.as_bytes() {
            [h @ b'1'..=b'9', b'x', b'x'] => {
                codes.insert(u16::from(h - b'0') * 100);
            }
            _ => codes.extend(head.parse::<u16>().ok().filter(|c| (100..=999).contains(c))),
        }
    }
    let hostile = hostile_messages();
    let mut pages = BTreeSet::new();
    for f in Format::ALL {
        if !(f.is_go() || own.contains(&f)) {
            continue;
        }
        let Some(kind) = NativeKind::from_ext(f.ext()) else {
            continue;
        };
        for &code in &codes {
            let Some(page) = native.lookup(code, kind) else {
                continue;
            };
            if !pages.insert(page.to_owned()) {
                continue;
            }
            for (name, message) in &hostile {
                out.push(Case {
                    label: format!("hostile message \"{name}\" (status {code}, {})", f.name()),
                    xml_ok: message.chars().all(is_xml_char),
                    html_ok: message.chars().all(is_html_char),
                    request: ErrorRequest::code(code).message(message.clone()).format(f),
                    user_message: false,
                    html_once: None,
                });
            }
        }
    }
    out
}

/// Whether HTML5 can carry this character as text without a parse error:
/// not a control character (bar the whitespace ones) nor a noncharacter.
fn is_html_char(c: char) -> bool {
    let n = u32::from(c);
    let noncharacter = (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE;
    (!c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}')) && !noncharacter
}

/// The first failing case of one kind for one template, and how many fail.
struct FirstFailure {
    finding: Finding,
    more: usize,
}

/// Failures gathered over all cases, one per key.
#[derive(Default)]
struct Failures {
    by_key: BTreeMap<(String, Rule, String), FirstFailure>,
    /// (page, status) already parsed as HTML (see [`Case::html_once`]).
    html_parsed: BTreeSet<(String, u16)>,
}

impl Failures {
    fn add(&mut self, key: (String, Rule, String), finding: impl FnOnce() -> Finding) {
        self.by_key
            .entry(key)
            .and_modify(|f| f.more += 1)
            .or_insert_with(|| FirstFailure {
                finding: finding(),
                more: 0,
            });
    }

    fn report(self, out: &mut Collector) {
        for (_, mut f) in self.by_key {
            if f.more > 0 {
                f.finding.push_message(&format!(
                    " ({} more case{} fail{} the same way)",
                    f.more,
                    if f.more == 1 { "" } else { "s" },
                    if f.more == 1 { "s" } else { "" }
                ));
            }
            out.push(f.finding);
        }
    }
}

/// Renders every case and reports execution failures and invalid output.
pub(crate) fn run(
    set: &Arc<TemplateSet>,
    native: &Arc<NativeSet>,
    options: &RenderOptions,
    formats: &[Format],
    out: &mut Collector,
) {
    let renderer = Renderer::new(Arc::clone(set), options.clone()).with_native(Arc::clone(native));
    let profile = options.profile;
    let mut failures = Failures::default();
    let mut all = cases(set, options);
    all.extend(native_cases(native, options, formats));
    for case in all {
        // Only a code no response can carry (from an override) fails here;
        // the overrides check reports that.
        let Ok(rendered) = renderer.render(&case.request) else {
            continue;
        };
        let Some(template) = rendered.template.as_deref().map(str::to_owned) else {
            continue;
        };
        let file = set
            .file_of(&template)
            .map_or_else(|| template.clone(), |f| f.name.clone());
        out.checked(Rule::ExecError, Some(&file));
        match rendered.outcome {
            Outcome::Exec => {
                let error = rendered.error.as_deref().unwrap_or_default().to_owned();
                failures.add((template.clone(), Rule::ExecError, error.clone()), || {
                    exec_finding(set, &template, &file, &error, &case.label)
                });
            }
            Outcome::Ok => {
                judge(
                    &renderer,
                    &case,
                    &rendered,
                    &template,
                    &file,
                    profile,
                    out,
                    &mut failures,
                );
            }
            Outcome::Missing | Outcome::Load => {}
        }
    }
    failures.report(out);
}

/// Judges one successful render by its template's extension.
#[allow(clippy::too_many_arguments)]
fn judge(
    renderer: &Renderer,
    case: &Case,
    rendered: &Rendered,
    template: &str,
    file: &str,
    profile: Profile,
    out: &mut Collector,
    failures: &mut Failures,
) {
    let tera = template.strip_suffix(crate::native::SUFFIX);
    if tera.is_some_and(|t| t.ends_with(".html")) {
        out.checked(Rule::InvalidHtml, Some(file));
        if !case.html_ok
            || case
                .html_once
                .is_some_and(|code| !failures.html_parsed.insert((template.to_owned(), code)))
        {
            return;
        }
        if let Err((m, more)) = super::html::check_html(&rendered.body_text()) {
            failures.add(
                (template.to_owned(), Rule::InvalidHtml, String::new()),
                || {
                    let mut f = output_finding(
                        Rule::InvalidHtml,
                        file,
                        template,
                        case,
                        &rendered.body_text(),
                        &m,
                        profile,
                    );
                    if more > 0 {
                        f.push_message(&format!(
                            " ({more} more parse error{} in this output)",
                            if more == 1 { "" } else { "s" }
                        ));
                    }
                    f
                },
            );
        }
    } else if tera.is_some_and(|t| t.ends_with(".json")) {
        // Tera's JSON pages, problem details included: no gateway release
        // renders them, so only validity is judged.
        out.checked(Rule::InvalidJson, Some(file));
        if let Err(m) = check_json(&rendered.body_text()) {
            failures.add(
                (template.to_owned(), Rule::InvalidJson, String::new()),
                || {
                    output_finding(
                        Rule::InvalidJson,
                        file,
                        template,
                        case,
                        &rendered.body_text(),
                        &m,
                        profile,
                    )
                },
            );
        }
    } else if tera.is_some_and(|t| !t.ends_with(".xml")) {
        // Plain text: anything goes.
    } else if template.ends_with(".json") {
        out.checked(Rule::InvalidJson, Some(file));
        match check_json(&rendered.body_text()) {
            Ok(()) => {
                // Only the user's own messages: a gateway message or a test
                // string with an apostrophe breaks every JSON template on
                // those releases, which no template can avoid.
                if profile == Profile::V5_15 && case.user_message {
                    out.checked(Rule::Profile514InvalidJson, Some(file));
                    let old = renderer.render(&case.request.clone().profile(Profile::V5_14));
                    if let Ok(old) = old
                        && old.outcome == Outcome::Ok
                        && let Err(m) = check_json(&old.body_text())
                    {
                        failures.add(
                            (
                                template.to_owned(),
                                Rule::Profile514InvalidJson,
                                String::new(),
                            ),
                            || profile_514_finding(file, template, case, &old.body_text(), &m),
                        );
                    }
                }
            }
            Err(m) => {
                // On 5.14, tell the release's escaping apart from the
                // template: if 5.15's escaping gives valid JSON, the
                // template is not what breaks it.
                let escaping_only = profile == Profile::V5_14
                    && renderer
                        .render(&case.request.clone().profile(Profile::V5_15))
                        .is_ok_and(|r| {
                            r.outcome == Outcome::Ok && check_json(&r.body_text()).is_ok()
                        });
                if escaping_only {
                    out.checked(Rule::Profile514InvalidJson, Some(file));
                    failures.add(
                        (
                            template.to_owned(),
                            Rule::Profile514InvalidJson,
                            String::new(),
                        ),
                        || profile_514_finding(file, template, case, &rendered.body_text(), &m),
                    );
                } else {
                    failures.add(
                        (template.to_owned(), Rule::InvalidJson, String::new()),
                        || {
                            output_finding(
                                Rule::InvalidJson,
                                file,
                                template,
                                case,
                                &rendered.body_text(),
                                &m,
                                profile,
                            )
                        },
                    );
                }
            }
        }
    } else if template.ends_with(".xml") || tera.is_some_and(|t| t.ends_with(".xml")) {
        out.checked(Rule::InvalidXml, Some(file));
        if !case.xml_ok {
            return;
        }
        if let Err(m) = check_xml(&rendered.body_text()) {
            failures.add(
                (template.to_owned(), Rule::InvalidXml, String::new()),
                || {
                    output_finding(
                        Rule::InvalidXml,
                        file,
                        template,
                        case,
                        &rendered.body_text(),
                        &m,
                        profile,
                    )
                },
            );
        }
    }
}

fn output_finding(
    rule: Rule,
    file: &str,
    template: &str,
    case: &Case,
    body: &str,
    m: &Malformed,
    profile: Profile,
) -> Finding {
    let kind = match rule {
        Rule::InvalidJson => "valid JSON",
        Rule::InvalidHtml => "well-formed HTML",
        _ => "well-formed XML",
    };
    // The parser's words can quote the body too (a tag name): the unquoted
    // form keeps only the place.
    let mut message = format!(
        "{template} does not give {kind} for {}: {}, at `{}`",
        case.label,
        m.message,
        excerpt(body, m.offset)
    );
    let mut unquoted = format!(
        "{template} does not give {kind} for {}, at byte {} of the output",
        case.label, m.offset
    );
    let mut push = |text: &str| {
        message.push_str(text);
        unquoted.push_str(text);
    };
    if rule == Rule::InvalidJson && template == "error.json" && case.request.content_type.is_some()
    {
        push(
            "; this is an XML request that fell back to error.json (no error.xml or \
             error_<code>.xml): the gateway renders it with text/template (comments kept) and \
             the message XML-escaped (a backslash or a newline stays raw); add error.xml",
        );
    }
    if rule == Rule::InvalidXml && profile == Profile::V5_14 && !template.ends_with(".tera") {
        push(
            "; Tyk 4.0-5.14 insert the message into XML unescaped, so a message with `<` or \
             `&` breaks it unless the template wraps {{.Message}} in <![CDATA[ ]]>",
        );
    }
    Finding::new(rule, Some(file.to_owned()), message).quoting(unquoted)
}

fn profile_514_finding(
    file: &str,
    template: &str,
    case: &Case,
    body: &str,
    m: &Malformed,
) -> Finding {
    let advice = if case.user_message {
        "for older gateways, reword the override message without an apostrophe"
    } else {
        "no template can avoid this on older gateways (Tyk issue #4363)"
    };
    Finding::new(
        Rule::Profile514InvalidJson,
        Some(file.to_owned()),
        format!(
            "on Tyk 4.0-5.14 {template} does not give valid JSON for {}: those releases \
             JS-escape the message (an apostrophe becomes `\\'`, which JSON does not allow): {}, \
             at `{}`; Tyk 5.15 and 5.13.2 are fine; {advice}",
            case.label,
            m.message,
            excerpt(body, m.offset),
        ),
    )
    .quoting(format!(
        "on Tyk 4.0-5.14 {template} does not give valid JSON for {}: those releases \
         JS-escape the message (an apostrophe becomes `\\'`, which JSON does not allow), at \
         byte {} of the output; Tyk 5.15 and 5.13.2 are fine; {advice}",
        case.label, m.offset,
    ))
}

/// An exec-error finding, placed at the failing action when it can be
/// found: the line the engine gives, else the missing field or template.
fn exec_finding(set: &TemplateSet, template: &str, file: &str, error: &str, case: &str) -> Finding {
    if template.ends_with(crate::native::SUFFIX) {
        return native_exec_finding(template, error, case);
    }
    let (line, message) = split_exec_error(template, error);
    // The engine's words can quote a value the template computed.
    let mut finding = Finding::new(
        Rule::ExecError,
        Some(file.to_owned()),
        format!(
            "{template} fails to render for {case}: {message}; the gateway would send a \
             truncated or empty body"
        ),
    )
    .quoting(format!(
        "{template} fails to render for {case}; the gateway would send a truncated or empty body"
    ));
    if line.is_some() {
        return finding.at(line, None);
    }
    if let Some((place_file, line, column)) = locate(set, template, message) {
        finding.file = Some(place_file);
        finding = finding.at(Some(line), Some(column));
    }
    finding
}

/// A `.tera` page's render failure, placed in the file (the page, or the
/// layout or include it uses), line and column of Tera's span, as the
/// native set's `ExecError` writes them: `<file>[:<line>[:<column>]]: <message>`.
fn native_exec_finding(page: &str, error: &str, case: &str) -> Finding {
    let (head, message) = error.split_once(": ").unwrap_or((page, error));
    let number = |s: &str| s.parse::<usize>().ok();
    let (file, line, column) = match head.rsplitn(3, ':').collect::<Vec<_>>()[..] {
        [col, line, file] if number(col).is_some() && number(line).is_some() => {
            (file, number(line), number(col))
        }
        [line, file, ..] if number(line).is_some() => {
            let file = head.rsplit_once(':').map_or(file, |(f, _)| f);
            (file, number(line), None)
        }
        _ => (head, None, None),
    };
    let file = if file.ends_with(crate::native::SUFFIX) {
        file
    } else {
        page
    };
    Finding::new(
        Rule::ExecError,
        Some(file.to_owned()),
        format!(
            "{page} fails to render for {case}: {message}; error-render would send its built-in \
             page instead"
        ),
    )
    .quoting(format!(
        "{page} fails to render for {case}; error-render would send its built-in page instead"
    ))
    .at(line, column)
}

/// Splits our `ExecError` text, `<template>[:<line>]: <message>`.
fn split_exec_error<'a>(template: &str, error: &'a str) -> (Option<usize>, &'a str) {
    let Some(rest) = error.strip_prefix(template) else {
        return (None, error);
    };
    if let Some(message) = rest.strip_prefix(": ") {
        return (None, message);
    }
    if let Some((line, message)) = rest.strip_prefix(':').and_then(|r| r.split_once(": "))
        && let Ok(line) = line.parse()
    {
        return (Some(line), message);
    }
    (None, error)
}

/// The place of the field or template an execution error names, searching
/// the entry template first, then what it calls.
fn locate(set: &TemplateSet, template: &str, message: &str) -> Option<(String, usize, usize)> {
    let field = message
        .split("can't evaluate field ")
        .nth(1)
        .map(|rest| {
            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
        })
        .filter(|f| !f.is_empty());
    let mut names: Vec<String> = vec![template.to_owned()];
    names.extend(
        set.call_closure(&[template.to_owned()])
            .into_iter()
            .filter(|n| n != template),
    );
    for name in names {
        let (Some(tree), Some(file)) = (set.tree(&name), set.file_of(&name)) else {
            continue;
        };
        let found = tree::uses(tree).into_iter().find(|u| match field {
            Some(f) => u.kind == UseKind::Field && u.name == f,
            None => u.kind == UseKind::Template && !set.contains(&u.name),
        });
        if let Some(u) = found {
            return Some((
                file.name.clone(),
                u.line,
                tree::column(&file.text, u.offset),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::TemplateFile;

    fn set(files: &[(&str, &str)]) -> Arc<TemplateSet> {
        Arc::new(
            TemplateSet::from_files(files.iter().map(|(n, t)| TemplateFile {
                name: (*n).into(),
                text: (*t).into(),
            }))
            .unwrap(),
        )
    }

    fn findings(s: &Arc<TemplateSet>, profile: Profile) -> Vec<Finding> {
        let mut out = Collector::default();
        let options = RenderOptions {
            profile,
            ..RenderOptions::default()
        };
        run(
            s,
            &Arc::new(NativeSet::empty()),
            &options,
            &Format::ALL,
            &mut out,
        );
        out.findings
    }

    #[test]
    fn bundled_templates_pass_on_5_15() {
        let s = set(&[
            ("error.json", crate::render::BUNDLED_ERROR_JSON),
            ("error.xml", crate::render::BUNDLED_ERROR_XML),
        ]);
        assert_eq!(findings(&s, Profile::V5_15), []);
    }

    #[test]
    fn on_5_14_apostrophe_is_the_release_and_raw_xml_is_invalid() {
        let s = set(&[
            ("error.json", crate::render::BUNDLED_ERROR_JSON),
            ("error.xml", crate::render::BUNDLED_ERROR_XML),
        ]);
        let rules: Vec<Rule> = findings(&s, Profile::V5_14)
            .iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(rules, [Rule::Profile514InvalidJson, Rule::InvalidXml]);
    }

    #[test]
    fn exec_error_is_placed_at_the_missing_field() {
        let s = set(&[(
            "error.json",
            "{\"error\": \"{{.Message}}\",\n\"x\": \"{{.Nope}}\"}",
        )]);
        let f = findings(&s, Profile::V5_15);
        assert_eq!(f[0].rule, Rule::ExecError, "{f:?}");
        assert_eq!((f[0].line, f[0].column), (Some(2), Some(9)));
        assert!(f[0].message.contains("more cases"), "{}", f[0].message);
    }

    #[test]
    fn splits_exec_errors() {
        assert_eq!(
            split_exec_error("e.json", "e.json:3: boom: x"),
            (Some(3), "boom: x")
        );
        assert_eq!(
            split_exec_error("e.json", "e.json: can't: x"),
            (None, "can't: x")
        );
        assert_eq!(split_exec_error("e.json", "other"), (None, "other"));
    }
}
