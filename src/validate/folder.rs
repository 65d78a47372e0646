//! The folder-level pass: reading the folder as the gateway does (every
//! `error*` entry), reporting every file that does not load, and the file
//! names the gateway would ignore or wrongly load.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::Path;

use super::{Collector, Finding, Rule, ValidateError};
use crate::error::LoadError;
use crate::limits::RenderLimits;
use crate::native::{NativeSet, is_native_name};
use crate::set::{ReadError, TemplateFile, TemplateSet, is_template_name};

/// The folder after loading: the set (without the files that failed), and
/// which `error*` files failed.
pub(crate) struct Loaded {
    /// The set, when at least one template loaded.
    pub(crate) set: Option<TemplateSet>,
    /// Names of `error*` files that exist but did not load.
    pub(crate) failed: BTreeSet<String>,
    /// The `.tera` files that loaded (empty when none did).
    pub(crate) native: NativeSet,
}

/// Files the gateway ships in its `templates` folder that are not error
/// templates (webhook bodies); not worth a warning.
const GATEWAY_OWN_FILES: [&str; 2] = ["default_webhook.json", "breaker_webhook.json"];

/// Suffixes editors, merge tools and package managers leave behind.
const LEFTOVER_SUFFIXES: [&str; 19] = [
    "~",
    ".swp",
    ".swo",
    ".swn",
    ".swx",
    ".bak",
    ".backup",
    ".orig",
    ".rej",
    ".old",
    ".tmp",
    ".save",
    ".dpkg-old",
    ".dpkg-new",
    ".dpkg-dist",
    ".rpmnew",
    ".rpmsave",
    ".ucf-old",
    ".ucf-dist",
];

/// Loads `dir`, reporting unreadable, non-UTF-8 and unparsable templates,
/// directories named `error*`, an empty folder, and file-name problems.
pub(crate) fn load(dir: &Path, out: &mut Collector) -> Result<Loaded, ValidateError> {
    let unreadable = |e: std::io::Error| ValidateError::DirUnreadable {
        path: dir.to_owned(),
        message: e.to_string(),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(ValidateError::NotADir {
                path: dir.to_owned(),
            });
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(ValidateError::DirNotFound {
                path: dir.to_owned(),
            });
        }
        Err(e) => return Err(unreadable(e)),
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        // A name that is not UTF-8 cannot be `error*` (ASCII) nor be
        // reported readably; the gateway's glob matches bytes the same way.
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Follows symlinks, as the gateway does (ConfigMap mounts are links).
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        entries.push((name, is_dir));
    }
    entries.sort();

    let mut files = Vec::new();
    let mut failed = BTreeSet::new();
    let mut any_template = false;
    let mut native_names = Vec::new();
    for (name, is_dir) in entries {
        if is_dir {
            if is_template_name(&name) {
                any_template = true;
                out.push(Finding::new(
                    Rule::ParseError,
                    Some(name.clone()),
                    format!(
                        "`{name}` is a folder, and the gateway reads every entry whose name \
                         starts with `error` as a template: it fails to start (\"is a \
                         directory\"); rename or move the folder"
                    ),
                ));
            }
            continue;
        }
        check_name(&name, out);
        if is_native_name(&name) {
            native_names.push(name.clone());
        }
        if !is_template_name(&name) {
            continue;
        }
        any_template = true;
        out.checked(Rule::ParseError, Some(&name));
        out.checked(Rule::NotUtf8, Some(&name));
        match read_template(dir, &name, out) {
            Ok(file) => files.push(file),
            Err(finding) => {
                failed.insert(name);
                out.push(finding);
            }
        }
    }
    out.checked(Rule::NoTemplates, None);
    if !any_template {
        out.push(Finding::new(
            Rule::NoTemplates,
            None,
            "no template: the gateway loads the files whose names start with `error` \
             (error.json, error.xml, error_<code>.json ...) and refuses to start when there \
             is none; add error.json",
        ));
    }
    let set = assemble(files, &mut failed, out);
    let native = load_native(dir, &native_names, out);
    Ok(Loaded {
        set,
        failed,
        native,
    })
}

