//! A site-search request as an operator sends it, and its validation into a
//! typed [`SearchSpec`], naming every bad field at once.

use geo::{Area, Geodesic, GeodesicArea, Geometry, Length, MultiLineString, Point};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use super::score::Weights;
use crate::domain::application::parse_iso_date;
use crate::domain::asset::{AssetKind, InvalidField, PowerSupply};
use crate::domain::fees::MAX_TERM_YEARS;

/// Most sites one search may ask for.
pub const MAX_SITES_WANTED: u32 = 1_000;
/// Default `sites_wanted`.
pub const DEFAULT_SITES_WANTED: u32 = 10;
/// Default `term_years` for the quote.
pub const DEFAULT_TERM_YEARS: u32 = 10;
/// Most demand points a request may carry.
pub const MAX_DEMAND_POINTS: usize = 10_000;
/// Largest `near.radius_m`, `min_spacing_m`.
pub const MAX_DISTANCE_M: f64 = 50_000.0;
/// Largest `coverage_radius_m`.
pub const MAX_COVERAGE_RADIUS_M: f64 = 10_000.0;
/// Largest `corridor.width_m`.
pub const MAX_CORRIDOR_WIDTH_M: f64 = 5_000.0;
/// Default largest search area (`Limits::max_area_km2`): a large district.
pub const DEFAULT_MAX_AREA_KM2: f64 = 500.0;

/// Deployment limits on searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest search region in square kilometres (geodesic area of
    /// `area`; π r² for `near`; length × width plus the round ends for
    /// `corridor`).
    pub max_area_km2: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_area_km2: DEFAULT_MAX_AREA_KM2,
        }
    }
}

/// Body of `POST /v1/site-searches`. Exactly one of `area`, `near` and
/// `corridor` says where; everything else is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSearchRequest {
    /// A GeoJSON Polygon or MultiPolygon (WGS84).
    #[schema(value_type = Option<Object>)]
    pub area: Option<Value>,
    /// A point and a radius.
    pub near: Option<NearRequest>,
    /// A street line and a width (the line ± half the width).
    pub corridor: Option<CorridorRequest>,
    /// How many sites to choose, 1 to 1,000 (default 10).
    #[schema(example = 10)]
    pub sites_wanted: Option<i64>,
    /// No two chosen sites closer than this many geodesic metres (default 0: no rule).
    #[schema(example = 150)]
    pub min_spacing_m: Option<f64>,
    /// Coverage mode: each site covers a disc of this radius (metres, up to 10,000).
    #[schema(example = 200)]
    pub coverage_radius_m: Option<f64>,
    /// Demand as a GeoJSON FeatureCollection of Points, each with an
    /// optional non-negative `properties.weight` (default 1).
    #[schema(value_type = Option<Object>)]
    pub demand: Option<Value>,
    /// Kinds accepted (default: every kind).
    #[schema(example = json!(["lamp_post", "cctv_column"]))]
    pub kinds: Option<Vec<String>>,
    /// Lowest height accepted, metres (an unknown height then fails).
    pub min_height_m: Option<f64>,
    /// Highest height accepted, metres (an unknown height then fails).
    pub max_height_m: Option<f64>,
    /// Power supplies accepted (default: any).
    #[schema(example = json!(["continuous"]))]
    pub power_supply: Option<Vec<String>>,
    /// Refuse assets inside a conservation area (default false).
    pub exclude_conservation_areas: Option<bool>,
    /// Refuse listed assets (default false).
    pub exclude_listed: Option<bool>,
    /// Accept assets the council has marked unavailable (default false).
    pub include_unavailable: Option<bool>,
    /// Term of the quote in years, 1 to 50 (default 10).
    pub term_years: Option<i64>,
    /// First day of the quote's term, `YYYY-MM-DD` (default today).
    pub start: Option<String>,
    /// Weights of the score parts (non-negative; defaults in the README).
    pub weights: Option<WeightsRequest>,
}

/// `near`: within `radius_m` geodesic metres of a point.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NearRequest {
    /// Longitude, WGS84.
    #[schema(example = -2.35)]
    pub lon: Option<f64>,
    /// Latitude, WGS84.
    #[schema(example = 53.42)]
    pub lat: Option<f64>,
    /// Radius in metres (above 0, at most 50,000).
    #[schema(example = 500)]
    pub radius_m: Option<f64>,
}

/// `corridor`: within half of `width_m` of a line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorridorRequest {
    /// A GeoJSON LineString or MultiLineString (WGS84).
    #[schema(value_type = Option<Object>)]
    pub line: Option<Value>,
    /// Full width in metres (above 0, at most 5,000).
    #[schema(example = 60)]
    pub width_m: Option<f64>,
}

