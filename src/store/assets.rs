//! Assets and boundary layers.

use sqlx::{Any, FromRow, Transaction};

use super::changes::{ChangeCursor, record_change, record_changes};
use super::{Backend, Store, StoreError, StoreResult, conflict, now, parse_stored};
use crate::domain::asset::SourceAttributes;
use crate::domain::asset::{AssetDetails, Occupancy, asset_id, format_date, parse_date};
use crate::geojson_io::{geometry_json, parse_geometry_text};

/// What an upsert did to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// A new asset.
    Inserted,
    /// An existing asset (same authority and ref) was replaced.
    Updated,
}

#[derive(FromRow)]
pub(super) struct AssetRow {
    id: String,
    authority: String,
    #[sqlx(rename = "ref")]
    asset_ref: String,
    kind: String,
    geometry: String,
    height_m: Option<f64>,
    power_supply: String,
    capacity: i64,
    load_rating_kg: Option<f64>,
    last_inspected: Option<String>,
    install_year: Option<i64>,
    status: String,
    listed: i64,
    photo_url: Option<String>,
    source_attributes: String,
    in_use: i64,
    installed: i64,
    revision: i64,
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The asset is gone.
    Yes,
    /// There was no such asset.
    NotFound,
    /// Live applications or installations hold it: kept.
    Held,
}

/// One row an upsert wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    /// The asset id.
    pub id: String,
    /// Inserted or updated.
    pub outcome: UpsertOutcome,
    /// The capacity taken, as stored (an update keeps it).
    pub occupancy: Occupancy,
    /// The row's revision after the write.
    pub revision: i64,
}

/// An asset as stored: identity, the council's fields and the capacity
/// taken (placement is derived by the register).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAsset {
    /// The asset id.
    pub id: String,
    /// The owning authority's code.
    pub authority: String,
    /// The council's fields.
    pub details: AssetDetails,
    /// Capacity taken by applications and installations.
    pub occupancy: Occupancy,
    /// 1 when inserted, +1 on every write of the council's fields.
    pub revision: i64,
}

impl AssetRow {
    pub(super) fn into_stored(self) -> StoreResult<StoredAsset> {
        let corrupt =
            |what: &str, e: String| StoreError::Corrupt(format!("asset {}: {what}: {e}", self.id));
        let geometry = parse_geometry_text(&self.geometry).map_err(|e| corrupt("geometry", e))?;
        let last_inspected = match &self.last_inspected {
            Some(d) => Some(parse_date(d).map_err(|e| corrupt("last_inspected", e.to_string()))?),
            None => None,
        };
        let source_attributes = SourceAttributes::from_json(&self.source_attributes)
            .map_err(|e| corrupt("source_attributes", e.to_string()))?;
        let details = AssetDetails {
            asset_ref: self.asset_ref,
            kind: parse_stored("kind", &self.kind)?,
            geometry,
            height_m: self.height_m,
            power_supply: parse_stored("power_supply", &self.power_supply)?,
            capacity: u32::try_from(self.capacity).unwrap_or(1),
            load_rating_kg: self.load_rating_kg,
            last_inspected,
            install_year: self.install_year.and_then(|y| i32::try_from(y).ok()),
            status: parse_stored("status", &self.status)?,
            listed: self.listed != 0,
            photo_url: self.photo_url.map(String::into_boxed_str),
            source_attributes,
        };
        let count = |v: i64| u32::try_from(v).unwrap_or(0);
        Ok(StoredAsset {
            revision: self.revision,
            occupancy: Occupancy {
                in_use: count(self.in_use),
                installed: count(self.installed),
            },
            id: self.id,
            authority: self.authority,
            details,
        })
    }
}

/// The columns [`AssetRow`] reads, as a literal so queries stay `&'static str`.
macro_rules! asset_columns {
    () => {
        "id, authority, ref, kind, geometry, height_m, power_supply, capacity, \
         load_rating_kg, last_inspected, install_year, status, listed, photo_url, \
         source_attributes, in_use, installed, revision"
    };
}
pub(super) use asset_columns;

