//! Templates sent to the playground (`POST /preview/render`): checked against
//! strict limits before they are parsed, then loaded as an in-memory set.
//! Nothing is written to disk.

use std::collections::BTreeMap;

use crate::error::LoadError;
use crate::http::error::ApiError;
use crate::set::{TemplateFile, TemplateSet};

/// Inline template files per request.
pub const MAX_FILES: usize = 32;
/// Bytes per inline template file.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// Bytes of inline templates per request, all files together.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024;
/// The largest `POST /preview/render` body: the templates, JSON-escaped,
/// and the rest of the request.
pub const MAX_BODY_BYTES: usize = 2 * MAX_TOTAL_BYTES;
/// The longest inline file name.
const MAX_NAME_BYTES: usize = 128;

/// Checks the inline files against the limits and names the first that is
/// over, then loads them as the gateway would load a folder holding them.
/// The outer error is the request's fault (over a limit, a bad name); the
/// inner one is the templates' (they do not parse), shown as a render
/// outcome.
pub(crate) fn load(
    templates: BTreeMap<String, String>,
) -> Result<Result<TemplateSet, LoadError>, ApiError> {
    // LIMITS: inline (count and sizes checked here until the set enforces
    // RenderLimits::inline() itself, including range, output and time).
    if templates.len() > MAX_FILES {
        return Err(ApiError::LimitExceeded(format!(
            "{} templates sent: the playground takes at most {MAX_FILES}",
            templates.len()
        )));
    }
    let mut total = 0usize;
    for (name, text) in &templates {
        check_name(name)?;
        if text.len() > MAX_FILE_BYTES {
            return Err(ApiError::LimitExceeded(format!(
                "template {name} is {} bytes: the playground takes at most {MAX_FILE_BYTES} \
                 bytes per template",
                text.len()
            )));
        }
        total += text.len();
    }
    if total > MAX_TOTAL_BYTES {
        return Err(ApiError::LimitExceeded(format!(
            "the templates hold {total} bytes together: the playground takes at most \
             {MAX_TOTAL_BYTES}"
        )));
    }
    let files = templates.into_iter().map(|(name, text)| TemplateFile {
        name,
        text: text.into(),
    });
    Ok(TemplateSet::from_files(files))
}

/// A file name the gateway would load from a folder: a plain base name
/// starting with `error`.
fn check_name(name: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::BadParameter {
        name: "templates",
        message: format!("file name {:?} {why}", truncate(name)),
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(bad(&format!("is longer than {MAX_NAME_BYTES} bytes")));
    }
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(bad("is not a plain file name"));
    }
    if !crate::set::is_template_name(name) {
        return Err(bad(
            "does not start with `error`: the gateway only loads error* files",
        ));
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, text: &str) -> BTreeMap<String, String> {
        [(name.to_owned(), text.to_owned())].into()
    }

    #[test]
    fn limits_name_what_is_over() {
        let big = "x".repeat(MAX_FILE_BYTES + 1);
        let err = load(one("error.json", &big)).unwrap_err();
        assert!(
            matches!(&err, ApiError::LimitExceeded(m) if m.contains("error.json")),
            "{err}"
        );

        let many: BTreeMap<String, String> = (0..=MAX_FILES)
            .map(|i| (format!("error_{}.json", 400 + i), "x".to_owned()))
            .collect();
        let err = load(many).unwrap_err();
        assert!(
            matches!(&err, ApiError::LimitExceeded(m) if m.contains("33 templates")),
            "{err}"
        );

        let total: BTreeMap<String, String> = (0..5)
            .map(|i| {
                (
                    format!("error_{}.json", 400 + i),
                    "x".repeat(MAX_FILE_BYTES),
                )
            })
            .collect();
        let err = load(total).unwrap_err();
        assert!(
            matches!(&err, ApiError::LimitExceeded(m) if m.contains("together")),
            "{err}"
        );
    }

    #[test]
    fn names_must_be_plain_error_files() {
        for name in ["../error.json", "x/error.json", "notes.txt", ""] {
            let err = load(one(name, "x")).unwrap_err();
            assert_eq!(err.code(), "invalid_parameter", "{name}");
        }
        assert!(load(one("error.json", "{{.Message}}")).unwrap().is_ok());
        assert!(load(one("error.json", "{{.Message")).unwrap().is_err());
    }
}
