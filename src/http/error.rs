//! The service's own errors: bad requests to the sidecar (not the errors it
//! renders), as one JSON shape with a header that tells them apart.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The response header on every error of the service itself, so that a
/// proxy (and a person) can tell them from rendered errors.
pub const ERROR_HEADER: &str = "x-error-render-error";

/// A request the service cannot answer with a rendered error. Renders as
/// `{"error": {"code": "...", "message": "..."}}` with `x-error-render-error: 1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The status code is not a number.
    #[error("status code {0:?} is not a number: give an HTTP error status, 400-599")]
    CodeNotANumber(String),
    /// The status code is not an error status.
    #[error("status code {0} is outside 400-599: only errors are rendered")]
    CodeOutOfRange(String),
    /// Neither a code nor an id.
    #[error("no error given: pass a status code or an id")]
    NoCode,
    /// The id is unknown.
    #[error("unknown error id {0:?}: `error-render catalogue` lists the ids")]
    UnknownId(String),
    /// A parameter has a bad value.
    #[error("parameter {name}: {message}")]
    BadParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The message exceeds `limits.max_message_bytes`.
    #[error("message is {len} bytes, more than the limit of {max}")]
    MessageTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body exceeds `limits.max_body_bytes`.
    #[error("request body is larger than the limit of {max} bytes")]
    BodyTooLarge {
        /// The limit.
        max: usize,
    },
    /// The request body did not arrive within `limits.request_timeout_ms`
    /// (a body trickling in).
    #[error(
        "the request body took longer than {0} ms to arrive (limits.request_timeout_ms): send the whole \
         request at once"
    )]
    RequestTimeout(u128),
    /// The query string or body is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// The body is not the JSON expected. The text says where and what
    /// kind of mistake, never the values sent (see [`json_problem`]).
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),
    /// The request body breaks HTTP/1.1 (a malformed chunk size, a body cut
    /// short).
    #[error("the request body is malformed (HTTP/1.1 framing): send a valid body")]
    MalformedBody,
    /// The preview refuses the request: a `Host` it does not answer to
    /// without a token (DNS rebinding), or a cross-site `Origin` on a
    /// request that changes something.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No route, and no `X-Code` header.
    #[error(
        "no such route: use /render/{{code}}, POST /render, /{{status}}[.json|.xml], \
         or send X-Code (ingress-nginx)"
    )]
    NotFound,
    /// The route does not take this method.
    #[error("method {method} is not allowed here: use {}", allow.replace(", ", " or "))]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The methods the route takes (`GET, HEAD`), as sent in `Allow`.
        allow: &'static str,
    },
    /// The preview asks for its token (`preview.token`), and the request
    /// carries neither the bearer header nor the sign-in cookie.
    #[error(
        "the preview needs its token: send `Authorization: Bearer <token>`, or sign in at /preview"
    )]
    Unauthorized,
    /// Something failed inside the service. The detail is logged, never sent.
    #[error("internal error: see the service's log")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The stable machine-readable code (`invalid_code`, `unknown_id`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::CodeNotANumber(_) | ApiError::CodeOutOfRange(_) | ApiError::NoCode => {
                "invalid_code"
            }
            ApiError::UnknownId(_) => "unknown_id",
            ApiError::BadParameter { .. } => "invalid_parameter",
            ApiError::MessageTooLong { .. } => "message_too_long",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::InvalidUtf8(_) => "invalid_utf8",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::MalformedBody => "malformed_body",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Internal(_) => "internal",
            ApiError::RequestTimeout(_) => "request_timeout",
        }
    }
}

/// What is wrong with a JSON body, without the values sent: serde's text
/// quotes them (`invalid type: string "..."`, `unknown field `...``), so
/// only the kind of mistake, its place and what the service expects (text
/// from the service's own types) are kept.
pub fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {} column {}", e.line(), e.column());
    let kind = match e.classify() {
        Category::Io => "the body could not be read",
        Category::Eof => "the body ends too early",
        Category::Syntax => "not JSON",
        Category::Data => {
            let text = e.to_string();
            let kind = [
                "unknown field",
                "missing field",
                "duplicate field",
                "invalid type",
                "invalid value",
                "invalid length",
            ]
            .into_iter()
            .find(|k| text.starts_with(k))
            .unwrap_or("unexpected value");
            // serde puts the expectation after the last `expected`; for an
            // unknown field it lists the service's own field names.
            return match text.rsplit_once("expected ") {
                Some((_, expected)) => {
                    let expected = expected.split(" at line ").next().unwrap_or("");
                    format!("{kind} at {at}, expected {expected}")
                }
                None => format!("{kind} at {at}"),
            };
        }
    };
    format!("{kind} at {at}")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(detail = %detail, "internal error answering a request");
        } else {
            // Only the kind: the message may quote what the client sent (a
            // code, an id, a parameter), and logs never carry client values.
            tracing::debug!(
                code = self.code(),
                status = status.as_u16(),
                "rejected a request"
            );
        }
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(ERROR_HEADER, HeaderValue::from_static("1"));
        // Only the service's own errors carry this: rendered errors keep to
        // the gateway's headers.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"error-render preview\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // only deserialised
    struct Body {
        code: Option<u64>,
        message: Option<String>,
    }

    fn problem(json: &str) -> String {
        json_problem(&serde_json::from_str::<Body>(json).unwrap_err())
    }

    #[test]
    fn json_problems_name_the_kind_and_place_never_the_values() {
        let p = problem(r#"{"code": "s3cr3t-value"}"#);
        assert_eq!(p, "invalid type at line 1 column 23, expected u64");
        let p = problem(r#"{"s3cr3t-field": 1}"#);
        assert!(
            p.starts_with("unknown field at line 1 column 15, expected"),
            "{p}"
        );
        assert!(p.contains("`code`") && p.contains("`message`"), "{p}");
        assert!(problem(r#"{"code": 4"#).starts_with("the body ends too early"));
        assert!(problem("s3cr3t").starts_with("not JSON"));
        // A value that mimics serde's own words stays out too.
        let p = problem(r#"{"code": "x, expected s3cr3t"}"#);
        assert_eq!(p, "invalid type at line 1 column 29, expected u64");
        for json in [r#"{"code": "s3cr3t"}"#, r#"{"s3cr3t": 1}"#, "s3cr3t"] {
            assert!(!problem(json).contains("s3cr3t"), "{json}");
        }
    }
}
