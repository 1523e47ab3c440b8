//! Start-up from a snapshot file instead of reading every asset row.
//!
//! Reading and decoding a million rows takes most of a cold start; a
//! snapshot holds the same assets as the index held them (placement and
//! occupancy included) in a compact file (`snapshot_file.rs`), with the
//! change-feed position they reflect. A snapshot is used only when the
//! database can prove it is still a true past of itself:
//!
//! - it names this database (`database_identity`, made at creation) and its
//!   newest migration, and was written by this version of the program;
//! - the feed row at its position is still there with the same asset id, so
//!   every change since is in the feed (a pruned feed, or a database
//!   restored from an older backup, fails this); on PostgreSQL the
//!   transaction horizon is past its position (another cluster's ids, after
//!   a dump restored elsewhere, can be lower);
//! - not so many changes followed it that re-reading them one by one would
//!   cost more than a full load.
//!
//! The assets are then indexed and the feed replayed from the position by
//! [`Register::catch_up`], the path that follows other processes' writes
//! (imports by the CLI while the server was down, applications, deletes);
//! placements are recomputed when a boundary layer was replaced since, and
//! fee schedules, boundary layers and token revocations are read from the
//! database as on a cold start. Last, the asset count must equal the
//! database's. Any failure falls back to loading from the database, and the
//! log says why. Writes that bypass the program (hand-written SQL) are not
//! in the feed; no check can see every such write, which is why the feed is
//! the only way the program writes assets.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::snapshot_file::{self, Header, SnapshotFile};
use super::{Register, blocking};
use crate::domain::asset::Asset;
use crate::index::areas::AreaIndex;
use crate::index::{AssetIndex, Cursor, Located};
use crate::store::{ChangeCursor, Store, StoreError, StoreResult};

/// Why a missing snapshot was not used.
const NONE: &str = "there is no snapshot";

/// Where a register's assets came from at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartedFrom {
    /// The snapshot, then `replayed` assets re-read from the change feed.
    Snapshot {
        /// Assets indexed once the feed was replayed.
        assets: usize,
        /// Assets re-read from the database.
        replayed: usize,
    },
    /// The database; `why` says why no snapshot was used.
    Database {
        /// The reason, as logged.
        why: String,
    },
}

/// A snapshot that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file could not be written.
    #[error("writing the snapshot: {0}")]
    Io(#[from] std::io::Error),
    /// The index does not hold everything the feed's cursor has passed.
    #[error("an import in this process has rows it has not published yet")]
    Busy,
}

impl Register {
    /// Loads the register from the snapshot at `path` when it can be
    /// trusted (see the module docs), otherwise from the database.
    pub async fn load_with_snapshot(
        store: Store,
        path: &Path,
    ) -> StoreResult<(Register, StartedFrom)> {
        let why = match Register::from_snapshot(&store, path).await? {
            Ok((register, replayed)) => {
                let assets = register.assets.snapshot().len();
                let stored = store.asset_count().await?;
                if stored == assets as i64 {
                    tracing::info!(
                        snapshot = %path.display(), assets, replayed,
                        "loaded the start-up snapshot and replayed the change feed"
                    );
                    return Ok((register, StartedFrom::Snapshot { assets, replayed }));
                }
                format!(
                    "after replaying the change feed it holds {assets} assets, the database {stored}"
                )
            }
            Err(why) => why,
        };
        if why == NONE {
            tracing::info!(snapshot = %path.display(), "no start-up snapshot; loading from the database");
        } else {
            tracing::warn!(snapshot = %path.display(), %why, "start-up snapshot not used; loading from the database");
        }
        let register = Register::load(store).await?;
        Ok((register, StartedFrom::Database { why }))
    }

