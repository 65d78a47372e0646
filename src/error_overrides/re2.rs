//! `message_pattern`: Go RE2 patterns on Rust's `regex` crate.
//!
//! Both are RE2 dialects, but they part in a few places, handled here before
//! the pattern reaches `regex`:
//! * Go's `\d`, `\w`, `\s` and `\b` are ASCII-only; `regex` makes them
//!   Unicode-aware. They are rewritten to ASCII classes (`\s` is Go's
//!   `[\t\n\f\r ]`, without `\v`).
//! * Go rejects escapes `regex` accepts (`\<`, `\>`, `\u`, `\e`, `\b{start}`)
//!   and the `x`, `u` and `R` flags; such a pattern does not compile, so the
//!   gateway drops the rule, and so does this.
//! * Go's `\Q...\E` quoting, which `regex` lacks, is turned into escapes.
//! * Go refuses a counted repetition above 1000 (`a{1001}`); `regex`
//!   accepts it.
//!
//! Matching is on bytes (Go's `Regexp.Match`), unanchored.

use regex::bytes::Regex;

/// A compiled Go pattern.
#[derive(Debug, Clone)]
pub struct GoRegex {
    re: Regex,
}

impl GoRegex {
    /// Compiles `pattern` as Go's `regexp.Compile` would accept it; the error
    /// says why not.
    pub fn new(pattern: &str) -> Result<GoRegex, String> {
        let translated = translate(pattern)?;
        Regex::new(&translated)
            .map(|re| GoRegex { re })
            .map_err(|e| first_line(&e.to_string()))
    }

    /// Go's `Regexp.Match`: whether the pattern occurs anywhere in `input`.
    pub fn is_match(&self, input: &[u8]) -> bool {
        self.re.is_match(input)
    }
}

fn first_line(s: &str) -> String {
    // regex's errors draw the pattern over several lines; keep the gist.
    s.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(s)
        .trim()
        .to_owned()
}

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = "\\t\\n\\x0C\\r ";

