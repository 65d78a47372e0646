//! `error-render validate --format sarif` checked by an independent SARIF
//! 2.1.0 model: the real binary validates a broken and a clean template
//! folder, and `scripts/check-sarif.py` reads each report with the PyPI
//! package sarif-pydantic (installed by `scripts/ci-deps.sh`). Without
//! python3 or the package the test fails, naming what to install.

use std::path::Path;
use std::process::Command;

/// Runs `validate --format sarif` on `dir` (relative to `cwd`), returning
/// the exit code and where the report was written.
fn sarif(cwd: &Path, dir: &str) -> (i32, std::path::PathBuf) {
    let out = Command::new(env!("CARGO_BIN_EXE_error-render"))
        .args(["validate", dir, "--format", "sarif"])
        .current_dir(cwd)
        .output()
        .expect("run error-render validate");
    let file = cwd.join(format!("{dir}.sarif"));
    std::fs::write(&file, &out.stdout).expect("write the report");
    (out.status.code().unwrap_or(-1), file)
}

/// Checks `file` with sarif-pydantic, with at least `min_results` results.
fn check(file: &Path, min_results: usize) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-sarif.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(file)
        .arg(min_results.to_string())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): install Python 3 and run scripts/ci-deps.sh")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(3),
        "sarif-pydantic is missing, so the SARIF report cannot be checked: {stderr}"
    );
    assert!(
        out.status.success(),
        "{} is not valid SARIF 2.1.0:\n{stderr}\n{}",
        file.display(),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn sarif_report_of_a_broken_folder_is_valid_sarif_with_located_results() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).expect("mkdir");
    std::fs::write(
        bad.join("error.json"),
        "{\n  \"error\": \"{{.Message}\"\n}\n",
    )
    .expect("write");
    std::fs::write(bad.join("error.xml"), "<a>{{.StatusCode}}</a>").expect("write");
    std::fs::write(bad.join("my error.json~"), "x").expect("write");
    let (code, file) = sarif(tmp.path(), "bad");
    assert_eq!(code, 1, "a parse error fails validation");
    let ok = check(&file, 3);
    assert!(ok.contains("(3 results)"), "{ok}");

    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    let parse = results
        .iter()
        .find(|r| r["ruleId"] == "parse-error")
        .expect("a parse-error result");
    let location = &parse["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "bad/error.json");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], 2);
    assert!(location["region"]["startColumn"].as_u64().is_some());
    assert!(
        results.iter().any(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "bad/my%20error.json~"
        ),
        "a space in a file name is percent-encoded"
    );
}

#[test]
fn sarif_report_of_a_clean_folder_is_valid_sarif_without_results() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let clean = tmp.path().join("clean");
    std::fs::create_dir(&clean).expect("mkdir");
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for name in ["error.json", "error.xml"] {
        std::fs::copy(templates.join(name), clean.join(name)).expect("copy a template");
    }
    let (code, file) = sarif(tmp.path(), "clean");
    assert_eq!(code, 0);
    let ok = check(&file, 0);
    assert!(ok.contains("(0 results)"), "{ok}");
}
