//! Helpers shared by the integration tests: the binary and its outputs, free
//! ports, raw HTTP/1.1, the service running in-process, and the proxy
//! recipes' processes (`recipe_support`).
#![allow(dead_code)] // each module (and the browser test) uses a part of these helpers

#[cfg(feature = "cli")]
pub mod recipe_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `error-render` binary cargo built for these tests.
#[cfg(feature = "cli")]
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_error-render"))
}

/// The bundled template folder.
pub fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// Runs `cmd` to completion: exit code (-1 when killed by a signal), stdout
/// and stderr, which must be UTF-8.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the command runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).expect("stdout is UTF-8"),
        String::from_utf8(stderr).expect("stderr is UTF-8"),
    )
}

/// A port nothing listens on at the moment of the call, for a child
/// process to bind.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("the bound address").port()
}

/// The body of a `Transfer-Encoding: chunked` response, chunks joined.
pub fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The service running in-process on 127.0.0.1:0 over a temp template
/// folder; stopped (gracefully) when dropped.
#[cfg(feature = "server")]
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// The service's state (its store, config and metrics).
    pub state: error_render::http::AppState,
    /// The template folder.
    pub dir: tempfile::TempDir,
    /// The serving task, for tests of shutdown.
    pub task: Option<tokio::task::JoinHandle<Result<(), error_render::http::ServeError>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _watch: Option<error_render::watch::WatchHandle>,
}

#[cfg(feature = "server")]
impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(feature = "server")]
impl TestServer {
    /// Starts the service with settings from YAML (the template folder is a
    /// fresh temp folder holding `files`), reloading on file changes when
    /// `watch` is set.
    pub async fn start(yaml: &str, files: &[(&str, &str)], watch: bool) -> TestServer {
        use error_render::config::{Config, ConfigLayer};
        use error_render::http::{AppState, serve_on, start_reloading};

        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let mut layer: ConfigLayer = if yaml.trim().is_empty() {
            ConfigLayer::default()
        } else {
            serde_yaml_ng::from_str(yaml).unwrap()
        };
        layer.templates = Some(dir.path().to_owned());
        let state = AppState::from_config(Config::from_layer(layer).unwrap()).unwrap();
        let watch = if watch {
            let handle = start_reloading(&state);
            assert!(handle.is_some(), "the template folder is watched");
            handle
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_on(listener, state.clone(), async {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            addr,
            state,
            dir,
            task: Some(task),
            stop: Some(tx),
            _watch: watch,
        }
    }

    /// Asks the service to stop (gracefully); `task` then completes.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
