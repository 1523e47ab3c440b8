//! Hard constraints: the rules a candidate must pass before it is scored,
//! each with the reason a planner sees when it fails.
//!
//! A candidate failing several rules is counted once, under the first it
//! fails in the order of [`Reason::ALL`] (the order of the issue's
//! `rejected_by`), so the counts add up: `outside + kind + ... + capacity +
//! candidates` is the number of assets in the register.

use serde::Serialize;

use super::request::SearchSpec;
use crate::domain::asset::{Asset, AssetStatus};

/// Why a candidate was ruled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not inside the search region.
    Outside,
    /// Not one of the kinds asked for.
    Kind,
    /// Height unknown or outside the range.
    Height,
    /// Power supply not one of those asked for.
    Power,
    /// In a conservation area, which the request excludes.
    ConservationArea,
    /// Listed, which the request excludes.
    Listed,
    /// Marked unavailable by the council.
    Status,
    /// No free capacity left.
    Capacity,
    /// Closer than `min_spacing_m` to a chosen site.
    Spacing,
}

impl Reason {
    /// Every reason, in the order they are tested.
    pub const ALL: [Reason; 9] = [
        Reason::Outside,
        Reason::Kind,
        Reason::Height,
        Reason::Power,
        Reason::ConservationArea,
        Reason::Listed,
        Reason::Status,
        Reason::Capacity,
        Reason::Spacing,
    ];
}

/// How many candidates each rule ruled out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RejectedBy {
    /// Assets of the register outside the search region.
    pub outside: usize,
    /// Not one of `kinds`.
    pub kind: usize,
    /// Height unknown or outside `min_height_m`..`max_height_m`.
    pub height: usize,
    /// Power supply not in `power_supply`.
    pub power: usize,
    /// In a conservation area (`exclude_conservation_areas`).
    pub conservation_area: usize,
    /// Listed (`exclude_listed`).
    pub listed: usize,
    /// Unavailable (unless `include_unavailable`).
    pub status: usize,
    /// No free capacity.
    pub capacity: usize,
    /// Candidates not chosen because a chosen site lies within
    /// `min_spacing_m` of them.
    pub spacing: usize,
}

impl RejectedBy {
    /// Counts one more candidate ruled out for `reason`.
    pub fn add(&mut self, reason: Reason) {
        *self.slot(reason) += 1;
    }

    fn slot(&mut self, reason: Reason) -> &mut usize {
        match reason {
            Reason::Outside => &mut self.outside,
            Reason::Kind => &mut self.kind,
            Reason::Height => &mut self.height,
            Reason::Power => &mut self.power,
            Reason::ConservationArea => &mut self.conservation_area,
            Reason::Listed => &mut self.listed,
            Reason::Status => &mut self.status,
            Reason::Capacity => &mut self.capacity,
            Reason::Spacing => &mut self.spacing,
        }
    }
}

/// The first hard constraint (after "inside the region", which the index
/// decides) that `asset` fails, if any.
pub fn check(spec: &SearchSpec, asset: &Asset) -> Result<(), Reason> {
    let d = &asset.details;
    if let Some(kinds) = &spec.kinds
        && !kinds.contains(&d.kind)
    {
        return Err(Reason::Kind);
    }
    if spec.min_height_m.is_some() || spec.max_height_m.is_some() {
        let fits = d.height_m.is_some_and(|h| {
            spec.min_height_m.is_none_or(|lo| h >= lo) && spec.max_height_m.is_none_or(|hi| h <= hi)
        });
        if !fits {
            return Err(Reason::Height);
        }
    }
    if let Some(power) = &spec.power
        && !power.contains(&d.power_supply)
    {
        return Err(Reason::Power);
    }
    if spec.exclude_conservation_areas && asset.placement.in_conservation_area {
        return Err(Reason::ConservationArea);
    }
    if spec.exclude_listed && d.listed {
        return Err(Reason::Listed);
    }
    if !spec.include_unavailable && d.status != AssetStatus::Available {
        return Err(Reason::Status);
    }
    if asset.free_capacity() == 0 {
        return Err(Reason::Capacity);
    }
    Ok(())
}
