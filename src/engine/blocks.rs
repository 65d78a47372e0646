//! A check of `{{if}}`/`{{range}}`/`{{with}}`/`{{define}}`/`{{block}}` …
//! `{{end}}` balance, which Go's parser enforces and gotmpl's does not (an
//! unclosed `{{if}}` runs to the end of the file; a stray `{{end}}` ends the
//! template early). The gateway refuses to start with either, so the loader
//! refuses them too (`gotmpl_difference_unbalanced_blocks_parse`).
//!
//! Only the actions' first words matter, so this scans actions (skipping
//! comments and string literals, which may hold `}}`) rather than parsing.

/// An unbalanced block: where, and Go's words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unbalanced {
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based byte column.
    pub(crate) column: usize,
    /// What is wrong.
    pub(crate) message: String,
}

/// One open block: its keyword, where it opened, whether a plain `{{else}}`
/// was seen (a second one is an error).
struct Open {
    keyword: &'static str,
    offset: usize,
    seen_else: bool,
}

/// Finds the first block that Go's parser would reject, if any.
pub(crate) fn check_blocks(src: &str) -> Option<Unbalanced> {
    let mut stack: Vec<Open> = Vec::new();
    let mut actions = Actions {
        src,
        at: 0,
        misplaced_comment: None,
    };
    let place = |offset: usize, message: String| {
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Some(Unbalanced {
            line,
            column,
            message,
        })
    };
    while let Some((offset, word)) = actions.next_action()? {
        if let Some(at) = actions.misplaced_comment {
            return place(
                at,
                "a comment must follow {{ or {{- directly and end with */}} or */ -}} \
                 (Go: unexpected \"/\" in command)"
                    .into(),
            );
        }
        match word {
            _ if dangling_field_dot(&src[offset..actions.at]).is_some() => {
                let at = dangling_field_dot(&src[offset..actions.at]).unwrap_or(0);
                return place(
                    offset + at,
                    "a field name must follow a dot (Go: unexpected <.> in operand), and \
                     `_` may only separate digits (Go: illegal number syntax)"
                        .into(),
                );
            }
            "block" if block_lacks_pipeline(&src[offset..actions.at]) => {
                return place(
                    offset,
                    "{{block}} needs a name and a pipeline, as in {{block \"name\" .}} \
                     (Go: missing value for block clause)"
                        .into(),
                );
            }
            "if" | "range" | "with" | "block" => stack.push(Open {
                keyword: keyword(word),
                offset,
                seen_else: false,
            }),
            "define" => {
                if let Some(open) = stack.last() {
                    return place(
                        offset,
                        format!(
                            "{{{{define}}}} inside {{{{{}}}}}: Go allows define only at the top \
                             level (unexpected <define> in command)",
                            open.keyword
                        ),
                    );
                }
                stack.push(Open {
                    keyword: "define",
                    offset,
                    seen_else: false,
                });
            }
            "else" => match stack.last_mut() {
                Some(open) if matches!(open.keyword, "if" | "range" | "with") => {
                    if open.seen_else {
                        return place(offset, "a second {{else}}: expected {{end}}".into());
                    }
                    // `{{else if}}` and `{{else with}}` chain on; a plain
                    // else is the last branch.
                    let rest = actions.rest_of_action_word(offset);
                    if !matches!(rest, "if" | "with") {
                        open.seen_else = true;
                    }
                }
                _ => return place(offset, "unexpected {{else}}".into()),
            },
            "end" => {
                let Some(_closed) = stack.pop() else {
                    return place(
                        offset,
                        "unexpected {{end}}: nothing is open here; Go refuses the template".into(),
                    );
                };
            }
            _ => {}
        }
    }
    stack.pop().and_then(|open| {
        place(
            open.offset,
            format!(
                "{{{{{}}}}} is never closed with {{{{end}}}}: Go refuses the template \
                 (unexpected EOF)",
                open.keyword
            ),
        )
    })
}

