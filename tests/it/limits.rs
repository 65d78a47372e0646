//! Resource and request limits: a template over a limit fails with outcome
//! `exec` and a clear error while everything else keeps rendering; inline
//! (preview) sets refuse recursion and oversized files before running; the
//! service refuses slow and oversized requests with a 4xx, never a hang.

use crate::common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use common::TestServer;
use error_render::config::{Config, ConfigLayer};
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use error_render::{
    ErrorRequest, LoadError, Outcome, RenderLimits, RenderOptions, Renderer, TemplateFile,
    TemplateSet,
};

fn file(name: &str, text: &str) -> TemplateFile {
    TemplateFile {
        name: name.into(),
        text: text.into(),
    }
}

const RECURSIVE: &str = r#"{{define "r"}}x{{template "r" .}}{{end}}{{template "r" .}}"#;
const HUGE_RANGE: &str = "{{range 100000000}}{{end}}done";
/// 2,000 lines of 1,000 bytes: twice the service's output limit.
const GIANT_OUTPUT: &str = r#"{{range 2000}}{{printf "%1000s" "x"}}{{end}}"#;

fn renderer_with(extra: &[(&str, &str)], limits: RenderLimits) -> Renderer {
    let mut files = vec![
        file("error.json", BUNDLED_ERROR_JSON),
        file("error.xml", BUNDLED_ERROR_XML),
    ];
    files.extend(extra.iter().map(|(n, t)| file(n, t)));
    let set = TemplateSet::from_files_limited(files, limits).unwrap();
    Renderer::new(Arc::new(set), RenderOptions::default())
}

fn assert_exec_error(renderer: &Renderer, code: u16, expected: &str) {
    for ct in [None, Some("application/xml")] {
        let mut req = ErrorRequest::code(code).message("boom");
        req.content_type = ct.map(str::to_owned);
        let r = renderer.render(&req).unwrap();
        assert_eq!(r.outcome, Outcome::Exec, "{code} {ct:?}: {r:?}");
        let error = r.error.as_deref().unwrap();
        assert!(error.contains(expected), "{code} {ct:?}: {error}");
        // The answer is the bundled default, whole, never a truncated body.
        let body = r.body_text();
        assert!(body.contains("boom") && body.len() < 200, "{body}");
    }
    let fine = renderer
        .render(&ErrorRequest::code(404).message("fine"))
        .unwrap();
    assert_eq!(fine.outcome, Outcome::Ok);
    assert_eq!(fine.body, "{\n    \"error\": \"fine\"\n}");
}

#[test]
fn self_recursive_template_stops_at_the_call_depth() {
    let r = renderer_with(
        &[("error_500.json", RECURSIVE), ("error_500.xml", RECURSIVE)],
        RenderLimits::service(),
    );
    assert_exec_error(&r, 500, "nested deeper than 200 levels");
}

#[test]
fn huge_range_stops_at_the_iteration_limit() {
    let r = renderer_with(
        &[
            ("error_500.json", HUGE_RANGE),
            ("error_500.xml", HUGE_RANGE),
        ],
        RenderLimits::service(),
    );
    assert_exec_error(&r, 500, "more than 10000 range iterations");
}

#[test]
fn giant_output_stops_at_the_output_limit() {
    let r = renderer_with(
        &[
            ("error_500.json", GIANT_OUTPUT),
            ("error_500.xml", GIANT_OUTPUT),
        ],
        // The service's output limit, with time to reach it: a debug build
        // on a loaded machine can otherwise hit the 250 ms clock first,
        // which would make this test about the wrong limit.
        RenderLimits {
            max_render_time: Duration::from_secs(60),
            ..RenderLimits::service()
        },
    );
    assert_exec_error(&r, 500, "exceeds 1048576 bytes");
}

