//! `error-render validate` end to end: one fixture folder per problem with
//! the findings and exit code it must give, the real binary's exit codes and
//! report formats (JUnit parsed as XML), and golden human and JSON reports.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use error_render::set::TemplateFile;
use error_render::validate::{
    Finding, Report, Rule, Severity, ValidateError, ValidateOptions, lint_renderer, lint_set,
    validate,
};
use error_render::{Profile, RenderOptions, Renderer, TemplateSet};
use quick_xml::events::Event;

const FIXTURES: &str = "tests/fixtures/validate";

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn run_lib(opts: ValidateOptions) -> Report {
    validate(&opts).unwrap_or_else(|e| panic!("validate failed to run: {e}"))
}

/// (rule, file, line) of every finding, in report order.
fn summary(report: &Report) -> Vec<(&'static str, Option<&str>, Option<usize>)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.file.as_deref(), f.line))
        .collect()
}

fn check(name: &str, expected: &[(&str, Option<&str>, Option<usize>)], exit: u8) -> Report {
    let report = run_lib(ValidateOptions::new(fixture(name)));
    assert_eq!(
        summary(&report),
        expected,
        "{name}:\n{}",
        report.to_human(false)
    );
    assert_eq!(report.exit_code(false), exit, "{name}");
    report
}

#[test]
fn clean_set_has_no_findings() {
    let report = check("clean", &[], 0);
    assert_eq!((report.errors(), report.warnings()), (0, 0));
    assert!(!report.checks.is_empty());
}

#[test]
fn bundled_templates_are_clean() {
    let report = run_lib(ValidateOptions::new("templates"));
    assert_eq!(report.findings, []);
    let strict = run_lib(ValidateOptions {
        strict: true,
        ..ValidateOptions::new("templates")
    });
    assert_eq!(strict.exit_code(true), 0);
}

#[test]
fn every_file_that_fails_to_parse_is_reported_with_place() {
    let report = check(
        "parse-errors",
        &[
            ("parse-error", Some("error.json"), Some(3)),
            ("parse-error", Some("error_401.json"), Some(1)),
            ("parse-error", Some("error_403.xml"), Some(2)),
        ],
        1,
    );
    assert!(report.findings.iter().all(|f| f.column.is_some()));
    assert!(report.findings[2].message.contains("\"shout\" not defined"));
}

#[test]
fn folder_without_templates() {
    check("no-templates", &[("no-templates", None, None)], 1);
}

#[test]
fn set_without_error_json() {
    check(
        "missing-error-json",
        &[("missing-error-json", None, None)],
        1,
    );
}

#[test]
fn exec_error_names_template_line_and_case() {
    let report = check(
        "exec-error",
        &[
            ("exec-error", Some("error_403.json"), Some(3)),
            ("non-tyk-field", Some("error_403.json"), Some(3)),
        ],
        1,
    );
    let exec = &report.findings[0];
    assert_eq!(exec.column, Some(16));
    assert!(
        exec.message.contains("can't evaluate field Hint"),
        "{}",
        exec.message
    );
    assert!(
        exec.message.contains("catalogue entry 403-"),
        "{}",
        exec.message
    );
}

#[test]
fn json_template_giving_invalid_json() {
    let report = check(
        "invalid-json",
        &[("invalid-json", Some("error.json"), None)],
        1,
    );
    let m = &report.findings[0].message;
    assert!(m.contains("⟨here⟩Access to this API"), "{m}");
    assert!(m.contains("more cases fail the same way"), "{m}");
}

#[test]
fn xml_template_giving_malformed_xml() {
    let report = check(
        "invalid-xml",
        &[("invalid-xml", Some("error.xml"), None)],
        1,
    );
    assert!(report.findings[0].message.contains("`</message>`"));
}

#[test]
fn non_tyk_field_is_a_warning_and_an_error_under_strict() {
    check(
        "non-tyk-field",
        &[("non-tyk-field", Some("error.json"), Some(3))],
        0,
    );
    let strict = run_lib(ValidateOptions {
        strict: true,
        ..ValidateOptions::new(fixture("non-tyk-field"))
    });
    assert_eq!(strict.findings[0].severity, Severity::Error);
    assert_eq!(strict.exit_code(true), 1);
}

