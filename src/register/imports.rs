//! Imports: parsed rows written in batches, one transaction each, with a
//! report of the rows refused.

use super::Register;
use crate::domain::asset::AssetDetails;
use crate::store::{Store, StoreResult, UpsertOutcome};

/// One row an import refused, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// CSV line number, or 1-based feature number in GeoJSON.
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// What an import did: the JSON both the CLI (`--json`) and HTTP answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// New assets.
    pub inserted: usize,
    /// Existing assets (same authority and ref) replaced.
    pub updated: usize,
    /// Rows refused, in file order.
    pub rejected: Vec<Rejection>,
}

/// Where imported rows are written.
pub enum ImportTarget<'a> {
    /// A running service: database and index.
    Register(&'a Register),
    /// The database alone (the CLI); a running server picks the rows up
    /// from the change log.
    Store(&'a Store),
}

/// Rows written per transaction: big enough to amortise commits, small
/// enough that one bad batch or a crash loses little work.
pub const IMPORT_BATCH: usize = 1000;

/// Writes the good rows of a parsed file in batches, one transaction each,
/// and reports the bad ones. `progress` is told how many rows are done.
pub async fn import_rows(
    target: ImportTarget<'_>,
    authority: &str,
    rows: Vec<crate::import::ParsedRow>,
    progress: &(dyn Fn(usize) + Sync),
) -> StoreResult<ImportReport> {
    let mut report = ImportReport::default();
    let mut good = Vec::new();
    for row in rows {
        match row.outcome {
            Ok(details) => good.push(details),
            Err(reason) => report.rejected.push(Rejection {
                line: row.line,
                reason,
            }),
        }
    }
    let mut done = report.rejected.len();
    progress(done);
    let mut rest = good.into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<AssetDetails> = rest.by_ref().take(IMPORT_BATCH).collect();
        let n = batch.len();
        match target {
            ImportTarget::Register(r) => {
                let s = r.upsert(authority, batch).await?;
                report.inserted += s.inserted;
                report.updated += s.updated;
            }
            ImportTarget::Store(s) => {
                for w in s.upsert_assets(authority, &batch).await? {
                    match w.outcome {
                        UpsertOutcome::Inserted => report.inserted += 1,
                        UpsertOutcome::Updated => report.updated += 1,
                    }
                }
            }
        }
        done += n;
        progress(done);
    }
    Ok(report)
}
