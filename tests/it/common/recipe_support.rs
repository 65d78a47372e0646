//! Helpers for the tests that run a documented proxy recipe (nginx, Caddy,
//! HAProxy) in front of the real binary: raw HTTP/1.1 requests, child
//! processes killed when the test ends, and the commands a recipe's README
//! documents.
#![allow(dead_code)] // each recipe test uses a part of these helpers

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use error_render::{ErrorRequest, Renderer};

/// How long a process may take to start listening.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// A response, as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads the response.
pub fn request(
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
    Ok(parse_response(&String::from_utf8_lossy(&raw)))
}

/// Parses a complete HTTP/1.x response (as sent, or as an exported file).
pub fn parse_response(text: &str) -> Response {
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
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
        crate::common::dechunk(rest)
    } else {
        rest.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// A port free on 127.0.0.1 now (the OS picks it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Polls `port` until it accepts connections, up to [`START_DEADLINE`];
/// `exited` is asked on each round so a process that died fails at once.
/// On failure the message has `log`.
pub fn wait_listening(
    name: &str,
    port: u16,
    log: &dyn Fn() -> String,
    exited: &mut dyn FnMut() -> Option<String>,
) {
    let deadline = Instant::now() + START_DEADLINE;
    while Instant::now() < deadline {
        if let Some(status) = exited() {
            panic!("{name} exited early ({status}):\n{}", log());
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{name} is not listening on {port}:\n{}", log());
}

/// A child process killed when the test ends, pass or fail.
pub struct Guard {
    pub child: Child,
    pub name: &'static str,
    pub log: PathBuf,
}

impl Guard {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the process listens on `port`, failing with its log if
    /// it exits first or never listens.
    pub fn wait_listening(&mut self, port: u16) {
        let log = self.log.clone();
        let child = &mut self.child;
        wait_listening(
            self.name,
            port,
            &|| std::fs::read_to_string(&log).unwrap_or_default(),
            &mut || match child.try_wait() {
                Ok(Some(status)) => Some(status.to_string()),
                _ => None,
            },
        );
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` with stdout and stderr into `log`.
pub fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Guard {
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

/// The first of `candidates` that exists, or a failure telling how to get
/// it: a recipe test fails, rather than skips, without its proxy.
pub fn installed(what: &str, candidates: &[&str]) -> PathBuf {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{what} is not installed (looked at {candidates:?}): run scripts/ci-deps.sh")
        })
}

pub fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// What the library renders for `code` with the bundled templates, as the
/// service (and `export`) should.
pub fn expected(code: u16, content_type: Option<&str>) -> String {
    let renderer = Renderer::from_dir(templates()).expect("bundled templates load");
    let mut req = ErrorRequest::code(code);
    if let Some(ct) = content_type {
        req = req.content_type(ct);
    }
    renderer
        .render(&req)
        .expect("render")
        .body_text()
        .into_owned()
}

/// `error-render serve` on a free port with the bundled templates, ready.
pub fn serve(dir: &Path) -> (Guard, u16) {
    let port = free_port();
    let mut svc = spawn(
        "error-render serve",
        Command::new(env!("CARGO_BIN_EXE_error-render"))
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--templates")
            .arg(templates()),
        &dir.join("error-render.log"),
    );
    svc.wait_listening(port);
    (svc, port)
}

/// The lines of the first fenced block in `markdown` whose info string is
/// `lang` and that contains `marker`: the commands a README documents, so a
/// test can run them as written.
pub fn documented_block(markdown: &str, lang: &str, marker: &str) -> String {
    let fence = format!("```{lang}");
    let mut blocks = markdown.split(&fence).skip(1);
    blocks
        .find_map(|rest| {
            let block = rest.split("```").next().unwrap_or("");
            block
                .contains(marker)
                .then(|| block.trim_start_matches('\n').to_owned())
        })
        .unwrap_or_else(|| panic!("no ```{lang} block containing {marker:?}"))
}

/// Runs a documented shell block with `sh -eu` in `cwd`, its output into
/// `log` (a file, not a pipe: a daemon the block starts keeps its stderr
/// open), failing with that output if a command fails.
pub fn run_documented(block: &str, cwd: &Path, log: &Path, what: &str) {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let status = Command::new("sh")
        .arg("-euc")
        .arg(block)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .expect("run sh");
    assert!(
        status.success(),
        "{what} fails ({status}):\n{block}\noutput:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// The demo API's own detailed 400 (each recipe's example config answers
/// `/api/invalid` with it), which a recipe must pass through untouched.
pub const API_OWN_400: &str = "{\"field\": \"email\", \"problem\": \"not an address\"}";

/// Asserts `r` is the API's own 400 as the API sent it: not intercepted,
/// not rendered. `context` (the response and the proxy's log) explains a
/// failure.
pub fn assert_api_error_passed_through(r: &Response, context: &str) {
    assert_eq!(r.status, 400, "{context}");
    assert_eq!(r.body, API_OWN_400, "{context}");
    assert_eq!(r.header("X-Generator"), None, "{context}");
}