/// Go's trim markers (`{{- ` and ` -}}`) remove only spaces, tabs, CRs and
/// LFs; gotmpl's remove any Unicode white space (NBSP, `\v`, `\f`,
/// U+3000 ...). Where that differs for a marker, the text is rewritten so
/// gotmpl sees what Go keeps: the characters Go removes move inside the
/// action (white space there means nothing) and the marker's dash becomes a
/// space. Lengths and line breaks are unchanged, so every later place in
/// the file is too. `None`: nothing to rewrite (or the text cannot be
/// scanned reliably, in which case the parser reports it).
pub(crate) fn go_trim_markers(src: &str) -> Option<String> {
    let mut actions = Actions {
        src,
        at: 0,
        misplaced_comment: None,
    };
    let bytes = src.as_bytes();
    let go_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    // (start, end) of each action, in order.
    let mut spans = Vec::new();
    while let Some((start, _)) = actions.next_action()? {
        spans.push((start, actions.at));
    }
    let mut out: Option<Vec<u8>> = None;
    let mut prev_end = 0;
    let mut prev_trims = false;
    for (n, &(start, end)) in spans.iter().enumerate() {
        let text = &src[prev_end..start];
        // The previous action's ` -}}` and the text after it.
        if prev_trims && text.trim_start() != text.trim_start_matches(go_space) {
            let removed = text.len() - text.trim_start_matches(go_space).len();
            let buf = out.get_or_insert_with(|| bytes.to_vec());
            // " -}}" + W  becomes  W + " }}".
            let dash = prev_end - 3;
            buf.copy_within(prev_end..prev_end + removed, dash);
            buf[dash + removed] = b' ';
            buf[dash + removed + 1..dash + removed + 3].copy_from_slice(b"}}");
        }
        let left_trim = bytes.get(start + 2) == Some(&b'-')
            && bytes.get(start + 3).is_some_and(|b| is_space(*b));
        let right_trim = end >= 4 && &bytes[end - 3..end] == b"-}}" && is_space(bytes[end - 4]);
        // gotmpl also trims the text after a comment opened with `{{- `
        // (Go only the text before), so such a comment loses its dash.
        let next_start = spans.get(n + 1).map_or(src.len(), |s| s.0);
        let after = &src[end..next_start];
        let go_after = if right_trim {
            after.trim_start_matches(go_space)
        } else {
            after
        };
        let comment_trims_after = left_trim
            && src[skip_spaces(bytes, start + 3)..].starts_with("/*")
            && go_after.starts_with(char::is_whitespace);
        if left_trim && (text.trim_end() != text.trim_end_matches(go_space) || comment_trims_after)
        {
            let kept = text.trim_end_matches(go_space).len();
            let removed = text.len() - kept;
            let from = prev_end + kept;
            let buf = out.get_or_insert_with(|| bytes.to_vec());
            // W + "{{-"  becomes  "{{ " + W.
            buf.copy_within(from..start, from + 3);
            buf[from..from + 3].copy_from_slice(b"{{ ");
            debug_assert_eq!(from + 3 + removed, start + 3);
        }
        prev_trims = right_trim;
        prev_end = end;
        if n + 1 == spans.len() {
            let text = &src[prev_end..];
            if prev_trims && text.trim_start() != text.trim_start_matches(go_space) {
                let removed = text.len() - text.trim_start_matches(go_space).len();
                let buf = out.get_or_insert_with(|| bytes.to_vec());
                let dash = prev_end - 3;
                buf.copy_within(prev_end..prev_end + removed, dash);
                buf[dash + removed] = b' ';
                buf[dash + removed + 1..dash + removed + 3].copy_from_slice(b"}}");
            }
        }
    }
    // Only ASCII bytes moved, whole, so the text stays UTF-8.
    out.and_then(|b| String::from_utf8(b).ok())
}

/// Go reads a negative integer literal of magnitude 2^63 (the minimum
/// int64, `-9223372036854775808` or `-0x8000000000000000`) as that number;
/// gotmpl's lexer reads the digits before the sign, which overflow. Each
/// such literal in an action becomes `-00...01` of the same length (every
/// later place in the file is unchanged), and its offset is returned, for
/// [`crate::gocompat::set_min_int_literals`] to put the minimum back into
/// the parsed tree. `None`: there is none (or the text cannot be scanned
/// reliably, in which case the parser reports it).
pub(crate) fn min_int_literals(src: &str) -> Option<(String, Vec<usize>)> {
    let mut actions = Actions {
        src,
        at: 0,
        misplaced_comment: None,
    };
    let mut out: Option<Vec<u8>> = None;
    let mut offsets = Vec::new();
    while let Some((start, _)) = actions.next_action()? {
        let action = &src[start..actions.at];
        for_each_number(action, |i, number| {
            if number.starts_with('-') && integer_magnitude(&number[1..]) == Some(1 << 63) {
                let buf = out.get_or_insert_with(|| src.as_bytes().to_vec());
                let at = start + i;
                buf[at + 1..at + number.len() - 1].fill(b'0');
                buf[at + number.len() - 1] = b'1';
                offsets.push(at);
            }
        });
    }
    // Only ASCII digits were written over ASCII, so the text stays UTF-8.
    let text = String::from_utf8(out?).ok()?;
    Some((text, offsets))
}

