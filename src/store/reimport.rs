//! Imports that meet the stored register: a batch reconciled with the rows
//! it updates (`merge` keeps what the file leaves out, `replace` clears it
//! and says what), and the removal of the assets a whole-register file no
//! longer lists.
//!
//! Each runs in one transaction that first takes an import lock on the
//! authority (PostgreSQL: `FOR NO KEY UPDATE` on its row, which does not
//! block inserts' foreign-key checks; SQLite: `BEGIN IMMEDIATE`, the
//! database's write lock), so batches of concurrent imports of one council
//! do not interleave their row locks and deadlock; then the stored rows are
//! read and locked (`FOR UPDATE`, in ref order as the upsert writes them),
//! so a PATCH committing meanwhile is neither lost nor overwritten.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Transaction};

use super::assets::{AssetRow, asset_columns, upsert_in};
use super::changes::{ChangeCursor, record_changes};
use super::{Backend, Store, StoreResult, StoredAsset, Upserted, now};
use crate::domain::asset::{AssetDetails, asset_id};
use crate::domain::reimport::{Given, ImportMode, reconcile};

/// Ids per `IN (...)` list.
const CHUNK: usize = 500;

/// One row an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Id, inserted or updated, occupancy and revision.
    pub written: Upserted,
    /// The asset as stored (for merge, with the kept values).
    pub details: AssetDetails,
    /// Stored values the write cleared: field names, and
    /// `source_attributes.KEY` for each source attribute dropped.
    pub cleared: Vec<String>,
}

/// What one batch of an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedBatch {
    /// Each row, in input order.
    pub rows: Vec<Imported>,
    /// The keys of the batch's change-feed rows (one per row, in no
    /// particular order): the writer publishes these rows itself, so its
    /// own `catch_up` may pass over them.
    pub changes: Vec<ChangeCursor>,
}

/// What removing the unlisted assets did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unlisted {
    /// Assets deleted.
    pub removed: Vec<String>,
    /// Assets held by live applications or installations, kept and made
    /// `unavailable` (those already unavailable are listed too).
    pub retired: Vec<String>,
}

/// Each row reconciled by `mode` with the asset stored under its id (from
/// `stored`): the details to write and the stored values they clear.
pub(super) fn reconcile_batch(
    rows: Vec<(AssetDetails, Given)>,
    ids: &[String],
    mut stored: HashMap<String, StoredAsset>,
    mode: ImportMode,
) -> (Vec<AssetDetails>, Vec<Vec<String>>) {
    let mut details = Vec::with_capacity(rows.len());
    let mut cleared = Vec::with_capacity(rows.len());
    for ((row, given), id) in rows.into_iter().zip(ids) {
        let (d, c) = match stored.remove(id) {
            Some(s) => reconcile(&s.details, row, given, mode),
            None => (row, Vec::new()),
        };
        details.push(d);
        cleared.push(c);
    }
    (details, cleared)
}

/// Whether an id appears twice.
fn repeats(ids: &[String]) -> bool {
    let mut seen = HashSet::with_capacity(ids.len());
    !ids.iter().all(|id| seen.insert(id.as_str()))
}

/// Indexes of `details` in ref order: the order rows are locked and written
/// in, so concurrent imports of one council take row locks alike.
pub(super) fn ref_order(details: &[AssetDetails]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..details.len()).collect();
    order.sort_by(|&a, &b| details[a].asset_ref.cmp(&details[b].asset_ref));
    order
}

/// What was written, row by row, in input order.
pub(super) fn imported(
    written: Vec<Upserted>,
    details: Vec<AssetDetails>,
    cleared: Vec<Vec<String>>,
) -> Vec<Imported> {
    written
        .into_iter()
        .zip(details)
        .zip(cleared)
        .map(|((written, details), cleared)| Imported {
            written,
            details,
            cleared,
        })
        .collect()
}

