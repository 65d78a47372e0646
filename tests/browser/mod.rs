//! A headless Chromium driven over WebDriver by chromedriver: the few
//! commands the browser tests use (`preview` and `pages`, modules of
//! `tests/preview_browser.rs`), over reqwest: a WebDriver crate would add
//! some thirty crates to the build for them.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash scripts/ci-deps.sh`
//! installs them; `CHROMIUM` and `CHROMEDRIVER` name other binaries). Without
//! them a test fails: it never skips silently.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// How long any wait on the page may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// WebDriver's key for an element reference.
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `target/ci-artifacts/<sub>`, created: CI keeps `target/ci-artifacts`.
pub fn artifacts(sub: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/ci-artifacts")
        .join(sub);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// A binary from the environment variable, else the first existing path.
fn binary(var: &str, candidates: &[&str], package: &str) -> PathBuf {
    let named = std::env::var_os(var).map(PathBuf::from);
    let candidates: Vec<PathBuf> = match named {
        Some(p) => vec![p],
        None => candidates.iter().map(PathBuf::from).collect(),
    };
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{package} is not installed (looked for {candidates:?}; set {var} to use another): \
                 run `bash scripts/ci-deps.sh`, which installs chromium and chromium-driver"
            )
        })
}

/// chromedriver (a child process on a free port) and one Chromium session.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Only our own child, by its handle; Chromium was already closed by
        // `quit`, or goes with its driver.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    pub async fn start() -> Browser {
        let chromium = binary("CHROMIUM", &["/usr/bin/chromium"], "chromium");
        let chromedriver = binary(
            "CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
            "chromium-driver",
        );
        // Port 0: chromedriver picks a free port and says which on stdout.
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e}; run `bash scripts/ci-deps.sh`",
                    chromedriver.display()
                )
            });
        let stdout = driver.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keeps draining chromedriver's output so it never blocks on a
            // full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(WAIT)
            .expect("chromedriver did not report its port");
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let user_data = format!("--user-data-dir={}", profile.path().display());
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--window-size=1280,900", user_data,
                    ],
                },
            }}
        });
        let base = format!("http://127.0.0.1:{port}");
        let started: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        let session = started["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no Chromium session: {started}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        }
    }

    /// One WebDriver command; its `value`, or a panic with the driver's error.
    pub async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let reply: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(error) = reply["value"]["error"].as_str() {
            panic!("WebDriver {path}: {error}: {}", reply["value"]["message"]);
        }
        reply["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    pub async fn clear(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn window(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// A Chrome DevTools command (chromedriver's extension).
    pub async fn cdp(&self, cmd: &str, params: Value) {
        self.cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
        .await;
    }

    /// A PNG of the viewport into `target/ci-artifacts/<sub>/<name>`; its path.
    pub async fn screenshot(&self, sub: &str, name: &str) -> PathBuf {
        let png = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let path = artifacts(sub).join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Polls `expr` (a JS expression) until it is truthy, failing after
    /// [`WAIT`] with `what`. There is no event to await in the page from
    /// here, so this is bounded polling.
    pub async fn wait_for(&self, what: &str, expr: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        let script = format!("return ({expr});");
        loop {
            let v = self.js(&script).await;
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                panic!("waited {WAIT:?} for {what}: {expr} is {v}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let css = serde_json::to_string(css).unwrap();
        self.js(&format!(
            "return document.querySelector({css}).textContent;"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub async fn quit(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}
