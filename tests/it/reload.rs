//! Hot reload end to end: real temp folders, the real notify watcher, the
//! store's snapshot swap under concurrent renders, and SIGHUP on the real
//! `error-render serve` binary.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use error_render::store::{ReloadError, Store};
use error_render::watch::{self, ReloadEvent, WatchHandle};
use error_render::{ErrorRequest, Renderer, TemplateFile, TemplateSet};

use crate::common::free_port;

/// How long any single wait for the watcher may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// A pause after which a change the watcher reacted to has surely been
/// reloaded: three times the debounce plus the settling time. Only for
/// proving that something did *not* cause a reload.
const QUIET: Duration = watch::DEBOUNCE
    .saturating_mul(3)
    .saturating_add(watch::SETTLE);

const JSON: &str = "{\n    \"error\": \"{{.Message}}\"\n}";

fn write(path: impl AsRef<Path>, text: &str) {
    std::fs::write(path, text).expect("write file");
}

/// A store reading `dir` on every (re)load, as `serve` builds it.
fn store_for(dir: &Path) -> Arc<Store> {
    let dir = dir.to_owned();
    Arc::new(
        Store::new(move || Renderer::from_dir(&dir).map_err(ReloadError::new))
            .expect("initial load"),
    )
}

fn body(store: &Store, code: u16) -> String {
    store
        .snapshot()
        .renderer
        .render(&ErrorRequest::code(code).message("m"))
        .expect("render")
        .body_text()
        .into_owned()
}

/// A watcher on `paths` and its subscription.
fn watch(store: &Arc<Store>, paths: Vec<PathBuf>) -> (WatchHandle, Receiver<ReloadEvent>) {
    let handle = watch::spawn(Arc::clone(store), paths).expect("spawn watcher");
    let rx = handle.subscribe();
    (handle, rx)
}

/// Waits for reload events until `done` holds for the store, failing after
/// [`WAIT`]. A burst of events may be split into several reloads, so the
/// last one decides.
fn wait_until(
    rx: &Receiver<ReloadEvent>,
    store: &Store,
    what: &str,
    done: impl Fn(&ReloadEvent, &Store) -> bool,
) -> ReloadEvent {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) if done(&event, store) => return event,
            Ok(_) => continue,
            Err(e) => panic!("no reload for {what} within {WAIT:?} ({e})"),
        }
    }
}

fn wait_body(rx: &Receiver<ReloadEvent>, store: &Store, code: u16, want: &str) -> ReloadEvent {
    wait_until(rx, store, want, |e, s| {
        e.generation.is_some() && body(s, code) == want
    })
}

#[test]
fn edits_renames_deletes_and_new_files_reload() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), "one {{.Message}}");
    let store = store_for(dir);
    let (_handle, rx) = watch(&store, vec![dir.to_owned()]);
    assert_eq!(body(&store, 500), "one m");

    // In-place edit.
    write(dir.join("error.json"), "two {{.Message}}");
    wait_body(&rx, &store, 500, "two m");

    // Atomic save: write a temporary, rename it over the file.
    write(dir.join("error.json.tmp"), "three {{.Message}}");
    std::fs::rename(dir.join("error.json.tmp"), dir.join("error.json")).expect("rename");
    wait_body(&rx, &store, 500, "three m");

    // A new per-code file.
    write(dir.join("error_404.json"), "not here {{.Message}}");
    wait_body(&rx, &store, 404, "not here m");

    // Deleting it falls back to error.json.
    std::fs::remove_file(dir.join("error_404.json")).expect("remove");
    wait_body(&rx, &store, 404, "three m");
}

#[test]
fn broken_edit_keeps_serving_until_fixed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), JSON);
    let store = store_for(dir);
    let (_handle, rx) = watch(&store, vec![dir.to_owned()]);
    let good = body(&store, 500);
    let generation = store.snapshot().generation;

    // `}` instead of `}}` on line 2.
    write(dir.join("error.json"), "{\n  \"error\": \"{{.Message}\"\n}");
    let event = wait_until(&rx, &store, "a failed reload", |e, _| e.error.is_some());
    let error = event.error.unwrap_or_default();
    assert!(
        error.contains("error.json:2"),
        "error names file and line: {error}"
    );
    assert_eq!(body(&store, 500), good, "the old set keeps serving");
    assert_eq!(store.snapshot().generation, generation);
    let failure = store.last_failure().expect("failure recorded");
    assert!(
        failure.error.message.contains("error.json:2"),
        "{}",
        failure.error
    );

    write(dir.join("error.json"), "fixed {{.Message}}");
    wait_body(&rx, &store, 500, "fixed m");
    assert!(store.last_failure().is_none());
    assert!(store.snapshot().generation > generation);
}

