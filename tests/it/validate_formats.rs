//! `error-render validate` over error-render's own formats (#12): `.tera`
//! files that do not load, pages whose output is not what their format
//! promises (problem details and Tera JSON as JSON, HTML by an HTML5
//! parser), the `formats` setting, templates that are not UTF-8, and the
//! bundled folder and themes staying clean. Real folders, the real binary
//! and the library.

use std::path::Path;

use error_render::Format;
use error_render::validate::{Rule, Severity, ValidateOptions, validate};
use serde_json::Value;

use crate::common::{bin, run, templates};

/// A folder holding the bundled `error.json` and `error.xml` and `files`.
fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for name in ["error.json", "error.xml"] {
        std::fs::copy(templates().join(name), dir.path().join(name)).expect("copy a template");
    }
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write a template");
    }
    dir
}

/// A finding of the JSON report: rule, file, line, column.
type Found = (String, String, Value, Value);

/// `validate DIR --format json ARGS`: the exit code, the findings, and the
/// whole report.
fn json_findings(dir: &Path, args: &[&str]) -> (i32, Vec<Found>, Value) {
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg(dir)
        .args(["--format", "json"])
        .args(args)
        .env_remove("ERROR_RENDER_FORMATS")
        .env_remove("ERROR_RENDER_CONFIG"));
    let report: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\nstderr: {err}"));
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["file"].as_str().unwrap_or_default().to_owned(),
                f["line"].clone(),
                f["column"].clone(),
            )
        })
        .collect();
    (code, findings, report)
}

const GOOD_PAGE: &[u8] = b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{{ StatusCode }}</title></head>\n<body><h1>{{ Title }}</h1><p>{{ Message }}</p></body></html>\n";

#[test]
fn a_broken_tera_file_is_named_with_line_and_column_in_text_and_sarif() {
    // Two broken files: each is reported, not only the first.
    let dir = folder(&[
        ("404.html.tera", b"<!DOCTYPE html>\n<p>{% if x %}open\n"),
        ("layout.tera", b"<!DOCTYPE html>\n\n  {{ Message \n"),
    ]);
    let (code, found, _) = json_findings(dir.path(), &[]);
    assert_eq!(code, 1, "{found:?}");
    let tera: Vec<_> = found.iter().filter(|f| f.0 == "tera-error").collect();
    assert_eq!(tera.len(), 2, "{found:?}");
    assert_eq!(tera[0].1, "404.html.tera");
    assert_eq!((&tera[0].2, &tera[0].3), (&Value::from(3), &Value::from(1)));
    assert_eq!(tera[1].1, "layout.tera");
    assert!(tera[1].2.is_u64() && tera[1].3.is_u64(), "{found:?}");

    let (code, text, _) = run(bin().arg("validate").arg(dir.path()));
    assert_eq!(code, 1);
    assert!(
        text.contains("404.html.tera\n  3:1  error    tera-error"),
        "{text}"
    );

    let (_, sarif, _) = run(bin()
        .arg("validate")
        .arg(dir.path())
        .args(["--format", "sarif"]));
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    let run0 = &sarif["runs"][0];
    let ids: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for id in ["tera-error", "invalid-html", "not-utf8"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let result = run0["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "tera-error")
        .expect("a tera-error result");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(3), Some(1))
    );
}

#[test]
fn a_problem_page_that_is_not_json_is_invalid_json() {
    let dir = folder(&[(
        "default.problem.json.tera",
        // The message printed bare: JSON-escaped content, but no quotes.
        b"{\"title\": \"{{ Title }}\", \"detail\": {{ Message }}}",
    )]);
    let report = validate(&ValidateOptions::new(dir.path())).expect("validate runs");
    let f: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == Rule::InvalidJson)
        .collect();
    assert_eq!(f.len(), 1, "{}", report.to_human(false));
    assert_eq!(f[0].file.as_deref(), Some("default.problem.json.tera"));
    assert!(f[0].message.contains(", problem"), "{}", f[0].message);
    // A Tera JSON page is judged the same way.
    let dir = folder(&[("4xx.json.tera", b"{\"error\": {{ Message }}}")]);
    let (code, found, _) = json_findings(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "invalid-json" && f.1 == "4xx.json.tera"),
        "{found:?}"
    );
}

