//! `validate` on Error Overrides rules: a tyk.conf and an API folder with
//! one mistake of each kind, reported with file, line and rule (golden).

use std::path::Path;

use error_render::validate::{ValidateOptions, validate};

#[test]
fn every_rule_mistake_is_found_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::write(
        dir.path().join("tyk.conf"),
        r#"{
  "app_path": "apps",
  "error_overrides": {
    "4XX": [{"response": {"body": "x"}}],
    "403": [{"response": {"body": "all"}}, {"match": {"flag": "AKI"}, "response": {"body": "never"}}],
    "401": [{"match": {"message_pattern": "(?=x)"}, "response": {"body": "x"}}],
    "400": [{"match": {"flag": "aki"}, "response": {"body": "{{ .Message }}"}}],
    "500": [{"match": {"flag": "URS"}, "response": {"template": "error_nope"}}],
    "502": [{"match": {"flag": "URS"}, "response": {"body": "{{.Message"}}],
    "503": [{"match": {"flag": "URS"}, "response": {"status_code": 1000, "body": "x"}}]
  }
}
"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("apps")).unwrap();
    std::fs::write(
        dir.path().join("apps/api.yaml"),
        "x-tyk-api-gateway:\n  info:\n    id: a\n  errorOverrides:\n    enabled: true\n    value:\n      \"0403\":\n        - response:\n            body: ok\n      \"403\":\n        - response:\n            body: ok\n",
    )
    .unwrap();
    // The API folder is the tyk.conf's app_path.
    let report = validate(&ValidateOptions {
        tyk_conf: Some(dir.path().join("tyk.conf")),
        ..ValidateOptions::new(&templates)
    })
    .unwrap();
    let got: Vec<(String, String, Option<usize>)> = report
        .findings
        .iter()
        .filter(|f| f.rule.as_str().starts_with("error-override"))
        .map(|f| {
            let file = Path::new(f.file.as_deref().unwrap_or(""))
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (f.rule.as_str().to_owned(), file, f.line)
        })
        .collect();
    let want: Vec<(String, String, Option<usize>)> = [
        ("error-override-key", "api.yaml", Some(10)),
        ("error-override-key", "tyk.conf", Some(4)),
        ("error-override-unknown-flag", "tyk.conf", Some(7)),
        ("error-override-literal-body", "tyk.conf", Some(7)),
        ("error-override-pattern", "tyk.conf", Some(6)),
        ("error-override-shadowed", "tyk.conf", Some(5)),
        ("error-override-missing-template", "tyk.conf", Some(8)),
        ("error-override-template", "tyk.conf", Some(9)),
        ("error-override-status", "tyk.conf", Some(10)),
    ]
    .into_iter()
    .map(|(r, f, l)| (r.to_owned(), f.to_owned(), l))
    .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted, "{:#?}", report.findings);
    let missing = report
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "error-override-missing-template")
        .unwrap();
    assert!(
        missing.message.contains("drops the connection"),
        "{}",
        missing.message
    );
}