// The shipped error.json is only text and `{{.Message}}`, which the renderer
// writes without the engine: the output limit must still hold there.
#[test]
fn huge_message_through_a_plain_template_stops_at_the_output_limit() {
    let limits = RenderLimits {
        max_output_bytes: 100,
        ..RenderLimits::service()
    };
    let r = renderer_with(&[], limits);
    for ct in [None, Some("application/xml")] {
        let mut req = ErrorRequest::code(500).message("m".repeat(200));
        req.content_type = ct.map(str::to_owned);
        let out = r.render(&req).unwrap();
        assert_eq!(out.outcome, Outcome::Exec, "{ct:?}");
        assert!(
            out.error.as_deref().unwrap().contains("exceeds 100 bytes"),
            "{out:?}"
        );
    }
    let fits = r.render(&ErrorRequest::code(500).message("m".repeat(50)));
    assert_eq!(fits.unwrap().outcome, Outcome::Ok);
}

#[test]
fn render_past_its_time_stops_at_the_next_clock_check() {
    let text = r#"{{range 1000}}{{printf "%d" .}}{{end}}"#;
    let limits = RenderLimits {
        max_render_time: Duration::ZERO,
        ..RenderLimits::service()
    };
    let r = renderer_with(&[("error_500.json", text), ("error_500.xml", text)], limits);
    assert_exec_error(&r, 500, "longer than 0 ms");
}

/// Templates that run on the engine (not the plain text-and-field path
/// around it), and come close to every inline limit without passing one:
/// 1,000 range iterations, 64,000 of 65,536 bytes, template calls. The
/// strict limits must render them exactly as the service's do.
#[test]
fn limits_do_not_change_what_a_real_template_renders() {
    let near = [
        (
            "error_500.json",
            r#"{{range 1000}}{{"                                                              x"}},{{end}}"#,
        ),
        (
            "error_500.xml",
            r#"{{define "row"}}<r>{{.}}</r>{{end}}{{range $i := 500}}{{template "row" $i}}{{end}}"#,
        ),
        (
            "error_429.json",
            r#"{{define "e"}}"{{.}}"{{end}}{"error": {{template "e" .Message}}, "n": {{len .Message}}{{if gt (len .Message) 3}}, "long": true{{end}}}"#,
        ),
    ];
    let strict = renderer_with(&near, RenderLimits::inline());
    let loose = renderer_with(&near, RenderLimits::service());
    let mut lengths = Vec::new();
    for (code, ct) in [
        (500, None),
        (500, Some("text/xml")),
        (429, None),
        (401, None),
    ] {
        let mut req = ErrorRequest::code(code).message("slow down");
        req.content_type = ct.map(str::to_owned);
        // html/template escapes a template on its first render, inside that
        // render's time: on a loaded machine that alone can pass 50 ms.
        let _ = strict.render(&req);
        let a = strict.render(&req).unwrap();
        assert_eq!(a.outcome, Outcome::Ok, "{code} {ct:?}: {a:?}");
        assert_eq!(a, loose.render(&req).unwrap(), "{code} {ct:?}");
        lengths.push(a.body.len());
    }
    assert_eq!(lengths[0], 64_000, "1,000 iterations of 64 bytes");
    assert_eq!(lengths[1], 4_890, "500 template calls");
}

/// gotmpl refuses, when parsing, blocks and parenthesised pipelines nested
/// more than 100 levels deep (its `MAX_PARSE_DEPTH`; Go has no such limit,
/// and no error template comes near it). The load error says so.
#[test]
fn parse_nesting_stops_at_100_levels() {
    let nested = |levels: usize| "{{if 1}}".repeat(levels) + "x" + &"{{end}}".repeat(levels);
    // The file's own list is the first level.
    assert!(TemplateSet::from_files([file("error.json", &nested(99))]).is_ok());
    let err = TemplateSet::from_files([file("error.json", &nested(100))]).unwrap_err();
    let problem = err.problems()[0].to_string();
    assert!(
        problem.starts_with("error.json") && problem.contains("nested deeper than 100 levels"),
        "{problem}"
    );
    let parens = format!("{{{{{}1{}}}}}", "(".repeat(100), ")".repeat(100));
    let err = TemplateSet::from_files([file("error.json", &parens)]).unwrap_err();
    assert!(
        err.problems()[0]
            .to_string()
            .contains("nested deeper than 100 levels"),
        "{err}"
    );
}

