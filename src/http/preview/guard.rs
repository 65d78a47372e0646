//! The preview's checks against other sites: without a token it answers
//! only requests addressed to a loopback name or a configured host (so a
//! DNS-rebinding page cannot read it), and requests that change something
//! must come from the preview's own origin (so a cross-site form or
//! `text/plain` POST cannot drive it).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::error::ApiError;

/// The middleware: the `Host` rule, then the `Origin` rule.
pub(crate) async fn host_and_origin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let preview = &state.config.preview;
    if preview.token.is_none() {
        let host = request_host(&req);
        if !host.is_some_and(|h| host_allowed(&h, &preview.allowed_hosts)) {
            return ApiError::Forbidden(
                "the preview has no token, so it answers only requests addressed to \
                 localhost, 127.0.0.1 or [::1] (or a host in preview.allowed_hosts): open it \
                 through one of those, or set preview.token",
            )
            .into_response();
        }
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD)
        && is_cross_site(req.headers(), &preview.allowed_hosts)
    {
        return ApiError::Forbidden(
            "a request from another site cannot change the preview: send it from the \
             preview's own page (same Origin), or without an Origin header",
        )
        .into_response();
    }
    next.run(req).await
}

/// The host the request is addressed to: `Host`, else the authority of an
/// absolute request target. Lower case.
fn request_host(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(ToString::to_string))
        .map(|h| h.trim().to_ascii_lowercase())
}

/// `host[:port]` split; an IPv6 literal keeps its brackets.
fn split_port(host: &str) -> (&str, Option<&str>) {
    let (name, port) = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => (&host[..i], Some(&host[i + 1..])),
        _ => (host, None),
    };
    match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (name, Some(p)),
        Some(_) => (host, None),
        None => (name, None),
    }
}

/// Whether a `Host` value (lower case) is a loopback name or one of
/// `allowed` (each matching with the same port, or with any port when it
/// names none).
pub(crate) fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let (name, _) = split_port(host);
    if matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
        return true;
    }
    allowed.iter().any(|a| a == host || a == name)
}

/// Whether the request says it comes from another site: an `Origin` whose
/// host and port are neither the `Host` it was sent to nor a configured
/// host (a proxy in front may rewrite `Host`), `null` included; or
/// `Sec-Fetch-Site: cross-site`. No `Origin` (curl, scripts) is not.
pub(crate) fn is_cross_site(headers: &HeaderMap, allowed: &[String]) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if fetch_site.is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let Some((_, authority)) = origin.trim().split_once("://") else {
        // `null` (a sandboxed page, a redirect across sites) or garbage.
        return true;
    };
    let authority = authority.trim_end_matches('/').to_ascii_lowercase();
    let (name, _) = split_port(&authority);
    if allowed.iter().any(|a| *a == authority || a == name) {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    !host.is_some_and(|h| authority.eq_ignore_ascii_case(h.trim()))
}

/// Whether a request may see template and override text (the files, the
/// validator's quotes): it carries the token, or there is none and it comes
/// from this host.
pub(crate) fn may_see_text(state: &AppState, headers: &HeaderMap, req_ext: &PeerInfo) -> bool {
    if state.config.preview.token.is_some() {
        return super::auth::is_authorized(state, headers);
    }
    req_ext.0.is_some_and(|p| match p.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        ip => ip.is_loopback(),
    })
}

/// The peer's address, when the server recorded it (it always does; a
/// router driven without a socket, as in unit tests, has none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerInfo(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerInfo(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn loopback_names_and_configured_hosts() {
        let allowed = ["preview.internal".to_owned(), "ops.example:9090".to_owned()];
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
            "preview.internal:1234",
            "ops.example:9090",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "evil.example",
            "localhost.evil.example",
            "ops.example:9091",
            "127.0.0.1.evil.example:80",
            "",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }

    #[test]
    fn origins_are_compared_with_host_and_configured_hosts() {
        let cross = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            is_cross_site(&m, &["preview.example.com".to_owned()])
        };
        assert!(!cross(&[("host", "localhost:8080")]));
        assert!(!cross(&[
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080")
        ]));
        // A proxy that rewrote Host: the configured name is still its own.
        assert!(!cross(&[
            ("host", "127.0.0.1:9090"),
            ("origin", "https://preview.example.com")
        ]));
        assert!(cross(&[
            ("host", "localhost:8080"),
            ("origin", "http://evil.example")
        ]));
        assert!(cross(&[
            ("host", "localhost:8080"),
            ("origin", "http://localhost:9999")
        ]));
        assert!(cross(&[("host", "localhost:8080"), ("origin", "null")]));
        assert!(cross(&[
            ("host", "localhost:8080"),
            ("sec-fetch-site", "cross-site")
        ]));
    }
}
