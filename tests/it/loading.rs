//! Loading a template folder safely: only regular files, links only within
//! the folder, sizes bounded before parsing, and the memory a large (but
//! allowed) template costs the running service.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use error_render::config::{Config, ConfigLayer, Sources};
use error_render::{LoadError, RenderLimits, TemplateSet};

use crate::common::free_port;

/// How long a load may take before the test calls it stuck.
const STUCK: Duration = Duration::from_secs(5);

fn write(path: impl AsRef<Path>, text: &str) {
    std::fs::write(path, text).expect("write file");
}

/// Loads `dir` on another thread, so a load that blocks fails the test
/// instead of hanging it.
fn load(dir: &Path, limits: RenderLimits) -> Result<TemplateSet, LoadError> {
    let (tx, rx) = mpsc::channel();
    let dir = dir.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(TemplateSet::load_limited(&dir, limits));
    });
    rx.recv_timeout(STUCK)
        .unwrap_or_else(|_| panic!("loading {} blocked for {STUCK:?}", "the folder"))
}

fn load_error(dir: &Path, limits: RenderLimits) -> String {
    match load(dir, limits) {
        Ok(set) => panic!("the folder loaded: {set:?}"),
        Err(e) => e.to_string(),
    }
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn fifo_and_socket_templates_are_load_errors_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), "{{.Message}}");
    // Nobody ever writes to it: reading it would block for good.
    mkfifo(&dir.join("error_500.json"));
    let err = load_error(dir, RenderLimits::service());
    assert!(err.contains("error_500.json"), "{err}");
    assert!(err.contains("a FIFO"), "{err}");
    assert!(err.contains("only regular files"), "{err}");
    std::fs::remove_file(dir.join("error_500.json")).expect("remove fifo");

    let _socket = std::os::unix::net::UnixListener::bind(dir.join("error_501.json")).expect("bind");
    let err = load_error(dir, RenderLimits::service());
    assert!(
        err.contains("error_501.json") && err.contains("a socket"),
        "{err}"
    );
}

/// The overrides file is reloaded with the templates: a FIFO there must not
/// block a reload either.
#[cfg(unix)]
#[test]
fn a_fifo_as_the_overrides_file_is_an_error_not_a_hang() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("overrides.yaml");
    mkfifo(&path);
    let (tx, rx) = mpsc::channel();
    let p = path.clone();
    std::thread::spawn(move || {
        let _ = tx.send(error_render::Overrides::load(&p).map(|_| ()));
    });
    let err = rx
        .recv_timeout(STUCK)
        .expect("reading the overrides blocked")
        .expect_err("a FIFO is refused")
        .to_string();
    assert!(
        err.contains("overrides.yaml") && err.contains("a FIFO"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn symlink_to_proc_self_environ_is_refused() {
    use std::os::unix::fs::symlink;

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    write(dir.join("error.json"), "{{.Message}}");
    symlink("/proc/self/environ", dir.join("error_501.json")).expect("symlink");
    let err = load_error(&dir, RenderLimits::service());
    assert!(err.contains("error_501.json"), "{err}");
    assert!(err.contains("/proc/self/environ"), "{err}");
    assert!(err.contains("outside the template folder"), "{err}");

    // So is a link climbing out of the folder by a relative path.
    std::fs::remove_file(dir.join("error_501.json")).expect("remove");
    write(tmp.path().join("secret.json"), "{{.Message}} secret");
    symlink("../secret.json", dir.join("error_502.json")).expect("symlink");
    let err = load_error(&dir, RenderLimits::service());
    assert!(
        err.contains("error_502.json") && err.contains("outside"),
        "{err}"
    );
}

/// `error-render validate` reads the folder as the service does: a FIFO or
/// a link out of the folder is a finding, found without blocking.
#[cfg(unix)]
#[test]
fn validate_reports_fifos_and_outside_links_without_blocking() {
    use error_render::validate::{ValidateOptions, validate};

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_owned();
    write(dir.join("error.json"), "{{.Message}}");
    mkfifo(&dir.join("error_500.json"));
    std::os::unix::fs::symlink("/proc/self/environ", dir.join("error_501.json")).expect("symlink");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(validate(&ValidateOptions::new(dir)).map(|r| r.findings));
    });
    let findings = rx
        .recv_timeout(STUCK)
        .expect("validate blocked")
        .expect("validate runs");
    let about = |file: &str| {
        findings
            .iter()
            .find(|f| f.file.as_deref() == Some(file))
            .map(|f| f.message.clone())
            .unwrap_or_else(|| panic!("no finding for {file}: {findings:?}"))
    };
    assert!(about("error_500.json").contains("a FIFO"));
    assert!(about("error_501.json").contains("outside the template folder"));
}

