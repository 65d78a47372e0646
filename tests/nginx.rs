//! Interoperability with a real nginx: runs `examples/nginx/nginx.conf` (the
//! documented recipe, placeholders filled in) in front of the real
//! `error-render serve` and checks that upstream and nginx errors come back
//! with error-render's bodies, byte for byte.
//!
//! Needs nginx (`/usr/sbin/nginx`); `scripts/ci-deps.sh` installs it. The
//! test fails, rather than skips, without it.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use error_render::{ErrorRequest, Renderer};

const RECIPE: &str = include_str!("../examples/nginx/nginx.conf");

/// A response, as read off the wire.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads the response.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        common::dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A child process killed when the test ends, pass or fail.
struct Guard {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Guard {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `port` until it accepts connections (bounded), failing with the
    /// process's log if it exits or never listens.
    fn wait_listening(&mut self, port: u16) {
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited early ({status}):\n{}", self.name, self.log());
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{} is not listening on {port}:\n{}", self.name, self.log());
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Guard {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    Guard {
        child,
        name,
        log: log.to_owned(),
    }
}

/// nginx from Debian, or a failure telling how to get it.
fn nginx() -> PathBuf {
    let candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("nginx is not installed (looked at {candidates:?}): run scripts/ci-deps.sh")
        })
}

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// What the library renders for `code`, as the service should.
fn expected(code: u16, content_type: Option<&str>) -> String {
    let renderer = Renderer::from_dir(templates()).expect("bundled templates load");
    let mut req = ErrorRequest::code(code);
    if let Some(ct) = content_type {
        req = req.content_type(ct);
    }
    renderer.render(&req).expect("render").body
}

#[test]
fn nginx_error_page_renders_through_error_render() {
    let nginx = nginx();
    let tmp = tempfile::tempdir().expect("tempdir");
    let prefix = tmp.path();

    // error-render itself.
    let svc_port = free_port();
    let mut svc = spawn(
        "error-render serve",
        Command::new(env!("CARGO_BIN_EXE_error-render"))
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{svc_port}"))
            .arg("--templates")
            .arg(templates()),
        &prefix.join("error-render.log"),
    );
    svc.wait_listening(svc_port);

    // The recipe, filled in.
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
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, &conf).expect("write nginx.conf");
    let mut prefix_arg = prefix.as_os_str().to_owned();
    prefix_arg.push("/");
    let args = |cmd: &mut Command| {
        cmd.arg("-p")
            .arg(&prefix_arg)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(prefix.join("error.log"))
            // Foreground, one process: the test owns it and kills it.
            .arg("-g")
            .arg("daemon off; master_process off;");
    };

    // The recipe is valid nginx configuration.
    let mut check = Command::new(&nginx);
    check.arg("-t");
    args(&mut check);
    let out = check.output().expect("run nginx -t");
    assert!(
        out.status.success(),
        "nginx -t rejects examples/nginx/nginx.conf:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut cmd = Command::new(&nginx);
    args(&mut cmd);
    let mut ngx = spawn("nginx", &mut cmd, &prefix.join("nginx.out"));
    ngx.wait_listening(listen);
    ngx.wait_listening(api);

    // What error-render answers directly, and what that should be.
    let direct = request(svc_port, "GET", "/render/502", &[], "").expect("GET /render/502");
    let default_502 = Renderer::from_dir(templates())
        .expect("load")
        .default_message(502);
    assert_eq!(
        direct.body,
        format!("{{\n    \"error\": \"{default_502}\"\n}}")
    );
    assert_eq!(direct.body, expected(502, None));

    let fail = |what: &str, r: &Response| {
        format!(
            "{what}: {r:?}\nnginx error.log:\n{}\nerror-render log:\n{}",
            std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default(),
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
}
