//! Compiling rules as the gateway does at start-up (gateway rules) or API
//! load (API rules): keys parsed into exact codes and classes, patterns and
//! inline templates compiled, and every rule that fails dropped with a
//! warning, the way the gateway logs and skips it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::re2::GoRegex;
use super::rules::{Rule, RuleMap};
use crate::set::{TemplateFile, TemplateSet};

/// Which list a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The API definition's `error_overrides`.
    Api,
    /// The tyk.conf's `error_overrides`.
    Gateway,
}

impl Scope {
    /// `api` or `gateway`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Api => "api",
            Scope::Gateway => "gateway",
        }
    }
}

/// What the gateway logs while compiling and then ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileWarning {
    /// The list the rule is in.
    pub scope: Scope,
    /// The status key, as written.
    pub key: String,
    /// The rule's position in the key's list (`None`: the whole key).
    pub index: Option<usize>,
    /// What kind of trouble it is.
    pub kind: WarningKind,
    /// What the gateway does about it, and what to do.
    pub message: String,
}

/// The kinds of [`CompileWarning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A key that is neither a number nor `Nxx`: the key is skipped.
    BadKey,
    /// Two keys for the same slot (`403` and `0403`): the gateway picks one
    /// at random.
    DuplicateSlot,
    /// `message_pattern` does not compile: the rule is skipped.
    BadPattern,
    /// A body with `{{.` that does not parse: the rule is skipped.
    BadTemplate,
}

impl std::fmt::Display for CompileWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(
                f,
                "{} rule {:?}[{i}]: {}",
                self.scope.as_str(),
                self.key,
                self.message
            ),
            None => write!(
                f,
                "{} key {:?}: {}",
                self.scope.as_str(),
                self.key,
                self.message
            ),
        }
    }
}

/// A key after parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    /// An exact status (`403`, `0403`, `+403`, even `-1`).
    Exact(i64),
    /// A class (`4xx`): the status divided by 100.
    Class(i64),
}

/// Parses a key as the gateway does: Go's `strconv.Atoi` first, then a
/// three-byte `Nxx` with a decimal digit and lower-case `xx`. `None` for
/// anything else (the gateway skips it), including `""`.
pub fn parse_key(key: &str) -> Option<KeySlot> {
    if let Some(n) = go_atoi(key) {
        return Some(KeySlot::Exact(n));
    }
    let bytes = key.as_bytes();
    if bytes.len() == 3 && &bytes[1..] == b"xx" && bytes[0].is_ascii_digit() {
        return Some(KeySlot::Class(i64::from(bytes[0] - b'0')));
    }
    None
}

/// Go's `strconv.Atoi` on a 64-bit platform: an optional sign, then one or
/// more decimal digits, within `i64`.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `i64::from_str` takes the same sign-and-digits syntax and range.
    s.parse().ok()
}

/// A rule ready to match: its place in the source, and its compiled parts.
#[derive(Debug)]
pub struct CompiledRule {
    /// The list it came from.
    pub scope: Scope,
    /// The key, as written.
    pub key: String,
    /// Its position in the key's list as written (skipped rules count).
    pub index: usize,
    /// The rule.
    pub rule: Rule,
    pub(crate) pattern: Option<GoRegex>,
    pub(crate) inline: Option<Inline>,
}

/// An inline body template, on both engines, for both kinds of data.
#[derive(Debug)]
pub(crate) struct Inline {
    /// Gateway errors: map data (`<no value>` for a missing key).
    pub(crate) map: TemplateSet,
    /// Upstream responses: struct data (a missing field fails).
    pub(crate) strukt: TemplateSet,
}

/// The name inline bodies are parsed under; it starts with `error` only
/// because the template layer loads no other name.
pub(crate) const INLINE_NAME: &str = "error_override_body";

/// One list's rules, indexed by exact code and by class.
#[derive(Debug, Default)]
pub struct CompiledRules {
    exact: BTreeMap<i64, Vec<Arc<CompiledRule>>>,
    class: BTreeMap<i64, Vec<Arc<CompiledRule>>>,
}

