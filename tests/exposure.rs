//! The HTTP surface against hostile clients and careless exposure (issue
//! #14): the preview's inline parse off the async workers, the write and
//! drain deadlines, no client values in logs, the preview's Host and Origin
//! checks, protocol errors answered 400/413, the operations listener, no
//! quoted template text on `/status`, and the start line. Real sockets, and
//! the real binary where the finding is about the process.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use error_render::config::{Config, ConfigLayer};
use error_render::http::{AppState, ERROR_HEADER, serve_listeners};
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[path = "it/common/mod.rs"]
mod common;

use common::free_port;

/// How long any wait for the service may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);

const BUNDLED: [(&str, &str); 2] = [
    ("error.json", BUNDLED_ERROR_JSON),
    ("error.xml", BUNDLED_ERROR_XML),
];

/// The service in-process: a traffic listener and, with `admin`, an
/// operations listener, both on 127.0.0.1:0.
struct Service {
    traffic: SocketAddr,
    admin: Option<SocketAddr>,
    state: AppState,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), error_render::http::ServeError>>,
}

impl Service {
    async fn start(yaml: &str, files: &[(&str, &str)], admin: bool) -> Service {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let traffic = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin_listener = if admin {
            Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        } else {
            None
        };
        let mut layer: ConfigLayer = if yaml.trim().is_empty() {
            ConfigLayer::default()
        } else {
            serde_yaml_ng::from_str(yaml).unwrap()
        };
        layer.templates = Some(dir.path().to_owned());
        let admin_addr = admin_listener.as_ref().map(|l| l.local_addr().unwrap());
        layer.admin_listen = admin_addr.map(|a| a.to_string());
        let state = AppState::from_config(Config::from_layer(layer).unwrap()).unwrap();
        let traffic_addr = traffic.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_listeners(
            traffic,
            admin_listener,
            state.clone(),
            async {
                let _ = rx.await;
            },
        ));
        Service {
            traffic: traffic_addr,
            admin: admin_addr,
            state,
            _dir: dir,
            stop: Some(tx),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.traffic)
    }

    fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin.unwrap())
    }

    /// Waits until the store has linted the live set: `/status` answers
    /// `"pending"` until then rather than wait for the validator.
    async fn linted(&self) {
        let mut linted = self.state.store.subscribe_findings();
        tokio::time::timeout(Duration::from_secs(30), async {
            while self.state.store.findings().is_none() {
                linted.changed().await.unwrap();
            }
        })
        .await
        .expect("the live set is linted within 30 s");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn own_error(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    assert_eq!(
        r.headers().get(ERROR_HEADER).map(|v| v.as_bytes()),
        Some(&b"1"[..]),
        "status {status}"
    );
    (status, r.json().await.unwrap())
}

/// Sends raw bytes and reads the answer until the server closes or a
/// complete head and `Content-Length` body have arrived.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout(WAIT, s.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) => 0,
            Err(_) => panic!("no complete answer within {WAIT:?}"),
        };
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

// ---------------------------------------------------------------------------
// Finding 3: the preview's inline parse ran on the async workers.

/// Files of nearly 64 KiB (the inline limit), each action a pipeline of
/// parentheses nested 90 deep (the parse limit is 100): slow to parse. Eight
/// of them take seconds in a debug build, which on the async workers
/// stalled `/healthz` for as long.
const FILES: usize = 8;

fn hostile_templates() -> Value {
    let depth = 90;
    let action = format!("{{{{{}1{}}}}}", "(".repeat(depth), ")".repeat(depth));
    let per_file = (64 * 1024 - 16) / action.len();
    let text = action.repeat(per_file);
    let files: serde_json::Map<String, Value> = (0..FILES)
        .map(|i| (format!("error_{}.json", 400 + i), json!(text)))
        .collect();
    Value::Object(files)
}

