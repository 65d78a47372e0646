//! Regression tests for what fuzzing (`scripts/fuzz.sh`, `fuzz/`) and its
//! follow-up probing found: one test per finding, named after what broke.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use error_render::{
    ErrorRequest, Outcome, RenderLimits, RenderOptions, Renderer, TemplateFile, TemplateSet,
};

fn renderer(files: &[(&str, &str)]) -> Renderer {
    let set = TemplateSet::from_files(files.iter().map(|(name, text)| TemplateFile {
        name: (*name).to_owned(),
        text: (*text).into(),
    }))
    .expect("the set loads");
    Renderer::new(Arc::new(set), RenderOptions::default())
}

/// `t0` calls `t1` twice, `t1` calls `t2` twice, ... : 2^depth template
/// calls, none deeper than `depth`, and no output at all.
fn doubling_calls(depth: usize) -> String {
    let mut text = String::new();
    for i in 0..depth {
        text.push_str(&format!(
            "{{{{define \"t{i}\"}}}}{{{{template \"t{n}\"}}}}{{{{template \"t{n}\"}}}}{{{{end}}}}",
            n = i + 1
        ));
    }
    text.push_str(&format!("{{{{define \"t{depth}\"}}}}{{{{end}}}}"));
    text.push_str("{\"error\": \"{{.Message}}\"}{{template \"t0\"}}");
    text
}

/// A 2.4 KB `error.json` of 40 doubling `define`s makes 2^40 template calls
/// without writing a byte: gotmpl's call-depth limit (200) never trips, and
/// the render holds its thread for hours (2^20 calls take 0.5 s in release).
/// The render's time, checked at every template call, ends it at the
/// service's default limit (250 ms), and the error names that limit.
#[test]
fn exponential_template_calls_without_output_stop() {
    let renderer = renderer(&[("error.json", &doubling_calls(40))]);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(renderer.render(&ErrorRequest::code(500)));
    });
    // A deadline so the failure is a failure, not a hung test run.
    let rendered = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the render ended")
        .expect("a rendered answer");
    assert_eq!(rendered.outcome, Outcome::Exec, "{rendered:?}");
    let error = rendered.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("longer than 250 ms (limits.max_render_time_ms)"),
        "the error names the time limit: {error}"
    );
}

/// Two nested `range 3000` over a 108-byte message render a 972 MB body
/// from a 55-byte template (8.6 s and 954 MB resident in release): the
/// message-length limit does not bound the output. The output limit (1 MiB
/// in the service, 64 KiB inline) stops it, also within the range limit,
/// and the range limit stops the loops that write nothing; the answer is
/// the bundled default, never a partial body.
#[test]
fn nested_ranges_cannot_render_an_unbounded_body() {
    let message = "x".repeat(108);
    let run = |text: &str, limits: RenderLimits| {
        let set = TemplateSet::from_files_limited(
            [TemplateFile {
                name: "error.json".into(),
                text: text.into(),
            }],
            limits,
        )
        .expect("the set loads");
        Renderer::new(Arc::new(set), RenderOptions::default())
            .render(&ErrorRequest::code(500).message(message.clone()))
            .expect("a rendered answer")
    };
    let refused = |r: &error_render::Rendered, limit: &str| {
        assert_eq!(r.outcome, Outcome::Exec, "{r:?}");
        let error = r.error.as_deref().unwrap_or_default();
        assert!(error.contains(limit), "the error names {limit}: {error}");
        assert_eq!(r.body, format!("{{\n    \"error\": \"{message}\"\n}}"));
    };

    let huge = run(
        "{{range 3000}}{{range 3000}}{{$.Message}}{{end}}{{end}}",
        RenderLimits::service(),
    );
    refused(&huge, "exceeds 1048576 bytes (limits.max_output_bytes)");
    let silent = run(
        "{{range 3000}}{{range 3000}}{{end}}{{end}}",
        RenderLimits::service(),
    );
    refused(
        &silent,
        "more than 10000 range iterations in one render (limits.max_range_iterations)",
    );

    // 60 + 3,600 iterations writing 3 x 108 bytes: 1,166,400 bytes.
    let service = run(
        "{{range 60}}{{range 60}}{{$.Message}}{{$.Message}}{{$.Message}}{{end}}{{end}}",
        RenderLimits::service(),
    );
    refused(&service, "exceeds 1048576 bytes (limits.max_output_bytes)");

    // 20 + 400 iterations: 129,600 bytes.
    let inline = run(
        "{{range 20}}{{range 20}}{{$.Message}}{{$.Message}}{{$.Message}}{{end}}{{end}}",
        RenderLimits::inline(),
    );
    refused(&inline, "exceeds 65536 bytes (limits.max_output_bytes)");
}

/// `d0` passes `printf "%s%s" . .` to `d1`, which does the same to `d2`,
/// ...: each level doubles a string and nothing is written. The recursive
/// form, `{{define "a"}}{{template "a" (printf "%s%s" . .)}}{{end}}`, is
/// 78 bytes, stays under the call-depth limit (200) and, with the 40-byte
/// default message, asks for 1.3 GB after 25 levels (measured with the
/// release binary under `ulimit -v 3000000`: allocation failure and abort
/// after 5.3 s; without a ulimit it takes the host's memory). An output-size
/// limit alone does not stop it: nothing is output. 22 explicit levels
/// (160 MiB) keep this test safe to run before the fix.
#[test]
fn doubling_printf_recursion_cannot_exhaust_memory() {
    let depth = 22;
    let mut text = String::new();
    for i in 0..depth {
        text.push_str(&format!(
            "{{{{define \"d{i}\"}}}}{{{{template \"d{n}\" (printf \"%s%s\" . .)}}}}{{{{end}}}}",
            n = i + 1
        ));
    }
    text.push_str(&format!(
        "{{{{define \"d{depth}\"}}}}{{{{len .}}}}{{{{end}}}}"
    ));
    text.push_str("{{template \"d0\" .Message}}");
    let renderer = renderer(&[("error.json", &text)]);
    let rendered = renderer.render(&ErrorRequest::code(500).message("x".repeat(40)));
    assert!(
        !matches!(rendered, Ok(ref r) if r.outcome == Outcome::Ok),
        "a {} MiB intermediate value was built and rendered",
        40usize << depth >> 20
    );
}
