//! The preview's JSON API: the catalogue rendered by the live set, and single
//! renders (live or inline) as the `render --json` envelope.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Authorized;
use super::guard::{self, PeerInfo};
use super::inline;
use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::error::LoadError;
use crate::escape::Profile;
use crate::format::{Format, UnknownFormat};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::ops;
use crate::http::routes::{parse_code, parse_profile};
use crate::render::{ErrorRequest, RenderError, Rendered, Renderer};
use axum::http::{HeaderMap, HeaderValue, header};

/// How long a preview render may take before the request gives up on it: a
/// backstop behind the set's own limits (`RenderLimits::inline`).
const RENDER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long decoding a playground request and parsing its templates may
/// take before the request gives up: the inline limits (32 files of 64 KiB,
/// nesting 100) bound it well below this.
const PARSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The JSON of `error-render render --json` for a rendered error: `status`,
/// `headers` (an object), `body`, `template`, `outcome`, `error`, and
/// `body_b64` when the body is not UTF-8 (see [`Rendered::body_b64`]). The status
/// and headers are the ones this service would answer with, after
/// `status_rewrites` and the configured `headers`.
pub fn envelope(rendered: &Rendered, config: &Config) -> Value {
    let status = config.status_rewrites.apply(rendered.status);
    let mut headers = serde_json::Map::new();
    for (name, value) in rendered.headers.iter() {
        // Hop-by-hop: never sent by the service.
        if name != "connection" {
            headers.insert(name.to_owned(), value.into());
        }
    }
    for (name, value) in config.headers.for_status(status) {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), value.into());
    }
    let mut out = json!({
        "status": status,
        "headers": headers,
        "body": rendered.body_text(),
        "template": rendered.template,
        "outcome": rendered.outcome,
        "error": rendered.error,
    });
    if let Some(b64) = rendered.body_b64() {
        out["body_b64"] = b64.into();
    }
    out
}

/// The envelope of a set that does not load (`outcome: load`, as `render
/// --json` prints it), plus `problems` with file, line and column.
fn load_envelope(e: &LoadError) -> Value {
    let problems: Vec<Value> = e
        .problems()
        .into_iter()
        .map(
            |p| json!({ "file": p.file, "line": p.line, "column": p.column, "message": p.message }),
        )
        .collect();
    json!({
        "status": null,
        "headers": {},
        "body": null,
        "template": null,
        "outcome": "load",
        "error": e.to_string(),
        "problems": problems,
    })
}

/// `GET /preview/api/catalogue[?profile=5.14]`: every catalogue entry and
/// gateway error ID, each rendered for a JSON and an XML request by the live
/// set; the set's files; its findings, warnings and last reload error.
pub(crate) async fn catalogue(
    _: Authorized,
    State(state): State<AppState>,
    peer: PeerInfo,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    // Template text and the validator's quotes only for a visitor who may
    // read the templates (the token, or this host when there is none).
    let text = guard::may_see_text(&state, &headers, &peer);
    let Query(query) = query.map_err(bad_query)?;
    let profile = query.get("profile").map(|p| parse_profile(p)).transpose()?;
    let snap = state.store.snapshot();
    let config = Arc::clone(&state.config);
    let rendering = Arc::clone(&snap);
    let entries = tokio::task::spawn_blocking(move || {
        render_catalogue(&rendering.renderer, &config, profile)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("rendering the catalogue: {e}")))?;

    let set = snap.renderer.set();
    // Tyk's files, then error-render's `.tera` pages, so the playground can
    // edit both.
    let files: Vec<Value> = set
        .files()
        .iter()
        .chain(snap.renderer.native().files())
        .map(|f| json!({ "name": f.name, "text": text.then_some(&*f.text) }))
        .collect();
    let warnings: Vec<String> = set.warnings().iter().map(ToString::to_string).collect();
    let profile = profile.unwrap_or(snap.renderer.options().profile);
    let body = json!({
        "generation": snap.generation,
        "loaded_at": ops::rfc3339(snap.loaded_at),
        "profile": profile.as_str(),
        "templates": {
            "dir": set.dir().map(|d| d.display().to_string()),
            "files": files,
        },
        "last_reload_error": state.store.last_failure().map(|f| ops::failure_json(&f)),
        "warnings": warnings,
        "findings": ops::findings(&state, Arc::clone(&snap), text).await,
        "formats": state.config.formats.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "entries": entries,
    });
    Ok(Json(body).into_response())
}

