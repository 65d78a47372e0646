//! Loading `override_messages` from real files (standalone YAML/JSON and
//! tyk.conf), the problems and errors reported, and their effect on renders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use error_render::overrides::{
    FileFormat, GATEWAY_ERROR_IDS, OverrideMessage, OverrideProblemKind, Overrides, OverridesError,
    TykConf,
};
use error_render::{ErrorRequest, RenderOptions, Renderer, TemplateSet};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn msg(code: Option<u16>, message: Option<&str>) -> OverrideMessage {
    OverrideMessage {
        code,
        message: message.map(str::to_owned),
    }
}

fn entries(o: &Overrides) -> Vec<(String, OverrideMessage)> {
    o.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()
}

fn invalid(err: OverridesError) -> Vec<error_render::SourceError> {
    match err {
        OverridesError::Invalid(errors) => errors,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

const EXPECTED_EXAMPLE: [(&str, Option<u16>, Option<&str>); 2] = [
    (
        "auth.key_not_found",
        Some(401),
        Some("Invalid or missing API key"),
    ),
    ("oauth.auth_field_missing", Some(401), None),
];

fn expected_example() -> Vec<(String, OverrideMessage)> {
    EXPECTED_EXAMPLE
        .iter()
        .map(|(id, c, m)| (id.to_string(), msg(*c, *m)))
        .collect()
}

#[test]
fn shipped_examples_load_and_agree() {
    let yaml = Overrides::load("overrides/example.yaml").unwrap();
    let json = Overrides::load("overrides/example.json").unwrap();
    assert_eq!(entries(&yaml), expected_example());
    assert_eq!(entries(&json), expected_example());
    assert!(yaml.problems().is_empty(), "{:?}", yaml.problems());
    assert!(json.problems().is_empty(), "{:?}", json.problems());
}

#[test]
fn yaml_and_json_files_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = write(
        dir.path(),
        "o.yml",
        "auth.key_not_found: {code: 401, message: 'Invalid or missing API key'}\n\
         oauth.auth_field_missing:\n  code: 401\n",
    );
    // A `.json` file goes through the JSON parser: YAML syntax fails there.
    let json = write(
        dir.path(),
        "o.JSON",
        r#"{"auth.key_not_found": {"code": 401, "message": "Invalid or missing API key"},
            "oauth.auth_field_missing": {"code": 401, "message": ""}}"#,
    );
    assert_eq!(
        entries(&Overrides::load(&yaml).unwrap()),
        expected_example()
    );
    assert_eq!(
        entries(&Overrides::load(&json).unwrap()),
        expected_example()
    );
    let yaml_in_json = write(dir.path(), "bad.json", "auth.key_not_found:\n  code: 401\n");
    assert!(matches!(
        Overrides::load(&yaml_in_json),
        Err(OverridesError::Syntax(_))
    ));
    assert_eq!(FileFormat::from_path(Path::new("x.yaml")), FileFormat::Yaml);
    assert_eq!(FileFormat::from_path(Path::new("x")), FileFormat::Yaml);
}

#[test]
fn nested_under_override_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "conf.yaml",
        "listen_port: 8080\noverride_messages:\n  auth.key_not_found:\n    code: 401\n    \
         message: Invalid or missing API key\n  oauth.auth_field_missing:\n    code: 401\n",
    );
    let o = Overrides::load(&path).unwrap();
    assert_eq!(entries(&o), expected_example());
    // `listen_port` is outside the map, so it is not an unknown ID.
    assert!(o.problems().is_empty(), "{:?}", o.problems());
    let empty = Overrides::parse("override_messages:\n", FileFormat::Yaml, "e.yaml").unwrap();
    assert!(empty.is_empty());
    let nothing = Overrides::parse("", FileFormat::Yaml, "e.yaml").unwrap();
    assert!(nothing.is_empty());
}