#[test]
fn an_html_page_that_is_not_well_formed_is_invalid_html() {
    let dir = folder(&[
        (
            "404.html.tera",
            b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>x</title></head>\n<body>\n\
              <p>{{ Message }}</div>\n</body></html>\n",
        ),
        ("default.html.tera", GOOD_PAGE),
    ]);
    let (code, found, report) = json_findings(dir.path(), &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        found
            .iter()
            .map(|f| (f.0.as_str(), f.1.as_str()))
            .collect::<Vec<_>>(),
        [("invalid-html", "404.html.tera")],
        "{report}"
    );
    let message = report["findings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("line 4 of the output"), "{message}");
}

#[test]
fn formats_json_and_xml_skip_the_new_formats() {
    let dir = folder(&[(
        "default.html.tera",
        b"<p>no doctype, {{ Message }}</div>".as_slice(),
    )]);
    let (code, found, _) = json_findings(dir.path(), &[]);
    assert_eq!((code, found.len()), (1, 1), "{found:?}");

    let config = dir.path().join("error-render.yaml");
    std::fs::write(&config, "formats: [json, xml]\n").expect("write the config");
    let (code, found, _) =
        json_findings(dir.path(), &["--config", config.to_str().expect("UTF-8")]);
    assert_eq!((code, found), (0, vec![]));
    // The environment variable, as for the service.
    let (code, out, _) = run(bin()
        .arg("validate")
        .arg(dir.path())
        .env("ERROR_RENDER_FORMATS", "json,xml,text")
        .env_remove("ERROR_RENDER_CONFIG"));
    assert_eq!(code, 0, "{out}");
    // And the library's option.
    let report = validate(&ValidateOptions {
        formats: vec![Format::Json, Format::Xml],
        ..ValidateOptions::new(dir.path())
    })
    .expect("validate runs");
    assert_eq!(report.findings, []);
}

#[test]
fn a_template_that_is_not_utf8_is_a_warning_and_still_checked() {
    // Loaded as the gateway loads it: its other problem is found too.
    let dir = folder(&[(
        "error_401.json",
        b"{\"a\": \"\xff\", \"code\": \"{{.StatusCode}}\"}".as_slice(),
    )]);
    let (code, found, _) = json_findings(dir.path(), &[]);
    assert_eq!(code, 0, "{found:?}");
    assert_eq!(
        found,
        [
            (
                "not-utf8".to_owned(),
                "error_401.json".to_owned(),
                Value::from(1),
                Value::from(8)
            ),
            (
                "non-tyk-field".to_owned(),
                "error_401.json".to_owned(),
                Value::from(1),
                // Go's column: bytes, the one that is not UTF-8 counted once.
                Value::from(23)
            ),
        ]
    );
    let report = validate(&ValidateOptions::new(dir.path())).expect("validate runs");
    assert_eq!(report.findings[0].severity, Severity::Warning);
    assert!(report.findings[0].message.contains("not UTF-8"));
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let dir = folder(&[
        ("400.html.tera", b"<p>{{ Message }}</span>".as_slice()),
        ("default.html.tera", GOOD_PAGE),
        ("default.problem.json.tera", b"{\"detail\": {{ Message }}}"),
        ("default.txt.tera", b"{{ StatusCode }}\n{{ Nope }}\n"),
        ("5xx.txt.tera", b"{% for %}"),
        ("error_404.xml", b"<error>{{.Message}}</oops>"),
    ]);
    let (code, found, report) = json_findings(dir.path(), &[]);
    assert_eq!(code, 1);
    let got: Vec<(&str, &str, &Value)> = found
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), &f.2))
        .collect();
    assert_eq!(
        got,
        [
            ("invalid-html", "400.html.tera", &Value::Null),
            ("tera-error", "5xx.txt.tera", &Value::from(1)),
            ("invalid-json", "default.problem.json.tera", &Value::Null),
            ("exec-error", "default.txt.tera", &Value::from(2)),
            ("invalid-xml", "error_404.xml", &Value::Null),
        ],
        "{report}"
    );
    // A Tera render error is placed at its column too (`{{ Nope }}` on line 2).
    let exec = found
        .iter()
        .find(|f| f.0 == "exec-error")
        .expect("exec-error");
    assert_eq!(exec.3, Value::from(4), "{report}");
}

#[test]
fn the_bundled_templates_and_every_theme_stay_clean() {
    // As CI runs it.
    let (code, out, err) = run(bin()
        .args(["validate", "templates/"])
        .env_remove("ERROR_RENDER_FORMATS")
        .env_remove("ERROR_RENDER_CONFIG"));
    assert_eq!(code, 0, "{out}{err}");
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/themes");
    let mut seen = 0;
    for theme in std::fs::read_dir(&themes).expect("examples/themes") {
        let theme = theme.expect("a theme").path();
        if !theme.is_dir() {
            continue;
        }
        let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&theme)
            .expect("a theme folder")
            .map(|e| {
                let p = e.expect("a file").path();
                let name = p
                    .file_name()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&p).expect("read"))
            })
            .filter(|(n, _)| n.ends_with(".tera"))
            .collect();
        let borrowed: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let dir = folder(&borrowed);
        let (code, found, _) = json_findings(dir.path(), &[]);
        assert_eq!((code, found), (0, vec![]), "{}", theme.display());
        seen += 1;
    }
    assert!(seen >= 3, "{seen} themes");
}

#[test]
fn the_rules_table_in_docs_lists_every_rule() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/validate.md"))
            .expect("docs/validate.md");
    for rule in Rule::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", rule.as_str())),
            "docs/validate.md's rules table lacks {rule}"
        );
    }
}

/// The findings `/status` shows once the background lint of the first
/// generation is done (awaited on the store, not polled).
async fn status_findings(yaml: &str, files: &[(&str, &str)]) -> Value {
    use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
    let mut all = vec![
        ("error.json", BUNDLED_ERROR_JSON),
        ("error.xml", BUNDLED_ERROR_XML),
    ];
    all.extend_from_slice(files);
    let s = crate::common::TestServer::start(yaml, &all, false).await;
    let mut linted = s.state.store.subscribe_findings();
    while s.state.store.findings().is_none() {
        linted.changed().await.expect("the lint thread runs");
    }
    let status: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .get(s.url("/status"))
        .send()
        .await
        .expect("GET /status")
        .json()
        .await
        .expect("JSON");
    status["findings"].clone()
}

#[tokio::test]
async fn status_lints_tera_pages_only_in_the_configured_formats() {
    let broken_html = [("default.html.tera", "<p>no doctype, {{ Message }}</div>")];
    // Every format (the default): the page is a finding.
    let findings = status_findings("", &broken_html).await;
    assert_eq!(findings[0]["rule"], "invalid-html", "{findings}");
    // A service that never serves HTML does not report its HTML page.
    let findings = status_findings("formats: [json, xml]\n", &broken_html).await;
    assert_eq!(findings, serde_json::json!([]));
}