/// error-render's own templates (`*.tera`) live beside Tyk's files and are
/// read by the loader, so creating or editing one reloads the set.
#[test]
fn a_tera_template_edit_triggers_a_reload() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), JSON);
    let store = store_for(dir);
    let (_handle, rx) = watch(&store, vec![dir.to_owned()]);
    let before = store.snapshot().generation;

    write(dir.join("default.html.tera"), "<p>{{ Message }}</p>");
    let created = wait_until(&rx, &store, "a new .tera file", |e, _| {
        e.generation.is_some()
    });
    assert!(created.generation > Some(before), "{created:?}");

    write(
        dir.join("layout.tera"),
        "<main>{% block b %}{% endblock %}</main>",
    );
    let edited = wait_until(&rx, &store, "a .tera layout", |e, _| e.generation.is_some());
    assert!(edited.generation > created.generation, "{edited:?}");
}

#[test]
fn editor_temporaries_trigger_no_reload() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), "v1 {{.Message}}");
    let store = store_for(dir);
    let (_handle, rx) = watch(&store, vec![dir.to_owned()]);
    let before = store.snapshot().generation;

    let temporaries = [
        "error.json~",
        ".error.json.swp",
        ".error.json.swx",
        "error.json.tmp",
        ".#error.json",
        "4913",
    ];
    for name in temporaries {
        write(dir.join(name), "{{.Message}}");
    }
    for name in temporaries {
        std::fs::remove_file(dir.join(name)).expect("remove temporary");
    }
    // A quiet period longer than the debounce (and the settling time), so
    // that a reload they caused would happen on its own, before the edit.
    std::thread::sleep(QUIET);
    // A real edit after them: the first reload seen must be the only one.
    write(dir.join("error.json"), "v2 {{.Message}}");
    let event = wait_body(&rx, &store, 500, "v2 m");
    assert_eq!(
        event.generation,
        Some(before + 1),
        "editor temporaries caused a reload"
    );
    assert!(rx.try_recv().is_err(), "no further reload pending");
}

#[cfg(unix)]
#[test]
fn configmap_symlink_swap_reloads() {
    use std::os::unix::fs::symlink;

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // The layout kubelet gives a ConfigMap volume.
    std::fs::create_dir(dir.join("..2026_01")).expect("mkdir");
    write(dir.join("..2026_01/error.json"), "old {{.Message}}");
    symlink("..2026_01", dir.join("..data")).expect("symlink");
    symlink("..data/error.json", dir.join("error.json")).expect("symlink");
    let store = store_for(dir);
    let (_handle, rx) = watch(&store, vec![dir.to_owned()]);
    assert_eq!(body(&store, 500), "old m");

    // kubelet's update: new folder, temp link, rename over ..data, clean up.
    std::fs::create_dir(dir.join("..2026_02")).expect("mkdir");
    write(dir.join("..2026_02/error.json"), "new {{.Message}}");
    symlink("..2026_02", dir.join("..data_tmp")).expect("symlink");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("rename");
    std::fs::remove_dir_all(dir.join("..2026_01")).expect("remove old");
    wait_body(&rx, &store, 500, "new m");
}

