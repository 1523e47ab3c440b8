//! OGC API - Features at the service root: Part 1 (Core, GeoJSON, OpenAPI
//! 3.0), Part 2 (CRS by reference) and Part 3 (CQL2 text filters, in
//! [`filter`]), so GIS tools (QGIS, GDAL's `OAPIF` driver) read the register
//! without knowing the `/v1` API; and OGC API - Tiles vector tiles
//! ([`tiles`]) for web maps.
//!
//! Collections: `assets` (the spatial index) and the three boundary layers
//! (`wards`, `fee-zones`, `conservation-areas`, from the area index). Reads
//! use the same [`Reader`] access rule as `/v1/assets` on every path. Staff
//! also see their council's `applications` and `installations`
//! (`concessions`), which exist for nobody else.

mod concessions;
pub mod crs;
pub mod filter;
mod items;
pub mod tiles;

/// A refused filter is a malformed request (OGC API - Features answers 400).
impl From<filter::FilterError> for ApiError {
    fn from(e: filter::FilterError) -> ApiError {
        ApiError::BadRequest(e.0)
    }
}

use std::sync::{Arc, Mutex, Weak};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use geo::{BoundingRect, Rect};
use serde_json::{Value, json};

use crate::domain::area::AreaLayer;
use crate::http::auth::Reader;
use crate::http::{ApiError, ApiResult, AppState};
use crate::index::Snapshot;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{id}", get(collection))
        .route("/collections/{id}/queryables", get(queryables))
        .route("/collections/{id}/items", get(items::items))
        .route("/collections/{id}/items/{feature_id}", get(items::item))
        .route("/collections/{id}/tiles", get(tiles::tilesets))
        .route("/collections/{id}/tiles/{tms}", get(tiles::tileset))
        .route(
            "/collections/{id}/tiles/{tms}/{z}/{y}/{x}",
            get(tiles::tile),
        )
        .merge(concessions::router())
}

/// The OpenAPI description of this module's operations, merged into `/api`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    landing,
    conformance,
    collections,
    collection,
    queryables,
    items::items,
    items::item,
    tiles::tilesets,
    tiles::tileset,
    tiles::tile,
    concessions::describe_applications,
    concessions::describe_installations,
    concessions::application_items,
    concessions::application_item,
    concessions::installation_items,
    concessions::installation_item
))]
pub struct OgcApiDoc;

/// Conformance classes implemented.
pub const CONFORMANCE: [&str; 16] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    // Part 3 and CQL2: see `filter`.
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    // OGC API - Tiles: see `tiles`.
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
];

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const SCHEMA_JSON: &str = "application/schema+json";
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// A feature collection the service offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Assets,
    Areas(AreaLayer),
}

/// Static description of one collection.
struct Collection {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    source: Source,
}

const COLLECTIONS: [Collection; 4] = [
    Collection {
        id: "assets",
        title: "Street assets",
        description: "Council street furniture and buildings offered as small-cell sites \
                      (lamp posts, CCTV columns, rooftops...), with their derived ward, \
                      fee zone and conservation-area placement.",
        source: Source::Assets,
    },
    Collection {
        id: "wards",
        title: "Wards",
        description: "Electoral ward boundaries of each authority.",
        source: Source::Areas(AreaLayer::Ward),
    },
    Collection {
        id: "fee-zones",
        title: "Fee zones",
        description: "Zones that set fee multipliers, per authority.",
        source: Source::Areas(AreaLayer::FeeZone),
    },
    Collection {
        id: "conservation-areas",
        title: "Conservation areas",
        description: "Conservation areas (heritage planning limits), per authority.",
        source: Source::Areas(AreaLayer::ConservationArea),
    },
];

fn find_collection(id: &str) -> ApiResult<&'static Collection> {
    COLLECTIONS
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("collection {id:?} not found")))
}

/// `scheme://host` of the request, for absolute links.
fn base_url(headers: &HeaderMap) -> String {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or(v).trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let scheme = value("x-forwarded-proto")
        .filter(|s| s == "https" || s == "http")
        .unwrap_or_else(|| "http".into());
    let host = value(header::HOST.as_str()).unwrap_or_else(|| "localhost".into());
    format!("{scheme}://{host}")
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

/// A JSON body with a given media type.
fn json_response(content_type: &'static str, body: &Value) -> Response {
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Landing page: links to the API definition, conformance and data.
#[utoipa::path(get, path = "/", tag = "ogc",
    responses((status = 200, description = "Links to the API definition, conformance classes and collections", body = Object)))]
