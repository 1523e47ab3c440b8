//! Authorities, organisations and tokens: database only (nothing about
//! them is indexed), but still reached through the register so handlers
//! have one way in.
//!
//! Token revocation has to reach every process's token cache (the HTTP
//! layer trusts a looked-up token for a while without asking the database).
//! The register keeps a revocation epoch: it moves when this process
//! revokes a token, and when [`Register::catch_up`] (every second) sees the
//! count of revoked tokens change, which is how a revocation by another
//! replica or the CLI arrives. The count cannot miss one: revocations are
//! only ever added, so any new one changes it, whatever order the revoking
//! transactions commit in. A cache entry remembers the epoch it was looked
//! up under and is ignored once the epoch has moved.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::Register;
use crate::domain::access::Principal;
use crate::store::{Authority, Organisation, StoreResult, TokenGrant, TokenInfo, TokenScope};

/// The revocation epoch and the revocation count it reflects.
pub(super) struct Revocations {
    epoch: AtomicU64,
    seen: AtomicI64,
}

impl Revocations {
    pub(super) fn new(seen: i64) -> Revocations {
        Revocations {
            epoch: AtomicU64::new(0),
            seen: AtomicI64::new(seen),
        }
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

impl Register {
    /// Adds an authority (a council).
    pub async fn create_authority(&self, code: &str, name: &str) -> StoreResult<Authority> {
        self.store.create_authority(code, name).await
    }

    /// One authority, if it exists.
    pub async fn authority(&self, code: &str) -> StoreResult<Option<Authority>> {
        self.store.authority(code).await
    }

    /// Every authority.
    pub async fn authorities(&self) -> StoreResult<Vec<Authority>> {
        self.store.authorities().await
    }

    /// Adds an organisation (an operator or neutral host).
    pub async fn create_organisation(&self, slug: &str, name: &str) -> StoreResult<Organisation> {
        self.store.create_organisation(slug, name).await
    }

    /// Every organisation.
    pub async fn organisations(&self) -> StoreResult<Vec<Organisation>> {
        self.store.organisations().await
    }

    /// Issues a token for `principal`; only its hash is kept.
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        expires_at: Option<&str>,
    ) -> StoreResult<String> {
        self.store.create_token(principal, name, expires_at).await
    }

    /// The principal a token hash belongs to, if any.
    pub async fn principal_for_hash(&self, hash: &str) -> StoreResult<Option<Principal>> {
        self.store.principal_for_hash(hash).await
    }

    /// What a token hash stands for, with its expiry and revocation.
    pub async fn token_for_hash(&self, hash: &str) -> StoreResult<Option<TokenGrant>> {
        self.store.token_for_hash(hash).await
    }

    /// The tokens in `scope`.
    pub async fn tokens(&self, scope: TokenScope<'_>) -> StoreResult<Vec<TokenInfo>> {
        self.store.tokens(scope).await
    }

    /// One token by number.
    pub async fn token(&self, id: i64) -> StoreResult<Option<TokenInfo>> {
        self.store.token(id).await
    }

    /// Revokes token `id` (false: no such token). This process's caches
    /// stop trusting it at once; other processes within a second.
    pub async fn revoke_token(&self, id: i64) -> StoreResult<bool> {
        let found = self.store.revoke_token(id).await?;
        self.tokens.bump();
        Ok(found)
    }

    /// Records that token `id` was used now (callers throttle this).
    pub async fn token_used(&self, id: i64) -> StoreResult<()> {
        self.store.token_used(id).await
    }

    /// The revocation epoch: a cached token looked up under another epoch
    /// must be looked up again.
    pub fn token_epoch(&self) -> u64 {
        self.tokens.epoch.load(Ordering::Acquire)
    }

    /// Moves the epoch when another process has revoked a token.
    pub(super) async fn catch_up_revocations(&self) -> StoreResult<()> {
        let n = self.store.revoked_token_count().await?;
        if self.tokens.seen.swap(n, Ordering::AcqRel) != n {
            self.tokens.bump();
        }
        Ok(())
    }
}