#[test]
fn watched_single_file_survives_replacement_by_rename() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    write(dir.join("error.json"), "{{.Message}}");
    // The "config file" decides the prefix of the body: stands in for an
    // overrides file read on every reload.
    let conf = tmp.path().join("prefix.conf");
    write(&conf, "first");
    let (d, c) = (dir.clone(), conf.clone());
    let store = Arc::new(
        Store::new(move || {
            let prefix = std::fs::read_to_string(&c).map_err(ReloadError::new)?;
            let set = TemplateSet::from_files([TemplateFile {
                name: "error.json".into(),
                text: format!("{prefix} {{{{.Message}}}}").into(),
            }])
            .map_err(ReloadError::new)?;
            let _ = &d;
            Ok(Renderer::new(Arc::new(set), Default::default()))
        })
        .expect("initial load"),
    );
    let (_handle, rx) = watch(&store, vec![dir.clone(), conf.clone()]);
    assert_eq!(body(&store, 500), "first m");

    for round in ["second", "third"] {
        let next = tmp.path().join("prefix.conf.new");
        write(&next, round);
        std::fs::rename(&next, &conf).expect("rename");
        wait_body(&rx, &store, 500, &format!("{round} m"));
    }
    // Other files beside it do not matter.
    let before = store.snapshot().generation;
    write(tmp.path().join("unrelated.txt"), "x");
    // Quiet for longer than the debounce: a reload the unrelated file
    // caused would come before the edit below and be counted.
    std::thread::sleep(QUIET);
    write(&conf, "fourth");
    let event = wait_body(&rx, &store, 500, "fourth m");
    assert_eq!(event.generation, Some(before + 1));
}

#[test]
fn template_folder_deleted_and_made_again_is_still_watched() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("templates");
    std::fs::create_dir(&dir).unwrap();
    write(dir.join("error.json"), JSON);
    let store = store_for(&dir);
    let (_handle, rx) = watch(&store, vec![dir.clone()]);

    // A deploy that replaces the folder whole: the old one goes, a new one
    // (a new inode, which the old watch knows nothing of) comes.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    write(dir.join("error.json"), "first {{.Message}}");
    wait_body(&rx, &store, 500, "first m");

    // Edits inside the new folder are seen too.
    write(dir.join("error.json"), "second {{.Message}}");
    wait_body(&rx, &store, 500, "second m");
}

#[test]
fn dropping_the_handle_stops_watching() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), "a {{.Message}}");
    let store = store_for(dir);
    let (handle, rx) = watch(&store, vec![dir.to_owned()]);
    drop(handle);
    write(dir.join("error.json"), "b {{.Message}}");
    // The subscription closes with the watcher thread: no reload can follow.
    assert!(rx.recv_timeout(WAIT).is_err());
    assert_eq!(body(&store, 500), "a m");
}

/// SIGHUP used to rebuild at once, skipping the rest and the recheck a file
/// event gets: a signal sent while a template was being written in place
/// loaded it half-written. The signal's path (`sighup_reloads` asks the
/// reload thread through a trigger) now goes through both, which this drives
/// through the same trigger, without the file watcher so that only the
/// request can cause the reload. The build is held open until the test has
/// written the rest of the file, so the order is fixed by events, not timing.
#[test]
fn sighup_reload_never_loads_a_file_half_written_in_place() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_owned();
    let file = dir.join("error.json");
    write(&file, "old {{.Message}}");

    let (started_tx, started) = std::sync::mpsc::channel::<Duration>();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    let started_tx = Mutex::new(started_tx);
    let release_rx = Mutex::new(release_rx);
    let builds = AtomicUsize::new(0);
    let from = dir.clone();
    let store = Arc::new(
        Store::new(move || {
            // The first build is the initial load; the second, the first
            // reload, reports how long the file had rested and waits.
            if builds.fetch_add(1, Ordering::SeqCst) == 1 {
                let rested = std::fs::metadata(from.join("error.json"))
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .unwrap_or_default();
                let _ = started_tx.lock().expect("lock").send(rested);
                let _ = release_rx.lock().expect("lock").recv();
            }
            Renderer::from_dir(&from).map_err(ReloadError::new)
        })
        .expect("initial load"),
    );
    let handle = watch::spawn_unwatched(Arc::clone(&store), vec![dir.clone()]).expect("reloader");
    let rx = handle.subscribe();

    // The first half of an in-place write (it parses: a half that did not
    // would only be refused), then the signal.
    let mut writer = std::fs::File::create(&file).expect("truncate");
    writer.write_all(b"new {{.Message}}").expect("first half");
    assert!(handle.trigger().request("SIGHUP"));

    let rested = started
        .recv_timeout(WAIT)
        .expect("the reload starts building");
    assert!(
        rested >= watch::SETTLE,
        "the build started {rested:?} after the last write, before the file rested {:?}",
        watch::SETTLE
    );
    // The rest of the write lands while the build runs; the recheck must
    // see it and build again.
    writer.write_all(b" and the rest").expect("second half");
    drop(writer);
    release.send(()).expect("release the build");

    let event = rx.recv_timeout(WAIT).expect("a reload within the wait");
    assert_eq!(event.generation, Some(2), "{event:?}");
    assert_eq!(body(&store, 500), "new m and the rest");
    assert_eq!(store.counts().succeeded, 1, "one swap, no half-written one");
}