/// One row per published entry (rendered by code and message, as a proxy
/// asks, so `override_messages` apply) and per gateway error ID (rendered by
/// ID).
fn render_catalogue(renderer: &Renderer, config: &Config, profile: Option<Profile>) -> Vec<Value> {
    let catalogue = Catalogue::builtin();
    let mut rows = Vec::new();
    for e in catalogue.entries() {
        let req = ErrorRequest {
            profile,
            ..ErrorRequest::code(e.code).message(e.message.clone())
        };
        let mut row = json!({
            "kind": "entry",
            "id": e.id,
            "code": e.code,
            "message": e.message,
            "title": e.title,
            "action": e.action,
            "default_for_code": e.default_for_code,
        });
        add_renders(&mut row, renderer, config, req);
        rows.push(row);
    }
    for o in catalogue.override_ids() {
        let entry = o.entry.as_deref().and_then(|id| catalogue.entry(id));
        let req = ErrorRequest {
            profile,
            ..ErrorRequest::id(o.id.clone())
        };
        let mut row = json!({
            "kind": "override_id",
            "id": o.id,
            "code": o.code,
            "message": o.message,
            "title": entry.map(|e| e.title.as_str()),
            "action": entry.map(|e| e.action.as_str()),
            "entry": o.entry,
        });
        add_renders(&mut row, renderer, config, req);
        rows.push(row);
    }
    rows
}

/// Adds `overridden` (what `override_messages` changed, or null), `json` and
/// `xml` (the envelopes for a JSON and an XML request, by the gateway's
/// rule), and one envelope per other enabled format (`html`, `text`,
/// `problem`) to a row.
fn add_renders(row: &mut Value, renderer: &Renderer, config: &Config, req: ErrorRequest) {
    let own: Vec<Format> = config
        .formats
        .iter()
        .copied()
        .filter(|f| !f.is_go())
        .collect();
    let (overridden, renders, others) = match renderer.resolve(&req) {
        Ok(resolved) => {
            let overridden = resolved
                .overridden_by
                .as_ref()
                .map(|by| json!({ "by": by, "code": resolved.code, "message": resolved.message }));
            let render = |ct: &str| {
                let req = ErrorRequest {
                    content_type: Some(ct.to_owned()),
                    ..req.clone()
                };
                envelope(&renderer.render_resolved(&resolved, &req), config)
            };
            let renders = (render("application/json"), render("application/xml"));
            let others: Vec<(Format, Value)> = own
                .iter()
                .map(|&f| {
                    let req = ErrorRequest {
                        format: Some(f),
                        ..req.clone()
                    };
                    (
                        f,
                        envelope(&renderer.render_resolved(&resolved, &req), config),
                    )
                })
                .collect();
            (overridden.unwrap_or(Value::Null), renders, others)
        }
        // Every built-in entry resolves; a failure here is a bug, shown in
        // the row rather than losing the whole page.
        Err(e) => {
            let failed = json!({ "outcome": "error", "error": e.to_string() });
            let others = own.iter().map(|&f| (f, failed.clone())).collect();
            (Value::Null, (failed.clone(), failed), others)
        }
    };
    if let Some(obj) = row.as_object_mut() {
        obj.insert("overridden".into(), overridden);
        obj.insert("json".into(), renders.0);
        obj.insert("xml".into(), renders.1);
        for (f, env) in others {
            obj.insert(f.name().into(), env);
        }
    }
}

/// `GET /preview/render`'s parameters.
#[derive(Debug, Deserialize)]
pub(crate) struct RenderQuery {
    code: Option<String>,
    message: Option<String>,
    id: Option<String>,
    content_type: Option<String>,
    profile: Option<String>,
    format: Option<String>,
    /// `/preview/frame` only: a playground page's id.
    inline: Option<String>,
}

/// `GET /preview/render?code=&message=&id=&content_type=&profile=&format=`:
/// the envelope of a render by the live set.
pub(crate) async fn render_get(
    _: Authorized,
    State(state): State<AppState>,
    query: Result<Query<RenderQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let code = q.code.as_deref().map(parse_code).transpose()?;
    let req = ask(
        &state,
        code,
        q.message,
        q.id,
        q.content_type,
        q.profile,
        q.format,
    )?;
    let renderer = state.store.snapshot().renderer.clone();
    render(&state, renderer, req).await
}

/// The Content-Security-Policy of `/preview/frame`: the page's own inline
/// styles and data images, nothing else (no script, no request out, no
/// form, no base), sandboxed even when opened on its own, and framed by the
/// preview only.
pub const FRAME_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox";