/// The inline parses run one at a time on a blocking thread, never on the
/// async workers. What proves it is progress, not speed: the service and
/// the probes share one async thread here, so a parse on that thread
/// would stop every probe until it ends. Between the end of the first
/// post's parse and the end of the last one, three whole parses run; the
/// probes answered in that window are counted, and only a health route
/// that never waits on a parse gets more than a handful of answers in
/// (without the fix: at most one in each of the two short gaps between
/// parses, where the thread is free). Each probe's only time limit is the
/// generous [`WAIT`], so a loaded machine slows the test without failing it.
#[tokio::test(flavor = "current_thread")]
async fn preview_inline_parse_leaves_healthz_answering() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const POSTS: usize = 4;
    let s = Service::start("", &BUNDLED, false).await;
    let body = json!({"templates": hostile_templates(), "code": 404}).to_string();
    assert!(body.len() > 500_000, "{}", body.len());

    let done = Arc::new(AtomicUsize::new(0));
    let posts: Vec<_> = (0..POSTS)
        .map(|_| {
            let url = s.url("/preview/render");
            let body = body.clone();
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let status = client()
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                done.fetch_add(1, Ordering::SeqCst);
                status
            })
        })
        .collect();
    // Probes paced, so that they measure the service rather than load it.
    let mut pace = tokio::time::interval(Duration::from_millis(10));
    let (mut probes, mut during) = (0, 0);
    while done.load(Ordering::SeqCst) < POSTS {
        pace.tick().await;
        let r = tokio::time::timeout(WAIT, client().get(s.url("/healthz")).send())
            .await
            .expect("healthz answered")
            .unwrap();
        assert_eq!(r.status(), 200);
        probes += 1;
        // Answered after one parse ended and before the last one did.
        if (1..POSTS).contains(&done.load(Ordering::SeqCst)) {
            during += 1;
        }
    }
    for p in posts {
        assert_eq!(p.await.unwrap().unwrap(), 200);
    }
    assert!(
        during >= 10,
        "only {during} of {probes} /healthz probes were answered while the second to last \
         parses ran: the health route waited on the parses"
    );
}

// ---------------------------------------------------------------------------
// Finding 6: no write timeout, no drain deadline.

/// A template whose body is 8 MB, more than the kernel buffers on both
/// sides of a loopback connection hold for a client with a small window.
const BIG_404: &str = r#"{{range 8000}}{{printf "%01000d" 0}}{{end}}"#;
const BIG_LIMITS: &str = "limits:\n  max_output_bytes: 16777216\n  max_render_time_ms: 20000\n";

/// Asks for the big body with a 4 KiB receive buffer, reads nothing for
/// `idle`, then reads what comes until the connection ends; returns the
/// bytes received.
async fn read_after(addr: SocketAddr, idle: Duration) -> usize {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(b"GET /render/404 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // The response has begun (rendering 8 MB can take a while on a loaded
    // machine): its first bytes wait in the receive buffer, unread.
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(WAIT, stream.peek(&mut first)).await;
    assert!(matches!(peeked, Ok(Ok(1))), "no response began: {peeked:?}");
    // The client not reading for a while is what is under test: there is no
    // event to await but the time passing.
    tokio::time::sleep(idle).await;
    let mut total = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return total,
            Ok(Ok(n)) => total += n,
            Err(_) => panic!("the connection neither ended nor sent within {WAIT:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_is_closed_after_the_write_timeout() {
    let full = 8_000_000;
    let s = Service::start(
        &format!("{BIG_LIMITS}  write_timeout_ms: 300\n"),
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error_404.json", BIG_404),
        ],
        false,
    )
    .await;
    let got = read_after(s.traffic, Duration::from_millis(1500)).await;
    assert!(
        got < full,
        "a client that read nothing for 1.5 s still got all {got} bytes past a 300 ms write timeout"
    );
    // The service goes on answering.
    let r = client().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // A reader gets everything when the timeout leaves it time to: the
    // same request, the same small window, and a longer timeout.
    let s = Service::start(
        &format!("{BIG_LIMITS}  write_timeout_ms: 10000\n"),
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error_404.json", BIG_404),
        ],
        false,
    )
    .await;
    let got = read_after(s.traffic, Duration::ZERO).await;
    assert!(got > full, "a reading client got only {got} bytes");
}

/// `GET path` answers 200, with short timeouts.
fn answers(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    stream.read_exact(&mut buf).is_ok() && buf.ends_with(b" 200")
}

