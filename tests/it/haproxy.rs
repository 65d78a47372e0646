//! Interoperability with a real HAProxy in static mode: fills in
//! `examples/haproxy/haproxy.cfg`, runs the commands of
//! `examples/haproxy/README.md` as written (`error-render export --haproxy`,
//! the rules pasted in with sed, `haproxy -c`), starts HAProxy with the
//! documented command, and checks that HAProxy's own error and an
//! intercepted upstream status answer the exported files, while an API's
//! own 400 passes through.
//!
//! Needs HAProxy (`/usr/sbin/haproxy`); `scripts/ci-deps.sh` installs it.
//! The test fails, rather than skips, without it.

use crate::common::recipe_support;

use std::path::Path;
use std::process::Command;

use recipe_support::{
    Response, documented_block, free_port, parse_response, request, run_documented, spawn,
};

const RECIPE: &str = include_str!("../../examples/haproxy/haproxy.cfg");
const README: &str = include_str!("../../examples/haproxy/README.md");
/// The documented variable lines, which the test points at temp folders.
const TEMPLATES_LINE: &str = "templates=/etc/tyk/templates";
const OUT_LINE: &str = "out=/etc/haproxy/error-render";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn haproxy_serves_exported_errorfiles_and_upstream_bodies() {
    let haproxy = recipe_support::installed(
        "HAProxy",
        &[
            "/usr/sbin/haproxy",
            "/usr/local/sbin/haproxy",
            "/usr/bin/haproxy",
        ],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let out = dir.join("etc-haproxy-error-render");

    let (listen, api) = (free_port(), free_port());
    let conf = RECIPE
        .replace("@LISTEN@", &format!("127.0.0.1:{listen}"))
        .replace("@API@", &format!("127.0.0.1:{api}"));
    for placeholder in ["@LISTEN@", "@API@"] {
        assert!(
            !conf.contains(placeholder),
            "{placeholder} left in the recipe"
        );
    }
    std::fs::write(dir.join("haproxy.cfg"), &conf).expect("write haproxy.cfg");

    // The documented commands, as written, with error-render and HAProxy
    // on the PATH and the two folders in the temp folder.
    let bin = Path::new(env!("CARGO_BIN_EXE_error-render"));
    let vars = format!(
        "PATH={}:{}:{}\n",
        bin.parent().expect("bin folder").display(),
        haproxy.parent().expect("haproxy folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let prepare = documented_block(README, "sh", "--haproxy");
    for line in [TEMPLATES_LINE, OUT_LINE] {
        assert!(
            prepare.lines().any(|l| l.trim() == line),
            "examples/haproxy/README.md no longer sets `{line}`"
        );
    }
    let prepare = prepare
        .replace(
            TEMPLATES_LINE,
            &format!("templates={}", recipe_support::templates().display()),
        )
        .replace(OUT_LINE, &format!("out={}", out.display()));
    run_documented(
        &format!("{vars}{prepare}"),
        dir,
        &dir.join("prepare.log"),
        "the export and check commands of examples/haproxy/README.md",
    );
    let run = documented_block(README, "sh", "haproxy -f ");
    let run = run.trim();
    assert_eq!(run.lines().count(), 1, "one command to run HAProxy: {run}");
    let mut proxy = spawn(
        "haproxy",
        Command::new("sh")
            .arg("-euc")
            .arg(format!("{vars}out={}\nexec {run}", out.display()))
            .current_dir(dir),
        &dir.join("haproxy.log"),
    );
    proxy.wait_listening(listen);
    proxy.wait_listening(api);

    let fail = |what: &str, r: &Response| format!("{what}: {r:?}\nhaproxy log:\n{}", proxy.log());

    // HAProxy's own error: a backend with no server is a 503, answered with
    // the exported errorfile (status, headers and body).
    let file = parse_response(&read(&out.join("errors/503.http")));
    let r = request(listen, "GET", "/down", &[], "").expect("GET /down");
    assert_eq!(r.status, 503, "{}", fail("no server", &r));
    assert_eq!(r.body, file.body, "{}", fail("no server", &r));
    assert_eq!(r.body, recipe_support::expected(503, None));
    for name in ["Content-Type", "X-Generator"] {
        assert_eq!(r.header(name), file.header(name), "{}", fail(name, &r));
    }

    // An intercepted upstream 502, in JSON and in XML.
    for (content_type, ext, expected_type) in [
        ("application/json", "json", "application/json"),
        ("application/xml; charset=utf-8", "xml", "application/xml"),
    ] {
        let r = request(
            listen,
            "POST",
            "/api/orders",
            &[("Content-Type", content_type)],
            "{}",
        )
        .expect("request through HAProxy");
        let what = format!("upstream 502 for {content_type}");
        assert_eq!(r.status, 502, "{}", fail(&what, &r));
        assert_eq!(
            r.body,
            read(&out.join(format!("codes/502.{ext}"))),
            "{}",
            fail(&what, &r)
        );
        assert_eq!(
            r.body,
            recipe_support::expected(502, Some(expected_type)),
            "{}",
            fail(&what, &r)
        );
        assert_eq!(r.header("Content-Type"), Some(expected_type));
        assert_eq!(r.header("X-Generator"), Some("tyk.io"));
    }

    // The API's own detailed 400 is not intercepted.
    let r = request(listen, "GET", "/api/invalid", &[], "").expect("GET /api/invalid");
    recipe_support::assert_api_error_passed_through(&r, &fail("API's own 400", &r));
}
