//! Site searches through the register: candidates from the index snapshot,
//! the domain's constraints, scores and selection, prices from the cached
//! fee schedules, and the quote by the same path as `POST /v1/quotes`.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::Register;
use crate::domain::access::Principal;
use crate::domain::asset::{Asset, InvalidField};
use crate::domain::fees::{Quote, QuoteTerms};
use crate::domain::matching::{
    self, CoverageOutcome, Found, Place, RejectedBy, ScoreParts, SearchSpec,
};
use crate::index::{Located, Snapshot};
use crate::store::{NewSiteSearch, SiteSearchRow, SiteSearchScope, StoreResult, new_id};

/// A chosen site, owned.
#[derive(Debug, Clone)]
pub struct ChosenSite {
    /// Asset id (look it up in the answer's snapshot).
    pub id: String,
    /// 1 for the first.
    pub rank: usize,
    /// Weighted score.
    pub score: f64,
    /// Its parts.
    pub parts: ScoreParts,
    /// Year-one fee and currency.
    pub annual_fee: Option<(Decimal, String)>,
}

/// A search's answer, over the snapshot it was computed on.
pub struct SiteSearchAnswer {
    /// The index snapshot the sites come from.
    pub snapshot: Arc<Snapshot>,
    /// Chosen sites in rank order.
    pub chosen: Vec<ChosenSite>,
    /// Assets passing every hard constraint.
    pub candidates: usize,
    /// Why the rest were ruled out.
    pub rejected_by: RejectedBy,
    /// Coverage mode's result.
    pub coverage: Option<CoverageOutcome>,
    /// One quote per council with a schedule in effect, over the chosen
    /// sites of that council.
    pub quotes: Vec<Quote>,
}

/// Annual fees by what they depend on (authority, fee zone, kind, power,
/// shared), so a search over thousands of candidates prices each kind of
/// site once.
#[derive(Default)]
struct FeeMemo(HashMap<String, HashMap<String, Vec<Option<Fee>>>>);

/// A year-one fee and its currency, or none (no schedule in effect).
type Fee = Option<(Decimal, Arc<str>)>;

impl Register {
    /// Runs a validated search on the current snapshot.
    pub fn search_sites(&self, spec: &SearchSpec) -> Result<SiteSearchAnswer, Vec<InvalidField>> {
        let snapshot = self.assets().snapshot();
        let inside: Vec<Found<'_>> = match &spec.place {
            Place::Area(g) => snapshot
                .intersecting(g, 0.0, |_| true)
                .into_iter()
                .map(|(l, d)| found(l, d))
                .collect(),
            Place::Near { centre, radius_m } => {
                let mut v: Vec<_> = snapshot
                    .within_distance(*centre, *radius_m, |_| true)
                    .into_iter()
                    .map(|(l, d)| found(l, d))
                    .collect();
                // Id order, like the other two, so nothing depends on ties.
                v.sort_by(|a, b| a.asset.id.cmp(&b.asset.id));
                v
            }
            Place::Corridor { line, width_m } => snapshot
                .intersecting(line, width_m / 2.0, |_| true)
                .into_iter()
                .map(|(l, d)| found(l, d))
                .collect(),
        };
        let mut memo = FeeMemo::default();
        let outcome = matching::run(spec, inside, snapshot.len(), |a| {
            self.memo_fee(&mut memo, a, spec.start)
        });
        let chosen: Vec<ChosenSite> = outcome
            .chosen
            .iter()
            .map(|p| ChosenSite {
                id: p.asset.id.clone(),
                rank: p.rank,
                score: p.score,
                parts: p.parts,
                annual_fee: p.annual_fee.clone(),
            })
            .collect();
        let priced: Vec<String> = chosen
            .iter()
            .filter(|c| c.annual_fee.is_some())
            .map(|c| c.id.clone())
            .collect();
        let quotes = if priced.is_empty() {
            Vec::new()
        } else {
            let terms = QuoteTerms {
                term_years: spec.term_years,
                start: spec.start,
                discount_rate: None,
            };
            self.quote_assets(&priced, &terms)?
        };
        let (candidates, rejected_by, coverage) =
            (outcome.candidates, outcome.rejected_by, outcome.coverage);
        Ok(SiteSearchAnswer {
            snapshot,
            chosen,
            candidates,
            rejected_by,
            coverage,
            quotes,
        })
    }

    fn memo_fee(&self, memo: &mut FeeMemo, asset: &Asset, date: time::Date) -> Fee {
        let zone = asset.placement.fee_zone.as_deref().unwrap_or("");
        let slot = (asset.details.kind as usize) * 6
            + (asset.details.power_supply as usize) * 2
            + usize::from(asset.is_shared());
        if let Some(Some(known)) = memo
            .0
            .get(&*asset.authority)
            .and_then(|z| z.get(zone))
            .map(|v| &v[slot])
        {
            return known.clone();
        }
        let fee: Fee = self.annual_fee(asset, date).map(|(f, c)| (f, Arc::from(c)));
        memo.0
            .entry(asset.authority.to_string())
            .or_default()
            .entry(zone.to_string())
            .or_insert_with(|| vec![None; 7 * 6])[slot] = Some(fee.clone());
        fee
    }
}

