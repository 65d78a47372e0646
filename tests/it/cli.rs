//! The `error-render` binary end to end: render, catalogue and export, with
//! their outputs and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{bin, run, templates};

fn write_set(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn render_writes_the_body_unchanged() {
    let (code, out, _) = run(bin()
        .args([
            "render",
            "--code",
            "403",
            "--message",
            "Key not authorised",
            "--templates",
        ])
        .arg(templates()));
    assert_eq!(code, 0);
    assert_eq!(out, "{\n    \"error\": \"Key not authorised\"\n}");
}

#[test]
fn render_json_envelope_for_an_xml_request() {
    let (code, out, _) = run(bin()
        .args(["render", "--code", "429", "--message", "a<b", "--json"])
        .args(["--content-type", "text/xml; charset=utf-8", "--templates"])
        .arg(templates()));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], 429);
    assert_eq!(v["headers"]["content-type"], "text/xml");
    assert_eq!(v["headers"]["x-generator"], "tyk.io");
    assert_eq!(v["template"], "error.xml");
    assert_eq!(v["outcome"], "ok");
    assert_eq!(v["error"], serde_json::Value::Null);
    assert_eq!(
        v["body"],
        "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>a&lt;b</error>\n"
    );
}

/// A template file that is not UTF-8 loads, as in Go, and its bytes go out
/// as they are; `--json` shows them as Go's JSON encoder would (one U+FFFD
/// each) and gives the exact bytes in `body_b64`.
#[test]
fn render_writes_the_bytes_of_a_template_that_is_not_utf8() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("error.json"), b"{{.Message}}\xff\xe2\x80").unwrap();
    let render = |json: bool| {
        let mut cmd = bin();
        cmd.args(["render", "--code", "403", "--message", "m", "--templates"])
            .arg(dir.path());
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    };
    assert_eq!(render(false), b"m\xff\xe2\x80");
    let v: serde_json::Value = serde_json::from_slice(&render(true)).unwrap();
    assert_eq!(v["body"], "m\u{FFFD}\u{FFFD}\u{FFFD}");
    let b64 = v["body_b64"].as_str().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        b"m\xff\xe2\x80"
    );
}

#[test]
fn render_profile_5_14_uses_js_escaping() {
    let (_, out, _) = run(bin()
        .args([
            "render",
            "--code",
            "400",
            "--message",
            "it's",
            "--profile",
            "5.14",
            "--templates",
        ])
        .arg(templates()));
    assert_eq!(out, "{\n    \"error\": \"it\\'s\"\n}");
}

#[test]
fn render_exec_failure_prints_fallback_and_exits_1() {
    let set = write_set(&[(
        "error.json",
        "{\"error\": \"{{.Message}}\", \"x\": {{.Nope}}}",
    )]);
    let (code, out, err) = run(bin()
        .args([
            "render",
            "--code",
            "500",
            "--message",
            "boom",
            "--json",
            "--templates",
        ])
        .arg(set.path()));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "exec");
    assert_eq!(v["body"], "{\n    \"error\": \"boom\"\n}");
    assert!(v["error"].as_str().unwrap().contains("error.json"), "{v}");
    assert!(err.contains("Nope"), "{err}");
}

#[test]
fn render_missing_template_exits_1_with_bundled_body() {
    let set = write_set(&[("error_404.json", "x")]);
    let (code, out, _) = run(bin()
        .args(["render", "--code", "500", "--message", "m", "--templates"])
        .arg(set.path()));
    assert_eq!(code, 1);
    assert_eq!(out, "{\n    \"error\": \"m\"\n}");
}

#[test]
fn render_load_failure_exits_2_naming_file_and_line() {
    let set = write_set(&[("error.json", "ok"), ("error_401.json", "a\n{{.Message")]);
    let (code, out, err) = run(bin()
        .args(["render", "--code", "401", "--json", "--templates"])
        .arg(set.path()));
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "load");
    assert!(err.contains("error_401.json:2"), "{err}");
}

