//! `body_field`/`body_value`: a gjson path into the upstream body, compared
//! as Go gjson's `Result.String()` prints the value. The `gjson` crate (the
//! Rust port by gjson's author) finds the value. Two differences from Go
//! gjson are handled here: Go prints non-integer numbers through
//! `FormatFloat`, and Go reads a cut document leniently (the body is cut at
//! 4096 bytes): a literal cut short (`tru`) still reads as itself, and a cut
//! object or array yields its partial raw text, where the crate finds
//! nothing. A cut string is not found by either.

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
    if v.exists() {
        return Some(printed(&v, v.json()));
    }
    // Retry on the document completed where it was cut; what the
    // completion added is not part of the value's raw text.
    let suffix = completion(&text)?;
    let completed = format!("{text}{suffix}");
    let v = gjson::get(&completed, path);
    if !v.exists() {
        return None;
    }
    let raw = v.json();
    let start = (raw.as_ptr() as usize).checked_sub(completed.as_ptr() as usize);
    let raw = match start {
        Some(start) if start <= text.len() && start + raw.len() > text.len() => {
            &raw[..text.len() - start]
        }
        _ => raw,
    };
    Some(printed(&v, raw))
}

fn printed(v: &gjson::Value<'_>, raw: &str) -> String {
    match v.kind() {
        gjson::Kind::Number => go_number_string(raw),
        gjson::Kind::Object | gjson::Kind::Array => raw.to_owned(),
        _ => v.str().to_owned(),
    }
}

/// What closes a document cut short: the rest of a cut `true`, `false` or
/// `null`, then the open arrays and objects. `None` when nothing is open or
/// the cut is inside a string (Go finds no cut string or key).
fn completion(text: &str) -> Option<String> {
    let mut open = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => open.push(b'}'),
            b'[' => open.push(b']'),
            b'}' | b']' => {
                open.pop();
            }
            _ => {}
        }
    }
    if in_string || open.is_empty() {
        return None;
    }
    let tail = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let word = &text[tail.len()..];
    let mut suffix = String::new();
    for literal in ["true", "false", "null"] {
        if !word.is_empty() && literal.starts_with(word) {
            suffix.push_str(&literal[word.len()..]);
        }
    }
    suffix.extend(open.iter().rev().map(|&c| char::from(c)));
    Some(suffix)
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
    fn crate_difference_cut_documents_read_leniently() {
        assert_eq!(
            value(br#"{"p": "x", "t": tru"#, "t").as_deref(),
            Some("true")
        );
        assert_eq!(
            value(br#"{"p": "x", "o": {"c": "x", "d": 1"#, "o").as_deref(),
            Some(r#"{"c": "x", "d": 1"#)
        );
        assert_eq!(
            value(br#"{"p": "x", "n": 1234"#, "n").as_deref(),
            Some("1234")
        );
        assert_eq!(value(br#"{"p": "x", "s": "ab"#, "s"), None);
        assert_eq!(value(br#"{"p": "x", "ke"#, "key"), None);
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