/// Reads and loads the `.tera` files as the service does, reporting every
/// file that cannot be read, is not UTF-8 (Tera needs it) or does not load;
/// the set of the others, so that their renders are still checked.
fn load_native(dir: &Path, names: &[String], out: &mut Collector) -> NativeSet {
    let real_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    let max = crate::limits::RenderLimits::service().max_template_bytes;
    let mut files = Vec::new();
    for name in names {
        out.checked(Rule::TeraError, Some(name));
        let finding = |message: String| Finding::new(Rule::TeraError, Some(name.clone()), message);
        let bytes = match crate::set::read_template(dir, &real_dir, name, max) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                out.push(finding(format!(
                    "error-render cannot read it ({e}), so the set does not load"
                )));
                continue;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => files.push(TemplateFile {
                name: name.clone(),
                text: text.into(),
            }),
            Err(e) => out.push(finding(format!(
                "not valid UTF-8 (byte {}): Tera templates must be, so the set does not load; \
                 save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ))),
        }
    }
    // Tera reports one assembly error (a missing parent) at a time: drop
    // the files named and try again, a bounded number of times.
    for _ in 0..=names.len() {
        if files.is_empty() {
            break;
        }
        match NativeSet::from_files(files.clone()) {
            Ok(set) => return set,
            Err(e) => {
                let problems = e.problems();
                let mut dropped = BTreeSet::new();
                for p in problems {
                    dropped.insert(p.file.clone());
                    out.push(
                        Finding::new(
                            Rule::TeraError,
                            Some(p.file),
                            format!(
                                "{}: error-render refuses a set with a .tera file that does not \
                                 load (a reload keeps the last good set)",
                                p.message
                            ),
                        )
                        .at(p.line, p.column),
                    );
                }
                let before = files.len();
                files.retain(|f| !dropped.contains(&f.name));
                if files.len() == before {
                    break;
                }
            }
        }
    }
    NativeSet::empty()
}

/// Reads one template as the service does (regular files and links within
/// the folder only, at most the service's size limit); a finding when it
/// cannot be read, and a `not-utf8` warning (the file still loads, as in
/// Go) when it is not UTF-8.
fn read_template(dir: &Path, name: &str, out: &mut Collector) -> Result<TemplateFile, Finding> {
    let finding = |message: String| Finding::new(Rule::ParseError, Some(name.to_owned()), message);
    let real_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    let max = crate::limits::RenderLimits::service().max_template_bytes;
    let bytes = match crate::set::read_template(dir, &real_dir, name, max) {
        Ok(Some(bytes)) => bytes,
        // Made a folder since the listing.
        Ok(None) => return Err(finding(format!("`{name}` is a folder; rename or move it"))),
        Err(ReadError::Io { source, .. }) => {
            return Err(finding(format!(
                "cannot be read ({source}): the gateway would fail to start; fix its permissions"
            )));
        }
        Err(e) => return Err(finding(format!("error-render refuses it: {e}"))),
    };
    // Engine text, as the service's loader makes it.
    let text = crate::rawbytes::from_bytes(&bytes).into_owned();
    match std::str::from_utf8(&bytes) {
        Ok(_) => {}
        Err(e) => {
            // Go loads it and sends its bytes: a warning for the clients,
            // and the file still goes through every other check.
            let at = e.valid_up_to();
            let valid = String::from_utf8_lossy(&bytes[..at]).into_owned();
            let line = valid.matches('\n').count() + 1;
            let column = at - valid.rfind('\n').map_or(0, |i| i + 1) + 1;
            out.push(
                Finding::new(
                    Rule::NotUtf8,
                    Some(name.to_owned()),
                    format!(
                        "not valid UTF-8 (byte {at}): the gateway (and error-render) loads it \
                         and sends these bytes as they are, so clients get a body that is not \
                         UTF-8 (not valid JSON or XML to a strict client); save the file as UTF-8"
                    ),
                )
                .at(Some(line), Some(column)),
            );
        }
    }
    Ok(TemplateFile {
        name: name.to_owned(),
        text: text.into(),
    })
}

/// Parses the readable files. Every file that does not parse is reported;
/// the others are assembled again without them, so that the remaining
/// checks still find the problems of the files that do parse.
fn assemble(
    mut files: Vec<TemplateFile>,
    failed: &mut BTreeSet<String>,
    out: &mut Collector,
) -> Option<TemplateSet> {
    if files.is_empty() {
        return None;
    }
    match TemplateSet::from_engine_files(files.clone(), RenderLimits::service()) {
        Ok(_) => {}
        Err(LoadError::Parse(problems)) => {
            for p in problems {
                failed.insert(p.file.clone());
                out.push(
                    Finding::new(
                        Rule::ParseError,
                        Some(p.file),
                        format!(
                            "{}: the gateway refuses to start with a template that does not parse",
                            p.message
                        ),
                    )
                    .at(p.line, p.column),
                );
            }
        }
        Err(other) => {
            out.push(Finding::new(Rule::ParseError, None, other.to_string()));
            return None;
        }
    }
    files.retain(|f| !failed.contains(&f.name));
    if files.is_empty() {
        return None;
    }
    match TemplateSet::from_engine_files(files, RenderLimits::service()) {
        Ok(set) => Some(set),
        // Dropping files can only remove problems; if one appears anyway
        // (a cross-file effect), report it and stop there.
        Err(e) => {
            for p in e.problems() {
                out.push(
                    Finding::new(Rule::ParseError, Some(p.file), p.message).at(p.line, p.column),
                );
            }
            None
        }
    }
}

/// Whether the name is an editor backup, swap, lock or merge leftover.
pub(crate) fn is_editor_leftover(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with(".#")
        || (name.len() > 2 && name.starts_with('#') && name.ends_with('#'))
        || LEFTOVER_SUFFIXES
            .iter()
            .any(|s| lower.len() > s.len() && lower.ends_with(s))
}

/// The file-name lints of one file: editor leftovers (loaded by the
/// gateway or not) and files that look like templates but are not loaded.
pub(crate) fn check_name(name: &str, out: &mut Collector) {
    out.checked(Rule::EditorLeftover, Some(name));
    if is_editor_leftover(name) {
        let message = if is_template_name(name) {
            format!(
                "`{name}` looks like an editor leftover, and the gateway loads it: it parses \
                 every file whose name starts with `error`, so a syntax error in this copy \
                 stops the gateway, and its {{{{define}}}}s can replace the real ones; \
                 delete it"
            )
        } else {
            format!(
                "`{name}` looks like an editor leftover; the gateway ignores it, but it \
                 does not belong in the template folder; delete it"
            )
        };
        out.push(Finding::new(
            Rule::EditorLeftover,
            Some(name.to_owned()),
            message,
        ));
        return;
    }
    if is_template_name(name) || name.starts_with('.') || GATEWAY_OWN_FILES.contains(&name) {
        return;
    }
    let lower = name.to_ascii_lowercase();
    let looks_like_template =
        lower.ends_with(".json") || lower.ends_with(".xml") || lower.contains("error");
    if !looks_like_template {
        return;
    }
    let advice = if lower.starts_with("error") {
        // `error` is ASCII, so byte 5 is a character boundary.
        format!(
            "names are case-sensitive: rename it to `error{}`",
            &name["error".len()..]
        )
    } else if let Some((code, ext)) = name.split_once('.')
        && code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit())
    {
        format!("rename it to `error_{code}.{ext}`")
    } else {
        "rename it (error.json, error_<code>.json ...) or move it out of the folder".to_owned()
    };
    out.push(Finding::new(
        Rule::NotLoadedByGateway,
        Some(name.to_owned()),
        format!(
            "`{name}` is not loaded: the gateway loads only files whose names start with \
             `error`; {advice}"
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_leftovers() {
        for name in [
            "error.json~",
            "error.json.swp",
            ".error.json.swp",
            "error.json.bak",
            "error.xml.ORIG",
            ".#error.json",
            "#error.json#",
        ] {
            assert!(is_editor_leftover(name), "{name}");
        }
        for name in ["error.json", "error_401.xml", "~", ".bak", "errors.txt"] {
            assert!(!is_editor_leftover(name), "{name}");
        }
    }

    fn rules_for(name: &str) -> Vec<Rule> {
        let mut out = Collector::default();
        check_name(name, &mut out);
        out.findings.into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn names_the_gateway_ignores() {
        assert_eq!(rules_for("Error.json"), [Rule::NotLoadedByGateway]);
        assert_eq!(rules_for("401.json"), [Rule::NotLoadedByGateway]);
        assert_eq!(rules_for("my_error.txt"), [Rule::NotLoadedByGateway]);
        assert_eq!(rules_for("default_webhook.json"), []);
        assert_eq!(rules_for("README.md"), []);
        assert_eq!(rules_for(".gitkeep"), []);
        assert_eq!(rules_for("error_401.json"), []);
    }
}