async fn landing(_reader: Reader, headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    json_response(
        JSON,
        &json!({
            "title": "Streetcell",
            "description": "Council street-asset registers (lamp posts, CCTV columns, rooftops) \
                            for 5G small-cell siting, with ward, fee-zone and conservation-area \
                            boundaries, as OGC API - Features.",
            "links": [
                link(format!("{base}/"), "self", JSON, "This document"),
                link(format!("{base}/api"), "service-desc", OPENAPI, "The API definition"),
                link(format!("{base}/api.html"), "service-doc", "text/html", "The API documentation"),
                link(format!("{base}/conformance"), "conformance", JSON, "Conformance classes implemented"),
                link(format!("{base}/collections"), "data", JSON, "The feature collections"),
            ],
        }),
    )
}

/// The conformance classes this service implements.
#[utoipa::path(get, path = "/conformance", tag = "ogc",
    responses((status = 200, description = "`{conformsTo: [...]}`", body = Object)))]
async fn conformance(_reader: Reader) -> Response {
    json_response(JSON, &json!({"conformsTo": CONFORMANCE}))
}

/// The feature collections, each with extent, CRS list and links.
#[utoipa::path(get, path = "/collections", tag = "ogc",
    responses((status = 200, description = "The collections", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized)))]
async fn collections(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&headers);
    let mut list: Vec<Value> = COLLECTIONS
        .iter()
        .map(|c| describe(&state, &base, c))
        .collect();
    // Councils' own applications and installations, for their staff only.
    list.extend(concessions::visible_collections(reader.0.as_ref(), &base));
    json_response(
        JSON,
        &json!({
            "links": [link(format!("{base}/collections"), "self", JSON, "The feature collections")],
            "crs": crs::SUPPORTED,
            "collections": list,
        }),
    )
}

/// One collection's description.
#[utoipa::path(get, path = "/collections/{collectionId}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas")),
    responses((status = 200, description = "The collection", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn collection(
    State(state): State<AppState>,
    _reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    Ok(json_response(
        JSON,
        &describe(&state, &base_url(&headers), c),
    ))
}

/// A collection's description, with its extent computed from the data.
fn describe(state: &AppState, base: &str, c: &Collection) -> Value {
    let href = format!("{base}/collections/{}", c.id);
    let mut v = json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": crs::SUPPORTED,
        "storageCrs": crs::CRS84,
        "links": [
            link(href.clone(), "self", JSON, "This collection"),
            link(format!("{href}/items"), "items", GEOJSON, "Its features"),
            link(format!("{href}/queryables"), REL_QUERYABLES, SCHEMA_JSON, "What its features can be filtered by"),
            link(format!("{href}/tiles"), tiles::REL_TILESETS_VECTOR, JSON, "Its vector tiles"),
        ],
    });
    if let Some(r) = extent(state, c.source) {
        v["extent"] = json!({"spatial": {
            "bbox": [[r.min().x, r.min().y, r.max().x, r.max().y]],
            "crs": crs::CRS84,
        }});
    }
    v
}

/// The lon/lat envelope of a collection's data, `None` when it is empty.
fn extent(state: &AppState, source: Source) -> Option<Rect<f64>> {
    match source {
        Source::Assets => asset_extent(&state.register.assets().snapshot()),
        Source::Areas(layer) => state
            .register
            .areas()
            .areas()
            .iter()
            .filter(|a| a.layer == layer)
            .filter_map(|a| a.geometry.bounding_rect())
            .reduce(union),
    }
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

/// The last snapshot whose asset extent was computed, and that extent.
type ExtentCache = Option<(Weak<Snapshot>, Option<Rect<f64>>)>;
static ASSET_EXTENT: Mutex<ExtentCache> = Mutex::new(None);

/// The envelope of every asset: O(n) over the snapshot, so it is computed
/// once per published snapshot and remembered until the next one.
fn asset_extent(snap: &Arc<Snapshot>) -> Option<Rect<f64>> {
    if let Ok(cache) = ASSET_EXTENT.lock()
        && let Some((weak, rect)) = cache.as_ref()
        && weak.upgrade().is_some_and(|s| Arc::ptr_eq(&s, snap))
    {
        return *rect;
    }
    let rect = snap
        .query(None, |_| true)
        .iter()
        .map(|l| l.bbox)
        .reduce(union);
    if let Ok(mut cache) = ASSET_EXTENT.lock() {
        *cache = Some((Arc::downgrade(snap), rect));
    }
    rect
}

/// The properties a client may filter the collection's items by (JSON Schema).
#[utoipa::path(get, path = "/collections/{collectionId}/queryables", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas")),
    responses((status = 200, description = "JSON Schema of the queryable properties", body = Object, content_type = "application/schema+json"),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn queryables(
    _reader: Reader,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    // The same tables the `filter` compiler reads: one source of truth.
    let properties = match c.source {
        Source::Assets => filter::ASSETS.json_properties(),
        Source::Areas(_) => filter::AREAS.json_properties(),
    };
    Ok(json_response(
        SCHEMA_JSON,
        &json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": format!("{}{}", base_url(&headers), uri.path()),
            "type": "object",
            "title": c.title,
            "properties": properties,
            "additionalProperties": false,
        }),
    ))
}
