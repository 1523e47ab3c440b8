//! `/tileMatrixSets` and `/tileMatrixSets/WebMercatorQuad`: the definition
//! of the one tile matrix set the vector tiles use, served here so clients
//! need not fetch it from the OGC's site (GDAL's `OGCAPI:` driver follows
//! the tileset's `tiling-scheme` link and fails offline otherwise).
//!
//! The document is the OGC Two Dimensional Tile Matrix Set 2.0 JSON
//! encoding of WebMercatorQuad, computed from its definition: the square
//! of EPSG:3857 half-width 20037508.3427892 m, 256-pixel tiles, each level
//! halving the cell size, scale denominators at the standard 0.28 mm pixel.
//! It also carries the member names of the 1.0 encoding (17-083r2:
//! `identifier`, `supportedCRS`, `topLeftCorner`...), which is all GDAL
//! before 3.7 (Debian 12's 3.6) reads; later versions read the 2.0 names.

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::tiles::{MAX_ZOOM, TILE_MATRIX_SET, TILE_MATRIX_SET_URI};
use super::{JSON, base_url, json_response, link};
use crate::http::auth::Visitor;
use crate::http::{ApiError, ApiResult, AppState};

/// Half the width of the EPSG:3857 square, metres.
const HALF_WORLD: f64 = 20_037_508.342_789_244;
const EPSG_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
/// The standard rendering pixel, metres (OGC 17-083r4).
const PIXEL: f64 = 0.00028;
const TILE: u32 = 256;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tileMatrixSets", get(tile_matrix_sets))
        .route("/tileMatrixSets/{tileMatrixSetId}", get(tile_matrix_set))
}

/// The tile matrix sets this service uses (public: no data in them).
#[utoipa::path(get, path = "/tileMatrixSets", tag = "ogc", security(()),
    responses((status = 200, description = "The tile matrix sets (one: WebMercatorQuad)", body = Object)))]
pub(super) async fn tile_matrix_sets(_visitor: Visitor, headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let href = format!("{base}/tileMatrixSets/{TILE_MATRIX_SET}");
    json_response(
        JSON,
        &json!({
            "links": [link(format!("{base}/tileMatrixSets"), "self", JSON, "The tile matrix sets")],
            "tileMatrixSets": [{
                "id": TILE_MATRIX_SET,
                "title": "Google Maps Compatible for the World",
                "uri": TILE_MATRIX_SET_URI,
                "links": [link(href, "self", JSON, "The WebMercatorQuad tile matrix set")],
            }],
        }),
    )
}

/// One tile matrix set's definition (TMS 2.0 JSON).
#[utoipa::path(get, path = "/tileMatrixSets/{tileMatrixSetId}", tag = "ogc", security(()),
    params(("tileMatrixSetId" = String, Path, description = "WebMercatorQuad")),
    responses((status = 200, description = "The definition (OGC Two Dimensional Tile Matrix Set 2.0, JSON)", body = Object),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tile_matrix_set(
    _visitor: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id != TILE_MATRIX_SET {
        return Err(ApiError::NotFound(format!(
            "tile matrix set {id:?} not found; this service uses {TILE_MATRIX_SET}"
        )));
    }
    Ok(json_response(JSON, &web_mercator_quad()))
}

/// WebMercatorQuad, levels 0 to [`MAX_ZOOM`].
pub fn web_mercator_quad() -> Value {
    let matrices: Vec<Value> = (0..=MAX_ZOOM)
        .map(|z| {
            let n = 1u64 << z;
            let cell = 2.0 * HALF_WORLD / f64::from(TILE) / n as f64;
            json!({
                "id": z.to_string(),
                "scaleDenominator": cell / PIXEL,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
                "tileWidth": TILE,
                "tileHeight": TILE,
                "matrixWidth": n,
                "matrixHeight": n,
                // 1.0 names of the same facts.
                "type": "TileMatrixType",
                "identifier": z.to_string(),
                "topLeftCorner": [-HALF_WORLD, HALF_WORLD],
            })
        })
        .collect();
    json!({
        "id": TILE_MATRIX_SET,
        "title": "Google Maps Compatible for the World",
        "uri": TILE_MATRIX_SET_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {
            "lowerLeft": [-HALF_WORLD, -HALF_WORLD],
            "upperRight": [HALF_WORLD, HALF_WORLD],
            "crs": EPSG_3857,
            "type": "BoundingBoxType",
            "lowerCorner": [-HALF_WORLD, -HALF_WORLD],
            "upperCorner": [HALF_WORLD, HALF_WORLD],
        },
        "tileMatrices": matrices,
        "type": "TileMatrixSetType",
        "identifier": TILE_MATRIX_SET,
        "supportedCRS": EPSG_3857,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_match_the_published_definition() {
        let tms = web_mercator_quad();
        let m = tms["tileMatrices"].as_array().unwrap();
        assert_eq!(m.len(), 25);
        // Figures from the OGC's WebMercatorQuad (17-083r4, annex D.1).
        let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() / want < 1e-9;
        assert!(close(&m[0]["scaleDenominator"], 559_082_264.028_717_2));
        assert!(close(&m[0]["cellSize"], 156_543.033_928_041));
        assert!(close(&m[24]["cellSize"], 0.009_330_691_929_342_4));
        assert_eq!(m[24]["matrixWidth"], 1u64 << 24);
    }
}
