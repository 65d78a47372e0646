//! Checking Error Overrides rules (a `tyk.conf`'s `error_overrides`, and
//! the API definitions in a folder): what the gateway logs and skips while
//! compiling, what makes it drop a request, and what surely is not meant.

use std::path::Path;
use std::sync::Arc;

use super::{Collector, Finding, Rule, ValidateOptions};
use crate::error_overrides::flags::KNOWN_FLAGS;
use crate::error_overrides::source::{RuleSource, RulesError, read_api_dir, read_tyk_conf};
use crate::error_overrides::{CompiledRules, Scope, WarningKind};
use crate::set::TemplateSet;

/// The rules recorded as checked on a rules file.
const RULES: [Rule; 8] = [
    Rule::ErrorOverrideKey,
    Rule::ErrorOverridePattern,
    Rule::ErrorOverrideTemplate,
    Rule::ErrorOverrideMissingTemplate,
    Rule::ErrorOverrideLiteralBody,
    Rule::ErrorOverrideShadowed,
    Rule::ErrorOverrideUnknownFlag,
    Rule::ErrorOverrideStatus,
];

/// Checks the rules of the tyk.conf and API folder named in `opts` against
/// the loaded templates (`None`: the set did not load, so template checks
/// are skipped).
pub(crate) fn check(opts: &ValidateOptions, set: Option<&Arc<TemplateSet>>, out: &mut Collector) {
    let mut sources = Vec::new();
    let mut apis = opts.apis.clone();
    if let Some(conf) = &opts.tyk_conf {
        // A tyk.conf that cannot be read is reported by the overrides checks.
        if let Ok(g) = read_tyk_conf(conf) {
            // Without --apis, the gateway's own app_path, when it is a folder.
            if apis.is_none()
                && let Some(app_path) = &g.app_path
            {
                let dir = conf.parent().unwrap_or(Path::new("")).join(app_path);
                apis = dir.is_dir().then_some(dir);
            }
            ignored_messages(conf, &g, out);
            sources.push((Scope::Gateway, g.source));
        }
    }
    if let Some(dir) = &apis {
        match read_api_dir(dir) {
            Ok(apis) => sources.extend(apis.into_iter().map(|a| (Scope::Api, a.source))),
            Err(errors) => {
                for e in errors {
                    let finding = match e {
                        RulesError::Invalid(s) => {
                            Finding::new(Rule::ErrorOverrideKey, Some(s.file), s.message)
                                .at(s.line, s.column)
                        }
                        other => Finding::new(
                            Rule::ErrorOverrideKey,
                            Some(dir.display().to_string()),
                            other.to_string(),
                        ),
                    };
                    out.push(finding);
                }
            }
        }
    }
    for (scope, source) in &sources {
        check_source(*scope, source, set, out);
    }
}

/// `override_messages` beside `error_overrides`: the gateway that reads the
/// rules (5.13+) does not apply the messages.
fn ignored_messages(
    conf: &Path,
    g: &crate::error_overrides::source::GatewayRules,
    out: &mut Collector,
) {
    let file = conf.display().to_string();
    out.checked(Rule::ErrorOverrideIgnoredMessages, Some(&file));
    if g.source.rules.is_empty() {
        return;
    }
    let Ok(text) = std::fs::read_to_string(conf) else {
        return;
    };
    let Ok(serde_json::Value::Object(root)) = serde_json::from_str::<serde_json::Value>(&text)
    else {
        return;
    };
    let has_messages = root
        .get("override_messages")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|m| !m.is_empty());
    if !has_messages {
        return;
    }
    let loc = crate::overrides::Locator::new(&text, crate::overrides::FileFormat::Json);
    let (line, column) = loc.line_col(loc.find_key(0, "override_messages"));
    out.push(
        Finding::new(
            Rule::ErrorOverrideIgnoredMessages,
            Some(file),
            "override_messages beside error_overrides: a 5.13+ gateway does not apply them \
             (and error-render ignores them unless ignore_overrides: false is set); write them \
             as message-only error_overrides rules instead",
        )
        .at(line, column),
    );
}

