//! Checks the Kubernetes manifests as `kubectl apply -k deploy/kubernetes`
//! would see them: every resource the kustomization lists passes the Pod
//! Security "restricted" profile, runs as the image's user, and is covered by
//! a NetworkPolicy, a PodDisruptionBudget and an HPA that select the
//! Deployment's pods. (No kubectl here: the rules are checked field by field.)

use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_yaml_ng::{Mapping, Value};

fn kustomize_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// Every document of every resource file the kustomization lists.
fn resources() -> Vec<Value> {
    let dir = kustomize_dir();
    let kustomization = read_yaml(&dir.join("kustomization.yaml"));
    let listed = kustomization[0]["resources"]
        .as_sequence()
        .expect("kustomization.yaml has a `resources` list");
    let mut out = Vec::new();
    for entry in listed {
        let name = entry.as_str().expect("a resource entry is a file name");
        out.extend(read_yaml(&dir.join(name)));
    }
    out
}

fn read_yaml(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn of_kind<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter()
        .filter(|r| r["kind"].as_str() == Some(kind))
        .collect()
}

fn the_deployment(all: &[Value]) -> &Value {
    let deployments = of_kind(all, "Deployment");
    assert_eq!(
        deployments.len(),
        1,
        "the kustomization should hold one Deployment"
    );
    deployments[0]
}

/// The labels of the Deployment's pods.
fn pod_labels(deploy: &Value) -> &Mapping {
    deploy["spec"]["template"]["metadata"]["labels"]
        .as_mapping()
        .expect("the pod template has labels")
}

/// True when `selector` (a `matchLabels` mapping) selects pods labelled `labels`.
fn selects(selector: &Value, labels: &Mapping) -> bool {
    let Some(wanted) = selector.as_mapping() else {
        return false;
    };
    !wanted.is_empty() && wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The uid in the Dockerfile's `USER uid[:gid]` line.
fn dockerfile_uid() -> i64 {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile");
    let text = std::fs::read_to_string(&path).expect("the Dockerfile is readable");
    let users: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .collect();
    assert_eq!(users.len(), 1, "the Dockerfile should have one USER line");
    let uid = users[0].trim().split(':').next().unwrap_or_default();
    uid.parse()
        .unwrap_or_else(|_| panic!("USER should be a numeric uid, not {uid:?}"))
}

/// A container's setting, else the pod's (what Kubernetes applies).
fn effective<'a>(container: &'a Value, pod: &'a Value, key: &str) -> &'a Value {
    let own = &container["securityContext"][key];
    if own.is_null() {
        &pod["securityContext"][key]
    } else {
        own
    }
}

#[test]
fn every_kubernetes_file_is_listed_in_the_kustomization() {
    let kustomization = &read_yaml(&kustomize_dir().join("kustomization.yaml"))[0];
    let listed: Vec<&str> = kustomization["resources"]
        .as_sequence()
        .expect("a resources list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for entry in std::fs::read_dir(kustomize_dir()).expect("deploy/kubernetes is readable") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            assert!(
                listed.contains(&name.as_ref()),
                "{name} is not in kustomization.yaml's resources, so `kubectl apply -k` skips it"
            );
        }
    }
}

