//! The change feed other processes follow: every asset write appends the
//! asset's id to `asset_changes` in its own transaction, and a replica
//! re-reads the ids it has not applied yet.
//!
//! The feed must have no gaps. Sequence numbers are handed out when a row is
//! inserted, not when its transaction commits, so on PostgreSQL a long
//! import can commit numbers lower than those of a quick edit that a reader
//! has already passed. Each row therefore also records the id of the
//! transaction that wrote it (`txid`), and a reader walks rows in
//! `(txid, seq)` order, moving its cursor only over rows of transactions
//! older than the oldest one still running when it read
//! (`pg_snapshot_xmin`): those can gain no more rows. Rows of younger
//! transactions are applied as soon as they are visible, and read again
//! until the horizon passes them (applying a change twice is harmless: it
//! re-reads the asset). SQLite has one writer at a time, so commits follow
//! sequence order and every row is final as soon as it is visible.

use sqlx::{Any, Transaction};

use super::{Backend, Store, StoreResult};

/// Where a reader of the feed stands: every row at or before
/// `(txid, seq)` in `(txid, seq)` order is applied and final.
///
/// It is also the key of one row of the feed (ordered as the feed is read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeCursor {
    pub(super) txid: i64,
    pub(super) seq: i64,
}

/// One read of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeBatch {
    /// The rows read: each row's key and asset id, in feed order.
    pub rows: Vec<(ChangeCursor, String)>,
    /// The cursor after this batch.
    pub next: ChangeCursor,
    /// True when the read hit its row limit: read again at once.
    pub more: bool,
}

/// Rows read at most per batch.
const BATCH: i64 = 10_000;

impl Store {
    /// The cursor a reader starts from when it loads everything now: all
    /// rows that can no longer change are behind it.
    pub async fn change_cursor(&self) -> StoreResult<ChangeCursor> {
        match self.backend {
            Backend::Sqlite => {
                let (seq,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM asset_changes")
                    .fetch_one(&self.read)
                    .await?;
                Ok(ChangeCursor {
                    txid: 0,
                    seq: seq.unwrap_or(0),
                })
            }
            Backend::Postgres => {
                let (horizon,): (i64,) =
                    sqlx::query_as("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                        .fetch_one(&self.read)
                        .await?;
                // Transactions below the horizon have finished, so whatever
                // is loaded after this includes them.
                Ok(ChangeCursor {
                    txid: horizon - 1,
                    seq: i64::MAX,
                })
            }
        }
    }

    /// Asset ids written after `cursor`, and where to read from next.
    pub async fn changes_after(&self, cursor: ChangeCursor) -> StoreResult<ChangeBatch> {
        // One snapshot for the horizon and the rows: every transaction
        // below the horizon is either visible in it or never will be.
        let mut tx = match self.backend {
            Backend::Sqlite => self.read.begin().await?,
            Backend::Postgres => {
                self.read
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let horizon: i64 = match self.backend {
            Backend::Sqlite => i64::MAX,
            Backend::Postgres => {
                sqlx::query_as::<_, (i64,)>(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                )
                .fetch_one(&mut *tx)
                .await?
                .0
            }
        };
        let rows: Vec<(i64, i64, String)> = match self.backend {
            Backend::Sqlite => {
                sqlx::query_as(
                    "SELECT 0, seq, asset_id FROM asset_changes \
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(cursor.seq)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT txid, seq, asset_id FROM asset_changes \
                     WHERE txid > $1 OR (txid = $1 AND seq > $2) ORDER BY txid, seq LIMIT $3",
                )
                .bind(cursor.txid)
                .bind(cursor.seq)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        let more = rows.len() as i64 == BATCH;
        let next = rows
            .iter()
            .take_while(|(txid, _, _)| *txid < horizon)
            .last()
            .map_or(cursor, |&(txid, seq, _)| ChangeCursor { txid, seq });
        let rows = rows
            .into_iter()
            .map(|(txid, seq, id)| (ChangeCursor { txid, seq }, id))
            .collect();
        // A full batch that could not move the cursor would be read again
        // forever; it means over `BATCH` rows wait behind one transaction.
        Ok(ChangeBatch {
            rows,
            more: more && next != cursor,
            next,
        })
    }

    /// How many boundary-layer replacements have committed. Rows are only
    /// ever added, so a different count means a replacement this reader has
    /// not applied (a maximum sequence number would miss one that commits
    /// below a number already seen).
    pub async fn area_change_count(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM area_changes")
            .fetch_one(&self.read)
            .await?;
        Ok(n)
    }
}

/// Appends `id` to the feed inside the writer's transaction.
pub(super) async fn record_change(tx: &mut Transaction<'static, Any>, id: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO asset_changes (asset_id) VALUES ($1)")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends every id of `ids` to the feed inside the writer's transaction,
/// many rows per statement (an import writes thousands at once); returns
/// the rows' keys, in no particular order.
pub(super) async fn record_changes(
    tx: &mut Transaction<'static, Any>,
    ids: &[String],
) -> StoreResult<Vec<ChangeCursor>> {
    let sqlite = tx.backend_name() == "SQLite";
    let mut keys = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        let mut sql = String::with_capacity(48 + chunk.len() * 8);
        sql.push_str("INSERT INTO asset_changes (asset_id) VALUES ");
        for k in 1..=chunk.len() {
            if k > 1 {
                sql.push(',');
            }
            sql.push('(');
            super::push_param(&mut sql, tx, k);
            sql.push(')');
        }
        sql.push_str(if sqlite {
            " RETURNING 0, seq"
        } else {
            " RETURNING txid, seq"
        });
        let mut query = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.clone());
        }
        for (txid, seq) in query.fetch_all(&mut **tx).await? {
            keys.push(ChangeCursor { txid, seq });
        }
    }
    Ok(keys)
}