/// `GET /preview/frame?code=&message=&id=&profile=`: the HTML page the live
/// set renders for the error, as a document of its own for the preview's
/// sandboxed frame (`<iframe sandbox>`), under
/// [`FRAME_CONTENT_SECURITY_POLICY`]. Answered `200`: the rendered status is
/// in the catalogue's envelope; a frame shows the page either way. With
/// `inline=ID` instead, the playground's page of that id (see
/// `POST /preview/render`'s `frame`), while it is kept.
pub(crate) async fn frame(
    _: Authorized,
    State(state): State<AppState>,
    query: Result<Query<RenderQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    if let Some(id) = q.inline {
        let body = state
            .preview
            .frames
            .get(&id)
            .ok_or_else(|| ApiError::BadParameter {
                name: "inline",
                message: format!(
                    "no playground page {:?}: only the last {} are kept, for {} s; render it again",
                    id.chars().take(40).collect::<String>(),
                    super::frames::KEPT,
                    super::frames::KEPT_FOR.as_secs()
                ),
            })?;
        return Ok(frame_response(body));
    }
    let code = q.code.as_deref().map(parse_code).transpose()?;
    let mut req = ask(&state, code, q.message, q.id, None, q.profile, None)?;
    req.format = Some(enabled_format(&state, "html")?);
    let renderer = state.store.snapshot().renderer.clone();
    let rendered = run_limited(&state, RENDER_TIMEOUT, move || renderer.render(&req))
        .await?
        .map_err(render_error)?;
    Ok(frame_response(rendered.body))
}

/// An HTML page alone, under the frame's own policy, framed by the preview
/// only.
fn frame_response(body: bytes::Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FRAME_CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    response
}

/// `POST /preview/render`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InlineBody {
    /// File name → text; without it, the live set.
    templates: Option<BTreeMap<String, String>>,
    code: Option<u64>,
    message: Option<String>,
    id: Option<String>,
    content_type: Option<String>,
    profile: Option<String>,
    /// `json`, `xml`, `html`, `text` or `problem`; without it, the
    /// gateway's rule on `content_type`.
    format: Option<String>,
}

/// `POST /preview/render` with `{"templates": {...}, "code", "message"?,
/// "id"?, "content_type"?, "profile"?, "format"?}`: the envelope of a
/// render by the inline templates (with the live set's options and
/// overrides). Templates that do not parse give `outcome: load` and their
/// `problems`. An HTML page rendered from inline templates is kept for the
/// playground's sandboxed frame, and `frame` is its URL.
pub(crate) async fn render_post(
    _: Authorized,
    State(state): State<AppState>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = crate::http::read_body(&state, body, inline::MAX_BODY_BYTES).await?;
    let live = state.store.snapshot().renderer.clone();
    let checks = state.clone();
    // Decoding megabytes of JSON and parsing hostile templates is CPU work
    // like rendering: on a blocking thread, one at a time with the renders.
    let prepared = run_limited(
        &state,
        PARSE_TIMEOUT,
        move || -> Result<Prepared, ApiError> {
            let text =
                std::str::from_utf8(&bytes).map_err(|_| ApiError::InvalidUtf8("the body"))?;
            let body: InlineBody = serde_json::from_str(text)
                .map_err(|e| ApiError::MalformedJson(crate::http::error::json_problem(&e)))?;
            let code = body.code.map(|c| parse_code(&c.to_string())).transpose()?;
            let req = ask(
                &checks,
                code,
                body.message,
                body.id,
                body.content_type,
                body.profile,
                body.format,
            )?;
            Ok(match body.templates {
                None => Prepared::Render(Box::new(live), req, false),
                Some(templates) => match inline::load(templates)? {
                    Ok((set, native)) => Prepared::Render(
                        Box::new(
                            Renderer::new(Arc::new(set), live.options().clone())
                                .with_native(Arc::new(native)),
                        ),
                        req,
                        true,
                    ),
                    Err(e) => Prepared::LoadFailed(load_envelope(&e)),
                },
            })
        },
    )
    .await??;
    let (renderer, req, inline) = match prepared {
        Prepared::Render(renderer, req, inline) => (*renderer, req, inline),
        Prepared::LoadFailed(envelope) => return Ok(Json(envelope).into_response()),
    };
    let html = inline && req.format == Some(Format::Html);
    let rendered = run_limited(&state, RENDER_TIMEOUT, move || renderer.render(&req))
        .await?
        .map_err(render_error)?;
    let mut out = envelope(&rendered, &state.config);
    if html && rendered.error.is_none() {
        // The live set's pages have a URL of their own; an inline page is
        // kept so the frame can load it under the frame's policy.
        let id = state
            .preview
            .frames
            .put(rendered.body.clone())
            .map_err(|e| ApiError::Internal(format!("a playground page id: {e}")))?;
        out["frame"] = format!("/preview/frame?inline={id}").into();
    }
    Ok(Json(out).into_response())
}

/// A playground request, decoded and its templates loaded.
enum Prepared {
    /// Boxed: a renderer is large beside a load failure's JSON. The flag:
    /// the templates are inline (not the live set).
    Render(Box<Renderer>, ErrorRequest, bool),
    LoadFailed(Value),
}

