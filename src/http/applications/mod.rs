//! Applications for sites: submission, review and decisions, the operator's
//! withdrawal and responses, installation and termination, the audit trail,
//! and (in [`attachments`]) the documents.
//!
//! Who may do what is the register's and the domain's business; this module
//! turns requests into register calls and answers into JSON. An application
//! the caller may not see answers 404, exactly as one that does not exist.

pub mod attachments;
pub mod views;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::auth::Caller;
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Json, Query};
use crate::domain::application::{
    Action, ApplicationRequest, ApplicationStatus, DecisionRequest, ReasonRequest, ResponseRequest,
};
use crate::domain::installation::InstallationRequest;
use crate::register::{ApplicationError, ApplicationFilter};
use views::{ApplicationList, ApplicationView, EventList, Link};

/// Default page size of lists.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size of lists.
pub const MAX_LIMIT: u32 = 500;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/applications", post(submit).get(list))
        .route("/v1/applications/{id}", get(fetch))
        .route("/v1/applications/{id}/review", post(review))
        .route("/v1/applications/{id}/decision", post(decide))
        .route("/v1/applications/{id}/response", post(respond))
        .route("/v1/applications/{id}/withdraw", post(withdraw))
        .route("/v1/applications/{id}/installation", post(install))
        .route("/v1/applications/{id}/termination", post(terminate))
        .route("/v1/applications/{id}/events", get(events))
        .merge(attachments::router())
}

/// Today's date (UTC): the clock the rules are given.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

impl From<ApplicationError> for ApiError {
    fn from(e: ApplicationError) -> Self {
        match e {
            ApplicationError::Store(s) => s.into(),
            ApplicationError::Invalid(fields) => ApiError::Invalid(fields),
            ApplicationError::NotFound(m) => ApiError::NotFound(m),
            ApplicationError::Forbidden(m) => ApiError::Forbidden(m),
            ApplicationError::WrongState { message, current } => {
                let mut members = serde_json::Map::new();
                members.insert("current_status".into(), current.as_str().into());
                ApiError::ConflictWith(message, members)
            }
            ApplicationError::NoCapacity { message, assets } => {
                let mut members = serde_json::Map::new();
                members.insert("assets".into(), assets.into());
                ApiError::ConflictWith(message, members)
            }
            ApplicationError::Conflict(m) => ApiError::Conflict(m),
        }
    }
}

/// A JSON body that may be left out (an empty body is `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> axum::extract::FromRequest<S>
    for OptionalJson<T>
{
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        // A body declared as something else is refused as such (415), like
        // `Json` does; an undeclared one is read as JSON, so a bare
        // `curl -d` still works.
        let declared = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = Bytes::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if let Some(ct) = declared
            && ct != "application/json"
            && !(ct.starts_with("application/") && ct.ends_with("+json"))
            && ct != "application/x-www-form-urlencoded"
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as application/json, not {ct:?}"
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
        crate::http::error::from_body(value).map(OptionalJson)
    }
}

