//! The money: an authority's ledger for finance (JSON or CSV, staff of that
//! council and admin), the public summary of its connectivity subsidy fund
//! (anyone), and the council's application periods.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::applications::today;
use super::auth::Caller;
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Json, Query};
use crate::domain::application::ApplicationSettings;
use crate::domain::ledger::{SubsidySummary, csv};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/authorities/{code}/ledger", get(ledger))
        .route("/v1/authorities/{code}/subsidy", get(subsidy))
        .route(
            "/v1/authorities/{code}/application-settings",
            get(settings).put(set_settings),
        )
}

async fn known_authority(state: &AppState, code: &str) -> ApiResult<()> {
    match state.register.authority(code).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("authority {code:?} not found"))),
    }
}

/// Query parameters of the ledger.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// Calendar year of the due dates.
    year: i32,
    /// `json` (default) or `csv`: one row per charge.
    format: Option<String>,
    /// ISO 4217 code, needed only when the year's charges are in several.
    currency: Option<String>,
}

/// What an authority's applications and agreements bring in a year: revenue
/// by kind of charge, the subsidy fund, and breakdowns by ward, asset kind
/// and operator that each sum to the totals. `format=csv` gives finance one
/// row per charge (agreement, asset, ward, due date). Staff of that council
/// and admin.
#[utoipa::path(get, path = "/v1/authorities/{code}/ledger", operation_id = "authority_ledger", tag = "ledger",
    params(("code" = String, Path, description = "Authority code"), LedgerParams),
    responses((status = 200, description = "The year's ledger (or CSV with `format=csv`: one row per charge)",
            content(("application/json" = Ledger), ("text/csv" = String))),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(p): Query<LedgerParams>,
) -> ApiResult<Response> {
    caller.require_authority(&code)?;
    known_authority(&state, &code).await?;
    let as_csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("{other:?} is not a format; expected json or csv"),
            ));
        }
    };
    let (ledger, charges) = state
        .register
        .ledger(&code, p.year, p.currency.as_deref())
        .await?;
    if !as_csv {
        return Ok(axum::Json(ledger).into_response());
    }
    let mut r = (StatusCode::OK, csv(&charges)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{code}-ledger-{}.csv\"",
        p.year
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// Query parameters of the subsidy summary.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubsidyParams {
    /// ISO 4217 code, needed only when charges are in several.
    currency: Option<String>,
}

/// How much concession money has gone into the council's connectivity
/// subsidy fund, by year and ward, counting rent fallen due up to today.
/// Public: no token, and nothing about operators, sites or agreements.
#[utoipa::path(get, path = "/v1/authorities/{code}/subsidy", operation_id = "subsidy_summary", tag = "ledger", security(()),
    params(("code" = String, Path, description = "Authority code"), SubsidyParams),
    responses((status = 200, description = "The subsidy fund by year and ward", body = SubsidySummary),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
async fn subsidy(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(p): Query<SubsidyParams>,
) -> ApiResult<axum::Json<SubsidySummary>> {
    known_authority(&state, &code).await?;
    Ok(axum::Json(
        state
            .register
            .subsidy_summary(&code, p.currency.as_deref(), today())
            .await?,
    ))
}

/// A council's application periods: days to decide (56 unless set) and
/// days after approval to install (183 unless set). Public, like its fees.
#[utoipa::path(get, path = "/v1/authorities/{code}/application-settings", operation_id = "application_settings", tag = "ledger",
    security(()),
    params(("code" = String, Path, description = "Authority code")),
    responses((status = 200, description = "The periods", body = ApplicationSettings),
        (status = 404, response = NotFound)))]
async fn settings(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<ApplicationSettings>> {
    known_authority(&state, &code).await?;
    Ok(axum::Json(
        state.register.application_settings(&code).await?,
    ))
}

/// Sets a council's application periods (staff of that council, admin).
/// The decision period applies to applications submitted from now on, the
/// install-by period to approvals from now on.
#[utoipa::path(put, path = "/v1/authorities/{code}/application-settings", operation_id = "set_application_settings", tag = "ledger",
    params(("code" = String, Path, description = "Authority code")),
    request_body = ApplicationSettings,
    responses((status = 200, description = "The periods now", body = ApplicationSettings),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<ApplicationSettings>,
) -> ApiResult<axum::Json<ApplicationSettings>> {
    caller.require_authority(&code)?;
    known_authority(&state, &code).await?;
    state
        .register
        .set_application_settings(&code, &body)
        .await?;
    Ok(axum::Json(body))
}
