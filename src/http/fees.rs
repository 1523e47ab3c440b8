//! Published fee schedules and quotes.
//!
//! Terms are public (no token), so operators can see prices before they
//! ask; publishing a new version takes staff of that council or admin.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::conditional::{etag, if_match};
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Json};
use crate::domain::asset::InvalidField;
use crate::domain::fee_versions::{PublishedSchedule, current as current_version};
use crate::domain::fees::{self, FeeSchedule, QuoteTerms};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/authorities/{code}/fee-schedule",
            get(current).put(publish),
        )
        .route("/v1/authorities/{code}/fee-schedule/history", get(history))
        .route("/v1/quotes", post(quote))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A published version as JSON: the document plus who, which and when.
fn published_json(p: &PublishedSchedule) -> ApiResult<Value> {
    let mut v = serde_json::to_value(&p.schedule).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        m.insert("authority".into(), json!(p.authority));
        m.insert("version".into(), json!(p.version));
        m.insert("published_at".into(), json!(p.published_at));
    }
    Ok(v)
}

async fn known_authority(state: &AppState, code: &str) -> ApiResult<()> {
    if state.register.authority(code).await?.is_none() {
        return Err(ApiError::NotFound(format!("authority {code:?} not found")));
    }
    Ok(())
}

/// The schedule in effect today, or, before the first one takes effect,
/// the first one published. Public: councils publish their terms.
#[utoipa::path(get, path = "/v1/authorities/{code}/fee-schedule", tag = "fees", security(()),
    params(("code" = String, Path, description = "Authority code")),
    responses((status = 200, description = "The fee schedule with `authority`, `version` and `published_at` (see docs/fees.md); `ETag` names the newest version, for `If-Match` when publishing", body = Object,
            headers(("ETag" = String, description = "The newest version number, quoted"))),
        (status = 404, response = NotFound)))]
async fn current(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<impl IntoResponse> {
    known_authority(&state, &code).await?;
    let history = state.register.fee_schedule_history(&code);
    let chosen = current_version(&history, today()).ok_or_else(|| {
        ApiError::NotFound(format!(
            "authority {code:?} has not published a fee schedule"
        ))
    })?;
    Ok((latest_etag(&history), axum::Json(published_json(chosen)?)))
}

/// `ETag` of an authority's schedule: its newest version number.
fn latest_etag(history: &[PublishedSchedule]) -> [(header::HeaderName, header::HeaderValue); 1] {
    let latest = history.iter().map(|p| p.version).max().unwrap_or(0);
    [(header::ETAG, etag(latest))]
}

/// Every published version, oldest first.
#[utoipa::path(get, path = "/v1/authorities/{code}/fee-schedule/history", tag = "fees", security(()),
    params(("code" = String, Path, description = "Authority code")),
    responses((status = 200, description = "`{authority, versions: [...]}`", body = Object),
        (status = 404, response = NotFound)))]
async fn history(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<impl IntoResponse> {
    known_authority(&state, &code).await?;
    let history = state.register.fee_schedule_history(&code);
    let versions = history
        .iter()
        .map(published_json)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((
        latest_etag(&history),
        axum::Json(json!({ "authority": code, "versions": versions })),
    ))
}

/// Publishes a new version of an authority's fee schedule (staff of that
/// authority, or admin). Earlier versions stay for quotes dated before it.
#[utoipa::path(put, path = "/v1/authorities/{code}/fee-schedule", tag = "fees",
    params(("code" = String, Path, description = "Authority code"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` read with the schedule: refused with 412 if a version was published since")),
    request_body(content = FeeScheduleInput, description = "A fee schedule document (docs/fees.md; examples in data/fees/)"),
    responses((status = 201, description = "The published version", body = Object),
        (status = 412, description = "`If-Match` names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    caller.require_authority(&code)?;
    known_authority(&state, &code).await?;
    let unknown = fees::unknown_members(&body);
    if !unknown.is_empty() {
        return Err(ApiError::Invalid(
            unknown
                .into_iter()
                .map(|f| InvalidField::new(f, "unknown field: not a member of a fee schedule"))
                .collect(),
        ));
    }
    let schedule: FeeSchedule = super::error::from_body(body)?;
    fees::validate(&schedule)?;
    let published = state
        .register
        .publish_schedule(&code, &schedule, if_match(&headers)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::ETAG, etag(published.version))],
        axum::Json(published_json(&published)?),
    ))
}

#[derive(Deserialize)]
struct QuoteRequest {
    /// Optional here so that an unknown member among the terms is named
    /// before a missing list of assets.
    #[serde(default)]
    assets: Vec<String>,
    #[serde(flatten)]
    terms: Value,
}

/// Itemised quotes, one per council whose assets were named, each priced
/// on the schedule in effect on the start date.
#[utoipa::path(post, path = "/v1/quotes", tag = "fees", request_body = QuoteBody,
    responses((status = 200, description = "Quotes per authority, itemised by year and site, money as two-decimal strings", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable)))]
async fn quote(
    State(state): State<AppState>,
    _caller: Caller,
    Json(body): Json<QuoteRequest>,
) -> ApiResult<impl IntoResponse> {
    let terms: QuoteTerms = super::error::from_body(body.terms)?;
    terms.validate()?;
    if body.assets.is_empty() {
        return Err(ApiError::invalid("assets", "name at least one asset"));
    }
    let quotes = state
        .register
        .quote_assets(&body.assets, &terms)
        .map_err(ApiError::Invalid)?;
    Ok(axum::Json(json!({ "quotes": quotes })))
}