fn check_source(
    scope: Scope,
    source: &RuleSource,
    set: Option<&Arc<TemplateSet>>,
    out: &mut Collector,
) {
    let file = source.file.display().to_string();
    for rule in RULES {
        out.checked(rule, Some(&file));
    }
    let at = |key: &str| {
        source
            .positions
            .get(key)
            .map_or((None, None), |&(l, c)| (Some(l), Some(c)))
    };
    let mut push = |rule: Rule, key: &str, message: String| {
        let (line, column) = at(key);
        out.push(Finding::new(rule, Some(file.clone()), message).at(line, column));
    };
    let mut warnings = Vec::new();
    let _ = CompiledRules::compile(&source.rules, scope, &mut warnings);
    for w in &warnings {
        let rule = match w.kind {
            WarningKind::BadKey | WarningKind::DuplicateSlot => Rule::ErrorOverrideKey,
            WarningKind::BadPattern => Rule::ErrorOverridePattern,
            _ => Rule::ErrorOverrideTemplate,
        };
        push(rule, &w.key, w.to_string());
    }
    for (key, rules) in &source.rules {
        let mut catch_all: Option<usize> = None;
        for (index, rule) in rules.iter().enumerate() {
            let place = format!("{} rule {key:?}[{index}]", scope.as_str());
            if let Some(first) = catch_all {
                push(
                    Rule::ErrorOverrideShadowed,
                    key,
                    format!(
                        "{place} is never used: rule [{first}] before it has no match criteria \
                         and takes every error of the key; move it last or give it criteria"
                    ),
                );
            }
            let criteria = rule.matcher.as_ref().is_some_and(|m| m.has_criteria());
            if !criteria && catch_all.is_none() {
                catch_all = Some(index);
            }
            if let Some(m) = &rule.matcher
                && !m.flag.is_empty()
                && !KNOWN_FLAGS.contains(&m.flag.as_str())
            {
                push(
                    Rule::ErrorOverrideUnknownFlag,
                    key,
                    format!(
                        "{place}: flag {:?} is not one the gateway sets, so the rule never \
                         matches by flag (flags are compared as written, case included); the \
                         flags are {}",
                        m.flag,
                        KNOWN_FLAGS.join(", ")
                    ),
                );
            }
            let status = rule.response.status_code;
            if status != 0 && !(100..=999).contains(&status) {
                push(
                    Rule::ErrorOverrideStatus,
                    key,
                    format!(
                        "{place}: status_code {status} cannot be sent: the gateway panics in \
                         WriteHeader and drops the connection (upstream responses keep their \
                         status when it is 0 or below); use 100-599, or 0 to keep the original"
                    ),
                );
            }
            let body = &rule.response.body;
            if !body.contains("{{.") && body.contains("{{") && body.contains(".Message") {
                push(
                    Rule::ErrorOverrideLiteralBody,
                    key,
                    format!(
                        "{place}: the body is sent literally, braces included: the gateway \
                         treats a body as a template only when it contains `{{{{.` (no space, \
                         no trim marker); write `{{{{.Message}}}}`"
                    ),
                );
            }
            if let Some(set) = set {
                missing_templates(set, &place, rule, &mut |m| {
                    push(Rule::ErrorOverrideMissingTemplate, key, m)
                });
            }
        }
    }
}

/// A `template` the set does not hold for JSON or XML requests, and a
/// message-only rule without `error.<ext>` (upstream responses): the gateway
/// calls Execute on a nil template, panics and drops the connection.
fn missing_templates(
    set: &TemplateSet,
    place: &str,
    rule: &crate::error_overrides::Rule,
    push: &mut dyn FnMut(String),
) {
    let r = &rule.response;
    if !r.body.is_empty() {
        return;
    }
    let mut missing = Vec::new();
    if !r.template.is_empty() {
        for ext in ["json", "xml"] {
            if !set.contains(&format!("{}.{ext}", r.template)) && !set.contains(&r.template) {
                missing.push(format!(
                    "{} requests ({}.{ext} nor {})",
                    ext.to_uppercase(),
                    r.template,
                    r.template
                ));
            }
        }
        if !missing.is_empty() {
            push(format!(
                "{place}: template {:?} is not loaded for {}: the gateway panics and drops the \
                 connection; add the file (its name must start with \"error\") or fix the name",
                r.template,
                missing.join(" and ")
            ));
        }
    } else if !r.message.is_empty() {
        for ext in ["json", "xml"] {
            if !set.contains(&format!("error.{ext}")) {
                missing.push(format!("error.{ext}"));
            }
        }
        if !missing.is_empty() {
            push(format!(
                "{place}: a message-only rule answers upstream responses with {}, which is not \
                 loaded: the gateway panics and drops the connection; add it",
                missing.join(" and ")
            ));
        }
    }
}
