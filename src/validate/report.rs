//! A validation report and its four renderings: human (grouped by file,
//! optionally coloured), JSON (a stable, versioned schema), JUnit XML (one
//! test case per check) and GitHub Actions workflow annotations.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Check, Finding, Rule, Severity};

/// The `version` field of the JSON report. Raised only for changes that
/// break a reader; new rules and new fields do not.
pub const JSON_SCHEMA_VERSION: u32 = 1;

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
