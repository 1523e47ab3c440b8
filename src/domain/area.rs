//! Boundary layers: the polygons an authority draws over its area.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of boundary layer. Each asset's placement is derived from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLayer {
    /// Electoral wards.
    Ward,
    /// Zones that set fee multipliers.
    FeeZone,
    /// Conservation areas (heritage planning limits).
    ConservationArea,
}

impl AreaLayer {
    /// Every layer.
    pub const ALL: [AreaLayer; 3] = [
        AreaLayer::Ward,
        AreaLayer::FeeZone,
        AreaLayer::ConservationArea,
    ];

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLayer::Ward => "ward",
            AreaLayer::FeeZone => "fee_zone",
            AreaLayer::ConservationArea => "conservation_area",
        }
    }
}

impl FromStr for AreaLayer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AreaLayer::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!("unknown layer {s:?}; expected ward, fee_zone or conservation_area")
            })
    }
}

impl fmt::Display for AreaLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One named polygon of a boundary layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// Database id.
    pub id: i64,
    /// Owning authority's code.
    pub authority: String,
    /// Which layer.
    pub layer: AreaLayer,
    /// The area's name (ward name, fee zone name...).
    pub name: String,
    /// Polygon or MultiPolygon, WGS84.
    pub geometry: geo::MultiPolygon<f64>,
}
