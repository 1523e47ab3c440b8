//! The private collections: `applications` (each with its sites) and
//! `installations` (equipment in place), for councils' GIS.
//!
//! Staff see their own council's, admin all; to anyone else (operators,
//! anonymous readers) the collections do not exist (404), and they are left
//! out of `/collections`. Features are read from the database and placed
//! at their assets' positions from the index: an application as a
//! MultiPoint of its sites, an installation as its asset's point. Items
//! take `limit` (default 100, at most 1,000), `offset`, a CRS84 `bbox`, and
//! for applications `status`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use geo::{Coord, Intersects, Point, Rect};
use serde_json::{Value, json};

use super::{GEOJSON, JSON, base_url, crs, link};
use crate::domain::access::Principal;
use crate::domain::application::{Application, ApplicationStatus, Installation};
use crate::domain::asset::format_date;
use crate::http::applications::today;
use crate::http::auth::Reader;
use crate::http::params::page_href;
use crate::http::{ApiError, ApiResult, AppState};
use crate::index::Snapshot;
use crate::register::ApplicationFilter;

/// Default page size.
const DEFAULT_LIMIT: u64 = 100;
/// Largest page size.
const MAX_LIMIT: u64 = 1000;
/// Rows read per database page while filtering by `bbox`.
const SCAN_PAGE: u32 = 500;

/// Routes of this module (static paths, so they take precedence over the
/// public collections' `{collectionId}` routes).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/collections/applications", get(describe_applications))
        .route("/collections/installations", get(describe_installations))
        .route("/collections/applications/items", get(application_items))
        .route(
            "/collections/applications/items/{featureId}",
            get(application_item),
        )
        .route("/collections/installations/items", get(installation_items))
        .route(
            "/collections/installations/items/{featureId}",
            get(installation_item),
        )
}

/// Staff and admin callers, for whom the collections exist.
fn council_reader(reader: &Reader, collection: &str) -> ApiResult<Principal> {
    match &reader.0 {
        Some(p @ (Principal::Admin | Principal::Staff { .. })) => Ok(p.clone()),
        _ => Err(ApiError::NotFound(format!(
            "collection {collection:?} not found"
        ))),
    }
}

/// The private collections `principal` may list in `/collections`.
pub fn visible_collections(principal: Option<&Principal>, base: &str) -> Vec<Value> {
    match principal {
        Some(Principal::Admin | Principal::Staff { .. }) => vec![
            description(base, "applications"),
            description(base, "installations"),
        ],
        _ => Vec::new(),
    }
}

fn description(base: &str, id: &str) -> Value {
    let (title, text) = match id {
        "applications" => (
            "Applications",
            "Operators' applications for sites on the council's assets, each with its sites \
             (a MultiPoint), status and decision clock. Staff of the council only.",
        ),
        _ => (
            "Installations",
            "Equipment in place on the council's assets: operator, carrier, technology and \
             the 24-hour contact for crews. Staff of the council only.",
        ),
    };
    let href = format!("{base}/collections/{id}");
    json!({
        "id": id,
        "title": title,
        "description": text,
        "itemType": "feature",
        "crs": [crs::CRS84],
        "storageCrs": crs::CRS84,
        "links": [
            link(href.clone(), "self", JSON, "This collection"),
            link(format!("{href}/items"), "items", GEOJSON, "Its features"),
        ],
    })
}

/// The applications collection (staff of a council and admin).
#[utoipa::path(get, path = "/collections/applications", operation_id = "describe_applications", tag = "ogc",
    responses((status = 200, description = "The collection", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, description = "Not staff or admin", body = Problem, content_type = "application/problem+json")))]
async fn describe_applications(reader: Reader, headers: HeaderMap) -> ApiResult<Response> {
    council_reader(&reader, "applications")?;
    Ok(json_body(
        JSON,
        &description(&base_url(&headers), "applications"),
    ))
}