#[test]
fn render_bad_arguments_exit_2_with_usage() {
    let (code, _, err) = run(bin().args(["render", "--code", "abc"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid value 'abc' for '--code <N>'"),
        "{err}"
    );
    let (code, _, err) = run(bin().args(["render", "--message", "m"]));
    assert_eq!(code, 2);
    assert!(err.contains("Usage: error-render render"), "{err}");
    let (code, _, _) = run(bin().args(["render", "--code", "400", "--profile", "6"]));
    assert_eq!(code, 2);
}

#[test]
fn render_without_message_uses_the_default_for_the_code() {
    let (code, out, _) = run(bin()
        .args(["render", "--code", "502", "--templates"])
        .arg(templates()));
    assert_eq!(code, 0);
    assert_eq!(out, "{\n    \"error\": \"Bad Gateway\"\n}");
}

#[test]
fn render_by_catalogue_id() {
    let (code, out, _) = run(bin()
        .args(["render", "--id", "403-quota-exceeded", "--templates"])
        .arg(templates()));
    assert_eq!(code, 0);
    assert_eq!(out, "{\n    \"error\": \"Quota exceeded\"\n}");
    let (code, _, err) = run(bin()
        .args(["render", "--id", "nope", "--templates"])
        .arg(templates()));
    assert_eq!(code, 2);
    assert!(err.contains("auth.key_not_found"), "{err}");
}

#[test]
fn catalogue_lists_every_entry() {
    let (code, out, _) = run(bin().args(["catalogue", "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 108);
    assert_eq!(v["override_ids"].as_array().unwrap().len(), 11);
    let (code, out, _) = run(bin().arg("catalogue"));
    assert_eq!(code, 0);
    assert!(out.contains("403-quota-exceeded"));
}

#[test]
fn export_writes_bodies_and_a_valid_nginx_snippet() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin()
        .arg("export")
        .arg("--templates")
        .arg(templates())
        .arg("--out")
        .arg(out.path()));
    assert_eq!(code, 0, "{err}");
    let body = std::fs::read_to_string(out.path().join("entries/403-quota-exceeded.xml")).unwrap();
    assert_eq!(
        body,
        "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>Quota exceeded</error>\n"
    );
    let per_code = std::fs::read_to_string(out.path().join("codes/429.json")).unwrap();
    assert!(per_code.contains("API Rate Limit Exceeded"), "{per_code}");
    let server =
        std::fs::read_to_string(out.path().join("nginx/error-render-server.conf")).unwrap();
    assert!(
        server.contains("error_page 429 /_error-render/429.$error_render_ext;"),
        "{server}"
    );
    let entries = std::fs::read_dir(out.path().join("entries"))
        .unwrap()
        .count();
    // Every format the default `formats` enables.
    assert_eq!(entries, (108 + 11) * 5);
    for ext in ["json", "xml", "html", "txt", "problem.json"] {
        assert!(
            out.path().join(format!("codes/404.{ext}")).is_file(),
            "{ext}"
        );
    }
}

/// `formats: [json, xml]` exports today's files and snippet: no page
/// formats, and no `map` on Accept.
#[test]
fn export_writes_only_the_enabled_formats() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin_clean()
        .env("ERROR_RENDER_FORMATS", "json,xml")
        .arg("export")
        .arg("--templates")
        .arg(templates())
        .arg("--out")
        .arg(out.path()));
    assert_eq!(code, 0, "{err}");
    let entries = std::fs::read_dir(out.path().join("entries"))
        .unwrap()
        .count();
    assert_eq!(entries, (108 + 11) * 2);
    let http = std::fs::read_to_string(out.path().join("nginx/error-render-http.conf")).unwrap();
    assert!(
        http.contains("map $content_type $error_render_ext {"),
        "{http}"
    );
    assert!(!http.contains("$http_accept"), "{http}");
}

#[test]
fn render_format_chooses_the_format() {
    let (code, out, err) = run(bin_clean()
        .args([
            "render",
            "--code",
            "404",
            "--json",
            "--format",
            "html",
            "--templates",
        ])
        .arg(templates()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["headers"]["content-type"], "text/html; charset=utf-8");
    let (code, out, err) = run(bin_clean()
        .args(["render", "--code", "404", "--format", "xml", "--templates"])
        .arg(templates()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("<error>Not Found</error>"), "{out}");
    let (code, _, err) = run(bin_clean().args(["render", "--code", "404", "--format", "yaml"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown format \"yaml\": use one of json, xml, html, text, problem"),
        "{err}"
    );
}

#[test]
fn render_reads_overrides_and_settings_from_tyk_conf() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tpl")).unwrap();
    std::fs::write(
        dir.path().join("tpl/error.json"),
        "{\"e\": \"{{.Message}}\"}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tyk.conf"),
        r#"{"listen_port": 8080, "template_path": "tpl", "hide_generator_header": true,
            "close_connections": true,
            "override_messages": {"auth.key_not_found": {"code": 401, "message": "Invalid key"}}}"#,
    )
    .unwrap();
    let (code, out, err) = run(bin()
        .args([
            "render",
            "--id",
            "auth.key_not_found",
            "--json",
            "--tyk-conf",
        ])
        .arg(dir.path().join("tyk.conf")));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], 401);
    assert_eq!(v["body"], "{\"e\": \"Invalid key\"}");
    assert_eq!(v["headers"]["x-generator"], serde_json::Value::Null);
    assert_eq!(v["headers"]["connection"], "close");
}

