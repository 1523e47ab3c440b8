//! Stand-ins for the register methods the lead is landing on main; deleted
//! when main is merged.

use super::Register;
use crate::store::{PublishedSchedule, StoreResult, in_effect};

impl Register {
    pub(crate) async fn refresh_assets(&self, _ids: &[String]) -> StoreResult<()> {
        self.catch_up().await.map(|_| ())
    }

    pub(crate) fn fee_schedule_history(&self, authority: &str) -> Vec<PublishedSchedule> {
        self.schedules
            .load()
            .get(authority)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn schedule_in_effect(
        &self,
        authority: &str,
        date: time::Date,
    ) -> Option<PublishedSchedule> {
        let s = self.schedules.load();
        in_effect(s.get(authority)?, date).cloned()
    }

    pub(crate) async fn authority(
        &self,
        code: &str,
    ) -> StoreResult<Option<crate::store::Authority>> {
        self.store.authority(code).await
    }
}

pub(crate) trait Shared {
    fn is_shared(&self) -> bool;
}

impl Shared for crate::domain::asset::Asset {
    fn is_shared(&self) -> bool {
        false
    }
}