impl Store {
    /// Every asset, in storage order.
    ///
    /// No `ORDER BY id`: in SQLite that walks the id index and looks each
    /// row up in the table, one random read per asset (1M rows with
    /// Python's sqlite3 on the bench database: 3.7 s against 1.5-2.0 s in
    /// storage order with the file cached; 23 s when it ran first, on a
    /// cold cache), while the index sorts the ids itself in about 60 ms
    /// more than it takes for sorted input. Rows are decoded as they stream in, so the whole table is
    /// never held twice (as rows and as assets).
    pub async fn all_assets(&self) -> StoreResult<Vec<StoredAsset>> {
        use futures_util::TryStreamExt;
        let mut rows =
            sqlx::query_as::<_, AssetRow>(concat!("SELECT ", asset_columns!(), " FROM assets"))
                .fetch(&self.read);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await? {
            out.push(row.into_stored()?);
        }
        Ok(out)
    }

    /// Some assets by id (for patching the index after another replica's
    /// writes), in no particular order; ids not found are left out. One
    /// query per 500 ids: a CLI import of a whole register shows up as
    /// hundreds of thousands of changed ids.
    pub async fn assets_by_id(&self, ids: &[String]) -> StoreResult<Vec<StoredAsset>> {
        const CHUNK: usize = 500;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut placeholders = String::with_capacity(chunk.len() * 6);
            for i in 1..=chunk.len() {
                if i > 1 {
                    placeholders.push_str(", ");
                }
                super::push_param_for(&mut placeholders, self.backend == Backend::Sqlite, i);
            }
            let sql = format!(
                concat!("SELECT ", asset_columns!(), " FROM assets WHERE id IN ({})"),
                placeholders
            );
            let mut query = sqlx::query_as::<_, AssetRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.read).await? {
                out.push(row.into_stored()?);
            }
        }
        Ok(out)
    }

    /// Inserts or replaces assets of one authority, keyed by their ref, in
    /// one transaction. Returns each row's id and what happened.
    pub async fn upsert_assets(
        &self,
        authority: &str,
        rows: &[AssetDetails],
    ) -> StoreResult<Vec<Upserted>> {
        // Write (and so lock) rows in ref order: two imports listing the same
        // refs in different orders would otherwise deadlock on PostgreSQL.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| rows[a].asset_ref.cmp(&rows[b].asset_ref));
        let ids: Vec<String> = rows
            .iter()
            .map(|d| asset_id(authority, &d.asset_ref))
            .collect();
        let mut tx = self.write.begin().await?;
        let (out, _) = upsert_in(&mut tx, authority, rows, &ids, order).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Adds one new asset; a ref the authority already has is a conflict,
    /// decided by the primary key (the id derives from the ref), so two
    /// concurrent adds of one ref cannot both succeed.
    pub async fn insert_asset(&self, authority: &str, d: &AssetDetails) -> StoreResult<String> {
        let id = asset_id(authority, &d.asset_ref);
        let mut tx = self.write.begin().await?;
        let stamp = now();
        sqlx::query(
            "INSERT INTO assets (id, authority, ref, kind, geometry, height_m, power_supply, \
             capacity, load_rating_kg, last_inspected, install_year, status, listed, photo_url, \
             source_attributes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        )
        .persistent(false) // see upsert_rows
        .bind(&id)
        .bind(authority)
        .bind(&d.asset_ref)
        .bind(d.kind.as_str())
        .bind(geometry_json(&d.geometry))
        .bind(d.height_m)
        .bind(d.power_supply.as_str())
        .bind(i64::from(d.capacity))
        .bind(d.load_rating_kg)
        .bind(d.last_inspected.map(format_date))
        .bind(d.install_year.map(i64::from))
        .bind(d.status.as_str())
        .bind(i64::from(d.listed))
        .bind(d.photo_url.as_deref())
        .bind(d.source_attributes.as_json())
        .bind(stamp)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("asset ref {:?} (as {id})", d.asset_ref)))?;
        record_change(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Edits the asset `id` inside one transaction: `edit` gets the row as
    /// stored now (locked against other writers until commit) and returns
    /// its new details, so concurrent edits each build on the last instead
    /// of overwriting it. With `expect_revision`, a row at another revision
    /// is [`StoreError::Stale`] and nothing is written.
    pub async fn modify_asset<E: From<StoreError>>(
        &self,
        id: &str,
        expect_revision: Option<i64>,
        edit: impl FnOnce(&StoredAsset) -> Result<AssetDetails, E>,
    ) -> Result<(), E> {
        let (mut tx, select) = match self.backend {
            // IMMEDIATE takes the write lock now: a deferred transaction that
            // reads and then writes could fail on another process's write.
            Backend::Sqlite => (
                self.write
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(StoreError::from)?,
                concat!("SELECT ", asset_columns!(), " FROM assets WHERE id = $1"),
            ),
            Backend::Postgres => (
                self.write.begin().await.map_err(StoreError::from)?,
                concat!(
                    "SELECT ",
                    asset_columns!(),
                    " FROM assets WHERE id = $1 FOR UPDATE"
                ),
            ),
        };
        let row: Option<AssetRow> = sqlx::query_as(select)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!("asset {id:?}")).into());
        };
        let current = row.into_stored()?;
        if let Some(expected) = expect_revision
            && expected != current.revision
        {
            return Err(StoreError::Stale {
                current: current.revision,
            }
            .into());
        }
        let d = edit(&current)?;
        sqlx::query(
            "UPDATE assets SET ref = $2, kind = $3, geometry = $4, height_m = $5, \
             power_supply = $6, capacity = $7, load_rating_kg = $8, last_inspected = $9, \
             install_year = $10, status = $11, listed = $12, photo_url = $13, \
             source_attributes = $14, updated_at = $15, revision = revision + 1 \
             WHERE id = $1",
        )
        .persistent(false) // see upsert_rows
        .bind(id)
        .bind(&d.asset_ref)
        .bind(d.kind.as_str())
        .bind(geometry_json(&d.geometry))
        .bind(d.height_m)
        .bind(d.power_supply.as_str())
        .bind(i64::from(d.capacity))
        .bind(d.load_rating_kg)
        .bind(d.last_inspected.map(format_date))
        .bind(d.install_year.map(i64::from))
        .bind(d.status.as_str())
        .bind(i64::from(d.listed))
        .bind(d.photo_url.as_deref())
        .bind(d.source_attributes.as_json())
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("ref {:?}", d.asset_ref)))?;
        record_change(&mut tx, id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Deletes an asset unless its capacity is held (by live applications or
    /// installations): deleting it would let the same ref come back with its
    /// holds forgotten. Decided in the statement, so an application
    /// committing meanwhile cannot slip between a check and the delete.
    pub async fn delete_asset(&self, id: &str) -> StoreResult<Deleted> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query("DELETE FROM assets WHERE id = $1 AND in_use = 0 AND installed = 0")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            let held: Option<(i64,)> = sqlx::query_as("SELECT in_use FROM assets WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(if held.is_some() {
                Deleted::Held
            } else {
                Deleted::NotFound
            });
        }
        record_change(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Deleted::Yes)
    }
}