#[test]
fn per_code_templates_the_gateway_never_uses() {
    let report = check(
        "unknown-code-template",
        &[
            ("unknown-code-template", Some("error_0401.json"), None),
            ("unknown-code-template", Some("error_418.json"), None),
            ("unknown-code-template", Some("error_700.xml"), None),
        ],
        0,
    );
    assert!(report.findings[0].message.contains("error_401.json"));
    assert!(report.findings[2].message.contains("outside 100-599"));
}

#[test]
fn xml_templates_without_error_xml() {
    // Without error.xml, XML requests for other statuses get error.json
    // rendered the XML way, whose raw backslashes break the JSON.
    let report = check(
        "missing-error-xml",
        &[
            ("missing-error-xml", None, None),
            ("invalid-json", Some("error.json"), None),
        ],
        1,
    );
    assert!(
        report.findings[1]
            .message
            .contains("fell back to error.json")
    );
}

#[test]
fn html_template_rewrites_are_placed() {
    let report = check(
        "html-rewrite",
        &[
            ("html-rewrite", Some("error.json"), Some(1)),
            ("html-rewrite", Some("error_429.json"), Some(3)),
        ],
        0,
    );
    assert!(report.findings[0].message.contains("HTML comment"));
    assert!(report.findings[1].message.contains("&lt;= 3"));
}

#[test]
fn files_the_gateway_would_not_load() {
    let report = check(
        "not-loaded",
        &[
            ("not-loaded-by-gateway", Some("403.json"), None),
            ("not-loaded-by-gateway", Some("Error_401.json"), None),
            ("not-loaded-by-gateway", Some("my_error.xml"), None),
        ],
        0,
    );
    assert!(report.findings[0].message.contains("error_403.json"));
    assert!(report.findings[1].message.contains("`error_401.json`"));
}

#[test]
fn editor_leftovers_loaded_or_not() {
    let report = check(
        "editor-leftover",
        &[
            ("editor-leftover", Some(".#error.json"), None),
            ("editor-leftover", Some("error.json.bak"), None),
            ("editor-leftover", Some("error.json~"), None),
        ],
        0,
    );
    assert!(report.findings[0].message.contains("ignores it"));
    assert!(report.findings[1].message.contains("the gateway loads it"));
}

fn with_overrides(file: &str) -> Result<Report, ValidateError> {
    validate(&ValidateOptions {
        overrides: Some(fixture("overrides").join(file)),
        ..ValidateOptions::new(fixture("clean"))
    })
}

#[test]
fn override_problems_with_file_and_line() {
    let report = with_overrides("problems.yaml").unwrap();
    let file = fixture("overrides")
        .join("problems.yaml")
        .display()
        .to_string();
    let f = Some(file.as_str());
    assert_eq!(
        summary(&report),
        [
            ("override-unknown-id", f, Some(5)),
            ("override-code-range", f, Some(8)),
            ("override-empty", f, Some(9)),
            ("override-empty", f, Some(10)),
            ("override-unknown-field", f, Some(11)),
        ]
    );
    assert_eq!(report.exit_code(false), 1);
    // Paths of override findings are shown as given, not joined to DIR.
    assert!(report.to_human(false).starts_with(&format!("{file}\n")));
}

#[test]
fn override_of_the_wrong_type() {
    let report = with_overrides("wrong-type.yaml").unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule, Rule::OverrideType);
    assert_eq!(report.findings[0].line, Some(2));
}

#[test]
fn override_file_not_parseable_cannot_run() {
    assert!(matches!(
        with_overrides("broken.yaml"),
        Err(ValidateError::Overrides(_))
    ));
    let missing = with_overrides("absent.yaml").unwrap_err().to_string();
    assert!(missing.contains("absent.yaml"), "{missing}");
}

#[test]
fn override_message_that_only_5_14_breaks() {
    let report = with_overrides("apostrophe.yaml").unwrap();
    assert_eq!(
        summary(&report),
        [("profile-5-14-invalid-json", Some("error.json"), None)]
    );
    assert!(report.findings[0].message.contains("auth.key_not_found"));
    assert_eq!(report.exit_code(false), 0);
}

#[test]
fn tyk_conf_override_messages_are_checked() {
    let report = validate(&ValidateOptions {
        tyk_conf: Some(fixture("overrides").join("tyk.conf")),
        ..ValidateOptions::new(fixture("clean"))
    })
    .unwrap();
    assert_eq!(
        report
            .findings
            .iter()
            .map(|f| (f.rule, f.line))
            .collect::<Vec<_>>(),
        [(Rule::OverrideUnknownId, Some(6))]
    );
}