impl CompiledRules {
    /// Compiles `map` as the list `scope`, collecting the gateway's
    /// warnings into `warnings`.
    pub fn compile(map: &RuleMap, scope: Scope, warnings: &mut Vec<CompileWarning>) -> Self {
        let mut out = CompiledRules::default();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (key, rules) in map {
            // An empty key is skipped without a word.
            if key.is_empty() {
                continue;
            }
            let warn = |index, kind, message: String| CompileWarning {
                scope,
                key: key.clone(),
                index,
                kind,
                message,
            };
            let mut valid = Vec::new();
            for (index, rule) in rules.iter().enumerate() {
                match compile_rule(rule) {
                    Ok((pattern, inline)) => valid.push(Arc::new(CompiledRule {
                        scope,
                        key: key.clone(),
                        index,
                        rule: rule.clone(),
                        pattern,
                        inline,
                    })),
                    Err((kind, message)) => warnings.push(warn(Some(index), kind, message)),
                }
            }
            let Some(slot) = parse_key(key) else {
                warnings.push(warn(
                    None,
                    WarningKind::BadKey,
                    "not a status code (403) or class (4xx, lower-case x): the gateway skips \
                     these rules"
                        .into(),
                ));
                continue;
            };
            let slot_name = format!("{slot:?}");
            if let Some(other) = seen.insert(slot_name, key.clone()) {
                warnings.push(warn(
                    None,
                    WarningKind::DuplicateSlot,
                    format!(
                        "{other:?} and {key:?} name the same status: the gateway keeps one of \
                         the two lists at random; merge them"
                    ),
                ));
            }
            if valid.is_empty() {
                continue;
            }
            match slot {
                KeySlot::Exact(code) => out.exact.insert(code, valid),
                KeySlot::Class(class) => out.class.insert(class, valid),
            };
        }
        out
    }

    /// The first rule for `status` that `matches` accepts: the exact list,
    /// then the class list.
    pub fn find(
        &self,
        status: i64,
        mut matches: impl FnMut(&CompiledRule) -> bool,
    ) -> Option<&Arc<CompiledRule>> {
        if let Some(rules) = self.exact.get(&status)
            && let Some(rule) = rules.iter().find(|r| matches(r))
        {
            return Some(rule);
        }
        // Go's integer division truncates toward zero, as Rust's does.
        self.class
            .get(&(status / 100))
            .and_then(|rules| rules.iter().find(|r| matches(r)))
    }

    /// Every compiled rule, exact lists first, in order.
    pub fn rules(&self) -> impl Iterator<Item = &Arc<CompiledRule>> {
        self.exact.values().chain(self.class.values()).flatten()
    }
}

type Compiled = (Option<GoRegex>, Option<Inline>);

fn compile_rule(rule: &Rule) -> Result<Compiled, (WarningKind, String)> {
    let mut pattern = None;
    if let Some(m) = &rule.matcher
        && !m.message_pattern.is_empty()
    {
        pattern = Some(GoRegex::new(&m.message_pattern).map_err(|e| {
            (
                WarningKind::BadPattern,
                format!(
                    "message_pattern {:?} is not a Go RE2 pattern ({e}): the gateway skips \
                     the rule",
                    m.message_pattern
                ),
            )
        })?);
    }
    let body = &rule.response.body;
    let inline = if body.contains("{{.") {
        Some(compile_inline(body).map_err(|e| {
            (
                WarningKind::BadTemplate,
                format!("the body template does not parse ({e}): the gateway skips the rule"),
            )
        })?)
    } else {
        None
    };
    Ok((pattern, inline))
}

fn compile_inline(body: &str) -> Result<Inline, String> {
    let file = TemplateFile {
        name: INLINE_NAME.into(),
        text: body.into(),
    };
    let strukt = TemplateSet::from_files([file]).map_err(|e| {
        e.problems()
            .first()
            .map_or_else(|| e.to_string(), |p| p.message.clone())
    })?;
    let map = strukt.for_map_data().map_err(|e| e.to_string())?;
    Ok(Inline { map, strukt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_go() {
        assert_eq!(parse_key("403"), Some(KeySlot::Exact(403)));
        assert_eq!(parse_key("0403"), Some(KeySlot::Exact(403)));
        assert_eq!(parse_key("+403"), Some(KeySlot::Exact(403)));
        assert_eq!(parse_key("-1"), Some(KeySlot::Exact(-1)));
        assert_eq!(parse_key("4xx"), Some(KeySlot::Class(4)));
        for bad in [
            "4XX",
            "40x",
            "4x",
            " 403",
            "403 ",
            "",
            "abc",
            "+",
            "x4xx",
            "99999999999999999999",
        ] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
    }
}
