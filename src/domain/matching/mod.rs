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
use earth::{Cells, Place as At, Spaced, Spacing};
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

/// An asset the index found in the search region.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// The asset.
    pub asset: &'a Asset,
    /// Metres from the searched point or line (0 for an area).
    pub distance: f64,
    /// The Earth-centred position of its [`position`] when the caller
    /// already has it (the index keeps every point asset's), which saves
    /// the trigonometry per candidate; it must be [`earth::ecef`] of it.
    pub xyz: Option<[f64; 3]>,
}

/// The candidates, a column per fact: ordering and selection read only the
/// scores, so they stay in cache, and the parts are copied out for the few
/// chosen.
#[derive(Default)]
struct Pool<'a> {
    assets: Vec<&'a Asset>,
    distance: Vec<f64>,
    at: Vec<At>,
    parts: Vec<ScoreParts>,
    /// Year-one fee as a number, for the fee part.
    fee: Vec<Option<f64>>,
    score: Vec<f64>,
}

impl Pool<'_> {
    fn with_capacity(n: usize) -> Self {
        Pool {
            assets: Vec::with_capacity(n),
            distance: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            parts: Vec::with_capacity(n),
            fee: Vec::with_capacity(n),
            score: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.assets.len()
    }
}

/// Runs `spec` over `inside` (the assets in the search region), out of
/// `total_assets` in the register, pricing with `fee` (year-one fee and
/// currency; asked of every candidate, and again of the chosen).
pub fn run<'a>(
    spec: &SearchSpec,
    inside: impl IntoIterator<Item = Found<'a>>,
    total_assets: usize,
    mut fee: impl FnMut(&Asset) -> Option<(Decimal, Arc<str>)>,
) -> Outcome<'a> {
    let mut rejected = RejectedBy::default();
    let mut seen = 0usize;
    let inside = inside.into_iter();
    let mut pool = Pool::with_capacity(inside.size_hint().0);
    // Neighbours mostly share a fee: convert each distinct one once.
    let mut last_fee: Option<(Decimal, Option<f64>)> = None;
    for found in inside {
        let asset = found.asset;
        seen += 1;
        if let Err(r) = constraints::check(spec, asset) {
            rejected.add(r);
            continue;
        }
        let Some(p) = position(asset) else {
            rejected.add(Reason::Outside);
            continue;
        };
        let at = match found.xyz {
            Some(xyz) => {
                debug_assert_eq!(xyz, earth::ecef(p), "{}", asset.id);
                At { point: p, xyz }
            }
            None => At::new(p),
        };
        let f = fee(asset).and_then(|(f, _)| match last_fee {
            Some((d, v)) if d == f => v,
            _ => {
                let v = f.to_f64();
                last_fee = Some((f, v));
                v
            }
        });
        pool.assets.push(asset);
        pool.distance.push(found.distance);
        pool.at.push(at);
        pool.parts.push(score::fixed_parts(spec, asset));
        pool.fee.push(f);
    }
    rejected.outside += total_assets.saturating_sub(seen);
    let n = pool.len();

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
            for (s, parts) in pool.at.iter().zip(&mut pool.parts) {
                let mut near = 0.0;
                cells.around(s, |i| {
                    let (p, w) = &places[i as usize];
                    if s.within(p, reach) {
                        near += w;
                    }
                });
                parts.demand = if total > 0.0 { near / total } else { 0.0 };
            }
        }
        None => {
            for (parts, d) in pool.parts.iter_mut().zip(&pool.distance) {
                parts.demand = score::closeness(spec, *d);
            }
        }
    }
    // The fee part and the score.
    let range = pool
        .fee
        .iter()
        .flatten()
        .fold(None, |r: Option<(f64, f64)>, &f| {
            Some(r.map_or((f, f), |(lo, hi)| (lo.min(f), hi.max(f))))
        });
    pool.score = pool
        .parts
        .iter_mut()
        .zip(&pool.fee)
        .map(|(parts, f)| {
            parts.fee = score::fee(*f, range);
            parts.score(&spec.weights)
        })
        .collect();
    // Rank order: best score first, ties by asset id.
    let (scores, assets) = (&pool.score, &pool.assets);
    let by_rank = |a: &u32, b: &u32| {
        let (a, b) = (*a as usize, *b as usize);
        scores[b]
            .total_cmp(&scores[a])
            .then_with(|| assets[a].id.cmp(&assets[b].id))
    };
    let (chosen, coverage) = match spec.coverage_radius_m {
        None => {
            let (chosen, spaced_out) = spacing_select(
                spec.sites_wanted,
                &pool.at,
                spec.min_spacing_m,
                scores,
                by_rank,
            );
            rejected.spacing += spaced_out;
            (chosen, None)
        }
        Some(radius) => {
            let sites = &pool.at;
            let mut order: Vec<u32> = (0..n as u32).collect();
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
            // Candidates left out because a chosen site is too close
            // (chosen sites are never too close to each other, so they
            // have no blockers).
            let mut rule = Spacing::new(sites, spec.min_spacing_m);
            for &i in &chosen {
                rule.choose(i);
            }
            rejected.spacing += (0..n).filter(|&j| rule.blockers(j) > 0).count();
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

    let chosen = chosen
        .into_iter()
        .enumerate()
        .map(|(rank, i)| Pick {
            asset: pool.assets[i],
            rank: rank + 1,
            score: pool.score[i],
            parts: pool.parts[i],
            annual_fee: fee(pool.assets[i]).map(|(f, c)| (f, c.to_string())),
        })
        .collect();
    Outcome {
        chosen,
        candidates: n,
        rejected_by: rejected,
        coverage,
    }
}

/// Spacing mode: best score first (`by_rank` over indices of `sites`),
/// skipping any candidate closer than `metres` to one already taken, until
/// `wanted`; with how many candidates not chosen lie closer than `metres`
/// to a chosen site. Candidates are put in rank order a growing prefix at a
/// time, since a few sites wanted rarely need more than the best few
/// hundred of tens of thousands; the spacing rule looks up only the chosen
/// sites, so candidates never reached cost nothing until the count.
fn spacing_select(
    wanted: usize,
    sites: &[At],
    metres: f64,
    scores: &[f64],
    by_rank: impl Fn(&u32, &u32) -> std::cmp::Ordering,
) -> (Vec<usize>, usize) {
    let n = sites.len();
    // Sorting (score, index) pairs reads no other array; ties (equal
    // scores) go to `by_rank` for the asset ids.
    let by_key =
        |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then_with(|| by_rank(&a.1, &b.1));
    let mut order: Vec<(f64, u32)> = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, i as u32))
        .collect();
    let mut rule = Spaced::new(sites, metres);
    let (mut sorted, mut next) = (0usize, 0usize);
    let mut chosen = Vec::new();
    while chosen.len() < wanted && next < n {
        if next == sorted {
            let upto = (sorted * 4).max(wanted * 8).max(256).min(n);
            let rest = &mut order[sorted..];
            let take = upto - sorted;
            if take < rest.len() {
                rest.select_nth_unstable_by(take - 1, by_key);
            }
            rest[..take].sort_unstable_by(by_key);
            sorted = upto;
        }
        let j = order[next].1 as usize;
        next += 1;
        if !rule.blocked(j) {
            rule.choose(j);
            chosen.push(j);
        }
    }
    // Every candidate passed over was blocked by a chosen site, and stays
    // so; of those never reached (only when the selection is full), look
    // each up.
    let passed_over = next - chosen.len();
    let unreached = order[next..]
        .iter()
        .filter(|&&(_, j)| rule.blocked(j as usize))
        .count();
    (chosen, passed_over + unreached)
}