fn answer(status: StatusCode, view: ApplicationView) -> Response {
    let location = view.links.first().map(|l| l.href.clone());
    let mut r = (status, axum::Json(view)).into_response();
    if status == StatusCode::CREATED
        && let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok())
    {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// Applies for sites (operator tokens). Every site is held at once, or none
/// is: 409 names each asset without free capacity.
#[utoipa::path(post, path = "/v1/applications", operation_id = "submit_application", tag = "applications",
    request_body = ApplicationRequest,
    responses(
        (status = 201, description = "Submitted; the sites are held; `Location` names it", body = ApplicationView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, description = "Some assets have no free capacity (`assets` names them); nothing was held", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ApplicationRequest>,
) -> ApiResult<Response> {
    let today = today();
    let record = state
        .register
        .submit_application(&caller.0, &body, today)
        .await?;
    Ok(answer(
        StatusCode::CREATED,
        ApplicationView::of_record(&record, today),
    ))
}

/// Query parameters of `GET /v1/applications`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only in this status.
    status: Option<String>,
    /// `true`: only applications whose decision is overdue.
    overdue: Option<bool>,
    /// Only applications naming this asset.
    asset: Option<String>,
    /// Page size (default 50, at most 500).
    limit: Option<u32>,
    /// Applications to skip.
    offset: Option<u64>,
}

/// The applications the caller may see (an operator its organisation's,
/// staff their council's, admin all), oldest first.
#[utoipa::path(get, path = "/v1/applications", operation_id = "list_applications", tag = "applications", params(ListParams),
    responses((status = 200, description = "A page of applications", body = ApplicationList),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<ApplicationList>> {
    let mut problems = Vec::new();
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => s
            .parse::<ApplicationStatus>()
            .map_err(|m| problems.push(crate::domain::asset::InvalidField::new("status", m)))
            .ok(),
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        problems.push(crate::domain::asset::InvalidField::new(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let offset = p.offset.unwrap_or(0);
    let today = today();
    let page = state
        .register
        .applications(
            &caller.0,
            &ApplicationFilter {
                status,
                overdue: p.overdue.unwrap_or(false),
                asset: p.asset,
                limit,
                offset,
                ..ApplicationFilter::default()
            },
            today,
        )
        .await?;
    let returned = page.applications.len();
    let mut links = vec![Link::json(uri.to_string(), "self")];
    if offset + (returned as u64) < page.number_matched {
        links.push(Link::json(
            super::params::page_href(&uri, (offset + u64::from(limit)) as usize),
            "next",
        ));
    }
    if offset > 0 {
        links.push(Link::json(
            super::params::page_href(&uri, offset.saturating_sub(u64::from(limit)) as usize),
            "prev",
        ));
    }
    Ok(axum::Json(ApplicationList {
        number_matched: page.number_matched,
        number_returned: returned,
        applications: page
            .applications
            .iter()
            .map(|a| ApplicationView::of(a, today))
            .collect(),
        links,
    }))
}

/// One application with its agreement and installations.
#[utoipa::path(get, path = "/v1/applications/{id}", operation_id = "get_application", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = ApplicationView),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
async fn fetch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let record = state.register.application_record(&caller.0, &id).await?;
    Ok(answer(
        StatusCode::OK,
        ApplicationView::of_record(&record, today()),
    ))
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
    reason: Option<&str>,
) -> ApiResult<Response> {
    let today = today();
    let record = state
        .register
        .act_on_application(&caller.0, id, action, reason, today)
        .await?;
    Ok(answer(
        StatusCode::OK,
        ApplicationView::of_record(&record, today),
    ))
}

/// Staff of the authority take a submitted application up for review
/// (`submitted` → `under_review`). No body.
#[utoipa::path(post, path = "/v1/applications/{id}/review", operation_id = "review_application", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "Under review", body = ApplicationView),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not `submitted`; `current_status` says what it is", body = Problem, content_type = "application/problem+json")))]
async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    act(&state, &caller, &id, Action::Review, None).await
}

/// Staff decide an application under review: `approve` (makes the
/// agreement), `reject` (releases the sites) or `request_info` (stops the
/// clock until the operator responds). A reason is required to reject or
/// ask.
#[utoipa::path(post, path = "/v1/applications/{id}/decision", operation_id = "decide_application", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = DecisionRequest,
    responses((status = 200, description = "Decided", body = ApplicationView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "Not `under_review`; `current_status` says what it is", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DecisionRequest>,
) -> ApiResult<Response> {
    let (action, reason) = body.parse().map_err(ApiError::Invalid)?;
    act(&state, &caller, &id, action, reason.as_deref()).await
}

/// The operator answers a request for information; the clock restarts.
#[utoipa::path(post, path = "/v1/applications/{id}/response", operation_id = "respond_to_application", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = ResponseRequest,
    responses((status = 200, description = "Back under review", body = ApplicationView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "No information was asked for; `current_status` says what it is", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn respond(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ResponseRequest>,
) -> ApiResult<Response> {
    let response = body.parse().map_err(ApiError::Invalid)?;
    act(&state, &caller, &id, Action::Respond, Some(&response)).await
}

/// The operator withdraws an application before its decision; the sites
/// are released. The body (`{"reason"}`) may be left out.
#[utoipa::path(post, path = "/v1/applications/{id}/withdraw", operation_id = "withdraw_application", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body(content = ReasonRequest, description = "Optional"),
    responses((status = 200, description = "Withdrawn", body = ApplicationView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "Already decided; `current_status` says what it is", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<ReasonRequest>,
) -> ApiResult<Response> {
    let reason = body.parse(false).map_err(ApiError::Invalid)?;
    act(&state, &caller, &id, Action::Withdraw, reason.as_deref()).await
}

/// Records the installation of an approved application's sites: carrier,
/// technology, equipment per site, the day and a 24-hour contact. The
/// applying operator records it; staff of the authority may record it for
/// them (after a site inspection, say).
#[utoipa::path(post, path = "/v1/applications/{id}/installation", operation_id = "record_installation", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = InstallationRequest,
    responses((status = 200, description = "Installed", body = ApplicationView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "Not `approved`; `current_status` says what it is", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn install(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<InstallationRequest>,
) -> ApiResult<Response> {
    let today = today();
    let record = state
        .register
        .record_installation(&caller.0, &id, &body, today)
        .await?;
    Ok(answer(
        StatusCode::OK,
        ApplicationView::of_record(&record, today),
    ))
}

/// Ends an installed application's agreement: the equipment is recorded as
/// removed today, the sites are released, and charges due after today
/// stop. Either side may record it; a reason is required.
#[utoipa::path(post, path = "/v1/applications/{id}/termination", operation_id = "terminate_application", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = ReasonRequest,
    responses((status = 200, description = "Terminated", body = ApplicationView),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "Not `installed`; `current_status` says what it is", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn terminate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReasonRequest>,
) -> ApiResult<Response> {
    let reason = body.parse(true).map_err(ApiError::Invalid)?;
    act(&state, &caller, &id, Action::Terminate, reason.as_deref()).await
}

/// The audit trail: every state change, decision, document and
/// installation, who made it and when. Append-only.
#[utoipa::path(get, path = "/v1/applications/{id}/events", operation_id = "application_events", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The events, oldest first", body = EventList),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EventList>> {
    let events = state.register.application_events(&caller.0, &id).await?;
    Ok(axum::Json(EventList {
        application: id,
        events,
    }))
}
