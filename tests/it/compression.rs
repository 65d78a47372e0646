//! Compressed answers over real sockets: br and gzip round-trips of a large
//! body, small bodies left alone, `identity;q=0` and `*;q=0`, the cached
//! body compressed once per generation (counted by `/metrics`), the setting
//! that turns it off, and the gateway's formats (JSON, XML) never compressed.

use std::io::Read as _;

use crate::common::TestServer;

/// A JSON template whose body is well over 1 KiB.
fn large_template() -> String {
    format!(
        "{{\"error\": \"{{{{.Message}}}}\", \"help\": \"{}\"}}",
        "See https://errors.example/ for what to do next. ".repeat(60)
    )
}

/// A plain-text page (error-render's own format, the one compressed here)
/// whose body is well over 1 KiB.
fn large_text() -> String {
    format!(
        "{{{{ StatusCode }}}} {{{{ Message }}}}\n{}",
        "See https://errors.example/ for what to do next.\n".repeat(60)
    )
}

/// A large body in a compressed format: the text page for 404.
const TEXT_404: &str = "/render/404?format=text";
/// A small body in a compressed format: the built-in problem details.
const PROBLEM_404: &str = "/render/404?format=problem";

async fn start(yaml: &str) -> TestServer {
    let (large, text) = (large_template(), large_text());
    TestServer::start(
        yaml,
        &[
            ("error.json", large.as_str()),
            ("default.txt.tera", text.as_str()),
            // Small: the bundled XML template.
            ("error.xml", error_render::render::BUNDLED_ERROR_XML),
        ],
        false,
    )
    .await
}

fn client() -> reqwest::Client {
    // reqwest here has no decompression features: bodies arrive as sent.
    reqwest::Client::builder().no_proxy().build().unwrap()
}

struct Answer {
    encoding: Option<String>,
    vary: Option<String>,
    body: Vec<u8>,
}