#[test]
fn pods_pass_the_restricted_pod_security_profile() {
    let all = resources();
    let deploy = the_deployment(&all);
    let pod = &deploy["spec"]["template"]["spec"];
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        assert_ne!(pod[host].as_bool(), Some(true), "{host} is not allowed");
    }
    for volume in pod["volumes"].as_sequence().into_iter().flatten() {
        let kinds: Vec<&str> = volume
            .as_mapping()
            .expect("a volume is a mapping")
            .keys()
            .filter_map(Value::as_str)
            .filter(|k| *k != "name")
            .collect();
        for kind in kinds {
            assert!(
                [
                    "configMap",
                    "emptyDir",
                    "projected",
                    "secret",
                    "downwardAPI",
                    "persistentVolumeClaim",
                    "ephemeral",
                    "csi"
                ]
                .contains(&kind),
                "volume type {kind} is not allowed by the restricted profile"
            );
        }
    }
    let uid = dockerfile_uid();
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod[*k].as_sequence().into_iter().flatten());
    let mut checked = 0;
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        assert_eq!(
            effective(c, pod, "runAsNonRoot").as_bool(),
            Some(true),
            "{name}: runAsNonRoot"
        );
        assert_eq!(
            effective(c, pod, "runAsUser").as_i64(),
            Some(uid),
            "{name}: runAsUser should be the Dockerfile's USER {uid}"
        );
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{name}: allowPrivilegeEscalation must be false"
        );
        assert_ne!(
            c["securityContext"]["privileged"].as_bool(),
            Some(true),
            "{name}: privileged"
        );
        let drop: Vec<&str> = c["securityContext"]["capabilities"]["drop"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            drop.contains(&"ALL"),
            "{name}: capabilities.drop must hold ALL"
        );
        for added in c["securityContext"]["capabilities"]["add"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            assert_eq!(
                added.as_str(),
                Some("NET_BIND_SERVICE"),
                "{name}: the only capability the profile allows adding"
            );
        }
        let seccomp = effective(c, pod, "seccompProfile")["type"].as_str();
        assert!(
            matches!(seccomp, Some("RuntimeDefault" | "Localhost")),
            "{name}: seccompProfile.type must be RuntimeDefault or Localhost, not {seccomp:?}"
        );
        assert_eq!(
            c["securityContext"]["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{name}: readOnlyRootFilesystem"
        );
        for port in c["ports"].as_sequence().into_iter().flatten() {
            assert!(port["hostPort"].is_null(), "{name}: hostPort");
        }
        checked += 1;
    }
    assert!(checked > 0, "the Deployment has no containers");
}

/// The container port named `name`, and the env value that sets its listener.
fn port(container: &Value, name: &str) -> i64 {
    container["ports"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|p| p["name"].as_str() == Some(name))
        .and_then(|p| p["containerPort"].as_i64())
        .unwrap_or_else(|| panic!("the container has no port named {name}"))
}

fn env<'a>(container: &'a Value, key: &str) -> Option<&'a str> {
    container["env"]
        .as_sequence()?
        .iter()
        .find(|e| e["name"].as_str() == Some(key))?["value"]
        .as_str()
}

#[test]
fn the_admin_port_is_separate_and_carries_the_probes() {
    let all = resources();
    let container = &the_deployment(&all)["spec"]["template"]["spec"]["containers"][0];
    let http = port(container, "http");
    let admin = port(container, "admin");
    assert_ne!(http, admin);
    assert_eq!(
        env(container, "ERROR_RENDER_LISTEN"),
        Some(format!("0.0.0.0:{http}").as_str())
    );
    assert_eq!(
        env(container, "ERROR_RENDER_ADMIN_LISTEN"),
        Some(format!("0.0.0.0:{admin}").as_str())
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(
            container[probe]["httpGet"]["port"].as_str(),
            Some("admin"),
            "{probe} should use the admin port"
        );
    }
}

