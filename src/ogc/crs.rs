//! OGC API - Features Part 2 (CRS by reference): the `crs` and `bbox-crs`
//! parameters.
//!
//! Data is stored in CRS84 (lon/lat, as GeoJSON). Output in EPSG:4326 swaps
//! the axes (lat, lon); output in EPSG:27700 goes through
//! [`crate::crs::wgs84_to_bng`] (OSTN15). A `bbox` in another CRS is turned
//! into a lon/lat box for the index, then (for EPSG:27700, whose box is not
//! a lon/lat box) filtered exactly in that CRS.

use geo::{Coord, Geometry, Intersects, MapCoords, Rect};

use crate::crs::{bng_to_wgs84, wgs84_to_bng};
use crate::http::ApiError;
use crate::http::params::parse_bbox;

/// OGC CRS84: longitude, latitude on WGS84 (the default).
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// EPSG:4326: latitude, longitude on WGS84.
pub const EPSG_4326: &str = "http://www.opengis.net/def/crs/EPSG/0/4326";
/// EPSG:27700: British National Grid easting, northing.
pub const EPSG_27700: &str = "http://www.opengis.net/def/crs/EPSG/0/27700";
/// Every CRS the service answers in, default first.
pub const SUPPORTED: [&str; 3] = [CRS84, EPSG_4326, EPSG_27700];

/// A coordinate reference system a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// Longitude, latitude (storage CRS).
    Crs84,
    /// Latitude, longitude.
    LatLon,
    /// British National Grid.
    Bng,
}

impl Crs {
    /// Parses a CRS URI (or its safe CURIE, `[EPSG:27700]`) given as `param`.
    pub fn parse(param: &str, text: &str) -> Result<Crs, ApiError> {
        match text.trim() {
            CRS84 | "[OGC:CRS84]" => Ok(Crs::Crs84),
            EPSG_4326 | "[EPSG:4326]" => Ok(Crs::LatLon),
            EPSG_27700 | "[EPSG:27700]" => Ok(Crs::Bng),
            other => Err(ApiError::BadRequest(format!(
                "{param} {other:?} is not supported; use one of {}",
                SUPPORTED.join(", ")
            ))),
        }
    }

    /// The CRS's URI (for `Content-Crs`).
    pub fn uri(self) -> &'static str {
        match self {
            Crs::Crs84 => CRS84,
            Crs::LatLon => EPSG_4326,
            Crs::Bng => EPSG_27700,
        }
    }

    /// A stored (lon/lat) coordinate in this CRS. Outside the OSTN15 grid a
    /// BNG coordinate is NaN, which GeoJSON output writes as `null`.
    pub fn output(self, c: Coord<f64>) -> Coord<f64> {
        match self {
            Crs::Crs84 => c,
            Crs::LatLon => Coord { x: c.y, y: c.x },
            Crs::Bng => match wgs84_to_bng(c.x, c.y) {
                Ok((x, y)) => Coord { x, y },
                Err(_) => Coord {
                    x: f64::NAN,
                    y: f64::NAN,
                },
            },
        }
    }
}

/// A `bbox` parameter resolved for the index.
#[derive(Debug, Clone)]
pub struct BboxFilter {
    /// Lon/lat rectangles for [`crate::index::Snapshot::query`] (a superset
    /// of the box when it was given in another CRS).
    pub rects: Vec<Rect<f64>>,
    /// The box in British National Grid, when given in EPSG:27700: features
    /// must also touch it there.
    pub bng: Option<Rect<f64>>,
}

impl BboxFilter {
    /// Whether a lon/lat geometry passes the exact test (always true unless
    /// the box was given in EPSG:27700).
    pub fn exact(&self, g: &Geometry<f64>) -> bool {
        let Some(rect) = &self.bng else {
            return true;
        };
        if let Geometry::Point(p) = g {
            return wgs84_to_bng(p.x(), p.y())
                .is_ok_and(|(e, n)| rect.intersects(&Coord { x: e, y: n }));
        }
        g.try_map_coords(|c| wgs84_to_bng(c.x, c.y).map(|(x, y)| Coord { x, y }))
            .is_ok_and(|projected| projected.intersects(rect))
    }
}

/// Margin added around a converted EPSG:27700 box (degrees, about 10 m):
/// grid lines are slightly curved in lon/lat, so the envelope of sampled
/// edge points could otherwise miss a sliver of the box.
const PAD_DEG: f64 = 1e-4;

