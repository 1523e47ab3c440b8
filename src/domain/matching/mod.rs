//! Matching operators' requests to sites: the heart of the product.
//!
//! A planner says where (an area, a point and radius, or a street corridor),
//! what a small cell needs (kind, height, power, planning exclusions, free
//! capacity), how many sites and how far apart, and optionally what demand to
//! cover. [`run`] takes the assets the index found in the search region and:
//!
//! 1. applies the hard constraints ([`constraints`]), counting each ruled-out
//!    asset once under the first rule it fails;
//! 2. scores every candidate from explainable parts ([`score`]);
//! 3. selects: **spacing mode** (no `coverage_radius_m`) takes candidates best
//!    score first, skipping any closer than `min_spacing_m` (geodesic) to one
//!    already taken, until `sites_wanted`; so when fewer come back, no further
//!    candidate could be added. **Coverage mode** chooses the spaced set whose
//!    discs cover the most demand ([`coverage`]: lazy greedy plus local
//!    search);
//! 4. reports why the rest were ruled out: `rejected_by.spacing` counts the
//!    candidates not chosen that lie closer than `min_spacing_m` to a chosen
//!    site (in spacing mode, every candidate left out while the selection is
//!    short of `sites_wanted` is one of them).
//!
//! Pure: the caller supplies the candidates (from the index) and the fee of
//! an asset (from the published schedules), and prices the selection.

pub mod constraints;
pub mod coverage;
pub mod earth;
pub mod request;
pub mod score;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use geo::{MultiPolygon, Point};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::domain::access::Principal;
use crate::domain::asset::Asset;
pub use constraints::{Reason, RejectedBy};
use earth::{Cells, Place as At, Spacing};
pub use request::{Limits, Place, SearchSpec, SiteSearchRequest};
pub use score::{ScoreParts, Weights};

/// A chosen site.
#[derive(Debug, Clone)]
pub struct Pick<'a> {
    /// The asset.
    pub asset: &'a Asset,
    /// 1 for the first.
    pub rank: usize,
    /// Weighted score, 0..=1.
    pub score: f64,
    /// The parts.
    pub parts: ScoreParts,
    /// Year-one fee and currency, when its council publishes a schedule.
    pub annual_fee: Option<(Decimal, String)>,
}

/// What coverage mode achieved.
#[derive(Debug, Clone)]
pub struct CoverageOutcome {
    /// Covered over all demand weight (or sample points).
    pub fraction: f64,
    /// Demand weight covered.
    pub covered: f64,
    /// Demand weight greedy alone would have covered.
    pub greedy: f64,
    /// All demand weight.
    pub total: f64,
    /// Demand points used (given, or the sample grid's).
    pub demand_points: usize,
    /// Whether the demand was the sample grid over the region.
    pub sampled: bool,
    /// The union of the chosen sites' discs.
    pub region: MultiPolygon<f64>,
}

/// The answer to a search.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// Chosen sites in rank order.
    pub chosen: Vec<Pick<'a>>,
    /// Assets that passed every hard constraint.
    pub candidates: usize,
    /// Why the others were ruled out.
    pub rejected_by: RejectedBy,
    /// Coverage mode only.
    pub coverage: Option<CoverageOutcome>,
}

/// Whether `principal` may see a saved search run by `organisation` (an
/// operator's) or `authority` (a council's staff), whose chosen sites belong
/// to `site_authorities`: an operator its own organisation's; staff those
/// their council ran or that chose their council's sites; admin all.
pub fn can_see(
    principal: &Principal,
    organisation: Option<&str>,
    authority: Option<&str>,
    site_authorities: &[&str],
) -> bool {
    match principal {
        Principal::Admin => true,
        Principal::Operator { organisation: o } => organisation == Some(o.as_str()),
        Principal::Staff { authority: a } => {
            authority == Some(a.as_str()) || site_authorities.contains(&a.as_str())
        }
    }
}

/// The position a site is measured from: the point itself, or a polygon's
/// interior point (always inside it).
pub fn position(asset: &Asset) -> Option<Point<f64>> {
    asset.details.anchor()
}

struct Scored<'a> {
    asset: &'a Asset,
    /// Metres from the searched point or line (0 for an area).
    distance: f64,
    at: At,
    parts: ScoreParts,
    score: f64,
    fee: Option<(Decimal, Arc<str>)>,
}

