//! The rendering routes: `/render/{code}`, `POST /render`, ingress-nginx's
//! custom default backend (`X-Code` on any path) and Traefik's `errors`
//! middleware (`/{status}[.json|.xml|.html|.txt]`).
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
use super::compress::{self, Coding};
use super::error::ApiError;
use super::negotiate::{Format, Offer, is_indifferent, negotiate};
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
    explicit_format(state, ask.format)?;
    ask.content_type = render_content_type(ask.content_type, headers);
    finish(
        state,
        &state.store.current(),
        ask,
        &rules,
        headers,
        Route::Render,
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
    /// The service's own, after the config's: `Vary` and
    /// `Content-Encoding` (never for a rule's response).
    service: [Option<(HeaderName, &'static str)>; 2],
}

impl Answer {
    /// The response for the fast path, with its headers written into
    /// `headers` (emptied first).
    pub(crate) fn into_fast(self, mut headers: HeaderMap) -> http::Response<super::fast::ResBody> {
        headers.clear();
        super::response::put_headers(&mut headers, &self.lines, self.extra);
        for (name, value) in self.service.into_iter().flatten() {
            // Appended: a `Vary` the config adds is kept beside it.
            headers.append(name, HeaderValue::from_static(value));
        }
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
        explicit_format(&state, ask.format)?;
        ask.content_type = render_content_type(ask.content_type, &parts.headers);
        finish(
            &state,
            &state.store.current(),
            ask,
            &rules,
            &parts.headers,
            Route::Render,
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
    let offer = offer(state, &snap, code);
    // X-Format is the client's Accept, verbatim.
    let format = match header_str(headers, &X_FORMAT) {
        Some(accept) if !accept.trim().is_empty() => negotiate(accept, offer.as_slice()),
        _ => offer.default_format(),
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
        Route::IngressNginx,
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
    let enabled = &state.config.formats;
    let (format, route) = match ext {
        Some(ext) => {
            let format = Format::from_ext(ext)
                .filter(|f| enabled.contains(f))
                .ok_or_else(|| ApiError::BadParameter {
                    name: "extension",
                    message: format!(
                        "unknown or disabled extension {ext:?}: use {}",
                        list(enabled.iter().map(|f| format!(".{}", f.ext())))
                    ),
                })?;
            (format, Route::TraefikExt)
        }
        None => {
            let offer = offer(state, &snap, code);
            // The forwarded Accept, then (when Accept is absent or only
            // `*/*`, as curl sends) the original Content-Type under the
            // gateway's rule: it says what the request carried, not what
            // its client reads, so it picks between the gateway's formats
            // only.
            let format = match header_str(headers, &header::ACCEPT).filter(|a| !is_indifferent(a)) {
                Some(accept) => negotiate(accept, offer.as_slice()),
                None => {
                    let gateway = Offer::new(offer.as_slice(), Format::is_go);
                    match header_str(headers, &header::CONTENT_TYPE) {
                        Some(ct) if !gateway.as_slice().is_empty() => {
                            negotiate(ct, gateway.as_slice())
                        }
                        _ => offer.default_format(),
                    }
                }
            };
            (format, Route::Traefik)
        }
    };
    let ask = ErrorRequest {
        code: Some(code),
        format: Some(format),
        ..ErrorRequest::default()
    };
    finish(state, &snap, ask, &RuleAsk::default(), headers, route)
}

/// Which route answers, for logs and metrics, and whether its answer was
/// negotiated on the client's `Accept` (and so must say `Vary: Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `/render` and `/render/{code}`: the gateway's rule or `format`.
    Render,
    /// ingress-nginx's `X-Code`, negotiated on `X-Format`.
    IngressNginx,
    /// Traefik's `/{status}`, negotiated on `Accept`.
    Traefik,
    /// Traefik's `/{status}.{ext}`: the extension decides.
    TraefikExt,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Render => "render",
            Route::IngressNginx => "ingress-nginx",
            Route::Traefik | Route::TraefikExt => "traefik",
        }
    }

    fn negotiated(self) -> bool {
        matches!(self, Route::IngressNginx | Route::Traefik)
    }
}

/// `a, b or c`, for messages that list the valid values.
fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Refuses a `format` that `/render` was asked for but the settings do not
/// enable, naming the ones they do.
fn explicit_format(state: &AppState, format: Option<Format>) -> Result<(), ApiError> {
    match format {
        Some(f) if !state.config.formats.contains(&f) => Err(ApiError::BadParameter {
            name: "format",
            message: format!(
                "format {f} is not enabled (setting formats): use {}",
                list(state.config.formats.iter().map(|f| f.name().to_owned()))
            ),
        }),
        _ => Ok(()),
    }
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

/// The formats on offer for this code: the enabled ones, in the settings'
/// order, less XML unless the live set has `error_<code>.xml` or
/// `error.xml` (JSON is always there: the gateway's last resort is
/// `error.json`; HTML, text and problem details have built-in defaults).
fn offer(state: &AppState, snap: &Snapshot, code: u16) -> Offer {
    Offer::new(&state.config.formats, |f| {
        f != Format::Xml || snap.renderer.has_xml(code)
    })
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
            "format" => ask.format = Some(parse_format(&value)?),
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

/// A format (`json`, `xml`, `html`, `text`, `problem`) from a parameter.
fn parse_format(value: &str) -> Result<Format, ApiError> {
    value
        .parse()
        .map_err(|e: crate::format::UnknownFormat| ApiError::BadParameter {
            name: "format",
            message: e.to_string(),
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
    format: Option<String>,
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
        format: body.format.as_deref().map(parse_format).transpose()?,
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
    route: Route,
) -> Result<Answer, ApiError> {
    let config = &state.config;
    let vary_accept = route.negotiated() && config.offers_beyond_gateway();
    let route = route.name();
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

    let (no_response, resolved, reshaped) =
        match super::rules::gateway_error(state, snap, &req, rules, route)? {
            Decision::Answered(rule) => {
                return Ok(Answer {
                    status: StatusCode::from_u16(rule.status).map_err(|_| {
                        ApiError::Internal(format!("status {} from a rule", rule.status))
                    })?,
                    body: rule.body,
                    lines: rule.headers,
                    extra: Vec::new(),
                    service: [None, None],
                });
            }
            Decision::Legacy(resolved) => (false, resolved, None),
            Decision::NoResponse(resolved) => (true, Some(resolved), None),
            Decision::Templates { request, lines } => (false, None, Some((request, lines))),
        };
    // A rule that left the body to the templates, in one of error-render's
    // own formats: its status and message, and its header lines after ours.
    let reshaped_req;
    let (req, rule_lines) = match reshaped {
        Some((request, lines)) => {
            reshaped_req = request;
            (&reshaped_req, lines)
        }
        None => (&req, Vec::new()),
    };

    let started = Instant::now();
    // Resolved once: the rules' resolution, when they made one, is the
    // render's too.
    let rendered = snap
        .renderer
        .render_with(req, resolved.as_ref())
        .map_err(|e| match e {
            RenderError::UnknownId { id } => ApiError::UnknownId(truncate(&id)),
            RenderError::NoError => ApiError::NoCode,
            RenderError::InvalidCode(c) => ApiError::CodeOutOfRange(c.to_string()),
        })?;
    let took = started.elapsed();
    let mut rendered = rendered;
    for (name, value) in rule_lines {
        rendered.headers.push(name, value);
    }

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
    // Without a format the gateway's Content-Type rule chose JSON or XML.
    let compressible = req.format.is_some_and(compress::applies_to);
    let (body, coding, vary_encoding) = encode(
        state,
        snap.generation,
        headers,
        rendered.body,
        rendered.cached,
        compressible,
    );
    let vary = match (vary_accept, vary_encoding) {
        (true, true) => Some("accept, accept-encoding"),
        (true, false) => Some("accept"),
        (false, true) => Some("accept-encoding"),
        (false, false) => None,
    };
    Ok(Answer {
        status,
        body,
        lines: rendered.headers,
        service: [
            vary.map(|v| (header::VARY, v)),
            coding.map(|c| (header::CONTENT_ENCODING, c.name())),
        ],
        extra: config.headers.for_status(status.as_u16()),
    })
}

/// The body as it goes out, its coding, and whether the choice depended on
/// `Accept-Encoding` (so the answer must say `Vary: Accept-Encoding`).
///
/// With `compression` on and a `compressible` format (never JSON or XML:
/// [`compress::applies_to`]), a body of at least `compression_min_bytes` is
/// compressed when the request accepts br or gzip (a smaller one only when
/// the request refuses identity); a cached body's compressed form is made
/// once per generation and shared, any other body's per response. A body
/// that would not shrink, or that the compressor fails on, goes out plain.
fn encode(
    state: &AppState,
    generation: u64,
    headers: &HeaderMap,
    body: Bytes,
    cached: bool,
    compressible: bool,
) -> (Bytes, Option<Coding>, bool) {
    let config = &state.config;
    if !config.compression || !compressible {
        return (body, None, false);
    }
    let large = body.len() >= config.compression_min_bytes;
    let accepted = compress::accepted(header_str(headers, header::ACCEPT_ENCODING));
    if !large && accepted.identity {
        return (body, None, false);
    }
    let Some(coding) = accepted.coding else {
        // Nothing acceptable but identity, or nothing at all: an error body
        // the client can read is better than a 406.
        return (body, None, true);
    };
    let compressed = if cached {
        state
            .compressed
            .get_or_compress(generation, &body, coding, || {
                state.metrics.record_compression(coding.name(), true);
            })
    } else {
        let c = compress::compress(&body, coding, compress::Effort::PerResponse);
        if c.is_ok() {
            state.metrics.record_compression(coding.name(), false);
        }
        c
    };
    match compressed {
        Ok(c) if c.len() < body.len() || !accepted.identity => (c, Some(coding), true),
        Ok(_) => (body, None, true),
        Err(e) => {
            tracing::warn!(error = %e, coding = coding.name(), "compressing a body failed; sent as it is");
            (body, None, true)
        }
    }
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

    /// With Error Overrides rules loaded, a request the rules left to the
    /// templates was resolved twice: once for the rules, once more by the
    /// legacy render.
    #[test]
    fn a_legacy_decision_under_rules_resolves_the_request_once() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        std::fs::write(templates.join("error.json"), "legacy {{.Message}}").unwrap();
        let conf = dir.path().join("tyk.conf");
        std::fs::write(
            &conf,
            r#"{"error_overrides": {"403": [{"match": {"flag": "AKI"}, "response": {"body": "rule"}}]}}"#,
        )
        .unwrap();
        let config = crate::config::Config::from_layer(crate::config::ConfigLayer {
            templates: Some(templates),
            tyk_conf: Some(conf),
            ..Default::default()
        })
        .unwrap();
        let state = AppState::from_config(config).unwrap();
        assert!(
            state
                .store
                .current()
                .renderer
                .error_overrides()
                .is_some_and(|r| r.active())
        );

        let resolutions = |uri: &str| {
            let uri: Uri = uri.parse().unwrap();
            let before = crate::render::RESOLUTIONS.with(std::cell::Cell::get);
            let answer = render_code_parts(&state, &uri, &HeaderMap::new()).unwrap();
            let after = crate::render::RESOLUTIONS.with(std::cell::Cell::get);
            (after - before, answer.body)
        };
        // Never cached (the message is no catalogue one), then cacheable
        // (a code alone) on its first, rendering, request.
        for (uri, body) in [
            ("/render/500?message=boom", "legacy boom"),
            ("/render/502", "legacy Bad Gateway"),
        ] {
            let (count, got) = resolutions(uri);
            assert_eq!(String::from_utf8_lossy(&got), body, "{uri}");
            assert_eq!(count, 1, "{uri} was resolved {count} times");
        }
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
