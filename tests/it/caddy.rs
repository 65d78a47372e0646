//! Interoperability with a real Caddy: fills in `examples/caddy/Caddyfile`,
//! runs the commands of `examples/caddy/README.md` as written in front of
//! the real `error-render serve`, and checks that upstream error statuses
//! and Caddy's own errors come back with error-render's bodies, byte for
//! byte, while a status the recipe does not intercept keeps the API's body.
//!
//! Needs Caddy (`/usr/bin/caddy`); `scripts/ci-deps.sh` installs it. The
//! test fails, rather than skips, without it.

use crate::common::recipe_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use recipe_support::{
    Guard, Response, documented_block, expected, free_port, request, run_documented, spawn,
};

const RECIPE: &str = include_str!("../../examples/caddy/Caddyfile");
const README: &str = include_str!("../../examples/caddy/README.md");
/// Where the demo site starts: the README says to delete from there on.
const DEMO: &str = "# Demo only";

/// The recipe with its placeholders filled in.
fn fill(recipe: &str, listen: u16, api: u16, svc: u16) -> String {
    let conf = recipe
        .replace("@LISTEN@", &format!("127.0.0.1:{listen}"))
        .replace("@API@", &format!("127.0.0.1:{api}"))
        .replace("@ERROR_RENDER@", &format!("127.0.0.1:{svc}"));
    for placeholder in ["@LISTEN@", "@API@", "@ERROR_RENDER@"] {
        assert!(
            !conf.contains(placeholder),
            "{placeholder} left in the recipe"
        );
    }
    conf
}

/// Writes `conf` as `dir/Caddyfile`, runs the documented check, and starts
/// Caddy with the documented command; its state (and nothing else) goes
/// to folders under `dir`.
fn start_caddy(caddy: &Path, dir: &Path, conf: &str) -> Guard {
    std::fs::create_dir_all(dir).expect("caddy folder");
    std::fs::write(dir.join("Caddyfile"), conf).expect("write Caddyfile");
    let env = format!(
        "PATH={}:{}\nexport HOME={home} XDG_DATA_HOME={home}/data XDG_CONFIG_HOME={home}/config\n",
        caddy.parent().expect("caddy's folder").display(),
        std::env::var("PATH").unwrap_or_default(),
        home = dir.display(),
    );
    let check = documented_block(README, "sh", "caddy validate");
    let mut lines = check.lines().map(str::trim).filter(|l| !l.is_empty());
    let (validate, run) = (lines.next(), lines.next());
    let (Some(validate), Some(run)) = (validate, run) else {
        panic!("examples/caddy/README.md: expected `caddy validate` then `caddy run`:\n{check}")
    };
    assert!(run.starts_with("caddy run "), "{run}");
    run_documented(
        &format!("{env}{validate}"),
        dir,
        &dir.join("validate.log"),
        "caddy validate, as examples/caddy/README.md has it",
    );
    spawn(
        "caddy",
        Command::new("sh")
            .arg("-euc")
            .arg(format!("{env}exec {run}"))
            .current_dir(dir),
        &dir.join("caddy.log"),
    )
}

fn caddy() -> PathBuf {
    recipe_support::installed(
        "Caddy",
        &["/usr/bin/caddy", "/usr/local/bin/caddy", "/usr/sbin/caddy"],
    )
}

#[test]
fn caddy_handle_errors_renders_through_error_render() {
    let caddy = caddy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (svc, svc_port) = recipe_support::serve(dir);
    let (listen, api) = (free_port(), free_port());
    let mut proxy = start_caddy(
        &caddy,
        &dir.join("caddy"),
        &fill(RECIPE, listen, api, svc_port),
    );
    proxy.wait_listening(listen);
    proxy.wait_listening(api);
    let fail = |what: &str, r: &Response| {
        format!(
            "{what}: {r:?}\ncaddy log:\n{}\nerror-render log:\n{}",
            proxy.log(),
            svc.log()
        )
    };

    // An upstream 502: GET, POST with a body, and XML.
    for (method, content_type, body, expected_type) in [
        ("GET", None, "", "application/json"),
        (
            "POST",
            Some("application/json"),
            "{\"order\": 1}",
            "application/json",
        ),
        (
            "POST",
            Some("application/xml"),
            "<order>1</order>",
            "application/xml",
        ),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| ("Content-Type", ct))
            .into_iter()
            .collect();
        let r = request(listen, method, "/api/orders", &headers, body).expect("request");
        let what = format!("{method} {content_type:?} to a failing upstream");
        assert_eq!(r.status, 502, "{}", fail(&what, &r));
        assert_eq!(r.body, expected(502, content_type), "{}", fail(&what, &r));
        assert_eq!(
            r.header("Content-Type"),
            Some(expected_type),
            "{}",
            fail(&what, &r)
        );
        assert_eq!(
            r.header("X-Generator"),
            Some("tyk.io"),
            "{}",
            fail(&what, &r)
        );
    }

    // A status the recipe does not intercept keeps the API's own body.
    let r = request(listen, "GET", "/api/invalid", &[], "").expect("GET /api/invalid");
    recipe_support::assert_api_error_passed_through(&r, &fail("API's own 400", &r));
}

#[test]
fn caddy_own_error_with_the_api_down_renders_through_error_render() {
    let caddy = caddy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (svc, svc_port) = recipe_support::serve(dir);
    // The recipe with the demo site deleted, as the README says, and
    // nothing listening at @API@: Caddy cannot reach the API.
    let demo = RECIPE
        .find(DEMO)
        .unwrap_or_else(|| panic!("the Caddyfile has no {DEMO:?} site"));
    let (listen, api) = (free_port(), free_port());
    let mut proxy = start_caddy(
        &caddy,
        &dir.join("caddy"),
        &fill(&RECIPE[..demo], listen, api, svc_port),
    );
    proxy.wait_listening(listen);

    let r = request(listen, "GET", "/api/orders", &[], "").expect("request");
    let log = format!(
        "{r:?}\ncaddy log:\n{}\nerror-render log:\n{}",
        proxy.log(),
        svc.log()
    );
    assert_eq!(r.status, 502, "{log}");
    assert_eq!(r.body, expected(502, None), "{log}");
    assert_eq!(r.header("X-Generator"), Some("tyk.io"), "{log}");
}
