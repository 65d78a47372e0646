//! Runs the README's "Try it" examples as written: starts the real binary
//! the way the README's first command does, sends each `curl` shown (flags,
//! headers and URL read from the README) and compares the response with the
//! output printed there; then runs the `validate` session in a scratch folder
//! and compares its output too. An example that stops being true fails here.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(path).expect("README.md is readable")
}

/// One `$ command` of a ```console block and the output shown under it.
#[derive(Debug)]
struct Step {
    command: String,
    output: String,
}

/// Every ```console block's steps, block by block.
fn console_blocks(text: &str) -> Vec<Vec<Step>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Step>> = None;
    for line in text.lines() {
        match (&mut current, line) {
            (None, "```console") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(steps), line) => match line.strip_prefix("$ ") {
                Some(command) => steps.push(Step {
                    command: command.to_owned(),
                    output: String::new(),
                }),
                None => {
                    let step = steps.last_mut().expect("output follows a command");
                    step.output.push_str(line);
                    step.output.push('\n');
                }
            },
            (None, _) => {}
        }
    }
    blocks
}

/// Shell words: whitespace-separated, `'...'` quoted, `#` to the end a comment.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            '#' if !quoted && !started => break,
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The README's service: `serve --templates templates/` from the crate root,
/// on a free loopback port instead of 8080 (which may be taken).
struct Service {
    child: Child,
    port: u16,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_service() -> Service {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_error-render"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["serve", "--templates", "templates/", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("ERROR_RENDER_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let service = Service { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((status, _)) = get(port, "/readyz", &[])
            && status.contains(" 200 ")
        {
            return service;
        }
        assert!(Instant::now() < deadline, "the service did not get ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET over a fresh connection, sent as curl sends it (keep-alive, so no
/// `connection` header comes back): the status line and the rest (headers,
/// blank line, body of `content-length` bytes) as curl -i prints them.
fn get(port: u16, target: &str, headers: &[String]) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: localhost:8080\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if body.len() >= length {
                break;
            }
        }
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let (status, rest) = response.split_once("\r\n").unwrap_or((&response, ""));
    Ok((status.to_owned(), rest.to_owned()))
}

/// What `curl [-i] [-H h]... URL` prints for this response, `date` left out
/// as the README says.
fn as_curl_prints(status: &str, rest: &str, include: bool) -> String {
    let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    if !include {
        return body.to_owned();
    }
    let mut out = format!("{status}\n");
    for line in head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
    {
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(body);
    out
}

#[test]
fn readme_curl_examples_answer_as_shown() {
    let text = readme();
    let curls: Vec<Step> = console_blocks(&text)
        .into_iter()
        .flatten()
        .filter(|s| s.command.starts_with("curl "))
        .collect();
    assert!(curls.len() >= 3, "the README shows curl examples");
    let service = start_service();
    for step in &curls {
        let args = words(&step.command);
        let mut include = false;
        let mut headers = Vec::new();
        let mut url = None;
        let mut it = args.iter().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "-i" => include = true,
                "-H" => headers.push(it.next().expect("-H takes a header").clone()),
                a if a.starts_with('-') => panic!("a curl flag this test cannot read: {a}"),
                a => url = Some(a.to_owned()),
            }
        }
        let url = url.expect("a URL");
        let target = url
            .strip_prefix("localhost:8080")
            .unwrap_or_else(|| panic!("examples ask localhost:8080, not {url}"));
        let (status, rest) = get(service.port, target, &headers).expect("the service answers");
        assert_eq!(
            as_curl_prints(&status, &rest, include).trim_end(),
            step.output.trim_end(),
            "README: `{}` prints something else",
            step.command
        );
    }
}

#[test]
fn readme_validate_session_prints_as_shown() {
    let text = readme();
    let session = console_blocks(&text)
        .into_iter()
        .find(|steps| steps.iter().any(|s| s.command.contains("validate")))
        .expect("the README shows a validate session");
    let scratch = tempfile::tempdir().expect("a scratch folder");
    // The session runs in a checkout: give it the bundled templates.
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::create_dir(scratch.path().join("templates")).expect("templates/ made");
    for entry in std::fs::read_dir(&templates).expect("templates/ is readable") {
        let entry = entry.expect("an entry");
        std::fs::copy(
            entry.path(),
            scratch.path().join("templates").join(entry.file_name()),
        )
        .expect("a template copied");
    }
    let bin = env!("CARGO_BIN_EXE_error-render");
    for step in &session {
        // `cargo run -q --release --` is the binary this test was built with.
        let command = step.command.replace("cargo run -q --release --", bin);
        let out = Command::new("bash")
            .arg("-c")
            .arg(&command)
            .current_dir(scratch.path())
            .env_remove("NO_COLOR")
            .output()
            .expect("bash runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            step.output.trim_end(),
            "README: `{}` prints something else (stderr: {})",
            step.command,
            String::from_utf8_lossy(&out.stderr)
        );
        if command.contains("validate") {
            assert_eq!(
                out.status.code(),
                Some(1),
                "an error exits 1, as the README says"
            );
        }
    }
}

#[test]
fn shell_words_and_console_blocks_parse() {
    assert_eq!(
        words("curl -H 'X-Code: 503' localhost:8080/    # a comment"),
        ["curl", "-H", "X-Code: 503", "localhost:8080/"]
    );
    let blocks = console_blocks("```console\n$ a\none\ntwo\n$ b\n```\n");
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0][0].output, "one\ntwo\n");
    assert_eq!(blocks[0][1].command, "b");
}
