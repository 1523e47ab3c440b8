//! Asset writes: add, upsert in batches, replace, delete.

use super::Register;
use crate::domain::asset::{Asset, AssetDetails};
use crate::store::{Deleted, StoreError, StoreResult, StoredAsset, UpsertOutcome};

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
    /// Adds one asset; a ref the authority already has is a
    /// [`crate::store::StoreError::Conflict`], decided by the database.
    pub async fn create(&self, authority: &str, details: AssetDetails) -> StoreResult<Asset> {
        let id = self.store.insert_asset(authority, &details).await?;
        self.refresh_and_get(id).await
    }

    /// Inserts or replaces assets of `authority` by ref, in one transaction.
    pub async fn upsert(
        &self,
        authority: &str,
        rows: Vec<AssetDetails>,
    ) -> StoreResult<UpsertSummary> {
        let written = self.store.upsert_assets(authority, &rows).await?;
        let mut summary = UpsertSummary::default();
        let mut stored = Vec::with_capacity(rows.len());
        for (w, details) in written.into_iter().zip(rows) {
            match w.outcome {
                UpsertOutcome::Inserted => summary.inserted += 1,
                UpsertOutcome::Updated => summary.updated += 1,
            }
            summary.ids.push(w.id.clone());
            stored.push(StoredAsset {
                id: w.id,
                authority: authority.to_string(),
                details,
                occupancy: w.occupancy,
                revision: w.revision,
            });
        }
        self.publish(stored, Vec::new()).await;
        Ok(summary)
    }

    /// Edits one asset in a database transaction: `edit` turns the row as
    /// stored now into its new details (see [`crate::store::Store::modify_asset`];
    /// `expect_revision` makes the write conditional). Returns the asset as
    /// the index now holds it.
    pub async fn modify<E: From<StoreError>>(
        &self,
        id: &str,
        expect_revision: Option<i64>,
        edit: impl FnOnce(&StoredAsset) -> Result<AssetDetails, E>,
    ) -> Result<Asset, E> {
        self.store.modify_asset(id, expect_revision, edit).await?;
        Ok(self.refresh_and_get(id.to_string()).await?)
    }

    /// Deletes one asset, unless live applications or installations hold it.
    pub async fn delete(&self, id: &str) -> StoreResult<Deleted> {
        let deleted = self.store.delete_asset(id).await?;
        if deleted == Deleted::Yes {
            self.publish(Vec::new(), vec![id.to_string()]).await;
        }
        Ok(deleted)
    }

    /// Refreshes one written asset and returns it as the index now holds it.
    async fn refresh_and_get(&self, id: String) -> StoreResult<Asset> {
        self.refresh_assets(std::slice::from_ref(&id)).await?;
        self.assets
            .snapshot()
            .get(&id)
            .map(|l| l.asset.clone())
            .ok_or_else(|| StoreError::NotFound(format!("asset {id:?}")))
    }
}
