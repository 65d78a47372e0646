//! The built-in HTML page and each theme of `examples/themes/` opened in the
//! real headless Chromium (issue #12): rendered by the service
//! (`/render/{code}?format=html`, one service per design, in-process on
//! 127.0.0.1) behind a small proxy that adds `X-Request-ID` as an ingress
//! does and records every request the browser makes, and checked in light, dark and at a phone's width for what the issue asks of
//! an error page: no request leaves it (not even for `/favicon.ico`), no
//! script, a hostile message stays text, the message is visible and fits,
//! dark mode applies, `lang` and one `h1`, and every text's WCAG contrast
//! against its background, computed in the page, is at least 4.5:1.
//!
//! Screenshots go to `target/ci-artifacts/pages/` (CI keeps it), with
//! `contrast.txt`, the lowest ratio per page. With
//! `UPDATE_THEME_SCREENSHOTS=1` the light and dark screenshots of each
//! design are also copied to `docs/images/themes/` for `docs/themes.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse as _;
use error_render::Catalogue;
use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use serde_json::json;

use crate::browser::Browser;
use crate::common::TestServer as Server;

/// The lowest contrast the issue accepts: WCAG 2 AA for normal text.
const MIN_CONTRAST: f64 = 4.5;

/// The built-in page's size bound (issue #12).
const BUILTIN_MAX_BYTES: usize = 8 * 1024;

/// A message that tries to run script and to fetch an image.
const HOSTILE: &str = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";

/// The viewports: light and dark at a small desktop size (the size of the
/// screenshots in docs/themes.md), and light at a phone's width.
const MODES: [Mode; 3] = [
    Mode {
        name: "light",
        scheme: "light",
        width: 800,
        height: 600,
        mobile: false,
    },
    Mode {
        name: "dark",
        scheme: "dark",
        width: 800,
        height: 600,
        mobile: false,
    },
    Mode {
        name: "phone",
        scheme: "light",
        width: 375,
        height: 812,
        mobile: true,
    },
];

struct Mode {
    name: &'static str,
    scheme: &'static str,
    width: u32,
    height: u32,
    mobile: bool,
}

/// One page: which design, which case, its message, and where the service
/// renders it.
struct Page {
    theme: String,
    case: &'static str,
    message: String,
    /// Path and query on the design's service.
    render: String,
}

impl Page {
    fn path(&self) -> String {
        format!("/{}/{}.html", self.theme, self.case)
    }
}

/// The request id the proxy adds, as an ingress would.
const REQUEST_ID: &str = "4f1c2a9e-7b3d-4e58-9a61-0c2d8e5f7a13";

/// The designs and their `*.tera` files: the compiled-in page (none), then
/// each folder of `examples/themes/`.
fn designs() -> Vec<(String, Vec<(String, String)>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/themes");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 3, "three themes at least: {dirs:?}");
    std::iter::once(("builtin".to_owned(), Vec::new()))
        .chain(dirs.into_iter().map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
                .map(|e| e.expect("a directory entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "tera"))
                .map(|p| {
                    let text = std::fs::read_to_string(&p)
                        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
                    (p.file_name().unwrap().to_string_lossy().into_owned(), text)
                })
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{}: no .tera files", dir.display());
            (name, files)
        }))
        .collect()
}

/// A 4xx and a 5xx catalogue entry (by id), a hostile message, and a long
/// one with an unbroken 193-character URL that must wrap on a phone; each
/// asked of `/render/{code}` with `format=html`.
fn cases() -> Vec<(&'static str, String, String)> {
    let catalogue = Catalogue::builtin();
    let entry = |class: u16| {
        let e = catalogue
            .entries()
            .iter()
            .find(|e| e.code / 100 == class)
            .unwrap_or_else(|| panic!("a {class}xx entry in the catalogue"));
        (
            format!("/render/{}?format=html&id={}", e.code, e.id),
            e.message.clone(),
        )
    };
    let long = format!(
        "The upstream at https://backend.internal.example/{} did not answer within 30 s. {}",
        "segment-".repeat(20),
        "The gateway tried every healthy target and gave up after the last one. "
            .repeat(4)
            .trim_end()
    );
    let message = |code: u16, m: &str| {
        let q = percent_encoding::utf8_percent_encode(m, percent_encoding::NON_ALPHANUMERIC);
        (
            format!("/render/{code}?format=html&message={q}"),
            m.to_owned(),
        )
    };
    let (e4, e5) = (entry(4), entry(5));
    vec![
        ("4xx", e4.0, e4.1),
        ("5xx", e5.0, e5.1),
        ("hostile", message(400, HOSTILE).0, HOSTILE.to_owned()),
        ("long", message(504, &long).0, long),
    ]
}