/// The installations collection (staff of a council and admin).
#[utoipa::path(get, path = "/collections/installations", operation_id = "describe_installations", tag = "ogc",
    responses((status = 200, description = "The collection", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, description = "Not staff or admin", body = Problem, content_type = "application/problem+json")))]
async fn describe_installations(reader: Reader, headers: HeaderMap) -> ApiResult<Response> {
    council_reader(&reader, "installations")?;
    Ok(json_body(
        JSON,
        &description(&base_url(&headers), "installations"),
    ))
}

fn json_body(content_type: &'static str, body: &Value) -> Response {
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// The parameters of an items request.
struct ItemParams {
    limit: u64,
    offset: u64,
    bbox: Option<Rect<f64>>,
    status: Option<ApplicationStatus>,
}

fn item_params(uri: &Uri, with_status: bool) -> ApiResult<ItemParams> {
    let mut p = ItemParams {
        limit: DEFAULT_LIMIT,
        offset: 0,
        bbox: None,
        status: None,
    };
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" => {
                let n: u64 = v
                    .parse()
                    .map_err(|_| ApiError::BadRequest(format!("limit {v:?} is not a number")))?;
                if n == 0 {
                    return Err(ApiError::BadRequest("limit must be at least 1".into()));
                }
                p.limit = n.min(MAX_LIMIT);
            }
            "offset" => {
                p.offset = v
                    .parse()
                    .map_err(|_| ApiError::BadRequest(format!("offset {v:?} is not a number")))?;
            }
            "bbox" => p.bbox = Some(parse_bbox(&v)?),
            "bbox-crs" | "crs" if v == crs::CRS84 => {}
            "bbox-crs" | "crs" => {
                return Err(ApiError::BadRequest(format!(
                    "{k} {v:?} is not supported here; use {}",
                    crs::CRS84
                )));
            }
            "f" if v == "geojson" || v == "json" => {}
            "status" if with_status => {
                p.status = Some(v.parse().map_err(ApiError::BadRequest)?);
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter {other:?}; allowed: limit, offset, bbox, crs, f{}",
                    if with_status { ", status" } else { "" }
                )));
            }
        }
    }
    Ok(p)
}

fn parse_bbox(v: &str) -> ApiResult<Rect<f64>> {
    let n: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::BadRequest(format!("bbox {v:?} is not four numbers")))?;
    match n.as_slice() {
        [a, b, c, d]
            if n.iter().all(|x| x.is_finite())
                && (-180.0..=180.0).contains(a)
                && (-180.0..=180.0).contains(c)
                && (-90.0..=90.0).contains(b)
                && (-90.0..=90.0).contains(d)
                && a <= c
                && b <= d =>
        {
            Ok(Rect::new(Coord { x: *a, y: *b }, Coord { x: *c, y: *d }))
        }
        _ => Err(ApiError::BadRequest(format!(
            "bbox {v:?} must be minLon,minLat,maxLon,maxLat within the globe"
        ))),
    }
}

/// The anchor points of some assets (those still in the register).
fn points(snap: &Snapshot, ids: &[String]) -> Vec<Point<f64>> {
    ids.iter()
        .filter_map(|id| snap.get(id))
        .filter_map(|l| l.asset.details.anchor())
        .collect()
}

fn geometry(points: &[Point<f64>]) -> Value {
    match points {
        [] => Value::Null,
        [p] => json!({"type": "Point", "coordinates": [p.x(), p.y()]}),
        many => json!({"type": "MultiPoint",
            "coordinates": many.iter().map(|p| [p.x(), p.y()]).collect::<Vec<_>>()}),
    }
}

fn in_bbox(points: &[Point<f64>], bbox: Option<&Rect<f64>>) -> bool {
    bbox.is_none_or(|b| points.iter().any(|p| b.intersects(p)))
}

