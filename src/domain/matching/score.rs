//! The score: documented, explainable parts, each between 0 and 1, and
//! their weighted mean.
//!
//! | part | 1 means | 0 means |
//! |---|---|---|
//! | `demand` | with `demand`: all the demand weight lies within reach (the coverage radius, else 200 m); with `near`: at the point; with `corridor`: on the line | none within reach; at the radius; at the corridor's edge (with `area` and no demand: 0 for every site) |
//! | `height` | the middle of the height range (`min_height_m`..`max_height_m`, defaults 4 and 15 m for scoring); the range's ends score 0.5 | a full range-width away from the middle, or unknown |
//! | `power` | continuous supply (part-night 0.5) | no supply |
//! | `shared` | already carries another operator's equipment (easier to add to) | does not |
//! | `fee` | the cheapest year-one fee among the candidates | the dearest, or no published schedule |
//!
//! `score = Σ weightᵢ × partᵢ / Σ weightᵢ` (0 when every weight is 0).
//! Ties are broken by asset id, so rank order is repeatable.

use serde::{Deserialize, Serialize};

use super::request::{Place, SearchSpec};
use crate::domain::asset::{Asset, PowerSupply};

/// Reach of a site for the `demand` part when no coverage radius is given.
pub const DEFAULT_REACH_M: f64 = 200.0;
/// Height range used for scoring when the request gives none.
pub const DEFAULT_HEIGHT_RANGE_M: (f64, f64) = (4.0, 15.0);

/// Weights of the parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// Closeness to demand.
    pub demand: f64,
    /// Height fit.
    pub height: f64,
    /// Continuous power.
    pub power: f64,
    /// An already-equipped structure.
    pub shared: f64,
    /// Low annual fee.
    pub fee: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            demand: 0.35,
            height: 0.15,
            power: 0.2,
            shared: 0.1,
            fee: 0.2,
        }
    }
}

/// One site's parts, each in 0..=1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScoreParts {
    /// Closeness to demand.
    pub demand: f64,
    /// Height fit.
    pub height: f64,
    /// Power supply.
    pub power: f64,
    /// Shared structure.
    pub shared: f64,
    /// Fee (cheapest 1).
    pub fee: f64,
}

impl ScoreParts {
    /// The weighted mean.
    pub fn score(&self, w: &Weights) -> f64 {
        let total = w.demand + w.height + w.power + w.shared + w.fee;
        if total <= 0.0 {
            return 0.0;
        }
        (w.demand * self.demand
            + w.height * self.height
            + w.power * self.power
            + w.shared * self.shared
            + w.fee * self.fee)
            / total
    }
}

/// Height fit of `height` for `spec`.
pub fn height_fit(spec: &SearchSpec, height: Option<f64>) -> f64 {
    let Some(h) = height else {
        return 0.0;
    };
    let lo = spec.min_height_m.unwrap_or(DEFAULT_HEIGHT_RANGE_M.0);
    let hi = spec
        .max_height_m
        .unwrap_or(DEFAULT_HEIGHT_RANGE_M.1)
        .max(lo);
    let middle = (lo + hi) / 2.0;
    let half = ((hi - lo) / 2.0).max(1.0);
    (1.0 - (h - middle).abs() / (2.0 * half)).clamp(0.0, 1.0)
}

/// Power part.
pub fn power(p: PowerSupply) -> f64 {
    match p {
        PowerSupply::Continuous => 1.0,
        PowerSupply::PartNight => 0.5,
        PowerSupply::None => 0.0,
    }
}

/// The `demand` part without demand points: closeness to the point or line
/// searched (`distance_m` from the index).
pub fn closeness(spec: &SearchSpec, distance_m: f64) -> f64 {
    match spec.place {
        Place::Area(_) => 0.0,
        Place::Near { radius_m, .. } => (1.0 - distance_m / radius_m).clamp(0.0, 1.0),
        Place::Corridor { width_m, .. } => (1.0 - distance_m / (width_m / 2.0)).clamp(0.0, 1.0),
    }
}

/// The fee part, from the candidates' lowest and highest fees.
pub fn fee(fee: Option<f64>, range: Option<(f64, f64)>) -> f64 {
    match (fee, range) {
        (Some(f), Some((lo, hi))) if hi > lo => ((hi - f) / (hi - lo)).clamp(0.0, 1.0),
        (Some(_), Some(_)) => 1.0,
        _ => 0.0,
    }
}

/// Parts of `asset` other than `demand` and `fee`.
pub fn fixed_parts(spec: &SearchSpec, asset: &Asset) -> ScoreParts {
    ScoreParts {
        demand: 0.0,
        height: height_fit(spec, asset.details.height_m),
        power: power(asset.details.power_supply),
        shared: if asset.is_shared() { 1.0 } else { 0.0 },
        fee: 0.0,
    }
}
