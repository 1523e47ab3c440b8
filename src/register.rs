//! The asset register as the rest of the service sees it: the database and
//! the in-memory indexes kept in step.
//!
//! Every write goes to the database first (the record of truth) and then to
//! the indexes, so a crash between the two loses nothing: start-up reloads
//! the indexes from the database. Other processes writing the same database
//! (a CLI import, another replica) are picked up by [`Register::catch_up`],
//! which the server runs every second from the `asset_changes` log.

mod applications;
mod interim;
mod ledger;

pub use applications::{
    ApplicationError, ApplicationFilter, ApplicationPage, ApplicationRecord, ApplicationResult,
};
pub use ledger::LEDGER_YEARS;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;
use geo::MultiPolygon;

use crate::domain::area::AreaLayer;
use crate::domain::asset::{Asset, AssetDetails};
use crate::domain::fees::{FeeSchedule, QuoteSite, annual_fee};
use crate::index::AssetIndex;
use crate::index::areas::AreaIndex;
use crate::store::{PublishedSchedule, Store, StoreResult, UpsertOutcome, in_effect};

/// Database plus indexes.
pub struct Register {
    /// The database.
    pub store: Store,
    assets: AssetIndex,
    areas: ArcSwap<AreaIndex>,
    /// The newest `asset_changes` entry reflected in the index.
    seen: AtomicI64,
    /// Each authority's fee schedules, so search results can carry a price
    /// without a database round trip.
    schedules: ArcSwap<HashMap<String, Vec<PublishedSchedule>>>,
}

/// What a batch upsert did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UpsertSummary {
    /// New assets.
    pub inserted: usize,
    /// Replaced assets.
    pub updated: usize,
    /// Ids of every asset written, in input order.
    pub ids: Vec<String>,
}

impl Register {
    /// Loads everything from the database and builds the indexes.
    pub async fn load(store: Store) -> StoreResult<Register> {
        let seen = store.last_change().await?;
        let areas = AreaIndex::build(store.all_areas().await?);
        let rows = store.all_assets().await?;
        let assets = blocking(|| {
            let assets = rows
                .into_iter()
                .map(|(id, authority, details)| place(&areas, id, authority, details))
                .collect();
            AssetIndex::build(assets)
        });
        let register = Register {
            store,
            assets,
            areas: ArcSwap::from_pointee(areas),
            seen: AtomicI64::new(seen),
            schedules: ArcSwap::from_pointee(HashMap::new()),
        };
        register.reload_schedules().await?;
        Ok(register)
    }

    /// Re-reads every authority's fee schedules (a small table).
    pub async fn reload_schedules(&self) -> StoreResult<()> {
        let mut all = HashMap::new();
        for a in self.store.authorities().await? {
            let history = self.store.fee_schedule_history(&a.code).await?;
            if !history.is_empty() {
                all.insert(a.code, history);
            }
        }
        self.schedules.store(Arc::new(all));
        Ok(())
    }

    /// Publishes a new fee schedule version for `authority`.
    pub async fn publish_schedule(
        &self,
        authority: &str,
        schedule: &FeeSchedule,
    ) -> StoreResult<PublishedSchedule> {
        let published = self.store.publish_fee_schedule(authority, schedule).await?;
        self.reload_schedules().await?;
        Ok(published)
    }

    /// Year-one annual fee and currency for an asset under the schedule in
    /// effect on `date`, when its authority has one.
    pub fn annual_fee(
        &self,
        asset: &Asset,
        date: time::Date,
    ) -> Option<(rust_decimal::Decimal, String)> {
        let schedules = self.schedules.load();
        let p = in_effect(schedules.get(&asset.authority)?, date)?;
        let fee = annual_fee(&p.schedule, &QuoteSite::from_asset(asset, false));
        Some((fee, p.schedule.currency.clone()))
    }

    /// The asset index (take a snapshot to query it).
    pub fn assets(&self) -> &AssetIndex {
        &self.assets
    }

    /// The boundary-layer index.
    pub fn areas(&self) -> Arc<AreaIndex> {
        self.areas.load_full()
    }

