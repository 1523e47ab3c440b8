//! Deployment administration: authorities, organisations, tokens (issue,
//! list, revoke).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::Caller;
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Json};
use crate::domain::access::{Principal, Role, validate_token_scope};
use crate::domain::asset::InvalidField;
use crate::domain::validate::{Slug, display_name};
use crate::store::{TokenInfo, TokenScope, hash_token};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/authorities",
            post(create_authority).get(list_authorities),
        )
        .route(
            "/v1/organisations",
            post(create_organisation).get(list_organisations),
        )
        .route("/v1/tokens", post(create_token).get(list_tokens))
        .route("/v1/tokens/{id}", delete(revoke_token))
}

/// Body of `POST /v1/authorities`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewAuthority {
    /// Lower-case slug, e.g. `trafford`.
    code: String,
    name: String,
}

fn slug(field: &str, value: &str) -> ApiResult<Slug> {
    Slug::parse(value).map_err(|m| ApiError::invalid(field, m))
}

fn name(value: &str) -> ApiResult<String> {
    display_name(value).map_err(|m| ApiError::invalid("name", m))
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    /// `admin`, `staff` (needs `authority`) or `operator` (needs `organisation`).
    role: String,
    authority: Option<String>,
    organisation: Option<String>,
    name: String,
    /// When the token stops working (RFC 3339, in the future); never when
    /// absent.
    #[schema(example = "2027-03-31T23:59:59Z")]
    expires_at: Option<String>,
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
    // Every bad field at once.
    let mut errors = Vec::new();
    let role: Option<Role> = match body.role.parse() {
        Ok(r) => Some(r),
        Err(m) => {
            errors.push(InvalidField::new("role", m));
            None
        }
    };
    if let Some(role) = role
        && let Err(m) = validate_token_scope(
            role,
            body.authority.as_deref(),
            body.organisation.as_deref(),
        )
    {
        errors.push(InvalidField::new("role", m));
    }
    let expires_at = match body.expires_at.as_deref().map(expiry).transpose() {
        Ok(e) => e,
        Err(m) => {
            errors.push(InvalidField::new("expires_at", m));
            None
        }
    };
    let token_name = match name(&body.name) {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(InvalidField::new("name", "must be 1-200 characters"));
            None
        }
    };
    let (Some(role), Some(token_name), true) = (role, token_name, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
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
        .create_token(&principal, &token_name, expires_at.as_deref())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(what) => {
                ApiError::invalid("scope", format!("{what} does not exist"))
            }
            other => other.into(),
        })?;
    let id = state
        .register
        .token_for_hash(&hash_token(&token))
        .await?
        .map(|g| g.id);
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "token": token, "id": id, "expires_at": expires_at })),
    ))
}

/// Parses an expiry: RFC 3339, in the future; stored in UTC.
pub fn expiry(value: &str) -> Result<String, String> {
    let at = OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map_err(|_| {
            format!("{value:?} is not an RFC 3339 date-time such as 2027-03-31T23:59:59Z")
        })?
        .to_offset(time::UtcOffset::UTC);
    if at <= OffsetDateTime::now_utc() {
        return Err(format!("{value:?} is in the past"));
    }
    at.format(&Rfc3339).map_err(|e| e.to_string())
}

/// The operators and neutral hosts (admin only).
#[utoipa::path(get, path = "/v1/organisations", tag = "admin",
    responses((status = 200, description = "Every organisation", body = OrganisationList),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden)))]
async fn list_organisations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let all = state.register.organisations().await?;
    Ok(axum::Json(json!({ "organisations": all })))
}

/// A token as listed: what it is for and its life, never its secret or hash.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct TokenView {
    /// Its number, for `DELETE /v1/tokens/{id}`.
    id: i64,
    /// `admin`, `staff` or `operator`.
    role: String,
    authority: Option<String>,
    organisation: Option<String>,
    name: String,
    created_at: String,
    /// When it stops working; null: never.
    expires_at: Option<String>,
    /// When it was last used, to within a minute; null: never.
    last_used_at: Option<String>,
    /// When it was revoked; null: it was not.
    revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    status: &'static str,
}

impl From<TokenInfo> for TokenView {
    fn from(t: TokenInfo) -> TokenView {
        let expired = t
            .expires_at
            .as_deref()
            .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
            .is_some_and(|e| e <= OffsetDateTime::now_utc());
        let status = if t.revoked_at.is_some() {
            "revoked"
        } else if expired {
            "expired"
        } else {
            "active"
        };
        TokenView {
            id: t.id,
            role: t.role,
            authority: t.authority,
            organisation: t.organisation,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            status,
        }
    }
}

/// `GET /v1/tokens`.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct TokenList {
    tokens: Vec<TokenView>,
}

/// The tokens a caller may see: all for the admin, a council's staff
/// tokens for its staff, an organisation's tokens for its operators.
fn scope(p: &Principal) -> TokenScope<'_> {
    match p {
        Principal::Admin => TokenScope::All,
        Principal::Staff { authority } => TokenScope::Authority(authority),
        Principal::Operator { organisation } => TokenScope::Organisation(organisation),
    }
}

/// Lists tokens (admin: all; others: those of their own council or
/// organisation). Never the secret or its hash.
#[utoipa::path(get, path = "/v1/tokens", tag = "admin",
    responses((status = 200, description = "The tokens, oldest first", body = TokenList),
        (status = 401, response = Unauthorized)))]
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    let tokens = state.register.tokens(scope(&caller.0)).await?;
    Ok(axum::Json(TokenList {
        tokens: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

/// Revokes a token at once (admin: any; others: their own council's or
/// organisation's). Revoking a revoked token changes nothing.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The token's number")),
    responses((status = 204, description = "Revoked"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("token id {id:?} is not a number")))?;
    let not_found = || ApiError::NotFound(format!("token {id} not found"));
    let token = state.register.token(id).await?.ok_or_else(not_found)?;
    let visible = match scope(&caller.0) {
        TokenScope::All => true,
        TokenScope::Authority(a) => token.authority.as_deref() == Some(a),
        TokenScope::Organisation(o) => token.organisation.as_deref() == Some(o),
    };
    if !visible {
        return Err(not_found());
    }
    if !state.register.revoke_token(id).await? {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}
