//! `POST /render/upstream`: an upstream response through the generation's
//! Error Overrides rules, answered as the gateway would pass it on.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::rules::{api_rules, to_http, warn_no_response};
use crate::error_overrides::UpstreamResponse;
use crate::render::ErrorRequest;

/// The route's name in logs.
const ROUTE: &str = "render-upstream";

/// Upstream headers: `[[name, value], ...]` in order with duplicates, or a
/// `{name: value}` object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Headers {
    Lines(Vec<(String, String)>),
    Map(BTreeMap<String, String>),
}

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamBody {
    api: Option<String>,
    status: i64,
    headers: Option<Headers>,
    body: Option<String>,
    content_type: Option<String>,
}

/// `POST /render/upstream` `{api?, status, headers?, body?, content_type?}`.
pub async fn render_upstream(State(state): State<AppState>, req: Request) -> Response {
    let result = async {
        let bytes =
            super::read_body(&state, req.into_body(), state.config.limits.max_body_bytes).await?;
        let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::InvalidUtf8("the body"))?;
        let ask: UpstreamBody = serde_json::from_str(text)
            .map_err(|e| ApiError::MalformedJson(super::error::json_problem(&e)))?;
        if !(100..=999).contains(&ask.status) {
            return Err(ApiError::BadParameter {
                name: "status",
                message: format!("{} is not an HTTP status: give 100-999", ask.status),
            });
        }
        answer(&state, ask)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn answer(state: &AppState, ask: UpstreamBody) -> Result<Response, ApiError> {
    let snap = state.store.current();
    let rules = snap
        .renderer
        .error_overrides()
        .ok_or_else(|| ApiError::Internal("the live set has no Error Overrides state".into()))?;
    let api = api_rules(rules, ask.api.as_deref())?;
    let res = UpstreamResponse {
        status: ask.status,
        headers: match ask.headers {
            None => Vec::new(),
            Some(Headers::Lines(lines)) => lines,
            Some(Headers::Map(map)) => map.into_iter().collect(),
        },
        body: ask.body.unwrap_or_default().into_bytes(),
        request_content_type: ask.content_type.clone(),
    };
    let started = Instant::now();
    let response = rules.overrides().upstream(api, &res);
    let took = started.elapsed();
    if let Some(http) = to_http(&response) {
        state
            .metrics
            .record_render(http.status().as_u16(), response.outcome.as_str(), took);
        return Ok(http);
    }
    // The gateway drops the connection; the service answers the legacy
    // render of the upstream's status instead (502 when that is no error).
    warn_no_response(rules, &response, ROUTE);
    let code = u16::try_from(ask.status)
        .ok()
        .filter(|c| (400..=599).contains(c))
        .unwrap_or(502);
    let mut req = ErrorRequest::code(code);
    req.content_type = ask.content_type;
    let started = Instant::now();
    let reply = snap
        .renderer
        .render(&req)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .metrics
        .record_render(reply.status, "no_response", started.elapsed() + took);
    let mut out = Response::new(axum::body::Body::from(reply.body));
    *out.status_mut() = axum::http::StatusCode::from_u16(reply.status)
        .map_err(|_| ApiError::Internal(format!("status {} from the renderer", reply.status)))?;
    super::response::put_headers(out.headers_mut(), &reply.headers, []);
    Ok(out)
}
