//! The preview page in a real headless Chromium, driven over WebDriver by
//! chromedriver, against the real service (in-process, real sockets, a real
//! template folder watched for changes).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash scripts/ci-deps.sh`
//! installs them; `CHROMIUM` and `CHROMEDRIVER` name other binaries). Without
//! them the test fails: it never skips silently. Screenshots go to
//! `target/ci-artifacts/preview/`, which CI keeps. The WebDriver client is
//! `tests/browser/mod.rs`; `tests/browser/pages.rs` opens the built-in HTML
//! page and the themes of `examples/themes/` in the same browser.

#[path = "it/common/mod.rs"]
mod common;

#[path = "browser/mod.rs"]
mod browser;
#[path = "browser/pages.rs"]
mod pages;

use std::sync::Arc;

use browser::{Browser, ELEMENT};
use common::TestServer as Server;
use error_render::Catalogue;
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use serde_json::json;

/// The script a hostile message or template tries to run.
const HOSTILE: &str = "<script>window.__pwned=1</script>";
const HOSTILE_IMG: &str = "<img src=x onerror=\"window.__pwned=2\">";

/// The service on 127.0.0.1:0 over a temp template folder, reloading on
/// file changes.
async fn start_server() -> Server {
    let server = Server::start(
        "",
        &[
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
        ],
        true,
    )
    .await;
    assert!(
        server.state.config.preview.enabled,
        "the preview is on for loopback"
    );
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_page_in_headless_chromium() {
    let server = Arc::new(start_server().await);
    let browser = Arc::new(Browser::start().await);
    // The steps run in a task so that a failing step still closes Chromium.
    let steps = {
        let (server, browser) = (Arc::clone(&server), Arc::clone(&browser));
        tokio::spawn(async move {
            catalogue_shows_every_entry(&server, &browser).await;
            typing_in_the_playground_changes_the_render(&server, &browser).await;
            hostile_message_and_template_do_not_run(&browser).await;
            template_saved_on_disk_shows_without_reload(&server, &browser).await;
            dark_mode_and_phone_screenshots(&server, &browser).await;
            rule_view_and_rule_tester(&browser).await;
        })
    };
    let result = steps.await;
    browser.quit().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn open(server: &Server, browser: &Browser, hash: &str) {
    browser
        .goto(&format!("{}/preview{hash}", server.base))
        .await;
    browser
        .wait_for(
            "the catalogue to load",
            "document.documentElement.dataset.ready === '1'",
        )
        .await;
}

async fn catalogue_shows_every_entry(server: &Server, browser: &Browser) {
    open(server, browser, "").await;
    let catalogue = Catalogue::builtin();
    assert_eq!(catalogue.entries().len(), 108, "the published catalogue");
    let expected = catalogue.entries().len() + catalogue.override_ids().len();
    let rows = browser
        .js("return document.querySelectorAll('#entries li.entry').length;")
        .await;
    assert_eq!(
        rows,
        json!(expected),
        "one row per entry and gateway error ID"
    );
    let ids = browser
        .js("return Array.from(document.querySelectorAll('#entries li.entry'), li => li.dataset.id);")
        .await;
    let want: Vec<&str> = catalogue
        .entries()
        .iter()
        .map(|e| e.id.as_str())
        .chain(catalogue.override_ids().iter().map(|o| o.id.as_str()))
        .collect();
    assert_eq!(ids, json!(want));
    assert_eq!(
        browser.text("#entry-count").await,
        format!("{expected} of {expected} entries")
    );
    // Each row carries both renders from the live set.
    let first = &catalogue.entries()[0];
    let body = browser
        .text("#entries li.entry .render-json pre.body")
        .await;
    assert_eq!(
        body,
        format!("{{\n    \"error\": \"{}\"\n}}", first.message)
    );
    let meta = browser
        .text("#entries li.entry .render-xml .render-meta")
        .await;
    assert!(
        meta.contains("from error.xml") && meta.contains("ok"),
        "{meta}"
    );
    assert_eq!(browser.text("#findings-summary").await, "no findings");

    // The class filter and the search.
    browser.click(".chip[data-filter='5']").await;
    let fives = catalogue
        .entries()
        .iter()
        .filter(|e| e.code / 100 == 5)
        .count()
        + catalogue
            .override_ids()
            .iter()
            .filter(|o| o.code / 100 == 5)
            .count();
    let visible = browser
        .js("return Array.from(document.querySelectorAll('#entries li.entry:not([hidden])'), li => li.dataset.code);")
        .await;
    let visible = visible.as_array().unwrap();
    assert_eq!(visible.len(), fives);
    assert!(visible.iter().all(|c| c.as_str().unwrap().starts_with('5')));
    browser.click(".chip[data-filter='all']").await;
    browser.type_into("#search", "quota").await;
    let shown = browser
        .wait_for(
            "the search to filter",
            "document.querySelectorAll('#entries li.entry:not([hidden])').length < 20 && \
             Array.from(document.querySelectorAll('#entries li.entry:not([hidden])'), li => li.textContent.toLowerCase().includes('quota')).every(Boolean) && \
             document.querySelectorAll('#entries li.entry:not([hidden])').length",
        )
        .await;
    assert!(shown.as_u64().unwrap() >= 1);
    browser.clear("#search").await;
    browser.type_into("#search", " ").await;
    browser
        .wait_for(
            "the search to be cleared",
            &format!(
                "document.querySelectorAll('#entries li.entry:not([hidden])').length === {expected}"
            ),
        )
        .await;
    // One entry opened, for the screenshot.
    browser
        .js("document.querySelector('#entries li.entry details').open = true; return 1;")
        .await;
    browser.screenshot("preview", "catalogue.png").await;
}

/// The playground's rendered body.
async fn playground_body(browser: &Browser) -> String {
    browser.text("#pg-body").await
}

async fn wait_body(browser: &Browser, what: &str, want: &str) {
    let want_js = serde_json::to_string(want).unwrap();
    browser
        .wait_for(
            what,
            &format!("document.querySelector('#pg-body').textContent === {want_js}"),
        )
        .await;
}

async fn typing_in_the_playground_changes_the_render(server: &Server, browser: &Browser) {
    open(server, browser, "#playground").await;
    let initial = format!(
        "{{\n    \"error\": \"{}\"\n}}",
        "Access to this API has been disallowed"
    );
    wait_body(browser, "the first render", &initial).await;
    assert_eq!(browser.text("#pg-status").await, "403");
    assert_eq!(browser.text("#pg-template").await, "from error.json");

    browser.clear("#pg-editor").await;
    browser
        .type_into(
            "#pg-editor",
            "{\"typed\": \"{{.Message}}\", \"code\": {{.StatusCode}}}",
        )
        .await;
    browser.type_into("#pg-message", "Typed in the page").await;
    wait_body(
        browser,
        "the typed template to render",
        "{\"typed\": \"Typed in the page\", \"code\": 403}",
    )
    .await;
    assert_eq!(browser.text("#pg-outcome").await, "ok");
    assert_eq!(
        browser
            .js("return document.querySelector('#pg-dirty').hidden;")
            .await,
        json!(false)
    );

    // A broken template: the error with its line and column, as you type.
    browser.type_into("#pg-editor", "\n{{.Message").await;
    browser
        .wait_for(
            "the parse error",
            "document.querySelector('#pg-outcome').textContent === 'load'",
        )
        .await;
    let error = browser.text("#pg-error-text").await;
    assert!(error.starts_with("error.json:2:"), "{error}");
    let goto = browser.text("#pg-problems button").await;
    assert!(goto.starts_with("Go to error.json:2:"), "{goto}");
    browser.screenshot("preview", "playground-error.png").await;

    // The XML side, chosen in the page.
    browser.clear("#pg-editor").await;
    browser
        .type_into("#pg-editor", "{\"typed\": \"{{.Message}}\"}")
        .await;
    browser
        .js(
            "const s = document.querySelector('#pg-content-type'); s.value = 'application/xml'; \
             s.dispatchEvent(new Event('change')); return 1;",
        )
        .await;
    browser
        .wait_for(
            "the XML render",
            "document.querySelector('#pg-template').textContent === 'from error.xml'",
        )
        .await;
    assert!(
        playground_body(browser)
            .await
            .contains("<error>Typed in the page</error>")
    );
    browser.screenshot("preview", "playground.png").await;
    // Nothing was written to disk.
    let on_disk = std::fs::read_to_string(server.dir.path().join("error.json")).unwrap();
    assert_eq!(on_disk, BUNDLED_ERROR_JSON);
}

async fn assert_not_pwned(browser: &Browser) {
    let pwned = browser.js("return typeof window.__pwned;").await;
    assert_eq!(pwned, json!("undefined"), "a hostile script ran");
    let scripts = browser
        .js("return document.querySelectorAll('main script, main img').length;")
        .await;
    assert_eq!(scripts, json!(0), "hostile markup became elements");
}

async fn hostile_message_and_template_do_not_run(browser: &Browser) {
    // Still on the playground, XML request: a hostile message.
    browser.clear("#pg-message").await;
    browser
        .type_into("#pg-message", &format!("{HOSTILE}{HOSTILE_IMG}"))
        .await;
    browser
        .wait_for(
            "the hostile message to render",
            "document.querySelector('#pg-body').textContent.includes('__pwned=2')",
        )
        .await;
    assert_not_pwned(browser).await;

    // A hostile template: its text is the body, shown as text.
    browser.clear("#pg-editor").await;
    browser
        .type_into(
            "#pg-editor",
            &format!("{HOSTILE}{HOSTILE_IMG}{{{{.Message}}}}"),
        )
        .await;
    browser
        .js(
            "const s = document.querySelector('#pg-content-type'); s.value = 'application/json'; \
             s.dispatchEvent(new Event('change')); return 1;",
        )
        .await;
    browser
        .wait_for(
            "the hostile template to render",
            "document.querySelector('#pg-template').textContent === 'from error.json' && \
             document.querySelector('#pg-body').textContent.startsWith('<script>window.__pwned=1</script>')",
        )
        .await;
    assert_not_pwned(browser).await;
    browser
        .screenshot("preview", "playground-hostile.png")
        .await;
}

async fn template_saved_on_disk_shows_without_reload(server: &Server, browser: &Browser) {
    open(server, browser, "").await;
    // A mark that a page reload would wipe.
    browser.js("window.__same_page = 42; return 1;").await;
    let generation = browser.text("#generation").await;
    browser
        .wait_for(
            "the event stream to open",
            "document.querySelector('#live').dataset.state === 'live'",
        )
        .await;

    let saved = format!("{{\"error\": \"Saved on disk {HOSTILE} {{{{.Message}}}}\"}}");
    std::fs::write(server.dir.path().join("error.json"), &saved).unwrap();
    let first = &Catalogue::builtin().entries()[0];
    let want = format!(
        "{{\"error\": \"Saved on disk {HOSTILE} {}\"}}",
        first.message
    );
    let want_js = serde_json::to_string(&want).unwrap();
    browser
        .wait_for(
            "the saved template to show in the open page",
            &format!(
                "document.querySelector('#entries li.entry .render-json pre.body').textContent === {want_js}"
            ),
        )
        .await;
    assert_eq!(browser.js("return window.__same_page;").await, json!(42));
    assert_ne!(browser.text("#generation").await, generation);
    assert_not_pwned(browser).await;

    // A save that does not parse: the page says so, the last good set stays.
    std::fs::write(server.dir.path().join("error.json"), "{{.Message").unwrap();
    browser
        .wait_for(
            "the failed reload to show",
            "!document.querySelector('#reload-error').hidden",
        )
        .await;
    let failure = browser.text("#reload-error-text").await;
    assert!(failure.contains("error.json:1:"), "{failure}");
    assert_eq!(
        browser
            .text("#entries li.entry .render-json pre.body")
            .await,
        want
    );
    browser
        .screenshot("preview", "catalogue-reload-error.png")
        .await;
    std::fs::write(server.dir.path().join("error.json"), BUNDLED_ERROR_JSON).unwrap();
    browser
        .wait_for(
            "the fixed template to show",
            "document.querySelector('#reload-error').hidden",
        )
        .await;
    assert_eq!(browser.js("return window.__same_page;").await, json!(42));
}

async fn dark_mode_and_phone_screenshots(server: &Server, browser: &Browser) {
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }),
        )
        .await;
    open(server, browser, "").await;
    let bg = browser
        .js("return getComputedStyle(document.body).backgroundColor;")
        .await;
    assert_eq!(bg, json!("rgb(21, 23, 27)"), "the dark palette");
    browser
        .js("document.querySelector('#entries li.entry details').open = true; return 1;")
        .await;
    browser.screenshot("preview", "catalogue-dark.png").await;
    open(server, browser, "#playground").await;
    browser
        .wait_for(
            "a render",
            "document.querySelector('#pg-outcome').textContent === 'ok'",
        )
        .await;
    browser.screenshot("preview", "playground-dark.png").await;

    browser
        .cdp("Emulation.setEmulatedMedia", json!({ "features": [] }))
        .await;
    browser.window(390, 844).await;
    open(server, browser, "").await;
    // No sideways scrolling on a phone.
    let overflow = browser
        .js("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await;
    assert_eq!(overflow, json!(true), "the page fits a phone's width");
    browser.screenshot("preview", "catalogue-phone.png").await;
    open(server, browser, "#playground").await;
    browser.screenshot("preview", "playground-phone.png").await;
}