#[test]
fn tyk_conf_reads_four_keys_and_ignores_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "tyk.conf",
        r#"{
  "listen_port": 8080,
  "secret": "352d20ee67be67f6340b4c0605b044b7",
  "template_path": "./my-templates",
  "storage": {"type": "redis", "host": "localhost", "port": 6379},
  "hide_generator_header": true,
  "close_connections": null,
  "override_messages": {
    "auth.key_not_found": {"code": 401, "message": "Invalid or missing API key"},
    "oauth.auth_field_missing": {"code": 401}
  },
  "enable_analytics": false,
  "error_overrides": {"5xx": [{"response": {"status_code": 502}}]}
}"#,
    );
    let tc = TykConf::load(&conf).unwrap();
    assert_eq!(tc.path, conf);
    assert_eq!(tc.template_path.as_deref(), Some("./my-templates"));
    assert_eq!(tc.hide_generator_header, Some(true));
    assert_eq!(tc.close_connections, None);
    assert_eq!(entries(&tc.override_messages), expected_example());
    assert!(tc.override_messages.problems().is_empty());
    assert_eq!(tc.template_dir(), dir.path().join("./my-templates"));

    let bare = write(dir.path(), "bare.conf", r#"{"listen_port": 8080}"#);
    let tc = TykConf::load(&bare).unwrap();
    assert_eq!(tc.template_path, None);
    assert!(tc.override_messages.is_empty());
    assert_eq!(tc.template_dir(), dir.path().join("templates"));

    let abs = TykConf::parse(
        r#"{"template_path": "/opt/tyk-gateway/templates"}"#,
        "x/tyk.conf",
    )
    .unwrap();
    assert_eq!(
        abs.template_dir(),
        PathBuf::from("/opt/tyk-gateway/templates")
    );
}

#[test]
fn tyk_conf_wrong_types_are_errors() {
    let text = "{\n  \"template_path\": 5,\n  \"hide_generator_header\": \"true\",\n  \
                \"close_connections\": true,\n  \"override_messages\": []\n}";
    let errors = invalid(TykConf::parse(text, "tyk.conf").unwrap_err());
    let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [Some(2), Some(3), Some(5)]);
    assert!(errors[0].message.contains("template_path must be a string"));
    assert!(errors[1].message.contains("remove the quotes"));
    assert!(
        errors[2]
            .message
            .contains("override_messages must be a map")
    );
    let not_object = invalid(TykConf::parse("[]", "tyk.conf").unwrap_err());
    assert_eq!(not_object.len(), 1);
}

#[test]
fn partial_overrides_keep_the_other_half() {
    let o = Overrides::parse(
        "auth.key_not_found:\n  message: Nope\nauth.auth_field_missing:\n  code: 400\n  \
         message: ''\noauth.key_not_found:\n  code: 0\n  message: Gone\n",
        FileFormat::Yaml,
        "p.yaml",
    )
    .unwrap();
    assert_eq!(o.get("auth.key_not_found"), Some(&msg(None, Some("Nope"))));
    assert_eq!(
        o.get("auth.auth_field_missing"),
        Some(&msg(Some(400), None))
    );
    assert_eq!(o.get("oauth.key_not_found"), Some(&msg(None, Some("Gone"))));
    assert!(o.problems().is_empty());
}

#[test]
fn unknown_id_is_a_problem_listing_the_known_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "u.yaml",
        "# comment\nauth.key_not_fund:\n  code: 401\njwt.expired:\n  message: x\n",
    );
    let o = Overrides::load(&path).unwrap();
    let problems = o.problems();
    assert_eq!(problems.len(), 2);
    let p = &problems[0];
    assert_eq!(p.kind, OverrideProblemKind::UnknownId);
    assert_eq!(p.id, "auth.key_not_fund");
    assert_eq!((p.line, p.column), (Some(2), Some(1)));
    assert_eq!(p.file, path.display().to_string());
    for id in GATEWAY_ERROR_IDS {
        assert!(p.message.contains(id), "{id} missing from {}", p.message);
    }
    assert!(p.message.contains("did you mean \"auth.key_not_found\""));
    assert_eq!(problems[1].id, "jwt.expired");
    assert_eq!(problems[1].line, Some(4));
    assert!(!problems[1].message.contains("did you mean"));
    let shown = p.to_string();
    assert!(
        shown.starts_with(&format!("{}:2:1: ", path.display())),
        "{shown}"
    );
    // Kept, as the gateway keeps it, though nothing reads it.
    assert_eq!(o.get("auth.key_not_fund"), Some(&msg(Some(401), None)));
}