async fn get(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = client().get(s.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.unwrap();
    let text = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (encoding, vary) = (text("content-encoding"), text("vary"));
    let body = r.bytes().await.unwrap().to_vec();
    Answer {
        encoding,
        vary,
        body,
    }
}

/// The plain body the service renders for `path` without compression.
async fn plain(s: &TestServer, path: &str) -> Vec<u8> {
    get(s, path, &[]).await.body
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(body, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The value of `error_render_compressions_total` for these labels.
async fn compressions(s: &TestServer, encoding: &str, cached: bool) -> u64 {
    let text = client()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line =
        format!("error_render_compressions_total{{encoding=\"{encoding}\",cached=\"{cached}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn gzip_and_br_round_trip_a_large_body() {
    let s = start("").await;
    // A message makes the body uncached: compressed per response.
    let path = "/render/404?format=text&message=Nothing+here";
    let want = plain(&s, path).await;
    assert!(want.len() > 2048, "{}", want.len());

    let gz = get(&s, path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.encoding.as_deref(), Some("gzip"));
    assert_eq!(gz.vary.as_deref(), Some("accept-encoding"));
    assert!(gz.body.len() < want.len() / 4, "{}", gz.body.len());
    assert_eq!(gunzip(&gz.body), want);

    // A browser's: br preferred over gzip at the same q.
    let br = get(&s, path, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(br.encoding.as_deref(), Some("br"));
    assert_eq!(unbrotli(&br.body), want);

    // q-values: gzip above br.
    let gz = get(&s, path, &[("accept-encoding", "br;q=0.5, gzip;q=0.9")]).await;
    assert_eq!(gz.encoding.as_deref(), Some("gzip"));
    assert_eq!(gunzip(&gz.body), want);
    assert_eq!(compressions(&s, "gzip", false).await, 2);
    assert_eq!(compressions(&s, "br", false).await, 1);

    // Neither accepted: plain, but the answer still varies on the header.
    let none = get(&s, path, &[("accept-encoding", "deflate")]).await;
    assert_eq!(none.encoding, None);
    assert_eq!(none.vary.as_deref(), Some("accept-encoding"));
    assert_eq!(none.body, want);
}

#[tokio::test]
async fn a_small_body_is_not_compressed() {
    let s = start("").await;
    let path = PROBLEM_404;
    let want = plain(&s, path).await;
    assert!(want.len() < 1024, "{}", want.len());
    let r = get(&s, path, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(r.encoding, None);
    assert_eq!(r.vary, None);
    assert_eq!(r.body, want);
}

/// A client that refuses identity gets even a small body compressed;
/// one that refuses everything (`*;q=0`) still gets a readable body.
#[tokio::test]
async fn identity_refusals_are_honoured_where_possible() {
    let s = start("").await;
    let path = PROBLEM_404;
    let want = plain(&s, path).await;
    let r = get(&s, path, &[("accept-encoding", "gzip, identity;q=0")]).await;
    assert_eq!(r.encoding.as_deref(), Some("gzip"));
    assert_eq!(gunzip(&r.body), want);

    let r = get(&s, path, &[("accept-encoding", "*;q=0")]).await;
    assert_eq!(r.encoding, None);
    assert_eq!(r.vary.as_deref(), Some("accept-encoding"));
    assert_eq!(r.body, want);

    // `*;q=0` with identity allowed: a small body as it is, untouched.
    let r = get(&s, path, &[("accept-encoding", "*;q=0, identity")]).await;
    assert_eq!((r.encoding, r.vary), (None, None));

    // A large body and `*` alone: br.
    let r = get(&s, TEXT_404, &[("accept-encoding", "*")]).await;
    assert_eq!(r.encoding.as_deref(), Some("br"));
    assert_eq!(unbrotli(&r.body), plain(&s, TEXT_404).await);
}

/// The generation's cached text page (404 without a message) is compressed on
/// its first compressed request only: every later one gets the same bytes
/// without compressing again.
#[tokio::test]
async fn the_cached_body_is_compressed_once() {
    let s = start("").await;
    let want = plain(&s, TEXT_404).await;
    // Make sure the body is the cached one before counting.
    assert_eq!(plain(&s, TEXT_404).await, want);
    let mut bodies = Vec::new();
    for _ in 0..5 {
        let r = get(&s, TEXT_404, &[("accept-encoding", "gzip")]).await;
        assert_eq!(r.encoding.as_deref(), Some("gzip"));
        bodies.push(r.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(gunzip(&bodies[0]), want);
    // One compression for the six requests (the first plain request that
    // filled the cache is not compressed at all).
    assert_eq!(compressions(&s, "gzip", true).await, 1);
    assert_eq!(compressions(&s, "gzip", false).await, 0);

    // The other coding is a second form of the same body, made once too.
    for _ in 0..3 {
        let r = get(&s, TEXT_404, &[("accept-encoding", "br")]).await;
        assert_eq!(unbrotli(&r.body), want);
    }
    assert_eq!(compressions(&s, "br", true).await, 1);
}

/// The built-in HTML page (over 1 KiB) is cached per generation like a
/// JSON body, so a browser's compressed page is made once too.
#[tokio::test]
async fn the_cached_html_page_is_compressed_once() {
    let s = start("").await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let headers = [
        ("x-code", "503"),
        ("x-format", browser),
        ("accept-encoding", "gzip, deflate, br, zstd"),
    ];
    let mut bodies = Vec::new();
    for _ in 0..4 {
        let r = get(&s, "/", &headers).await;
        assert_eq!(r.encoding.as_deref(), Some("br"));
        assert_eq!(r.vary.as_deref(), Some("accept, accept-encoding"));
        bodies.push(unbrotli(&r.body));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let page = String::from_utf8(bodies.remove(0)).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    // The first request rendered the page (and filled the cache), compressed
    // per response; the three after it share one compression.
    assert_eq!(compressions(&s, "br", false).await, 1);
    assert_eq!(compressions(&s, "br", true).await, 1);
}

/// Negotiated answers vary on both headers.
#[tokio::test]
async fn a_negotiated_compressed_answer_varies_on_both() {
    let s = start("").await;
    let r = client()
        .get(s.url("/"))
        .header("x-code", "404")
        .header("x-format", "text/plain")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["vary"], "accept, accept-encoding");
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn compression_can_be_turned_off() {
    let s = start("compression: false\n").await;
    let want = plain(&s, TEXT_404).await;
    let r = get(&s, TEXT_404, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!((r.encoding, r.vary), (None, None));
    assert_eq!(r.body, want);

    let s = start("compression_min_bytes: 100000\n").await;
    let r = get(&s, TEXT_404, &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.encoding, None);
}

/// The gateway's formats go out as a Tyk template set renders them: a JSON
/// body well over 1 KiB, asked for by a client that accepts gzip and br,
/// arrives uncompressed and byte for byte the plain body, with the formats
/// restricted to the gateway's and with the defaults, on `/render` and on
/// the negotiated routes alike.
#[tokio::test]
async fn a_large_json_body_is_never_compressed() {
    for yaml in ["formats: [json, xml]\n", ""] {
        let s = start(yaml).await;
        for (path, headers) in [
            ("/render/404", &[][..]),
            ("/render/404?message=Nothing+here", &[][..]),
            (
                "/",
                &[("x-code", "404"), ("x-format", "application/json")][..],
            ),
            ("/404", &[("accept", "*/*")][..]),
        ] {
            let mut with = headers.to_vec();
            let want = get(&s, path, &with).await.body;
            assert!(want.len() > 2048, "{yaml:?} {path}: {}", want.len());
            with.push(("accept-encoding", "gzip, br"));
            let r = get(&s, path, &with).await;
            assert_eq!(r.encoding, None, "{yaml:?} {path}");
            assert!(
                !r.vary.as_deref().unwrap_or("").contains("accept-encoding"),
                "{yaml:?} {path}: {:?}",
                r.vary
            );
            assert_eq!(r.body, want, "{yaml:?} {path}");
        }
    }
}
