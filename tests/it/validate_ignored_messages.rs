//! `validate` warns about `override_messages` beside `error_overrides`: a
//! tyk.conf with rules describes a 5.13+ gateway, which does not apply them.

use std::path::Path;

use error_render::validate::{ValidateOptions, validate};

fn findings(conf: &str) -> Vec<(String, Option<usize>)> {
    let dir = tempfile::tempdir().unwrap();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::write(dir.path().join("tyk.conf"), conf).unwrap();
    let report = validate(&ValidateOptions {
        tyk_conf: Some(dir.path().join("tyk.conf")),
        ..ValidateOptions::new(&templates)
    })
    .unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "error-override-ignored-messages")
        .map(|f| (f.message.clone(), f.line))
        .collect()
}

#[test]
fn override_messages_beside_rules_are_flagged_at_their_key() {
    let found = findings(
        r#"{
  "error_overrides": {"403": [{"response": {"status_code": 401}}]},
  "override_messages": {"auth.key_not_found": {"code": 401, "message": "Invalid key"}}
}
"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, Some(3));
    assert!(found[0].0.contains("5.13+"), "{}", found[0].0);
}

#[test]
fn override_messages_alone_or_rules_alone_are_fine() {
    assert!(
        findings(
            r#"{"override_messages": {"auth.key_not_found": {"code": 401, "message": "Invalid key"}}}"#
        )
        .is_empty()
    );
    assert!(
        findings(r#"{"error_overrides": {"403": [{"response": {"status_code": 401}}]}}"#)
            .is_empty()
    );
}
