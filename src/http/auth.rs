//! Bearer-token authentication.
//!
//! A token is looked up by its SHA-256 hash. Answers are cached for a short
//! while so a busy client does not cost a database round trip per request;
//! the cache is behind a std `Mutex` because it is held for a map lookup
//! only, never across an `.await`.
//!
//! A cached answer is dropped as soon as any token is revoked: each entry
//! remembers the register's revocation epoch it was looked up under (read
//! before the look-up, so a revocation racing it still wins), and the epoch
//! moves on a revocation here at once and on one elsewhere within a second
//! (`register::identity`). Expiry is checked on every request against the
//! cached expiry time. A token's last use is written at most once a minute
//! per token and process, off the request path.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ApiError, AppState};
use crate::domain::access::Principal;
use crate::store::hash_token;

/// How long a looked-up token is trusted without asking the database again.
const TTL: Duration = Duration::from_secs(30);

/// The least time between two writes of one token's `last_used_at`.
pub const LAST_USED_INTERVAL: Duration = Duration::from_secs(60);

/// What a cached token stands for.
#[derive(Clone)]
struct Grant {
    id: i64,
    principal: Principal,
    expires_at: Option<OffsetDateTime>,
}

/// Recently validated token hashes, and when each token's use was last
/// recorded.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Grant, Instant, u64)>>,
    used: Mutex<HashMap<i64, Instant>>,
}

impl TokenCache {
    fn get(&self, hash: &str, epoch: u64) -> Option<Grant> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(_, at, e)| at.elapsed() < TTL && *e == epoch)
            .map(|(g, _, _)| g.clone())
    }

    fn put(&self, hash: String, g: Grant, epoch: u64) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at, e)| at.elapsed() < TTL && *e == epoch);
        }
        map.insert(hash, (g, Instant::now(), epoch));
    }

    /// True (and noted) when token `id`'s use should be written now.
    fn use_due(&self, id: i64) -> bool {
        let mut map = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if map
            .get(&id)
            .is_some_and(|at| at.elapsed() < LAST_USED_INTERVAL)
        {
            return false;
        }
        if map.len() > 10_000 {
            map.retain(|_, at| at.elapsed() < LAST_USED_INTERVAL);
        }
        map.insert(id, Instant::now());
        true
    }
}

/// The bearer token of a request, if it carries one.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized);
    }
    Ok(Some(token.trim()))
}

/// Resolves a token to its principal, or 401 (saying why when the token
/// exists but was revoked or has expired).
async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    principal_for_token_hash(state, hash_token(token)).await
}

/// Resolves a token's SHA-256 hash to its principal, or 401: the one rule
/// for bearer tokens and for console sessions (which keep the hash of the
/// token they were opened with, so a session is worth what its token is).
pub async fn principal_for_token_hash(
    state: &AppState,
    hash: String,
) -> Result<Principal, ApiError> {
    if state.settings.admin_token_hash.as_deref() == Some(hash.as_str()) {
        return Ok(Principal::Admin);
    }
    // Read before the look-up: a revocation landing during it moves the
    // epoch, and the entry put below is then never used.
    let epoch = state.register.token_epoch();
    let grant = match state.tokens.get(&hash, epoch) {
        Some(g) => g,
        None => {
            let stored = state
                .register
                .token_for_hash(&hash)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            if let Some(at) = stored.revoked_at {
                return Err(ApiError::TokenRefused(format!(
                    "this token was revoked at {at}"
                )));
            }
            let expires_at = stored
                .expires_at
                .as_deref()
                .map(|t| {
                    OffsetDateTime::parse(t, &Rfc3339)
                        .map_err(|_| ApiError::Internal(format!("stored expiry {t:?}")))
                })
                .transpose()?;
            let g = Grant {
                id: stored.id,
                principal: stored.principal,
                expires_at,
            };
            state.tokens.put(hash, g.clone(), epoch);
            g
        }
    };
    if let Some(at) = grant.expires_at
        && at <= OffsetDateTime::now_utc()
    {
        let at = at.format(&Rfc3339).unwrap_or_default();
        return Err(ApiError::TokenRefused(format!(
            "this token expired at {at}"
        )));
    }
    if state.tokens.use_due(grant.id) {
        let register = std::sync::Arc::clone(&state.register);
        tokio::spawn(async move {
            if let Err(e) = register.token_used(grant.id).await {
                tracing::warn!(error = %e, token = grant.id, "recording a token's use failed");
            }
        });
    }
    Ok(grant.principal)
}

/// An authenticated caller: requests without a valid token get 401.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?.ok_or(ApiError::Unauthorized)?;
        Ok(Caller(authenticate(state, token).await?))
    }
}

/// A reader of asset data: anyone when the server runs with
/// `--public-read`, otherwise any valid token. A token that is sent is
/// always checked, so a bad one is refused even on a public server.
pub struct Reader(pub Option<Principal>);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts)? {
            Some(token) => Ok(Reader(Some(authenticate(state, token).await?))),
            None if state.settings.public_read => Ok(Reader(None)),
            None => Err(ApiError::Unauthorized),
        }
    }
}

/// A visitor to a public description (landing page, conformance,
/// collections, the API document): no token is needed, but one that is
/// sent is checked, and its principal may see more (a council's private
/// collections).
pub struct Visitor(pub Option<Principal>);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts)? {
            Some(token) => Ok(Visitor(Some(authenticate(state, token).await?))),
            None => Ok(Visitor(None)),
        }
    }
}

impl Caller {
    /// 403 unless the caller is the deployment administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.0.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this needs an admin token".into()))
        }
    }

    /// 403 unless the caller may manage `authority`'s register.
    pub fn require_authority(&self, authority: &str) -> Result<(), ApiError> {
        if self.0.can_manage_authority(authority) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this token may not change authority {authority:?}'s data"
            )))
        }
    }
}
