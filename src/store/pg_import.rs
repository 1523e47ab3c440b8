//! Imports into PostgreSQL by `COPY`: a batch is streamed into a temporary
//! table in `COPY`'s text format and written by one upsert from it, instead
//! of multi-row `INSERT`s whose thousands of parameters PostgreSQL parses,
//! plans and binds one by one.
//!
//! sqlx's `Any` driver has no `COPY`, so this path runs on a pool of sqlx's
//! own PostgreSQL driver. It keeps everything the statement path does (see
//! `reimport.rs`): the authority's import lock, the stored rows read and
//! locked in ref order and reconciled by the import mode, rows written in
//! ref order, one `asset_changes` entry per asset in input order, all in
//! one transaction; `tests/api/bulk_import.rs` checks both store the same
//! rows.

use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{PgPool, Postgres, Transaction};

use super::assets::{AssetRow, asset_columns};
use super::changes::ChangeCursor;
use super::reimport::{ImportedBatch, imported, reconcile_batch, ref_order};
use super::{StoreError, StoreResult, StoredAsset, UpsertOutcome, Upserted, conflict, now};
use crate::domain::asset::{AssetDetails, Occupancy, format_date};
use crate::domain::reimport::{Given, ImportMode};
use crate::geojson_io::geometry_json;

/// The staging table, dropped at commit; `ord` is the row's place in the
/// batch, `pos` its place in ref order.
const STAGING: &str = "CREATE TEMPORARY TABLE import_staging ( \
     ord BIGINT NOT NULL, pos BIGINT NOT NULL, id TEXT NOT NULL, ref TEXT NOT NULL, \
     kind TEXT NOT NULL, geometry TEXT NOT NULL, height_m DOUBLE PRECISION, \
     power_supply TEXT NOT NULL, capacity BIGINT NOT NULL, load_rating_kg DOUBLE PRECISION, \
     last_inspected TEXT, install_year BIGINT, status TEXT NOT NULL, listed BIGINT NOT NULL, \
     photo_url TEXT, source_attributes TEXT NOT NULL \
     ) ON COMMIT DROP";

const COPY: &str = "COPY import_staging (ord, pos, id, ref, kind, geometry, height_m, \
     power_supply, capacity, load_rating_kg, last_inspected, install_year, status, listed, \
     photo_url, source_attributes) FROM STDIN";

/// The same upsert as the statement path's (`assets::upsert_rows`), from
/// the staging table in ref order.
const UPSERT: &str = "INSERT INTO assets (id, authority, ref, kind, geometry, height_m, \
     power_supply, capacity, load_rating_kg, last_inspected, install_year, status, listed, \
     photo_url, source_attributes, created_at, updated_at) \
     SELECT id, $1, ref, kind, geometry, height_m, power_supply, capacity, load_rating_kg, \
     last_inspected, install_year, status, listed, photo_url, source_attributes, $2, $2 \
     FROM import_staging ORDER BY pos \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
     geometry = excluded.geometry, height_m = excluded.height_m, \
     power_supply = excluded.power_supply, capacity = excluded.capacity, \
     load_rating_kg = excluded.load_rating_kg, last_inspected = excluded.last_inspected, \
     install_year = excluded.install_year, status = excluded.status, \
     listed = excluded.listed, photo_url = excluded.photo_url, \
     source_attributes = excluded.source_attributes, updated_at = excluded.updated_at, \
     revision = assets.revision + 1 \
     RETURNING id, revision, in_use, installed";

/// Bytes sent to the server per `COPY` data message.
const SEND_CHUNK: usize = 1 << 20;

/// [`super::Store::import_assets`] on PostgreSQL.
pub(super) async fn import_assets(
    pg: &PgPool,
    authority: &str,
    rows: Vec<(AssetDetails, Given)>,
    ids: Vec<String>,
    mode: ImportMode,
) -> StoreResult<ImportedBatch> {
    let mut tx = pg.begin().await?;
    // The import lock, as `Store::begin_import` takes it.
    sqlx::query("SELECT code FROM authorities WHERE code = $1 FOR NO KEY UPDATE")
        .bind(authority)
        .fetch_optional(&mut *tx)
        .await?;
    let stored = locked_rows(&mut tx, &ids).await?;
    let (details, cleared) = reconcile_batch(rows, &ids, stored, mode);
    let order = ref_order(&details);
    let written = upsert(&mut tx, authority, &details, &ids, &order).await?;
    let changes: Vec<(i64, i64)> = sqlx::query_as(
        "INSERT INTO asset_changes (asset_id) SELECT id FROM import_staging ORDER BY ord \
         RETURNING txid, seq",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ImportedBatch {
        rows: imported(written, details, cleared),
        changes: changes
            .into_iter()
            .map(|(txid, seq)| ChangeCursor { txid, seq })
            .collect(),
    })
}

