//! What one request costs the service in heap allocations, over the whole
//! HTTP path: a real socket, hyper, the dispatch, the render cache, the
//! metrics and the response. A regression in any of them (a header map
//! built per request, a boxed future, a logged span) shows up here as a
//! higher count.
//!
//! Counted with a counting global allocator, so this binary holds one test
//! (other tests' threads would be counted too). The client is a plain
//! blocking socket that reuses one buffer, so it allocates nothing in the
//! measured loop: every allocation counted is the server's.

use std::alloc::System;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use error_render::config::{Config, ConfigLayer};
use error_render::http::{AppState, serve_on};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Requests per route in the measured loop.
const N: usize = 1000;
/// Windows of `N` requests measured per route; the quietest one counts.
const WINDOWS: usize = 3;

/// Sends `req` and reads one whole response (head and `Content-Length`
/// body) into `buf`; returns its status. Allocates nothing.
fn exchange(stream: &mut TcpStream, req: &[u8], buf: &mut [u8]) -> u16 {
    stream.write_all(req).unwrap();
    let mut len = 0;
    loop {
        let n = stream.read(&mut buf[len..]).unwrap();
        assert!(n > 0, "the server closed the connection");
        len += n;
        let got = &buf[..len];
        let Some(head_end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&got[..head_end]).unwrap();
        let body_len: usize = head
            .split("\r\n")
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .expect("a Content-Length");
        if len >= head_end + 4 + body_len {
            assert_eq!(len, head_end + 4 + body_len, "one response at a time");
            return head[9..12].parse().unwrap();
        }
    }
}

#[test]
fn cached_errors_allocate_a_fixed_few_times_per_request_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    // Both shipped templates: with XML on offer, ingress-nginx's X-Format
    // is negotiated, not short-cut.
    for (name, text) in [
        ("error.json", error_render::render::BUNDLED_ERROR_JSON),
        ("error.xml", error_render::render::BUNDLED_ERROR_XML),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let layer = ConfigLayer {
        templates: Some(dir.path().to_owned()),
        ..ConfigLayer::default()
    };
    let state = AppState::from_config(Config::from_layer(layer).unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(serve_on(listener, state, async {
        let _ = stopped.await;
    }));

    let routes: [(&str, &[u8], u16); 4] = [
        ("static", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200),
        (
            "render",
            b"GET /render/403?message=Quota%20exceeded HTTP/1.1\r\nHost: x\r\n\r\n",
            403,
        ),
        (
            "ingress-nginx",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: application/json\r\n\r\n",
            503,
        ),
        ("traefik", b"GET /404 HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    ];
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 16 * 1024];
    let mut per_request = Vec::new();
    for (name, req, status) in routes {
        // Fill the render cache and let hyper's buffers reach their size.
        for _ in 0..100 {
            assert_eq!(exchange(&mut stream, req, &mut buf), status, "{name}");
        }
        // The quietest of several windows: whatever else the process does
        // meanwhile (hyper's date cache, a scheduler waking on a loaded
        // machine) only ever adds allocations, and a route's own cost is in
        // every window.
        let mut quietest = f64::INFINITY;
        for _ in 0..WINDOWS {
            let region = Region::new(GLOBAL);
            for _ in 0..N {
                exchange(&mut stream, req, &mut buf);
            }
            let change = region.change();
            let allocs = (change.allocations + change.reallocations) as f64 / N as f64;
            eprintln!("{name}: {allocs:.2} allocations per request ({change:?})");
            quietest = quietest.min(allocs);
        }
        per_request.push((name, quietest));
    }
    drop(stream);
    let _ = stop.send(());
    runtime.block_on(serving).unwrap().unwrap();

    // The figures reached. Every route pays one: hyper boxes a fresh
    // header-read timer (`limits.header_read_timeout_ms`) for each request
    // head. The render route adds its decoded message (an owned string of
    // `ErrorRequest`); ingress-nginx adds hyper's copies of the two header
    // names it does not know (`X-Code`, `X-Format`). Header maps, bodies,
    // routing and the cached body itself cost none.
    let most = [
        ("static", 1.0),
        ("render", 2.0),
        ("ingress-nginx", 3.0),
        ("traefik", 1.0),
    ];
    for ((name, got), (_, max)) in per_request.iter().zip(most) {
        // A few allocations over the whole loop (a timer wheel slot, a
        // buffer growing once) are not per request.
        assert!(
            *got <= max + 0.05,
            "{name}: {got:.2} allocations per request, at most {max} expected"
        );
    }
}
