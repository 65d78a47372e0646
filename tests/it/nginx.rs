//! Interoperability with a real nginx: writes `examples/nginx/nginx.conf`
//! (the documented recipe, placeholders filled in), runs the commands
//! `examples/nginx/README.md` documents, as written, in front of the real
//! `error-render serve`, and checks that upstream and nginx errors come back
//! with error-render's bodies, byte for byte, while a status the recipe does
//! not intercept keeps the API's own body.
//!
//! Needs nginx (`/usr/sbin/nginx`); `scripts/ci-deps.sh` installs it. The
//! test fails, rather than skips, without it.

use crate::common::recipe_support;

use std::path::{Path, PathBuf};

use error_render::Renderer;
use recipe_support::{Response, documented_block, expected, free_port, request, run_documented};

const RECIPE: &str = include_str!("../../examples/nginx/nginx.conf");
const README: &str = include_str!("../../examples/nginx/README.md");
/// The documented prefix line, which the test points at a temp folder.
const PREFIX_LINE: &str = "prefix=/var/lib/error-render-nginx";

/// nginx started by the documented commands; stopped by the documented
/// stop command when the test ends, pass or fail.
struct Nginx {
    stop: String,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("sh")
            .arg("-euc")
            .arg(&self.stop)
            .current_dir(&self.dir)
            .status();
    }
}

/// The documented block containing `marker`, with the prefix in `prefix`.
fn documented(marker: &str, prefix: &Path) -> String {
    let start = documented_block(README, "sh", "mkdir -p");
    assert!(
        start.lines().any(|l| l.trim() == PREFIX_LINE),
        "examples/nginx/README.md no longer sets `{PREFIX_LINE}`"
    );
    let block = if marker == "mkdir -p" {
        start
    } else {
        // The stop block relies on `prefix` from the start block.
        format!("{PREFIX_LINE}\n{}", documented_block(README, "sh", marker))
    };
    block.replace(PREFIX_LINE, &format!("prefix={}", prefix.display()))
}

