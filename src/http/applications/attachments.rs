//! Documents attached to applications: uploaded as the raw body (PDF, PNG
//! or JPEG, judged from the bytes), listed and downloaded by exactly those
//! who may read the application.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::Deserialize;

use super::super::auth::Caller;
use super::super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::super::{ApiError, ApiResult, AppState, Query};
use super::views::{AttachmentList, AttachmentView};
use crate::domain::attachment::DocumentType;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/applications/{id}/attachments", get(list).post(upload))
        .route(
            "/v1/applications/{id}/attachments/{document}",
            get(download),
        )
}

/// Query parameters of an upload.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The name it downloads under (no path; at most 200 characters).
    filename: String,
    /// What it is (structural calculations, drawing, photograph...).
    description: Option<String>,
}

/// Reads a body of at most `limit` bytes, refusing a larger one as soon as
/// it is announced or seen, so an oversized upload is never held whole.
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Vec<u8>> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut out = Vec::with_capacity(announced.map_or(0, |n| n as usize));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if out.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Attaches a document to an open application (the applying operator).
/// Send the file as the body with its `Content-Type` (`application/pdf`,
/// `image/png` or `image/jpeg`); a body whose bytes are not that type is
/// refused (415), whatever it is labelled.
#[utoipa::path(post, path = "/v1/applications/{id}/attachments", operation_id = "upload_attachment", tag = "applications",
    params(("id" = String, Path, description = "Application id"), UploadParams),
    request_body(content = Vec<u8>, description = "The document", content_type = "application/pdf"),
    responses((status = 201, description = "Stored; `Location` names it", body = AttachmentView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "The application is decided, or has the most documents allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the size limit (20 MB unless configured)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, PNG or JPEG, or the bytes are not the type declared", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(p): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    // Scope first: an outsider learns nothing, not even the size limit.
    state.register.application(&caller.0, &id).await?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // A type never taken is refused before the body is read.
    if DocumentType::from_media_type(&declared).is_none() {
        return Err(ApiError::UnsupportedMediaType(format!(
            "{declared:?} is not taken: send application/pdf, image/png or image/jpeg"
        )));
    }
    let content = read_limited(&headers, body, state.settings.max_attachment_bytes).await?;
    let info = state
        .register
        .attach_document(
            &caller.0,
            &id,
            &p.filename,
            p.description.as_deref(),
            &declared,
            &content,
        )
        .await
        .map_err(|e| match e {
            // The body's type is a media-type problem, not a field's.
            crate::register::ApplicationError::Invalid(fields)
                if fields.iter().any(|f| f.field == "content") =>
            {
                ApiError::UnsupportedMediaType(
                    fields
                        .into_iter()
                        .map(|f| f.message)
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
            other => other.into(),
        })?;
    let view = AttachmentView::of(&info);
    let location = HeaderValue::from_str(&view.href).ok();
    let mut r = (StatusCode::CREATED, axum::Json(view)).into_response();
    if let Some(loc) = location {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

/// The documents of an application.
#[utoipa::path(get, path = "/v1/applications/{id}/attachments", operation_id = "list_attachments", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The documents, oldest first", body = AttachmentList),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AttachmentList>> {
    let docs = state.register.documents(&caller.0, &id).await?;
    Ok(axum::Json(AttachmentList {
        application: id,
        attachments: docs.iter().map(AttachmentView::of).collect(),
    }))
}

/// Downloads a document, as the type its bytes were judged to be.
#[utoipa::path(get, path = "/v1/applications/{id}/attachments/{document}", operation_id = "download_attachment", tag = "applications",
    params(("id" = String, Path, description = "Application id"),
        ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document", body = Vec<u8>, content_type = "application/pdf"),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, document)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (info, bytes) = state.register.document(&caller.0, &id, &document).await?;
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    let content_type = HeaderValue::from_str(&info.content_type)
        .map_err(|_| ApiError::Internal(format!("stored content type of {}", info.id)))?;
    h.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&info.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// `attachment; filename="..."`, with an RFC 8187 `filename*` for names
/// beyond ASCII. Names were checked for quotes and control characters on
/// upload.
fn content_disposition(name: &str) -> String {
    if name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return format!("attachment; filename=\"{name}\"");
    }
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_beyond_ascii_are_encoded() {
        assert_eq!(
            content_disposition("calcs.pdf"),
            "attachment; filename=\"calcs.pdf\""
        );
        assert_eq!(
            content_disposition("plan é.pdf"),
            "attachment; filename=\"plan _.pdf\"; filename*=UTF-8''plan%20%C3%A9.pdf"
        );
    }
}