/// A proxy on 127.0.0.1 in front of the designs' services, as an ingress
/// is: it adds `X-Request-ID`, and records every path a client asked for.
#[derive(Clone)]
struct Site {
    /// The page's path to the URL the service renders it at.
    routes: Arc<BTreeMap<String, String>>,
    seen: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

impl Site {
    async fn serve(pages: &[Page], services: &BTreeMap<String, Server>) -> (Site, String) {
        let site = Site {
            routes: Arc::new(
                pages
                    .iter()
                    .map(|p| (p.path(), services[&p.theme].url(&p.render)))
                    .collect(),
            ),
            seen: Arc::default(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = site.clone();
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let site = state.clone();
            async move {
                site.seen.lock().unwrap().push(uri.path().to_owned());
                let Some(url) = site.routes.get(uri.path()) else {
                    return StatusCode::NOT_FOUND.into_response();
                };
                let (status, content_type, body) = site.fetch(url).await;
                let status = StatusCode::from_u16(status).unwrap();
                (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
            }
        });
        // Ends with the test's runtime.
        tokio::spawn(async move { axum::serve(listener, app).await });
        (site, base)
    }

    /// The service's answer: status, Content-Type, body.
    async fn fetch(&self, url: &str) -> (u16, String, String) {
        let reply = self
            .http
            .get(url)
            .header("X-Request-ID", REQUEST_ID)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = reply.status().as_u16();
        let content_type = reply
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, reply.text().await.unwrap())
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Everything measured in the page, in one round trip. Colours are parsed
/// from the computed `rgb()`/`rgba()` strings; WCAG 2's relative luminance
/// and contrast ratio; a background is the element's own if opaque, else
/// its ancestors' blended over each other down to the canvas colour.
const MEASURE: &str = r#"
const message = MESSAGE;
const parse = (c) => {
  const m = c.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
  if (!m) throw new Error('a colour that is not rgb(): ' + c);
  return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
};
const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
const lum = (c) => {
  const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const ratio = (a, b) => { const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05); };
const canvasColour = (() => {
  const probe = document.createElement('i');
  probe.style.backgroundColor = 'Canvas';
  document.documentElement.appendChild(probe);
  const c = parse(getComputedStyle(probe).backgroundColor);
  probe.remove();
  return c;
})();
const background = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
  }
  return layers.reverse().reduce((under, top) => over(top, under), canvasColour);
};
const texts = [];
for (const el of [document.body, ...document.body.querySelectorAll('*')]) {
  if (el.getClientRects().length === 0) continue;
  const styles = [];
  if (Array.from(el.childNodes).some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '')) {
    styles.push(['', getComputedStyle(el), el.textContent.trim()]);
  }
  for (const pseudo of ['::before', '::after']) {
    const s = getComputedStyle(el, pseudo);
    if (s.content && !['none', 'normal', '""', "''"].includes(s.content)) styles.push([pseudo, s, s.content]);
  }
  for (const [pseudo, s, text] of styles) {
    if (s.visibility === 'hidden') continue;
    const bg = background(el);
    const fg = over(parse(s.color), bg);
    texts.push({ element: el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + pseudo,
                 text: text.slice(0, 40), color: s.color, ratio: ratio(fg, bg) });
  }
}
texts.sort((a, b) => a.ratio - b.ratio);
let holder = null;
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  if (walker.currentNode.textContent.includes(message)) { holder = walker.currentNode.parentElement; break; }
}
const rect = holder ? holder.getBoundingClientRect() : null;
const icon = document.querySelector('link[rel~="icon"]');
return {
  resources: performance.getEntriesByType('resource').map(e => e.name),
  scripts: document.scripts.length,
  pwned: typeof window.__pwned,
  icon: icon ? icon.getAttribute('href') : null,
  lang: document.documentElement.lang,
  h1: document.querySelectorAll('h1').length,
  message_in_text: document.body.innerText.includes(message),
  message_box: rect ? { width: rect.width, height: rect.height, left: rect.left, right: rect.right } : null,
  inner_width: window.innerWidth,
  scroll_width: document.documentElement.scrollWidth,
  body_background: getComputedStyle(document.body).backgroundColor,
  body_luminance: lum(background(document.body)),
  texts: texts.length,
  lowest: texts.slice(0, 3),
};
"#;