fn application_feature(a: &Application, points: &[Point<f64>], today: time::Date) -> Value {
    json!({
        "type": "Feature",
        "id": a.id,
        "geometry": geometry(points),
        "properties": {
            "status": a.status.as_str(),
            "authority": a.authority,
            "organisation": a.organisation,
            "assets": a.asset_ids().join(","),
            "sites": a.sites.len(),
            "term_years": a.term_years,
            "start": format_date(a.start),
            "submitted_at": a.submitted_at,
            "decision_due": format_date(a.clock.due_on(today)),
            "overdue": a.clock.is_overdue(a.status, today),
            "decided_on": a.decided_on.map(format_date),
            "install_deadline": a.install_deadline.map(format_date),
            "technology": a.details.equipment.technology,
        },
    })
}

fn installation_feature(i: &Installation, points: &[Point<f64>]) -> Value {
    json!({
        "type": "Feature",
        "id": i.id,
        "geometry": geometry(points),
        "properties": {
            "application": i.application,
            "asset": i.asset,
            "authority": i.authority,
            "operator": i.organisation,
            "carrier": i.carrier,
            "technology": i.technology,
            "equipment": i.equipment,
            "installed_on": format_date(i.installed_on),
            "contact_24h_name": i.contact_24h.name,
            "contact_24h_phone": i.contact_24h.phone,
        },
    })
}

fn collection_body(
    uri: &Uri,
    base: &str,
    matched: u64,
    offset: u64,
    limit: u64,
    features: Vec<Value>,
) -> Response {
    let returned = features.len() as u64;
    let mut links = vec![link(format!("{base}{uri}"), "self", GEOJSON, "This page")];
    if offset + returned < matched {
        links.push(link(
            format!("{base}{}", page_href(uri, (offset + limit) as usize)),
            "next",
            GEOJSON,
            "Next page",
        ));
    }
    if offset > 0 {
        links.push(link(
            format!(
                "{base}{}",
                page_href(uri, offset.saturating_sub(limit) as usize)
            ),
            "prev",
            GEOJSON,
            "Previous page",
        ));
    }
    json_body(
        GEOJSON,
        &json!({
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": returned,
            "timeStamp": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "links": links,
            "features": features,
        }),
    )
}