#[test]
fn wrong_types_are_all_reported_with_lines() {
    let yaml = "\
auth.key_not_found:
  code: \"401\"
auth.auth_field_missing:
  message: 5
oauth.key_not_found: [401, x]
oauth.client_deleted:
  code: 401.5
auth.cert_expired:
  code: -1
auth.cert_required:
  code: 70000
oauth.auth_field_malformed:
  code: 401
";
    let errors = invalid(Overrides::parse(yaml, FileFormat::Yaml, "w.yaml").unwrap_err());
    let got: Vec<_> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        got,
        [
            (Some(2), Some(3)),
            (Some(4), Some(3)),
            (Some(5), Some(1)),
            (Some(7), Some(3)),
            (Some(9), Some(3)),
            (Some(11), Some(3)),
        ]
    );
    assert!(errors[0].message.contains("auth.key_not_found"));
    assert!(errors[0].message.contains("remove the quotes"));
    assert!(errors[1].message.contains("message must be a string"));
    assert!(errors[2].message.contains("must be a map"));
    assert!(errors[3].message.contains("whole number"));
    assert!(errors[4].message.contains("code -1 is not a status code"));
    assert!(
        errors[5]
            .message
            .contains("code 70000 is not a status code")
    );
    let err = Overrides::parse(yaml, FileFormat::Yaml, "w.yaml").unwrap_err();
    let shown = err.to_string();
    assert_eq!(shown.lines().count(), 6);
    assert!(shown.starts_with("w.yaml:2:3: "), "{shown}");

    let json = "{\n  \"auth.key_not_found\": {\"code\": \"401\"},\n  \
                \"oauth.key_not_found\": \"Key gone\",\n  \
                \"auth.auth_field_missing\": {\"message\": false}\n}";
    let errors = invalid(Overrides::parse(json, FileFormat::Json, "w.json").unwrap_err());
    let got: Vec<_> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        got,
        [(Some(2), Some(26)), (Some(3), Some(3)), (Some(4), Some(31))]
    );
}

#[test]
fn syntax_errors_give_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = write(
        dir.path(),
        "s.yaml",
        "auth.key_not_found:\n  code: 401\n message: x\n",
    );
    let OverridesError::Syntax(e) = Overrides::load(&yaml).unwrap_err() else {
        panic!("expected a syntax error");
    };
    assert_eq!(e.file, yaml.display().to_string());
    assert_eq!((e.line, e.column), (Some(3), Some(2)));
    assert!(e.message.starts_with("not valid YAML: "), "{}", e.message);
    assert!(!e.message.contains("at line 3 column 2"), "{}", e.message);

    let json = write(
        dir.path(),
        "s.json",
        "{\n  \"auth.key_not_found\": {\"code\": 401,}\n}",
    );
    let err = Overrides::load(&json).unwrap_err();
    let OverridesError::Syntax(e) = &err else {
        panic!("expected a syntax error");
    };
    assert_eq!((e.line, e.column), (Some(2), Some(38)));
    assert!(
        err.to_string()
            .starts_with(&format!("{}:2:38: not valid JSON", json.display()))
    );

    let tyk_conf = write(dir.path(), "tyk.conf", "{\"listen_port\": 8080\n");
    assert!(matches!(
        TykConf::load(&tyk_conf),
        Err(OverridesError::Syntax(_))
    ));
}

#[test]
fn unreadable_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let err = Overrides::load(&missing).unwrap_err();
    assert!(matches!(err, OverridesError::Io { .. }));
    assert!(err.to_string().contains("missing.yaml"));
    assert_eq!(err.errors().len(), 1);
    assert!(matches!(
        TykConf::load(dir.path().join("tyk.conf")),
        Err(OverridesError::Io { .. })
    ));
}

#[test]
fn empty_entries_are_problems_and_left_out() {
    let o = Overrides::parse(
        "auth.key_not_found:\n  code: 0\n  message: \"\"\noauth.key_not_found:\n\
         auth.auth_field_missing: {}\n",
        FileFormat::Yaml,
        "e.yaml",
    )
    .unwrap();
    assert!(o.is_empty());
    let got: Vec<_> = o.problems().iter().map(|p| (p.kind, p.line)).collect();
    assert_eq!(
        got,
        [
            (OverrideProblemKind::EmptyEntry, Some(1)),
            (OverrideProblemKind::EmptyEntry, Some(4)),
            (OverrideProblemKind::EmptyEntry, Some(5)),
        ]
    );
    assert!(
        o.problems()[0]
            .message
            .contains("403 \"Access to this API has been disallowed\"")
    );
}

