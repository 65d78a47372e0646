//! The Go-made conformance corpora: reference results produced by Go 1.26.5's
//! own html/template and text/template on the gateway's legacy code path.
//!
//! - `tests/conformance/`: sets of the kind real gateways carry (the shared
//!   corpus), plus our own cases (`cases-extra.jsonl`, made by Go with
//!   `scripts/conformance-extra.py`) for rules the corpus does not cover;
//! - `tests/conformance-rich/`: the wider template language, 22 themes of
//!   tagged snippets (`meta/case_tags.jsonl` names each case's theme and
//!   features).
//!
//! Every legacy case must match: the outcome, the status, and for `ok` the
//! content type and the whole body. The corpora record Go's body as a JSON
//! string, with one U+FFFD for each byte that is not valid UTF-8, so ours is
//! compared in that form (`Rendered::body_text`): byte for byte wherever the
//! corpus can say what the bytes are, and, for a body that is not UTF-8,
//! that it is not, at exactly those bytes (`src/engine/gocompat.rs` and
//! `tests/it/http.rs` check such bodies' bytes themselves). What still differs is listed once, in
//! `tests/deviations/mod.rs`, as the difference itself: Go's body with the listed text
//! patched in must then equal ours byte for byte, so a deviation hides one
//! difference, never a case. Each run prints the pass rate per theme, as
//! measured against Go's bytes with no deviation applied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use error_render::{ErrorRequest, Outcome, Profile, RenderOptions, Renderer, TemplateSet};
use serde::Deserialize;

#[path = "deviations/mod.rs"]
mod deviations;
use deviations::{DEVIATIONS, Patch};

#[derive(Deserialize)]
struct Case {
    set: String,
    code: u16,
    message: String,
    content_type: String,
    mode: String,
    profile: String,
    expect: Expect,
}

#[derive(Deserialize)]
struct Expect {
    status: u16,
    content_type: String,
    body: String,
    outcome: String,
}

#[derive(Deserialize)]
struct Tags {
    theme: String,
    tags: Vec<String>,
}

