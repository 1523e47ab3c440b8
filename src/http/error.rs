//! The one HTTP error type, rendered as RFC 9457 problem details.
//!
//! Every 4xx and 5xx the service sends has this shape, including the
//! framework's own rejections (bad JSON, wrong content type, oversized
//! body, unknown route), which are mapped here rather than left to axum's
//! plain-text defaults. Database errors become a logged 500 whose body says
//! nothing about the database.

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::asset::InvalidField;
use crate::store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (syntax, unknown parameter...).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid bearer token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 401: the token exists but was revoked or has expired (says which).
    #[error("{0}")]
    TokenRefused(String),
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource (or one whose existence is private).
    #[error("{0}")]
    NotFound(String),
    /// 405: the resource exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    /// 409 with extension members saying what it conflicts with (the
    /// current state, the assets without capacity...), so clients need not
    /// parse `detail`.
    #[error("{0}")]
    ConflictWith(String, serde_json::Map<String, serde_json::Value>),
    /// 412: an `If-Match` precondition failed (the resource changed).
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413: body over the limit.
    #[error("request body is too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    /// 408: the request (its body, or the whole exchange) took longer than
    /// the server allows.
    #[error("{0}")]
    RequestTimeout(String),
    /// 429: this token (or address) sent more requests than its rate; try
    /// again after this many seconds (`Retry-After`).
    #[error(
        "too many requests: at most {rate} a second with bursts of {burst}; retry after {retry_after} s"
    )]
    TooManyRequests {
        /// Seconds until a request will be accepted.
        retry_after: u64,
        /// Sustained requests a second allowed.
        rate: u32,
        /// Burst allowed.
        burst: u32,
    },
    /// 503: not ready, or over capacity for now.
    #[error("{0}")]
    Unavailable(String),
    /// Any other status, with a detail (the framework's own errors, made
    /// problem+json by [`problem_json_everywhere`]).
    #[error("{1}")]
    Status(StatusCode, String),
    /// 415: body of a type this endpoint does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid; names the offending fields.
    #[error("{}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InvalidField>),
    /// 500: our fault; logged, never detailed to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// 422 for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![InvalidField::new(field, message)])
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::TokenRefused(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::ConflictWith(..) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Status(s, _) => *s,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<InvalidField> for ApiError {
    fn from(f: InvalidField) -> Self {
        ApiError::Invalid(vec![f])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Stale { current } => ApiError::PreconditionFailed(format!(
                "the resource has changed since it was read: it is now at \"{current}\"; \
                 read it again and reapply the change"
            )),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => body_error(&e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(b) => bytes_rejection(b),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

/// A request body already read as JSON, deserialised into `T`; a mismatch
/// is a 422 naming the member by its path ([`body_error`]).
pub fn from_body<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(body).map_err(|e| body_error(&e.to_string()))
}

/// A 422 for a JSON body of the wrong shape, from the deserialiser's
/// message (`Failed to deserialize ...: properties: unknown field `x`,
/// expected ...`): an unknown member is named by its path in the body
/// (`properties.x`), so a client sees which member to drop; any other
/// mismatch is reported against `body` with the message.
pub fn body_error(message: &str) -> ApiError {
    let text = message
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(message);
    if let Some(at) = text.find("unknown field `") {
        let rest = &text[at + "unknown field `".len()..];
        if let Some(end) = rest.find('`') {
            let name = &rest[..end];
            // serde_path_to_error's path, which ends with the member itself
            // when the deserialiser has already stepped into it.
            let path = text[..at].trim_end().trim_end_matches(':');
            let field = if path.is_empty() || path == "." {
                name.to_string()
            } else if path == name || path.ends_with(&format!(".{name}")) {
                path.to_string()
            } else {
                format!("{path}.{name}")
            };
            // `, expected `a` or `b` at line 1 column 9` → "expected `a` or `b`".
            let expected = rest[end + 1..]
                .trim_start_matches(", ")
                .split(" at line ")
                .next()
                .unwrap_or_default();
            let message = if expected.is_empty() {
                "unknown field".to_string()
            } else {
                format!("unknown field; {expected}")
            };
            return ApiError::invalid(field, message);
        }
    }
    ApiError::invalid("body", message)
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        bytes_rejection(r)
    }
}

fn bytes_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(crate::http::MAX_BODY)
    } else if crate::http::limits::is_body_timeout(&r as &(dyn std::error::Error + 'static)) {
        ApiError::RequestTimeout(crate::http::limits::BODY_TIMEOUT_DETAIL.into())
    } else {
        ApiError::BadRequest(r.body_text())
    }
}

/// Middleware (around the routes): a handler that panics (an assertion
/// inside a geometry library on input nobody foresaw) answers a logged 500
/// problem+json instead of dropping the connection with no answer. Geometry
/// operations on clients' input are also guarded where they run
/// (`domain::geometry::unpanicked`), which makes those a 422 naming the
/// geometry; this catches the rest.
pub async fn catch_panics(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use futures_util::FutureExt;
    let route = req.uri().path().to_string();
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            ApiError::Internal(format!("a handler panicked on {route}: {what}")).into_response()
        }
    }
}

/// Middleware (outermost): any 4xx or 5xx in plain text
/// (a rejection of an extractor used bare, such as a `Path` that is not
/// UTF-8, a body-limit 413, a timeout) is rewritten as one, keeping its
/// status, headers such as `Allow` and `Retry-After`, and its text as the
/// detail.
pub async fn problem_json_everywhere(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    // Only the framework's plain-text messages (or a body with no type) are
    // rewritten: problem+json is already right, and the console's pages
    // render their own errors as HTML for a person.
    let plain = match resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => true,
        Some(ct) => ct.starts_with("text/plain"),
    };
    if !plain {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // The framework's messages are a line or two; anything longer is not
    // worth quoting.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::Status(status, format!("request body is too large: {text}"))
        }
        _ => ApiError::Status(status, text),
    };
    let fresh = error.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::TRANSFER_ENCODING);
    for (name, value) in fresh.headers() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, fresh.into_body())
}

/// The problem details document (RFC 9457).
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [InvalidField]>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    members: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl Serialize for InvalidField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("InvalidField", 2)?;
        st.serialize_field("field", &self.field)?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "the server could not complete the request; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            errors: match &self {
                ApiError::Invalid(fields) => Some(fields),
                _ => None,
            },
            members: match &self {
                ApiError::ConflictWith(_, members) => Some(members),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, ApiError::TokenRefused(_)) {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        } else if status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            h.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::DefaultBodyLimit;
    use axum::http::Request;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    /// axum's own plain-text rejections (here the body limit of a bare
    /// `Bytes` extractor) come out as problem+json with their status.
    #[tokio::test]
    async fn a_framework_rejection_becomes_problem_json() {
        // (`route_service`, so the OpenAPI test's scan of the source for
        // routes does not take this one for a real one.)
        let app = Router::new()
            .route_service("/b", post(|b: Bytes| async move { b.len().to_string() }))
            .layer(DefaultBodyLimit::max(4))
            .layer(axum::middleware::from_fn(problem_json_everywhere));
        let resp = app
            .clone()
            .oneshot(Request::post("/b").body(Body::from("0123456789")).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = axum::body::to_bytes(resp.into_body(), 10_000)
            .await
            .unwrap();
        let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(p["status"], 413);
        assert!(p["detail"].as_str().unwrap().contains("too large"), "{p}");
        // Success is left alone.
        let ok = app
            .oneshot(Request::post("/b").body(Body::from("01")).unwrap())
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(
            axum::body::to_bytes(ok.into_body(), 100).await.unwrap(),
            "2"
        );
    }
}
