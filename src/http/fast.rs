//! The connection's service: the proxy routes (`GET /render/{code}`,
//! ingress-nginx's `X-Code`, Traefik's `/{status}`) and `GET /healthz`
//! answered directly, every other request through the axum router.
//!
//! What the direct answer skips is what each request would otherwise pay
//! for the router (about ten allocations: route parameters, matched path,
//! original URI and peer extensions, boxed bodies and futures) and, because
//! it answers inside `call`, the request head is released before hyper
//! polls the socket again, so hyper reuses its read buffer instead of
//! allocating a fresh one per request. The answers are the router's own:
//! both call the same functions of [`routes`](super::routes), and the tests
//! compare the two byte for byte.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse as _;
use bytes::Bytes;
use futures_util::future::{Either, MapOk, TryFutureExt as _};
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::Full;
use tower::ServiceExt as _;
use tower::util::Oneshot;

use super::AppState;
use super::routes;

/// A response body: a rendered one as it is, or the router's.
pub(crate) type ResBody = http_body_util::Either<Full<Bytes>, Body>;

/// The first path segments the router has routes under. A request under
/// one of them goes through the router, which decides; every other path is
/// the fallback's (ingress-nginx, Traefik or 404) whatever the config, so
/// the fast path may answer it.
const ROUTED: [&str; 7] = [
    "healthz", "readyz", "version", "status", "metrics", "preview", "render",
];

/// One connection's service.
#[derive(Clone)]
pub(crate) struct Dispatch {
    state: AppState,
    router: Router,
    peer: SocketAddr,
    /// Whether the router is the traffic router, whose routes the fast
    /// path stands in for.
    traffic: bool,
}

impl Dispatch {
    pub(crate) fn new(state: AppState, router: Router, peer: SocketAddr, traffic: bool) -> Self {
        Dispatch {
            state,
            router,
            peer,
            traffic,
        }
    }
}

type RouterFuture<B> = MapOk<Oneshot<Router, Request<B>>, fn(Response<Body>) -> Response<ResBody>>;

impl<B> hyper::service::Service<Request<B>> for Dispatch
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<ResBody>;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response<ResBody>, Infallible>>, RouterFuture<B>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let mut req = if self.traffic {
            match answer(&self.state, req) {
                Answer::Answered(response) => return Either::Left(ready(Ok(response))),
                Answer::Route(req) => req,
            }
        } else {
            req
        };
        // The preview's loopback rule reads the peer.
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let to_body: fn(Response<Body>) -> Response<ResBody> =
            |r| r.map(http_body_util::Either::Right);
        Either::Right(self.router.clone().oneshot(req).map_ok(to_body))
    }
}

/// What the fast path did with a request.
pub(crate) enum Answer<B> {
    /// Answered it.
    Answered(Response<ResBody>),
    /// Handed it back: the router decides.
    Route(Request<B>),
}

/// The direct answer to `req`, or the request back when the router must
/// decide. A panic is answered as the router's panic layer answers it.
pub(crate) fn answer<B>(state: &AppState, req: Request<B>) -> Answer<B> {
    if req.method() != Method::GET {
        return Answer::Route(req);
    }
    let path = req.uri().path();
    let rendered = if path == "/healthz" {
        return Answer::Answered(healthz(req.into_parts().0.headers));
    } else if let Some(code) = path.strip_prefix("/render/") {
        // `/render/{code}` is one non-empty segment; `/render/upstream` is
        // a route of its own (POST only: the router answers the rest).
        if code.is_empty() || code.contains('/') || code == "upstream" {
            return Answer::Route(req);
        }
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            routes::render_code_parts(state, req.uri(), req.headers())
        }))
    } else {
        let first = path
            .strip_prefix('/')
            .and_then(|p| p.split('/').next())
            .unwrap_or("");
        if ROUTED.contains(&first) {
            return Answer::Route(req);
        }
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            routes::fallback_parts(state, req.uri(), req.headers())
        }))
    };
    Answer::Answered(match rendered {
        // The request's header map becomes the response's: hyper hands the
        // response's back for parsing the next request, so a connection
        // allocates header maps once, not once per request.
        Ok(Ok(r)) => r.into_fast(req.into_parts().0.headers),
        Ok(Err(e)) => e.into_response().map(http_body_util::Either::Right),
        Err(panic) => super::on_panic(panic).map(http_body_util::Either::Right),
    })
}