// ---- SIGHUP on the real binary --------------------------------------------

/// Kills the child (if still running) when the test ends, pass or fail.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A minimal HTTP/1.1 GET; returns status and body.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    get_within(port, path, WAIT)
}

/// [`get`], failing if the answer takes longer than `limit`.
fn get_within(port: u16, path: &str, limit: Duration) -> std::io::Result<(u16, String)> {
    let started = Instant::now();
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), limit)?;
    s.set_read_timeout(Some(limit))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        common::dechunk(body)
    } else {
        body.to_owned()
    };
    if started.elapsed() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("GET {path} took {:?}", started.elapsed()),
        ));
    }
    Ok((status, body))
}

/// The `generation` field of `/status`.
fn generation(port: u16) -> u64 {
    let (status, body) = get(port, "/status").expect("GET /status");
    assert_eq!(status, 200, "/status: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("/status is JSON");
    v.get("generation")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("/status has no numeric generation: {body}"))
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig} {pid} failed");
}

/// Polls `f` up to 100 times, 50 ms apart (bounded), until it is true.
fn poll(what: &str, log: &Path, mut f: impl FnMut() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not happen in time; server log:\n{log}");
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_running_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    write(dir.join("error.json"), "before {{.Message}}");
    let port = free_port();
    let log = tmp.path().join("server.log");
    let child = Command::new(env!("CARGO_BIN_EXE_error-render"))
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--templates")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&log).expect("log")))
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&log)
                .expect("log"),
        ))
        .spawn()
        .expect("start error-render serve");
    let mut server = Server {
        child,
        log: log.clone(),
    };
    let pid = server.child.id();

    poll("/readyz answering 200", &log, || {
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = std::fs::read_to_string(&server.log).unwrap_or_default();
            panic!("error-render serve exited early ({status}):\n{log}");
        }
        matches!(get(port, "/readyz"), Ok((200, _)))
    });

    // Nothing changed on disk, so only the signal can bump the generation
    // (the watcher has nothing to react to).
    let g0 = generation(port);
    signal(pid, "-HUP");
    poll("a reload after SIGHUP", &log, || generation(port) > g0);

    // An edit followed by SIGHUP is served (whether the signal or the
    // watcher got there first).
    write(dir.join("error.json"), "after {{.Message}}");
    signal(pid, "-HUP");
    poll(
        "the edited body",
        &log,
        || matches!(get(port, "/render/500?message=m"), Ok((500, b)) if b == "after m"),
    );

    signal(pid, "-TERM");
    let mut status = None;
    poll("exit after SIGTERM", &log, || {
        status = server.child.try_wait().ok().flatten();
        status.is_some()
    });
    let status = status.expect("exited");
    assert!(
        status.success(),
        "serve exited with {status} after SIGTERM; log:\n{}",
        server.log()
    );
}

/// Starts `error-render serve` on a free port over `dir`, with `env`, its
/// stderr into `log`; returns once `/readyz` answers.
fn start_server(dir: &Path, log: &Path, env: &[(&str, &str)]) -> (Server, u16) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_error-render"))
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--templates")
        .arg(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).expect("log")))
        .spawn()
        .expect("start error-render serve");
    let mut server = Server {
        child,
        log: log.to_owned(),
    };
    poll("/readyz answering 200", log, || {
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = std::fs::read_to_string(&server.log).unwrap_or_default();
            panic!("error-render serve exited early ({status}):\n{log}");
        }
        matches!(get(port, "/readyz"), Ok((200, _)))
    });
    (server, port)
}

/// A set of one `error.json` with this text, as a store's build returns.
fn renderer(text: &str) -> Result<Renderer, ReloadError> {
    let set = TemplateSet::from_files([TemplateFile {
        name: "error.json".into(),
        text: text.into(),
    }])
    .map_err(ReloadError::new)?;
    Ok(Renderer::new(Arc::new(set), Default::default()))
}

