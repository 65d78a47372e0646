//! Operations routes: health, readiness, version, status and metrics.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::store::{Failure, Snapshot};

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: a template set is loaded. Start-up fails without one and a
/// failed reload keeps the last good set, so once serving this is always
/// ready.
pub async fn readyz(State(state): State<AppState>) -> &'static str {
    // Touch the store so that readiness really means "a set is live".
    let _ = state.store.snapshot().generation;
    "ready"
}

/// `GET /version`: name and version.
pub async fn version() -> Response {
    json_response(&json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// `GET /status`: the live generation, its files, the last reload error, the
/// set's load warnings and the validator's findings.
pub async fn status(State(state): State<AppState>) -> Response {
    let snap = state.store.snapshot();
    let set = snap.renderer.set();
    let counts = state.store.counts();
    let files: Vec<&str> = set.files().iter().map(|f| f.name.as_str()).collect();
    let mut warnings: Vec<String> = set.warnings().iter().map(ToString::to_string).collect();
    // Error Overrides compile warnings are load warnings too.
    if let Some(rules) = snap.renderer.error_overrides() {
        warnings.extend(rules.warnings().iter().cloned());
    }
    json_response(&json!({
        "generation": snap.generation,
        "loaded_at": rfc3339(snap.loaded_at),
        "load_duration_ms": snap.load_duration.as_secs_f64() * 1000.0,
        "templates": {
            "dir": set.dir().map(|d| d.display().to_string()),
            "files": files,
        },
        "reloads": { "ok": counts.succeeded, "failed": counts.failed },
        "last_reload_error": state.store.last_failure().map(|f| failure_json(&f)),
        "warnings": warnings,
        // Never the quotes: /status answers anyone who reaches it.
        "findings": findings_now(&state, false),
    }))
}

/// The validator's findings for the live set as JSON, or `"pending"` while
/// the store lints it in the background (after every load, off the async
/// workers): `/status` never waits for the validator. With `quotes` false,
/// each message leaves out the template, body or override text it quotes.
pub(crate) fn findings_now(state: &AppState, quotes: bool) -> serde_json::Value {
    match state.store.findings() {
        Some(f) => findings_json(&f.findings, quotes),
        None => serde_json::Value::from("pending"),
    }
}

/// Findings as JSON, with or without the text they quote.
fn findings_json(found: &[crate::validate::Finding], quotes: bool) -> serde_json::Value {
    let shown: Vec<crate::validate::Finding> = if quotes {
        found.to_vec()
    } else {
        found
            .iter()
            .map(crate::validate::Finding::without_quotes)
            .collect()
    };
    serde_json::to_value(shown).unwrap_or_else(|e| {
        tracing::error!(error = %e, "serialising findings");
        serde_json::Value::Null
    })
}

/// How long the preview waits for a new generation's findings before
/// showing them as pending.
const FINDINGS_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The findings of `snap`'s generation, waiting (asynchronously, bounded)
/// for the background lint to finish; `"pending"` if it does not in time.
/// With `quotes` false, without the text the messages quote.
pub(crate) async fn findings(
    state: &AppState,
    snap: Arc<Snapshot>,
    quotes: bool,
) -> serde_json::Value {
    let mut linted = state.store.subscribe_findings();
    let ready = async {
        while state
            .store
            .findings()
            .is_none_or(|f| f.generation < snap.generation)
        {
            if linted.changed().await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(FINDINGS_WAIT, ready).await;
    findings_now(state, quotes)
}

/// `GET /metrics`: Prometheus (OpenMetrics) text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.encode(&state.store) {
        Ok(text) => {
            let mut r = text.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(super::metrics::CONTENT_TYPE),
            );
            r
        }
        Err(e) => ApiError::Internal(format!("encoding metrics: {e}")).into_response(),
    }
}

/// The answer of an ops route to a method other than GET or HEAD.
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        allow: "GET, HEAD",
    }
}

fn json_response(value: &serde_json::Value) -> Response {
    let mut r = value.to_string().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn failure_json(f: &Failure) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = f
        .error
        .message
        .lines()
        .map(|line| {
            let (file, line_no, column, message) = split_location(line);
            json!({ "file": file, "line": line_no, "column": column, "message": message })
        })
        .collect();
    json!({
        "at": rfc3339(f.at),
        "message": f.error.message,
        "problems": problems,
    })
}

/// Splits `file:line:col: message` (the library's error lines) into parts;
/// a line without a location keeps it all as the message.
fn split_location(line: &str) -> (Option<&str>, Option<u64>, Option<u64>, &str) {
    let Some((place, message)) = line.split_once(": ") else {
        return (None, None, None, line);
    };
    let mut parts = place.rsplitn(3, ':');
    let last = parts.next();
    let mid = parts.next();
    let first = parts.next();
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<u64>().ok());
    match (first, num(mid), num(last)) {
        (Some(file), Some(l), Some(c)) => (Some(file), Some(l), Some(c), message),
        _ => match (mid, num(last)) {
            // `file:line` (with the file possibly holding a colon itself).
            (Some(_), Some(l)) => {
                let file = &place[..place.len() - last.map_or(0, str::len) - 1];
                (Some(file), Some(l), None, message)
            }
            _ => (Some(place), None, None, message),
        },
    }
}

/// A UTC timestamp in RFC 3339 (`2026-01-02T03:04:05.678Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_123);
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59.123Z");
    }

    #[test]
    fn locations_are_split() {
        assert_eq!(
            split_location("error.json:3:7: unexpected EOF"),
            (Some("error.json"), Some(3), Some(7), "unexpected EOF")
        );
        assert_eq!(
            split_location("/etc/tyk.conf:12: bad"),
            (Some("/etc/tyk.conf"), Some(12), None, "bad")
        );
        assert_eq!(
            split_location("templates: no template found"),
            (Some("templates"), None, None, "no template found")
        );
        assert_eq!(split_location("plain"), (None, None, None, "plain"));
    }
}
