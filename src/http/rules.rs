//! Error Overrides in the service: the render routes' `api`, `flag` and
//! `template_data`, a rule's response written to HTTP (every header line in
//! order, duplicates kept), and `no_response` turned into the legacy render
//! of the original error, since a service must answer where the gateway
//! drops the connection.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use crate::error_overrides::service::LiveRules;
use crate::error_overrides::{self, ApiRules, GatewayError, Outcome, Route, flags};
use crate::render::{ErrorRequest, Rendered, Resolved};
use crate::store::Snapshot;

/// What the render routes take for Error Overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleAsk {
    /// The API whose rules apply (its id in the API folder).
    pub api: Option<String>,
    /// The classification flag (`AKI`, `RLT` ...); any text.
    pub flag: Option<String>,
    /// The classification's template data (`InvalidParams`).
    pub template_data: BTreeMap<String, serde_json::Value>,
}

/// What applying the rules to a gateway error decided. The legacy
/// variants carry the request's resolution, made once for the rules, for
/// the legacy render to use rather than resolve again.
pub(crate) enum Decision<'a> {
    /// A rule answered: send this (boxed: a `Rendered` keeps three header
    /// lines inline).
    Answered(Box<Rendered>),
    /// No rules, or none matched: render the legacy way (`None` when the
    /// request was not resolved: no rules, or it does not resolve and the
    /// legacy render answers its error).
    Legacy(Option<Resolved<'a>>),
    /// The gateway would drop the connection: render the legacy way, and
    /// count the outcome as `no_response`.
    NoResponse(Resolved<'a>),
    /// A rule left the body to the templates (a message, or only status and
    /// headers) and the request negotiated one of error-render's own
    /// formats: render `request` (the rule's status and message, in that
    /// format) and add the rule's own header `lines`. The gateway has no
    /// such format, so there is no byte of Tyk's to keep here; JSON and XML
    /// requests keep the gateway's answer (`Answered`).
    Templates {
        request: ErrorRequest,
        lines: Vec<(String, String)>,
    },
}

/// Header lines the render writes itself: a rule's copies are dropped.
const RENDER_WRITES: [&str; 5] = [
    "content-type",
    "content-length",
    "transfer-encoding",
    "x-generator",
    "connection",
];

/// The API's rules for `ask.api`; an unknown id is the caller's mistake.
pub(crate) fn api_rules<'a>(
    rules: &'a LiveRules,
    api: Option<&str>,
) -> Result<Option<&'a ApiRules>, ApiError> {
    let Some(id) = api else {
        return Ok(None);
    };
    rules.api(id).map(Some).ok_or_else(|| {
        let known: Vec<&str> = rules.api_ids().collect();
        ApiError::BadParameter {
            name: "api",
            message: if known.is_empty() {
                format!(
                    "no API {:?}: no API definitions are loaded (set `apis`, or `app_path` in the tyk.conf)",
                    truncate(id)
                )
            } else {
                format!(
                    "no API {:?} in the API folder; the ids there are {}",
                    truncate(id),
                    known.join(", ")
                )
            },
        }
    })
}

