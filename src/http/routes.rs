//! The rendering routes: `/render/{code}`, `POST /render`, ingress-nginx's
//! custom default backend (`X-Code` on any path) and Traefik's `errors`
//! middleware (`/{status}[.json|.xml]`).
//!
//! Each answers with the error response itself: status, headers and body.
//! They take any method, because nginx's `error_page` keeps the client's
//! method and body, and ignore request bodies except `POST /render`'s JSON.

use std::borrow::Cow;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::Full;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::negotiate::{Format, is_indifferent, negotiate};
use super::rules::{Decision, RuleAsk};
use crate::escape::Profile;
use crate::render::{ErrorRequest, HeaderLines, RenderError};
use crate::store::Snapshot;

// Header names as values, not strings: a lookup by `&str` parses and
// classifies the name on every request first.
/// The header ingress-nginx (and Traefik's nginx mode) sends the code in.
const X_CODE: HeaderName = HeaderName::from_static("x-code");
/// ingress-nginx's copy of the client's `Accept`.
const X_FORMAT: HeaderName = HeaderName::from_static("x-format");
/// The original request's content type, as proxies forward it.
const X_ORIGINAL_CONTENT_TYPE: HeaderName = HeaderName::from_static("x-original-content-type");

/// `/render/{code}`, any method: the code from the path, the rest from the
/// query.
pub async fn render_code(State(state): State<AppState>, req: Request) -> Response {
    into_axum(render_code_parts(&state, req.uri(), req.headers()))
}

/// [`render_code`] without the router: the connection's fast path answers
/// with it too, so both give the same bytes.
pub(crate) fn render_code_parts(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Answer, ApiError> {
    let raw = uri
        .path()
        .strip_prefix("/render/")
        .ok_or(ApiError::NotFound)?;
    let (mut ask, rules) = query_ask(uri.query())?;
    ask.code = Some(parse_code(raw)?);
    ask.content_type = render_content_type(ask.content_type, headers);
    finish(
        state,
        &state.store.current(),
        ask,
        &rules,
        headers,
        "render",
    )
}

/// A route's answer, ready to become a response: the templates' render or
/// an Error Overrides rule's response, as one [`Rendered`](crate::Rendered)
/// shape. The body is a shared `Bytes` (a cached body goes out without a
/// copy or a box), and the headers are written into a header map the
/// caller gives, so the fast path can reuse the request's map and allocate
/// none.
#[derive(Debug)]
pub(crate) struct Answer {
    status: StatusCode,
    body: Bytes,
    /// The header lines, in order, repeats kept.
    lines: HeaderLines,
    /// The config's headers for this status (usually none; never for a
    /// rule's response, which goes out whole).
    extra: Vec<(HeaderName, HeaderValue)>,
}

impl Answer {
    /// The response for the fast path, with its headers written into
    /// `headers` (emptied first).
    pub(crate) fn into_fast(self, mut headers: HeaderMap) -> http::Response<super::fast::ResBody> {
        headers.clear();
        super::response::put_headers(&mut headers, &self.lines, self.extra);
        let mut response = http::Response::new(http_body_util::Either::Left(Full::new(self.body)));
        *response.status_mut() = self.status;
        *response.headers_mut() = headers;
        response
    }

    /// The response as axum sends it.
    fn into_axum(self) -> Response {
        self.into_fast(HeaderMap::new()).map(Body::new)
    }
}

/// A rendered response or the service's own error, as axum sends it.
fn into_axum(result: Result<Answer, ApiError>) -> Response {
    match result {
        Ok(r) => r.into_axum(),
        Err(e) => e.into_response(),
    }
}

/// `/render`: `POST` takes a JSON body; other methods take the query
/// (`?code=...`).
pub async fn render_root(State(state): State<AppState>, req: Request) -> Response {
    let route = "render";
    let result = async {
        let (parts, body) = req.into_parts();
        let (mut ask, rules) = if parts.method == Method::POST {
            json_ask(&state, body).await?
        } else {
            let (ask, rules) = query_ask(parts.uri.query())?;
            if ask.code.is_none() && ask.id.is_none() {
                return Err(ApiError::NoCode);
            }
            (ask, rules)
        };
        ask.content_type = render_content_type(ask.content_type, &parts.headers);
        finish(
            &state,
            &state.store.current(),
            ask,
            &rules,
            &parts.headers,
            route,
        )
    }
    .await;
    into_axum(result)
}

/// Every other path: ingress-nginx when `X-Code` is present, else Traefik's
/// `/{status}[.ext]`, else the service's own 404.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    into_axum(fallback_parts(&state, req.uri(), req.headers()))
}

