//! A validation report and its five renderings: human (grouped by file,
//! optionally coloured), JSON (a stable, versioned schema), JUnit XML (one
//! test case per check), GitHub Actions workflow annotations and SARIF 2.1.0
//! (code-scanning views).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Check, Finding, Rule, Severity};

/// The `version` field of the JSON report. Raised only for changes that
/// break a reader; new rules and new fields do not.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The SARIF version [`Report::to_sarif`] writes.
pub const SARIF_VERSION: &str = "2.1.0";

/// The `uriBaseId` of relative paths in the SARIF report: the folder the
/// tool ran in, which code-scanning services take as the repository root.
pub const SARIF_URI_BASE_ID: &str = "%SRCROOT%";

/// What validation found, with the checks that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The template folder, as given.
    pub dir: PathBuf,
    /// The overrides file or tyk.conf, as given, if any.
    pub overrides: Option<PathBuf>,
    /// Every finding, sorted by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Every check that ran (with or without findings), sorted.
    pub checks: Vec<Check>,
}

/// ANSI codes of the human report.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn severity(&self, severity: Severity, padded: &str) -> String {
        match severity {
            Severity::Error => self.paint("1;31", padded),
            Severity::Warning => self.paint("1;33", padded),
        }
    }
}

impl Report {
    /// How many findings are errors.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many findings are warnings.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The process exit code: 1 when there is an error (or, when `strict`,
    /// a warning), else 0. (2, "could not run", is a
    /// [`ValidateError`](super::ValidateError), never a report.)
    pub fn exit_code(&self, strict: bool) -> u8 {
        if self.errors() > 0 || (strict && self.warnings() > 0) {
            1
        } else {
            0
        }
    }