#[cfg(unix)]
#[test]
fn links_within_the_folder_and_the_configmap_layout_load() {
    use std::os::unix::fs::symlink;

    let tmp = tempfile::tempdir().expect("tempdir");
    // The folder reached through a link, as a mount's path often is.
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).expect("mkdir");
    let dir = tmp.path().join("templates");
    symlink(&real, &dir).expect("symlink");
    std::fs::create_dir(real.join("..2026_01_01_00_00_00.1")).expect("mkdir");
    write(
        real.join("..2026_01_01_00_00_00.1/error.json"),
        "cm {{.Message}}",
    );
    symlink("..2026_01_01_00_00_00.1", real.join("..data")).expect("symlink");
    symlink("..data/error.json", real.join("error.json")).expect("symlink");
    write(real.join("plain.json"), "plain {{.Message}}");
    symlink("plain.json", real.join("error_404.json")).expect("symlink");
    let set = load(&dir, RenderLimits::service()).expect("loads");
    let files: Vec<_> = set.files().iter().map(|f| &*f.text).collect();
    assert_eq!(files, ["cm {{.Message}}", "plain {{.Message}}"]);
}

#[test]
fn templates_over_the_size_limits_are_refused_before_parsing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let limits = RenderLimits {
        max_template_bytes: Some(100),
        max_set_bytes: Some(250),
        ..RenderLimits::service()
    };
    // Unparsable too: the size is what is reported, so it was never parsed.
    write(dir.join("error.json"), &"{{".repeat(51));
    let err = load_error(dir, limits);
    assert!(err.contains("error.json"), "{err}");
    assert!(
        err.contains("at most 100 allowed (limits.max_template_bytes)"),
        "{err}"
    );

    // Each file fits; together they do not.
    for name in ["error.json", "error.xml", "error_404.json"] {
        write(dir.join(name), &"x".repeat(90));
    }
    let err = load_error(dir, limits);
    assert!(err.contains("error_404.json"), "{err}");
    assert!(
        err.contains("more than 250 bytes together (limits.max_set_bytes)"),
        "{err}"
    );

    // The defaults: 1 MiB per file.
    let service = RenderLimits::service();
    assert_eq!(service.max_template_bytes, Some(1024 * 1024));
    assert_eq!(service.max_set_bytes, Some(16 * 1024 * 1024));
    std::fs::remove_file(dir.join("error.xml")).expect("remove");
    std::fs::remove_file(dir.join("error_404.json")).expect("remove");
    write(dir.join("error.json"), &"x".repeat(1024 * 1024 + 1));
    let err = load_error(dir, service);
    assert!(
        err.contains("at most 1048576 allowed (limits.max_template_bytes)"),
        "{err}"
    );
}

#[test]
fn size_and_reload_limits_are_settings() {
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let c = Config::load(&Sources {
        env: env(&[
            ("ERROR_RENDER_MAX_TEMPLATE_BYTES", "2048"),
            ("ERROR_RENDER_MAX_SET_BYTES", "4096"),
            ("ERROR_RENDER_RELOAD_TIMEOUT_MS", "1500"),
        ]),
        ..Sources::default()
    })
    .expect("loads")
    .config;
    assert_eq!(c.limits.render.max_template_bytes, Some(2048));
    assert_eq!(c.limits.render.max_set_bytes, Some(4096));
    assert_eq!(c.limits.reload_timeout, Duration::from_millis(1500));

    let d = Config::default();
    assert_eq!(d.limits.render.max_template_bytes, Some(1024 * 1024));
    assert_eq!(d.limits.render.max_set_bytes, Some(16 * 1024 * 1024));
    assert_eq!(d.limits.reload_timeout, Duration::from_secs(10));

    let layer: ConfigLayer =
        serde_yaml_ng::from_str("limits:\n  reload_timeout_ms: 0\n").expect("yaml");
    let err = Config::from_layer(layer)
        .expect_err("0 refused")
        .to_string();
    assert!(err.contains("limits.reload_timeout_ms"), "{err}");
}

// ---- memory of the real binary ----------------------------------------------

/// Kills the child when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
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
    Ok((status, body.to_owned()))
}

/// The peak resident memory of a process, in kB (VmHWM).
fn peak_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[cfg(target_os = "linux")]
#[test]
fn a_large_template_load_render_and_status_stay_under_200_mb() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    std::fs::create_dir(&dir).expect("mkdir");
    // 46,603 actions: just under the 1 MiB default limit.
    let text = "{{.Message}} and then ".repeat(46_603);
    assert!(text.len() <= 1024 * 1024, "{}", text.len());
    write(dir.join("error.json"), &text);
    let port = free_port();
    let log = tmp.path().join("server.log");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_error-render"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--templates")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log")))
            .spawn()
            .expect("start error-render serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(get(port, "/readyz"), Ok((200, _))) {
        assert!(
            Instant::now() < deadline,
            "not ready; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The default message repeated 46,603 times passes the output limit.
    let (status, _) = get(port, "/render/500").expect("render");
    assert_eq!(status, 500);
    // /status shows the findings once the background validator is done.
    loop {
        let (status, body) = get(port, "/status").expect("status");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        if v["findings"].is_array() {
            break;
        }
        assert_eq!(v["findings"], "pending", "{body}");
        assert!(Instant::now() < deadline, "findings still pending");
        std::thread::sleep(Duration::from_millis(100));
    }
    let peak_mb = peak_kb(server.0.id()) / 1024;
    assert!(peak_mb < 200, "peak RSS {peak_mb} MB");
}
