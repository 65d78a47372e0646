//! Keeps the deployment recipes valid: every YAML file under `deploy/` and
//! `examples/` parses (all documents), and the Kubernetes ConfigMap holds
//! the bundled templates byte for byte.

use std::path::{Path, PathBuf};

use serde::Deserialize;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every document of a YAML file.
fn documents(path: &Path) -> Vec<serde_yaml_ng::Value> {
    let text = std::fs::read_to_string(path).expect("read YAML");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            serde_yaml_ng::Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
        })
        .collect()
}

#[test]
fn every_recipe_yaml_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(&root.join("deploy"), &mut files);
    yaml_files(&root.join("examples"), &mut files);
    for must in [
        "deploy/kubernetes/deployment.yaml",
        "deploy/kubernetes/configmap.yaml",
        "deploy/kubernetes/service.yaml",
        "examples/traefik/dynamic.yml",
        "examples/ingress-nginx/values.yaml",
    ] {
        assert!(files.contains(&root.join(must)), "{must} is missing");
    }
    for file in &files {
        let docs = documents(file);
        assert!(!docs.is_empty(), "{} is empty", file.display());
        for doc in docs {
            assert!(
                doc.is_mapping(),
                "{}: a document is not a mapping",
                file.display()
            );
        }
    }
}

#[test]
fn kubernetes_manifests_fit_together() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let cm = &documents(&root.join("configmap.yaml"))[0];
    assert_eq!(cm["kind"].as_str(), Some("ConfigMap"));
    assert_eq!(
        cm["data"]["error.json"].as_str(),
        Some(error_render::render::BUNDLED_ERROR_JSON)
    );
    assert_eq!(
        cm["data"]["error.xml"].as_str(),
        Some(error_render::render::BUNDLED_ERROR_XML)
    );

    let deploy = &documents(&root.join("deployment.yaml"))[0];
    let pod = &deploy["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    let mount = &container["volumeMounts"][0];
    assert_eq!(mount["mountPath"].as_str(), Some("/templates"));
    // A subPath mount would never see ConfigMap updates.
    assert!(mount.get("subPath").is_none());
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"].as_str(),
        cm["metadata"]["name"].as_str()
    );

    let svc = &documents(&root.join("service.yaml"))[0];
    assert_eq!(
        svc["spec"]["selector"],
        deploy["spec"]["selector"]["matchLabels"]
    );
}

#[test]
fn traefik_and_ingress_nginx_recipes_use_the_protocols() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let traefik = &documents(&root.join("traefik/dynamic.yml"))[0];
    let errors = &traefik["http"]["middlewares"]["tyk-errors"]["errors"];
    assert_eq!(errors["query"].as_str(), Some("/{status}"));
    assert_eq!(errors["service"].as_str(), Some("error-render"));
    // An API's own detailed 400/409/422 must pass through.
    let ranges: Vec<(u16, u16)> = errors["status"]
        .as_sequence()
        .expect("errors.status is a list")
        .iter()
        .map(|r| {
            let r = r.as_str().expect("a status range is a string");
            let (lo, hi) = r.split_once('-').unwrap_or((r, r));
            (lo.parse().expect("a status"), hi.parse().expect("a status"))
        })
        .collect();
    for code in [400, 409, 422] {
        assert!(
            !ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&code)),
            "Traefik recipe replaces the API's own {code}: {ranges:?}"
        );
    }
    assert!(ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&502)));

    let values = &documents(&root.join("ingress-nginx/values.yaml"))[0];
    let codes: Vec<u16> = values["controller"]["config"]["custom-http-errors"]
        .as_str()
        .expect("custom-http-errors is a string")
        .split(',')
        .map(|c| c.trim().parse().expect("a status"))
        .collect();
    for code in [400, 409, 422] {
        assert!(
            !codes.contains(&code),
            "ingress-nginx recipe replaces the API's own {code}"
        );
    }
    assert!(codes.contains(&502));
    // The image runs as uid 10001 (Dockerfile).
    assert_eq!(
        values["defaultBackend"]["image"]["runAsUser"].as_u64(),
        Some(10001)
    );
    assert_eq!(values["defaultBackend"]["enabled"].as_bool(), Some(true));
    // The operations routes leave the port every unmatched request reaches.
    let envs = values["defaultBackend"]["extraEnvs"]
        .as_sequence()
        .expect("extraEnvs is a list");
    assert!(
        envs.iter()
            .any(|e| e["name"].as_str() == Some("ERROR_RENDER_ADMIN_LISTEN")),
        "the ingress-nginx recipe moves /metrics and /status off the traffic port"
    );
}

/// docs/recipes.md names, for every recipe under examples/, the test that
/// runs it, and those tests exist; no proxy without a tested recipe (such
/// as Envoy) is claimed there or under examples/.
#[test]
fn recipes_doc_names_every_recipe_and_existing_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/recipes.md")).expect("docs/recipes.md");
    let mut recipes = Vec::new();
    for entry in std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        // examples/github is the CI integration's workflow (docs/ci.md);
        // examples/themes holds HTML designs, not a proxy (docs/formats.md).
        if entry.path().is_dir() && name != "github" && name != "themes" {
            recipes.push(name);
        }
    }
    assert!(recipes.len() >= 5, "{recipes:?}");
    for recipe in &recipes {
        assert!(
            doc.contains(&format!("](../examples/{recipe}/")),
            "docs/recipes.md does not link examples/{recipe}/"
        );
    }
    let tests: Vec<&str> = doc
        .split('`')
        .filter(|s| s.starts_with("tests/") && s.ends_with(".rs"))
        .collect();
    for test in [
        "tests/it/nginx.rs",
        "tests/it/caddy.rs",
        "tests/it/haproxy.rs",
    ] {
        assert!(
            tests.contains(&test),
            "docs/recipes.md does not name {test}"
        );
    }
    for test in tests {
        assert!(
            root.join(test).is_file(),
            "docs/recipes.md names {test}, which does not exist"
        );
    }
    let mut files = vec![root.join("docs/recipes.md")];
    all_files(&root.join("examples"), &mut files);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            !text.to_lowercase().contains("envoy"),
            "{} mentions Envoy, which has no tested recipe",
            path.display()
        );
    }
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}