/// Weights of the score parts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsRequest {
    /// Closeness to demand (default 0.35).
    pub demand: Option<f64>,
    /// Height fit (default 0.15).
    pub height: Option<f64>,
    /// Continuous power (default 0.2).
    pub power: Option<f64>,
    /// An already-equipped structure (default 0.1).
    pub shared: Option<f64>,
    /// Low annual fee (default 0.2).
    pub fee: Option<f64>,
}

/// Where to search.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// Assets intersecting a Polygon or MultiPolygon.
    Area(Geometry<f64>),
    /// Assets within `radius_m` of `centre`.
    Near {
        /// The point.
        centre: Point<f64>,
        /// Geodesic metres.
        radius_m: f64,
    },
    /// Assets within `width_m / 2` of a line.
    Corridor {
        /// LineString or MultiLineString.
        line: Geometry<f64>,
        /// Full width in metres.
        width_m: f64,
    },
}

/// A demand point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Where.
    pub point: Point<f64>,
    /// How much (≥ 0).
    pub weight: f64,
}

/// A validated search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpec {
    /// Where.
    pub place: Place,
    /// Surface of the search region, square metres.
    pub area_m2: f64,
    /// Sites to choose.
    pub sites_wanted: usize,
    /// Least geodesic distance between chosen sites (0: no rule).
    pub min_spacing_m: f64,
    /// Coverage mode's disc radius.
    pub coverage_radius_m: Option<f64>,
    /// Demand points, when given.
    pub demand: Option<Vec<Demand>>,
    /// Kinds accepted (`None`: any).
    pub kinds: Option<Vec<AssetKind>>,
    /// Height range.
    pub min_height_m: Option<f64>,
    /// Height range.
    pub max_height_m: Option<f64>,
    /// Power supplies accepted (`None`: any).
    pub power: Option<Vec<PowerSupply>>,
    /// Refuse assets in conservation areas.
    pub exclude_conservation_areas: bool,
    /// Refuse listed assets.
    pub exclude_listed: bool,
    /// Accept unavailable assets.
    pub include_unavailable: bool,
    /// Quote term.
    pub term_years: u32,
    /// Quote start.
    pub start: Date,
    /// Score weights.
    pub weights: Weights,
}

struct Problems(Vec<InvalidField>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(InvalidField::new(field, message));
    }

    /// A finite number in `[lo, hi]` (`lo` excluded when `open_lo`).
    fn number(
        &mut self,
        field: &str,
        v: Option<f64>,
        lo: f64,
        open_lo: bool,
        hi: f64,
    ) -> Option<f64> {
        let v = v?;
        let ok = v.is_finite() && (if open_lo { v > lo } else { v >= lo }) && v <= hi;
        if ok {
            Some(v)
        } else {
            let low = if open_lo { "above" } else { "at least" };
            self.add(
                field,
                format!("must be a number {low} {lo} and at most {hi}"),
            );
            None
        }
    }
}

fn geometry(value: &Value, field: &str) -> Result<Geometry<f64>, InvalidField> {
    let g: geojson::Geometry = serde_json::from_value(value.clone())
        .map_err(|e| InvalidField::new(field, format!("not a GeoJSON geometry: {e}")))?;
    crate::domain::geometry::from_geojson(&g.value).map_err(|e| InvalidField::new(field, e))
}