/// The stored rows among `ids`, locked in ref order until `tx` ends.
async fn locked_rows(
    tx: &mut Transaction<'static, Postgres>,
    ids: &[String],
) -> StoreResult<HashMap<String, StoredAsset>> {
    let rows: Vec<AssetRow> = sqlx::query_as(concat!(
        "SELECT ",
        asset_columns!(),
        " FROM assets WHERE id = ANY($1) ORDER BY ref FOR UPDATE"
    ))
    .bind(ids)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let s = row.into_stored()?;
        out.insert(s.id.clone(), s);
    }
    Ok(out)
}

/// Stages `rows` by `COPY` and upserts them in `order`; each row's outcome
/// in input order.
async fn upsert(
    tx: &mut Transaction<'static, Postgres>,
    authority: &str,
    rows: &[AssetDetails],
    ids: &[String],
    order: &[usize],
) -> StoreResult<Vec<Upserted>> {
    sqlx::query(STAGING).execute(&mut **tx).await?;
    let mut pos = vec![0; rows.len()];
    for (p, &i) in order.iter().enumerate() {
        pos[i] = p;
    }
    let mut copy = tx.copy_in_raw(COPY).await?;
    let mut buf = String::with_capacity(SEND_CHUNK + 4096);
    for (i, d) in rows.iter().enumerate() {
        copy_line(&mut buf, i, pos[i], &ids[i], d);
        if buf.len() >= SEND_CHUNK {
            if let Err(e) = copy.send(buf.as_bytes()).await {
                copy.abort("import failed").await.ok();
                return Err(e.into());
            }
            buf.clear();
        }
    }
    if !buf.is_empty()
        && let Err(e) = copy.send(buf.as_bytes()).await
    {
        copy.abort("import failed").await.ok();
        return Err(e.into());
    }
    copy.finish().await?;
    let written: Vec<(String, i64, i64, i64)> = sqlx::query_as(UPSERT)
        .bind(authority)
        .bind(now())
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::NotFound(format!("authority {authority:?}"))
            }
            _ => conflict(e, || format!("assets of authority {authority:?}")),
        })?;
    let count = |v: i64| u32::try_from(v).unwrap_or(0);
    let mut by_id: HashMap<String, (i64, i64, i64)> = written
        .into_iter()
        .map(|(id, revision, in_use, installed)| (id, (revision, in_use, installed)))
        .collect();
    ids.iter()
        .map(|id| {
            let (revision, in_use, installed) = by_id
                .remove(id)
                .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
            Ok(Upserted {
                id: id.clone(),
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
            })
        })
        .collect()
}

/// One row in `COPY`'s text format: tab-separated, `\N` for NULL.
fn copy_line(buf: &mut String, ord: usize, pos: usize, id: &str, d: &AssetDetails) {
    let mut num = itoa::Buffer::new();
    buf.push_str(num.format(ord));
    buf.push('\t');
    buf.push_str(num.format(pos));
    buf.push('\t');
    text(buf, Some(id));
    text(buf, Some(&d.asset_ref));
    text(buf, Some(d.kind.as_str()));
    text(buf, Some(&geometry_json(&d.geometry)));
    float(buf, d.height_m);
    text(buf, Some(d.power_supply.as_str()));
    buf.push_str(num.format(d.capacity));
    buf.push('\t');
    float(buf, d.load_rating_kg);
    text(buf, d.last_inspected.map(format_date).as_deref());
    match d.install_year {
        Some(y) => buf.push_str(num.format(y)),
        None => buf.push_str("\\N"),
    }
    buf.push('\t');
    text(buf, Some(d.status.as_str()));
    buf.push_str(if d.listed { "1" } else { "0" });
    buf.push('\t');
    text(buf, d.photo_url.as_deref());
    text(buf, Some(d.source_attributes.as_json()));
    // Every field ends with a tab; the last one ends the line instead.
    buf.pop();
    buf.push('\n');
}

/// A text field and its tab, escaped for `COPY`'s text format.
fn text(buf: &mut String, value: Option<&str>) {
    match value {
        None => buf.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    c => buf.push(c),
                }
            }
        }
    }
    buf.push('\t');
}

/// A double and its tab: Rust's shortest text that reads back as the same
/// `f64`, which PostgreSQL's `float8` input reads exactly too.
fn float(buf: &mut String, value: Option<f64>) {
    match value {
        Some(v) => {
            let _ = write!(buf, "{v}");
        }
        None => buf.push_str("\\N"),
    }
    buf.push('\t');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_escape_what_copy_reads_as_syntax() {
        let mut buf = String::new();
        text(&mut buf, Some("a\\b\tc\nd\re é"));
        text(&mut buf, None);
        assert_eq!(buf, "a\\\\b\\tc\\nd\\re é\t\\N\t");
    }

    #[test]
    fn floats_read_back_exactly() {
        for v in [0.1, 5.0, 1e-300, 1.7976931348623157e308, -2.5e-7] {
            let mut buf = String::new();
            float(&mut buf, Some(v));
            assert_eq!(buf.trim_end().parse::<f64>().unwrap(), v);
        }
    }
}
