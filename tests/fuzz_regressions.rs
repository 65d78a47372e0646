//! Regression tests for what fuzzing (`scripts/fuzz.sh`, `fuzz/`) and its
//! follow-up probing found: one test per finding, named after what broke.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use error_render::{ErrorRequest, Outcome, RenderOptions, Renderer, TemplateFile, TemplateSet};

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
/// The render's time, checked at every template call, ends it.
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
        .expect("the render ended");
    assert!(
        !matches!(rendered, Ok(ref r) if r.outcome == Outcome::Ok),
        "2^40 template calls rendered as if nothing happened"
    );
}

/// Two nested `range 3000` over a 108-byte message render a 972 MB body
/// from a 55-byte template (8.6 s and 954 MB resident in release): the
/// message-length limit does not bound the output. The output-size limit
/// (and the range iteration limit) refuse it.
#[test]
fn nested_ranges_cannot_render_an_unbounded_body() {
    let renderer = renderer(&[(
        "error.json",
        "{{range 3000}}{{range 3000}}{{$.Message}}{{end}}{{end}}",
    )]);
    let message = "x".repeat(108);
    // Refusing to render (an error, or another outcome) is the fix too.
    if let Ok(r) = renderer.render(&ErrorRequest::code(500).message(message)) {
        assert!(
            r.outcome != Outcome::Ok || r.body.len() <= 16 << 20,
            "rendered a {} byte body",
            r.body.len()
        );
    }
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
