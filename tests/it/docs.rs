//! Keeps the documentation true of the repository: every relative link in
//! README.md and docs/*.md reaches an existing file (and heading), and the
//! conformance counts the docs state are the corpus files' own, and the
//! settings table is the one the settings are declared with.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let docs = std::fs::read_dir(root().join("docs")).expect("docs/ is readable");
    for entry in docs {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The text outside fenced code blocks, where links are links.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of `[text](target)` links.
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut targets = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split_whitespace().next().unwrap_or_default();
        targets.push(target.to_owned());
        rest = &rest[end..];
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-`
/// and `_` dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn anchors(page: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(page)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", page.display()));
    prose(&text)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_relative_link_in_the_docs_reaches_a_file_and_heading() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a page is readable");
        let dir = page.parent().expect("a page is in a folder");
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let path = if file.is_empty() {
                page.clone()
            } else {
                dir.join(file)
            };
            checked += 1;
            if !path.exists() {
                broken.push(format!("{}: {target}: no such file", relative(&page)));
                continue;
            }
            if let Some(anchor) = anchor
                && path.extension().is_some_and(|e| e == "md")
                && !anchors(&path).contains(anchor)
            {
                broken.push(format!(
                    "{}: {target}: no heading with that anchor in {}",
                    relative(&page),
                    relative(&path)
                ));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_sees_links_anchors_and_code() {
    let text = "See [a](docs/a.md#the-service-error-render-serve) and [b](../x \"t\").\n\
                ```\n[not](a-link.md)\n```\n";
    assert_eq!(
        link_targets(text),
        ["docs/a.md#the-service-error-render-serve", "../x"]
    );
    assert_eq!(
        slug(" The service: `error-render serve`"),
        "the-service-error-render-serve"
    );
    assert_eq!(slug("override_messages"), "override_messages");
}

fn lines(file: &str) -> Vec<serde_json::Value> {
    let path = root().join("tests/conformance").join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON case"))
        .collect()
}

#[test]
fn compatibility_page_states_the_corpus_counts() {
    let corpus = lines("cases.jsonl");
    let ours = lines("cases-extra.jsonl");
    let legacy =
        |cases: &[serde_json::Value]| cases.iter().filter(|c| c["mode"] == "legacy").count();
    let page = std::fs::read_to_string(root().join("docs/compatibility.md"))
        .expect("docs/compatibility.md is readable");
    // The page wraps lines; compare with single spaces.
    let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
    for claim in [
        format!("the {}-case corpus", corpus.len()),
        format!(
            "{} legacy-mode and {} override-mode cases",
            legacy(&corpus),
            corpus.len() - legacy(&corpus)
        ),
        format!("plus {} cases of our own", ours.len()),
        format!("All {} legacy-mode cases", legacy(&corpus) + legacy(&ours)),
    ] {
        assert!(
            page.contains(&claim),
            "docs/compatibility.md should say {claim:?} (counted from tests/conformance/)"
        );
    }
}

#[test]
fn readme_names_the_rust_version_cargo_toml_declares() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("Cargo.toml declares rust-version")
        .trim_matches('"');
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("Rust {version} or later")),
        "README.md should say the first command needs Rust {version} or later"
    );
}

/// The header of the settings table in docs/settings.md.
const SETTINGS_HEADER: &str = "| Key | Environment variable | Default | Meaning |";

/// docs/settings.md's table is generated from the settings' declaration
/// (`ConfigLayer::settings`): a setting missing from it, or documented with
/// another key, variable or default, fails here. Run with
/// `UPDATE_SETTINGS_DOCS=1` to write the table from the declaration.
#[test]
fn settings_table_is_the_declared_settings() {
    let path = root().join("docs/settings.md");
    let text = std::fs::read_to_string(&path).expect("docs/settings.md is readable");
    let start = text
        .find(SETTINGS_HEADER)
        .expect("docs/settings.md has the settings table");
    // Past the header line and the separator line.
    let separator = start + text[start..].find('\n').expect("a separator row") + 1;
    let body = separator + text[separator..].find('\n').expect("rows after it") + 1;
    let end = body + text[body..].find("\n\n").unwrap_or(text.len() - body) + 1;
    let documented: Vec<&str> = text[body..end].lines().collect();
    let declared: Vec<String> = error_render::config::ConfigLayer::settings()
        .iter()
        .map(|s| s.markdown_row())
        .collect();
    if documented == declared {
        return;
    }
    if std::env::var_os("UPDATE_SETTINGS_DOCS").is_some() {
        let table = declared.join("\n") + "\n";
        let updated = format!("{}{table}{}", &text[..body], &text[end..]);
        std::fs::write(&path, updated).expect("docs/settings.md is writable");
        return;
    }
    let missing: Vec<&String> = declared
        .iter()
        .filter(|row| !documented.contains(&row.as_str()))
        .collect();
    let stale: Vec<&&str> = documented
        .iter()
        .filter(|row| !declared.contains(&(**row).to_owned()))
        .collect();
    panic!(
        "docs/settings.md's settings table is not the declared one (src/config/mod.rs).\n\
         Declared but not documented so:\n{missing:#?}\n\
         Documented but not declared so:\n{stale:#?}\n\
         (Both empty: the rows are in another order.)\n\
         Run `UPDATE_SETTINGS_DOCS=1 cargo test --test it docs::` to regenerate it."
    );
}