/// Runs `work` on a blocking thread under the preview's render permit, and
/// answers within `timeout`.
pub(super) async fn run_limited<T: Send + 'static>(
    state: &AppState,
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = Arc::clone(&state.preview.inline_renders)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(format!("preview render queue: {e}")))?;
    // The permit goes with the work: a blocking thread cannot be stopped,
    // so a request that gives up must not let the next one run beside it.
    let task = tokio::task::spawn_blocking(move || {
        let done = work();
        drop(permit);
        done
    });
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(ApiError::Internal(format!("preview render: {e}"))),
        // The inline limits stop work long before this: reaching it is a
        // fault, logged as such.
        Err(_) => Err(ApiError::Internal(format!(
            "preview work did not finish within {} s despite the inline limits",
            timeout.as_secs()
        ))),
    }
}

/// An [`ErrorRequest`] from the parameters, checked as `/render` checks them.
fn ask(
    state: &AppState,
    code: Option<u16>,
    message: Option<String>,
    id: Option<String>,
    content_type: Option<String>,
    profile: Option<String>,
    format: Option<String>,
) -> Result<ErrorRequest, ApiError> {
    let format = format
        .as_deref()
        .map(|f| enabled_format(state, f))
        .transpose()?;
    if code.is_none() && id.is_none() {
        return Err(ApiError::NoCode);
    }
    let max = state.config.limits.max_message_bytes;
    if let Some(m) = &message
        && m.len() > max
    {
        return Err(ApiError::MessageTooLong { len: m.len(), max });
    }
    // Request-context fields exist (empty) when enabled, as for a request
    // without the proxy's headers.
    let fields = if state.config.request_context {
        crate::http::routes::CONTEXT
            .iter()
            .map(|(field, _)| ((*field).to_owned(), String::new()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ErrorRequest {
        code,
        message,
        id,
        content_type,
        profile: profile.as_deref().map(parse_profile).transpose()?,
        fields,
        format,
    })
}

/// A `format` parameter: one of the five names, and enabled by the
/// `formats` setting, as `/render` requires.
pub(super) fn enabled_format(state: &AppState, name: &str) -> Result<Format, ApiError> {
    let bad = |message: String| ApiError::BadParameter {
        name: "format",
        message,
    };
    let format: Format = name
        .parse()
        .map_err(|e: UnknownFormat| bad(e.to_string()))?;
    if !state.config.formats.contains(&format) {
        let enabled: Vec<&str> = state.config.formats.iter().map(|f| f.name()).collect();
        return Err(bad(format!(
            "format {format} is not enabled (setting formats): use {}",
            enabled.join(", ")
        )));
    }
    Ok(format)
}

/// Renders on a blocking thread, one preview render at a time, and answers
/// with the envelope.
async fn render(
    state: &AppState,
    renderer: Renderer,
    req: ErrorRequest,
) -> Result<Response, ApiError> {
    let rendered = run_limited(state, RENDER_TIMEOUT, move || renderer.render(&req))
        .await?
        .map_err(render_error)?;
    Ok(Json(envelope(&rendered, &state.config)).into_response())
}

fn render_error(e: RenderError) -> ApiError {
    match e {
        RenderError::UnknownId { id } => ApiError::UnknownId(id.chars().take(32).collect()),
        RenderError::InvalidCode(c) => ApiError::CodeOutOfRange(c.to_string()),
        _ => ApiError::NoCode,
    }
}

pub(super) fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::BadParameter {
        name: "query",
        message: e.body_text(),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::render::Outcome;

    fn rendered(body: &'static [u8]) -> Rendered {
        Rendered {
            status: 500,
            headers: [("content-type", "application/json")].into_iter().collect(),
            body: Bytes::from_static(body),
            template: Some("error.json".into()),
            outcome: Outcome::Ok,
            error: None,
            cached: false,
        }
    }

    /// A body that is not UTF-8 is printed as Go's encoding/json prints it
    /// (one U+FFFD per invalid byte), with its exact bytes beside it; a
    /// text body's envelope is unchanged, with no `body_b64`.
    #[test]
    fn a_body_that_is_not_utf8_gets_go_text_and_base64() {
        let config = Config::default();
        let v = envelope(&rendered(b"doesn\xe2\x80"), &config);
        assert_eq!(v["body"], "doesn\u{fffd}\u{fffd}");
        assert_eq!(v["body_b64"], "ZG9lc27igA==");
        let v = envelope(&rendered(b"{\"e\": 1}"), &config);
        assert_eq!(v["body"], "{\"e\": 1}");
        assert!(v.get("body_b64").is_none(), "{v}");
        assert_eq!(v["headers"]["content-type"], "application/json");
    }
}
