//! The preview's Error Overrides API over real sockets: the rules in order
//! with every catalogue entry through them (and why none matched), the rule
//! tester, and the preview's token and Host guard in front of both.

use crate::common;

use common::TestServer;
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use serde_json::{Value, json};

const TYK_CONF: &str = r#"{
    "app_path": "apis",
    "error_overrides": {
        "403": [{"match": {"flag": "RLT"}, "response": {"status_code": 429}},
                {"match": {"flag": "AKI"}, "response": {"status_code": 418, "body": "gw", "headers": {"X-Rule": "1"}}}],
        "5xx": [{"match": {"message_pattern": "^never$"}, "response": {"status_code": 599}}]
    }
}"#;

const API: &str =
    r#"{"api_id": "a1", "error_overrides": {"4xx": [{"response": {"status_code": 451}}]}}"#;

async fn start(extra: &str) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("apis")).unwrap();
    std::fs::write(dir.path().join("apis/a1.json"), API).unwrap();
    std::fs::write(dir.path().join("tyk.conf"), TYK_CONF).unwrap();
    let server = TestServer::start(
        &format!(
            "tyk_conf: {}\n{extra}",
            dir.path().join("tyk.conf").display()
        ),
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
        ],
        false,
    )
    .await;
    (server, dir)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn ok_json(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn rules_view_lists_rules_in_order_and_every_entry_through_them() {
    let (server, _dir) = start("").await;
    let view = ok_json(
        client()
            .get(server.url("/preview/api/rules"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(view["active"], true);
    let gateway = view["gateway"].as_array().unwrap();
    let order: Vec<(String, i64)> = gateway
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["index"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [("403".into(), 0), ("403".into(), 1), ("5xx".into(), 0)]
    );
    assert_eq!(gateway[2]["slot"], "class");
    assert_eq!(gateway[1]["response"]["body"], "gw");
    assert_eq!(view["apis"][0]["id"], "a1");

    let entries = view["entries"].as_array().unwrap();
    assert!(entries.len() > 100, "every catalogue entry");
    // An entry the gateway flags AKI: the second 403 rule answers.
    let aki = entries
        .iter()
        .find(|e| e["code"] == 403 && e["flag"] == "AKI")
        .expect("a 403 entry with flag AKI");
    assert_eq!(aki["response"]["status"], 418);
    assert_eq!(aki["response"]["matched"]["index"], 1);
    assert_eq!(aki["why_no_match"], Value::Null);
    // A 5xx entry: a rule exists for its class, but its pattern fails.
    let five = entries
        .iter()
        .find(|e| e["code"] == 500)
        .expect("a 500 entry");
    assert_eq!(five["response"]["route"], "legacy");
    let why = five["why_no_match"].as_str().unwrap();
    assert!(why.contains("message_pattern"), "{why}");
    // A 404 entry: no rule for it.
    let nf = entries.iter().find(|e| e["code"] == 404).unwrap();
    assert!(
        nf["why_no_match"]
            .as_str()
            .unwrap()
            .contains("no rule for 404"),
        "{nf}"
    );

    // For an API, its rules come first.
    let view = ok_json(
        client()
            .get(server.url("/preview/api/rules?api=a1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let nf = view["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == 404)
        .unwrap();
    assert_eq!(nf["response"]["status"], 451);
    assert_eq!(nf["response"]["matched"]["scope"], "api");
}

#[tokio::test]
async fn rule_tester_applies_pasted_rules_and_explains_misses() {
    let (server, _dir) = start("").await;
    let test = |body: Value| {
        let url = server.url("/preview/api/rules");
        async move { client().post(url).json(&body).send().await.unwrap() }
    };
    let out = ok_json(
        test(json!({
            "rules": {"403": [{"match": {"flag": "AKI"}, "response": {"status_code": 401, "message": "m"}}]},
            "error": {"code": 403, "message": "Forbidden", "flag": "AKI"}
        }))
        .await,
    )
    .await;
    assert_eq!(out["response"]["status"], 401);
    assert_eq!(out["response"]["route"], "message_only_legacy");
    let generators = out["response"]["header_lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l[0] == "X-Generator")
        .count();
    assert_eq!(generators, 2, "{out}");

    let out = ok_json(
        test(json!({
            "rules": {"403": [{"match": {"flag": "AKI"}, "response": {"status_code": 401}}], "4XX": []},
            "error": {"code": 403, "message": "Forbidden"}
        }))
        .await,
    )
    .await;
    assert_eq!(out["response"]["route"], "legacy");
    assert!(
        out["why_no_match"]
            .as_str()
            .unwrap()
            .contains("flag \"AKI\""),
        "{out}"
    );
    assert!(out["warnings"].to_string().contains("4XX"), "{out}");

    let out = ok_json(
        test(json!({
            "api_rules": {"5xx": [{"response": {"template": "missing"}}]},
            "upstream": {"status": 502, "body": "x"}
        }))
        .await,
    )
    .await;
    assert_eq!(out["response"]["outcome"], "no_response");

    let r = test(json!({"rules": {}})).await;
    assert_eq!(r.status().as_u16(), 400);
    let many: Vec<Value> = (0..300)
        .map(|_| json!({"response": {"status_code": 401}}))
        .collect();
    let r = test(json!({"rules": {"403": many}, "error": {"code": 403}})).await;
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn rules_routes_sit_behind_the_preview_guard() {
    let (server, _dir) = start("preview:\n  token: s3cret-token\n").await;
    let r = client()
        .get(server.url("/preview/api/rules"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = client()
        .post(server.url("/preview/api/rules"))
        .json(&json!({"rules": {}, "error": {"code": 403}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = client()
        .get(server.url("/preview/api/rules"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Without a token, a foreign Host is refused (DNS rebinding).
    let (server, _dir) = start("").await;
    let r = client()
        .get(server.url("/preview/api/rules"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}