impl SiteSearchRequest {
    /// Validates the request on `today`, naming every bad field.
    pub fn parse(&self, today: Date, limits: &Limits) -> Result<SearchSpec, Vec<InvalidField>> {
        let mut p = Problems(Vec::new());
        let given = [
            ("area", self.area.is_some()),
            ("near", self.near.is_some()),
            ("corridor", self.corridor.is_some()),
        ];
        let count = given.iter().filter(|g| g.1).count();
        if count != 1 {
            let names: Vec<_> = given.iter().filter(|g| g.1).map(|g| g.0).collect();
            let message = if count == 0 {
                "give exactly one of area, near or corridor; none was given".to_string()
            } else {
                format!(
                    "give exactly one of area, near or corridor; {} were given",
                    names.join(" and ")
                )
            };
            for name in if count == 0 {
                vec!["area", "near", "corridor"]
            } else {
                names
            } {
                p.add(name, message.clone());
            }
        }
        let place = if count == 1 { self.place(&mut p) } else { None };

        let sites_wanted = match self.sites_wanted {
            None => Some(DEFAULT_SITES_WANTED as usize),
            Some(n) if (1..=i64::from(MAX_SITES_WANTED)).contains(&n) => Some(n as usize),
            Some(_) => {
                p.add(
                    "sites_wanted",
                    format!("must be between 1 and {MAX_SITES_WANTED}"),
                );
                None
            }
        };
        let min_spacing_m = p
            .number(
                "min_spacing_m",
                self.min_spacing_m,
                0.0,
                false,
                MAX_DISTANCE_M,
            )
            .unwrap_or(0.0);
        let coverage_radius_m = p.number(
            "coverage_radius_m",
            self.coverage_radius_m,
            0.0,
            true,
            MAX_COVERAGE_RADIUS_M,
        );
        let min_h = p.number("min_height_m", self.min_height_m, 0.0, false, 1_000.0);
        let max_h = p.number("max_height_m", self.max_height_m, 0.0, false, 1_000.0);
        if let (Some(lo), Some(hi)) = (min_h, max_h)
            && lo > hi
        {
            let m = format!("min_height_m ({lo}) is above max_height_m ({hi})");
            p.add("min_height_m", m.clone());
            p.add("max_height_m", m);
        }
        let kinds = self.kinds.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, k)| {
                    k.parse::<AssetKind>()
                        .map_err(|e| p.add(format!("kinds[{i}]"), e.to_string()))
                        .ok()
                })
                .collect::<Vec<_>>()
        });
        let power = self.power_supply.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, k)| {
                    k.parse::<PowerSupply>()
                        .map_err(|e| p.add(format!("power_supply[{i}]"), e.to_string()))
                        .ok()
                })
                .collect::<Vec<_>>()
        });
        let term_years = match self.term_years {
            None => Some(DEFAULT_TERM_YEARS),
            Some(n) if (1..=i64::from(MAX_TERM_YEARS)).contains(&n) => Some(n as u32),
            Some(_) => {
                p.add(
                    "term_years",
                    format!("must be between 1 and {MAX_TERM_YEARS}"),
                );
                None
            }
        };
        let start = match &self.start {
            None => Some(today),
            Some(s) => match parse_iso_date(s) {
                Some(d) => Some(d),
                None => {
                    p.add("start", format!("{s:?} is not a YYYY-MM-DD date"));
                    None
                }
            },
        };
        let weights = self.weights(&mut p);
        let demand = self.demand.as_ref().and_then(|d| demand(&mut p, d));

        let area_m2 = place.as_ref().map(region_area_m2).unwrap_or(0.0);
        if area_m2 > limits.max_area_km2 * 1e6 {
            let field = match place {
                Some(Place::Area(_)) => "area",
                Some(Place::Near { .. }) => "near.radius_m",
                _ => "corridor",
            };
            p.add(
                field,
                format!(
                    "the search region is {:.1} km²; the largest allowed is {} km²",
                    area_m2 / 1e6,
                    limits.max_area_km2
                ),
            );
        }

        match (place, sites_wanted, term_years, start, weights) {
            (Some(place), Some(sites_wanted), Some(term_years), Some(start), Some(weights))
                if p.0.is_empty() =>
            {
                Ok(SearchSpec {
                    place,
                    area_m2,
                    sites_wanted,
                    min_spacing_m,
                    coverage_radius_m,
                    demand,
                    kinds,
                    min_height_m: min_h,
                    max_height_m: max_h,
                    power,
                    exclude_conservation_areas: self.exclude_conservation_areas.unwrap_or(false),
                    exclude_listed: self.exclude_listed.unwrap_or(false),
                    include_unavailable: self.include_unavailable.unwrap_or(false),
                    term_years,
                    start,
                    weights,
                })
            }
            _ => Err(p.0),
        }
    }

    fn place(&self, p: &mut Problems) -> Option<Place> {
        if let Some(area) = &self.area {
            return match geometry(area, "area") {
                Ok(g @ (Geometry::Polygon(_) | Geometry::MultiPolygon(_))) => Some(Place::Area(g)),
                Ok(_) => {
                    p.add("area", "must be a Polygon or MultiPolygon");
                    None
                }
                Err(e) => {
                    p.0.push(e);
                    None
                }
            };
        }
        if let Some(near) = &self.near {
            let lon = p.number("near.lon", near.lon, -180.0, false, 180.0);
            let lat = p.number("near.lat", near.lat, -90.0, false, 90.0);
            let r = p.number("near.radius_m", near.radius_m, 0.0, true, MAX_DISTANCE_M);
            for (name, v) in [("near.lon", near.lon), ("near.lat", near.lat)] {
                if v.is_none() {
                    p.add(name, "is required");
                }
            }
            if near.radius_m.is_none() {
                p.add("near.radius_m", "is required");
            }
            return Some(Place::Near {
                centre: Point::new(lon?, lat?),
                radius_m: r?,
            });
        }
        let c = self.corridor.as_ref()?;
        let width = p.number(
            "corridor.width_m",
            c.width_m,
            0.0,
            true,
            MAX_CORRIDOR_WIDTH_M,
        );
        if c.width_m.is_none() {
            p.add("corridor.width_m", "is required");
        }
        let line = match &c.line {
            None => {
                p.add("corridor.line", "is required");
                None
            }
            Some(v) => match geometry(v, "corridor.line") {
                Ok(g @ (Geometry::LineString(_) | Geometry::MultiLineString(_))) => Some(g),
                Ok(_) => {
                    p.add("corridor.line", "must be a LineString or MultiLineString");
                    None
                }
                Err(e) => {
                    p.0.push(e);
                    None
                }
            },
        };
        Some(Place::Corridor {
            line: line?,
            width_m: width?,
        })
    }

    fn weights(&self, p: &mut Problems) -> Option<Weights> {
        let d = Weights::default();
        let Some(w) = &self.weights else {
            return Some(d);
        };
        let before = p.0.len();
        let mut one = |name: &str, v: Option<f64>, default: f64| {
            p.number(&format!("weights.{name}"), v, 0.0, false, 1e6)
                .unwrap_or(default)
        };
        let weights = Weights {
            demand: one("demand", w.demand, d.demand),
            height: one("height", w.height, d.height),
            power: one("power", w.power, d.power),
            shared: one("shared", w.shared, d.shared),
            fee: one("fee", w.fee, d.fee),
        };
        (p.0.len() == before).then_some(weights)
    }
}