/// The Error Overrides view lists the live rules and what each catalogue
/// entry gets; the playground's rule tester answers pasted rules.
async fn rule_view_and_rule_tester(browser: &Browser) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("tyk.conf");
    std::fs::write(
        &conf,
        r#"{"error_overrides": {"403": [{"match": {"flag": "AKI"}, "response": {"status_code": 418, "body": "teapot"}}]}}"#,
    )
    .unwrap();
    let server = Server::start(
        &format!("tyk_conf: {}\n", conf.display()),
        &[("error.json", BUNDLED_ERROR_JSON)],
        false,
    )
    .await;
    open(&server, browser, "#rules").await;
    browser
        .wait_for(
            "the rule view to list the rule and the entries",
            "document.querySelectorAll('#rules-list li').length === 1 \
             && document.querySelectorAll('#rules-entries li').length > 100",
        )
        .await;
    assert!(browser.text("#rules-list").await.contains("\"403\"[0]"));
    let aki = browser
        .text("#rules-entries li[data-id='403-access-to-this-api-has-been-disallowed']")
        .await;
    assert!(aki.contains("418"), "{aki}");
    assert!(aki.contains("gateway \"403\"[0]"), "{aki}");
    browser.screenshot("preview", "rules.png").await;

    open(&server, browser, "#playground").await;
    browser.clear("#rt-rules").await;
    browser
        .type_into(
            "#rt-rules",
            r#"{"404": [{"response": {"status_code": 410, "body": "gone"}}]}"#,
        )
        .await;
    browser.clear("#rt-code").await;
    browser.type_into("#rt-code", "404").await;
    browser.click("#rt-run").await;
    browser
        .wait_for(
            "the rule tester's answer",
            "document.querySelector('#rt-status').textContent === '410'",
        )
        .await;
    assert_eq!(browser.text("#rt-body-out").await, "gone");
    assert!(browser.text("#rt-match").await.contains("\"404\"[0]"));
}