    /// Sorts findings (file, line, column, rule), drops exact duplicates,
    /// and sorts checks.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            a.sort_key()
                .cmp(&b.sort_key())
                .then_with(|| a.message.cmp(&b.message))
        });
        self.findings.dedup();
        self.checks.sort();
        self.checks.dedup();
    }

    /// The path to show for a finding's file: template files joined to the
    /// folder as given (so that editors and CI annotations find them), the
    /// overrides file as given, and the folder itself for `None`.
    pub fn path_of(&self, rule: Rule, file: Option<&str>) -> String {
        match file {
            None => self.dir.display().to_string(),
            Some(f) if rule.is_about_overrides() => f.to_owned(),
            Some(f) => self.dir.join(f).display().to_string(),
        }
    }

    fn summary_line(&self) -> String {
        let (e, w) = (self.errors(), self.warnings());
        if e + w == 0 {
            return format!(
                "no problems found in {} ({} checks)",
                self.dir.display(),
                self.checks.len()
            );
        }
        format!(
            "{} problem{} ({} error{}, {} warning{})",
            e + w,
            plural(e + w),
            e,
            plural(e),
            w,
            plural(w)
        )
    }

    /// The report for people: findings grouped by file, then a summary.
    /// `colour` adds ANSI colours (the caller decides: a terminal, and
    /// `NO_COLOR` unset).
    pub fn to_human(&self, colour: bool) -> String {
        let style = Style { on: colour };
        let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
        for f in &self.findings {
            let path = self.path_of(f.rule, f.file.as_deref());
            match groups.last_mut() {
                Some((p, list)) if *p == path => list.push(f),
                _ => groups.push((path, vec![f])),
            }
        }
        let mut out = String::new();
        for (path, findings) in &groups {
            let header = if findings[0].file.is_none() {
                format!("{path} (folder)")
            } else {
                path.clone()
            };
            let _ = writeln!(out, "{}", style.paint("1", &header));
            let locations: Vec<String> = findings.iter().map(|f| location(f)).collect();
            let loc_width = locations.iter().map(String::len).max().unwrap_or(0);
            let rule_width = findings
                .iter()
                .map(|f| f.rule.as_str().len())
                .max()
                .unwrap_or(0);
            for (f, loc) in findings.iter().zip(&locations) {
                let _ = writeln!(
                    out,
                    "  {}  {}  {}  {}",
                    style.paint("2", &format!("{loc:<loc_width$}")),
                    style.severity(f.severity, &format!("{:<7}", f.severity.as_str())),
                    style.paint("2", &format!("{:<rule_width$}", f.rule.as_str())),
                    f.message
                );
            }
            out.push('\n');
        }
        let summary = self.summary_line();
        let summary = match (self.errors(), self.warnings()) {
            (0, 0) => style.paint("1;32", &summary),
            (0, _) => style.paint("1;33", &summary),
            _ => style.paint("1;31", &summary),
        };
        let _ = writeln!(out, "{summary}");
        out
    }

    /// The JSON report (schema version [`JSON_SCHEMA_VERSION`]):
    ///
    /// ```json
    /// {"version": 1, "dir": "templates/",
    ///  "summary": {"errors": 1, "warnings": 0},
    ///  "findings": [{"severity": "error", "rule": "invalid-json",
    ///                "file": "error.json", "line": null, "column": null,
    ///                "message": "..."}]}
    /// ```
    ///
    /// `file` is relative to `dir` for templates, as given for the
    /// overrides file, and `null` for the folder; `line` and `column` are
    /// 1-based or `null`.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Summary {
            errors: usize,
            warnings: usize,
        }
        #[derive(serde::Serialize)]
        struct JsonReport<'a> {
            version: u32,
            dir: String,
            summary: Summary,
            findings: &'a [Finding],
        }
        let report = JsonReport {
            version: JSON_SCHEMA_VERSION,
            dir: self.dir.display().to_string(),
            summary: Summary {
                errors: self.errors(),
                warnings: self.warnings(),
            },
            findings: &self.findings,
        };
        match serde_json::to_string_pretty(&report) {
            Ok(mut s) => {
                s.push('\n');
                s
            }
            // Plain structs of strings and numbers always serialise.
            Err(e) => format!(
                "{{\"version\": {JSON_SCHEMA_VERSION}, \"error\": {:?}}}\n",
                e.to_string()
            ),
        }
    }

    /// A JUnit XML report: one test suite for the folder, one test case per
    /// check (rule × file, classname the file's path, name the rule id),
    /// with a `failure` (type `error` or `warning`) listing its findings.
    pub fn to_junit(&self) -> String {
        let mut cases: BTreeMap<(Option<String>, Rule), Vec<&Finding>> = BTreeMap::new();
        for c in &self.checks {
            cases.entry((c.file.clone(), c.rule)).or_default();
        }
        for f in &self.findings {
            cases.entry((f.file.clone(), f.rule)).or_default().push(f);
        }
        let failures = cases.values().filter(|v| !v.is_empty()).count();
        let suite = self.dir.display().to_string();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"error-render validate\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
            cases.len()
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
            xml_escape(&suite),
            cases.len()
        );
        for ((file, rule), findings) in &cases {
            let path = self.path_of(*rule, file.as_deref());
            let file_attr = match file {
                Some(_) => format!(" file=\"{}\"", xml_escape(&path)),
                None => String::new(),
            };
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"{file_attr}",
                xml_escape(&path),
                rule.as_str()
            );
            if findings.is_empty() {
                let _ = writeln!(out, "{open}/>");
                continue;
            }
            let worst = findings
                .iter()
                .map(|f| f.severity)
                .min()
                .unwrap_or(Severity::Error);
            let body: Vec<String> = findings
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} {}",
                        location_or_file(&path, f),
                        f.severity,
                        f.message
                    )
                })
                .collect();
            let _ = writeln!(out, "{open}>");
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                worst.as_str(),
                xml_escape(&findings[0].message),
                xml_escape(&body.join("\n"))
            );
            let _ = writeln!(out, "    </testcase>");
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }

    /// GitHub Actions workflow commands: one `::error` or `::warning`
    /// annotation per finding (file paths joined to the folder, so they
    /// point into the repository), then a plain summary line.
    pub fn to_github(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let mut props = Vec::new();
            if f.file.is_some() {
                props.push(format!(
                    "file={}",
                    github_property(&self.path_of(f.rule, f.file.as_deref()))
                ));
            }
            if let Some(line) = f.line {
                props.push(format!("line={line}"));
                if let Some(col) = f.column {
                    props.push(format!("col={col}"));
                }
            }
            props.push(format!("title={}", github_property(f.rule.as_str())));
            let message = match &f.file {
                Some(_) => f.message.clone(),
                None => format!("{}: {}", self.dir.display(), f.message),
            };
            let _ = writeln!(
                out,
                "::{} {}::{}",
                f.severity.as_str(),
                props.join(","),
                github_data(&message)
            );
        }
        let _ = writeln!(out, "error-render validate: {}", self.summary_line());
        out
    }
}