/// Applications as features: each a MultiPoint of its sites (staff see
/// their council's, admin all).
#[utoipa::path(get, path = "/collections/applications/items", operation_id = "application_items", tag = "ogc",
    params(("limit" = Option<u32>, Query, description = "Page size (default 100, at most 1000)"),
        ("offset" = Option<u64>, Query, description = "Features to skip"),
        ("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat (CRS84)"),
        ("status" = Option<String>, Query, description = "Only applications in this status")),
    responses((status = 200, description = "A page of applications", body = Object, content_type = "application/geo+json"),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn application_items(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Response> {
    let principal = council_reader(&reader, "applications")?;
    let p = item_params(&uri, true)?;
    let today = today();
    let snap = state.register.assets().snapshot();
    let filter = |limit: u32, offset: u64| ApplicationFilter {
        status: p.status,
        overdue: false,
        asset: None,
        limit,
        offset,
    };
    let (matched, features) = if p.bbox.is_none() {
        let page = state
            .register
            .applications(&principal, &filter(p.limit as u32, p.offset), today)
            .await?;
        let features = page
            .applications
            .iter()
            .map(|a| application_feature(a, &points(&snap, &a.asset_ids()), today))
            .collect();
        (page.number_matched, features)
    } else {
        // Positions live in the index, not the database: walk the caller's
        // applications a database page at a time, keeping the page asked for.
        let mut matched = 0u64;
        let mut features = Vec::new();
        let mut from = 0u64;
        loop {
            let page = state
                .register
                .applications(&principal, &filter(SCAN_PAGE, from), today)
                .await?;
            for a in &page.applications {
                let pts = points(&snap, &a.asset_ids());
                if in_bbox(&pts, p.bbox.as_ref()) {
                    if matched >= p.offset && (features.len() as u64) < p.limit {
                        features.push(application_feature(a, &pts, today));
                    }
                    matched += 1;
                }
            }
            from += u64::from(SCAN_PAGE);
            if page.applications.is_empty() || from >= page.number_matched {
                break;
            }
        }
        (matched, features)
    };
    Ok(collection_body(
        &uri,
        &base_url(&headers),
        matched,
        p.offset,
        p.limit,
        features,
    ))
}

/// One application as a feature.
#[utoipa::path(get, path = "/collections/applications/items/{featureId}", operation_id = "application_item", tag = "ogc",
    params(("featureId" = String, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = Object, content_type = "application/geo+json"),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn application_item(
    State(state): State<AppState>,
    reader: Reader,
    Path(feature_id): Path<String>,
) -> ApiResult<Response> {
    let principal = council_reader(&reader, "applications")?;
    let a = state.register.application(&principal, &feature_id).await?;
    let snap = state.register.assets().snapshot();
    Ok(json_body(
        GEOJSON,
        &application_feature(&a, &points(&snap, &a.asset_ids()), today()),
    ))
}

/// Equipment in place as features at its assets (staff see their
/// council's, admin all).
#[utoipa::path(get, path = "/collections/installations/items", operation_id = "installation_items", tag = "ogc",
    params(("limit" = Option<u32>, Query, description = "Page size (default 100, at most 1000)"),
        ("offset" = Option<u64>, Query, description = "Features to skip"),
        ("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat (CRS84)")),
    responses((status = 200, description = "A page of installations", body = Object, content_type = "application/geo+json"),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn installation_items(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Response> {
    let principal = council_reader(&reader, "installations")?;
    let p = item_params(&uri, false)?;
    let snap = state.register.assets().snapshot();
    let page = |limit: u32, offset: u64| {
        let register = &state.register;
        let principal = &principal;
        async move {
            register
                .installations_in_place(principal, limit, offset)
                .await?
                .ok_or_else(|| ApiError::NotFound("collection \"installations\" not found".into()))
        }
    };
    let (matched, features) = if p.bbox.is_none() {
        let (total, rows) = page(p.limit as u32, p.offset).await?;
        let features = rows
            .iter()
            .map(|i| installation_feature(i, &points(&snap, std::slice::from_ref(&i.asset))))
            .collect();
        (total, features)
    } else {
        let mut matched = 0u64;
        let mut features = Vec::new();
        let mut from = 0u64;
        loop {
            let (total, rows) = page(SCAN_PAGE, from).await?;
            for i in &rows {
                let pts = points(&snap, std::slice::from_ref(&i.asset));
                if in_bbox(&pts, p.bbox.as_ref()) {
                    if matched >= p.offset && (features.len() as u64) < p.limit {
                        features.push(installation_feature(i, &pts));
                    }
                    matched += 1;
                }
            }
            from += u64::from(SCAN_PAGE);
            if rows.is_empty() || from >= total {
                break;
            }
        }
        (matched, features)
    };
    Ok(collection_body(
        &uri,
        &base_url(&headers),
        matched,
        p.offset,
        p.limit,
        features,
    ))
}

/// One installation as a feature.
#[utoipa::path(get, path = "/collections/installations/items/{featureId}", operation_id = "installation_item", tag = "ogc",
    params(("featureId" = String, Path, description = "Installation id")),
    responses((status = 200, description = "The installation", body = Object, content_type = "application/geo+json"),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
async fn installation_item(
    State(state): State<AppState>,
    reader: Reader,
    Path(feature_id): Path<String>,
) -> ApiResult<Response> {
    let principal = council_reader(&reader, "installations")?;
    let not_found = || ApiError::NotFound(format!("feature {feature_id:?} not found"));
    let i = state
        .register
        .installation(&principal, &feature_id)
        .await?
        .ok_or_else(not_found)?;
    let snap = state.register.assets().snapshot();
    Ok(json_body(
        GEOJSON,
        &installation_feature(&i, &points(&snap, std::slice::from_ref(&i.asset))),
    ))
}
