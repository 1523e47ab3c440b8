//! The register as the rest of the service sees it: the database and every
//! in-memory index and cache, kept in step. Every write goes through here.
//!
//! A write goes to the database first (the record of truth), then to the
//! indexes, so a crash between the two loses nothing: start-up reloads them
//! from the database. Other processes writing the same database (a CLI
//! import, another replica) are picked up by [`Register::catch_up`], which
//! the server runs every second from the change logs (`asset_changes`, read
//! without gaps as `store::changes` explains; `area_changes`; and the
//! fee-schedule versions).
//!
//! Index publications are serialised by one lock, and each places assets
//! among the boundary layers current at that moment, so a boundary-layer
//! reload and an asset edit cannot undo each other.
//!
//! # Layout
//! - `mod.rs`: loading, publication, catch-up.
//! - [`assets`](self::assets): asset writes. `areas.rs`: boundary layers.
//! - `fees.rs`: the fee-schedule cache and publication.
//! - `identity.rs`: authorities, organisations, tokens.
//! - `imports.rs`: batched imports with per-row rejections.
//! - `applications.rs`: applications, decisions, installations, documents
//!   and the install-by rule; `ledger.rs`: the ledger, the subsidy fund and
//!   councils' application periods.
//! - `sessions.rs`: console sessions (sign-in cookies).
//! - `warm_start.rs`: start-up from a snapshot file, checked against the
//!   database; `snapshot_file.rs`: that file's format.

mod applications;
mod areas;
mod assets;
mod fees;
mod identity;
mod imports;
mod ledger;
mod own_changes;
mod sessions;
mod site_searches;
mod snapshot_file;
mod warm_start;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;

use crate::domain::asset::{Asset, Names};
use crate::domain::fee_versions::PublishedSchedule;
use crate::index::AssetIndex;
use crate::index::areas::AreaIndex;
use crate::store::{Backend, ChangeCursor, Store, StoreResult, StoredAsset};

pub use crate::store::ApplicationSort;
pub use applications::{
    ApplicationError, ApplicationFilter, ApplicationPage, ApplicationRecord, ApplicationResult,
};
pub use assets::UpsertSummary;
pub use imports::{
    IMPORT_BATCH, ImportReport, ImportTarget, Rejection, import_rows, import_rows_in_batches,
    import_rows_with,
};
pub use ledger::LEDGER_YEARS;
pub use site_searches::{ChosenSite, SavedSiteSearch, SiteSearchAnswer};
pub use warm_start::{SnapshotError, StartedFrom};

/// Database plus indexes and caches.
pub struct Register {
    store: Store,
    assets: AssetIndex,
    areas: ArcSwap<AreaIndex>,
    /// Held while publishing to the asset index, so publications apply in
    /// order and each places assets among the current boundary layers.
    publishing: tokio::sync::Mutex<()>,
    /// How far the index has followed the change feed.
    cursor: Mutex<ChangeCursor>,
    /// How many boundary-layer replacements the area index reflects.
    seen_areas: AtomicI64,
    /// When the index last caught up with the change feed (at load, then
    /// each successful `catch_up`): readiness and the feed-lag metric.
    caught_up: Mutex<std::time::Instant>,
    /// Each authority's fee schedules, so search results can carry a price
    /// without a database round trip.
    schedules: ArcSwap<HashMap<String, Vec<PublishedSchedule>>>,
    /// Token revocations, see `identity.rs`.
    tokens: identity::Revocations,
    /// Change-feed rows this process's imports publish themselves, see
    /// `own_changes.rs`.
    own: Arc<own_changes::OwnChanges>,
    /// Authority codes shared by the assets written after the load (one
    /// entry per council).
    names: Mutex<Names>,
}

impl Register {
    /// Loads everything from the database and builds the indexes.
    pub async fn load(store: Store) -> StoreResult<Register> {
        let cursor = store.change_cursor().await?;
        let seen_areas = store.area_change_count().await?;
        let revoked = store.revoked_token_count().await?;
        let areas = AreaIndex::build(store.all_areas().await?);
        let rows = store.all_assets().await?;
        let assets = blocking(|| {
            let mut names = Names::default();
            let assets = rows
                .into_iter()
                .map(|r| place(&areas, &mut names, r))
                .collect();
            AssetIndex::build(assets)
        });
        Register::assemble(store, assets, areas, (cursor, seen_areas, revoked)).await
    }

    /// A register over an index already built, which reflects the change
    /// feed up to `cursor`, the boundary layers `areas` (after `seen_areas`
    /// replacements) and `revoked` token revocations.
    async fn assemble(
        store: Store,
        assets: AssetIndex,
        areas: AreaIndex,
        (cursor, seen_areas, revoked): (ChangeCursor, i64, i64),
    ) -> StoreResult<Register> {
        let register = Register {
            store,
            assets,
            areas: ArcSwap::from_pointee(areas),
            publishing: tokio::sync::Mutex::new(()),
            cursor: Mutex::new(cursor),
            seen_areas: AtomicI64::new(seen_areas),
            caught_up: Mutex::new(std::time::Instant::now()),
            schedules: ArcSwap::from_pointee(HashMap::new()),
            tokens: identity::Revocations::new(revoked),
            own: Arc::default(),
            names: Mutex::default(),
        };
        register.reload_schedules().await?;
        Ok(register)
    }