#[test]
fn profile_5_14_reports_what_that_release_produces() {
    let report = run_lib(ValidateOptions {
        profile: Profile::V5_14,
        ..ValidateOptions::new(fixture("clean"))
    });
    // The apostrophe is the release's escaping (a warning); raw `<` and `&`
    // in XML are what 5.14 sends (an error, fixable with CDATA).
    assert_eq!(
        summary(&report),
        [
            ("profile-5-14-invalid-json", Some("error.json"), None),
            ("invalid-xml", Some("error.xml"), None),
        ]
    );
    assert!(report.findings[1].message.contains("CDATA"));
}

#[test]
fn cannot_run_on_missing_folder_or_file() {
    assert!(matches!(
        validate(&ValidateOptions::new(fixture("absent"))),
        Err(ValidateError::DirNotFound { .. })
    ));
    assert!(matches!(
        validate(&ValidateOptions::new(fixture("clean").join("error.json"))),
        Err(ValidateError::NotADir { .. })
    ));
}

#[test]
fn non_utf8_file_and_folder_named_error() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["error.json", "error.xml"] {
        std::fs::copy(Path::new("templates").join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("error_401.json"), b"{\"a\": \"\xff\"}").unwrap();
    std::fs::create_dir(dir.path().join("error_archive")).unwrap();
    let report = run_lib(ValidateOptions::new(dir.path()));
    assert_eq!(
        summary(&report),
        [
            ("not-utf8", Some("error_401.json"), Some(1)),
            ("parse-error", Some("error_archive"), None),
        ]
    );
    assert_eq!(report.findings[0].column, Some(8));
}

#[test]
fn findings_are_sorted_and_stable() {
    let a = run_lib(ValidateOptions::new(fixture("several")));
    let b = run_lib(ValidateOptions::new(fixture("several")));
    assert_eq!(a, b);
    let keys: Vec<_> = a
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.line, f.column, f.rule.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

fn file(name: &str, text: &str) -> TemplateFile {
    TemplateFile {
        name: name.into(),
        text: text.into(),
    }
}

fn lint(files: &[(&str, &str)]) -> Vec<Finding> {
    let set = TemplateSet::from_files(files.iter().map(|(n, t)| file(n, t))).unwrap();
    lint_set(&set, &RenderOptions::default())
}

#[test]
fn lint_set_on_loaded_sets() {
    let bundled = TemplateSet::load("templates").unwrap();
    assert_eq!(lint_set(&bundled, &RenderOptions::default()), []);
    let renderer = Renderer::new(Arc::new(bundled), RenderOptions::default());
    assert_eq!(lint_renderer(&renderer), []);

    let found = lint(&[
        (
            "error.json",
            "{\"error\": \"{{.Message}}\", \"code\": {{.StatusCode}}}",
        ),
        ("error.xml", "<error>{{.Message}}</error>"),
        ("error.json~", "{{.Message}}"),
    ]);
    let rules: Vec<Rule> = found.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [Rule::NonTykField, Rule::EditorLeftover],
        "{found:?}"
    );
    // An unbalanced block no longer loads at all, as on the gateway.
    assert!(TemplateSet::from_files([file("error.json", "{{if .Message}}")]).is_err());
}

#[test]
fn xml_well_formedness_through_renders() {
    let xml = |text: &str| {
        lint(&[
            ("error.json", "{\"error\": \"{{.Message}}\"}"),
            ("error.xml", text),
        ])
        .iter()
        .map(|f| f.rule)
        .collect::<Vec<_>>()
    };
    assert_eq!(xml("<a>& {{.Message}}</a>"), [Rule::InvalidXml]);
    assert_eq!(xml("<a><b>{{.Message}}</a>"), [Rule::InvalidXml]);
    assert_eq!(xml("<a>{{.Message}}</a><b/>"), [Rule::InvalidXml]);
    assert_eq!(
        xml("<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>{{.Message}}</error>\n"),
        []
    );
}

// The binary.

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_error-render"))
        .arg("validate")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run error-render")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