/// The preview's inline sets stop a render at 50 ms: 8,000 64 KB `printf`
/// values (each under the output limit, 1,000 iterations, writing little)
/// take longer than that, and the error names the limit.
#[test]
fn inline_render_stops_at_its_50_ms_time_limit() {
    let slow = format!(
        "{{{{range 1000}}}}{}{{{{end}}}}",
        r#"{{len (printf "%65000s" "x")}}"#.repeat(8)
    );
    let slow = slow.as_str();
    assert_eq!(
        RenderLimits::inline().max_render_time,
        Duration::from_millis(50)
    );
    let r = renderer_with(
        &[("error_500.json", slow), ("error_500.xml", slow)],
        RenderLimits::inline(),
    );
    assert_exec_error(&r, 500, "longer than 50 ms (limits.max_render_time_ms)");
}

/// The service's default time limit is 250 ms, named in the error.
#[test]
fn service_render_stops_at_its_250_ms_default_time_limit() {
    assert_eq!(
        RenderLimits::service().max_render_time,
        Duration::from_millis(250)
    );
    // 2^40 template calls writing nothing: only the clock stops them.
    let mut text = String::new();
    for level in 0..40 {
        text += &format!(
            "{{{{define \"l{level}\"}}}}{{{{template \"l{next}\"}}}}{{{{template \"l{next}\"}}}}{{{{end}}}}",
            next = level + 1
        );
    }
    text += "{{define \"l40\"}}{{end}}{{template \"l0\"}}";
    let r = renderer_with(
        &[("error_500.json", &text), ("error_500.xml", &text)],
        RenderLimits::service(),
    );
    assert_exec_error(&r, 500, "longer than 250 ms (limits.max_render_time_ms)");
}