/// Every operations route and a render answer within a second, over HTTP.
fn assert_all_answer_within_a_second(port: u16) {
    for path in [
        "/status",
        "/metrics",
        "/status",
        "/metrics",
        "/healthz",
        "/readyz",
        "/render/500?message=m",
    ] {
        match get_within(port, path, Duration::from_secs(1)) {
            Ok((status, _)) => assert!(status == 200 || status == 500, "{path}: {status}"),
            Err(e) => panic!("{path} did not answer within 1 s while a reload was stuck: {e}"),
        }
    }
}

/// Finding 1: a reload that never finishes (here a build blocked on a
/// channel) must not hold anything a request waits for, and is abandoned
/// at its deadline with an error naming it.
#[test]
fn a_stuck_reload_never_stalls_serving() {
    use error_render::config::Config;
    use error_render::http::{AppState, serve_on};

    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Mutex::new(released);
    let (started_tx, started) = std::sync::mpsc::channel::<()>();
    let started_tx = Mutex::new(started_tx);
    let (finished_tx, finished) = std::sync::mpsc::channel::<()>();
    let finished_tx = Mutex::new(finished_tx);
    let builds = AtomicUsize::new(0);
    let store = Arc::new(
        Store::with_reload_timeout(
            move || {
                // The first build (start-up) is quick; the second hangs
                // until released, as a read of a FIFO would.
                if builds.fetch_add(1, Ordering::SeqCst) == 1 {
                    let _ = started_tx.lock().expect("lock").send(());
                    let _ = released.lock().expect("lock").recv();
                    let _ = finished_tx.lock().expect("lock").send(());
                }
                renderer("ok {{.Message}}")
            },
            Duration::from_millis(500),
        )
        .expect("initial load"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let state = AppState::new(Arc::clone(&store), Arc::new(Config::default()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(serve_on(listener, state, async {
        let _ = stopped.await;
    }));

    // The watcher's thread runs reloads; this one will hang.
    let reloading = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || store.reload())
    };
    started.recv_timeout(WAIT).expect("the slow build started");
    assert_all_answer_within_a_second(port);

    let err = reloading
        .join()
        .expect("reload thread")
        .expect_err("abandoned at the deadline");
    assert!(
        err.message
            .contains("longer than 500 ms (limits.reload_timeout_ms)"),
        "{err}"
    );
    assert!(err.message.contains("still serving generation 1"), "{err}");
    // Still stuck: the next reload fails at once instead of adding a thread.
    let at = Instant::now();
    let err = store.reload().expect_err("refused while stuck");
    assert!(err.message.contains("still running"), "{err}");
    assert!(at.elapsed() < Duration::from_secs(1), "{:?}", at.elapsed());
    assert_all_answer_within_a_second(port);
    let (_, status) = get_within(port, "/status", Duration::from_secs(1)).expect("status");
    let status: serde_json::Value = serde_json::from_str(&status).expect("json");
    assert_eq!(status["generation"], 1);
    assert_eq!(status["reloads"]["failed"], 2);
    let message = status["last_reload_error"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(message.contains("still running"), "{status}");

    // Unstuck, reloads work again.
    release.send(()).expect("release");
    finished.recv_timeout(WAIT).expect("the slow build ended");
    // Its thread clears the store's "building" mark just after the build
    // returns: a readiness poll, bounded.
    let deadline = Instant::now() + WAIT;
    let generation = loop {
        match store.reload() {
            Ok(generation) => break generation,
            Err(e) if e.message.contains("still running") && Instant::now() < deadline => {
                std::thread::yield_now();
            }
            Err(e) => panic!("reload after the build ended: {e}"),
        }
    };
    assert_eq!(generation, 2);
    stop.send(()).expect("stop");
    runtime
        .block_on(serving)
        .expect("server task")
        .expect("served");
}

/// Finding 1 on the real binary: a FIFO named `error.json` (which no one
/// writes) is a load error found without reading it; the service keeps
/// answering and stops on SIGTERM.
#[cfg(unix)]
#[test]
fn a_fifo_named_error_json_stalls_neither_serving_nor_shutdown() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    write(dir.join("error.json"), "good {{.Message}}");
    let log = tmp.path().join("server.log");
    let (mut server, port) = start_server(&dir, &log, &[]);

    std::fs::remove_file(dir.join("error.json")).expect("remove");
    let made = Command::new("mkfifo")
        .arg(dir.join("error.json"))
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo");
    let mut error = String::new();
    poll("the failed reload at /status", &log, || {
        let (_, body) = get_within(port, "/status", Duration::from_secs(1))
            .expect("/status answers within 1 s");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        error = v["last_reload_error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        !error.is_empty()
    });
    assert!(
        error.contains("error.json") && error.contains("a FIFO"),
        "{error}"
    );
    assert_all_answer_within_a_second(port);
    assert!(
        matches!(get(port, "/render/500?message=m"), Ok((500, b)) if b == "good m"),
        "the last good set serves"
    );

    signal(server.child.id(), "-TERM");
    let mut status = None;
    poll("exit after SIGTERM", &log, || {
        status = server.child.try_wait().ok().flatten();
        status.is_some()
    });
    assert!(status.is_some_and(|s| s.success()), "{:?}", status);
}

/// Finding 4: a template rewritten in place every 100 ms, each write in
/// chunks with pauses, while a client hammers over HTTP: never an empty or
/// half body, only version A or B.
#[test]
fn in_place_write_storm_never_serves_a_half_written_template() {
    let version = |v: char| {
        format!(
            "{{\"version\": \"{v}\", \"padding\": \"{}\", \"message\": \"{{{{.Message}}}}\"}}",
            v.to_string().repeat(300)
        )
    };
    let (a, b) = (version('A'), version('B'));
    let body_of = |text: &str| text.replace("{{.Message}}", "m");
    let (body_a, body_b) = (body_of(&a), body_of(&b));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(common::TestServer::start(
        "",
        &[("error.json", a.as_str())],
        true,
    ));
    let port = server.addr.port();
    let file = server.dir.path().join("error.json");
    let mut reloads = server.state.store.subscribe();

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (stop, body_a, body_b) = (Arc::clone(&stop), body_a.clone(), body_b.clone());
            std::thread::spawn(move || {
                let mut seen = [0usize; 2];
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = get(port, "/render/500?message=m").expect("render");
                    assert_eq!(status, 500, "{body}");
                    if body == body_a {
                        seen[0] += 1;
                    } else if body == body_b {
                        seen[1] += 1;
                    } else {
                        panic!("a half-written template was served: {body:?}");
                    }
                }
                seen
            })
        })
        .collect();

    let storm_ends = Instant::now() + Duration::from_secs(4);
    let mut round = 0usize;
    while Instant::now() < storm_ends {
        let started = Instant::now();
        let text = if round.is_multiple_of(2) { &b } else { &a };
        let mut f = std::fs::File::create(&file).expect("truncate");
        for chunk in text.as_bytes().chunks(text.len() / 4 + 1) {
            f.write_all(chunk).expect("write chunk");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(f);
        round += 1;
        std::thread::sleep(Duration::from_millis(100).saturating_sub(started.elapsed()));
    }
    // The storm ends on B (an even round count ends on A: write B once more).
    if round.is_multiple_of(2) {
        write(&file, &b);
    }
    let store = &server.state.store;
    runtime.block_on(async {
        tokio::time::timeout(WAIT, async {
            while body(store, 500)
                != "{\"version\": \"B\", \"padding\": \"".to_owned()
                    + &"B".repeat(300)
                    + "\", \"message\": \"m\"}"
            {
                reloads.changed().await.expect("store alive");
            }
        })
        .await
        .expect("B served after the storm");
    });
    stop.store(true, Ordering::Relaxed);
    let mut seen = [0usize; 2];
    for c in clients {
        let s = c.join().expect("client thread");
        seen[0] += s[0];
        seen[1] += s[1];
    }
    assert!(seen[0] > 0, "the client saw nothing: {seen:?}");
}

/// Finding 7: a log file appended to in the template folder and in its
/// parent is no reason to reload.
#[test]
fn a_log_file_in_the_folder_or_its_parent_triggers_no_reload() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    write(dir.join("error.json"), JSON);
    let store = store_for(&dir);
    let (_handle, rx) = watch(&store, vec![dir.clone()]);
    let logs = [dir.join("serve.log"), root.path().join("serve.log")];
    let writer = std::thread::spawn(move || {
        let ends = Instant::now() + QUIET * 3;
        while Instant::now() < ends {
            for log in &logs {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .expect("open log");
                writeln!(f, "level=info msg=\"templates reloaded\"").expect("append");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    // Absence: nothing may arrive while the logs grow and for a while after.
    let got = rx.recv_timeout(QUIET * 4);
    writer.join().expect("writer");
    assert!(got.is_err(), "a log file caused a reload: {got:?}");
    assert_eq!(store.snapshot().generation, 1);
}

/// Finding 7 on the real binary: at `trace`, with stderr going to a file
/// in the folder's parent, the watcher's own lines must not feed it.
#[test]
fn trace_logs_into_the_parent_folder_do_not_feed_themselves() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    write(dir.join("error.json"), "{{.Message}}");
    let log = tmp.path().join("server.log");
    let (_server, port) = start_server(&dir, &log, &[("ERROR_RENDER_LOG_LEVEL", "trace")]);
    let before = std::fs::metadata(&log).expect("log").len();
    // Absence again: a self-feeding loop writes megabytes in this time.
    std::thread::sleep(QUIET * 3);
    let grown = std::fs::metadata(&log).expect("log").len() - before;
    assert!(
        grown < 16 * 1024,
        "the log grew {grown} bytes while idle:\n{}",
        String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default())
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(generation(port), 1, "no reload happened");
}

/// A reload swaps a whole set, and a request renders from one: over HTTP,
/// with `error_404.json` calling a template `error.json` defines, both
/// swapped together by Kubernetes' `..data` link, no response may mix a
/// file of version A with one of version B.
#[cfg(unix)]
#[test]
fn renders_are_never_torn_across_reloads() {
    use std::os::unix::fs::symlink;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(common::TestServer::start(
        "",
        &[("error.json", "boot {{.Message}}")],
        false,
    ));
    let dir = server.dir.path().to_owned();
    std::fs::remove_file(dir.join("error.json")).expect("remove");
    for v in ["A", "B"] {
        let data = dir.join(format!("..v{v}"));
        std::fs::create_dir(&data).expect("mkdir");
        write(
            data.join("error.json"),
            &format!("{{{{define \"marker\"}}}}{v}{{{{end}}}}{v}{{{{.Message}}}}"),
        );
        write(
            data.join("error_404.json"),
            &format!("{v}-404-{{{{template \"marker\" .}}}}"),
        );
    }
    symlink("..vA", dir.join("..data")).expect("symlink");
    for name in ["error.json", "error_404.json"] {
        symlink(format!("..data/{name}"), dir.join(name)).expect("symlink");
    }
    let store = Arc::clone(&server.state.store);
    store.reload().expect("the ..data layout loads");
    let port = server.addr.port();
    let _watching = watch::spawn(Arc::clone(&store), vec![dir.clone()]).expect("watch");

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut seen = [0usize; 2];
                while !stop.load(Ordering::Relaxed) {
                    let (_, body) = get(port, "/render/404").expect("render");
                    match body.as_str() {
                        "A-404-A" => seen[0] += 1,
                        "B-404-B" => seen[1] += 1,
                        other => panic!("a torn render: {other:?}"),
                    }
                }
                seen
            })
        })
        .collect();

    // kubelet's swap, back and forth: a new link renamed over ..data.
    let mut reloads = store.subscribe();
    for round in 0..20u32 {
        let v = if round.is_multiple_of(2) { "B" } else { "A" };
        symlink(format!("..v{v}"), dir.join("..data_tmp")).expect("symlink");
        std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("rename");
        let want = format!("{v}-404-{v}");
        runtime.block_on(async {
            tokio::time::timeout(WAIT, async {
                loop {
                    let r = store
                        .snapshot()
                        .renderer
                        .render(&ErrorRequest::code(404))
                        .expect("render");
                    if r.body == want {
                        break;
                    }
                    reloads.changed().await.expect("store alive");
                }
            })
            .await
            .unwrap_or_else(|_| panic!("version {v} not loaded in round {round}"));
        });
    }
    stop.store(true, Ordering::Relaxed);
    let mut seen = [0usize; 2];
    for c in clients {
        let s = c.join().expect("client thread");
        seen[0] += s[0];
        seen[1] += s[1];
    }
    assert!(seen[0] > 0 && seen[1] > 0, "both versions served: {seen:?}");
}