#[test]
fn render_overrides_file_warns_about_unknown_ids() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("overrides.yaml");
    std::fs::write(
        &file,
        "auth.key_not_found:\n  code: 401\nauth.nope:\n  message: x\n",
    )
    .unwrap();
    let (code, out, err) = run(bin()
        .args([
            "render",
            "--code",
            "403",
            "--message",
            "Access to this API has been disallowed",
            "--json",
        ])
        .arg("--templates")
        .arg(templates())
        .arg("--overrides")
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], 401);
    assert!(err.contains("auth.nope"), "{err}");
}

/// The binary with no `ERROR_RENDER_*` variable inherited from the
/// environment running the tests, so each test sets exactly its own.
fn bin_clean() -> Command {
    let mut cmd = bin();
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ERROR_RENDER_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A config file naming the bundled templates and a message for 404.
fn config_with_default_message(dir: &Path) -> PathBuf {
    let file = dir.join("config.yaml");
    let yaml = format!(
        "templates: {:?}\ndefault_messages:\n  404: Nothing here\n",
        templates().display().to_string()
    );
    std::fs::write(&file, yaml).unwrap();
    file
}

/// The bug: with `default_messages` in the config file, `render --config
/// FILE --code 404` printed `Not Found` while the service answered the
/// configured message.
#[test]
fn render_with_config_default_messages_prints_the_configured_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_default_message(dir.path());
    let (code, out, err) = run(bin_clean()
        .args(["render", "--code", "404", "--config"])
        .arg(&config));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "{\n    \"error\": \"Nothing here\"\n}");
    // Named by ERROR_RENDER_CONFIG instead, the same.
    let (code, out, err) = run(bin_clean()
        .env("ERROR_RENDER_CONFIG", &config)
        .args(["render", "--code", "404"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "{\n    \"error\": \"Nothing here\"\n}");
}

/// The same bug in `export`: the exported body for 404 carries the
/// config's message, as the service would send it.
#[test]
fn export_with_config_default_messages_writes_the_configured_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_default_message(dir.path());
    let out = dir.path().join("out");
    let (code, _, err) = run(bin_clean()
        .arg("export")
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let body = std::fs::read_to_string(out.join("codes/404.json")).unwrap();
    assert_eq!(body, "{\n    \"error\": \"Nothing here\"\n}");
    let other = std::fs::read_to_string(out.join("codes/502.json")).unwrap();
    assert!(other.contains("Bad Gateway"), "{other}");
}

/// `error-render serve` on a free loopback port with `env`, and the
/// address it reports in its start line (read from its log, no polling).
fn serve_with(env: &[(&str, &str)]) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead as _;
    let mut child = bin_clean()
        .args(["serve", "--listen", "127.0.0.1:0", "--templates"])
        .arg(templates())
        .env("ERROR_RENDER_LOG_FORMAT", "json")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(listen) = v["fields"]["listen"].as_str() {
            return (child, listen.parse().unwrap());
        }
    }
    let status = child.wait().unwrap();
    panic!("serve exited ({status}) before its start line");
}

