//! Deployment administration: authorities, organisations, tokens.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::openapi::{BadRequest, Forbidden, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Json};
use crate::domain::access::{Principal, Role, validate_token_scope};
use crate::domain::validate::Slug;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/authorities",
            post(create_authority).get(list_authorities),
        )
        .route("/v1/organisations", post(create_organisation))
        .route("/v1/tokens", post(create_token))
}

/// Body of `POST /v1/authorities`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewAuthority {
    /// Lower-case slug, e.g. `trafford`.
    code: String,
    name: String,
}

fn slug(field: &str, value: &str) -> ApiResult<Slug> {
    Slug::parse(value).map_err(|m| ApiError::invalid(field, m))
}

fn name(value: &str) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 200 {
        return Err(ApiError::invalid("name", "must be 1-200 characters"));
    }
    Ok(v.to_string())
}

/// Adds a council (admin only).
#[utoipa::path(post, path = "/v1/authorities", tag = "admin", request_body = NewAuthority,
    responses((status = 201, description = "Created", body = Authority),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn create_authority(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewAuthority>,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let code = slug("code", &body.code)?;
    let a = state
        .register
        .create_authority(code.as_str(), &name(&body.name)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(a)))
}

/// The councils using this deployment: public, like their published terms.
#[utoipa::path(get, path = "/v1/authorities", tag = "admin", security(()),
    responses((status = 200, description = "Every authority", body = AuthorityList)))]
async fn list_authorities(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let all = state.register.authorities().await?;
    Ok(axum::Json(json!({ "authorities": all })))
}

/// Body of `POST /v1/organisations`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewOrganisation {
    /// Lower-case slug.
    slug: String,
    name: String,
}

/// Adds an operator or neutral host (admin only).
#[utoipa::path(post, path = "/v1/organisations", tag = "admin", request_body = NewOrganisation,
    responses((status = 201, description = "Created", body = Organisation),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn create_organisation(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewOrganisation>,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let s = slug("slug", &body.slug)?;
    let o = state
        .register
        .create_organisation(s.as_str(), &name(&body.name)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(o)))
}

/// Body of `POST /v1/tokens`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewToken {
    /// `admin`, `staff` (needs `authority`) or `operator` (needs `organisation`).
    role: String,
    authority: Option<String>,
    organisation: Option<String>,
    name: String,
}

/// Issues a bearer token (admin only); it is shown once.
#[utoipa::path(post, path = "/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, description = "The token", body = Token),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewToken>,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let role: Role = body
        .role
        .parse()
        .map_err(|m: String| ApiError::invalid("role", m))?;
    validate_token_scope(
        role,
        body.authority.as_deref(),
        body.organisation.as_deref(),
    )
    .map_err(|m| ApiError::invalid("role", m))?;
    let principal = match role {
        Role::Admin => Principal::Admin,
        Role::Staff => Principal::Staff {
            authority: body.authority.unwrap_or_default(),
        },
        Role::Operator => Principal::Operator {
            organisation: body.organisation.unwrap_or_default(),
        },
    };
    let token = state
        .register
        .create_token(&principal, &name(&body.name)?)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(what) => {
                ApiError::invalid("scope", format!("{what} does not exist"))
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "token": token }))))
}
