//! Assets: the council's street furniture and buildings that could carry a small cell.
//!
//! Everything here is plain data and validation; no I/O.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use geo::{Geometry, InteriorPoint, Point};
use serde::{Deserialize, Serialize};

pub use super::attributes::SourceAttributes;

/// What an asset physically is, in the estates team's words.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// A street-lighting column.
    LampPost,
    /// A column carrying CCTV cameras.
    CctvColumn,
    /// A traffic-signal pole.
    TrafficSignal,
    /// A bus shelter.
    BusShelter,
    /// A building rooftop.
    Rooftop,
    /// A building wall.
    Wall,
    /// Anything else the council offers.
    Other,
}

impl AssetKind {
    /// Every kind, in a stable order (used for fee tables and docs).
    pub const ALL: [AssetKind; 7] = [
        AssetKind::LampPost,
        AssetKind::CctvColumn,
        AssetKind::TrafficSignal,
        AssetKind::BusShelter,
        AssetKind::Rooftop,
        AssetKind::Wall,
        AssetKind::Other,
    ];

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::LampPost => "lamp_post",
            AssetKind::CctvColumn => "cctv_column",
            AssetKind::TrafficSignal => "traffic_signal",
            AssetKind::BusShelter => "bus_shelter",
            AssetKind::Rooftop => "rooftop",
            AssetKind::Wall => "wall",
            AssetKind::Other => "other",
        }
    }
}

/// Power available at the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerSupply {
    /// No supply.
    None,
    /// Switched off by day, as many street-lighting circuits are.
    PartNight,
    /// Supplied around the clock.
    Continuous,
}

impl PowerSupply {
    /// Every supply type.
    pub const ALL: [PowerSupply; 3] = [
        PowerSupply::None,
        PowerSupply::PartNight,
        PowerSupply::Continuous,
    ];

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerSupply::None => "none",
            PowerSupply::PartNight => "part_night",
            PowerSupply::Continuous => "continuous",
        }
    }
}

/// Whether the council offers the asset for attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// Open to applications.
    Available,
    /// Withdrawn (awaiting replacement, reserved, unsafe...).
    Unavailable,
}

impl AssetStatus {
    /// Every status.
    pub const ALL: [AssetStatus; 2] = [AssetStatus::Available, AssetStatus::Unavailable];

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetStatus::Available => "available",
            AssetStatus::Unavailable => "unavailable",
        }
    }
}

/// Error for a string that names no variant of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}; expected one of {expected}")]
pub struct UnknownVariant {
    /// What was being parsed (`kind`, `power_supply`, `status`).
    pub what: &'static str,
    /// The value given.
    pub value: String,
    /// The accepted values, comma-separated.
    pub expected: String,
}

macro_rules! parse_by_name {
    ($ty:ty, $what:literal) => {
        impl FromStr for $ty {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                <$ty>::ALL
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| UnknownVariant {
                        what: $what,
                        value: s.to_string(),
                        expected: <$ty>::ALL.map(|v| v.as_str()).join(", "),
                    })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
parse_by_name!(AssetKind, "kind");
parse_by_name!(PowerSupply, "power_supply");
parse_by_name!(AssetStatus, "status");

/// The asset's own descriptive fields, as a council records them.
///
/// This is what importers and `PUT` produce; derived fields (ward, fee zone,
/// conservation area) are added by [`Asset`] from the boundary layers.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetDetails {
    /// The council's own asset number, unique within the authority.
    pub asset_ref: String,
    /// What it is.
    pub kind: AssetKind,
    /// Point for street furniture, (Multi)Polygon for buildings; WGS84 lon/lat.
    pub geometry: Geometry<f64>,
    /// Height above ground in metres.
    pub height_m: Option<f64>,
    /// Power available at the asset.
    pub power_supply: PowerSupply,
    /// How many attachments it can take.
    pub capacity: u32,
    /// Structural load rating for attachments.
    pub load_rating_kg: Option<f64>,
    /// Date of the last structural inspection (ISO 8601 date).
    pub last_inspected: Option<time::Date>,
    /// Year of installation.
    pub install_year: Option<i32>,
    /// Whether it is offered.
    pub status: AssetStatus,
    /// Listed building (or on one): extra planning limits.
    pub listed: bool,
    /// A photograph, for desk pre-qualification.
    pub photo_url: Option<Box<str>>,
    /// The source row's other attributes, kept as they came.
    pub source_attributes: SourceAttributes,
}

/// Where an asset falls among the authority's boundary layers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Electoral ward name (shared with every asset in the ward).
    pub ward: Option<Arc<str>>,
    /// Fee zone name (keys `zone_multipliers` in the fee schedule).
    pub fee_zone: Option<Arc<str>>,
    /// Inside a conservation area.
    pub in_conservation_area: bool,
}

/// One shared copy of each name among assets made together (authority
/// codes; ward and fee-zone names read back from a start-up snapshot): a
/// register of a million assets holds each council's code once rather than
/// a million times. Placements made from boundary layers share the layer's
/// names already (`index::areas`).
#[derive(Debug, Default)]
pub struct Names(std::collections::HashSet<Arc<str>>);

impl Names {
    /// The shared copy of `name`.
    pub fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.0.get(name) {
            return Arc::clone(n);
        }
        let n: Arc<str> = Arc::from(name);
        self.0.insert(Arc::clone(&n));
        n
    }
}

