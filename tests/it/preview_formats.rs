//! The preview over error-render's own formats (#12), over real sockets: the
//! catalogue's envelope per enabled format, `/preview/render`'s `format`,
//! the playground's `.tera` pages, and `/preview/frame`, the HTML page alone
//! under its own strict CSP for the page's sandboxed frame.

use crate::common::TestServer;

use error_render::http::preview::{CONTENT_SECURITY_POLICY, FRAME_CONTENT_SECURITY_POLICY};
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use serde_json::{Value, json};

const PAGE_4XX: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{{ StatusCode }}</title><style>h1{color:#036}</style></head>\n\
<body><h1>{{ Title }}</h1><p class=\"m\">{{ Message }}</p></body></html>\n";

/// The service with the bundled templates, a `4xx.html.tera` page, and the
/// settings in `yaml`.
async fn start(yaml: &str) -> TestServer {
    TestServer::start(
        yaml,
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
            ("4xx.html.tera", PAGE_4XX),
        ],
        false,
    )
    .await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

async fn get_json(s: &TestServer, path: &str) -> (u16, Value) {
    let r = client().get(s.url(path)).send().await.expect("GET");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON answer"))
}

async fn post_json(s: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let r = client()
        .post(s.url(path))
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn the_catalogue_shows_each_entry_in_each_enabled_format() {
    let s = start("").await;
    let (status, c) = get_json(&s, "/preview/api/catalogue").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        c["formats"],
        json!(["json", "xml", "html", "text", "problem"])
    );
    let files: Vec<&str> = c["templates"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(files, ["error.json", "error.xml", "4xx.html.tera"]);
    let entries = c["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 119);
    for row in entries {
        let code = row["code"].as_u64().expect("a code");
        for (format, content_type) in [
            ("html", "text/html; charset=utf-8"),
            ("text", "text/plain; charset=utf-8"),
            ("problem", "application/problem+json"),
        ] {
            let env = &row[format];
            assert_eq!(env["outcome"], "ok", "{format}: {row}");
            assert_eq!(env["status"], code, "{format}");
            assert_eq!(env["headers"]["content-type"], content_type, "{format}");
        }
        // The folder's page for 4xx, the built-in one for 5xx.
        let want = if code < 500 {
            json!("4xx.html.tera")
        } else {
            Value::Null
        };
        assert_eq!(row["html"]["template"], want, "{}", row["id"]);
        let problem: Value = serde_json::from_str(row["problem"]["body"].as_str().expect("a body"))
            .expect("problem details are JSON");
        assert_eq!(problem["status"], code);
        // The gateway's two as before.
        assert_eq!(row["json"]["template"], "error.json");
        assert_eq!(row["xml"]["template"], "error.xml");
    }
}

#[tokio::test]
async fn formats_json_and_xml_leave_only_the_gateways_views() {
    let s = start("formats: [json, xml]\n").await;
    let (_, c) = get_json(&s, "/preview/api/catalogue").await;
    assert_eq!(c["formats"], json!(["json", "xml"]));
    let row = &c["entries"][0];
    for format in ["html", "text", "problem"] {
        assert!(row.get(format).is_none(), "{format}: {row}");
    }
    let (status, e) = get_json(&s, "/preview/render?code=404&format=html").await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["code"], "invalid_parameter");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not enabled")),
        "{e}"
    );
    let r = client()
        .get(s.url("/preview/frame?code=404"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn render_takes_each_of_the_five_formats() {
    let s = start("").await;
    for (format, content_type, template) in [
        ("json", "application/json", json!("error.json")),
        ("xml", "application/xml", json!("error.xml")),
        ("html", "text/html; charset=utf-8", json!("4xx.html.tera")),
        ("text", "text/plain; charset=utf-8", Value::Null),
        ("problem", "application/problem+json", Value::Null),
    ] {
        let (status, env) = get_json(
            &s,
            &format!("/preview/render?code=404&message=gone&format={format}"),
        )
        .await;
        assert_eq!(status, 200, "{env}");
        assert_eq!(env["headers"]["content-type"], content_type, "{format}");
        assert_eq!(env["template"], template, "{format}");
        assert!(
            env["body"].as_str().is_some_and(|b| b.contains("gone")),
            "{format}: {env}"
        );
        let (status, posted) = post_json(
            &s,
            "/preview/render",
            &json!({ "code": 404, "message": "gone", "format": format }),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(posted, env, "{format}");
    }
    let (status, e) = get_json(&s, "/preview/render?code=404&format=yaml").await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (400, &json!("invalid_parameter"))
    );
}

#[tokio::test]
async fn the_playground_renders_inline_tera_pages_and_places_their_errors() {
    let s = start("").await;
    let (status, env) = post_json(
        &s,
        "/preview/render",
        &json!({
            "templates": {
                "error.json": BUNDLED_ERROR_JSON,
                "404.txt.tera": "{{ StatusCode }}: {{ Message }}\n",
            },
            "code": 404,
            "message": "<gone>",
            "format": "text",
        }),
    )
    .await;
    assert_eq!(status, 200, "{env}");
    assert_eq!(env["template"], "404.txt.tera");
    assert_eq!(env["body"], "404: <gone>\n");

    let (status, env) = post_json(
        &s,
        "/preview/render",
        &json!({
            "templates": {
                "error.json": "{{.Message",
                "404.html.tera": "<p>\n  {% if %}</p>",
            },
            "code": 404,
            "format": "html",
        }),
    )
    .await;
    assert_eq!(status, 200, "{env}");
    assert_eq!(env["outcome"], "load");
    let places: Vec<(&str, Value, Value)> = env["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap_or_default(),
                p["line"].clone(),
                p["column"].clone(),
            )
        })
        .collect();
    assert_eq!(places.len(), 2, "{env}");
    assert_eq!(places[0].0, "error.json");
    assert_eq!(places[1], ("404.html.tera", json!(2), json!(9)), "{env}");
    // A name that is neither Tyk's nor a Tera page is the request's fault.
    let (status, e) = post_json(
        &s,
        "/preview/render",
        &json!({ "templates": { "notes.txt": "x" }, "code": 404 }),
    )
    .await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (400, &json!("invalid_parameter"))
    );
}

/// A `/preview/frame` answer: `200`, an HTML page under the frame's own
/// policy, framed by the preview's origin only.
fn assert_frame_page_answer(r: &reqwest::Response) {
    assert_eq!(r.status(), 200);
    let get = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(get("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        get("content-security-policy"),
        Some(FRAME_CONTENT_SECURITY_POLICY)
    );
    assert_eq!(get("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(get("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn the_frame_route_sends_the_page_alone_under_its_own_strict_csp() {
    let s = start("").await;
    let r = client()
        .get(s.url("/preview/frame?code=404&message=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E"))
        .send()
        .await
        .expect("GET");
    assert_frame_page_answer(&r);
    for directive in ["default-src 'none'", "sandbox", "frame-ancestors 'self'"] {
        assert!(
            FRAME_CONTENT_SECURITY_POLICY.contains(directive),
            "{directive}"
        );
    }
    assert!(!FRAME_CONTENT_SECURITY_POLICY.contains("script-src"));
    let body = r.text().await.expect("a body");
    // The folder's page, the message HTML-escaped in it.
    assert!(body.contains("<title>404</title>"), "{body}");
    assert!(
        body.contains("&lt;script&gt;window.__pwned=1&lt;"),
        "{body}"
    );
    assert!(!body.contains("<script"), "{body}");
    // The page may frame it, and only frames of its own origin.
    assert!(CONTENT_SECURITY_POLICY.contains("frame-src 'self'"));
    let page = client().get(s.url("/preview")).send().await.expect("GET");
    assert_eq!(
        page.headers()
            .get("x-frame-options")
            .and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
}

/// The playground's HTML page (#12): `POST /preview/render` keeps an inline
/// page and names its URL, which answers the page alone under the frame's
/// own CSP, as the catalogue's frame does; other formats and the live set
/// have no such URL, and an unknown id is refused.
#[tokio::test]
async fn the_playground_names_a_frame_url_serving_its_inline_html_page() {
    let s = start("").await;
    let page = PAGE_4XX.replace("<h1>", "<h1 class=\"inline\">");
    let hostile = "<script>window.__pwned=1</script>";
    let (status, env) = post_json(
        &s,
        "/preview/render",
        &json!({
            "templates": { "error.json": BUNDLED_ERROR_JSON, "4xx.html.tera": page },
            "code": 404,
            "message": hostile,
            "format": "html",
        }),
    )
    .await;
    assert_eq!(status, 200, "{env}");
    let src = env["frame"].as_str().expect("a frame URL");
    let id = src
        .strip_prefix("/preview/frame?inline=")
        .expect("the frame route");
    assert_eq!(id.len(), 32, "{src}");
    let r = client().get(s.url(src)).send().await.expect("GET");
    assert_frame_page_answer(&r);
    let body = r.text().await.expect("a body");
    assert_eq!(body, env["body"].as_str().expect("the body"));
    assert!(body.contains("<h1 class=\"inline\">"), "{body}");
    assert!(!body.contains("<script"), "{body}");

    // Text, and the live set (whose pages have their own URL): no frame.
    for request in [
        json!({ "templates": { "error.json": BUNDLED_ERROR_JSON }, "code": 404, "format": "text" }),
        json!({ "code": 404, "format": "html" }),
    ] {
        let (status, env) = post_json(&s, "/preview/render", &request).await;
        assert_eq!(status, 200, "{env}");
        assert!(env.get("frame").is_none(), "{request}: {env}");
    }
    let r = client()
        .get(s.url("/preview/frame?inline=00"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.expect("JSON");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("render it again")),
        "{e}"
    );
}