#[test]
fn codes_outside_100_to_599_are_problems() {
    let json = r#"{
  "auth.key_not_found": {"code": 700},
  "auth.auth_field_missing": {"code": 42, "message": "Who are you?"},
  "oauth.key_not_found": {"code": 1000},
  "oauth.client_deleted": {"code": 200},
  "auth.cert_expired": {"code": 401, "status": 401}
}"#;
    let o = Overrides::parse(json, FileFormat::Json, "c.json").unwrap();
    // 700 can be sent, so it is kept; 42 and 1000 cannot, so they are dropped.
    assert_eq!(o.get("auth.key_not_found"), Some(&msg(Some(700), None)));
    assert_eq!(
        o.get("auth.auth_field_missing"),
        Some(&msg(None, Some("Who are you?")))
    );
    assert_eq!(o.get("oauth.key_not_found"), None);
    assert_eq!(o.get("oauth.client_deleted"), Some(&msg(Some(200), None)));
    let got: Vec<_> = o.problems().iter().map(|p| (p.kind, p.line)).collect();
    assert_eq!(
        got,
        [
            (OverrideProblemKind::CodeOutOfRange, Some(2)),
            (OverrideProblemKind::CodeOutOfRange, Some(3)),
            (OverrideProblemKind::CodeOutOfRange, Some(4)),
            (OverrideProblemKind::UnknownField, Some(6)),
        ]
    );
}

fn renderer(overrides: Overrides, ignore_overrides: bool) -> Renderer {
    let set = Arc::new(TemplateSet::load("templates").unwrap());
    Renderer::new(
        set,
        RenderOptions {
            overrides,
            ignore_overrides,
            ..RenderOptions::default()
        },
    )
}

fn body(message: &str) -> String {
    format!("{{\n    \"error\": \"{message}\"\n}}")
}

#[test]
fn renders_with_overrides_code_and_message_separately() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "o.yaml",
        "auth.key_not_found:\n  message: Invalid or missing API key\n\
         auth.auth_field_missing:\n  code: 400\n",
    );
    let overrides = Overrides::load(&path).unwrap();
    let r = renderer(overrides.clone(), false);

    // Message only: the code stays the default 403.
    let out = r.render(&ErrorRequest::id("auth.key_not_found")).unwrap();
    assert_eq!(out.status, 403);
    assert_eq!(out.body, body("Invalid or missing API key"));
    // The same error named by its code and default message.
    let out = r
        .render(&ErrorRequest::code(403).message("Access to this API has been disallowed"))
        .unwrap();
    assert_eq!(out.status, 403);
    assert_eq!(out.body, body("Invalid or missing API key"));
    let resolved = r.resolve(&ErrorRequest::id("auth.key_not_found")).unwrap();
    assert_eq!(
        resolved.overridden_by.as_deref(),
        Some("auth.key_not_found")
    );

    // Code only: the message stays the default.
    let out = r
        .render(&ErrorRequest::id("auth.auth_field_missing"))
        .unwrap();
    assert_eq!(out.status, 400);
    assert_eq!(out.body, body("Authorization field missing"));

    // Not overridden: untouched.
    let out = r.render(&ErrorRequest::id("oauth.key_not_found")).unwrap();
    assert_eq!(out.status, 403);
    assert_eq!(out.body, body("Key not authorised"));

    // Releases that ignore override_messages.
    let ignoring = renderer(overrides, true);
    let out = ignoring
        .render(&ErrorRequest::id("auth.key_not_found"))
        .unwrap();
    assert_eq!(out.status, 403);
    assert_eq!(out.body, body("Access to this API has been disallowed"));
    let out = ignoring
        .render(&ErrorRequest::id("auth.auth_field_missing"))
        .unwrap();
    assert_eq!(out.status, 401);
}

#[test]
fn renders_with_both_halves_from_tyk_conf() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "tyk.conf",
        r#"{"override_messages": {
            "auth.key_not_found": {"code": 401, "message": "Invalid or missing API key"}
        }}"#,
    );
    let tc = TykConf::load(&conf).unwrap();
    let r = renderer(tc.override_messages, false);
    let out = r.render(&ErrorRequest::id("auth.key_not_found")).unwrap();
    assert_eq!(out.status, 401);
    assert_eq!(out.body, body("Invalid or missing API key"));
}

#[test]
fn malformed_shapes_are_errors() {
    let errors = invalid(
        Overrides::parse(
            "auth.key_not_found: {code: 401}\n401: {code: 401}\n",
            FileFormat::Yaml,
            "k.yaml",
        )
        .unwrap_err(),
    );
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (Some(2), Some(1)));
    assert!(errors[0].message.contains("error IDs are strings"));

    let errors = invalid(
        Overrides::parse("a: 1\noverride_messages: 5\n", FileFormat::Yaml, "n.yaml").unwrap_err(),
    );
    assert_eq!(errors[0].line, Some(2));
    assert!(
        errors[0]
            .message
            .contains("override_messages must be a map")
    );

    let errors = invalid(Overrides::parse("[1]", FileFormat::Json, "l.json").unwrap_err());
    assert!(errors[0].message.contains("found a list"));
}
