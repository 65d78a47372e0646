//! Keeps the library light: built without default features, its normal
//! dependency tree has none of the service's, watcher's or command's crates.

use std::process::Command;

/// The crates an embedder who only renders must not compile.
const HEAVY: [&str; 7] = [
    "axum",
    "hyper",
    "tokio",
    "notify",
    "clap",
    "prometheus-client",
    "tracing-subscriber",
];

/// The crate names in `cargo tree -e normal` with these feature flags.
fn tree(flags: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    // --locked: the lock file names every version, so cargo reads no index
    // (it downloads only a crate missing from its cache, as a build would).
    let out = Command::new(cargo)
        .args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
        .args(["--manifest-path", manifest])
        .args(flags)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {flags:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn heavy_in(names: &[String]) -> Vec<&'static str> {
    HEAVY
        .iter()
        .copied()
        .filter(|h| names.iter().any(|n| n == h))
        .collect()
}

#[test]
fn core_without_default_features_has_no_server_watch_or_cli_crates() {
    let names = tree(&["--no-default-features"]);
    assert!(names.iter().any(|n| n == "gotmpl"), "{names:?}");
    assert_eq!(heavy_in(&names), Vec::<&str>::new());
}

/// The check above can fail: with the default features every one of them
/// is there.
#[test]
fn default_features_bring_the_service_crates() {
    let names = tree(&[]);
    assert_eq!(heavy_in(&names), HEAVY.to_vec());
}

/// `watch` alone brings the watcher and its runtime, not the HTTP stack.
#[test]
fn watch_feature_brings_no_http_or_cli_crates() {
    let names = tree(&["--no-default-features", "--features", "watch"]);
    assert_eq!(heavy_in(&names), vec!["tokio", "notify"]);
}
