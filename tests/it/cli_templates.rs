//! How `render`, `export` and `validate` find the template folder when no
//! `--templates`/DIR is given (ERROR_RENDER_TEMPLATES, a config file, then
//! `./templates`), and that a missing folder is named with the ways to give
//! one, through the real binary.

use std::path::Path;
use std::process::Command;

use crate::common::{run, templates};

/// The binary run from `cwd`, with none of the settings that could name a
/// folder inherited from the environment running the tests.
fn bin_in(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_error-render"));
    cmd.current_dir(cwd)
        .env_remove("ERROR_RENDER_TEMPLATES")
        .env_remove("ERROR_RENDER_CONFIG");
    cmd
}

/// The message names the folder (as given and in full) and every way to
/// give one, instead of a bare "No such file or directory".
fn assert_names_missing_folder(cwd: &Path, stderr: &str, how: &str) {
    let whole = cwd.join("templates");
    for needle in [
        "the template folder templates",
        &whole.display().to_string(),
        "does not exist",
        how,
        "ERROR_RENDER_TEMPLATES",
        "--config FILE",
        "ERROR_RENDER_CONFIG",
    ] {
        assert!(stderr.contains(needle), "{needle:?} missing from: {stderr}");
    }
    assert!(!stderr.contains("os error"), "a bare OS error: {stderr}");
}

#[test]
fn render_without_templates_names_the_missing_folder() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let (code, stdout, stderr) = run(bin_in(cwd.path()).args(["render", "--code", "404"]));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert_names_missing_folder(cwd.path(), &stderr, "--templates DIR");
}

#[test]
fn render_json_without_templates_reports_the_missing_folder_as_a_load_outcome() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let (code, stdout, _) = run(bin_in(cwd.path()).args(["render", "--code", "404", "--json"]));
    assert_eq!(code, 2);
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(out["outcome"], "load");
    assert!(
        out["error"]
            .as_str()
            .is_some_and(|e| e.contains("ERROR_RENDER_TEMPLATES")),
        "{out}"
    );
}

#[test]
fn export_without_templates_names_the_missing_folder() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let (code, _, stderr) = run(bin_in(cwd.path()).args(["export", "--out", "out"]));
    assert_eq!(code, 2, "{stderr}");
    assert_names_missing_folder(cwd.path(), &stderr, "--templates DIR");
    assert!(!cwd.path().join("out").exists(), "nothing is written");
}

#[test]
fn validate_without_dir_names_the_missing_folder() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let (code, stdout, stderr) = run(bin_in(cwd.path()).arg("validate"));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert_names_missing_folder(cwd.path(), &stderr, "a DIR argument");
}

#[test]
fn a_missing_folder_from_the_environment_says_so() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let (code, _, stderr) = run(bin_in(cwd.path())
        .env("ERROR_RENDER_TEMPLATES", "gone")
        .args(["render", "--code", "500"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the template folder gone")
            && stderr.contains("from ERROR_RENDER_TEMPLATES"),
        "{stderr}"
    );
}

#[test]
fn each_command_takes_the_folder_from_the_environment() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let (code, stdout, stderr) = run(bin_in(cwd.path())
        .env("ERROR_RENDER_TEMPLATES", templates())
        .args(["render", "--code", "404"]));
    assert_eq!(
        (code, stdout.as_str()),
        (0, "{\n    \"error\": \"Not Found\"\n}"),
        "{stderr}"
    );

    let (code, _, stderr) = run(bin_in(cwd.path())
        .env("ERROR_RENDER_TEMPLATES", templates())
        .args(["export", "--out", "out"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(cwd.path().join("out/codes/404.json").is_file());

    let (code, _, stderr) = run(bin_in(cwd.path())
        .env("ERROR_RENDER_TEMPLATES", templates())
        .arg("validate"));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn each_command_takes_the_folder_from_a_config_file() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let config = cwd.path().join("config.yaml");
    let yaml = format!("templates: {:?}\n", templates().display().to_string());
    std::fs::write(&config, yaml).expect("config written");

    let (code, stdout, stderr) =
        run(bin_in(cwd.path()).args(["render", "--code", "404", "--config", "config.yaml"]));
    assert_eq!(
        (code, stdout.as_str()),
        (0, "{\n    \"error\": \"Not Found\"\n}"),
        "{stderr}"
    );

    let (code, _, stderr) = run(bin_in(cwd.path())
        .env("ERROR_RENDER_CONFIG", &config)
        .args(["export", "--out", "out"]));
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = run(bin_in(cwd.path()).args(["validate", "--config", "config.yaml"]));
    assert_eq!(code, 0, "{stderr}");
}