/// [`fallback`] without the router, for the connection's fast path.
pub(crate) fn fallback_parts(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Answer, ApiError> {
    if let Some(code) = headers.get(&X_CODE) {
        ingress_nginx(state, code, headers)
    } else if let Some((status, ext)) = traefik_path(uri.path()) {
        traefik(state, status, ext, headers)
    } else {
        Err(ApiError::NotFound)
    }
}

fn ingress_nginx(
    state: &AppState,
    code: &HeaderValue,
    headers: &HeaderMap,
) -> Result<Answer, ApiError> {
    let code = std::str::from_utf8(code.as_bytes())
        .map_err(|_| ApiError::InvalidUtf8("the X-Code header"))?;
    let code = parse_code(code.trim())?;
    // One snapshot decides the format and renders, so a reload between the
    // two cannot pair one set's formats with another's templates.
    let snap = state.store.current();
    // X-Format is the client's Accept, verbatim.
    let format = match header_str(headers, &X_FORMAT) {
        Some(accept) if !accept.trim().is_empty() => negotiate(accept, available(&snap, code)),
        _ => Format::Json,
    };
    let ask = ErrorRequest {
        code: Some(code),
        format: Some(format),
        ..ErrorRequest::default()
    };
    finish(
        state,
        &snap,
        ask,
        &RuleAsk::default(),
        headers,
        "ingress-nginx",
    )
}

fn traefik(
    state: &AppState,
    status: &str,
    ext: Option<&str>,
    headers: &HeaderMap,
) -> Result<Answer, ApiError> {
    let code = parse_code(status)?;
    let snap = state.store.current();
    let format = match ext {
        Some(ext) => Format::from_ext(ext).ok_or_else(|| ApiError::BadParameter {
            name: "extension",
            message: format!("unknown extension {ext:?}: use .json or .xml"),
        })?,
        None => {
            // The forwarded Accept, then (when Accept is absent or only
            // `*/*`, as curl sends) the original Content-Type, both
            // negotiated over what the set can render.
            let wish = header_str(headers, &header::ACCEPT)
                .filter(|a| !is_indifferent(a))
                .or_else(|| header_str(headers, &header::CONTENT_TYPE));
            match wish {
                Some(w) => negotiate(w, available(&snap, code)),
                None => Format::Json,
            }
        }
    };
    let ask = ErrorRequest {
        code: Some(code),
        format: Some(format),
        ..ErrorRequest::default()
    };
    finish(state, &snap, ask, &RuleAsk::default(), headers, "traefik")
}

/// `/{status}` or `/{status}.{ext}`: a path of one segment starting with a
/// digit. Anything else is not Traefik's.
fn traefik_path(path: &str) -> Option<(&str, Option<&str>)> {
    let segment = path.strip_prefix('/')?;
    if segment.is_empty()
        || segment.contains('/')
        || !segment.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    Some(match segment.split_once('.') {
        Some((status, ext)) => (status, Some(ext)),
        None => (segment, None),
    })
}

/// The formats the live set has templates for, for this code: JSON always
/// (the gateway's last resort is `error.json`), XML when `error_<code>.xml`
/// or `error.xml` exists.
fn available(snap: &Snapshot, code: u16) -> &'static [Format] {
    if snap.renderer.has_xml(code) {
        &[Format::Json, Format::Xml]
    } else {
        &[Format::Json]
    }
}

/// The content type for `/render`: the parameter, else
/// `X-Original-Content-Type`, else the request's own `Content-Type`.
fn render_content_type(param: Option<String>, headers: &HeaderMap) -> Option<String> {
    param
        .or_else(|| header_str(headers, &X_ORIGINAL_CONTENT_TYPE).map(str::to_owned))
        .or_else(|| header_str(headers, &header::CONTENT_TYPE).map(str::to_owned))
}

/// A status code from text: digits only, and an error status. Shared by
/// every route that takes one (the preview's included).
pub(crate) fn parse_code(raw: &str) -> Result<u16, ApiError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::CodeNotANumber(truncate(raw)));
    }
    match raw.parse::<u16>() {
        Ok(code @ 400..=599) => Ok(code),
        _ => Err(ApiError::CodeOutOfRange(truncate(raw))),
    }
}

