//! Console sessions: a session id's hash, the token it stands for, its CSRF
//! token and its expiry. Expiry is decided by the query that reads a session
//! (`expires_at > now`), so a session past its time is gone for every
//! replica at once, whatever any cache holds.

use super::{Store, StoreResult};

/// A live session as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSession {
    /// SHA-256 (hex) of the bearer token the session was opened with.
    pub token_hash: String,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    /// Unix seconds after which the session is refused.
    pub expires_at: i64,
    /// Unix seconds when it was opened (sliding expiry never passes a cap
    /// counted from here).
    pub created_at: i64,
}

impl Store {
    /// Stores a new session. Session ids are 256 random bits, so a
    /// collision is a bug and fails on the primary key.
    pub async fn create_session(
        &self,
        session_hash: &str,
        token_hash: &str,
        csrf_token: &str,
        created_at: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO console_sessions \
             (session_hash, token_hash, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session_hash)
        .bind(token_hash)
        .bind(csrf_token)
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The session with this id hash, if it exists and has not expired at
    /// `now` (unix seconds).
    pub async fn session(
        &self,
        session_hash: &str,
        now: i64,
    ) -> StoreResult<Option<StoredSession>> {
        Ok(sqlx::query_as(
            "SELECT token_hash, csrf_token, expires_at, created_at FROM console_sessions \
             WHERE session_hash = $1 AND expires_at > $2",
        )
        .bind(session_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Moves a live session's expiry later, to `expires_at` (sliding
    /// sessions); a session already gone, or already expiring later, is left.
    pub async fn extend_session(
        &self,
        session_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE console_sessions SET expires_at = $1 \
             WHERE session_hash = $2 AND expires_at > $3 AND expires_at < $1",
        )
        .bind(expires_at)
        .bind(session_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Ends a session (signing out); ending one that is gone is not an error.
    pub async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM console_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn purge_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