/// Rows per multi-row INSERT: one statement parsed and sent for many rows
/// (17,000 values on SQLite, 16,000 on PostgreSQL: below SQLite's 32,766
/// bind parameters and PostgreSQL's 65,535).
const ROWS_PER_STATEMENT: usize = 1000;

/// Upserts `rows` (whose ids are `ids`) in `order` inside `tx`, recording
/// the changes; returns each row's id and what happened, in input order,
/// and the keys of the change-feed rows.
pub(super) async fn upsert_in(
    tx: &mut Transaction<'static, Any>,
    authority: &str,
    rows: &[AssetDetails],
    ids: &[String],
    order: Vec<usize>,
) -> StoreResult<(Vec<Upserted>, Vec<ChangeCursor>)> {
    let mut out = vec![None; rows.len()];
    // One statement writes many rows; a ref repeated in the file starts a
    // new statement, since one INSERT .. ON CONFLICT may not touch a row
    // twice (the later row then updates the earlier, as row by row would).
    let mut chunk: Vec<usize> = Vec::with_capacity(ROWS_PER_STATEMENT);
    for i in order {
        let repeated = chunk.last().is_some_and(|&j| ids[j] == ids[i]);
        if chunk.len() == ROWS_PER_STATEMENT || repeated {
            upsert_rows(tx, authority, rows, ids, &chunk, &mut out).await?;
            chunk.clear();
        }
        chunk.push(i);
    }
    if !chunk.is_empty() {
        upsert_rows(tx, authority, rows, ids, &chunk, &mut out).await?;
    }
    let changes = record_changes(tx, ids).await?;
    Ok((
        out.into_iter()
            .map(|o| o.expect("every row written"))
            .collect(),
        changes,
    ))
}

