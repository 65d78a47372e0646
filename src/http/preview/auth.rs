//! The preview's optional token: `Authorization: Bearer <token>` for the API,
//! or a cookie set by a small sign-in form for the page.

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::assets;
use crate::http::AppState;
use crate::http::error::ApiError;

/// The sign-in cookie's name.
pub const COOKIE: &str = "error_render_preview";

/// The longest sign-in form accepted.
const MAX_FORM_BYTES: usize = 4096;

/// A request that may use the preview: no token is configured, or it carries
/// the token (bearer header or cookie). Rejects with `401` JSON otherwise.
pub(crate) struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if is_authorized(state, &parts.headers) {
            Ok(Authorized)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

/// Whether `headers` carry the configured token, or none is configured.
pub(crate) fn is_authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.config.preview.token else {
        return true;
    };
    let token = token.0.as_bytes();
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .any(|given| constant_time_eq(given.as_bytes(), token));
    // Every candidate is compared in full: no early exit tells an attacker
    // which header came close.
    let cookie = cookies(headers)
        .filter(|(name, _)| *name == COOKIE)
        .fold(false, |found, (_, value)| {
            constant_time_eq(value.as_bytes(), token) | found
        });
    bearer | cookie
}

/// The `name=value` pairs of every `Cookie` header.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some((name.trim(), value.trim().trim_matches('"')))
        })
}

/// Compares two byte strings in time that depends only on their lengths,
/// never on where they first differ, so the token cannot be guessed byte by
/// byte from response times.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    // Keeps the optimiser from turning the loop into an early exit.
    std::hint::black_box(diff) == 0
}

/// `GET /preview`: the page, or the sign-in form when a token is configured
/// and the request does not carry it.
pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if is_authorized(&state, &headers) {
        assets::html(StatusCode::OK, assets::INDEX_HTML)
    } else {
        signin_form(StatusCode::OK, "")
    }
}

/// `POST /preview/signin` (`application/x-www-form-urlencoded`, `token=...`):
/// with the right token, sets the cookie and sends the browser to the page;
/// else the form again, with a word on what went wrong.
pub(crate) async fn signin(State(state): State<AppState>, body: Body) -> Response {
    let Some(expected) = state.config.preview.token.as_ref() else {
        return see_other("/preview", None);
    };
    let bytes = match crate::http::read_body(&state, body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let given = form_value(&bytes, "token").unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), expected.0.as_bytes()) {
        return signin_form(
            StatusCode::UNAUTHORIZED,
            "That token is not the one configured.",
        );
    }
    // The cookie holds the token itself: HttpOnly keeps it from scripts,
    // SameSite=Strict from other sites' requests (which also stops them
    // driving the playground with it).
    let cookie = format!(
        "{COOKIE}={}; Path=/preview; HttpOnly; SameSite=Strict",
        expected.0
    );
    match HeaderValue::from_str(&cookie) {
        Ok(cookie) => see_other("/preview", Some(cookie)),
        Err(_) => signin_form(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The configured token cannot be sent in a cookie: use the bearer header.",
        ),
    }
}

/// A form field's value, percent-decoded (`+` is a space).
fn form_value(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != name {
            return None;
        }
        percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(std::borrow::Cow::into_owned)
    })
}

fn see_other(location: &'static str, cookie: Option<HeaderValue>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    if let Some(c) = cookie {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

fn signin_form(status: StatusCode, problem: &'static str) -> Response {
    // Only fixed text is spliced in, never anything from the request.
    let page = assets::SIGNIN_HTML.replace("<!--PROBLEM-->", problem);
    assets::html(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(!constant_time_eq(b"s3cret", b"s3cre"));
        assert!(!constant_time_eq(b"s3cre", b"s3cret"));
        assert!(!constant_time_eq(b"", b"x"));
        // A longer string whose extra bytes are zero is still different.
        assert!(!constant_time_eq(b"ab", b"ab\0"));
    }

    #[test]
    fn cookies_and_form_values_parse() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; error_render_preview=t%20k"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=\"2\""));
        let all: Vec<_> = cookies(&h).collect();
        assert_eq!(all, [("a", "1"), (COOKIE, "t%20k"), ("b", "2")]);
        assert_eq!(
            form_value(b"x=1&token=a+b%21", "token").as_deref(),
            Some("a b!")
        );
        assert_eq!(form_value(b"x=1", "token"), None);
    }
}
