//! OGC API - Features at the service root: Part 1 (Core, GeoJSON, OpenAPI
//! 3.0), Part 2 (CRS by reference) and Part 3 (CQL2 text filters, in
//! [`filter`]), so GIS tools (QGIS, GDAL's `OAPIF` driver) read the register
//! without knowing the `/v1` API; and OGC API - Tiles vector tiles
//! ([`tiles`]) for web maps.
//!
//! Collections: `assets` (the spatial index) and the three boundary layers
//! (`wards`, `fee-zones`, `conservation-areas`, from the area index). The
//! service's description (landing page, conformance, collections and their
//! queryables, tile matrix sets) is public; features and tiles use the same
//! `Reader` access rule as `/v1/assets`; so do whole-collection downloads
//! ([`downloads`], in the bulk [`formats`], linked as `enclosure`). Staff
//! also see their council's `applications` and `installations`
//! (`concessions`), which exist for nobody else.

mod concessions;
pub mod crs;
mod downloads;
pub mod filter;
pub mod formats;
mod items;
pub mod tiles;
mod tms;

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
use crate::http::auth::Visitor;
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
        .route(
            "/collections/{id}/download/{file}",
            get(downloads::download),
        )
        .route("/collections/{id}/tiles", get(tiles::tilesets))
        .route("/collections/{id}/tiles/{tms}", get(tiles::tileset))
        .route(
            "/collections/{id}/tiles/{tms}/{z}/{y}/{x}",
            get(tiles::tile),
        )
        .merge(concessions::router())
        .merge(tms::router())
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
    downloads::download,
    tiles::tilesets,
    tiles::tileset,
    tiles::tile,
    concessions::describe_applications,
    concessions::describe_installations,
    concessions::application_items,
    concessions::application_item,
    concessions::installation_items,
    concessions::installation_item,
    tms::tile_matrix_sets,
    tms::tile_matrix_set
))]
pub struct OgcApiDoc;

/// Adds each collection's items path to the API document (`/api`), with
/// `limit` as a shared parameter (`#/components/parameters/limit`) that
/// declares its default and maximum. GDAL's OAPIF driver (3.10 on) looks
/// for exactly that (the concrete path of the collection it reads, a
/// `limit` parameter by `$ref`) to choose its page size: with these it asks
/// for 1,000 features a page instead of 10 (GDAL 3.6, which reads no API
/// description, needs `-oo PAGE_SIZE=...`).
pub fn add_collection_paths(doc: &mut Value) {
    let template = "/paths/~1collections~1{collectionId}~1items/get";
    let Some(get) = doc.pointer(template).cloned() else {
        return;
    };
    let mut limit = None;
    let mut parameters = Vec::new();
    for p in get["parameters"].as_array().into_iter().flatten() {
        match p["name"].as_str() {
            Some("collectionId") => {}
            Some("limit") => {
                let mut p = p.clone();
                p["schema"]["default"] = json!(crate::http::params::DEFAULT_LIMIT);
                limit = Some(p);
                parameters.push(json!({"$ref": "#/components/parameters/limit"}));
            }
            _ => parameters.push(p.clone()),
        }
    }
    let Some(limit) = limit else { return };
    doc["components"]["parameters"]["limit"] = limit;
    for c in &COLLECTIONS {
        let mut op = get.clone();
        op["operationId"] = json!(format!("items_{}", c.id.replace('-', "_")));
        op["summary"] = json!(format!("The features of {}", c.title.to_lowercase()));
        op["parameters"] = json!(parameters);
        if let Source::Areas(_) = c.source {
            op["responses"]["200"]["content"]["application/geo+json"]["schema"] =
                json!({"$ref": "#/components/schemas/AreaFeaturePage"});
        }
        doc["paths"][format!("/collections/{}/items", c.id)] = json!({ "get": op });
    }
    // Any collection's items, the private ones too: features of any shape.
    if let Some(schema) = doc.pointer_mut(&format!(
        "{template}/responses/200/content/application~1geo+json/schema"
    )) {
        *schema = json!({"$ref": "#/components/schemas/OgcFeaturePage"});
    }
}

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
    /// Only the assets of one geometry type (see [`Shape`]).
    shape: Option<Shape>,
}

/// The geometry type of an asset-only collection. GDAL's OAPIF driver
/// (under QGIS too) gives a layer the geometry type of the first page it
/// reads, so a collection mixing points with building polygons reads as
/// "Point" and every polygon then draws a warning (and is refused by a
/// GeoPackage without `-nlt`); a collection per geometry type reads clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Point assets (columns, poles, shelters).
    Points,
    /// Polygon assets (buildings, rooftops), each written as a
    /// MultiPolygon so a page never mixes the two.
    Polygons,
}

impl Shape {
    /// Whether an asset of this geometry belongs to the collection.
    pub(crate) fn holds(self, g: &geo::Geometry<f64>) -> bool {
        use geo::Geometry as G;
        match self {
            Shape::Points => matches!(g, G::Point(_)),
            Shape::Polygons => matches!(g, G::Polygon(_) | G::MultiPolygon(_)),
        }
    }
}