/// A corpus folder under `tests/`, its case files, and its tags (if any).
fn cases(corpus: &str, files: &[&str]) -> Vec<(String, Case)> {
    let dir = root().join(corpus);
    files
        .iter()
        .flat_map(|file| {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            text.lines()
                .enumerate()
                .map(|(i, l)| {
                    let id = format!("{corpus}/{file}:{}", i + 1);
                    let case = serde_json::from_str(l).unwrap_or_else(|e| panic!("{id}: {e}"));
                    (id, case)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// What we render for a case, in the corpus's terms.
struct Got {
    outcome: String,
    status: u16,
    content_type: String,
    body: String,
    error: Option<String>,
}

/// Sets loaded once per corpus (`Err` holds the load error).
type Loaded = BTreeMap<String, Result<Arc<TemplateSet>, String>>;

fn run(sets_dir: &Path, loaded: &mut Loaded, case: &Case, strict_tyk: bool) -> Got {
    let set = loaded
        .entry(case.set.clone())
        .or_insert_with(|| {
            TemplateSet::load(sets_dir.join(&case.set))
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone();
    let set = match set {
        Ok(set) => set,
        Err(e) => {
            return Got {
                outcome: "load".into(),
                status: 0,
                content_type: String::new(),
                body: String::new(),
                error: Some(e),
            };
        }
    };
    let options = RenderOptions {
        profile: case.profile.parse::<Profile>().unwrap(),
        strict_tyk,
        ..RenderOptions::default()
    };
    let renderer = Renderer::new(set, options);
    let mut req = ErrorRequest::code(case.code).message(case.message.clone());
    if !case.content_type.is_empty() {
        req = req.content_type(case.content_type.clone());
    }
    let got = renderer.render(&req).unwrap();
    Got {
        outcome: match got.outcome {
            Outcome::Ok => "ok",
            Outcome::Exec => "exec",
            Outcome::Missing => "missing",
            #[allow(unreachable_patterns)]
            _ => "other",
        }
        .into(),
        status: got.status,
        content_type: got.content_type().to_owned(),
        body: got.body_text().into_owned(),
        error: got.error.as_deref().map(str::to_owned),
    }
}

/// Go's expectation with a deviation's patch applied: outcome and body.
fn expected(case: &Case, patch: Option<&Patch>) -> (String, String) {
    let mut outcome = case.expect.outcome.clone();
    let mut body = case.expect.body.clone();
    match patch {
        None => {}
        Some(Patch::Body(pairs)) => {
            for (go, ours) in *pairs {
                body = body.replace(go, ours);
            }
        }
        Some(Patch::Outcome(ours)) => outcome = (*ours).to_owned(),
        Some(Patch::Renders(ours)) => {
            outcome = "ok".to_owned();
            (*ours).clone_into(&mut body);
        }
    }
    (outcome, body)
}

/// The differences between what we rendered and what is expected.
fn differences(case: &Case, got: &Got, outcome: &str, body: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    if got.outcome != outcome {
        diffs.push(format!(
            "outcome {} != {outcome} ({:?})",
            got.outcome, got.error
        ));
        return diffs;
    }
    if outcome == "load" {
        return diffs;
    }
    if got.status != case.expect.status {
        diffs.push(format!("status {} != {}", got.status, case.expect.status));
    }
    if outcome == "ok" {
        if got.content_type != case.expect.content_type {
            diffs.push(format!(
                "content type {} != {}",
                got.content_type, case.expect.content_type
            ));
        }
        if got.body != body {
            diffs.push(format!("body\n  got:  {:?}\n  want: {body:?}", got.body));
        }
    }
    diffs
}

/// Pass counts per theme (and per tag of the failing cases).
#[derive(Default)]
struct Tally {
    themes: BTreeMap<String, (usize, usize)>,
    failing_tags: BTreeMap<String, usize>,
}

impl Tally {
    fn count(&mut self, theme: &str, tags: &[String], exact: bool) {
        for key in [theme, "(all)"] {
            let entry = self.themes.entry(key.to_owned()).or_default();
            entry.1 += 1;
            if exact {
                entry.0 += 1;
            }
        }
        if !exact {
            for tag in tags {
                *self.failing_tags.entry(tag.clone()).or_default() += 1;
            }
        }
    }

    fn report(&self, corpus: &str) -> String {
        let mut out = format!("{corpus}: cases matching Go byte for byte, no deviation applied\n");
        for (theme, (pass, total)) in &self.themes {
            out += &format!(
                "  {theme:<12} {pass:>5}/{total:<5} {:6.2}%\n",
                100.0 * *pass as f64 / *total as f64
            );
        }
        if !self.failing_tags.is_empty() {
            let mut tags: Vec<_> = self.failing_tags.iter().collect();
            tags.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            out += "  differing cases per tag:";
            for (tag, n) in tags {
                out += &format!(" {tag}={n}");
            }
            out += "\n";
        }
        out
    }
}

/// Runs a corpus: returns the failures (with deviations applied) and the
/// tally (without). `themes` gives each case's theme and tags.
fn check_corpus(
    corpus: &str,
    files: &[&str],
    themes: Option<Vec<Tags>>,
    used: &mut BTreeMap<&'static str, bool>,
) -> (Vec<String>, Tally, usize) {
    let sets_dir = root().join(corpus).join("sets");
    let mut loaded = Loaded::new();
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    let mut legacy = 0;
    let all = cases(corpus, files);
    if let Some(t) = &themes {
        assert_eq!(
            t.len(),
            all.len(),
            "{corpus}: tags line for line with cases"
        );
    }
    for (i, (id, case)) in all.iter().enumerate() {
        if case.mode != "legacy" {
            continue;
        }
        legacy += 1;
        let (theme, tags) = match &themes {
            Some(t) => (t[i].theme.as_str(), t[i].tags.as_slice()),
            None => (corpus, &[][..]),
        };
        // Fields beyond `Message` are the gateway's only under strict_tyk.
        let got = run(&sets_dir, &mut loaded, case, theme == "extension");
        let (outcome, body) = expected(case, None);
        let exact = differences(case, &got, &outcome, &body).is_empty();
        tally.count(theme, tags, exact);
        let deviation = DEVIATIONS.iter().find(|d| d.cases.contains(&id.as_str()));
        let diffs = match deviation {
            None => differences(case, &got, &outcome, &body),
            Some(d) => {
                if exact {
                    failures.push(format!(
                        "{id}: matches Go now; remove it from the deviation ({}) that lists it",
                        d.reason
                    ));
                    continue;
                }
                for c in d.cases.iter().filter(|c| **c == id.as_str()) {
                    used.insert(c, true);
                }
                let (outcome, body) = expected(case, Some(&d.patch));
                differences(case, &got, &outcome, &body)
            }
        };
        if !diffs.is_empty() {
            failures.push(format!(
                "{id} ({} {} {:?} ct={:?} profile={} theme={theme} tags={tags:?}): {}",
                case.set,
                case.code,
                case.message,
                case.content_type,
                case.profile,
                diffs.join("; ")
            ));
        }
    }
    (failures, tally, legacy)
}

fn deviation_cases(prefix: &str) -> BTreeMap<&'static str, bool> {
    DEVIATIONS
        .iter()
        .flat_map(|d| d.cases.iter())
        .filter(|c| c.starts_with(prefix))
        .map(|c| (*c, false))
        .collect()
}

fn assert_clean(corpus: &str, failures: &[String], used: &BTreeMap<&str, bool>, checked: usize) {
    let unused: Vec<_> = used.iter().filter(|(_, u)| !**u).map(|(c, _)| *c).collect();
    assert!(
        failures.is_empty(),
        "{} of {checked} {corpus} cases differ from Go:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(unused.is_empty(), "deviations name no case: {unused:?}");
}

#[test]
fn legacy_cases_match_go() {
    let corpus = "conformance";
    let mut used = deviation_cases("conformance/");
    let (failures, tally, legacy) = check_corpus(
        corpus,
        &["cases.jsonl", "cases-extra.jsonl"],
        None,
        &mut used,
    );
    eprint!("{}", tally.report(corpus));
    // 732 corpus cases and 152 of our own.
    assert_eq!(legacy, 884, "legacy cases in the corpus files");
    assert_clean(corpus, &failures, &used, legacy);
}

#[test]
fn rich_cases_match_go() {
    let corpus = "conformance-rich";
    let tags_path = root().join(corpus).join("meta/case_tags.jsonl");
    let themes: Vec<Tags> = std::fs::read_to_string(&tags_path)
        .unwrap_or_else(|e| panic!("{}: {e}", tags_path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut used = deviation_cases("conformance-rich/");
    let (failures, tally, legacy) = check_corpus(corpus, &["cases.jsonl"], Some(themes), &mut used);
    eprint!("{}", tally.report(corpus));
    assert_eq!(legacy, 3318, "legacy cases in the rich corpus");
    assert_clean(corpus, &failures, &used, legacy);
}

#[test]
fn every_deviation_gives_its_reason_and_test() {
    for d in DEVIATIONS {
        assert!(!d.cases.is_empty() && !d.reason.is_empty(), "{}", d.reason);
        assert!(
            d.test.starts_with("gotmpl_difference_") || d.test.starts_with("deviation_"),
            "{}: name the test that pins it",
            d.test
        );
        let src = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/gocompat.rs"),
        )
        .unwrap();
        assert!(
            src.contains(&format!("fn {}()", d.test)),
            "{}: no such test in src/engine/gocompat.rs",
            d.test
        );
    }
}

/// Every set Go refuses to load (outcome `load` in either corpus) gets a
/// `parse-error` finding from the validator, naming the file, line and
/// column, as Go's error does.
#[test]
fn validator_reports_every_load_error_go_reports() {
    use error_render::validate::{Rule, ValidateOptions, validate};
    let mut sets = std::collections::BTreeSet::new();
    for (corpus, files) in [
        ("conformance", &["cases.jsonl", "cases-extra.jsonl"][..]),
        ("conformance-rich", &["cases.jsonl"][..]),
    ] {
        for (_, case) in cases(corpus, files) {
            if case.expect.outcome == "load" {
                sets.insert(root().join(corpus).join("sets").join(&case.set));
            }
        }
    }
    assert!(sets.len() > 40, "{} sets Go refuses", sets.len());
    let mut missing = Vec::new();
    for dir in &sets {
        let report = validate(&ValidateOptions::new(dir)).unwrap();
        let placed = report.findings.iter().any(|f| {
            f.rule == Rule::ParseError && f.file.is_some() && f.line.is_some() && f.column.is_some()
        });
        if !placed {
            missing.push(format!("{}: {:?}", dir.display(), report.findings));
        }
    }
    assert!(
        missing.is_empty(),
        "sets Go refuses without a placed parse-error:\n{}",
        missing.join("\n")
    );
}
