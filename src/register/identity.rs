//! Authorities, organisations and tokens: database only (nothing about
//! them is indexed), but still reached through the register so handlers
//! have one way in.

use super::Register;
use crate::domain::access::Principal;
use crate::store::{Authority, Organisation, StoreResult};

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

    /// Issues a token for `principal`; only its hash is kept.
    pub async fn create_token(&self, principal: &Principal, name: &str) -> StoreResult<String> {
        self.store.create_token(principal, name).await
    }

    /// The principal a token hash belongs to, if any.
    pub async fn principal_for_hash(&self, hash: &str) -> StoreResult<Option<Principal>> {
        self.store.principal_for_hash(hash).await
    }
}
