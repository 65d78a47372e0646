//! Hot reload end to end: real temp folders, the real notify watcher, the
//! store's snapshot swap under concurrent renders, and SIGHUP on the real
//! `error-render serve` binary.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use error_render::store::{ReloadError, Store};
use error_render::watch::{self, ReloadEvent, WatchHandle};
use error_render::{ErrorRequest, Renderer, TemplateFile, TemplateSet};

/// How long any single wait for the watcher may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

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
        .body
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

#[test]
fn renders_are_never_torn_across_reloads() {
    let versions = ["A {{.Message}} A", "B {{.Message}} B"];
    let next = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&next);
    let store = Arc::new(
        Store::new(move || {
            let text = versions[n.fetch_add(1, Ordering::SeqCst) % 2];
            let set = TemplateSet::from_files([TemplateFile {
                name: "error.json".into(),
                text: text.into(),
            }])
            .map_err(ReloadError::new)?;
            Ok(Renderer::new(Arc::new(set), Default::default()))
        })
        .expect("initial load"),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new([0usize; 2]));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (store, stop, seen) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&seen));
            std::thread::spawn(move || {
                let mut counts = [0usize; 2];
                while !stop.load(Ordering::Relaxed) {
                    let snapshot = store.snapshot();
                    let r = snapshot
                        .renderer
                        .render(&ErrorRequest::code(500).message("msg"))
                        .expect("render must not fail");
                    match r.body.as_str() {
                        "A msg A" => counts[0] += 1,
                        "B msg B" => counts[1] += 1,
                        other => panic!("torn or wrong body: {other:?}"),
                    }
                }
                let mut all = seen.lock().expect("lock");
                all[0] += counts[0];
                all[1] += counts[1];
            })
        })
        .collect();

    for i in 0..50 {
        let generation = store.reload().expect("reload");
        assert_eq!(generation, i + 2);
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("reader thread panicked");
    }
    let seen = *seen.lock().expect("lock");
    assert!(seen[0] + seen[1] > 0, "readers rendered nothing");
    assert_eq!(store.snapshot().generation, 51);
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

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A minimal HTTP/1.1 GET; returns status and body.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(WAIT))?;
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
