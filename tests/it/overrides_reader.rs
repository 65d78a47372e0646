//! The position-keeping YAML/JSON reader shared by `override_messages` and
//! Error Overrides rules: paths a mutation run found untested (non-ASCII
//! keys first seen inside a value, codes beyond `i64::MAX`, YAML boolean
//! keys, the parser's own words, "did you mean" distances).

use std::sync::mpsc;
use std::time::Duration;

use error_render::overrides::{FileFormat, Overrides, OverridesError};

/// Parses on another thread so that a reader that loops fails the test
/// instead of hanging it.
fn parse(text: &'static str, format: FileFormat) -> Result<Overrides, OverridesError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Overrides::parse(text, format, "f"));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the reader finished within 10 s (a loop in the key locator?)")
}

#[test]
fn non_ascii_key_first_seen_inside_a_value_is_placed_at_the_key() {
    let o = parse(
        "auth.key_not_found:\n  message: \"éx: inside\"\néx:\n  code: 401\n",
        FileFormat::Yaml,
    )
    .unwrap();
    let p = &o.problems()[0];
    assert_eq!((p.id.as_str(), p.line, p.column), ("éx", Some(3), Some(1)));
}

#[test]
fn codes_beyond_i64_are_refused_with_their_value() {
    let err = parse(
        r#"{"auth.key_not_found": {"code": 18446744073709551615}}"#,
        FileFormat::Json,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("code 18446744073709551615 is not a status code"),
        "{err}"
    );
    let err = parse(
        r#"{"auth.key_not_found": {"code": 99999999999999999999999}}"#,
        FileFormat::Json,
    )
    .unwrap_err();
    assert!(err.to_string().contains("whole number"), "{err}");
}

#[test]
fn yaml_boolean_key_is_placed_at_its_line_and_column() {
    let err = parse(
        "auth.key_not_found:\n  code: 401\n\ntrue:\n  code: 401\n",
        FileFormat::Yaml,
    )
    .unwrap_err();
    let e = &err.errors()[0];
    assert!(e.message.contains("found the boolean true"), "{e}");
    assert_eq!((e.line, e.column), (Some(4), Some(1)));
}

#[test]
fn syntax_errors_keep_the_parsers_words_without_its_position() {
    let err = parse("{\"auth.key_not_found\": }", FileFormat::Json).unwrap_err();
    let e = &err.errors()[0];
    assert!(e.message.contains("expected value"), "{e}");
    assert!(!e.message.contains(" at line "), "{e}");
    assert_eq!((e.line, e.column), (Some(1), Some(24)));
    let err = parse("a: [1, 2\nb: 3\n", FileFormat::Yaml).unwrap_err();
    let e = &err.errors()[0];
    assert!(
        e.message.contains("did not find expected ',' or ']'"),
        "{e}"
    );
    // The error's own place is in front, not repeated in the message.
    let own = format!(" at line {} column {}", e.line.unwrap(), e.column.unwrap());
    assert!(!e.message.contains(&own), "{e}");
}

#[test]
fn did_you_mean_counts_added_characters_and_ignores_far_ids() {
    let o = parse("auth.key_not_foundd:\n  code: 401\n", FileFormat::Yaml).unwrap();
    assert!(
        o.problems()[0]
            .message
            .contains("did you mean \"auth.key_not_found\""),
        "{}",
        o.problems()[0]
    );
    let o = parse("xxauth.key_not_found:\n  code: 401\n", FileFormat::Yaml).unwrap();
    assert!(
        o.problems()[0]
            .message
            .contains("did you mean \"auth.key_not_found\""),
        "{}",
        o.problems()[0]
    );
    let o = parse(
        "auth.key_not_found.and.a.much.longer.tail:\n  code: 401\n",
        FileFormat::Yaml,
    )
    .unwrap();
    assert!(
        !o.problems()[0].message.contains("did you mean"),
        "{}",
        o.problems()[0]
    );
}