/// Rewrites Go syntax into `regex` syntax with Go's meaning.
fn translate(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Go has no nested classes, so being inside one is a yes/no.
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err("trailing backslash at end of expression".into());
                };
                match e {
                    'd' | 'w' | 's' | 'D' | 'W' | 'S' => {
                        let set = match e.to_ascii_lowercase() {
                            'd' => DIGIT,
                            'w' => WORD,
                            _ => SPACE,
                        };
                        let negated = e.is_ascii_uppercase();
                        match (in_class, negated) {
                            (true, false) => out.push_str(set),
                            (_, true) => {
                                out.push_str("[^");
                                out.push_str(set);
                                out.push(']');
                            }
                            (false, false) => {
                                out.push('[');
                                out.push_str(set);
                                out.push(']');
                            }
                        }
                    }
                    'b' | 'B' if !in_class => {
                        if chars.peek() == Some(&'{') {
                            return Err(format!("invalid escape sequence: `\\{e}{{`"));
                        }
                        out.push_str(if e == 'b' { "(?-u:\\b)" } else { "(?-u:\\B)" });
                    }
                    'Q' => {
                        // Everything up to `\E` (or the end) is literal.
                        let mut literal = String::new();
                        loop {
                            match chars.next() {
                                None => break,
                                Some('\\') if chars.peek() == Some(&'E') => {
                                    chars.next();
                                    break;
                                }
                                Some(ch) => literal.push(ch),
                            }
                        }
                        out.push_str(&regex::escape(&literal));
                    }
                    // Go's escapes that mean the same in regex.
                    'a'
                    | 'f'
                    | 't'
                    | 'n'
                    | 'r'
                    | 'v'
                    | 'x'
                    | 'p'
                    | 'P'
                    | 'A'
                    | 'z'
                    | 'b'
                    | 'B'
                    | '0'..='7' => {
                        out.push('\\');
                        out.push(e);
                    }
                    // Go accepts an escaped punctuation character as itself.
                    e if e.is_ascii_punctuation() && e != '<' && e != '>' => {
                        out.push('\\');
                        out.push(e);
                    }
                    e => return Err(format!("invalid escape sequence: `\\{e}`")),
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // `[^]...]` and `[]...]`: a leading `]` is literal in both.
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            '[' if in_class => {
                // `[:alpha:]` inside a class is shared syntax; a bare `[` is
                // a literal in Go but opens a nested class in regex.
                if chars.peek() == Some(&':') {
                    out.push('[');
                } else {
                    out.push_str("\\[");
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '-' | '~' if in_class && chars.peek() == Some(&c) => {
                // regex reads `&&`, `--` and `~~` as class set operations;
                // Go reads two literal characters.
                out.push('\\');
                out.push(c);
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                out.push('(');
                out.push('?');
                chars.next();
                // Go accepts `(?flags)`, `(?flags:...)` and `(?P<name>...)`.
                match chars.peek() {
                    Some('P') => {}
                    _ => {
                        let mut flags = String::new();
                        while let Some(&f) = chars.peek() {
                            if f == ')' || f == ':' {
                                break;
                            }
                            flags.push(f);
                            chars.next();
                        }
                        if flags.is_empty() || !flags.chars().all(|f| "imsU-".contains(f)) {
                            return Err(format!("invalid or unsupported Perl syntax: `(?{flags}`"));
                        }
                        out.push_str(&flags);
                    }
                }
            }
            '{' if !in_class => {
                let rest: String = chars.clone().take_while(|&c| c != '}').collect();
                let counts = rest.split(',').map(str::parse::<u64>);
                if rest.len() < 24
                    && chars.clone().any(|c| c == '}')
                    && counts.clone().all(|n| n.is_ok())
                    && counts.flatten().any(|n| n > 1000)
                {
                    return Err(format!("invalid repeat count: `{{{rest}}}`"));
                }
                out.push('{');
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        GoRegex::new(p).unwrap().is_match(s.as_bytes())
    }

    #[test]
    fn go_difference_perl_classes_are_ascii() {
        assert!(!m(r"\d", "\u{0663}"));
        assert!(m(r"\d", "7"));
        assert!(!m(r"^\w$", "é"));
        assert!(m(r"^\W$", "é"));
        assert!(!m(r"\s", "\u{a0}"));
        // Go's \s has no \v.
        assert!(!m(r"\s", "\x0B"));
        assert!(m(r"^[\d\s]+$", "1 2"));
        assert!(m(r"^[^\d]$", "x"));
    }

    #[test]
    fn go_difference_word_boundary_is_ascii() {
        // é is not a word character for Go, so `caf` ends a word before it.
        assert!(m(r"caf\b", "café"));
        assert!(!m(r"\Bé", "café"));
    }

    #[test]
    fn go_difference_escapes_and_flags_go_rejects() {
        for p in [
            r"\<a",
            r"a\>",
            r"\u0041",
            r"\e",
            r"\b{start}a",
            "(?x)a b",
            "(?u)a",
            "(?R)a",
        ] {
            assert!(GoRegex::new(p).is_err(), "{p} must not compile");
        }
    }

    #[test]
    fn go_difference_repeat_count_limit() {
        assert!(GoRegex::new("a{1001}").is_err());
        assert!(GoRegex::new("a{2,1001}").is_err());
        assert!(m("^a{2,}$", "aaa"));
        assert!(m("^a{1000}$", &"a".repeat(1000)));
    }

    #[test]
    fn go_difference_quoted_literal() {
        assert!(m(r"\Qa.b*\E$", "xa.b*"));
        assert!(!m(r"\Qa.b\E", "axb"));
    }

    #[test]
    fn go_difference_class_operators_are_literal() {
        assert!(m("^[a&&b]+$", "a&&b"));
        assert!(m("^[a--]+$", "a-"));
        assert!(m("^[[]$", "["));
    }

    #[test]
    fn shared_semantics_and_rejections() {
        assert!(!m("a.b", "a\nb"));
        assert!(m("(?s)a.b", "a\nb"));
        assert!(!m("a$", "a\n"));
        assert!(m("(?i)KEY", "key"));
        assert!(m("(?P<x>a)", "a"));
        for p in ["(", "[", "(?=a)", r"(a)\1"] {
            assert!(GoRegex::new(p).is_err(), "{p}");
        }
    }
}