#[test]
fn binary_exit_codes() {
    let clean = fixture("clean");
    let clean = clean.to_str().unwrap();
    assert_eq!(code(&bin(&[clean])), 0);
    assert_eq!(code(&bin(&["templates/"])), 0);
    assert_eq!(code(&bin(&[fixture("invalid-json").to_str().unwrap()])), 1);
    let warn_only = fixture("non-tyk-field");
    assert_eq!(code(&bin(&[warn_only.to_str().unwrap()])), 0);
    assert_eq!(code(&bin(&[warn_only.to_str().unwrap(), "--strict"])), 1);
    let missing = bin(&[fixture("absent").to_str().unwrap()]);
    assert_eq!(code(&missing), 2);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such folder"));
    let broken = fixture("overrides").join("broken.yaml");
    assert_eq!(
        code(&bin(&[clean, "--overrides", broken.to_str().unwrap()])),
        2
    );
    let conf = fixture("overrides").join("tyk.conf");
    let both = bin(&[
        clean,
        "--overrides",
        broken.to_str().unwrap(),
        "--tyk-conf",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(code(&both), 2);
    assert_eq!(
        code(&bin(&[clean, "--tyk-conf", conf.to_str().unwrap()])),
        1
    );
    assert_eq!(code(&bin(&[clean, "--profile", "5.14"])), 1);
}

#[test]
fn binary_human_report_has_no_colour_when_piped() {
    let out = bin(&[fixture("several").to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(!text.contains('\x1b'));
    assert!(
        text.ends_with("9 problems (3 errors, 6 warnings)\n"),
        "{text}"
    );
}

#[test]
fn binary_json_report_follows_the_schema() {
    let out = bin(&[
        fixture("several").to_str().unwrap(),
        "--format",
        "json",
        "--strict",
    ]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["dir", "findings", "summary", "version"]);
    assert_eq!(v["version"], 1);
    assert_eq!(v["dir"], "tests/fixtures/validate/several");
    assert_eq!(v["summary"]["errors"], 9);
    assert_eq!(v["summary"]["warnings"], 0);
    for f in v["findings"].as_array().unwrap() {
        let mut keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["column", "file", "line", "message", "rule", "severity"]
        );
        assert_eq!(f["severity"], "error");
        assert!(Rule::from_id(f["rule"].as_str().unwrap()).is_some(), "{f}");
    }
}

/// Counts of a JUnit report: (testcases, failures, suite's tests, suite's
/// failures).
fn junit_counts(xml: &str) -> (usize, usize, usize, usize) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut cases, mut failures, mut tests_attr, mut failures_attr) = (0, 0, 0, 0);
    loop {
        match reader.read_event().expect("JUnit is well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| -> usize {
                    e.try_get_attribute(name)
                        .unwrap()
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .parse()
                                .unwrap()
                        })
                        .unwrap_or(0)
                };
                match e.name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    "testsuite" => {
                        tests_attr = attr("tests");
                        failures_attr = attr("failures");
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (cases, failures, tests_attr, failures_attr)
}

#[test]
fn binary_junit_report_parses_with_a_case_per_check() {
    let dir = fixture("several");
    let out = bin(&[dir.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(code(&out), 1);
    let (cases, failures, tests_attr, failures_attr) = junit_counts(&stdout(&out));
    let report = run_lib(ValidateOptions::new(&dir));
    let failing: std::collections::BTreeSet<_> = report
        .findings
        .iter()
        .map(|f| (f.rule, f.file.clone()))
        .collect();
    assert_eq!(failures, failing.len());
    assert_eq!((tests_attr, failures_attr), (cases, failures));
    assert!(cases > failures, "passing checks are test cases too");

    let clean = bin(&[fixture("clean").to_str().unwrap(), "--format", "junit"]);
    assert_eq!(code(&clean), 0);
    let (cases, failures, _, _) = junit_counts(&stdout(&clean));
    assert_eq!(failures, 0);
    assert_eq!(
        cases,
        run_lib(ValidateOptions::new(fixture("clean"))).checks.len()
    );
}

#[test]
fn binary_github_annotations() {
    let out = bin(&[fixture("several").to_str().unwrap(), "--format", "github"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "{text}");
    assert!(
        lines[0]
            .starts_with("::warning title=missing-error-xml::tests/fixtures/validate/several: ")
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=tests/fixtures/validate/several/error_401.json,line=3,col=5,title=parse-error::"
        )),
        "{text}"
    );
    assert_eq!(
        lines[9],
        "error-render validate: 9 problems (3 errors, 6 warnings)"
    );
}

#[test]
fn golden_human_report() {
    let out = bin(&[fixture("several").to_str().unwrap()]);
    insta::assert_snapshot!("several_human", stdout(&out));
}

#[test]
fn golden_json_report() {
    let out = bin(&[fixture("several").to_str().unwrap(), "--format", "json"]);
    insta::assert_snapshot!("several_json", stdout(&out));
}