/// `GET /healthz` as the router answers it (`ops::healthz`'s `&str`), in
/// the request's header map.
fn healthz(mut headers: http::HeaderMap) -> Response<ResBody> {
    headers.clear();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let mut response = Response::new(http_body_util::Either::Left(Full::new(Bytes::from_static(
        b"ok",
    ))));
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http_body_util::BodyExt as _;

    use super::*;
    use crate::config::Config;
    use crate::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML, RenderOptions, Renderer};
    use crate::set::{TemplateFile, TemplateSet};
    use crate::store::Store;

    fn state(options: RenderOptions) -> AppState {
        let files = [
            ("error.json", BUNDLED_ERROR_JSON),
            ("error.xml", BUNDLED_ERROR_XML),
            (
                "error_429.json",
                "{\"retry\": {{if eq .StatusCode 429}}true{{end}}}",
            ),
        ];
        let set = TemplateSet::from_files(files.iter().map(|(n, t)| TemplateFile {
            name: (*n).into(),
            text: (*t).into(),
        }))
        .unwrap();
        let store = Store::fixed(Renderer::new(Arc::new(set), options));
        AppState::new(Arc::new(store), Arc::new(Config::default()))
    }

    fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(uri);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(Body::empty()).unwrap()
    }

    async fn parts<B>(r: Response<B>) -> (u16, Vec<(String, Vec<u8>)>, Bytes)
    where
        B: hyper::body::Body,
        B::Error: std::fmt::Debug,
    {
        let (head, body) = r.into_parts();
        let headers = head
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        let body = body.collect().await.unwrap().to_bytes();
        (head.status.as_u16(), headers, body)
    }

    /// Every request the fast path answers gets the router's answer: the
    /// same status, headers in the same order, and body bytes, errors
    /// included; the rest it hands back.
    #[tokio::test]
    async fn the_fast_path_answers_as_the_router_does() {
        let answered: &[(&str, &[(&str, &str)])] = &[
            ("/healthz", &[]),
            ("/healthz", &[("x-code", "503")]),
            ("/render/403?message=Quota%20exceeded", &[]),
            ("/render/403?message=Quota+exceeded", &[]),
            ("/render/503", &[]),
            ("/render/429", &[]),
            ("/render/404?message=a+b%2B%22%3C&ignored=%zz", &[]),
            ("/render/404?message=%ff", &[]),
            ("/render/404?content_type=application/xml", &[]),
            (
                "/render/404",
                &[("content-type", "text/xml; charset=utf-8")],
            ),
            ("/render/404?id=403-quota-exceeded", &[]),
            ("/render/404?id=nope", &[]),
            ("/render/404?profile=nope", &[]),
            ("/render/abc", &[]),
            ("/render/200", &[]),
            ("/", &[("x-code", "503")]),
            ("/", &[("x-code", " 404 "), ("x-format", "application/xml")]),
            (
                "/api/x",
                &[("x-code", "503"), ("x-format", "text/html;q=0.5, */*")],
            ),
            ("/", &[("x-code", "abc")]),
            ("/", &[("x-code", "503"), ("x-format", "")]),
            ("/404", &[]),
            ("/503.xml", &[]),
            ("/503.txt", &[]),
            ("/503.html", &[]),
            ("/503.yaml", &[]),
            (
                "/",
                &[
                    ("x-code", "404"),
                    (
                        "x-format",
                        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                    ),
                ],
            ),
            ("/404", &[("accept", "text/plain")]),
            ("/render/404?format=problem", &[]),
            ("/render/404?format=yaml", &[]),
            ("/429", &[("accept", "application/xml")]),
            (
                "/404",
                &[("accept", "*/*"), ("content-type", "application/xml")],
            ),
            ("/favicon.ico", &[]),
            ("/a/404", &[]),
            ("/%68ealthz", &[]),
            ("/renderx", &[]),
        ];
        let handed_back: &[(&str, &str)] = &[
            ("HEAD", "/healthz"),
            ("POST", "/render/503"),
            ("HEAD", "/503"),
            ("GET", "/render"),
            ("GET", "/render/"),
            ("GET", "/render/503/x"),
            ("GET", "/healthz/"),
            ("GET", "/readyz"),
            ("GET", "/status"),
            ("GET", "/metrics"),
            ("GET", "/version"),
            ("GET", "/preview/"),
        ];
        let close = RenderOptions {
            hide_generator_header: true,
            close_connections: true,
            ..RenderOptions::default()
        };
        for options in [RenderOptions::default(), close] {
            let state = state(options);
            let router = crate::http::router(state.clone());
            for (uri, headers) in answered {
                let Answer::Answered(fast) = answer(&state, request("GET", uri, headers)) else {
                    panic!("{uri} is answered directly");
                };
                let slow = router
                    .clone()
                    .oneshot(request("GET", uri, headers))
                    .await
                    .unwrap();
                let (fast, mut slow) = (parts(fast).await, parts(slow).await);
                // axum writes the length the body's size hint gives, and
                // hyper does the same for a response without one, at the
                // same place (the socket test compares the bytes sent).
                let length = slow.1.iter().position(|(n, _)| n == "content-length");
                let length = slow.1.remove(length.expect("a content-length"));
                assert_eq!(length.1, slow.2.len().to_string().into_bytes());
                assert_eq!(fast, slow, "GET {uri} {headers:?}");
            }
            for (method, uri) in handed_back {
                assert!(
                    matches!(answer(&state, request(method, uri, &[])), Answer::Route(_)),
                    "{method} {uri} goes through the router"
                );
            }
        }
    }
}