fn inline_problems(files: Vec<TemplateFile>) -> Vec<String> {
    match TemplateSet::from_files_limited(files, RenderLimits::inline()) {
        Err(LoadError::Parse(problems)) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn inline_sets_refuse_recursion_with_its_place() {
    let problems = inline_problems(vec![file(
        "error.json",
        "{\n{{define \"a\"}}{{template \"b\"}}{{end}}\n{{define \"b\"}}  {{template \"a\"}}{{end}}{{template \"a\"}}",
    )]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("error.json:3:")
            && problems[0].contains("calls itself (a → b → a)"),
        "{problems:?}"
    );
}

#[test]
fn inline_sets_refuse_templates_whose_calls_multiply() {
    // Each level calls the next twice: 2^12 calls and no output at all.
    let mut text = String::new();
    for level in 0..12 {
        text += &format!(
            "{{{{define \"l{level}\"}}}}{{{{template \"l{next}\"}}}}{{{{template \"l{next}\"}}}}{{{{end}}}}",
            next = level + 1
        );
    }
    text += "{{define \"l12\"}}{{end}}{{template \"l0\"}}";
    let problems = inline_problems(vec![file("error.json", &text)]);
    assert!(
        problems[0].contains("more than 1000 template calls"),
        "{problems:?}"
    );
    // The same set is the operator's to run in the service.
    assert!(TemplateSet::from_files([file("error.json", &text)]).is_ok());
}

#[test]
fn inline_sets_refuse_too_many_or_too_large_files() {
    let big = "x".repeat(64 * 1024 + 1);
    let problems = inline_problems(vec![file("error.json", &big)]);
    assert!(
        problems[0].contains("65537 bytes, at most 65536"),
        "{problems:?}"
    );

    let many: Vec<TemplateFile> = (0..33)
        .map(|i| file(&format!("error_{}.json", 400 + i), "x"))
        .collect();
    let problems = inline_problems(many);
    assert!(problems[0].contains("33 files, at most 32"), "{problems:?}");
}

/// A running service over templates that break every render limit, with
/// short request timeouts.
async fn start() -> TestServer {
    TestServer::start(
        "limits:\n  header_read_timeout_ms: 300\n  request_timeout_ms: 500\n  max_header_bytes: 8192\n  max_body_bytes: 1024\n  max_message_bytes: 64\n",
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
            ("error_500.json", RECURSIVE),
            ("error_501.json", HUGE_RANGE),
            ("error_502.json", GIANT_OUTPUT),
        ],
        false,
    )
    .await
}

/// Sends raw bytes and reads until the server closes (or 5 s pass, which
/// fails the test: the service must never hang).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "no answer within 5 s ({e}); got {:?}",
            String::from_utf8_lossy(&out)
        ),
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn get(addr: SocketAddr, path: &str) -> String {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_over_limits_fall_back_and_the_service_keeps_answering() {
    let s = start().await;
    let addr = s.addr;
    tokio::task::spawn_blocking(move || {
        for code in [500, 501, 502] {
            let answer = get(addr, &format!("/render/{code}?message=limited"));
            assert!(answer.starts_with(&format!("HTTP/1.1 {code} ")), "{answer}");
            assert!(
                answer.ends_with("{\n    \"error\": \"limited\"\n}"),
                "{code}: {answer}"
            );
        }
        let metrics = get(addr, "/metrics");
        assert!(
            metrics.contains(r#"outcome="exec""#),
            "exec outcomes are counted: {metrics}"
        );
        let fine = get(addr, "/render/404?message=fine");
        assert!(fine.starts_with("HTTP/1.1 404 "), "{fine}");
        assert!(get(addr, "/healthz").starts_with("HTTP/1.1 200 "));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_request_head_is_disconnected_and_others_are_served() {
    let s = start().await;
    let addr = s.addr;
    tokio::task::spawn_blocking(move || {
        // A slowloris client: starts a request head and never finishes it.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /render/404 HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // Meanwhile everyone else is served.
        assert!(get(addr, "/render/404").starts_with("HTTP/1.1 404 "));
        let mut buf = Vec::new();
        match slow.read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("slow client still connected after 5 s: {e}"),
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_request_body_gets_408() {
    let s = start().await;
    let addr = s.addr;
    tokio::task::spawn_blocking(move || {
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(
            b"POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\":",
        )
        .unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = Vec::new();
        // The body was never finished, so the server closes after answering.
        slow.read_to_end(&mut buf).expect("an answer within 5 s");
        let answer = String::from_utf8_lossy(&buf);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
        assert!(
            answer.contains("x-error-render-error: 1") && answer.contains("request_timeout_ms"),
            "the service's own JSON error: {answer}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_head_body_and_message_are_refused_with_4xx() {
    let s = start().await;
    let addr = s.addr;
    tokio::task::spawn_blocking(move || {
        let huge_header = format!(
            "GET /render/404 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(20_000)
        );
        let answer = raw(addr, huge_header.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");

        let body = format!("{{\"code\":404,\"message\":\"{}\"}}", "m".repeat(2000));
        let post = format!(
            "POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let answer = raw(addr, post.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");

        let answer = get(addr, &format!("/render/404?message={}", "m".repeat(65)));
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
        assert!(answer.contains("64"), "names the limit: {answer}");
    })
    .await
    .unwrap();
}

#[test]
fn limits_from_config_reach_the_renderer_and_zero_is_refused() {
    let layer: ConfigLayer = serde_yaml_ng::from_str(
        "limits:\n  max_output_bytes: 10\n  max_render_time_ms: 7\n  max_range_iterations: 3\n",
    )
    .unwrap();
    let config = Config::from_layer(layer).unwrap();
    assert_eq!(config.limits.render.max_output_bytes, 10);
    assert_eq!(
        config.limits.render.max_render_time,
        Duration::from_millis(7)
    );
    assert_eq!(config.limits.render.max_range_iterations, 3);

    for bad in [
        "limits:\n  max_range_iterations: 0\n",
        "limits:\n  max_header_bytes: 100\n",
    ] {
        let layer: ConfigLayer = serde_yaml_ng::from_str(bad).unwrap();
        let err = Config::from_layer(layer).unwrap_err().to_string();
        assert!(err.contains("limits"), "{bad}: {err}");
    }
    let unknown = serde_yaml_ng::from_str::<ConfigLayer>("limits:\n  max_nothing: 1\n");
    assert!(unknown.is_err());
}