/// Runs `spec` over `inside` (the assets in the search region with their
/// distance from the searched point or line; 0 for an area), out of
/// `total_assets` in the register, pricing with `fee` (year-one fee and
/// currency; shared, as it is asked of every candidate).
pub fn run<'a>(
    spec: &SearchSpec,
    inside: impl IntoIterator<Item = (&'a Asset, f64)>,
    total_assets: usize,
    mut fee: impl FnMut(&Asset) -> Option<(Decimal, Arc<str>)>,
) -> Outcome<'a> {
    let mut rejected = RejectedBy::default();
    let mut seen = 0usize;
    let mut pool: Vec<Scored<'a>> = Vec::new();
    for (asset, distance) in inside {
        seen += 1;
        if let Err(r) = constraints::check(spec, asset) {
            rejected.add(r);
            continue;
        }
        let Some(p) = position(asset) else {
            rejected.add(Reason::Outside);
            continue;
        };
        pool.push(Scored {
            asset,
            distance,
            at: At::new(p),
            parts: score::fixed_parts(spec, asset),
            score: 0.0,
            fee: fee(asset),
        });
    }
    rejected.outside += total_assets.saturating_sub(seen);

    // The demand part.
    match &spec.demand {
        Some(demand) => {
            let reach = spec.coverage_radius_m.unwrap_or(score::DEFAULT_REACH_M);
            let total: f64 = demand.iter().map(|d| d.weight).sum();
            let places: Vec<(At, f64)> = demand
                .iter()
                .map(|d| (At::new(d.point), d.weight))
                .collect();
            let at: Vec<At> = places.iter().map(|p| p.0).collect();
            let cells = Cells::new(&at, reach);
            for s in &mut pool {
                let mut near = 0.0;
                cells.around(&s.at, |i| {
                    let (p, w) = &places[i as usize];
                    if s.at.within(p, reach) {
                        near += w;
                    }
                });
                s.parts.demand = if total > 0.0 { near / total } else { 0.0 };
            }
        }
        None => {
            for s in &mut pool {
                s.parts.demand = score::closeness(spec, s.distance);
            }
        }
    }
    // The fee part and the score.
    // Neighbours mostly share a fee: convert each distinct one once.
    let mut last: Option<(Decimal, Option<f64>)> = None;
    let fees: Vec<Option<f64>> = pool
        .iter()
        .map(|s| {
            let f = s.fee.as_ref()?.0;
            match last {
                Some((d, v)) if d == f => v,
                _ => {
                    let v = f.to_f64();
                    last = Some((f, v));
                    v
                }
            }
        })
        .collect();
    let range = fees
        .iter()
        .flatten()
        .fold(None, |r: Option<(f64, f64)>, &f| {
            Some(r.map_or((f, f), |(lo, hi)| (lo.min(f), hi.max(f))))
        });
    for (s, f) in pool.iter_mut().zip(&fees) {
        s.parts.fee = score::fee(*f, range);
        s.score = s.parts.score(&spec.weights);
    }
    // Rank order: best score first, ties by asset id. Indices are ordered,
    // not the scored candidates, which are too large to move around.
    let by_rank = |a: &u32, b: &u32| {
        let (a, b) = (&pool[*a as usize], &pool[*b as usize]);
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.asset.id.cmp(&b.asset.id))
    };
    let sites: Vec<At> = pool.iter().map(|s| s.at).collect();
    let mut rule = Spacing::new(&sites, spec.min_spacing_m);
    let (chosen, coverage) = match spec.coverage_radius_m {
        None => (spacing_select(spec.sites_wanted, &mut rule, by_rank), None),
        Some(radius) => {
            let mut order: Vec<u32> = (0..pool.len() as u32).collect();
            order.sort_unstable_by(by_rank);
            let (demand, sampled): (Vec<(At, f64)>, bool) = match &spec.demand {
                Some(d) => (
                    d.iter().map(|d| (At::new(d.point), d.weight)).collect(),
                    false,
                ),
                None => (
                    coverage::sample_grid(spec, radius)
                        .into_iter()
                        .map(|p| (At::new(p), 1.0))
                        .collect(),
                    true,
                ),
            };
            let inst = coverage::Instance {
                sites: order.iter().map(|&i| sites[i as usize]).collect(),
                demand,
                radius_m: radius,
                min_spacing_m: spec.min_spacing_m,
                k: spec.sites_wanted,
            };
            let sol = coverage::solve(&inst);
            let chosen: Vec<usize> = sol.chosen.iter().map(|&r| order[r] as usize).collect();
            for &i in &chosen {
                rule.choose(i);
            }
            let centres: Vec<Point<f64>> = chosen.iter().map(|&i| sites[i].point).collect();
            let out = CoverageOutcome {
                fraction: if sol.total > 0.0 {
                    sol.covered / sol.total
                } else {
                    0.0
                },
                covered: sol.covered,
                greedy: sol.greedy,
                total: sol.total,
                demand_points: inst.demand.len(),
                sampled,
                region: coverage::region(&centres, radius),
            };
            (chosen, Some(out))
        }
    };

    // Candidates left out because a chosen site is too close (chosen sites
    // are never too close to each other, so they have no blockers).
    for j in 0..pool.len() {
        if rule.blockers(j) > 0 {
            rejected.add(Reason::Spacing);
        }
    }

    let candidates = pool.len();
    let chosen = chosen
        .into_iter()
        .enumerate()
        .map(|(n, i)| {
            let s = &pool[i];
            Pick {
                asset: s.asset,
                rank: n + 1,
                score: s.score,
                parts: s.parts,
                annual_fee: s.fee.as_ref().map(|(f, c)| (*f, c.to_string())),
            }
        })
        .collect();
    Outcome {
        chosen,
        candidates,
        rejected_by: rejected,
        coverage,
    }
}

/// Spacing mode: best score first (`by_rank` over indices of the sites
/// `rule` was built over), skipping any candidate closer than the spacing to
/// one already taken, until `wanted`. Candidates are put in rank order a
/// growing prefix at a time, since a few sites wanted rarely need more than
/// the best few hundred of tens of thousands.
fn spacing_select(
    wanted: usize,
    rule: &mut Spacing<'_>,
    by_rank: impl Fn(&u32, &u32) -> std::cmp::Ordering,
) -> Vec<usize> {
    let n = rule.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let (mut sorted, mut next) = (0usize, 0usize);
    let mut chosen = Vec::new();
    while chosen.len() < wanted && next < n {
        if next == sorted {
            let upto = (sorted * 4).max(wanted * 8).max(256).min(n);
            let rest = &mut order[sorted..];
            let take = upto - sorted;
            if take < rest.len() {
                rest.select_nth_unstable_by(take - 1, &by_rank);
            }
            rest[..take].sort_unstable_by(&by_rank);
            sorted = upto;
        }
        let j = order[next] as usize;
        next += 1;
        if rule.blockers(j) == 0 {
            rule.choose(j);
            chosen.push(j);
        }
    }
    chosen
}