/// Keeps echoed input short.
fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// `/render`'s parameters from a query string. Only the values kept are
/// copied: a request pays one allocation for its message, none for names.
fn query_ask(query: Option<&str>) -> Result<(ErrorRequest, RuleAsk), ApiError> {
    let mut ask = ErrorRequest::default();
    let mut rules = RuleAsk::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // Every pair is decoded, used or not: a query with invalid UTF-8
        // anywhere is refused, whatever it names.
        let (name, value) = (percent_decode(name)?, percent_decode(value)?);
        match &*name {
            "code" => ask.code = Some(parse_code(&value)?),
            "message" => ask.message = Some(value.into_owned()),
            "id" => ask.id = Some(value.into_owned()),
            "content_type" => ask.content_type = Some(value.into_owned()),
            "profile" => ask.profile = Some(parse_profile(&value)?),
            "api" => rules.api = Some(value.into_owned()),
            "flag" => rules.flag = Some(value.into_owned()),
            // Proxies add their own parameters (Traefik's `{url}`): ignore.
            _ => {}
        }
    }
    Ok((ask, rules))
}

/// An escaping profile (`5.15`, `5.14`) from a parameter.
pub(crate) fn parse_profile(value: &str) -> Result<Profile, ApiError> {
    value.parse().map_err(|message| ApiError::BadParameter {
        name: "profile",
        message,
    })
}

/// `application/x-www-form-urlencoded` pairs, refusing invalid UTF-8 after
/// decoding (a lossy decode would render a message the caller never sent).
#[cfg(test)]
fn parse_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((
                percent_decode(k)?.into_owned(),
                percent_decode(v)?.into_owned(),
            ))
        })
        .collect()
}

/// One decoded name or value, borrowed when it has nothing to decode, else
/// decoded into one allocation of the longest it can be.
fn percent_decode(s: &str) -> Result<Cow<'_, str>, ApiError> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len());
    // A stray `%` stays as written, as browsers do (and percent-encoding).
    if s.contains('+') {
        // `+` is a space, and a decoded `%2B` is a plus: replace first.
        out.extend(percent_encoding::percent_decode_str(&s.replace('+', " ")));
    } else {
        out.extend(percent_encoding::percent_decode_str(s));
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| ApiError::InvalidUtf8("the query string"))
}

/// `POST /render`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    code: Option<u64>,
    message: Option<String>,
    id: Option<String>,
    content_type: Option<String>,
    profile: Option<String>,
    api: Option<String>,
    flag: Option<String>,
    template_data: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

async fn json_ask(state: &AppState, body: Body) -> Result<(ErrorRequest, RuleAsk), ApiError> {
    let bytes = super::read_body(state, body, state.config.limits.max_body_bytes).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::InvalidUtf8("the body"))?;
    let body: RenderBody = serde_json::from_str(text)
        .map_err(|e| ApiError::MalformedJson(crate::http::error::json_problem(&e)))?;
    let code = match body.code {
        Some(c) => Some(parse_code(&c.to_string())?),
        None => None,
    };
    if code.is_none() && body.id.is_none() {
        return Err(ApiError::NoCode);
    }
    let rules = RuleAsk {
        api: body.api,
        flag: body.flag,
        template_data: body.template_data.unwrap_or_default(),
    };
    let ask = ErrorRequest {
        code,
        id: body.id,
        message: body.message,
        content_type: body.content_type,
        profile: body.profile.as_deref().map(parse_profile).transpose()?,
        ..ErrorRequest::default()
    };
    Ok((ask, rules))
}

/// The request-context fields and the headers they come from. Authorization
/// and Cookie are never among them.
pub(crate) const CONTEXT: [(&str, &[&str]); 6] = [
    ("RequestID", &["x-request-id"]),
    ("OriginalURI", &["x-original-uri"]),
    // Traefik's nginx mode spells it X-Namespaces.
    ("Namespace", &["x-namespace", "x-namespaces"]),
    ("IngressName", &["x-ingress-name"]),
    ("ServiceName", &["x-service-name"]),
    ("ServicePort", &["x-service-port"]),
];

