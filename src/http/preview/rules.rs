//! The preview's Error Overrides view and rule tester: the live rules in
//! order (the gateway's and each API's), what a gateway with them answers
//! for every catalogue entry (which rule matched, or why none did), and
//! pasted rules tried on an error or an upstream response.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{bad_query, run_limited};
use super::auth::Authorized;
use super::guard::{self, PeerInfo};
use super::inline;
use crate::catalogue::Catalogue;
use crate::error_overrides::{
    ApiRules, CompiledRule, ErrorOverrides, GatewayError, KeySlot, Options, RuleMap,
    UpstreamResponse, flags, parse_key,
};
use crate::http::AppState;
use crate::http::error::ApiError;

/// How long listing the catalogue through the rules, or one test, may take
/// before the request gives up (a backstop: each is a few milliseconds).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The most rules one test may hold, all lists together: enough for any
/// real rule set, and a bound on compiling patterns and templates.
pub const MAX_TEST_RULES: usize = 256;

/// `GET /preview/api/rules[?api=ID]`: the live rules in order, and each
/// catalogue entry as a gateway with them answers it (for the API `api`
/// when given, else for an API without rules).
pub(crate) async fn view(
    _: Authorized,
    State(state): State<AppState>,
    peer: PeerInfo,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let text = guard::may_see_text(&state, &headers, &peer);
    let Query(query) = query.map_err(bad_query)?;
    let snap = state.store.snapshot();
    let api = query.get("api").cloned();
    let body = run_limited(&state, TIMEOUT, move || -> Result<Value, ApiError> {
        let Some(rules) = snap.renderer.error_overrides() else {
            return Ok(json!({"generation": snap.generation, "active": false}));
        };
        let api_rules = crate::http::rules::api_rules(rules, api.as_deref())?;
        let gateway: Vec<Value> = rules
            .overrides()
            .gateway_rules()
            .map(|c| c.rules().map(|r| rule_json(r, text)).collect())
            .unwrap_or_default();
        let apis: Vec<Value> = rules
            .api_ids()
            .filter_map(|id| rules.api(id))
            .map(|a| {
                let listed: Vec<Value> = a
                    .compiled()
                    .map(|c| c.rules().map(|r| rule_json(r, text)).collect())
                    .unwrap_or_default();
                json!({"id": a.id, "disabled": a.disabled(), "rules": listed})
            })
            .collect();
        let entries: Vec<Value> = Catalogue::builtin()
            .entries()
            .iter()
            .filter_map(|e| {
                let err = flags::gateway_error_for(&e.id)?;
                let response = rules.overrides().gateway_error(api_rules, &err);
                let why = response
                    .matched
                    .is_none()
                    .then(|| why_none(rules.overrides(), api_rules, &err));
                Some(json!({
                    "id": e.id,
                    "code": e.code,
                    "message": e.message,
                    "flag": err.flag,
                    "response": response,
                    "why_no_match": why,
                }))
            })
            .collect();
        Ok(json!({
            "generation": snap.generation,
            "active": rules.active(),
            "api": api,
            "warnings": rules.warnings(),
            "gateway": gateway,
            "apis": apis,
            "entries": entries,
        }))
    })
    .await??;
    Ok(Json(body).into_response())
}

/// One rule as listed: where it is, what it matches, and (for a visitor who
/// may read templates) what it answers.
fn rule_json(r: &CompiledRule, text: bool) -> Value {
    let slot = match parse_key(&r.key) {
        Some(KeySlot::Exact(_)) => "exact",
        Some(KeySlot::Class(_)) => "class",
        None => "skipped",
    };
    json!({
        "scope": r.scope,
        "key": r.key,
        "slot": slot,
        "index": r.index,
        "match": r.rule.matcher,
        "response": if text { serde_json::to_value(&r.rule.response).unwrap_or(Value::Null) } else { Value::Null },
    })
}

/// Why no rule answered a gateway error: no list has its code or class, or
/// each candidate's criteria failed (named per rule).
fn why_none(eo: &ErrorOverrides, api: Option<&ApiRules>, err: &GatewayError) -> String {
    let lists = api
        .and_then(ApiRules::compiled)
        .into_iter()
        .chain(eo.gateway_rules());
    let candidates: Vec<&Arc<CompiledRule>> = lists
        .flat_map(|l| l.rules())
        .filter(|r| match parse_key(&r.key) {
            Some(KeySlot::Exact(n)) => n == err.code,
            Some(KeySlot::Class(c)) => c == err.code / 100,
            None => false,
        })
        .collect();
    if candidates.is_empty() {
        return format!(
            "no rule for {} or {}xx: the legacy templates answer",
            err.code,
            err.code / 100
        );
    }
    let reasons: Vec<String> = candidates
        .iter()
        .map(|r| {
            let m = r.rule.matcher.clone().unwrap_or_default();
            let reason = if !m.flag.is_empty() && Some(&m.flag) != err.flag.as_ref() {
                format!(
                    "flag {:?} is not the error's ({})",
                    m.flag,
                    err.flag.as_deref().unwrap_or("none")
                )
            } else if !m.message_pattern.is_empty() {
                format!(
                    "message_pattern {:?} does not match {:?}",
                    m.message_pattern, err.message
                )
            } else {
                "its criteria do not match".to_owned()
            };
            format!("{} {:?}[{}]: {reason}", r.scope.as_str(), r.key, r.index)
        })
        .collect();
    reasons.join("; ")
}