    /// Inserts or replaces assets of `authority` by ref, in one transaction.
    pub async fn upsert(
        &self,
        authority: &str,
        rows: Vec<AssetDetails>,
    ) -> StoreResult<UpsertSummary> {
        let written = self.store.upsert_assets(authority, &rows).await?;
        let areas = self.areas();
        let mut summary = UpsertSummary::default();
        let mut assets = Vec::with_capacity(rows.len());
        for ((id, outcome), details) in written.into_iter().zip(rows) {
            match outcome {
                UpsertOutcome::Inserted => summary.inserted += 1,
                UpsertOutcome::Updated => summary.updated += 1,
            }
            summary.ids.push(id.clone());
            assets.push(place(&areas, id, authority.to_string(), details));
        }
        self.publish(assets, Vec::new()).await;
        Ok(summary)
    }

    /// Replaces one asset's details.
    pub async fn update(
        &self,
        authority: &str,
        id: &str,
        details: AssetDetails,
    ) -> StoreResult<Asset> {
        self.store.update_asset(authority, id, &details).await?;
        let asset = place(
            &self.areas(),
            id.to_string(),
            authority.to_string(),
            details,
        );
        self.publish(vec![asset.clone()], Vec::new()).await;
        Ok(asset)
    }

    /// Deletes one asset; false when there was none.
    pub async fn delete(&self, id: &str) -> StoreResult<bool> {
        let deleted = self.store.delete_asset(id).await?;
        if deleted {
            self.publish(Vec::new(), vec![id.to_string()]).await;
        }
        Ok(deleted)
    }

    /// Replaces a boundary layer and re-derives every placement.
    pub async fn replace_areas(
        &self,
        authority: &str,
        layer: AreaLayer,
        areas: &[(String, MultiPolygon<f64>)],
    ) -> StoreResult<()> {
        self.store.replace_areas(authority, layer, areas).await?;
        self.reload_areas().await
    }

    /// Rebuilds the area index from the database and re-places all assets.
    pub async fn reload_areas(&self) -> StoreResult<()> {
        let areas = AreaIndex::build(self.store.all_areas().await?);
        let snapshot = self.assets.snapshot();
        let replaced = blocking(|| {
            snapshot
                .query(None, |_| true)
                .into_iter()
                .map(|l| {
                    let a = &l.asset;
                    place(&areas, a.id.clone(), a.authority.clone(), a.details.clone())
                })
                .collect::<Vec<_>>()
        });
        self.areas.store(Arc::new(areas));
        blocking(|| self.assets.replace_all(replaced));
        Ok(())
    }

    /// Applies changes other processes made to the database since the last
    /// call. Returns how many assets were refreshed.
    pub async fn catch_up(&self) -> StoreResult<usize> {
        // Versions are only ever added, so a new count means a publication.
        let cached: usize = self.schedules.load().values().map(Vec::len).sum();
        if self.store.fee_schedule_count().await? != cached {
            self.reload_schedules().await?;
        }
        let mut total = 0;
        // The change log is read in chunks; keep going until it is drained.
        loop {
            let n = self.catch_up_chunk().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Applies one chunk of the change log; returns how many ids it held.
    async fn catch_up_chunk(&self) -> StoreResult<usize> {
        let since = self.seen.load(Ordering::Acquire);
        let (ids, last) = self.store.changes_since(since).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let rows = self.store.assets_by_id(&ids).await?;
        let found: HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let deleted: Vec<String> = ids
            .iter()
            .filter(|id| !found.contains(id.as_str()))
            .cloned()
            .collect();
        let areas = self.areas();
        let upserts = rows
            .into_iter()
            .map(|(id, authority, details)| place(&areas, id, authority, details))
            .collect();
        self.publish(upserts, deleted).await;
        self.seen.fetch_max(last, Ordering::AcqRel);
        Ok(ids.len())
    }

    /// Publishes index changes off the async workers: folding a large delta
    /// into the base can take a moment on a big register.
    async fn publish(&self, upserts: Vec<Asset>, deletes: Vec<String>) {
        blocking(|| self.assets.apply(upserts, deletes));
    }
}

/// Runs CPU-heavy work on this worker thread, telling a multi-threaded
/// runtime to move its other tasks elsewhere meanwhile.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Makes an [`Asset`] with its placement among the boundary layers.
fn place(areas: &AreaIndex, id: String, authority: String, details: AssetDetails) -> Asset {
    let placement = areas.place(&authority, &details);
    Asset {
        id,
        authority,
        details,
        placement,
    }
}

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
                for (_, outcome) in s.upsert_assets(authority, &batch).await? {
                    match outcome {
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