impl Report {
    /// A SARIF 2.1.0 log: one run of `error-render`, with every rule
    /// (`id`, descriptions, `help`, default level) and one result per
    /// finding (`level`, `message`, and a `physicalLocation` with the file
    /// and, when known, `region.startLine`/`startColumn`). Relative paths
    /// are URI references with `uriBaseId` [`SARIF_URI_BASE_ID`]; absolute
    /// ones are `file://` URIs. Columns count bytes, as in every report.
    pub fn to_sarif(&self) -> String {
        use serde_json::{Value, json};

        let rules: Vec<Value> = Rule::ALL
            .iter()
            .map(|&rule| {
                let (what, fix) = rule_help(rule);
                json!({
                    "id": rule.as_str(),
                    "name": rule.as_str(),
                    "shortDescription": { "text": what },
                    "fullDescription": { "text": what },
                    "help": { "text": format!("{what} How to fix: {fix}") },
                    "defaultConfiguration": { "level": rule.severity().as_str() },
                })
            })
            .collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let path = self.path_of(f.rule, f.file.as_deref());
                let mut artifact = serde_json::Map::new();
                match sarif_uri(&path) {
                    SarifUri::Relative(uri) => {
                        artifact.insert("uri".into(), uri.into());
                        artifact.insert("uriBaseId".into(), SARIF_URI_BASE_ID.into());
                    }
                    SarifUri::Absolute(uri) => {
                        artifact.insert("uri".into(), uri.into());
                    }
                }
                let mut physical = serde_json::Map::new();
                physical.insert("artifactLocation".into(), Value::Object(artifact));
                if let Some(line) = f.line {
                    let mut region = serde_json::Map::new();
                    region.insert("startLine".into(), line.into());
                    if let Some(column) = f.column {
                        region.insert("startColumn".into(), column.into());
                    }
                    physical.insert("region".into(), Value::Object(region));
                }
                let rule_index = Rule::ALL.iter().position(|&r| r == f.rule);
                let message = match &f.file {
                    Some(_) => f.message.clone(),
                    None => format!("{}: {}", self.dir.display(), f.message),
                };
                json!({
                    "ruleId": f.rule.as_str(),
                    "ruleIndex": rule_index,
                    "level": f.severity.as_str(),
                    "message": { "text": message },
                    "locations": [ { "physicalLocation": Value::Object(physical) } ],
                })
            })
            .collect();
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": SARIF_VERSION,
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "error-render",
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        match serde_json::to_string_pretty(&log) {
            Ok(mut s) => {
                s.push('\n');
                s
            }
            // A json! value of strings and numbers always serialises.
            Err(e) => format!(
                "{{\"version\": \"{SARIF_VERSION}\", \"error\": {:?}}}\n",
                e.to_string()
            ),
        }
    }
}

enum SarifUri {
    Relative(String),
    Absolute(String),
}

/// A path as a SARIF artifact URI: segments percent-encoded, `\\` as `/`.
fn sarif_uri(path: &str) -> SarifUri {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    // Everything a URI path segment cannot carry as is.
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b']')
        .add(b'\\')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let path = path.replace('\\', "/");
    let encoded: Vec<String> = path
        .split('/')
        .map(|seg| utf8_percent_encode(seg, SEGMENT).to_string())
        .collect();
    let joined = encoded.join("/");
    if path.starts_with('/') {
        SarifUri::Absolute(format!("file://{joined}"))
    } else {
        // A first segment with a colon would read as a URI scheme.
        let joined = joined.strip_prefix("./").unwrap_or(&joined).to_owned();
        let joined = match joined.split('/').next() {
            Some(first) if first.contains(':') => format!("./{joined}"),
            _ => joined,
        };
        SarifUri::Relative(joined)
    }
}

