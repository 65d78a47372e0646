//! A cached render allocates nothing: once a body is in the generation's
//! cache, `Renderer::render` serves it by sharing, and the only allocations
//! left on the service's path are the HTTP response's own.
//!
//! Counted with a counting global allocator, so this binary holds one test
//! (other tests' threads would be counted too).

use std::alloc::System;
use std::sync::Arc;

use error_render::{ErrorRequest, Outcome, RenderOptions, Renderer, TemplateFile, TemplateSet};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn cached_replies_allocate_nothing() {
    let files = [
        ("error.json", "{\n    \"error\": \"{{.Message}}\"\n}"),
        (
            "error_429.json",
            "{\"status\": {{.StatusCode}}, \"title\": \"{{.Title}}\", \
             \"retry\": {{if eq .StatusCode 429}}true{{else}}false{{end}}}",
        ),
        ("error_404.xml", "<e>{{.Message}}</e>"),
    ];
    let set = TemplateSet::from_files(files.iter().map(|(n, t)| TemplateFile {
        name: (*n).into(),
        text: (*t).into(),
    }))
    .unwrap();
    let renderer = Renderer::new(Arc::new(set), RenderOptions::default());
    let requests = [
        ErrorRequest::code(503),
        ErrorRequest::code(429).message("API Rate Limit Exceeded"),
        ErrorRequest::code(404).content_type("text/xml; charset=utf-8"),
        ErrorRequest::id("403-quota-exceeded"),
        ErrorRequest::id("auth.key_not_found").content_type("application/xml"),
    ];
    // Fill the cache (and let the shared bodies settle into their shared
    // form, which their first clone does).
    for req in &requests {
        for _ in 0..2 {
            renderer.render(req).unwrap();
        }
    }

    let region = Region::new(GLOBAL);
    let mut bytes = 0;
    for _ in 0..100 {
        for req in &requests {
            let reply = renderer.render(req).unwrap();
            assert!(reply.cached);
            assert_eq!(reply.outcome, Outcome::Ok);
            bytes += reply.body.len();
        }
    }
    let change = region.change();
    assert!(bytes > 0);
    assert_eq!(
        (change.allocations, change.reallocations),
        (0, 0),
        "cached replies allocated: {change:?}"
    );
}