    /// The asset index (take a snapshot to query it).
    pub fn assets(&self) -> &AssetIndex {
        &self.assets
    }

    /// The boundary-layer index.
    pub fn areas(&self) -> Arc<AreaIndex> {
        self.areas.load_full()
    }

    /// Time since the index last caught up with the change feed.
    pub fn since_caught_up(&self) -> Option<std::time::Duration> {
        let at = *self.caught_up.lock().ok()?;
        Some(at.elapsed())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        self.store.ping().await
    }

    /// Closes the database pools, waiting for queries in flight.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Re-reads `ids` from the database and publishes them to the index (an
    /// id no longer stored is removed). Every write that changes an asset's
    /// row, including its occupancy, ends here after its commit; reading
    /// back under the publication lock means the index holds what the
    /// database holds even when two writers of one asset commit in one
    /// order and finish in the other.
    pub async fn refresh_assets(&self, ids: &[String]) -> StoreResult<()> {
        let _publishing = self.publishing.lock().await;
        self.refresh_locked(ids).await
    }

    async fn refresh_locked(&self, ids: &[String]) -> StoreResult<()> {
        let rows = self.store.assets_by_id(ids).await?;
        let found: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let deleted: Vec<String> = ids
            .iter()
            .filter(|id| !found.contains(id.as_str()))
            .cloned()
            .collect();
        self.apply_locked(rows, deleted);
        Ok(())
    }

    /// Publishes rows just written (their values are the database's: the
    /// caller wrote them in a transaction that has committed).
    async fn publish(&self, rows: Vec<StoredAsset>, deletes: Vec<String>) {
        let _publishing = self.publishing.lock().await;
        self.apply_locked(rows, deletes);
    }

    /// Places rows among the current boundary layers and applies them to
    /// the index, off the async workers: folding a large delta into the base
    /// can take a moment on a big register. Call with `publishing` held.
    fn apply_locked(&self, rows: Vec<StoredAsset>, deletes: Vec<String>) {
        self.own.touch(rows.iter().map(|r| &r.id).chain(&deletes));
        self.apply_index(rows, deletes);
    }

    /// [`Register::apply_locked`] without noting the ids for running
    /// imports (an import's own publication).
    fn apply_index(&self, rows: Vec<StoredAsset>, deletes: Vec<String>) {
        let areas = self.areas();
        blocking(|| {
            let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
            let upserts = rows
                .into_iter()
                .map(|r| place(&areas, &mut names, r))
                .collect();
            drop(names);
            self.assets.apply(upserts, deletes);
        });
    }

    /// Applies changes other processes made to the database since the last
    /// call. Returns how many assets were refreshed.
    pub async fn catch_up(&self) -> StoreResult<usize> {
        // Versions are only ever added, so a new count means a publication.
        let cached: usize = self.schedules.load().values().map(Vec::len).sum();
        if self.store.fee_schedule_count().await? != cached {
            self.reload_schedules().await?;
        }
        if self.store.area_change_count().await? != self.seen_areas.load(Ordering::Acquire) {
            self.reload_areas().await?;
        }
        self.catch_up_revocations().await?;
        let mut total = 0;
        {
            let _publishing = self.publishing.lock().await;
            let orphans = self.own.take_orphans();
            if !orphans.is_empty() {
                if let Err(e) = self.refresh_locked(&orphans).await {
                    self.own.return_orphans(orphans);
                    return Err(e);
                }
                total += orphans.len();
            }
        }
        // The feed is read in batches; keep going while batches are full.
        // The lock is taken per batch: while another process writes a large
        // import, the backlog can take as long as the import, and this
        // server's own writes must not wait for all of it to publish.
        loop {
            let _publishing = self.publishing.lock().await;
            let cursor = *self.cursor.lock().expect("cursor lock");
            let batch = self.store.changes_after(cursor).await?;
            // Rows this process's imports wrote are theirs to publish.
            let ids = self.own.foreign_ids(&batch.rows, batch.next);
            if !ids.is_empty() {
                self.refresh_locked(&ids).await?;
            }
            *self.cursor.lock().expect("cursor lock") = batch.next;
            total += ids.len();
            if !batch.more {
                *self.caught_up.lock().expect("caught-up lock") = std::time::Instant::now();
                return Ok(total);
            }
        }
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
fn place(areas: &AreaIndex, names: &mut Names, row: StoredAsset) -> Asset {
    let placement = areas.place(&row.authority, &row.details);
    Asset {
        id: row.id,
        authority: names.intern(&row.authority),
        details: row.details,
        placement,
        occupancy: row.occupancy,
        revision: row.revision,
    }
}