/// Upserts `rows[i]` for each `i` in `chunk` (no id twice) in one statement,
/// filling `out[i]`.
async fn upsert_rows(
    tx: &mut Transaction<'static, Any>,
    authority: &str,
    rows: &[AssetDetails],
    ids: &[String],
    chunk: &[usize],
    out: &mut [Option<Upserted>],
) -> StoreResult<()> {
    const COLUMNS: usize = 16;
    let mut sql = String::with_capacity(300 + chunk.len() * 100);
    sql.push_str(
        "INSERT INTO assets (id, authority, ref, kind, geometry, height_m, power_supply, \
         capacity, load_rating_kg, last_inspected, install_year, status, listed, photo_url, \
         source_attributes, created_at, updated_at) VALUES ",
    );
    for k in 0..chunk.len() {
        let first = k * COLUMNS + 1;
        if k > 0 {
            sql.push(',');
        }
        sql.push('(');
        for p in first..first + COLUMNS {
            super::push_param(&mut sql, tx, p);
            sql.push(',');
        }
        // created_at and updated_at are the same stamp (bound twice when
        // placeholders are anonymous).
        super::push_param(&mut sql, tx, first + COLUMNS - 1);
        sql.push(')');
    }
    sql.push_str(
        " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
         geometry = excluded.geometry, height_m = excluded.height_m, \
         power_supply = excluded.power_supply, capacity = excluded.capacity, \
         load_rating_kg = excluded.load_rating_kg, last_inspected = excluded.last_inspected, \
         install_year = excluded.install_year, status = excluded.status, \
         listed = excluded.listed, photo_url = excluded.photo_url, \
         source_attributes = excluded.source_attributes, updated_at = excluded.updated_at, \
         revision = assets.revision + 1 \
         RETURNING id, revision, in_use, installed",
    );
    let stamp = now();
    let anonymous = tx.backend_name() == "SQLite";
    // Not cached: sqlx 0.9's Any driver declares a NULL f64 as float4, and
    // PostgreSQL would then hold a cached statement to that type and refuse
    // the next row that has a height (transact-rs/sqlx#4290).
    let mut query =
        sqlx::query_as::<_, (String, i64, i64, i64)>(sqlx::AssertSqlSafe(sql)).persistent(false);
    for &i in chunk {
        let d = &rows[i];
        query = query
            .bind(ids[i].clone())
            .bind(authority.to_string())
            .bind(d.asset_ref.clone())
            .bind(d.kind.as_str())
            .bind(geometry_json(&d.geometry))
            .bind(d.height_m)
            .bind(d.power_supply.as_str())
            .bind(i64::from(d.capacity))
            .bind(d.load_rating_kg)
            .bind(d.last_inspected.map(format_date))
            .bind(d.install_year.map(i64::from))
            .bind(d.status.as_str())
            .bind(i64::from(d.listed))
            .bind(d.photo_url.as_deref())
            .bind(d.source_attributes.as_json())
            .bind(stamp.clone());
        if anonymous {
            query = query.bind(stamp.clone());
        }
    }
    let written = query.fetch_all(&mut **tx).await.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::NotFound(format!("authority {authority:?}"))
        }
        _ => conflict(e, || format!("assets of authority {authority:?}")),
    })?;
    let count = |v: i64| u32::try_from(v).unwrap_or(0);
    let mut by_id: std::collections::HashMap<String, (i64, i64, i64)> = written
        .into_iter()
        .map(|(id, revision, in_use, installed)| (id, (revision, in_use, installed)))
        .collect();
    for &i in chunk {
        let (revision, in_use, installed) = by_id
            .remove(&ids[i])
            .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))?;
        out[i] = Some(Upserted {
            id: ids[i].clone(),
            outcome: if revision == 1 {
                UpsertOutcome::Inserted
            } else {
                UpsertOutcome::Updated
            },
            occupancy: Occupancy {
                in_use: count(in_use),
                installed: count(installed),
            },
            revision,
        });
    }
    Ok(())
}
