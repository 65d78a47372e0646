//! The page's files, compiled into the binary: nothing is fetched from
//! elsewhere.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;

/// The page (catalogue and playground).
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// The sign-in form, with `<!--PROBLEM-->` where a fixed message may go.
pub const SIGNIN_HTML: &str = include_str!("assets/signin.html");
/// The page's script.
pub const APP_JS: &str = include_str!("assets/app.js");
/// The page's styles.
pub const STYLE_CSS: &str = include_str!("assets/style.css");

/// `GET /preview/assets/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        _ => return ApiError::NotFound.into_response(),
    };
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated on each load, so a new binary's assets are never mixed
    // with an old page.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// An HTML response.
pub(crate) fn html(status: StatusCode, body: &str) -> Response {
    let mut r = (status, body.to_owned()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}
