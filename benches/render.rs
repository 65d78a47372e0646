//! Render cost of the library: the shipped `error.json` and a per-code
//! template with several actions, each against gotmpl alone (no glue) as the
//! baseline measured in the same run.
//!
//! In each group: `error-render` is [`Renderer::render`] of a message
//! outside the catalogue (never cached, a fresh body each time);
//! `error-render cached` is the same call for the catalogue's message, once
//! the body is in the generation's cache; `gotmpl baseline` executes the
//! same template on prepared data.
//!
//! `cargo bench --bench render`; compare the medians in each group.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use error_render::{ErrorRequest, RenderOptions, Renderer, TemplateFile, TemplateSet};
use gotmpl::Value;
use gotmpl::html::HTML;

const SHIPPED_JSON: &str = "{\n    \"error\": \"{{.Message}}\"\n}";
const PER_CODE: &str = "{\"status\": {{.StatusCode}}, \"error\": \"{{.Message}}\", \
    \"title\": \"{{.Title}}\", \"action\": \"{{.Action}}\", \
    \"retry\": {{if eq .StatusCode 429}}true{{else}}false{{end}}}";

fn renderer(files: &[(&str, &str)]) -> Renderer {
    let set = TemplateSet::from_files(files.iter().map(|(n, t)| TemplateFile {
        name: (*n).into(),
        text: (*t).into(),
    }))
    .unwrap();
    Renderer::new(Arc::new(set), RenderOptions::default())
}

fn gotmpl_only(text: &str) -> gotmpl::html::Template {
    gotmpl::html::Template::new("error.json")
        .parse(text)
        .unwrap()
}

fn data(fields: &[(&str, Value)]) -> Value {
    let map: BTreeMap<Arc<str>, Value> = fields
        .iter()
        .map(|(k, v)| (Arc::from(*k), v.clone()))
        .collect();
    Value::Map(Arc::new(map))
}

fn shipped(c: &mut Criterion) {
    let mut g = c.benchmark_group("shipped error.json, catalogue message");
    let r = renderer(&[("error.json", SHIPPED_JSON)]);
    let req = ErrorRequest::code(429).message("API Rate Limit Exceeded");
    // A message outside the catalogue is never cached: the render itself.
    let fresh = ErrorRequest::code(429).message("API Rate Limit Exceeded.");
    g.bench_function("error-render", |b| {
        b.iter(|| r.render(black_box(&fresh)).unwrap())
    });
    g.bench_function("error-render cached", |b| {
        b.iter(|| r.render(black_box(&req)).unwrap())
    });
    let t = gotmpl_only(SHIPPED_JSON);
    let d = data(&[("Message", HTML::from("API Rate Limit Exceeded").into())]);
    g.bench_function("gotmpl baseline", |b| {
        b.iter(|| t.execute_to_string(black_box(&d)).unwrap())
    });
    g.finish();
}

fn per_code(c: &mut Criterion) {
    let mut g = c.benchmark_group("per-code template, five actions");
    let r = renderer(&[("error.json", SHIPPED_JSON), ("error_429.json", PER_CODE)]);
    let req = ErrorRequest::code(429).message("API Rate Limit Exceeded");
    // A message outside the catalogue is never cached: the render itself.
    let fresh = ErrorRequest::code(429).message("API Rate Limit Exceeded.");
    g.bench_function("error-render", |b| {
        b.iter(|| r.render(black_box(&fresh)).unwrap())
    });
    g.bench_function("error-render cached", |b| {
        b.iter(|| r.render(black_box(&req)).unwrap())
    });
    let t = gotmpl_only(PER_CODE);
    let d = data(&[
        ("Message", HTML::from("API Rate Limit Exceeded").into()),
        ("StatusCode", Value::Int(429)),
        ("Title", HTML::from("API Rate Limit Exceeded").into()),
        (
            "Action",
            HTML::from("Check the rate of the requests on the API level.").into(),
        ),
    ]);
    g.bench_function("gotmpl baseline", |b| {
        b.iter(|| t.execute_to_string(black_box(&d)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, shipped, per_code);
criterion_main!(benches);