/// One page in one mode: what the checks found.
struct Measured {
    min_contrast: f64,
    body_background: String,
    body_luminance: f64,
}

async fn measure(browser: &Browser, base: &str, page: &Page, mode: &Mode) -> Measured {
    let what = format!("{} {} ({})", page.theme, page.case, mode.name);
    browser.goto(&format!("{base}{}", page.path())).await;
    let message = serde_json::to_string(&page.message).unwrap();
    let m = browser.js(&MEASURE.replace("MESSAGE", &message)).await;

    // No request leaves the page, and a hostile message stays text.
    assert_eq!(
        m["resources"],
        json!([]),
        "{what}: the page fetched resources"
    );
    assert_eq!(m["scripts"], json!(0), "{what}: a script element");
    assert_eq!(
        m["pwned"],
        json!("undefined"),
        "{what}: a hostile script ran"
    );
    let icon = m["icon"].as_str().unwrap_or_default();
    assert!(
        icon.starts_with("data:"),
        "{what}: no `<link rel=\"icon\" href=\"data:,\">`, so the browser asks the \
         server for /favicon.ico (icon: {})",
        m["icon"]
    );
    // Accessible structure.
    assert_ne!(m["lang"], json!(""), "{what}: <html> has no lang");
    assert_eq!(m["h1"], json!(1), "{what}: exactly one h1");
    // The message is there, shown, and inside the viewport.
    assert_eq!(
        m["message_in_text"],
        json!(true),
        "{what}: message not shown"
    );
    let any = |k: &str| m["message_box"][k].as_f64().unwrap_or(-1.0);
    let inner = m["inner_width"].as_f64().unwrap();
    assert!(
        any("width") > 0.0 && any("height") > 0.0,
        "{what}: the message has no size: {}",
        m["message_box"]
    );
    assert!(
        any("left") >= 0.0 && any("right") <= inner,
        "{what}: the message is outside the {inner} px viewport: {}",
        m["message_box"]
    );
    assert!(
        m["scroll_width"].as_f64().unwrap() <= inner,
        "{what}: scrolls sideways ({} px wide in a {inner} px viewport)",
        m["scroll_width"]
    );
    if mode.mobile {
        assert_eq!(inner, f64::from(mode.width), "{what}: the phone viewport");
    }
    // Contrast of every text.
    assert!(m["texts"].as_u64().unwrap() >= 3, "{what}: texts: {m}");
    let min_contrast = m["lowest"][0]["ratio"].as_f64().unwrap();
    assert!(
        min_contrast >= MIN_CONTRAST,
        "{what}: text contrast below {MIN_CONTRAST}:1; the lowest: {}",
        m["lowest"]
    );
    Measured {
        min_contrast,
        body_background: m["body_background"].as_str().unwrap().to_owned(),
        body_luminance: m["body_luminance"].as_f64().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_page_and_themes_in_headless_chromium() {
    let started = Instant::now();
    let mut services = BTreeMap::new();
    let mut pages = Vec::new();
    for (theme, files) in designs() {
        let mut all: Vec<(&str, &str)> = vec![
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
        ];
        all.extend(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
        services.insert(
            theme.clone(),
            Server::start("request_context: true\n", &all, false).await,
        );
        for (case, render, message) in cases() {
            pages.push(Page {
                theme: theme.clone(),
                case,
                message,
                render,
            });
        }
    }
    let (site, base) = Site::serve(&pages, &services).await;
    for p in &pages {
        let (status, content_type, body) = site.fetch(&site.routes[&p.path()]).await;
        assert_eq!(
            content_type, "text/html; charset=utf-8",
            "{} {}: {status} {body}",
            p.theme, p.case
        );
        assert!(
            p.theme != "builtin" || body.len() < BUILTIN_MAX_BYTES,
            "the built-in page for {} is {} bytes, over {BUILTIN_MAX_BYTES}",
            p.case,
            body.len()
        );
    }
    let pages = Arc::new(pages);
    let browser = Arc::new(Browser::start().await);
    // The steps run in a task so that a failing step still closes Chromium.
    let steps = {
        let (browser, pages, base) = (Arc::clone(&browser), Arc::clone(&pages), base.clone());
        tokio::spawn(async move { every_page_in_every_mode(&browser, &base, &pages).await })
    };
    let result = steps.await;
    browser.quit().await;
    let measured = match result {
        Ok(m) => m,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };

    // The server saw each page once per mode, and nothing else: no
    // favicon, no hostile image.
    let mut seen = site.seen();
    seen.sort();
    let mut want: Vec<String> = pages
        .iter()
        .flat_map(|p| MODES.iter().map(move |_| p.path()))
        .collect();
    want.sort();
    assert_eq!(
        seen, want,
        "requests other than the pages reached the server"
    );

    // Dark mode applies: another background, and a dark one.
    for p in pages.iter() {
        let light = &measured[&(p.theme.clone(), p.case, "light")];
        let dark = &measured[&(p.theme.clone(), p.case, "dark")];
        assert_ne!(
            light.body_background, dark.body_background,
            "{} {}: the same background in dark mode",
            p.theme, p.case
        );
        assert!(
            dark.body_luminance < 0.2,
            "{} {}: dark mode's background {} is not dark (luminance {:.3})",
            p.theme,
            p.case,
            dark.body_background,
            dark.body_luminance
        );
    }

    let mut report = String::from("lowest text contrast per page (WCAG 2), light / dark / phone\n");
    for p in pages.iter() {
        let ratios: Vec<String> = MODES
            .iter()
            .map(|m| {
                format!(
                    "{:.2}",
                    measured[&(p.theme.clone(), p.case, m.name)].min_contrast
                )
            })
            .collect();
        let _ = writeln!(
            report,
            "{:<10} {:<8} {}",
            p.theme,
            p.case,
            ratios.join(" / ")
        );
    }
    let _ = writeln!(
        report,
        "{} pages x {} modes in {:.1} s",
        pages.len(),
        MODES.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{report}");
    let out = crate::browser::artifacts("pages").join("contrast.txt");
    std::fs::write(&out, report).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
}

type Key = (String, &'static str, &'static str);

async fn every_page_in_every_mode(
    browser: &Browser,
    base: &str,
    pages: &[Page],
) -> BTreeMap<Key, Measured> {
    let update_docs = std::env::var_os("UPDATE_THEME_SCREENSHOTS").is_some();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images/themes");
    let mut measured = BTreeMap::new();
    for mode in &MODES {
        browser
            .cdp(
                "Emulation.setEmulatedMedia",
                json!({ "features": [{ "name": "prefers-color-scheme", "value": mode.scheme }] }),
            )
            .await;
        browser
            .cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": mode.width, "height": mode.height,
                        "deviceScaleFactor": 1, "mobile": mode.mobile }),
            )
            .await;
        for page in pages {
            let m = measure(browser, base, page, mode).await;
            // The first case (a 4xx catalogue entry) is the design's picture.
            let name = if page.case == "4xx" {
                format!("{}-{}.png", page.theme, mode.name)
            } else {
                format!("{}-{}-{}.png", page.theme, page.case, mode.name)
            };
            let shot = browser.screenshot("pages", &name).await;
            if update_docs && page.case == "4xx" && mode.name != "phone" {
                std::fs::create_dir_all(&docs).unwrap();
                std::fs::copy(&shot, docs.join(&name)).unwrap_or_else(|e| {
                    panic!("copy {} to {}: {e}", shot.display(), docs.display())
                });
            }
            measured.insert((page.theme.clone(), page.case, mode.name), m);
        }
    }
    measured
}
