//! Properties of the `5.15` profile with the gateway's shipped templates:
//! any message gives valid JSON, and any message XML can carry gives
//! well-formed XML. (The `5.14` profile breaks both, as the gateway does.)
//! And a differential property: templates generated from a grammar
//! (`scripts/differential-cases.py`) render as Go 1.26.5 rendered them
//! (`tests/differential/cases.jsonl`).

use std::sync::Arc;

use error_render::{
    ErrorRequest, Outcome, Profile, RenderOptions, Renderer, TemplateFile, TemplateSet,
};

#[path = "../deviations/mod.rs"]
mod deviations;
use deviations::{DEVIATIONS, Patch};
use proptest::prelude::*;
use quick_xml::events::Event;

fn renderer() -> Renderer {
    Renderer::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")).unwrap()
}

/// Characters XML 1.0 allows in content.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn well_formed_xml(body: &str) -> Result<String, String> {
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut text = String::new();
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(_) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::End(_) => depth -= 1,
            Event::Text(t) if depth > 0 => text.push_str(t.as_ref()),
            Event::Text(t) if !t.as_ref().trim().is_empty() => {
                return Err("text outside the root".into());
            }
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                let resolved = match name {
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "amp" => "&".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    n => match r.resolve_char_ref().map_err(|e| e.to_string())? {
                        Some(c) => c.to_string(),
                        None => return Err(format!("unknown entity &{n};")),
                    },
                };
                text.push_str(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || roots != 1 {
        return Err(format!("{roots} root elements, {depth} left open"));
    }
    Ok(text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_body_is_valid_json_with_the_message(message in any::<String>()) {
        let r = renderer().render(&ErrorRequest::code(403).message(message.clone())).unwrap();
        prop_assert_eq!(r.outcome, Outcome::Ok);
        let v: serde_json::Value = serde_json::from_str(&r.body_text())
            .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", r.body)))?;
        prop_assert_eq!(v["error"].as_str(), Some(message.as_str()));
    }

    #[test]
    fn xml_body_is_well_formed_with_the_message(
        message in any::<String>().prop_map(|s| s.chars().filter(|&c| xml_char(c)).collect::<String>())
    ) {
        let r = renderer()
            .render(&ErrorRequest::code(429).message(message.clone()).content_type("application/xml"))
            .unwrap();
        prop_assert_eq!(r.outcome, Outcome::Ok);
        let text = well_formed_xml(&r.body_text()).map_err(|e| TestCaseError::fail(format!("{e}: {:?}", r.body)))?;
        // XML normalises CR on parse only in attribute values and line ends;
        // the text read back holds the message as sent.
        prop_assert_eq!(text, message);
    }
}

#[test]
fn profile_5_14_breaks_json_on_an_apostrophe() {
    let r = renderer()
        .render(
            &ErrorRequest::code(403)
                .message("it's")
                .profile(error_render::Profile::V5_14),
        )
        .unwrap();
    assert_eq!(r.body, "{\n    \"error\": \"it\\'s\"\n}");
    assert!(serde_json::from_str::<serde_json::Value>(&r.body_text()).is_err());
}

#[test]
fn the_xml_checker_rejects_broken_xml() {
    for bad in ["<a>&</a>", "<a><b></a>", "<a/><b/>", "<a>&nope;</a>"] {
        assert!(well_formed_xml(bad).is_err(), "{bad}");
    }
    let shipped = "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>x</error>\n";
    assert_eq!(well_formed_xml(shipped).unwrap().trim(), "x");
}

#[derive(serde::Deserialize)]
struct Generated {
    template: String,
    requests: Vec<GeneratedRequest>,
}

#[derive(serde::Deserialize)]
struct GeneratedRequest {
    code: u16,
    message: String,
    content_type: String,
    profile: String,
    expect: GoResult,
}

#[derive(serde::Deserialize)]
struct GoResult {
    status: u16,
    content_type: String,
    body: String,
    outcome: String,
}

/// Each generated template, as `error.json` and `error.xml`, renders what
/// Go rendered: the outcome always, and for `ok` the status, content type
/// and body byte for byte.
#[test]
fn generated_templates_render_as_go() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/differential/cases.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut failures = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    let (mut requests, mut ok_bodies, mut exact) = (0, 0, 0);
    for (line, case) in text.lines().enumerate() {
        let case: Generated = serde_json::from_str(case).unwrap();
        let files = ["error.json", "error.xml"].map(|name| TemplateFile {
            name: name.into(),
            text: case.template.as_str().into(),
        });
        let set = TemplateSet::from_files(files).map(Arc::new);
        for req in &case.requests {
            requests += 1;
            let want = &req.expect;
            let got = match &set {
                Err(e) => (
                    "load".to_owned(),
                    0,
                    String::new(),
                    String::new(),
                    e.to_string(),
                ),
                Ok(set) => {
                    let options = RenderOptions {
                        profile: req.profile.parse::<Profile>().unwrap(),
                        ..RenderOptions::default()
                    };
                    let mut r = ErrorRequest::code(req.code).message(req.message.clone());
                    if !req.content_type.is_empty() {
                        r = r.content_type(req.content_type.clone());
                    }
                    let out = Renderer::new(Arc::clone(set), options).render(&r).unwrap();
                    (
                        out.outcome.to_string(),
                        out.status,
                        out.content_type().to_owned(),
                        out.body_text().into_owned(),
                        out.error.as_deref().unwrap_or_default().to_owned(),
                    )
                }
            };
            let same = |outcome: &str, body: &str| {
                got.0 == outcome
                    && (outcome == "load"
                        || (got.1 == want.status
                            && (outcome != "ok" || (got.2 == want.content_type && got.3 == body))))
            };
            if want.outcome == "ok" {
                ok_bodies += 1;
            }
            let id = format!("differential/cases.jsonl:{}", line + 1);
            let deviation = DEVIATIONS.iter().find(|d| d.cases.contains(&id.as_str()));
            let exactly = same(&want.outcome, &want.body);
            exact += usize::from(exactly);
            let matches = exactly
                || deviation.is_some_and(|d| {
                    used.insert(id.clone());
                    match &d.patch {
                        Patch::Outcome(ours) => same(ours, &want.body),
                        Patch::Renders(ours) => same("ok", ours),
                        Patch::Body(pairs) => {
                            let body = pairs
                                .iter()
                                .fold(want.body.clone(), |b, (go, ours)| b.replace(go, ours));
                            same(&want.outcome, &body)
                        }
                    }
                });
            if !matches {
                failures.push(format!(
                    "cases.jsonl:{} {:?} message={:?} ct={:?} profile={}:\n  got:  {} {:?} ({})\n  want: {} {:?}",
                    line + 1,
                    case.template,
                    req.message,
                    req.content_type,
                    req.profile,
                    got.0,
                    got.3,
                    got.4,
                    want.outcome,
                    want.body
                ));
            }
        }
    }
    eprintln!(
        "generated: {exact} of {requests} renders match Go byte for byte, no deviation applied"
    );
    assert!(
        requests >= 600 && ok_bodies >= 200,
        "{requests} requests, {ok_bodies} bodies"
    );
    assert!(
        failures.is_empty(),
        "{} of {requests} generated renders differ from Go:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let stale: Vec<_> = DEVIATIONS
        .iter()
        .flat_map(|d| d.cases.iter())
        .filter(|c| c.starts_with("differential/") && !used.contains(**c))
        .collect();
    assert!(
        stale.is_empty(),
        "deviations that no longer differ: {stale:?}"
    );
}
