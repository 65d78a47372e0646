//! `body_field`/`body_value`: a gjson path into the upstream body, compared
//! as Go gjson's `Result.String()` prints the value. The `gjson` crate (the
//! Rust port by gjson's author) finds the value; its printing differs from
//! Go's for non-integer numbers, so that part is done here.

/// Whether `path` in `body` exists and prints as `expected`, as the gateway
/// checks it (`gjson.GetBytes(body, field).String() == value`).
pub fn matches(body: &[u8], path: &str, expected: &str) -> bool {
    value(body, path).is_some_and(|v| v == expected)
}

/// The value at `path`, as Go gjson's `String()` prints it; `None` when the
/// path finds nothing.
pub fn value(body: &[u8], path: &str) -> Option<String> {
    // gjson reads text; a body cut inside a multi-byte character (or not
    // UTF-8 at all) is read with the bad bytes replaced.
    let text = String::from_utf8_lossy(body);
    let v = gjson::get(&text, path);
    if !v.exists() {
        return None;
    }
    Some(match v.kind() {
        gjson::Kind::Number => go_number_string(v.json()),
        _ => v.str().to_owned(),
    })
}

/// Go gjson prints an integer literal as written and any other number
/// through `strconv.FormatFloat(f, 'f', -1, 64)` (`1.50` → `1.5`, `1e3` →
/// `1000`); the crate prints every number as written.
fn go_number_string(raw: &str) -> String {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return raw.to_owned();
    }
    // Rust's shortest round-trip form never uses an exponent: Go's 'f', -1.
    match raw.parse::<f64>() {
        Ok(f) => f.to_string(),
        Err(_) => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_difference_numbers_print_as_go() {
        assert_eq!(value(br#"{"c":1.50}"#, "c").as_deref(), Some("1.5"));
        assert_eq!(value(br#"{"c":1e3}"#, "c").as_deref(), Some("1000"));
        assert_eq!(value(br#"{"c":42}"#, "c").as_deref(), Some("42"));
        assert_eq!(value(br#"{"c":-7}"#, "c").as_deref(), Some("-7"));
    }

    #[test]
    fn path_subset() {
        let body = br#"{"errors":[{"code":"A"},{"code":"B"}],"a.b":"lit","a":{"b":"deep"},"dup":1,"dup":2,"v":null,"o":{"x": 1},"ok":false}"#;
        assert_eq!(value(body, "errors.1.code").as_deref(), Some("B"));
        assert_eq!(value(body, "errors.#").as_deref(), Some("2"));
        assert_eq!(value(body, r"a\.b").as_deref(), Some("lit"));
        assert_eq!(value(body, "a.b").as_deref(), Some("deep"));
        assert_eq!(value(body, "dup").as_deref(), Some("1"));
        assert_eq!(value(body, "v").as_deref(), Some(""));
        assert_eq!(value(body, "o").as_deref(), Some(r#"{"x": 1}"#));
        assert_eq!(value(body, "ok").as_deref(), Some("false"));
        assert_eq!(value(b"not json", "a"), None);
        assert!(!matches(body, "v", "null"));
    }
}