/// An indexed asset as a search candidate, with the position the index
/// keeps for points.
fn found(l: &Located, distance: f64) -> Found<'_> {
    Found {
        asset: &l.asset,
        distance,
        xyz: l.point_ecef(),
    }
}

/// A saved search as its caller may see it.
#[derive(Debug, Clone)]
pub struct SavedSiteSearch {
    /// The stored row.
    pub row: SiteSearchRow,
    /// The answer as first served (GeoJSON text).
    pub result: String,
    /// Chosen asset ids in rank order.
    pub sites: Vec<String>,
}

fn scope_of(principal: &Principal) -> SiteSearchScope {
    match principal {
        Principal::Admin => SiteSearchScope::default(),
        Principal::Staff { authority } => SiteSearchScope {
            organisation: None,
            authority: Some(authority.clone()),
        },
        Principal::Operator { organisation } => SiteSearchScope {
            organisation: Some(organisation.clone()),
            authority: None,
        },
    }
}

impl Register {
    /// A fresh id and timestamp for a search about to be answered.
    pub fn new_site_search_stamp(&self) -> (String, String) {
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        (new_id("search"), at)
    }

    /// Saves an answered search for `principal`.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_site_search(
        &self,
        principal: &Principal,
        id: &str,
        created_at: &str,
        request: &str,
        summary: &str,
        result: &str,
        answer: &SiteSearchAnswer,
    ) -> StoreResult<()> {
        let sites: Vec<(String, String)> = answer
            .chosen
            .iter()
            .filter_map(|c| {
                let l = answer.snapshot.get(&c.id)?;
                Some((c.id.clone(), l.asset.authority.to_string()))
            })
            .collect();
        let (organisation, authority) = match principal {
            Principal::Admin => (None, None),
            Principal::Staff { authority } => (None, Some(authority.as_str())),
            Principal::Operator { organisation } => (Some(organisation.as_str()), None),
        };
        self.store
            .save_site_search(&NewSiteSearch {
                id,
                organisation,
                authority,
                role: principal.role().as_str(),
                request,
                summary,
                result,
                created_at,
                sites: &sites,
            })
            .await
    }

    /// A saved search `principal` may see: an operator its organisation's,
    /// staff those their council's staff ran or that chose their council's
    /// sites, admin all. Anything else does not exist for the caller.
    pub async fn site_search(
        &self,
        principal: &Principal,
        id: &str,
    ) -> StoreResult<Option<SavedSiteSearch>> {
        let Some((row, result)) = self.store.site_search(id).await? else {
            return Ok(None);
        };
        let sites = self.store.site_search_sites(id).await?;
        let authorities: Vec<&str> = sites.iter().map(|s| s.1.as_str()).collect();
        let visible = matching::can_see(
            principal,
            row.organisation.as_deref(),
            row.authority.as_deref(),
            &authorities,
        );
        Ok(visible.then(|| SavedSiteSearch {
            row,
            result,
            sites: sites.into_iter().map(|s| s.0).collect(),
        }))
    }

    /// A page of the searches `principal` may see, newest first.
    pub async fn site_searches(
        &self,
        principal: &Principal,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(u64, Vec<SiteSearchRow>)> {
        self.store
            .site_searches(&scope_of(principal), limit, offset)
            .await
    }
}
