//! Fee schedules: the cache of every authority's versions, kept in step
//! with publication, so prices on search results need no database trip.

use std::collections::HashMap;
use std::sync::Arc;

use super::Register;
use crate::domain::asset::Asset;
use crate::domain::fee_versions::{PublishedSchedule, in_effect};
use crate::domain::fees::{FeeSchedule, QuoteSite, annual_fee};
use crate::store::StoreResult;

impl Register {
    /// Re-reads every authority's fee schedules (a small table).
    pub(super) async fn reload_schedules(&self) -> StoreResult<()> {
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

    /// Publishes a new fee schedule version for `authority` (conditional on
    /// the newest version being `expect_latest`, when given); prices served
    /// from the index change at once.
    pub async fn publish_schedule(
        &self,
        authority: &str,
        schedule: &FeeSchedule,
        expect_latest: Option<i64>,
    ) -> StoreResult<PublishedSchedule> {
        let published = self
            .store
            .publish_fee_schedule(authority, schedule, expect_latest)
            .await?;
        self.reload_schedules().await?;
        Ok(published)
    }

    /// Every published version of `authority`'s schedule, oldest first
    /// (empty when none).
    pub fn fee_schedule_history(&self, authority: &str) -> Vec<PublishedSchedule> {
        self.schedules
            .load()
            .get(authority)
            .cloned()
            .unwrap_or_default()
    }

    /// The version of `authority`'s schedule in effect on `date`.
    pub fn schedule_in_effect(
        &self,
        authority: &str,
        date: time::Date,
    ) -> Option<PublishedSchedule> {
        let schedules = self.schedules.load();
        in_effect(schedules.get(authority)?, date).cloned()
    }

    /// Year-one annual fee and currency for an asset under the schedule in
    /// effect on `date`, when its authority has one.
    pub fn annual_fee(
        &self,
        asset: &Asset,
        date: time::Date,
    ) -> Option<(rust_decimal::Decimal, String)> {
        let schedules = self.schedules.load();
        let p = in_effect(schedules.get(&*asset.authority)?, date)?;
        let fee = annual_fee(
            &p.schedule,
            &QuoteSite::from_asset(asset, asset.is_shared()),
        );
        Some((fee, p.schedule.currency.clone()))
    }
}

impl Register {
    /// Quotes for `ids`, one per council in code order, each priced on the
    /// schedule in effect on `terms.start`: the one code path behind
    /// `POST /v1/quotes` and a site search's `summary.quote`, so the two
    /// agree to the penny. Unknown ids are named `assets[i]`; a council with
    /// no schedule in effect is named under `start`.
    pub fn quote_assets(
        &self,
        ids: &[String],
        terms: &crate::domain::fees::QuoteTerms,
    ) -> Result<Vec<crate::domain::fees::Quote>, Vec<crate::domain::asset::InvalidField>> {
        use crate::domain::asset::InvalidField;
        use std::collections::BTreeMap;
        terms.validate().map_err(|e| vec![e])?;
        if ids.is_empty() {
            return Err(vec![InvalidField::new("assets", "name at least one asset")]);
        }
        let snap = self.assets().snapshot();
        let mut by_authority: BTreeMap<String, Vec<QuoteSite>> = BTreeMap::new();
        let mut unknown = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match snap.get(id) {
                Some(l) => by_authority
                    .entry(l.asset.authority.to_string())
                    .or_default()
                    .push(QuoteSite::from_asset(&l.asset, l.asset.is_shared())),
                None => unknown.push(InvalidField::new(
                    format!("assets[{i}]"),
                    format!("no asset {id:?}"),
                )),
            }
        }
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let mut quotes = Vec::new();
        for (authority, sites) in by_authority {
            let Some(p) = self.schedule_in_effect(&authority, terms.start) else {
                return Err(vec![InvalidField::new(
                    "start",
                    format!(
                        "authority {authority:?} has no fee schedule in effect on {}",
                        terms.start
                    ),
                )]);
            };
            quotes.push(
                crate::domain::fees::quote(&authority, &p.schedule, p.version, &sites, terms)
                    .map_err(|e| vec![e])?,
            );
        }
        Ok(quotes)
    }
}
