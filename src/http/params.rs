//! Request parameters shared by `/v1` and the OGC endpoints: page sizes and
//! links, bounding boxes and attribute criteria.

use axum::http::Uri;
use geo::{Coord, Rect};

use super::{ApiError, ApiResult};
use crate::domain::asset::{AssetKind, AssetStatus, InvalidField, PowerSupply};
use crate::domain::criteria::{Criteria, parse_list};

/// Page size when a client asks for none.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page a client may ask for; larger requests are clamped.
pub const MAX_LIMIT: usize = 10_000;

/// The page size a client asked for: absent means the default, larger than
/// the largest is clamped (as OGC API - Features allows), zero is refused
/// (a zero-sized page could never reach the next one).
pub fn page_limit(asked: Option<usize>) -> Result<usize, InvalidField> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(InvalidField::new("limit", "must be at least 1")),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

/// Parses `minLon,minLat,maxLon,maxLat` into one or two rectangles (two
/// when the box crosses the antimeridian, i.e. minLon > maxLon).
pub fn parse_bbox(text: &str) -> Result<Vec<Rect<f64>>, ApiError> {
    let nums: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::BadRequest(format!("bbox {text:?} must be four numbers")))?;
    let [x0, y0, x1, y1] = match nums[..] {
        [a, b, c, d] => [a, b, c, d],
        [a, b, _, c, d, _] => [a, b, c, d],
        _ => {
            return Err(ApiError::BadRequest(format!(
                "bbox {text:?} must be minLon,minLat,maxLon,maxLat"
            )));
        }
    };
    let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
    if !(lon_ok(x0) && lon_ok(x1) && lat_ok(y0) && lat_ok(y1)) {
        return Err(ApiError::invalid(
            "bbox",
            "longitudes must be within ±180 and latitudes within ±90",
        ));
    }
    if y0 > y1 {
        return Err(ApiError::invalid("bbox", "minLat must not exceed maxLat"));
    }
    let rect = |a: f64, b: f64| Rect::new(Coord { x: a, y: y0 }, Coord { x: b, y: y1 });
    Ok(if x0 <= x1 {
        vec![rect(x0, x1)]
    } else {
        vec![rect(x0, 180.0), rect(-180.0, x1)]
    })
}

/// Attribute criteria from the list parameters (each a comma-separated list).
pub fn criteria(
    kind: Option<&str>,
    status: Option<&str>,
    power: Option<&str>,
    authority: Option<&str>,
    ward: Option<&str>,
) -> ApiResult<Criteria> {
    Ok(Criteria {
        kinds: parse_list::<AssetKind>("kind", kind)?,
        statuses: parse_list::<AssetStatus>("status", status)?,
        power_supplies: parse_list::<PowerSupply>("power_supply", power)?,
        authority: authority.map(str::to_string),
        ward: ward.map(str::to_string),
    })
}

/// `href` for the same request with `offset` replaced.
pub fn page_href(uri: &Uri, offset: usize) -> String {
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| k != "offset")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    pairs.push(("offset".into(), offset.to_string()));
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{}?{}", uri.path(), query)
}

/// Pages of at most this many features keep each feature's encoding
/// (`Located::geojson`); larger pages only use what is kept.
pub const KEEP_ENCODINGS_UP_TO: usize = 1_000;