/// A page of the folder for 4xx errors that carries script of its own (a
/// hostile template), and an inline style that must apply in the frame.
const HOSTILE_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{{ StatusCode }}</title><style>h1{color:#036}</style></head>\n<body><h1>{{ Title }}</h1>\
<p class=\"m\">{{ Message }}</p><script>window.__pwned=1</script>\
<img src=\"data:,\" onerror=\"window.__pwned=2\"></body></html>\n";

/// The catalogue's HTML view and the playground's HTML result (#12): the
/// page in a sandboxed frame (no `allow-scripts`), its inline style
/// applied, and neither the page's own script nor a hostile message's ever
/// running, in the frame or the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_view_shows_the_page_in_a_sandboxed_frame() {
    let server = Arc::new(
        Server::start(
            "",
            &[
                ("error.json", BUNDLED_ERROR_JSON),
                ("error.xml", BUNDLED_ERROR_XML),
                ("4xx.html.tera", HOSTILE_PAGE),
            ],
            false,
        )
        .await,
    );
    let browser = Arc::new(Browser::start().await);
    let steps = {
        let (server, browser) = (Arc::clone(&server), Arc::clone(&browser));
        tokio::spawn(async move { html_view_steps(&server, &browser).await })
    };
    let result = steps.await;
    browser.quit().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Makes the frame `css` the browsing context of the next commands.
async fn enter_frame(browser: &Browser, css: &str) {
    let frame = browser.find(css).await;
    browser
        .cmd(
            reqwest::Method::POST,
            "/frame",
            Some(json!({ "id": { ELEMENT: frame } })),
        )
        .await;
}

async fn leave_frame(browser: &Browser) {
    browser
        .cmd(reqwest::Method::POST, "/frame/parent", Some(json!({})))
        .await;
}

/// In the frame: the page shows with its inline style, and no script ran.
async fn assert_framed_page(browser: &Browser, message: &str) {
    browser
        .wait_for(
            "the framed page to load",
            "document.querySelector('p.m') !== null",
        )
        .await;
    assert_eq!(browser.text("p.m").await, message);
    let colour = browser
        .js("return getComputedStyle(document.querySelector('h1')).color;")
        .await;
    assert_eq!(colour, json!("rgb(0, 51, 102)"), "the page's inline style");
    let pwned = browser.js("return typeof window.__pwned;").await;
    assert_eq!(pwned, json!("undefined"), "a script ran in the frame");
}

/// In the frame: the page for the hostile message (once it shows) with the
/// checks of [`assert_framed_page`], the message text and never markup.
async fn assert_framed_hostile_message(browser: &Browser) {
    browser
        .wait_for(
            "the hostile message to show",
            "document.querySelector('p.m') && \
             document.querySelector('p.m').textContent.includes('__pwned=2')",
        )
        .await;
    assert_framed_page(browser, &format!("{HOSTILE}{HOSTILE_IMG}")).await;
    let elements = browser
        .js("return document.querySelectorAll('p.m *').length;")
        .await;
    assert_eq!(elements, json!(0), "the message became markup");
}

async fn html_view_steps(server: &Server, browser: &Browser) {
    open(server, browser, "").await;
    let entry = "#entries li.entry[data-code='404']";
    browser
        .js(&format!(
            "document.querySelector(\"{entry} details\").open = true; return 1;"
        ))
        .await;
    browser
        .click(&format!("{entry} .format-tab[data-view='html']"))
        .await;
    let frame = format!("{entry} .render-html iframe");
    let sandbox = browser
        .js(&format!(
            "const f = document.querySelector(\"{frame}\"); \
             return [f.getAttribute('sandbox'), f.closest('.render').hidden, \
             new URL(f.src).pathname];"
        ))
        .await;
    assert_eq!(sandbox, json!(["", false, "/preview/frame"]));
    let message = browser.text(&format!("{entry} .entry-message")).await;
    enter_frame(browser, &frame).await;
    assert_framed_page(browser, &message).await;
    leave_frame(browser).await;
    browser.screenshot("preview", "preview-html-view.png").await;

    // A hostile message in the same frame.
    browser
        .js(&format!(
            "document.querySelector(\"{frame}\").src = '/preview/frame?code=404&message=' + \
             encodeURIComponent('{HOSTILE}{img}'); return 1;",
            img = HOSTILE_IMG.replace('"', "\\\"")
        ))
        .await;
    enter_frame(browser, &frame).await;
    assert_framed_hostile_message(browser).await;
    leave_frame(browser).await;
    let pwned = browser.js("return typeof window.__pwned;").await;
    assert_eq!(pwned, json!("undefined"), "a script ran in the page");

    playground_shows_its_html_page_in_the_sandboxed_frame(server, browser).await;
}

/// The playground's HTML result (#12): the page its templates render, in a
/// sandboxed frame like the catalogue's, loaded from the page's own
/// `/preview/frame?inline=` URL; neither the template's script nor a
/// hostile message's runs.
async fn playground_shows_its_html_page_in_the_sandboxed_frame(server: &Server, browser: &Browser) {
    open(server, browser, "#playground").await;
    let message = format!("{HOSTILE}{HOSTILE_IMG}");
    // Code, message and format at once: one render, with the whole message.
    browser
        .js(&format!(
            "document.querySelector('#pg-code').value = '404'; \
             document.querySelector('#pg-message').value = {message}; \
             const s = document.querySelector('#pg-format'); s.value = 'html'; \
             s.dispatchEvent(new Event('change')); return 1;",
            message = json!(message)
        ))
        .await;
    let frame = "#pg-frame";
    browser
        .wait_for(
            "the playground's frame to show its page",
            "!document.querySelector('#pg-frame').hidden && \
             document.querySelector('#pg-frame').src.includes('/preview/frame?inline=')",
        )
        .await;
    let sandbox = browser
        .js("return document.querySelector('#pg-frame').getAttribute('sandbox');")
        .await;
    assert_eq!(sandbox, json!(""), "the frame allows nothing");
    enter_frame(browser, frame).await;
    assert_framed_hostile_message(browser).await;
    leave_frame(browser).await;
    browser
        .screenshot("preview", "playground-html-frame.png")
        .await;
    let pwned = browser.js("return typeof window.__pwned;").await;
    assert_eq!(pwned, json!("undefined"), "a script ran in the page");
}