fn demand(p: &mut Problems, v: &Value) -> Option<Vec<Demand>> {
    if v.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        p.add("demand", "must be a GeoJSON FeatureCollection of Points");
        return None;
    }
    let Some(features) = v.get("features").and_then(Value::as_array) else {
        p.add("demand.features", "must be an array of Point features");
        return None;
    };
    if features.is_empty() || features.len() > MAX_DEMAND_POINTS {
        p.add(
            "demand.features",
            format!("needs 1 to {MAX_DEMAND_POINTS} Point features"),
        );
        return None;
    }
    let before = p.0.len();
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let field = format!("demand.features[{i}]");
        let point = match f
            .get("geometry")
            .map(|g| geometry(g, &format!("{field}.geometry")))
        {
            Some(Ok(Geometry::Point(pt))) => Some(pt),
            Some(Ok(_)) | None => {
                p.add(format!("{field}.geometry"), "must be a Point");
                None
            }
            Some(Err(e)) => {
                p.0.push(e);
                None
            }
        };
        let weight = match f.get("properties").and_then(|pr| pr.get("weight")) {
            None | Some(Value::Null) => Some(1.0),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(w) if w.is_finite() && w >= 0.0 => Some(w),
                _ => {
                    p.add(
                        format!("{field}.properties.weight"),
                        "must be a number of 0 or more",
                    );
                    None
                }
            },
            Some(_) => {
                p.add(
                    format!("{field}.properties.weight"),
                    "must be a number of 0 or more",
                );
                None
            }
        };
        if let (Some(point), Some(weight)) = (point, weight) {
            out.push(Demand { point, weight });
        }
    }
    if p.0.len() != before {
        return None;
    }
    if out.iter().map(|d| d.weight).sum::<f64>() <= 0.0 {
        p.add("demand", "the total weight must be above 0");
        return None;
    }
    Some(out)
}

/// Surface of the search region in square metres.
fn region_area_m2(place: &Place) -> f64 {
    match place {
        Place::Area(g) => match g {
            Geometry::Polygon(poly) => poly.geodesic_area_unsigned(),
            Geometry::MultiPolygon(m) => m.0.iter().map(|x| x.geodesic_area_unsigned()).sum(),
            other => other.unsigned_area(),
        },
        Place::Near { radius_m, .. } => std::f64::consts::PI * radius_m * radius_m,
        Place::Corridor { line, width_m } => {
            let length = match line {
                Geometry::LineString(l) => Geodesic.length(l),
                Geometry::MultiLineString(m) => Geodesic.length(m),
                _ => 0.0,
            };
            let parts = match line {
                Geometry::MultiLineString(MultiLineString(ls)) => ls.len() as f64,
                _ => 1.0,
            };
            length * width_m + parts * std::f64::consts::PI * (width_m / 2.0).powi(2)
        }
    }
}