#[test]
fn network_policy_admits_only_the_proxy_and_monitoring() {
    let all = resources();
    let deploy = the_deployment(&all);
    let labels = pod_labels(deploy);
    let policies = of_kind(&all, "NetworkPolicy");
    assert!(
        !policies.is_empty(),
        "no NetworkPolicy in the kustomization"
    );
    let policy = policies
        .iter()
        .find(|p| selects(&p["spec"]["podSelector"]["matchLabels"], labels))
        .expect("a NetworkPolicy selects the Deployment's pods");
    let types: Vec<&str> = policy["spec"]["policyTypes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        types.contains(&"Ingress"),
        "the policy must restrict ingress"
    );
    let rules = policy["spec"]["ingress"]
        .as_sequence()
        .expect("ingress rules");
    let mut ports_seen = Vec::new();
    for rule in rules {
        // A rule without `from` or `ports` would open the pods to everyone
        // or on every port.
        let from = rule["from"]
            .as_sequence()
            .expect("every rule names its peers");
        assert!(!from.is_empty(), "an empty `from` admits every source");
        let ports: Vec<&str> = rule["ports"]
            .as_sequence()
            .expect("every rule names its ports")
            .iter()
            .filter_map(|p| p["port"].as_str())
            .collect();
        let namespaces: Vec<&str> = from
            .iter()
            .filter_map(|peer| {
                peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str()
            })
            .collect();
        assert_eq!(namespaces.len(), from.len(), "every peer names a namespace");
        for port in &ports {
            match *port {
                "http" => assert!(
                    !namespaces.contains(&"monitoring"),
                    "the traffic port is for the proxy only"
                ),
                "admin" => assert_eq!(
                    namespaces,
                    ["monitoring"],
                    "the admin port is for monitoring only"
                ),
                other => panic!("the policy opens port {other}, which the container does not name"),
            }
            ports_seen.push(*port);
        }
    }
    ports_seen.sort_unstable();
    assert_eq!(ports_seen, ["admin", "http"]);
}

#[test]
fn disruption_budget_and_autoscaler_cover_the_deployment() {
    let all = resources();
    let deploy = the_deployment(&all);
    let labels = pod_labels(deploy);
    let pdbs = of_kind(&all, "PodDisruptionBudget");
    assert!(
        pdbs.iter()
            .any(|p| selects(&p["spec"]["selector"]["matchLabels"], labels)),
        "no PodDisruptionBudget selects the Deployment's pods"
    );

    let hpas = of_kind(&all, "HorizontalPodAutoscaler");
    let hpa = hpas
        .iter()
        .find(|h| {
            h["spec"]["scaleTargetRef"]["kind"].as_str() == Some("Deployment")
                && h["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"]
        })
        .expect("an HPA scales the Deployment");
    assert_eq!(hpa["apiVersion"].as_str(), Some("autoscaling/v2"));
    let on_cpu = hpa["spec"]["metrics"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|m| m["resource"]["name"].as_str() == Some("cpu"));
    assert!(on_cpu, "the HPA should scale on CPU");
    let min = hpa["spec"]["minReplicas"].as_i64().unwrap_or(1);
    assert!(min >= 2, "one replica would make the PDB block every drain");
    // Utilization is a share of the request: without one the HPA cannot act.
    for c in deploy["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        assert!(
            !c["resources"]["requests"]["cpu"].is_null(),
            "container {} needs a CPU request for the HPA",
            c["name"].as_str().unwrap_or("?")
        );
    }
}

#[test]
fn replicas_spread_over_nodes_and_zones() {
    let all = resources();
    let deploy = the_deployment(&all);
    let labels = pod_labels(deploy);
    let constraints = deploy["spec"]["template"]["spec"]["topologySpreadConstraints"]
        .as_sequence()
        .expect("topologySpreadConstraints");
    let keys: Vec<&str> = constraints
        .iter()
        .inspect(|c| {
            assert!(
                selects(&c["labelSelector"]["matchLabels"], labels),
                "a spread constraint must select the Deployment's own pods"
            )
        })
        .filter_map(|c| c["topologyKey"].as_str())
        .collect();
    assert!(keys.contains(&"kubernetes.io/hostname"));
    assert!(keys.contains(&"topology.kubernetes.io/zone"));
}

#[test]
fn the_image_is_one_you_build() {
    let all = resources();
    let image = the_deployment(&all)["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .expect("an image");
    // A registry host in the name would claim a published image; there is none.
    if let Some((host, _)) = image.split_once('/') {
        assert!(
            !host.contains('.') && !host.contains(':') && host != "localhost",
            "{image} names a registry, but no image is published: use the local build's name"
        );
    }
}