/// A stored asset: its details, identity and derived placement.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Stable identifier, unique across the deployment.
    pub id: String,
    /// Code of the owning authority.
    pub authority: Arc<str>,
    /// Descriptive fields.
    pub details: AssetDetails,
    /// Derived from boundary layers.
    pub placement: Placement,
    /// How much of its capacity is taken, kept by the concession workflow.
    pub occupancy: Occupancy,
    /// The stored row's revision: 1 when added, +1 on every edit of the
    /// council's fields. Served as the ETag, checked by `If-Match`.
    pub revision: i64,
}

/// How much of an asset's capacity is taken. Kept in the database by the
/// application and installation transactions (which decide capacity
/// there), never by imports or edits of the asset's own fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// Units held by live applications and by installations.
    pub in_use: u32,
    /// Installations currently on the structure.
    pub installed: u32,
}

impl Asset {
    /// Capacity not held by applications or installations.
    pub fn free_capacity(&self) -> u32 {
        self.details.capacity.saturating_sub(self.occupancy.in_use)
    }

    /// Already carries another operator's equipment (a shared structure).
    pub fn is_shared(&self) -> bool {
        self.occupancy.installed > 0
    }
}

/// An asset's id: the authority code and a hash of its ref, so re-importing
/// the same register finds the same ids, and a deleted asset imported again
/// gets its old id back. A ref never changes once given (the HTTP layer
/// refuses it), so the id and the (authority, ref) key always agree, and
/// upserts can use the primary key as their conflict target: concurrent
/// imports of the same new ref then queue on one key instead of racing on
/// two.
pub fn asset_id(authority: &str, asset_ref: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{authority}\0{asset_ref}").as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{authority}-{hex}")
}

/// Why asset details were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error, utoipa::ToSchema)]
#[error("{field}: {message}")]
pub struct InvalidField {
    /// The offending field or parameter.
    #[schema(example = "kind")]
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidField {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks that a geometry is one an asset can have and is valid
/// ([`super::geometry::validate`]).
pub fn validate_geometry(geometry: &Geometry<f64>) -> Result<(), InvalidField> {
    match geometry {
        Geometry::Point(_) | Geometry::Polygon(_) | Geometry::MultiPolygon(_) => {}
        _ => {
            return Err(InvalidField::new(
                "geometry",
                "an asset is a Point, Polygon or MultiPolygon",
            ));
        }
    }
    super::geometry::validate(geometry).map_err(|e| InvalidField::new("geometry", e))
}

/// Checks every coordinate is a finite longitude in ±180 and latitude in ±90.
pub fn validate_coordinates(geometry: &Geometry<f64>) -> Result<(), InvalidField> {
    super::geometry::check_coordinates(geometry).map_err(|e| InvalidField::new("geometry", e))
}

impl AssetDetails {
    /// Validates the fields that have rules beyond their types: the first
    /// problem (an import row's reason).
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every field that breaks a rule beyond its type (an API answer names
    /// them all at once).
    pub fn problems(&self) -> Vec<InvalidField> {
        let mut out = Vec::new();
        let r = self.asset_ref.trim();
        if r.is_empty() {
            out.push(InvalidField::new("ref", "must not be empty"));
        } else if r.len() > 200 {
            out.push(InvalidField::new("ref", "must be at most 200 characters"));
        }
        if let Err(e) = validate_geometry(&self.geometry) {
            out.push(e);
        }
        if let Some(h) = self.height_m
            && !(h.is_finite() && (0.0..=1000.0).contains(&h))
        {
            out.push(InvalidField::new("height_m", "must be between 0 and 1000"));
        }
        if let Some(l) = self.load_rating_kg
            && !(l.is_finite() && l >= 0.0)
        {
            out.push(InvalidField::new("load_rating_kg", "must be 0 or more"));
        }
        if self.capacity == 0 {
            out.push(InvalidField::new("capacity", "must be at least 1"));
        }
        if let Some(y) = self.install_year
            && !(1800..=2200).contains(&y)
        {
            out.push(InvalidField::new(
                "install_year",
                "must be a four-digit year",
            ));
        }
        out
    }

    /// The point used for point-in-polygon placement: the point itself, or a
    /// polygon's interior point (always inside, unlike a centroid).
    pub fn anchor(&self) -> Option<Point<f64>> {
        match &self.geometry {
            Geometry::Point(p) => Some(*p),
            g => g.interior_point(),
        }
    }
}

/// Parses an ISO 8601 calendar date (`YYYY-MM-DD`).
pub fn parse_date(s: &str) -> Result<time::Date, InvalidField> {
    time::Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| InvalidField::new("last_inspected", format!("{s:?} is not a YYYY-MM-DD date")))
}

/// Formats a date as ISO 8601 `YYYY-MM-DD`.
pub fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in AssetKind::ALL {
            assert_eq!(k.as_str().parse::<AssetKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        let err = "lamppost".parse::<AssetKind>().unwrap_err();
        assert!(err.to_string().contains("lamp_post"), "{err}");
    }

    #[test]
    fn rejects_latitudes_off_the_globe() {
        let g = Geometry::Point(Point::new(-2.3, 91.0));
        assert_eq!(validate_geometry(&g).unwrap_err().field, "geometry");
        let g = Geometry::Point(Point::new(f64::NAN, 53.0));
        assert!(validate_geometry(&g).is_err());
        assert!(validate_geometry(&Geometry::Point(Point::new(-180.0, -90.0))).is_ok());
    }

    #[test]
    fn dates_are_iso() {
        let d = parse_date("2024-02-29").unwrap();
        assert_eq!(format_date(d), "2024-02-29");
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("29/02/2024").is_err());
    }
}