#[test]
fn nginx_error_page_renders_through_error_render() {
    let nginx = recipe_support::installed(
        "nginx",
        &["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (svc, svc_port) = recipe_support::serve(dir);

    // The recipe, filled in, where the README's commands expect it.
    let (listen, api) = (free_port(), free_port());
    let conf = RECIPE
        .replace("@LISTEN@", &format!("127.0.0.1:{listen}"))
        .replace("@API@", &format!("127.0.0.1:{api}"))
        .replace("@ERROR_RENDER@", &format!("127.0.0.1:{svc_port}"));
    for placeholder in ["@LISTEN@", "@API@", "@ERROR_RENDER@"] {
        assert!(
            !conf.contains(placeholder),
            "{placeholder} left in the recipe"
        );
    }
    std::fs::write(dir.join("nginx.conf"), &conf).expect("write nginx.conf");

    // The documented commands, as written; the prefix folder does not
    // exist yet, as on a fresh machine.
    let prefix = dir.join("var-lib-error-render-nginx");
    let start = documented("mkdir -p", &prefix);
    let stop = documented("-s quit", &prefix);
    let path = format!(
        "{}:{}",
        nginx.parent().expect("nginx's folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let start = format!("PATH={path}\n{start}");
    let _nginx = Nginx {
        stop: format!("PATH={path}\n{stop}"),
        dir: dir.to_owned(),
    };
    run_documented(
        &start,
        dir,
        &dir.join("nginx-start.log"),
        "the commands of examples/nginx/README.md",
    );
    let nginx_log = || {
        std::fs::read_to_string(dir.join("nginx-start.log")).unwrap_or_default()
            + &std::fs::read_to_string(prefix.join("access.log")).unwrap_or_default()
    };
    for port in [listen, api] {
        recipe_support::wait_listening("nginx", port, &nginx_log, &mut || None);
    }

    // What error-render answers directly, and what that should be.
    let direct = request(svc_port, "GET", "/render/502", &[], "").expect("GET /render/502");
    let default_502 = Renderer::from_dir(recipe_support::templates())
        .expect("load")
        .default_message(502);
    assert_eq!(
        direct.body,
        format!("{{\n    \"error\": \"{default_502}\"\n}}")
    );
    assert_eq!(direct.body, expected(502, None));

    let fail = |what: &str, r: &Response| {
        format!(
            "{what}: {r:?}\nnginx log:\n{}\nerror-render log:\n{}",
            nginx_log(),
            svc.log()
        )
    };

    // An upstream 502, GET and POST with a body.
    for (method, body) in [("GET", ""), ("POST", "{\"order\": 1}")] {
        let r = request(
            listen,
            method,
            "/api/orders",
            &[("Content-Type", "application/json")],
            body,
        )
        .expect("request through nginx");
        let what = format!("{method} to a failing upstream");
        assert_eq!(r.status, 502, "{}", fail(&what, &r));
        assert_eq!(r.body, direct.body, "{}", fail(&what, &r));
        assert_eq!(
            r.header("X-Generator"),
            Some("tyk.io"),
            "{}",
            fail(&what, &r)
        );
        assert!(
            r.header("Content-Type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{}",
            fail(&what, &r)
        );
    }

    // nginx's own 403.
    let r = request(listen, "GET", "/forbidden", &[], "").expect("GET /forbidden");
    assert_eq!(r.status, 403, "{}", fail("return 403", &r));
    assert_eq!(r.body, expected(403, None), "{}", fail("return 403", &r));
    assert_eq!(r.header("X-Generator"), Some("tyk.io"));

    // An XML request gets the XML template.
    let r = request(
        listen,
        "POST",
        "/api/orders",
        &[("Content-Type", "application/xml")],
        "<order>1</order>",
    )
    .expect("XML request through nginx");
    assert_eq!(r.status, 502, "{}", fail("XML request", &r));
    assert_eq!(
        r.body,
        expected(502, Some("application/xml")),
        "{}",
        fail("XML request", &r)
    );
    assert!(r.body.starts_with("<?xml"), "{}", fail("XML request", &r));
    assert!(
        r.header("Content-Type")
            .is_some_and(|c| c.starts_with("application/xml")),
        "{}",
        fail("XML request", &r)
    );

    // A status the recipe does not intercept keeps the API's own body.
    let r = request(listen, "POST", "/api/invalid", &[], "{}").expect("POST /api/invalid");
    recipe_support::assert_api_error_passed_through(&r, &fail("API's own 400", &r));
}

/// `error-render export --out` with nginx and no sidecar: the exported
/// snippets, included as documented (http and server blocks), pass
/// `nginx -t` with an `error_page` line for every registered status, and
/// nginx's own 502 (and 418, 451: statuses outside the catalogue) answer
/// the exported bodies, in JSON and XML, and by `Accept` in HTML, text and
/// problem details, each with its content type.
#[test]
fn nginx_serves_exported_bodies_for_every_status() {
    let nginx = recipe_support::installed(
        "nginx",
        &["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let out = dir.join("export");
    let exported = std::process::Command::new(env!("CARGO_BIN_EXE_error-render"))
        .arg("export")
        .arg("--templates")
        .arg(recipe_support::templates())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run error-render export");
    assert!(
        exported.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&exported.stderr)
    );

    let listen = free_port();
    let conf = format!(
        "pid nginx.pid;\nevents {{}}\nhttp {{\n    access_log off;\n    \
         client_body_temp_path client_body_temp;\n    proxy_temp_path proxy_temp;\n    \
         fastcgi_temp_path fastcgi_temp;\n    uwsgi_temp_path uwsgi_temp;\n    \
         scgi_temp_path scgi_temp;\n    include {out}/nginx/error-render-http.conf;\n    \
         server {{\n        listen 127.0.0.1:{listen};\n        \
         include {out}/nginx/error-render-server.conf;\n        \
         location = /bad-gateway {{ return 502; }}\n        \
         location = /teapot {{ return 418; }}\n        \
         location = /legal {{ return 451; }}\n    }}\n}}\n",
        out = out.display()
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("write nginx.conf");
    let mut prefix = dir.as_os_str().to_owned();
    prefix.push("/");
    let args = |cmd: &mut std::process::Command| {
        cmd.arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg("stderr")
            // Foreground, one process: the test owns it and kills it.
            .arg("-g")
            .arg("daemon off; master_process off;");
    };
    let mut check = std::process::Command::new(&nginx);
    check.arg("-t");
    args(&mut check);
    let checked = check.output().expect("run nginx -t");
    assert!(
        checked.status.success(),
        "nginx -t rejects the exported snippets:\n{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let mut cmd = std::process::Command::new(&nginx);
    args(&mut cmd);
    let mut ngx = recipe_support::spawn("nginx", &mut cmd, &dir.join("nginx.log"));
    ngx.wait_listening(listen);

    for (path, code) in [("/bad-gateway", 502), ("/teapot", 418), ("/legal", 451)] {
        for (content_type, ext, expected_type) in [
            (None, "json", "application/json"),
            (Some("application/xml"), "xml", "application/xml"),
        ] {
            let headers: Vec<(&str, &str)> = content_type
                .map(|ct| ("Content-Type", ct))
                .into_iter()
                .collect();
            let r = request(listen, "GET", path, &headers, "").expect("request");
            let what = format!("{path} {content_type:?}: {r:?}\n{}", ngx.log());
            assert_eq!(r.status, code, "{what}");
            assert_eq!(
                r.body,
                std::fs::read_to_string(out.join(format!("codes/{code}.{ext}"))).expect("body"),
                "{what}"
            );
            assert_eq!(r.body, expected(code, content_type), "{what}");
            assert!(
                r.header("Content-Type")
                    .is_some_and(|c| c.starts_with(expected_type)),
                "{what}"
            );
            assert_eq!(r.header("X-Generator"), Some("tyk.io"), "{what}");
        }
        // A browser gets the HTML page, a text client the text, a
        // problem-aware client problem details; a client whose Accept puts
        // none of them first keeps the gateway's rule.
        for (headers, ext, expected_type) in [
            (
                &[(
                    "Accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                )][..],
                "html",
                "text/html; charset=utf-8",
            ),
            (
                &[("Accept", "text/plain")][..],
                "txt",
                "text/plain; charset=utf-8",
            ),
            (
                &[("Accept", "*/*"), ("Content-Type", "text/xml")][..],
                "xml",
                "application/xml",
            ),
            // nginx's `types` would label `.problem.json` by its last
            // extension, `application/json`.
            (
                &[("Accept", "application/problem+json, application/json;q=0.9")][..],
                "problem.json",
                "application/problem+json",
            ),
        ] {
            let r = request(listen, "GET", path, headers, "").expect("request");
            let what = format!("{path} {headers:?}: {r:?}\n{}", ngx.log());
            assert_eq!(r.status, code, "{what}");
            assert_eq!(
                r.body,
                std::fs::read_to_string(out.join(format!("codes/{code}.{ext}"))).expect("body"),
                "{what}"
            );
            assert_eq!(r.header("Content-Type"), Some(expected_type), "{what}");
            assert_eq!(r.header("Vary"), Some("Accept"), "{what}");
        }
    }
}