/// Limits, context, render, then the response with rewrites and extra
/// headers.
fn finish(
    state: &AppState,
    snap: &Snapshot,
    mut req: ErrorRequest,
    rules: &RuleAsk,
    headers: &HeaderMap,
    route: &'static str,
) -> Result<Answer, ApiError> {
    let config = &state.config;
    if let Some(m) = &req.message
        && m.len() > config.limits.max_message_bytes
    {
        return Err(ApiError::MessageTooLong {
            len: m.len(),
            max: config.limits.max_message_bytes,
        });
    }
    if config.request_context {
        // Every field is always present (empty when its header is), so a
        // template using one never fails on a request without it.
        req.fields = CONTEXT
            .iter()
            .map(|(field, names)| {
                let value = names
                    .iter()
                    .find_map(|n| header_str(headers, *n))
                    .unwrap_or("");
                ((*field).to_owned(), value.to_owned())
            })
            .collect();
    }

    let no_response = match super::rules::gateway_error(state, snap, &req, rules, route)? {
        Decision::Answered(rule) => {
            return Ok(Answer {
                status: StatusCode::from_u16(rule.status).map_err(|_| {
                    ApiError::Internal(format!("status {} from a rule", rule.status))
                })?,
                body: rule.body,
                lines: rule.headers,
                extra: Vec::new(),
            });
        }
        Decision::Legacy => false,
        Decision::NoResponse => true,
    };

    let started = Instant::now();
    let rendered = snap.renderer.render(&req).map_err(|e| match e {
        RenderError::UnknownId { id } => ApiError::UnknownId(truncate(&id)),
        RenderError::NoError => ApiError::NoCode,
        RenderError::InvalidCode(c) => ApiError::CodeOutOfRange(c.to_string()),
    })?;
    let took = started.elapsed();

    let status = config.status_rewrites.apply(rendered.status);
    // Where a rule makes the gateway drop the connection, the service
    // answers the legacy render, counted apart.
    let outcome = if no_response {
        "no_response"
    } else {
        rendered.outcome.as_str()
    };
    state.metrics.record_render(status, outcome, took);
    if let Some(error) = &rendered.error {
        tracing::warn!(
            route,
            status,
            outcome = %rendered.outcome,
            template = rendered.template.as_deref().unwrap_or(""),
            error = %error,
            "rendered with the bundled default"
        );
    } else {
        tracing::debug!(
            route,
            status,
            template = rendered.template.as_deref().unwrap_or(""),
            cached = rendered.cached,
            "rendered"
        );
    }

    let status = StatusCode::from_u16(status)
        .map_err(|_| ApiError::Internal(format!("status {status} from the renderer")))?;
    Ok(Answer {
        status,
        body: rendered.body,
        lines: rendered.headers,
        extra: config.headers.for_status(status.as_u16()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_digits_in_400_599() {
        assert_eq!(parse_code("404"), Ok(404));
        assert_eq!(parse_code("599"), Ok(599));
        assert!(matches!(
            parse_code("abc"),
            Err(ApiError::CodeNotANumber(_))
        ));
        assert!(matches!(
            parse_code("+404"),
            Err(ApiError::CodeNotANumber(_))
        ));
        assert!(matches!(parse_code(""), Err(ApiError::CodeNotANumber(_))));
        assert!(matches!(
            parse_code("200"),
            Err(ApiError::CodeOutOfRange(_))
        ));
        assert!(matches!(
            parse_code("99999999999999"),
            Err(ApiError::CodeOutOfRange(_))
        ));
    }

    #[test]
    fn query_decoding_refuses_invalid_utf8() {
        let q = parse_query("message=a+b%21&x=%zz&id").unwrap();
        assert_eq!(
            q,
            vec![
                ("message".into(), "a b!".into()),
                ("x".into(), "%zz".into()),
                ("id".into(), String::new())
            ]
        );
        assert_eq!(
            parse_query("message=%ff"),
            Err(ApiError::InvalidUtf8("the query string"))
        );
    }

    #[test]
    fn traefik_paths() {
        assert_eq!(traefik_path("/404"), Some(("404", None)));
        assert_eq!(traefik_path("/503.xml"), Some(("503", Some("xml"))));
        assert_eq!(traefik_path("/"), None);
        assert_eq!(traefik_path("/a/404"), None);
        assert_eq!(traefik_path("/favicon.ico"), None);
    }
}