/// What a rule means and how to fix it (the documentation's rules table).
fn rule_help(rule: Rule) -> (&'static str, &'static str) {
    match rule {
        Rule::ParseError => (
            "A Go template does not parse, cannot be read, or is a folder named error*: the gateway refuses to start.",
            "Fix the syntax at the line and column given; rename the folder.",
        ),
        Rule::NoTemplates => (
            "No file in the folder starts with `error`: the gateway refuses to start.",
            "Add error.json (and error.xml).",
        ),
        Rule::MissingErrorJson => (
            "No error.json: the gateway drops the connection of every request that finds no more specific template.",
            "Add error.json.",
        ),
        Rule::ExecError => (
            "A template fails while rendering: the gateway sends a truncated or empty body.",
            "Fix the action at the line given.",
        ),
        Rule::InvalidJson => (
            "A .json template's output is not valid JSON for some case.",
            "Quote {{.Message}} in a JSON string; add error.xml.",
        ),
        Rule::InvalidXml => (
            "A .xml template's output is not well-formed XML.",
            "Balance the tags; write &amp; for &; keep one root element.",
        ),
        Rule::TeraError => (
            "A .tera template (page, layout or include) does not load: error-render refuses the set, and a reload keeps the last good one. The gateway never reads .tera files.",
            "Fix the Tera syntax at the line and column given.",
        ),
        Rule::InvalidHtml => (
            "An HTML page's output has HTML5 parse errors (a stray or unclosed tag, no doctype, a bare & before a name), found by html5ever.",
            "Fix the markup on the line of the output given; start with <!DOCTYPE html>.",
        ),
        Rule::NotUtf8 => (
            "A template that is not valid UTF-8: the gateway and error-render load it and send its bytes as they are, so clients get a body that is not UTF-8.",
            "Save the file as UTF-8.",
        ),
        Rule::NonTykField => (
            "A template the classic handler runs uses a field other than .Message: on the gateway the response is cut off there.",
            "Use only .Message, or keep the template for error-render only.",
        ),
        Rule::UnknownCodeTemplate => (
            "An error_<code> template that is never used (leading zeros, outside 100-599, or a status the gateway never templates).",
            "Rename it (error_401.json) or remove it.",
        ),
        Rule::MissingErrorXml => (
            "There are error_<code>.xml templates but no error.xml: XML requests for other statuses get error.json.",
            "Add error.xml.",
        ),
        Rule::HtmlRewrite => (
            "html/template (the gateway's JSON engine) changes the template's text (comments removed, a stray < escaped).",
            "Remove the comment; avoid the <.",
        ),
        Rule::TemplateWithoutData => (
            "{{template \"name\"}} without data calls a template that reads fields: its .Message is empty on the gateway.",
            "Pass the data on: {{template \"name\" .}}.",
        ),
        Rule::Profile514InvalidJson => (
            "JSON that only the Tyk 4.0-5.14 escaping breaks (an apostrophe becomes \\').",
            "Reword the override message; upgrade to 5.15/5.13.2.",
        ),
        Rule::NotLoadedByGateway => (
            "A file that looks like a template but does not start with `error`, so the gateway ignores it.",
            "Rename it as suggested (Error.json to error.json, 401.json to error_401.json).",
        ),
        Rule::EditorLeftover => (
            "An editor backup, swap or lock file: the gateway loads the ones starting with error.",
            "Delete it.",
        ),
        Rule::OverrideUnknownId => (
            "An override_messages ID the gateway does not have, so it is ignored.",
            "Use one of the gateway's 11 error IDs (the message lists them).",
        ),
        Rule::OverrideCodeRange => (
            "An override code outside 100-599.",
            "Use an HTTP error status.",
        ),
        Rule::OverrideEmpty => (
            "An override with neither a code nor a message: it changes nothing.",
            "Set one, or remove the entry.",
        ),
        Rule::OverrideType => (
            "An override value of the wrong type (for example code: \"401\"): the gateway refuses to start.",
            "Fix the type at the line given.",
        ),
        Rule::OverrideUnknownField => (
            "An override field other than code and message (a typo such as mesage): the gateway ignores it.",
            "Fix the field name.",
        ),
        Rule::ErrorOverrideKey => (
            "An error_overrides key the gateway skips (not a status such as 403 or a class such as 4xx), two keys for one status (the gateway keeps one at random), or a rules file that does not load.",
            "Write the key as 403 or 4xx (lower-case x); merge duplicate keys; fix the file at the line given.",
        ),
        Rule::ErrorOverridePattern => (
            "A message_pattern Go's RE2 rejects (look-ahead, back-references, a syntax error): the gateway skips the rule.",
            "Fix the pattern; RE2 has no look-around or back-references.",
        ),
        Rule::ErrorOverrideTemplate => (
            "An inline body template that does not parse: the gateway skips the rule.",
            "Fix the template syntax in the body.",
        ),
        Rule::ErrorOverrideMissingTemplate => (
            "A rule names a template that is not loaded (or a message-only rule finds no error.<ext> upstream): the gateway panics and drops the connection.",
            "Add the template file (its name must start with error) or fix the name.",
        ),
        Rule::ErrorOverrideLiteralBody => (
            "A body that looks like a template but has no {{. (a space or trim marker after the braces): the gateway sends it literally.",
            "Write {{.Message}} with no space after the braces.",
        ),
        Rule::ErrorOverrideShadowed => (
            "A rule after a rule without match criteria in the same list: it is never used.",
            "Move the catch-all rule last, or give it criteria.",
        ),
        Rule::ErrorOverrideUnknownFlag => (
            "A match flag the gateway never sets (flags are compared as written): the rule never matches by flag.",
            "Use one of the gateway's flags (AKI, RLT, QEX, URS ...).",
        ),
        Rule::ErrorOverrideStatus => (
            "A status_code outside 100-999: the gateway's WriteHeader panics and the connection is dropped (on the upstream path only above 999; 0 and below keep the upstream status).",
            "Use a status_code of 100-599, or 0 to keep the original.",
        ),
        Rule::ErrorOverrideIgnoredMessages => (
            "override_messages in a tyk.conf that has error_overrides: that is a 5.13+ gateway, which does not apply override_messages (error-render ignores them too unless ignore_overrides: false is set explicitly).",
            "Move the messages into error_overrides rules (a message-only rule per code), or remove them.",
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `line:column`, `line`, or `-`.
fn location(f: &Finding) -> String {
    match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => l.to_string(),
        _ => "-".to_owned(),
    }
}

fn location_or_file(path: &str, f: &Finding) -> String {
    match f.line {
        Some(_) => format!("{path}:{}", location(f)),
        None => path.to_owned(),
    }
}

/// Escapes text for XML content and attributes; characters XML cannot
/// carry become U+FFFD so the report always parses.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if super::wellformed::is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Escapes a workflow command's message.
fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(findings: Vec<Finding>) -> Report {
        let mut r = Report {
            dir: "templates/".into(),
            overrides: None,
            findings,
            checks: vec![],
        };
        r.sort();
        r
    }

    #[test]
    fn exit_codes() {
        let w = Finding::new(Rule::HtmlRewrite, Some("error.json".into()), "w");
        let e = Finding::new(Rule::InvalidJson, Some("error.json".into()), "e");
        assert_eq!(report(vec![]).exit_code(true), 0);
        assert_eq!(report(vec![w.clone()]).exit_code(false), 0);
        assert_eq!(report(vec![w]).exit_code(true), 1);
        assert_eq!(report(vec![e]).exit_code(false), 1);
    }

    #[test]
    fn github_escapes_and_joins_paths() {
        let f = Finding::new(Rule::InvalidJson, Some("error.json".into()), "50% bad\nx")
            .at(Some(2), Some(3));
        let out = report(vec![f]).to_github();
        assert!(
            out.starts_with(
                "::error file=templates/error.json,line=2,col=3,title=invalid-json::50%25 bad%0Ax\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn sarif_uris_are_relative_references_or_file_uris() {
        let uri = |p: &str| match sarif_uri(p) {
            SarifUri::Relative(u) => format!("rel {u}"),
            SarifUri::Absolute(u) => format!("abs {u}"),
        };
        assert_eq!(uri("templates/error.json"), "rel templates/error.json");
        assert_eq!(
            uri("./my templates/error#1.json"),
            "rel my%20templates/error%231.json"
        );
        assert_eq!(uri("c:x/error.json"), "rel ./c:x/error.json");
        assert_eq!(uri("/srv/t/error.json"), "abs file:///srv/t/error.json");
    }

    #[test]
    fn sarif_has_every_rule_and_a_located_result() {
        let f =
            Finding::new(Rule::InvalidJson, Some("error.json".into()), "bad").at(Some(2), Some(3));
        let v: serde_json::Value = serde_json::from_str(&report(vec![f]).to_sarif()).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().unwrap().len(),
            Rule::ALL.len()
        );
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], "invalid-json");
        assert_eq!(result["level"], "error");
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "templates/error.json");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 2);
        assert_eq!(loc["region"]["startColumn"], 3);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "invalid-json");
    }

    #[test]
    fn sorted_by_file_line_column_rule() {
        let a = Finding::new(Rule::NonTykField, Some("b.json".into()), "x").at(Some(2), None);
        let b = Finding::new(Rule::ExecError, Some("b.json".into()), "x").at(Some(2), None);
        let c = Finding::new(Rule::MissingErrorJson, None, "x");
        let r = report(vec![a, b, c]);
        let rules: Vec<Rule> = r.findings.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [Rule::MissingErrorJson, Rule::ExecError, Rule::NonTykField]
        );
    }
}