/// GET `path` over a real socket: the status, the lower-cased header
/// names with values, and the body.
fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<(String, String)>, String) {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// An `ERROR_RENDER_*` variable changes `render --json` exactly as it
/// changes the running service's answer: same status, same body, and
/// `X-Generator` present or left out in both.
#[test]
fn render_json_and_the_service_agree_on_error_render_variables() {
    for env in [
        vec![],
        vec![("ERROR_RENDER_HIDE_GENERATOR_HEADER", "true")],
        vec![("ERROR_RENDER_DEFAULT_MESSAGES", r#"{"429": "Slow down"}"#)],
    ] {
        let (code, out, err) = run(bin_clean()
            .args(["render", "--code", "429", "--json", "--templates"])
            .arg(templates())
            .envs(env.iter().copied()));
        assert_eq!(code, 0, "{err}");
        let cli: serde_json::Value = serde_json::from_str(&out).unwrap();

        let (mut child, addr) = serve_with(&env);
        let (status, headers, body) = http_get(addr, "/render/429");
        child.kill().unwrap();
        child.wait().unwrap();

        assert_eq!(cli["status"], status, "{env:?}");
        assert_eq!(cli["body"], body, "{env:?}");
        let served = headers
            .iter()
            .find(|(k, _)| k == "x-generator")
            .map(|(_, v)| v.as_str());
        assert_eq!(cli["headers"]["x-generator"].as_str(), served, "{env:?}");
    }
}

/// `--strict-tyk` and `ERROR_RENDER_STRICT_TYK` give templates only
/// `{{.Message}}`, as the gateway does (issue #17): a template reading
/// `.StatusCode` then fails to execute.
#[test]
fn render_strict_tyk_from_the_flag_or_the_environment() {
    let set = write_set(&[("error.json", "{{.StatusCode}}")]);
    let (code, out, err) = run(bin_clean()
        .args(["render", "--code", "404", "--templates"])
        .arg(set.path()));
    assert_eq!((code, out.as_str()), (0, "404"), "{err}");
    let (code, _, err) = run(bin_clean()
        .args(["render", "--code", "404", "--strict-tyk", "--templates"])
        .arg(set.path()));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("StatusCode"), "{err}");
    let (code, _, err) = run(bin_clean()
        .env("ERROR_RENDER_STRICT_TYK", "true")
        .args(["render", "--code", "404", "--templates"])
        .arg(set.path()));
    assert_eq!(code, 1, "{err}");
}

/// `validate` takes the service's settings too: an overrides file named by
/// `ERROR_RENDER_OVERRIDES` is checked (before, only `--overrides` was).
#[test]
fn validate_checks_the_overrides_file_named_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("overrides.yaml");
    std::fs::write(&file, "auth.nope:\n  message: x\n").unwrap();
    let (_, out, err) = run(bin_clean()
        .env("ERROR_RENDER_OVERRIDES", &file)
        .args(["validate", "--format", "json"])
        .arg(templates()));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"override-unknown-id"), "{out}");
}
