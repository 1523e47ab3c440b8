//! Bearer-token authentication.
//!
//! A token is looked up by its SHA-256 hash. Answers are cached for a short
//! while so a busy client does not cost a database round trip per request;
//! the cache is behind a std `Mutex` because it is held for a map lookup
//! only, never across an `.await`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::{ApiError, AppState};
use crate::domain::access::Principal;
use crate::store::hash_token;

/// How long a looked-up token is trusted without asking the database again.
const TTL: Duration = Duration::from_secs(30);

/// Recently validated token hashes.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Principal> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, hash: String, p: Principal) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < TTL);
        }
        map.insert(hash, (p, Instant::now()));
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

/// Resolves a token to its principal, or 401.
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
    if let Some(p) = state.tokens.get(&hash) {
        return Ok(p);
    }
    let p = state
        .register
        .principal_for_hash(&hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    state.tokens.put(hash, p.clone());
    Ok(p)
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
