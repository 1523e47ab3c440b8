//! Attribute criteria a search narrows assets by, shared by every endpoint
//! that lists assets.

use super::asset::{Asset, AssetKind, AssetStatus, PowerSupply};

/// Attribute filters; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    /// Any of these kinds.
    pub kinds: Option<Vec<AssetKind>>,
    /// Any of these statuses.
    pub statuses: Option<Vec<AssetStatus>>,
    /// Any of these power supplies.
    pub power_supplies: Option<Vec<PowerSupply>>,
    /// This authority's assets only.
    pub authority: Option<String>,
    /// In this ward only.
    pub ward: Option<String>,
}

impl Criteria {
    /// No criterion at all: every asset matches.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_none()
            && self.statuses.is_none()
            && self.power_supplies.is_none()
            && self.authority.is_none()
            && self.ward.is_none()
    }

    /// Does `asset` meet every criterion?
    pub fn matches(&self, asset: &Asset) -> bool {
        let d = &asset.details;
        self.kinds.as_ref().is_none_or(|k| k.contains(&d.kind))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&d.status))
            && self
                .power_supplies
                .as_ref()
                .is_none_or(|p| p.contains(&d.power_supply))
            && self
                .authority
                .as_ref()
                .is_none_or(|a| **a == *asset.authority)
            && self
                .ward
                .as_ref()
                .is_none_or(|w| asset.placement.ward.as_deref() == Some(w.as_str()))
    }
}

/// Parses a comma-separated list of enumeration values (`kind=lamp_post,cctv_column`).
pub fn parse_list<T: std::str::FromStr<Err = super::asset::UnknownVariant>>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<Vec<T>>, super::asset::InvalidField> {
    let Some(value) = value else { return Ok(None) };
    value
        .split(',')
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| super::asset::InvalidField::new(field, e.to_string()))
        })
        .collect::<Result<Vec<T>, _>>()
        .map(Some)
}
