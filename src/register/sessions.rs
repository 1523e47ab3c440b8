//! Console sessions through the register (its store is private): open, read
//! (expiry decided in the database), and end.

use super::Register;
use crate::store::{StoreResult, StoredSession};

impl Register {
    /// Opens a session for the token with hash `token_hash`, dropping
    /// sessions that expired before `now` on the way (sign-ins are rare, so
    /// this keeps the table small without a sweeper).
    pub async fn open_session(
        &self,
        session_hash: &str,
        token_hash: &str,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.store.purge_sessions(now).await?;
        self.store
            .create_session(session_hash, token_hash, csrf_token, now, expires_at)
            .await
    }

    /// The unexpired session with this id hash at `now` (unix seconds).
    pub async fn session(
        &self,
        session_hash: &str,
        now: i64,
    ) -> StoreResult<Option<StoredSession>> {
        self.store.session(session_hash, now).await
    }

    /// Moves a live session's expiry later (sliding sessions).
    pub async fn extend_session(
        &self,
        session_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.store
            .extend_session(session_hash, now, expires_at)
            .await
    }

    /// Ends a session.
    pub async fn close_session(&self, session_hash: &str) -> StoreResult<()> {
        self.store.delete_session(session_hash).await
    }
}