/// The binary serving `serve` with `args` and `env` (no other
/// `ERROR_RENDER_*`), stderr to `log`, once `/readyz` answers on `addr`.
fn spawn_binary(args: &[String], env: &[(&str, &str)], log: &Path, addr: SocketAddr) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_error-render"));
    cmd.arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ERROR_RENDER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("NO_COLOR");
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + WAIT;
    while !answers(addr, "/readyz") {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve exited early: {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "serve never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn sigterm(child: &Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// Waits for the child to exit, at most `within`.
fn exit_within(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn template_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in BUNDLED {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn sigterm_exits_at_the_drain_deadline() {
    let dir = template_dir();
    // Outside the template folder (a file there is not a template, but
    // keep the folder to what the test means), in a folder of its own so
    // concurrent runs never share it.
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("drain.log");
    let log = log.as_path();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = spawn_binary(
        &[
            "--listen".into(),
            addr.to_string(),
            "--templates".into(),
            dir.path().display().to_string(),
            "--shutdown-timeout-ms".into(),
            "500".into(),
        ],
        // The request below would hold a drain without deadline for a minute.
        &[("ERROR_RENDER_REQUEST_TIMEOUT_MS", "60000")],
        log,
        addr,
    );
    // A request in flight: its body never finishes arriving. hyper sends
    // `100 Continue` when the handler starts reading the body, so once it
    // has arrived the request is in the handler, not merely connected.
    let mut busy = TcpStream::connect(addr).unwrap();
    busy.set_read_timeout(Some(WAIT)).unwrap();
    busy.write_all(
        b"POST /render HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let mut head = [0u8; 25];
    busy.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 100 Continue\r\n\r\n");
    busy.write_all(b"{\"code\":").unwrap();

    let stopped = Instant::now();
    sigterm(&child);
    let status = exit_within(&mut child, Duration::from_secs(10));
    let took = stopped.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(
        took < Duration::from_millis(500 + 2500),
        "exit took {took:?} with a 500 ms drain deadline"
    );
    // The open connection was closed, not left hanging.
    let mut rest = Vec::new();
    let _ = busy.read_to_end(&mut rest);
    let logged = std::fs::read_to_string(log).unwrap();
    assert!(logged.contains("shutdown_timeout_ms"), "{logged}");
}

// ---------------------------------------------------------------------------
// Finding 8 and issue #16: what the logs carry and how they look.

#[test]
fn debug_logs_never_carry_client_values() {
    const SECRET: &str = "sk_live_Zx9SECRETvalue";
    let dir = template_dir();
    // Outside the template folder (a file there is not a template, but
    // keep the folder to what the test means), in a folder of its own so
    // concurrent runs never share it.
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("debug.log");
    let log = log.as_path();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = spawn_binary(
        &[
            "--listen".into(),
            addr.to_string(),
            "--templates".into(),
            dir.path().display().to_string(),
        ],
        &[("ERROR_RENDER_LOG_LEVEL", "debug")],
        log,
        addr,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let c = client();
        let base = format!("http://{addr}");
        let mut statuses = Vec::new();
        for path in [
            format!("/render/{SECRET}"),
            format!("/render?code={SECRET}"),
            format!("/render/404?profile={SECRET}"),
            format!("/render/404?id={SECRET}"),
            format!("/{SECRET}"),
            format!("/404.{SECRET}"),
            format!("/preview/render?code={SECRET}"),
            format!("/preview/api/catalogue?profile={SECRET}"),
        ] {
            let r = c.get(format!("{base}{path}")).send().await.unwrap();
            statuses.push(r.status().as_u16());
        }
        for body in [
            json!({"code": SECRET}),
            json!({"code": 404, SECRET: 1}),
            json!({"code": 404, "profile": SECRET}),
            json!({"id": SECRET}),
        ] {
            for path in ["/render", "/preview/render"] {
                let r = c
                    .post(format!("{base}{path}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                statuses.push(r.status().as_u16());
            }
        }
        let r = c
            .post(format!("{base}/render"))
            .body(format!("{{\"code\": 404, \"message\": \"{SECRET}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        // A malformed chunk: the client's fault, so no ERROR line.
        let answer = raw(
            addr,
            format!(
                "POST /render HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {SECRET}\r\n{{}}\r\n0\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(
            statuses.iter().all(|s| (400..500).contains(s)),
            "{statuses:?}"
        );
    });
    sigterm(&child);
    exit_within(&mut child, WAIT);
    let logged = std::fs::read_to_string(log).unwrap();
    assert!(logged.contains("rejected a request"), "{logged}");
    assert!(logged.contains("malformed_body"), "{logged}");
    assert!(
        !logged.lines().any(|l| l.contains("ERROR")),
        "a client's mistake logged as an error:\n{logged}"
    );
    assert!(
        !logged.contains("Zx9SECRET"),
        "a client's value reached the logs:\n{logged}"
    );
}

#[test]
fn start_line_names_addresses_folder_and_preview_without_colour() {
    let dir = template_dir();
    // Outside the template folder (a file there is not a template, but
    // keep the folder to what the test means), in a folder of its own so
    // concurrent runs never share it.
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("start.log");
    let log = log.as_path();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = spawn_binary(
        &[
            "--listen".into(),
            addr.to_string(),
            "--admin-listen".into(),
            admin.to_string(),
            "--templates".into(),
            dir.path().display().to_string(),
        ],
        &[],
        log,
        addr,
    );
    // Health answers on both; the operations routes only on the admin port.
    assert!(answers(admin, "/healthz"));
    assert!(answers(admin, "/metrics"));
    assert!(!answers(addr, "/metrics"));
    // `healthcheck` follows the same environment to the traffic port.
    let health = Command::new(env!("CARGO_BIN_EXE_error-render"))
        .arg("healthcheck")
        .env("ERROR_RENDER_LISTEN", addr.to_string())
        .env("ERROR_RENDER_ADMIN_LISTEN", admin.to_string())
        .env_remove("ERROR_RENDER_CONFIG")
        .status()
        .unwrap();
    assert!(health.success());
    sigterm(&child);
    exit_within(&mut child, WAIT);
    let logged = std::fs::read_to_string(log).unwrap();
    assert!(
        !logged.contains('\u{1b}'),
        "ANSI escapes in a file:\n{logged}"
    );
    let starts: Vec<&str> = logged.lines().filter(|l| l.contains(" serving")).collect();
    assert_eq!(starts.len(), 1, "{logged}");
    let folder = dir.path().display().to_string();
    assert_eq!(
        logged.matches(folder.as_str()).count(),
        1,
        "the template folder is named once:\n{logged}"
    );
    let line = starts[0];
    for field in [
        format!("listen={addr}"),
        format!("admin=\"{admin}\""),
        format!("templates={}", dir.path().display()),
        format!("preview=\"http://{admin}/preview\""),
    ] {
        assert!(line.contains(&field), "{field} missing from {line}");
    }
}

// ---------------------------------------------------------------------------
// Finding 9: the preview's exposure.

#[tokio::test]
async fn preview_refuses_rebound_hosts_and_cross_site_posts() {
    let s = Service::start("", &BUNDLED, false).await;
    let c = client();
    let render = json!({"templates": {"error.json": "{{.Message}}"}, "code": 404});

    // DNS rebinding: the page of another name, resolved to 127.0.0.1.
    for path in [
        "/preview",
        "/preview/api/catalogue",
        "/preview/render?code=404",
    ] {
        let r = c
            .get(s.url(path))
            .header("host", "attacker.example")
            .send()
            .await
            .unwrap();
        let (status, body) = own_error(r).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    // Loopback names, with and without a port, are the preview's own.
    for host in ["localhost", &format!("127.0.0.1:{}", s.traffic.port())] {
        let r = c
            .get(s.url("/preview/render?code=404"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }

    // A cross-site `text/plain` POST (no preflight) is refused...
    let r = c
        .post(s.url("/preview/render"))
        .header("content-type", "text/plain")
        .header("origin", "http://attacker.example")
        .body(render.to_string())
        .send()
        .await
        .unwrap();
    let (status, _) = own_error(r).await;
    assert_eq!(status, 403);
    let r = c
        .post(s.url("/preview/render"))
        .header("origin", "null")
        .json(&render)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // ...while the page's own origin and scripts without one may post.
    let r = c
        .post(s.url("/preview/render"))
        .header("origin", format!("http://{}", s.traffic))
        .json(&render)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(s.url("/preview/render"))
        .json(&render)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A configured name is allowed too.
    let s = Service::start(
        "preview:\n  allowed_hosts: [preview.internal]\n",
        &BUNDLED,
        false,
    )
    .await;
    let r = c
        .get(s.url("/preview/render?code=404"))
        .header("host", "preview.internal:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // With a token, the token is the guard: any Host, but still no
    // cross-site POST.
    let s = Service::start("preview:\n  token: t0ken\n", &BUNDLED, false).await;
    let r = c
        .get(s.url("/preview/render?code=404"))
        .header("host", "preview.example.com")
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(s.url("/preview/render"))
        .header("origin", "https://attacker.example")
        .bearer_auth("t0ken")
        .json(&render)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[test]
fn preview_off_loopback_without_token_and_ops_on_traffic_port_warn() {
    let config = |yaml: &str| {
        Config::from_layer(serde_yaml_ng::from_str::<ConfigLayer>(yaml).unwrap()).unwrap()
    };
    let w = error_render::http::exposure_warnings(&config(
        "listen: 0.0.0.0:8080\npreview:\n  enabled: true\n",
    ));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("/metrics and /status") && w[0].contains("admin_listen"));
    assert!(w[1].contains("preview") && w[1].contains("token"));
    // The operations listener on loopback fixes both.
    let w = error_render::http::exposure_warnings(&config(
        "listen: 0.0.0.0:8080\nadmin_listen: 127.0.0.1:9090\npreview:\n  enabled: true\n",
    ));
    assert!(w.is_empty(), "{w:?}");
    // Loopback everything: nothing to say.
    assert!(error_render::http::exposure_warnings(&config("")).is_empty());
}

// ---------------------------------------------------------------------------
// Finding 10: protocol errors.

#[tokio::test]
async fn malformed_chunk_size_is_a_400_not_a_500() {
    let s = Service::start("", &BUNDLED, false).await;
    let answer = raw(
        s.traffic,
        b"POST /render HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("malformed_body"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-error-render-error: 1"),
        "{answer}"
    );
}

#[tokio::test]
async fn content_length_over_the_limit_is_413_at_once() {
    let s = Service::start("limits:\n  request_timeout_ms: 30000\n", &BUNDLED, false).await;
    let started = Instant::now();
    // The body is declared and never sent.
    let answer = raw(
        s.traffic,
        b"POST /render HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 10000000\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "413 came after {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Finding 11: operations on the traffic port.

#[tokio::test]
async fn admin_listen_moves_metrics_status_and_preview() {
    let s = Service::start("", &BUNDLED, true).await;
    let c = client();
    for path in ["/metrics", "/status", "/preview", "/preview/api/catalogue"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path} on the traffic port");
        let r = c.get(s.admin_url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path} on the admin port");
    }
    for path in ["/healthz", "/readyz"] {
        assert_eq!(c.get(s.url(path)).send().await.unwrap().status(), 200);
        assert_eq!(c.get(s.admin_url(path)).send().await.unwrap().status(), 200);
    }
    // Rendering stays on the traffic port only.
    assert_eq!(
        c.get(s.url("/render/404")).send().await.unwrap().status(),
        404
    );
    let (status, body) = own_error(c.get(s.admin_url("/render/404")).send().await.unwrap()).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    // An ingress-nginx request to any path still renders on the traffic port.
    let r = c
        .get(s.url("/metrics"))
        .header("x-code", "503")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get(ERROR_HEADER).is_none());
    assert!(s.state.config.admin_listen.is_some());
}

// ---------------------------------------------------------------------------
// Finding 12: /status quoted template text.

/// A JSON template that html/template rewrites: its comment goes, and the
/// html-rewrite finding quotes the text around it.
const COMMENTED: &str = "<!-- QUOTED-TEMPLATE-TEXT -->\n{\"error\": \"{{.Message}}\"}";

#[tokio::test]
async fn status_never_quotes_template_text() {
    let s = Service::start("", &[("error.json", COMMENTED)], false).await;
    let c = client();
    let status = linted_status(&s, &c).await;
    let findings = status["findings"].as_array().unwrap();
    let rewrite = findings
        .iter()
        .find(|f| f["rule"] == "html-rewrite")
        .unwrap_or_else(|| panic!("no html-rewrite finding: {status}"));
    assert_eq!(rewrite["file"], "error.json");
    assert!(
        rewrite["message"]
            .as_str()
            .unwrap()
            .contains("html/template")
    );
    assert!(
        !status.to_string().contains("QUOTED-TEMPLATE"),
        "/status quotes the template: {status}"
    );

    // The preview, authorised (loopback, no token), shows the quote and
    // the files' text.
    let catalogue: Value = c
        .get(s.url("/preview/api/catalogue"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let quoted = catalogue["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "html-rewrite")
        .unwrap();
    assert!(
        quoted["message"]
            .as_str()
            .unwrap()
            .contains("QUOTED-TEMPLATE"),
        "{quoted}"
    );
    assert_eq!(catalogue["templates"]["files"][0]["text"], COMMENTED);

    // With a token, only the token shows it.
    let s = Service::start(
        "preview:\n  token: t0ken\n",
        &[("error.json", COMMENTED)],
        false,
    )
    .await;
    let catalogue: Value = c
        .get(s.url("/preview/api/catalogue"))
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(catalogue.to_string().contains("QUOTED-TEMPLATE"));
    let status = linted_status(&s, &c).await;
    assert!(!status.to_string().contains("QUOTED-TEMPLATE"), "{status}");
    drop(s);
}

#[tokio::test]
async fn preview_hides_template_text_from_other_hosts_without_a_token() {
    use tower::ServiceExt as _;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("error.json"), COMMENTED).unwrap();
    let layer: ConfigLayer = serde_yaml_ng::from_str(&format!(
        "templates: {}\npreview:\n  enabled: true\n  allowed_hosts: [preview.internal]\n",
        dir.path().display()
    ))
    .unwrap();
    let state = AppState::from_config(Config::from_layer(layer).unwrap()).unwrap();
    let catalogue = |peer: &str| {
        let mut req = axum::http::Request::get("/preview/api/catalogue")
            .header("host", "preview.internal")
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            peer.parse::<SocketAddr>().unwrap(),
        ));
        let router = error_render::http::router(state.clone());
        async move {
            let r = router.oneshot(req).await.unwrap();
            assert_eq!(r.status(), 200);
            let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };
    // Another host on the network, let in by allowed_hosts: no text.
    let far = catalogue("10.1.2.3:40000").await;
    assert_eq!(far["templates"]["files"][0]["name"], "error.json");
    assert_eq!(far["templates"]["files"][0]["text"], Value::Null);
    // (Rendered bodies are what clients get anyway: they stay.)
    let findings = &far["findings"];
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "html-rewrite"),
        "{findings}"
    );
    assert!(
        !findings.to_string().contains("QUOTED-TEMPLATE"),
        "{findings}"
    );
    // This host: everything.
    let near = catalogue("127.0.0.1:40000").await;
    assert_eq!(near["templates"]["files"][0]["text"], COMMENTED);
    assert!(near["findings"].to_string().contains("QUOTED-TEMPLATE"));
}

#[tokio::test]
async fn status_never_quotes_override_messages() {
    // On 5.14 escaping an apostrophe breaks JSON: the finding quotes the
    // rendered body, which holds the override message.
    let dir = tempfile::tempdir().unwrap();
    let overrides = dir.path().join("overrides.json");
    std::fs::write(
        &overrides,
        r#"{"auth.key_not_found": {"message": "Key isn't valid, QUOTED-OVERRIDE-TEXT"}}"#,
    )
    .unwrap();
    let s = Service::start(
        &format!("overrides: {}\n", overrides.display()),
        &BUNDLED,
        false,
    )
    .await;
    s.linted().await;
    let status: Value = client()
        .get(s.url("/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        status["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "profile-5-14-invalid-json"),
        "{status}"
    );
    assert!(
        !status.to_string().contains("QUOTED-OVERRIDE"),
        "/status quotes the override: {status}"
    );
}

/// `serve_on` (one listener) keeps serving everything there.
#[tokio::test]
async fn without_admin_listen_everything_stays_on_one_port() {
    let s = Service::start("", &BUNDLED, false).await;
    for path in ["/metrics", "/status", "/preview", "/healthz", "/render/404"] {
        let status = client().get(s.url(path)).send().await.unwrap().status();
        assert!(
            status == 200 || status == 404 && path == "/render/404",
            "{path}: {status}"
        );
    }
    let mut s = s;
    if let Some(stop) = s.stop.take() {
        let _ = stop.send(());
    }
    let task = std::mem::replace(&mut s.task, tokio::spawn(async { Ok(()) }));
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// `/status` once the background validator has linted the live set: its
/// `findings` are `"pending"` until then, which would make a check on them
/// pass vacuously.
async fn linted_status(s: &Service, c: &reqwest::Client) -> Value {
    s.linted().await;
    let status: Value = c
        .get(s.url("/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(status["findings"].is_array(), "{status}");
    status
}