    /// The register from the snapshot, with the number of assets the feed
    /// replay re-read; or why the snapshot cannot be used.
    async fn from_snapshot(
        store: &Store,
        path: &Path,
    ) -> StoreResult<Result<(Register, usize), String>> {
        let bytes = match blocking(|| std::fs::read(path)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Err(NONE.into()));
            }
            Err(e) => return Ok(Err(format!("it cannot be read: {e}"))),
        };
        let file = match blocking(|| SnapshotFile::parse(bytes)) {
            Ok(file) => file,
            Err(e) => return Ok(Err(format!("it is damaged or foreign: {e}"))),
        };
        let cursor = match trusted_position(store, &file.header).await? {
            Ok(cursor) => cursor,
            Err(why) => return Ok(Err(why)),
        };
        // As `Register::load` reads them, in the same order.
        let seen_areas = store.area_change_count().await?;
        let revoked = store.revoked_token_count().await?;
        let areas = AreaIndex::build(store.all_areas().await?);
        let replace = file.header.seen_areas != seen_areas;
        let built = blocking(|| {
            let mut assets = file.assets()?;
            drop(file);
            if replace {
                for a in &mut assets {
                    a.placement = areas.place(&a.authority, &a.details);
                }
            }
            Ok::<_, String>(AssetIndex::build(assets))
        });
        let assets = match built {
            Ok(assets) => assets,
            Err(e) => return Ok(Err(format!("it is damaged: {e}"))),
        };
        let register =
            Register::assemble(store.clone(), assets, areas, (cursor, seen_areas, revoked)).await?;
        let replayed = register.catch_up().await?;
        Ok(Ok((register, replayed)))
    }

    /// Writes a snapshot of the index to `path` (atomically) after catching
    /// up with the change feed; returns the number of assets written.
    pub async fn write_snapshot(&self, path: &Path) -> Result<usize, SnapshotError> {
        self.catch_up().await?;
        let (cursor, seen_areas, snapshot) = {
            let _publishing = self.publishing.lock().await;
            if !self.own.is_idle() {
                return Err(SnapshotError::Busy);
            }
            let cursor = *self.cursor.lock().expect("cursor lock");
            let seen = self.seen_areas.load(Ordering::Acquire);
            (cursor, seen, self.assets.snapshot())
        };
        let anchor = self
            .store
            .feed_row_at_or_before(cursor)
            .await?
            .map(|(key, id)| {
                let (txid, seq) = key.to_parts();
                (txid, seq, id)
            });
        let header = Header {
            database: self.store.database_identity().await?,
            schema_version: self.store.schema_version().await?,
            program: env!("CARGO_PKG_VERSION").into(),
            cursor: cursor.to_parts(),
            anchor,
            seen_areas,
            assets: snapshot.len() as u64,
        };
        let n = snapshot.len();
        blocking(|| snapshot_file::write(path, &header, Cursor::new(snapshot), located_asset))?;
        Ok(n)
    }
}

fn located_asset(l: &std::sync::Arc<Located>) -> &Asset {
    &l.asset
}

/// The feed position `header` reflects, if this database can replay every
/// change since; otherwise why not.
async fn trusted_position(
    store: &Store,
    header: &Header,
) -> StoreResult<Result<ChangeCursor, String>> {
    if header.database != store.database_identity().await? {
        return Ok(Err("it was written for another database".into()));
    }
    let schema = store.schema_version().await?;
    if header.schema_version != schema {
        return Ok(Err(format!(
            "it was written at migration {}, the database is at {schema}",
            header.schema_version
        )));
    }
    let program = env!("CARGO_PKG_VERSION");
    if header.program != program {
        return Ok(Err(format!(
            "it was written by version {}, this is {program}",
            header.program
        )));
    }
    let Some((txid, seq, id)) = &header.anchor else {
        return Ok(Err("the change feed was empty when it was written".into()));
    };
    let cursor = ChangeCursor::from_parts(header.cursor);
    match store
        .feed_row(ChangeCursor::from_parts((*txid, *seq)))
        .await?
    {
        Some(found) if found == *id => {}
        Some(_) => {
            return Ok(Err(
                "the change feed at its position names another asset".into()
            ));
        }
        None => {
            return Ok(Err(
                "its position is older than the change log (the feed no longer holds it: \
                 pruned, or the database was restored from an older backup)"
                    .into(),
            ));
        }
    }
    if store.feed_horizon().await? <= header.cursor.0 {
        return Ok(Err(
            "the database's transaction ids are behind its position (another cluster)".into(),
        ));
    }
    let backlog = store.changes_after_count(cursor).await?;
    if backlog as u64 > header.assets / 4 + 10_000 {
        return Ok(Err(format!(
            "{backlog} changes followed it: loading from the database is quicker"
        )));
    }
    Ok(Ok(cursor))
}