const COLLECTIONS: [Collection; 6] = [
    Collection {
        id: "assets",
        title: "Street assets",
        description: "Council street furniture and buildings offered as small-cell sites \
                      (lamp posts, CCTV columns, rooftops...), with their derived ward, \
                      fee zone and conservation-area placement. Points and polygons together: \
                      GIS clients that need one geometry type per layer read `assets-points` \
                      and `assets-polygons`.",
        source: Source::Assets,
        shape: None,
    },
    Collection {
        id: "wards",
        title: "Wards",
        description: "Electoral ward boundaries of each authority.",
        source: Source::Areas(AreaLayer::Ward),
        shape: None,
    },
    Collection {
        id: "fee-zones",
        title: "Fee zones",
        description: "Zones that set fee multipliers, per authority.",
        source: Source::Areas(AreaLayer::FeeZone),
        shape: None,
    },
    Collection {
        id: "conservation-areas",
        title: "Conservation areas",
        description: "Conservation areas (heritage planning limits), per authority.",
        source: Source::Areas(AreaLayer::ConservationArea),
        shape: None,
    },
    Collection {
        id: "assets-points",
        title: "Street assets (points)",
        description: "The street assets whose geometry is a point (lamp posts, columns, \
                      poles, shelters): the `assets` collection with one geometry type.",
        source: Source::Assets,
        shape: Some(Shape::Points),
    },
    Collection {
        id: "assets-polygons",
        title: "Street assets (polygons)",
        description: "The street assets whose geometry is a polygon (buildings, rooftops), \
                      each as a MultiPolygon: the `assets` collection with one geometry type.",
        source: Source::Assets,
        shape: Some(Shape::Polygons),
    },
];

/// A collection with features (every collection above).
fn find_feature_collection(id: &str) -> ApiResult<&'static Collection> {
    COLLECTIONS
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("collection {id:?} not found")))
}

/// A collection with vector tiles: every one but the single-geometry-type
/// views of the assets (the `assets` tiles hold both types already).
fn find_collection(id: &str) -> ApiResult<&'static Collection> {
    match find_feature_collection(id)? {
        c if c.shape.is_some() => Err(ApiError::NotFound(format!(
            "collection {id:?} has no tiles; the assets collection's tiles hold every asset"
        ))),
        c => Ok(c),
    }
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
/// Public, like the rest of the service's description: a GIS tool can
/// discover the service before it has credentials.
#[utoipa::path(get, path = "/", tag = "ogc", security(()),
    params(("f" = Option<String>, Query, description = "`json` or `html`; without it, `Accept: text/html` gets the page for people")),
    responses((status = 200, description = "Links to the API definition, conformance classes and collections (JSON); for browsers, a page for people (text/html)", body = Object)))]
async fn landing(
    State(state): State<AppState>,
    _visitor: Visitor,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Response> {
    let base = base_url(&headers);
    let f = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "f")
        .map(|(_, v)| v.into_owned());
    if crate::http::home::wants_html(&headers, f.as_deref()) {
        return crate::http::home::page(&state, &base).await;
    }
    Ok(json_response(
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
                link(format!("{base}/tileMatrixSets"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", JSON, "The tile matrix sets"),
                link(format!("{base}/?f=html"), "alternate", "text/html", "This page for people"),
            ],
        }),
    ))
}

/// The conformance classes this service implements.
#[utoipa::path(get, path = "/conformance", tag = "ogc", security(()),
    responses((status = 200, description = "`{conformsTo: [...]}`", body = Object)))]
async fn conformance(_visitor: Visitor) -> Response {
    json_response(JSON, &json!({"conformsTo": CONFORMANCE}))
}

/// The feature collections, each with extent, CRS list and links. Public;
/// a token that is sent is checked, and staff see their council's private
/// collections too.
#[utoipa::path(get, path = "/collections", tag = "ogc", security(()),
    responses((status = 200, description = "The collections", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized)))]
async fn collections(
    State(state): State<AppState>,
    reader: Visitor,
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

/// One collection's description (public).
#[utoipa::path(get, path = "/collections/{collectionId}", tag = "ogc", security(()),
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas")),
    responses((status = 200, description = "The collection", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn collection(
    State(state): State<AppState>,
    _visitor: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_feature_collection(&id)?;
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
        ],
    });
    // Whole-collection downloads (FlatGeobuf, GeoJSON text sequence, CSV).
    if let Some(links) = v["links"].as_array_mut() {
        links.extend(downloads::enclosures(base, c));
    }
    if c.shape.is_none()
        && let Some(links) = v["links"].as_array_mut()
    {
        links.push(link(
            format!("{href}/tiles"),
            tiles::REL_TILESETS_VECTOR,
            JSON,
            "Its vector tiles",
        ));
    }
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
        .map(|l| l.bbox())
        .reduce(union);
    if let Ok(mut cache) = ASSET_EXTENT.lock() {
        *cache = Some((Arc::downgrade(snap), rect));
    }
    rect
}

/// The properties a client may filter the collection's items by (JSON
/// Schema; public, like the collection's description).
#[utoipa::path(get, path = "/collections/{collectionId}/queryables", tag = "ogc", security(()),
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas")),
    responses((status = 200, description = "JSON Schema of the queryable properties", body = Object, content_type = "application/schema+json"),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn queryables(
    _visitor: Visitor,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_feature_collection(&id)?;
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