/// `POST /preview/api/rules`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    /// The gateway's rules (`error_overrides` of a tyk.conf).
    #[serde(default)]
    rules: RuleMap,
    /// One API's rules.
    #[serde(default)]
    api_rules: RuleMap,
    /// A gateway error to answer.
    error: Option<TestError>,
    /// Or an upstream response to pass on.
    upstream: Option<TestUpstream>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestError {
    /// A catalogue entry (its code, message and flag), or:
    id: Option<String>,
    code: Option<i64>,
    message: Option<String>,
    flag: Option<String>,
    #[serde(default)]
    template_data: BTreeMap<String, Value>,
    content_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestUpstream {
    status: i64,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: String,
    content_type: Option<String>,
}

/// `POST /preview/api/rules` with `{rules, api_rules?, error | upstream}`:
/// the pasted rules compiled against the live templates and applied, with
/// the compile warnings and, when no rule matched, why. On a blocking
/// thread, one at a time with the playground's renders, under the inline
/// body limit and [`MAX_TEST_RULES`].
pub(crate) async fn test(
    _: Authorized,
    State(state): State<AppState>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = crate::http::read_body(&state, body, inline::MAX_BODY_BYTES).await?;
    let snap = state.store.snapshot();
    let body = run_limited(&state, TIMEOUT, move || -> Result<Value, ApiError> {
        let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::InvalidUtf8("the body"))?;
        let t: TestBody = serde_json::from_str(text)
            .map_err(|e| ApiError::MalformedJson(crate::http::error::json_problem(&e)))?;
        let count: usize = t
            .rules
            .values()
            .chain(t.api_rules.values())
            .map(Vec::len)
            .sum();
        if count > MAX_TEST_RULES {
            return Err(ApiError::BadParameter {
                name: "rules",
                message: format!("{count} rules: at most {MAX_TEST_RULES} may be tested at once"),
            });
        }
        let options = snap
            .renderer
            .error_overrides()
            .map(|r| r.overrides().options())
            .unwrap_or(Options {
                profile: snap.renderer.options().profile,
                hide_generator_header: snap.renderer.options().hide_generator_header,
                close_connections: snap.renderer.options().close_connections,
            });
        let eo = ErrorOverrides::new(Arc::clone(snap.renderer.set()), &t.rules, options);
        let api = ApiRules::new("tested", &t.api_rules, false);
        let warnings: Vec<String> = eo
            .warnings()
            .iter()
            .chain(api.warnings())
            .map(ToString::to_string)
            .collect();
        let api = (!t.api_rules.is_empty()).then_some(&api);
        let (response, why) = match (t.error, t.upstream) {
            (Some(e), None) => {
                let mut err = match &e.id {
                    Some(id) => flags::gateway_error_for(id)
                        .ok_or_else(|| ApiError::UnknownId(id.chars().take(64).collect()))?,
                    None => GatewayError {
                        code: e.code.ok_or(ApiError::NoCode)?,
                        message: e.message.clone().unwrap_or_default(),
                        ..GatewayError::default()
                    },
                };
                if let Some(m) = e.message {
                    err.message = m;
                }
                if e.flag.is_some() {
                    err.flag = e.flag;
                }
                err.template_data = e.template_data;
                err.content_type = e.content_type;
                let response = eo.gateway_error(api, &err);
                let why = response.matched.is_none().then(|| why_none(&eo, api, &err));
                (response, why)
            }
            (None, Some(u)) => {
                let res = UpstreamResponse {
                    status: u.status,
                    headers: u.headers,
                    body: u.body.into_bytes(),
                    request_content_type: u.content_type,
                };
                let response = eo.upstream(api, &res);
                let why = response.matched.is_none().then(|| {
                    format!(
                        "no rule answered ({}): below 400 nothing is processed; else no rule for \
                         the status matched its criteria",
                        response.route.as_str()
                    )
                });
                (response, why)
            }
            _ => {
                return Err(ApiError::BadParameter {
                    name: "error",
                    message: "give either `error` or `upstream`".into(),
                });
            }
        };
        Ok(json!({"response": response, "why_no_match": why, "warnings": warnings}))
    })
    .await??;
    Ok(Json(body).into_response())
}