/// Applies the generation's rules to a gateway error, as a 5.13+ gateway.
pub(crate) fn gateway_error<'a>(
    state: &AppState,
    snap: &'a Snapshot,
    req: &'a ErrorRequest,
    ask: &RuleAsk,
    route: &'static str,
) -> Result<Decision<'a>, ApiError> {
    let Some(rules) = snap.renderer.error_overrides().filter(|r| r.active()) else {
        if ask.api.is_some() {
            return Err(ApiError::BadParameter {
                name: "api",
                message: "no Error Overrides rules are loaded: give a tyk.conf with \
                          error_overrides or an API folder (`apis`)"
                    .into(),
            });
        }
        return Ok(Decision::Legacy(None));
    };
    let api = api_rules(rules, ask.api.as_deref())?;
    // Unknown ids and bad codes are answered by the legacy path's errors.
    let Ok(resolved) = snap.renderer.resolve_ref(req) else {
        return Ok(Decision::Legacy(None));
    };
    let flag = ask.flag.clone().or_else(|| {
        let id = req
            .id
            .as_deref()
            .or(resolved.entry.map(|e| e.id.as_str()))?;
        flags::flag_for(id).map(|f| f.flag.clone())
    });
    let err = GatewayError {
        code: i64::from(resolved.code),
        message: resolved.message.clone().into_owned(),
        flag,
        template_data: ask.template_data.clone(),
        preset_headers: Vec::new(),
        content_type: req.content_type.clone(),
    };
    let started = Instant::now();
    let response = rules.overrides().gateway_error(api, &err);
    let took = started.elapsed();
    if response.route == Route::Legacy && response.outcome == Outcome::Ok {
        return Ok(Decision::Legacy(Some(resolved)));
    }
    if let Some(format) = req.format.filter(|f| !f.is_go())
        && matches!(
            response.route,
            Route::MessageOnlyLegacy | Route::FallbackLegacy
        )
        && response.outcome == Outcome::Ok
        && let Ok(code) = u16::try_from(response.status)
        && (400..=599).contains(&code)
    {
        let rule_message = response
            .matched
            .as_ref()
            .and_then(|m| rules.overrides().rule(api, m))
            .map(|r| r.response.message.as_str())
            .filter(|m| !m.is_empty() && response.route == Route::MessageOnlyLegacy);
        let message = rule_message.unwrap_or(&resolved.message).to_owned();
        state
            .metrics
            .record_render(code, response.outcome.as_str(), took);
        let lines = response
            .header_lines
            .iter()
            .filter(|(name, _)| !RENDER_WRITES.iter().any(|w| name.eq_ignore_ascii_case(w)))
            .cloned()
            .collect();
        return Ok(Decision::Templates {
            request: ErrorRequest {
                code: Some(code),
                message: Some(message),
                id: None,
                content_type: req.content_type.clone(),
                format: Some(format),
                profile: req.profile,
                fields: req.fields.clone(),
            },
            lines,
        });
    }
    match response.to_rendered() {
        Some(rendered) => {
            state
                .metrics
                .record_render(rendered.status, response.outcome.as_str(), took);
            log_exec(&response, route);
            Ok(Decision::Answered(Box::new(rendered)))
        }
        None => {
            warn_no_response(rules, &response, route);
            Ok(Decision::NoResponse(resolved))
        }
    }
}

/// A rule's response as HTTP, or `None` where the gateway sends none (the
/// outcome `no_response`, or a status HTTP cannot carry as a final one).
pub(crate) fn to_http(response: &error_overrides::Response) -> Option<Response> {
    let rendered = response.to_rendered()?;
    let mut out = Response::new(Body::from(rendered.body));
    *out.status_mut() = StatusCode::from_u16(rendered.status).ok()?;
    super::response::put_headers(out.headers_mut(), &rendered.headers, []);
    Some(out)
}

fn log_exec(response: &error_overrides::Response, route: &'static str) {
    if let Some(error) = &response.error {
        tracing::warn!(
            route,
            status = response.status,
            outcome = response.outcome.as_str(),
            rule_route = response.route.as_str(),
            error = %error,
            "an Error Overrides template failed part-way"
        );
    }
}

/// Logs, once per rule and generation, that a rule makes the gateway drop
/// the connection.
pub(crate) fn warn_no_response(
    rules: &LiveRules,
    response: &error_overrides::Response,
    route: &'static str,
) {
    let why = response
        .error
        .clone()
        .unwrap_or_else(|| format!("status {} is not a final HTTP status", response.status));
    let first = response
        .matched
        .as_ref()
        .is_none_or(|m| rules.first_no_response(m));
    let rule = response
        .matched
        .as_ref()
        .map(|m| format!("{:?} {} #{}", m.scope, m.key, m.index))
        .unwrap_or_default();
    if first {
        tracing::warn!(
            route,
            rule,
            reason = %why,
            "the gateway drops the connection for this rule (no_response); answering the legacy render of the original error"
        );
    } else {
        tracing::debug!(route, rule, reason = %why, "no_response; legacy render");
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}
