//! What a start-up snapshot asks of the database to decide whether it may be
//! trusted: which database this is, which migrations it has, and whether a
//! position in the change feed can still be replayed from here.
//!
//! The feed is only ever appended to, so a position can be replayed while
//! the row at it is still there with the same asset id: everything after it
//! is in the feed. A position whose row is gone (the feed was pruned, or the
//! database was restored from a backup older than the snapshot) cannot.

use super::changes::ChangeCursor;
use super::{Backend, Store, StoreResult};

impl ChangeCursor {
    /// The cursor as `(txid, seq)`, for storing outside the database.
    pub fn to_parts(self) -> (i64, i64) {
        (self.txid, self.seq)
    }

    /// A cursor stored by [`ChangeCursor::to_parts`].
    pub fn from_parts((txid, seq): (i64, i64)) -> ChangeCursor {
        ChangeCursor { txid, seq }
    }
}

impl Store {
    /// The random name this database was given when it was created.
    pub async fn database_identity(&self) -> StoreResult<String> {
        let (id,): (String,) = sqlx::query_as("SELECT id FROM database_identity")
            .fetch_one(&self.read)
            .await?;
        Ok(id)
    }

    /// The newest migration applied: rows a migration rewrites do not pass
    /// through the feed.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let (v,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.read)
            .await?;
        Ok(v)
    }

    /// The last feed row at or before `cursor` (in feed order) and its
    /// asset id, or `None` when there is none.
    pub async fn feed_row_at_or_before(
        &self,
        cursor: ChangeCursor,
    ) -> StoreResult<Option<(ChangeCursor, String)>> {
        let row: Option<(i64, i64, String)> = match self.backend {
            Backend::Sqlite => {
                sqlx::query_as(
                    "SELECT 0, seq, asset_id FROM asset_changes WHERE seq <= $1 \
                     ORDER BY seq DESC LIMIT 1",
                )
                .bind(cursor.seq)
                .fetch_optional(&self.read)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT txid, seq, asset_id FROM asset_changes \
                     WHERE txid < $1 OR (txid = $1 AND seq <= $2) \
                     ORDER BY txid DESC, seq DESC LIMIT 1",
                )
                .bind(cursor.txid)
                .bind(cursor.seq)
                .fetch_optional(&self.read)
                .await?
            }
        };
        Ok(row.map(|(txid, seq, id)| (ChangeCursor { txid, seq }, id)))
    }

    /// The asset id of the feed row at `key`, if that row is still there.
    pub async fn feed_row(&self, key: ChangeCursor) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = match self.backend {
            Backend::Sqlite => {
                sqlx::query_as("SELECT asset_id FROM asset_changes WHERE seq = $1")
                    .bind(key.seq)
                    .fetch_optional(&self.read)
                    .await?
            }
            Backend::Postgres => {
                sqlx::query_as("SELECT asset_id FROM asset_changes WHERE txid = $1 AND seq = $2")
                    .bind(key.txid)
                    .bind(key.seq)
                    .fetch_optional(&self.read)
                    .await?
            }
        };
        Ok(row.map(|(id,)| id))
    }

    /// How many feed rows lie after `cursor`: what replaying from it costs.
    pub async fn changes_after_count(&self, cursor: ChangeCursor) -> StoreResult<i64> {
        let (n,): (i64,) = match self.backend {
            Backend::Sqlite => {
                sqlx::query_as("SELECT COUNT(*) FROM asset_changes WHERE seq > $1")
                    .bind(cursor.seq)
                    .fetch_one(&self.read)
                    .await?
            }
            Backend::Postgres => sqlx::query_as(
                "SELECT COUNT(*) FROM asset_changes WHERE txid > $1 OR (txid = $1 AND seq > $2)",
            )
            .bind(cursor.txid)
            .bind(cursor.seq)
            .fetch_one(&self.read)
            .await?,
        };
        Ok(n)
    }

    /// The oldest transaction that may still be running (PostgreSQL's
    /// `xmin`; on SQLite every visible row is final, so the largest number).
    /// Transaction ids only grow in one cluster, so a horizon below a
    /// stored cursor's means another cluster (a dump restored elsewhere).
    pub async fn feed_horizon(&self) -> StoreResult<i64> {
        match self.backend {
            Backend::Sqlite => Ok(i64::MAX),
            Backend::Postgres => {
                let (h,): (i64,) =
                    sqlx::query_as("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                        .fetch_one(&self.read)
                        .await?;
                Ok(h)
            }
        }
    }

    /// How many assets are stored.
    pub async fn asset_count(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM assets")
            .fetch_one(&self.read)
            .await?;
        Ok(n)
    }
}