/// Parses `bbox` given in `crs` (4 or 6 numbers, axis order of that CRS).
pub fn parse_bbox_in(text: &str, crs: Crs) -> Result<BboxFilter, ApiError> {
    match crs {
        Crs::Crs84 => Ok(BboxFilter {
            rects: parse_bbox(text).map_err(bad_request)?,
            bng: None,
        }),
        Crs::LatLon => {
            let [lat0, lon0, lat1, lon1] = numbers(text)?;
            let lonlat = format!("{lon0},{lat0},{lon1},{lat1}");
            Ok(BboxFilter {
                rects: parse_bbox(&lonlat).map_err(bad_request)?,
                bng: None,
            })
        }
        Crs::Bng => {
            let [e0, n0, e1, n1] = numbers(text)?;
            if e0 > e1 || n0 > n1 {
                return Err(ApiError::BadRequest(format!(
                    "bbox {text:?} must be minEasting,minNorthing,maxEasting,maxNorthing"
                )));
            }
            let (em, nm) = ((e0 + e1) / 2.0, (n0 + n1) / 2.0);
            let samples = [
                (e0, n0),
                (em, n0),
                (e1, n0),
                (e1, nm),
                (e1, n1),
                (em, n1),
                (e0, n1),
                (e0, nm),
            ];
            let mut lon = (f64::INFINITY, f64::NEG_INFINITY);
            let mut lat = (f64::INFINITY, f64::NEG_INFINITY);
            for (e, n) in samples {
                let (x, y) = bng_to_wgs84(e, n).map_err(|err| {
                    ApiError::BadRequest(format!(
                        "bbox {text:?} is not within EPSG:27700 coverage: {err}"
                    ))
                })?;
                lon = (lon.0.min(x), lon.1.max(x));
                lat = (lat.0.min(y), lat.1.max(y));
            }
            let rect = Rect::new(
                Coord {
                    x: (lon.0 - PAD_DEG).max(-180.0),
                    y: (lat.0 - PAD_DEG).max(-90.0),
                },
                Coord {
                    x: (lon.1 + PAD_DEG).min(180.0),
                    y: (lat.1 + PAD_DEG).min(90.0),
                },
            );
            Ok(BboxFilter {
                rects: vec![rect],
                bng: Some(Rect::new(Coord { x: e0, y: n0 }, Coord { x: e1, y: n1 })),
            })
        }
    }
}

/// The four horizontal numbers of a 4- or 6-number bbox, in given order
/// (`min0,min1,max0,max1`).
fn numbers(text: &str) -> Result<[f64; 4], ApiError> {
    let nums: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::BadRequest(format!("bbox {text:?} must be 4 or 6 numbers")))?;
    match nums[..] {
        [a, b, c, d] | [a, b, _, c, d, _] if nums.iter().all(|v| v.is_finite()) => Ok([a, b, c, d]),
        _ => Err(ApiError::BadRequest(format!(
            "bbox {text:?} must be 4 or 6 finite numbers"
        ))),
    }
}

/// OGC API - Features answers every invalid parameter with 400; the shared
/// helpers answer some with 422.
pub fn bad_request(e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid(_) => ApiError::BadRequest(e.to_string()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crs_uris_parse_and_unknown_ones_are_refused() {
        assert_eq!(Crs::parse("crs", CRS84).unwrap(), Crs::Crs84);
        assert_eq!(Crs::parse("crs", EPSG_4326).unwrap(), Crs::LatLon);
        assert_eq!(Crs::parse("crs", "[EPSG:27700]").unwrap(), Crs::Bng);
        assert!(matches!(
            Crs::parse("crs", "http://www.opengis.net/def/crs/EPSG/0/3857"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn lat_lon_bbox_is_swapped() {
        let b = parse_bbox_in("53.4,-2.4,53.5,-2.3", Crs::LatLon).unwrap();
        assert_eq!(b.rects[0].min(), Coord { x: -2.4, y: 53.4 });
        assert_eq!(b.rects[0].max(), Coord { x: -2.3, y: 53.5 });
    }

    #[test]
    fn bng_bbox_envelope_covers_the_box() {
        let b = parse_bbox_in("370000,390000,380000,400000", Crs::Bng).unwrap();
        let r = b.rects[0];
        for (e, n) in [
            (370000.0, 390000.0),
            (380000.0, 400000.0),
            (375000.0, 395000.0),
        ] {
            let (x, y) = bng_to_wgs84(e, n).unwrap();
            assert!(r.intersects(&Coord { x, y }));
        }
        assert!(matches!(
            parse_bbox_in("-5,0,10,10", Crs::Bng),
            Err(ApiError::BadRequest(_))
        ));
    }
}
