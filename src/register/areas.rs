//! Boundary layers: replacing one, and re-placing assets when any changes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use geo::MultiPolygon;

use super::{Register, blocking};
use crate::domain::area::AreaLayer;
use crate::index::areas::AreaIndex;
use crate::store::StoreResult;

impl Register {
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

    /// Rebuilds the area index from the database and re-places the assets
    /// whose placement changed. Runs under the publication lock on the
    /// snapshot current at that moment, so an edit published meanwhile is
    /// neither lost nor placed among the old boundaries.
    pub(super) async fn reload_areas(&self) -> StoreResult<()> {
        let seen = self.store.area_change_count().await?;
        let areas = AreaIndex::build(self.store.all_areas().await?);
        let _publishing = self.publishing.lock().await;
        let snapshot = self.assets.snapshot();
        let moved = blocking(|| {
            snapshot
                .query(None, |_| true)
                .into_iter()
                .filter_map(|l| {
                    let a = &l.asset;
                    let placement = areas.place(&a.authority, &a.details);
                    (placement != a.placement).then(|| {
                        let mut moved = a.clone();
                        moved.placement = placement;
                        moved
                    })
                })
                .collect::<Vec<_>>()
        });
        self.areas.store(Arc::new(areas));
        blocking(|| self.assets.apply(moved, Vec::new()));
        self.seen_areas.store(seen, Ordering::Release);
        Ok(())
    }
}
