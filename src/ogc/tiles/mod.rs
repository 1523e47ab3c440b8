//! Vector tiles (OGC API - Tiles, Mapbox Vector Tile) for web maps.
//!
//! `GET /collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}` builds one
//! tile per request from the in-memory indexes: the tile's lon/lat bounds
//! (grown by [`BUFFER`]) query the R-tree, points are written as points,
//! polygons are clipped to the buffered tile, simplified to about a pixel
//! and written with MVT's winding (exterior clockwise in tile coordinates,
//! y down). One layer per tile, named after the collection. A tile with no
//! feature is `204 No Content`.
//!
//! Boundary polygons change rarely, so their Web Mercator projection and an
//! R-tree over every authority's areas per layer are built once per
//! published area index and reused by every tile until the next one.
//!
//! Layout: this file has the handlers and tileset metadata; `geometry.rs`
//! (tile addressing, projection, clipping), `mvt.rs` (the protobuf writer),
//! `layers.rs` (one layer per collection: thinned assets, cached areas).

use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Coord, Geometry, LineString, MultiPolygon, Polygon, Rect, Simplify};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde_json::{Value, json};

use super::{JSON, Source, base_url, find_collection, json_response, link};
use crate::domain::area::AreaLayer;
use crate::domain::asset::Asset;
use crate::http::auth::Reader;
use crate::http::{ApiError, ApiResult, AppState};
use crate::index::Snapshot;
use crate::index::areas::AreaIndex;

/// Media type of a Mapbox Vector Tile.
mod geometry;
mod layers;
mod mvt;

pub use geometry::*;
pub use layers::*;
use mvt::*;

/// Media type of a Mapbox Vector Tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The one tile matrix set offered.
pub const TILE_MATRIX_SET: &str = "WebMercatorQuad";
/// Its OGC definition.
pub const TILE_MATRIX_SET_URI: &str =
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
/// Link relation from a collection to its vector tilesets.
pub const REL_TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";
const REL_GEODATA: &str = "http://www.opengis.net/def/rel/ogc/1.0/geodata";
const CRS_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";

/// Tile coordinates run 0..EXTENT across a tile.
pub const EXTENT: u32 = 4096;
/// Features this far outside the tile (tile units) are still written, so
/// symbols drawn at an edge are not cut: 64, as MapLibre's own GeoJSON
/// tiler uses (8 CSS pixels of a tile drawn 512 pixels wide).
pub const BUFFER: f64 = 64.0;
/// Douglas-Peucker tolerance in tile units: a device pixel of a tile drawn
/// 512 CSS pixels wide on a high-density (2×) screen.
pub const SIMPLIFY: f64 = 4.0;
/// Deepest zoom level served (WebMercatorQuad defines 0..=24).
pub const MAX_ZOOM: u8 = 24;
/// Tiles change whenever the register does, so caches may keep them briefly.
const CACHE_CONTROL: &str = "max-age=60";
/// Latitudes are clamped here before projecting: the poles project to
/// infinity, and anything past ±85.05° falls outside every tile anyway.
const MAX_LAT: f64 = 89.999;

fn check_tile_matrix_set(tms: &str) -> ApiResult<()> {
    if tms == TILE_MATRIX_SET {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "tile matrix set {tms:?} not found; this service offers {TILE_MATRIX_SET}"
        )))
    }
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}`.
#[utoipa::path(get, path = "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas"), ("tileMatrixSetId" = String, Path, description = "WebMercatorQuad"),
        ("tileMatrix" = u8, Path, description = "Zoom level", minimum = 0, maximum = 24),
        ("tileRow" = u32, Path, description = "Row, 0 at the north edge"),
        ("tileCol" = u32, Path, description = "Column, 0 at 180°W")),
    responses(
        (status = 200, description = "A Mapbox Vector Tile with one layer named after the collection", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 204, description = "No features in this tile"),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tile(
    State(state): State<AppState>,
    _reader: Reader,
    Path((id, tms, z, y, x)): Path<(String, String, String, String, String)>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    check_tile_matrix_set(&tms)?;
    let t = TileId::parse(&z, &y, &x).map_err(ApiError::BadRequest)?;
    let bytes = match c.source {
        Source::Assets => assets_tile(&state.register.assets().snapshot(), c.id, t),
        Source::Areas(layer) => areas_tile(&state.register.areas(), layer, c.id, t),
    };
    let mut r = match bytes {
        Some(b) => {
            let mut r = (StatusCode::OK, b).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
            r
        }
        None => StatusCode::NO_CONTENT.into_response(),
    };
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(r)
}

/// A tileset's links and identity, shared by the list and the tileset.
fn tileset_summary(base: &str, id: &str, title: &str) -> Value {
    let href = format!("{base}/collections/{id}/tiles/{TILE_MATRIX_SET}");
    json!({
        "title": format!("{title} (vector tiles)"),
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": TILE_MATRIX_SET_URI,
        "links": [
            link(href, "self", JSON, "This tileset"),
            link(TILE_MATRIX_SET_URI.into(), REL_TILING_SCHEME, JSON, "The WebMercatorQuad tile matrix set"),
        ],
    })
}

/// `GET /collections/{id}/tiles`: the list of tilesets (one).
#[utoipa::path(get, path = "/collections/{collectionId}/tiles", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas")),
    responses((status = 200, description = "The vector tilesets (OGC API - Tiles)", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tilesets(
    _reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    let base = base_url(&headers);
    Ok(json_response(
        JSON,
        &json!({
            "links": [link(format!("{base}/collections/{}/tiles", c.id), "self", JSON, "The tilesets of this collection")],
            "tilesets": [tileset_summary(&base, c.id, c.title)],
        }),
    ))
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}`: the tileset metadata.
#[utoipa::path(get, path = "/collections/{collectionId}/tiles/{tileMatrixSetId}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas"), ("tileMatrixSetId" = String, Path, description = "WebMercatorQuad")),
    responses((status = 200, description = "Tileset metadata with the templated tile link", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tileset(
    _reader: Reader,
    headers: HeaderMap,
    Path((id, tms)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    check_tile_matrix_set(&tms)?;
    let base = base_url(&headers);
    let collection = format!("{base}/collections/{}", c.id);
    let mut v = tileset_summary(&base, c.id, c.title);
    v["layers"] = json!([{"id": c.id, "dataType": "vector", "title": c.title}]);
    if let Some(links) = v["links"].as_array_mut() {
        links.push(link(
            collection.clone(),
            REL_GEODATA,
            JSON,
            "The collection",
        ));
        links.push(json!({
            "href": format!("{collection}/tiles/{TILE_MATRIX_SET}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
            "rel": "item",
            "type": MVT,
            "templated": true,
            "title": "A tile, as a Mapbox Vector Tile",
        }));
    }
    Ok(json_response(JSON, &v))
}

#[cfg(test)]
mod tests;
