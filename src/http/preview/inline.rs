//! Templates sent to the playground (`POST /preview/render`): loaded as an
//! in-memory set under [`RenderLimits::inline`]. Nothing is written to disk.

use std::collections::BTreeMap;

use crate::error::LoadError;
use crate::http::error::ApiError;
use crate::limits::{INLINE_MAX_TEMPLATE_BYTES, INLINE_MAX_TEMPLATES, RenderLimits};
use crate::native::{NativeSet, is_native_name};
use crate::set::{TemplateFile, TemplateSet};

/// The largest `POST /preview/render` body: room for as many templates of
/// the largest size as [`RenderLimits::inline`] allows, plus the rest of the
/// request. A body over it is refused with `413` before it is parsed.
pub const MAX_BODY_BYTES: usize = INLINE_MAX_TEMPLATES * INLINE_MAX_TEMPLATE_BYTES + 64 * 1024;

/// The longest inline file name.
const MAX_NAME_BYTES: usize = 128;

/// Loads the inline files as the service would load a folder holding them,
/// under the strict inline limits (number and size of files, template
/// calls; range iterations, output and time when rendering): the `error*`
/// files as Tyk's set, the `*.tera` files as error-render's own pages. The
/// outer error is the request's fault (a name that is neither); the inner
/// one is the templates' (over a limit, or not parsing, every file of both
/// kinds reported), shown as a render outcome with file, line and column.
pub(crate) fn load(
    templates: BTreeMap<String, String>,
) -> Result<Result<(TemplateSet, NativeSet), LoadError>, ApiError> {
    for name in templates.keys() {
        check_name(name)?;
    }
    let (native, go): (Vec<TemplateFile>, Vec<TemplateFile>) = templates
        .into_iter()
        .map(|(name, text)| TemplateFile {
            name,
            text: text.into(),
        })
        .partition(|f| is_native_name(&f.name));
    let go = TemplateSet::from_files_limited(go, RenderLimits::inline());
    let native = NativeSet::from_files_limited(native, RenderLimits::inline());
    Ok(match (go, native) {
        (Ok(go), Ok(native)) => Ok((go, native)),
        (Err(LoadError::Parse(mut a)), Err(LoadError::Parse(b))) => {
            a.extend(b);
            Err(LoadError::Parse(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    })
}

/// A file name the service would load from a folder: a plain base name
/// starting with `error` (Tyk's) or ending in `.tera` (error-render's).
fn check_name(name: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::BadParameter {
        name: "templates",
        message: format!(
            "file name {:?} {why}",
            name.chars().take(40).collect::<String>()
        ),
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(bad(&format!("is longer than {MAX_NAME_BYTES} bytes")));
    }
    if name.contains(['/', '\\', '\0']) {
        return Err(bad("is not a plain file name"));
    }
    if !crate::set::is_template_name(name) && !is_native_name(name) {
        return Err(bad(
            "neither starts with `error` (the gateway loads only error* files) nor ends in \
             `.tera` (error-render's own pages)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, text: &str) -> BTreeMap<String, String> {
        [(name.to_owned(), text.to_owned())].into()
    }

    #[test]
    fn limits_are_load_problems_naming_the_file() {
        let max = RenderLimits::inline().max_template_bytes.unwrap();
        let err = load(one("error.json", &"x".repeat(max + 1)))
            .unwrap()
            .unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.file, "error.json");
        assert!(p.message.contains("max_template_bytes"), "{p}");

        let err = load(one(
            "error.json",
            r#"{{define "a"}}{{template "a"}}{{end}}{{template "a"}}"#,
        ))
        .unwrap()
        .unwrap_err();
        assert!(err.to_string().contains("error.json"), "{err}");
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

    #[test]
    fn tera_pages_load_beside_and_their_problems_join_the_go_ones() {
        let mut both = one("error.json", "{{.Message");
        both.insert("404.html.tera".into(), "{% if x %}".into());
        let err = load(both).unwrap().unwrap_err();
        let files: Vec<String> = err.problems().into_iter().map(|p| p.file).collect();
        assert_eq!(files, ["error.json", "404.html.tera"]);
        let mut good = one("error.json", "{{.Message}}");
        good.insert("404.html.tera".into(), "<p>{{ Message }}</p>".into());
        let (_, native) = load(good).unwrap().unwrap();
        assert_eq!(native.files().len(), 1);
    }
}