/// The index of the byte closing the string, raw string or character
/// literal that opens at `i` (past the end when it is not closed): the
/// scanners below skip literals so that what they look for inside one does
/// not count.
fn literal_end(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() && bytes[j] != quote {
        // Only interpreted strings and characters have escapes.
        j += if quote != b'`' && bytes[j] == b'\\' {
            2
        } else {
            1
        };
    }
    j
}

/// Calls `f` with the offset and text of each number in an action's text
/// (with its sign when one is written right before it), skipping string and
/// character literals.
fn for_each_number(action: &str, mut f: impl FnMut(usize, &str)) {
    let bytes = action.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 2;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => i = literal_end(bytes, i),
            b'0'..=b'9' if !ident(bytes[i - 1]) && bytes[i - 1] != b'.' => {
                let signed = matches!(bytes[i - 1], b'-' | b'+') && !ident(bytes[i - 2]);
                let from = if signed { i - 1 } else { i };
                let mut j = i;
                while j < bytes.len() && (ident(bytes[j]) || bytes[j] == b'.') {
                    j += 1;
                }
                f(from, &action[from..j]);
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The value of an unsigned integer literal in Go's syntax (any base,
/// digit separators), if it is one that fits in a `u64`.
fn integer_magnitude(literal: &str) -> Option<u64> {
    let clean = literal.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    u64::from_str_radix(digits, radix).ok()
}

/// The offset, in an action's text, of a dot that ends a field chain with
/// no name after it (`.Message.` or `.Message..x`), or of a number with a
/// misplaced digit separator (`1__0`), which Go refuses and gotmpl reads as
/// something else. String and character literals are skipped.
fn dangling_field_dot(action: &str) -> Option<usize> {
    let bytes = action.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 2;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => i = literal_end(bytes, i),
            b'0'..=b'9' if !ident(bytes[i - 1]) && bytes[i - 1] != b'.' => {
                // A number: Go allows `_` only between digits.
                let mut j = i;
                while j < bytes.len() && (ident(bytes[j]) || bytes[j] == b'.') {
                    j += 1;
                }
                let number = &action[i..j];
                if number.contains("__")
                    || number.ends_with('_')
                    || number.contains("_.")
                    || number.contains("._")
                {
                    return Some(i);
                }
                i = j;
                continue;
            }
            b'.' if ident(bytes[i - 1]) => {
                let mut j = i;
                while j > 0 && ident(bytes[j - 1]) {
                    j -= 1;
                }
                let in_chain = j > 0 && matches!(bytes[j - 1], b'.' | b'$');
                let named = bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
                if in_chain && !named {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether a `{{block "name"}}` action (its whole text) has nothing after
/// the name: Go requires the pipeline.
fn block_lacks_pipeline(action: &str) -> bool {
    let Some(after) = action
        .split_once("block")
        .map(|(_, rest)| rest.trim_start())
    else {
        return false;
    };
    let rest = match after.as_bytes().first() {
        Some(b'"') => after[1..].find('"').map(|i| &after[i + 2..]),
        Some(b'`') => after[1..].find('`').map(|i| &after[i + 2..]),
        _ => None,
    };
    rest.is_some_and(|r| {
        let r = r.trim_start();
        r.starts_with("}}") || r.starts_with("-}}")
    })
}

fn keyword(word: &str) -> &'static str {
    match word {
        "if" => "if",
        "range" => "range",
        "with" => "with",
        _ => "block",
    }
}

/// Walks the actions of a template text.
struct Actions<'a> {
    src: &'a str,
    at: usize,
    /// The first comment not written as Go takes one (`{{ /* c */ }}`).
    misplaced_comment: Option<usize>,
}

impl<'a> Actions<'a> {
    /// The next action's offset and first word (empty when it does not
    /// start with a word). `None` inside: the text cannot be scanned
    /// reliably (an unterminated action or string), so nothing is claimed.
    fn next_action(&mut self) -> Option<Option<(usize, &'a str)>> {
        let bytes = self.src.as_bytes();
        let Some(found) = self.src[self.at..].find("{{") else {
            return Some(None);
        };
        let start = self.at + found;
        let mut i = start + 2;
        // `{{- ` trims the text before; the dash needs a space after it.
        if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|b| is_space(*b)) {
            i += 2;
        }
        let body = skip_spaces(bytes, i);
        if self.src[body..].starts_with("/*") {
            // Go takes a comment only right after `{{` or `{{- `.
            if body != i {
                self.misplaced_comment = Some(start);
            }
            // A comment runs to `*/` followed by `}}` or ` -}}`.
            let end = self.src[body + 2..].find("*/")? + body + 2;
            let after = skip_spaces(bytes, end + 2);
            let trimmed = bytes.get(after) == Some(&b'-') && after > end + 2;
            let close = if trimmed { after + 1 } else { after };
            if !self.src[close..].starts_with("}}") {
                return None;
            }
            // ... and only closed by `*/}}` or `*/ -}}`.
            if !trimmed && after != end + 2 && self.misplaced_comment.is_none() {
                self.misplaced_comment = Some(start);
            }
            let after = close;
            self.at = after + 2;
            return Some(Some((start, "")));
        }
        let word_end = body
            + self.src[body..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(self.src.len() - body);
        let word = &self.src[body..word_end];
        self.at = close_of_action(self.src, word_end)?;
        Some(Some((start, word)))
    }

    /// The word after `else` in the action at `start`.
    fn rest_of_action_word(&self, start: usize) -> &'a str {
        let bytes = self.src.as_bytes();
        let mut i = start + 2;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        let i = skip_spaces(bytes, i) + "else".len();
        let i = skip_spaces(bytes, i);
        let end = i + self.src[i..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.src.len() - i);
        &self.src[i..end]
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| is_space(*b)) {
        i += 1;
    }
    i
}

/// The offset just after the `}}` closing the action, skipping string,
/// raw string and character literals.
fn close_of_action(src: &str, mut i: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i + 2),
            quote @ (b'"' | b'\'') => {
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'\n' => return None,
                        b if *b == quote => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'`' => {
                i += src[i + 1..].find('`')? + 2;
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_templates_pass() {
        for ok in [
            "{\n    \"error\": \"{{.Message}}\"\n}",
            "{{if .X}}a{{else if .Y}}b{{else}}c{{end}}",
            "{{range $i, $e := .L}}{{else}}none{{end}}",
            "{{define \"x\"}}{{if 1}}{{end}}{{end}}{{template \"x\" .}}",
            "{{\"}}\" }}{{`{{if}}`}}{{'}'}}",
            "{{/* {{if}} */}}{{- /* x */ -}}",
            "{{- if .X -}}a{{- end -}}",
            "{{block \"x\" .}}d{{end}}",
            "{{ends .X}}{{iffy}}",
            "text only",
        ] {
            assert_eq!(check_blocks(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn go_rejects_these() {
        let cases = [
            ("a\n{{if .Message}}x", (2, 1), "never closed"),
            ("x{{end}}y", (1, 2), "unexpected {{end}}"),
            ("{{else}}", (1, 1), "unexpected {{else}}"),
            ("{{if 1}}{{else}}{{else}}{{end}}", (1, 17), "second"),
            ("{{if 1}}{{define \"x\"}}{{end}}{{end}}", (1, 9), "define"),
            ("{{with .X}}{{range .Y}}{{end}}", (1, 1), "{{with}}"),
        ];
        for (src, (line, column), words) in cases {
            let u = check_blocks(src).unwrap_or_else(|| panic!("{src:?} passed"));
            assert_eq!((u.line, u.column), (line, column), "{src:?}");
            assert!(u.message.contains(words), "{src:?}: {}", u.message);
        }
    }

    #[test]
    fn conformance_sets_that_load_are_balanced() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/sets");
        let Ok(sets) = std::fs::read_dir(root) else {
            return;
        };
        for set in sets.flatten() {
            for file in std::fs::read_dir(set.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(file.path()).unwrap_or_default();
                if set.file_name() == "bad-parse" {
                    continue;
                }
                assert_eq!(check_blocks(&text), None, "{}", file.path().display());
            }
        }
    }
}