impl Store {
    /// Opens an import's transaction holding the authority's import lock.
    async fn begin_import(&self, authority: &str) -> StoreResult<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => Ok(self.write.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.write.begin().await?;
                sqlx::query("SELECT code FROM authorities WHERE code = $1 FOR NO KEY UPDATE")
                    .bind(authority)
                    .fetch_optional(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// Writes one batch of imported rows of `authority` (no ref twice),
    /// each reconciled with the asset stored under its ref by `mode`.
    /// Returns what was written, in input order.
    ///
    /// On PostgreSQL the rows go in by `COPY` into a temporary table and one
    /// upsert from it (see `pg_import`); elsewhere by multi-row statements.
    /// Both take the same locks in the same order and store the same rows.
    pub async fn import_assets(
        &self,
        authority: &str,
        rows: Vec<(AssetDetails, Given)>,
        mode: ImportMode,
    ) -> StoreResult<ImportedBatch> {
        let ids: Vec<String> = rows
            .iter()
            .map(|(d, _)| asset_id(authority, &d.asset_ref))
            .collect();
        match &self.pg {
            // A ref twice would have one upsert touch a row twice, which
            // PostgreSQL refuses; the statement path splits such batches.
            Some(pg) if !repeats(&ids) => {
                super::pg_import::import_assets(pg, authority, rows, ids, mode).await
            }
            _ => self.write_import(authority, rows, ids, mode).await,
        }
    }

    /// [`Store::import_assets`] by multi-row `INSERT` statements whatever
    /// the database (what SQLite always does): public so tests can compare
    /// PostgreSQL's `COPY` path with it.
    #[doc(hidden)]
    pub async fn import_assets_by_statements(
        &self,
        authority: &str,
        rows: Vec<(AssetDetails, Given)>,
        mode: ImportMode,
    ) -> StoreResult<ImportedBatch> {
        let ids: Vec<String> = rows
            .iter()
            .map(|(d, _)| asset_id(authority, &d.asset_ref))
            .collect();
        self.write_import(authority, rows, ids, mode).await
    }

    /// [`Store::import_assets_by_statements`] with the rows' ids.
    async fn write_import(
        &self,
        authority: &str,
        rows: Vec<(AssetDetails, Given)>,
        ids: Vec<String>,
        mode: ImportMode,
    ) -> StoreResult<ImportedBatch> {
        let mut tx = self.begin_import(authority).await?;
        let stored = self.locked_rows(&mut tx, &ids).await?;
        let (details, cleared) = reconcile_batch(rows, &ids, stored, mode);
        // Written in ref order, the order the rows were locked in.
        let order = ref_order(&details);
        let (written, changes) = upsert_in(&mut tx, authority, &details, &ids, order).await?;
        tx.commit().await?;
        Ok(ImportedBatch {
            rows: imported(written, details, cleared),
            changes,
        })
    }

    /// The stored rows among `ids`, locked until `tx` ends (PostgreSQL; on
    /// SQLite the transaction holds the write lock already).
    async fn locked_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        ids: &[String],
    ) -> StoreResult<HashMap<String, StoredAsset>> {
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut placeholders = String::with_capacity(chunk.len() * 6);
            for i in 1..=chunk.len() {
                if i > 1 {
                    placeholders.push_str(", ");
                }
                super::push_param_for(&mut placeholders, self.backend == Backend::Sqlite, i);
            }
            let sql = format!(
                concat!(
                    "SELECT ",
                    asset_columns!(),
                    " FROM assets WHERE id IN ({}) ORDER BY ref{}"
                ),
                placeholders, lock
            );
            let mut query = sqlx::query_as::<_, AssetRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&mut **tx).await? {
                let s = row.into_stored()?;
                out.insert(s.id.clone(), s);
            }
        }
        Ok(out)
    }

    /// The ids of `authority`'s assets not in `listed`.
    async fn unlisted_ids<'e>(
        db: impl sqlx::Executor<'e, Database = Any>,
        authority: &str,
        listed: &HashSet<String>,
    ) -> StoreResult<Vec<String>> {
        let all: Vec<(String,)> = sqlx::query_as("SELECT id FROM assets WHERE authority = $1")
            .bind(authority)
            .fetch_all(db)
            .await?;
        let mut ids: Vec<String> = all
            .into_iter()
            .map(|(id,)| id)
            .filter(|id| !listed.contains(id))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// How many of `authority`'s assets are not in `listed`.
    pub async fn count_unlisted(
        &self,
        authority: &str,
        listed: &HashSet<String>,
    ) -> StoreResult<usize> {
        Ok(Self::unlisted_ids(&self.read, authority, listed)
            .await?
            .len())
    }

    /// Removes `authority`'s assets whose ids are not in `listed`, in one
    /// transaction: deleted when nothing holds them, else (live
    /// applications or installations hold them, and their agreements keep
    /// naming them) made `unavailable`, so no new application takes them.
    pub async fn remove_unlisted(
        &self,
        authority: &str,
        listed: &HashSet<String>,
    ) -> StoreResult<Unlisted> {
        let mut tx = self.begin_import(authority).await?;
        let absent = Self::unlisted_ids(&mut *tx, authority, listed).await?;
        let mut out = Unlisted::default();
        let mut changed = Vec::new();
        for chunk in absent.chunks(CHUNK) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let list = list.join(", ");
            // Held or not is decided in the statement, as `delete_asset` does.
            let sql = format!(
                "DELETE FROM assets WHERE id IN ({list}) AND in_use = 0 AND installed = 0 RETURNING id"
            );
            let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            let deleted: HashSet<String> = q
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .collect();
            let held: Vec<&String> = chunk.iter().filter(|id| !deleted.contains(*id)).collect();
            if !held.is_empty() {
                let n = held.len();
                let list: Vec<String> = (2..=n + 1).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "UPDATE assets SET status = 'unavailable', updated_at = $1, \
                     revision = revision + 1 \
                     WHERE id IN ({}) AND status <> 'unavailable' RETURNING id",
                    list.join(", ")
                );
                let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql)).bind(now());
                for id in &held {
                    q = q.bind(*id);
                }
                for (id,) in q.fetch_all(&mut *tx).await? {
                    changed.push(id);
                }
                out.retired.extend(held.into_iter().cloned());
            }
            changed.extend(deleted.iter().cloned());
            out.removed
                .extend(chunk.iter().filter(|id| deleted.contains(*id)).cloned());
        }
        record_changes(&mut tx, &changed).await?;
        tx.commit().await?;
        Ok(out)
    }
}
