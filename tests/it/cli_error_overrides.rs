//! `error-render render` with Error Overrides, through the binary: the
//! gateway-error and upstream forms, `--json`'s header lines, route and
//! match, and exit 1 when the gateway would drop the connection.

use std::path::Path;
use std::process::Command;

use crate::common::{bin, run, templates};

/// A tyk.conf with gateway rules and an API folder beside it.
fn gateway() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tyk.conf"),
        r#"{"app_path": "apps", "error_overrides": {
            "403": [{"match": {"flag": "QEX"}, "response": {"status_code": 429, "body": "{\"quota\": true}", "headers": {"Retry-After": "60"}}}],
            "4xx": [{"response": {"message": "Denied"}}],
            "5xx": [{"match": {"flag": "URS"}, "response": {"status_code": 503, "template": "error_missing"}}],
            "502": [{"match": {"body_field": "error.code", "body_value": "E1"}, "response": {"body": "mapped", "headers": {"X-Mapped": "yes"}}}]
        }}"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("apps")).unwrap();
    std::fs::write(
        dir.path().join("apps/api.json"),
        r#"{"api_id": "orders", "error_overrides": {"401": [{"response": {"status_code": 418, "body": "api rule"}}]}}"#,
    )
    .unwrap();
    dir
}

fn base(dir: &Path) -> Command {
    let mut cmd = bin();
    cmd.arg("render")
        .arg("--templates")
        .arg(templates())
        .arg("--tyk-conf")
        .arg(dir.join("tyk.conf"));
    cmd
}

#[test]
fn gateway_error_with_flag_matches_the_rule() {
    let dir = gateway();
    let (code, out, err) = run(base(dir.path()).args([
        "--code",
        "403",
        "--message",
        "Quota exceeded",
        "--flag",
        "QEX",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], 429);
    assert_eq!(v["body"], "{\"quota\": true}");
    assert_eq!(v["route"], "direct");
    assert_eq!(
        v["matched"],
        serde_json::json!({"scope": "gateway", "key": "403", "index": 0})
    );
    assert_eq!(v["outcome"], "ok");
    assert!(
        v["header_lines"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["Retry-After", "60"]))
    );
}

#[test]
fn message_only_rule_sends_x_generator_twice() {
    let dir = gateway();
    let (code, out, _) =
        run(base(dir.path()).args(["--code", "404", "--message", "Not here", "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["route"], "message_only_legacy");
    let generators = v["header_lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l[0] == "X-Generator")
        .count();
    assert_eq!(generators, 2);
    assert_eq!(v["body"], "{\n    \"error\": \"Denied\"\n}");
}

#[test]
fn api_rules_come_first_and_body_goes_to_stdout() {
    let dir = gateway();
    let (code, out, err) =
        run(base(dir.path()).args(["--api", "orders", "--code", "401", "--message", "x"]));
    assert_eq!((code, out.as_str()), (0, "api rule"), "{err}");
    let (code, _, err) = run(base(dir.path()).args(["--api", "nope", "--code", "401"]));
    assert_eq!(code, 2);
    assert!(err.contains("orders"), "{err}");
}

#[test]
fn upstream_response_with_body_field() {
    let dir = gateway();
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"error": {"code": "E1"}}"#).unwrap();
    let (code, out, err) = run(base(dir.path())
        .args([
            "--upstream-status",
            "502",
            "--upstream-header",
            "X-Up: 1",
            "--json",
            "--upstream-body",
        ])
        .arg(&body));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["status"].as_i64(), v["body"].as_str()),
        (Some(502), Some("mapped"))
    );
    let lines = v["header_lines"].as_array().unwrap();
    assert!(lines.contains(&serde_json::json!(["X-Mapped", "yes"])));
    assert!(lines.contains(&serde_json::json!(["X-Up", "1"])));
}

#[test]
fn no_response_exits_1_and_says_why() {
    let dir = gateway();
    let (code, out, err) = run(base(dir.path()).args(["--upstream-status", "500", "--json"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "no_response");
    assert_eq!(v["status"], 0);
    assert!(
        err.contains("error_missing") && err.contains("drops the connection"),
        "{err}"
    );
}

#[test]
fn template_data_reaches_file_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("error.json"), "{{.Message}}").unwrap();
    std::fs::write(dir.path().join("error_v.json"), "bad: {{.InvalidParams}}").unwrap();
    std::fs::write(
        dir.path().join("tyk.conf"),
        r#"{"error_overrides": {"400": [{"match": {"flag": "BIV"}, "response": {"template": "error_v"}}]}}"#,
    )
    .unwrap();
    let (code, out, err) = run(bin()
        .args(["render", "--templates"])
        .arg(dir.path())
        .arg("--tyk-conf")
        .arg(dir.path().join("tyk.conf"))
        .args([
            "--code",
            "400",
            "--message",
            "m",
            "--flag",
            "BIV",
            "--template-data",
            r#"{"InvalidParams": "a \"b\""}"#,
        ]));
    assert_eq!((code, out.as_str()), (0, "bad: a \\\"b\\\""), "{err}");
}

#[test]
fn validate_reports_rules_with_file_and_line() {
    let dir = gateway();
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg(templates())
        .arg("--tyk-conf")
        .arg(dir.path().join("tyk.conf"))
        .args(["--format", "json"]));
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "error-override-missing-template")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(found["line"], 4);
    assert!(found["file"].as_str().unwrap().ends_with("tyk.conf"));
}
