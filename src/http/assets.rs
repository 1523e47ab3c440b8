//! `/v1/assets`: list, fetch, nearest, spatial search, and edits.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use geo::Point;
use serde::Deserialize;

use super::auth::{Caller, Reader};
use super::conditional::{etag, if_match};
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::params::{KEEP_ENCODINGS_UP_TO, criteria, page_href, page_limit, parse_bbox};
use super::{ApiError, ApiResult, AppState, Encoded, Json, Query};
use crate::domain::asset::{
    AssetDetails, AssetKind, AssetStatus, InvalidField, PowerSupply, asset_id, parse_date,
};
use crate::geojson_io::{
    begin_collection, end_collection,
    erased::{Member, Raw},
    parse_geometry, write_asset_feature, write_f64, write_link, write_located,
    write_located_page_feature, write_str,
};
use crate::index::Located;
use crate::store::Deleted;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/assets", get(list))
        .route("/v1/assets/nearest", get(nearest))
        .route("/v1/assets/search", post(search))
        .route(
            "/v1/assets/{id}",
            get(fetch).put(replace).patch(patch).delete(remove),
        )
        .route("/v1/authorities/{code}/assets", post(create))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    bbox: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    power_supply: Option<String>,
    authority: Option<String>,
    ward: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// Assets in a bounding box, filtered, one page at a time.
#[utoipa::path(get, path = "/v1/assets", tag = "assets",
    params(
        ("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat (WGS84); minLon > maxLon crosses the antimeridian"),
        ("kind" = Option<String>, Query, description = "Comma-separated kinds: lamp_post, cctv_column, traffic_signal, bus_shelter, rooftop, wall, other"),
        ("status" = Option<String>, Query, description = "Comma-separated: available, unavailable"),
        ("power_supply" = Option<String>, Query, description = "Comma-separated: none, part_night, continuous"),
        ("authority" = Option<String>, Query, description = "Authority code"),
        ("ward" = Option<String>, Query, description = "Ward name"),
        ("limit" = Option<usize>, Query, description = "Page size (default 100); larger values are clamped", minimum = 1, maximum = 10000),
        ("offset" = Option<usize>, Query, description = "Features to skip"),
    ),
    responses(
        (status = 200, description = "A page of assets", body = AssetFeatureCollection, content_type = "application/geo+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
async fn list(
    State(state): State<AppState>,
    _reader: Reader,
    uri: Uri,
    Query(p): Query<ListParams>,
) -> ApiResult<Encoded> {
    let rects = p.bbox.as_deref().map(parse_bbox).transpose()?;
    let c = criteria(
        p.kind.as_deref(),
        p.status.as_deref(),
        p.power_supply.as_deref(),
        p.authority.as_deref(),
        p.ward.as_deref(),
    )?;
    let limit = page_limit(p.limit).map_err(|e| ApiError::Invalid(vec![e]))?;
    let offset = p.offset.unwrap_or(0);
    let snap = state.register.assets().snapshot();
    let hits = snap.query_matching(rects.as_deref(), &c);
    let page: Vec<&Located> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|l| &***l)
        .collect();

    const GEOJSON: &str = "application/geo+json";
    let mut links = Vec::with_capacity(256);
    links.push(b'[');
    write_link(&mut links, &uri.to_string(), "self", GEOJSON, None);
    if offset + page.len() < hits.len() {
        links.push(b',');
        write_link(
            &mut links,
            &page_href(&uri, offset + limit),
            "next",
            GEOJSON,
            None,
        );
    }
    if offset > 0 {
        let prev = page_href(&uri, offset.saturating_sub(limit));
        links.push(b',');
        write_link(&mut links, &prev, "prev", GEOJSON, None);
    }
    links.push(b']');
    let mut out = Vec::with_capacity(256 + page.len() * 400);
    let matched = hits.len();
    let returned = page.len();
    begin_collection(
        &mut out,
        &[
            ("numberMatched", &matched as &dyn Member),
            ("numberReturned", &returned),
            ("links", &Raw(&links)),
        ],
    );
    // Pages of up to a thousand (a map, a planner browsing) keep their
    // encodings; bigger ones are bulk reads, which use kept encodings but
    // keep none, so paging through a whole register does not double it.
    let keep = page.len() <= KEEP_ENCODINGS_UP_TO;
    for (i, l) in page.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_located_page_feature(&mut out, l, keep);
    }
    end_collection(&mut out);
    Ok(Encoded::geojson(out))
}

/// One asset. Staff of its council (and admin) also see
/// `attachments_in_use` when equipment is on it: whose it is, and the
/// 24-hour contact for crews.
#[utoipa::path(get, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset; `ETag` is its revision, for `If-Match` on PUT and PATCH", body = AssetFeature, content_type = "application/geo+json",
            headers(("ETag" = String, description = "The asset's revision, quoted"))),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
async fn fetch(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let snap = state.register.assets().snapshot();
    let l = snap
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("asset {id:?} not found")))?;
    // The council's own staff see what is on the structure and whom to call.
    let staff = reader
        .0
        .as_ref()
        .is_some_and(|p| p.can_manage_authority(&l.asset.authority));
    // Only when something is installed, so the feature is otherwise the
    // same one every page serves.
    let in_use = if staff && l.asset.occupancy.installed > 0 {
        let installed = state.register.installations_on(&id).await?;
        let views: Vec<_> = installed
            .iter()
            .map(super::applications::views::InstallationView::of)
            .collect();
        Some(serde_json::to_vec(&views).map_err(|e| ApiError::Internal(e.to_string()))?)
    } else {
        None
    };
    let mut out = Vec::with_capacity(512);
    write_located(&mut out, l, |out| {
        if let Some(json) = &in_use {
            out.extend_from_slice(br#","attachments_in_use":"#);
            out.extend_from_slice(json);
        }
    });
    let mut r = Encoded::geojson(out).into_response();
    r.headers_mut().insert(header::ETAG, etag(l.asset.revision));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NearestParams {
    lon: f64,
    lat: f64,
    k: Option<usize>,
    kind: Option<String>,
    status: Option<String>,
    power_supply: Option<String>,
    authority: Option<String>,
    max_distance_m: Option<f64>,
}

/// Most neighbours one request may ask for.
const MAX_K: usize = 1000;

fn check_point(lon: f64, lat: f64) -> ApiResult<Point<f64>> {
    let mut errors = Vec::new();
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        errors.push(InvalidField::new("lon", "must be within -180..180"));
    }
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        errors.push(InvalidField::new("lat", "must be within -90..90"));
    }
    if errors.is_empty() {
        Ok(Point::new(lon, lat))
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Writes hits with their distances, and each site's year-one annual fee
/// under its council's published terms, as a FeatureCollection.
fn distance_collection(state: &AppState, hits: &[(&Arc<Located>, f64)]) -> Vec<u8> {
    let today = time::OffsetDateTime::now_utc().date();
    let mut out = Vec::with_capacity(256 + hits.len() * 420);
    let n = hits.len();
    begin_collection(
        &mut out,
        &[("numberMatched", &n as &dyn Member), ("numberReturned", &n)],
    );
    for (i, (l, d)) in hits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_located(&mut out, l, |out| {
            out.extend_from_slice(br#","distance_m":"#);
            // Centimetres are as precise as a surveyed position gets.
            write_f64(out, (d * 100.0).round() / 100.0);
            out.extend_from_slice(br#","annual_fee":"#);
            match state.register.annual_fee(&l.asset, today) {
                Some((fee, currency)) => {
                    write_str(out, &crate::domain::fees::money::to_string(fee));
                    out.extend_from_slice(br#","currency":"#);
                    write_str(out, &currency);
                }
                None => out.extend_from_slice(b"null"),
            }
        });
    }
    end_collection(&mut out);
    out
}

/// The k assets nearest a point, by geodesic distance.
#[utoipa::path(get, path = "/v1/assets/nearest", tag = "assets",
    params(
        ("lon" = f64, Query, description = "Longitude (WGS84)", minimum = -180, maximum = 180),
        ("lat" = f64, Query, description = "Latitude (WGS84)", minimum = -90, maximum = 90),
        ("k" = Option<usize>, Query, description = "How many (default 10)", minimum = 1, maximum = 1000),
        ("max_distance_m" = Option<f64>, Query, description = "Only assets within this many metres"),
        ("kind" = Option<String>, Query, description = "Comma-separated kinds: lamp_post, cctv_column, traffic_signal, bus_shelter, rooftop, wall, other"),
        ("status" = Option<String>, Query, description = "Comma-separated: available, unavailable"),
        ("power_supply" = Option<String>, Query, description = "Comma-separated: none, part_night, continuous"),
        ("authority" = Option<String>, Query, description = "Authority code"),
    ),
    responses(
        (status = 200, description = "Nearest first; each feature has `distance_m`, and `annual_fee` where a fee schedule is published", body = AssetFeatureCollection, content_type = "application/geo+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
async fn nearest(
    State(state): State<AppState>,
    _reader: Reader,
    Query(p): Query<NearestParams>,
) -> ApiResult<Encoded> {
    let point = check_point(p.lon, p.lat)?;
    let k = p.k.unwrap_or(10);
    if k == 0 || k > MAX_K {
        return Err(ApiError::invalid("k", format!("must be 1..={MAX_K}")));
    }
    if let Some(m) = p.max_distance_m
        && !(m.is_finite() && m >= 0.0)
    {
        return Err(ApiError::invalid("max_distance_m", "must be 0 or more"));
    }
    let c = criteria(
        p.kind.as_deref(),
        p.status.as_deref(),
        p.power_supply.as_deref(),
        p.authority.as_deref(),
        None,
    )?;
    let snap = state.register.assets().snapshot();
    let hits = snap.nearest_matching(point, k, p.max_distance_m, &c);
    Ok(Encoded::geojson(distance_collection(&state, &hits)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    geometry: serde_json::Value,
    #[serde(default)]
    buffer_m: f64,
    kind: Option<String>,
    status: Option<String>,
    power_supply: Option<String>,
    authority: Option<String>,
}

/// Largest buffer a search may ask for: a borough, not a country.
const MAX_BUFFER_M: f64 = 50_000.0;

/// Assets that intersect a geometry, optionally grown by a buffer.
#[utoipa::path(post, path = "/v1/assets/search", tag = "assets",
    request_body = SearchRequest,
    responses(
        (status = 200, description = "Matching assets nearest first, with `distance_m`", body = AssetFeatureCollection, content_type = "application/geo+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
async fn search(
    State(state): State<AppState>,
    _reader: Reader,
    Json(body): Json<SearchBody>,
) -> ApiResult<Encoded> {
    let geometry = parse_geometry(&body.geometry, "geometry")?;
    if !(body.buffer_m.is_finite() && (0.0..=MAX_BUFFER_M).contains(&body.buffer_m)) {
        return Err(ApiError::invalid(
            "buffer_m",
            format!("must be between 0 and {MAX_BUFFER_M}"),
        ));
    }
    let c = criteria(
        body.kind.as_deref(),
        body.status.as_deref(),
        body.power_supply.as_deref(),
        body.authority.as_deref(),
        None,
    )?;
    let snap = state.register.assets().snapshot();
    let hits = snap.intersecting_matching(&geometry, body.buffer_m, &c);
    Ok(Encoded::geojson(distance_collection(&state, &hits)))
}

/// An asset as a client writes it: a GeoJSON Feature with the asset's own
/// fields as properties. Derived fields that `GET` returns are accepted and
/// ignored, so a client can edit what it fetched and send it back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetWrite {
    #[serde(rename = "type")]
    _type: Option<String>,
    #[serde(rename = "id")]
    _id: Option<serde_json::Value>,
    geometry: serde_json::Value,
    properties: AssetProperties,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetProperties {
    #[serde(rename = "ref")]
    asset_ref: String,
    kind: String,
    height_m: Option<f64>,
    power_supply: Option<String>,
    capacity: Option<u32>,
    load_rating_kg: Option<f64>,
    last_inspected: Option<String>,
    install_year: Option<i32>,
    status: Option<String>,
    listed: Option<bool>,
    photo_url: Option<String>,
    source_attributes: Option<BTreeMap<String, serde_json::Value>>,
    // Derived or read-only: ignored on write.
    #[serde(rename = "authority")]
    _authority: Option<serde_json::Value>,
    #[serde(rename = "ward")]
    _ward: Option<serde_json::Value>,
    #[serde(rename = "fee_zone")]
    _fee_zone: Option<serde_json::Value>,
    #[serde(rename = "in_conservation_area")]
    _in_conservation_area: Option<serde_json::Value>,
    #[serde(rename = "distance_m")]
    _distance_m: Option<serde_json::Value>,
    // Occupancy is kept by applications, never written here.
    #[serde(rename = "free_capacity")]
    _free_capacity: Option<serde_json::Value>,
    #[serde(rename = "shared")]
    _shared: Option<serde_json::Value>,
    #[serde(rename = "attachments_in_use")]
    _attachments_in_use: Option<serde_json::Value>,
}

impl AssetWrite {
    /// The details, or a 422 naming every bad field at once.
    fn into_details(self) -> ApiResult<AssetDetails> {
        fn parse<T>(
            field: &str,
            r: Result<T, crate::domain::asset::UnknownVariant>,
        ) -> Result<T, InvalidField> {
            r.map_err(|e| InvalidField::new(field, e.to_string()))
        }
        /// The value, or a stand-in with the error noted.
        fn or_note<T>(
            errors: &mut Vec<InvalidField>,
            r: Result<T, InvalidField>,
            stand_in: T,
        ) -> T {
            r.unwrap_or_else(|e| {
                errors.push(e);
                stand_in
            })
        }
        let mut errors = Vec::new();
        let p = self.properties;
        let kind = or_note(&mut errors, parse("kind", p.kind.parse()), AssetKind::Other);
        let geometry = parse_geometry(&self.geometry, "geometry");
        let geometry_ok = geometry.is_ok();
        let geometry = or_note(
            &mut errors,
            geometry,
            geo::Geometry::Point(Point::new(0.0, 0.0)),
        );
        let power_supply = match p.power_supply {
            Some(s) => or_note(
                &mut errors,
                parse("power_supply", s.parse()),
                PowerSupply::None,
            ),
            None => PowerSupply::None,
        };
        let last_inspected = or_note(
            &mut errors,
            p.last_inspected.as_deref().map(parse_date).transpose(),
            None,
        );
        let status = match p.status {
            Some(s) => or_note(
                &mut errors,
                parse("status", s.parse()),
                AssetStatus::Available,
            ),
            None => AssetStatus::Available,
        };
        let details = AssetDetails {
            asset_ref: p.asset_ref.trim().to_string(),
            kind,
            geometry,
            height_m: p.height_m,
            power_supply,
            capacity: p.capacity.unwrap_or(1),
            load_rating_kg: p.load_rating_kg,
            last_inspected,
            install_year: p.install_year,
            status,
            listed: p.listed.unwrap_or(false),
            photo_url: p.photo_url.map(String::into_boxed_str),
            source_attributes: p.source_attributes.map(Into::into).unwrap_or_default(),
        };
        errors.extend(
            details
                .problems()
                .into_iter()
                // A stand-in geometry's problems are not the client's.
                .filter(|e| geometry_ok || e.field != "geometry"),
        );
        if errors.is_empty() {
            Ok(details)
        } else {
            Err(ApiError::Invalid(errors))
        }
    }
}

fn feature_from_value(v: serde_json::Value) -> ApiResult<AssetDetails> {
    let f: AssetWrite = super::error::from_body(v)?;
    f.into_details()
}

/// The answer to a write: the asset as stored, its `ETag` and `Location`.
fn written(mut asset: crate::domain::asset::Asset, status: StatusCode) -> Response {
    let (id, revision) = (asset.id.clone(), asset.revision);
    let mut out = Vec::with_capacity(512);
    // As the index will serve it (rings oriented), without keeping bytes.
    crate::index::orient_rings(&mut asset.details.geometry);
    write_asset_feature(&mut out, &asset, &|c| c, |_| {});
    let mut r = Encoded {
        status,
        content_type: "application/geo+json",
        body: out.into(),
    }
    .into_response();
    r.headers_mut().insert(header::ETAG, etag(revision));
    if let Ok(loc) = format!("/v1/assets/{id}").parse() {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// Adds one asset to an authority's register.
#[utoipa::path(post, path = "/v1/authorities/{code}/assets", tag = "assets",
    params(("code" = String, Path, description = "Authority code")),
    request_body(content = AssetInput, content_type = "application/geo+json"),
    responses(
        (status = 201, description = "Created; `Location` names it", body = AssetFeature, content_type = "application/geo+json"),
        (status = 409, description = "An asset with this ref exists", body = Problem, content_type = "application/problem+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    caller.require_authority(&code)?;
    if state.register.authority(&code).await?.is_none() {
        return Err(ApiError::NotFound(format!("authority {code:?} not found")));
    }
    let details = feature_from_value(body)?;
    let asset_ref = details.asset_ref.clone();
    let asset = match state.register.create(&code, details).await {
        Err(crate::store::StoreError::Conflict(_)) => {
            let id = asset_id(&code, &asset_ref);
            return Err(ApiError::Conflict(format!(
                "asset ref {asset_ref:?} already exists as {id}; PUT /v1/assets/{id} to replace it"
            )));
        }
        other => other?,
    };
    Ok(written(asset, StatusCode::CREATED))
}

/// The authority that owns `id`, checking the caller may change it. A
/// missing id is a 404 for everyone: asset data is readable by any token,
/// so whether an asset exists is not private.
fn owned(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Arc<Located>> {
    let snap = state.register.assets().snapshot();
    let Some(l) = snap.get(id) else {
        return Err(ApiError::NotFound(format!("asset {id:?} not found")));
    };
    caller.require_authority(&l.asset.authority)?;
    Ok(Arc::clone(l))
}

/// Replaces an asset's fields (its `ref` cannot change).
#[utoipa::path(put, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "Asset id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` read with the asset: the write is refused with 412 if the asset changed since")),
    request_body(content = AssetInput, content_type = "application/geo+json"),
    responses(
        (status = 200, description = "The asset as stored, with its new `ETag`", body = AssetFeature, content_type = "application/geo+json"),
        (status = 412, description = "`If-Match` names an older revision", body = Problem, content_type = "application/problem+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    owned(&state, &caller, &id)?;
    let details = feature_from_value(body)?;
    let asset = state
        .register
        .modify(&id, if_match(&headers)?, |stored| {
            same_ref(&stored.details, &details)?;
            Ok::<_, ApiError>(details)
        })
        .await?;
    Ok(written(asset, StatusCode::OK))
}

/// RFC 7396 JSON merge patch of a Feature: `properties` members replace
/// (or, when null, clear) the current ones; a `geometry` replaces it.
#[utoipa::path(patch, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "Asset id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` read with the asset: the write is refused with 412 if the asset changed since")),
    request_body(content = AssetPatch, content_type = "application/merge-patch+json", description = "A partial feature: `properties` and/or `geometry`"),
    responses(
        (status = 200, description = "The asset as stored, with its new `ETag`", body = AssetFeature, content_type = "application/geo+json"),
        (status = 412, description = "`If-Match` names an older revision", body = Problem, content_type = "application/problem+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    owned(&state, &caller, &id)?;
    if !body.is_object() {
        return Err(ApiError::invalid("body", "a merge patch is a JSON object"));
    }
    misplaced_members(&body)?;
    // Applied to the row as stored now, inside the write's transaction, so
    // concurrent patches each keep the others' changes.
    let asset = state
        .register
        .modify(&id, if_match(&headers)?, |stored| {
            patched_details(stored, &body)
        })
        .await?;
    Ok(written(asset, StatusCode::OK))
}

/// Members a Feature has at its top level; anything else in a patch is a
/// field sent flat (`{"height_m": 9}`) that belongs under `properties`.
const FEATURE_MEMBERS: [&str; 5] = ["type", "id", "geometry", "properties", "bbox"];

/// Refuses a patch with the asset's fields at the top level instead of
/// under `properties`, naming each: merged as sent they would be unknown
/// members of the Feature, and the generic "unknown field" answer does not
/// say what to send instead.
fn misplaced_members(patch: &serde_json::Value) -> ApiResult<()> {
    let Some(members) = patch.as_object() else {
        return Ok(());
    };
    let misplaced: Vec<&str> = members
        .keys()
        .map(String::as_str)
        .filter(|k| !FEATURE_MEMBERS.contains(k))
        .collect();
    if misplaced.is_empty() {
        return Ok(());
    }
    let example: Vec<String> = misplaced.iter().map(|k| format!("{k:?}: ...")).collect();
    let mut errors = vec![InvalidField::new(
        "body",
        format!(
            "send a JSON merge patch on the Feature, {{\"properties\": {{{}}}}}: {} {} not {} of \
             a Feature (type, id, geometry, properties)",
            example.join(", "),
            misplaced.join(", "),
            if misplaced.len() == 1 { "is" } else { "are" },
            if misplaced.len() == 1 {
                "a member"
            } else {
                "members"
            },
        ),
    )];
    errors.extend(misplaced.iter().map(|k| {
        InvalidField::new(
            *k,
            format!("belongs under \"properties\": {{\"properties\": {{{k:?}: ...}}}}"),
        )
    }));
    Err(ApiError::Invalid(errors))
}

/// An asset as stored with a merge patch applied, validated, its ref
/// unchanged: the rule of `PATCH /v1/assets/{id}`, which the console's edit
/// form follows too.
pub(crate) fn patched_details(
    stored: &crate::store::StoredAsset,
    patch: &serde_json::Value,
) -> ApiResult<AssetDetails> {
    let mut feature = stored_feature(stored)?;
    merge_patch(&mut feature, patch);
    let details = feature_from_value(feature)?;
    same_ref(&stored.details, &details)?;
    Ok(details)
}

/// A stored asset as the Feature a client would have read (derived fields
/// left out: writes ignore them).
fn stored_feature(stored: &crate::store::StoredAsset) -> ApiResult<serde_json::Value> {
    let asset = crate::domain::asset::Asset {
        id: stored.id.clone(),
        authority: stored.authority.as_str().into(),
        details: stored.details.clone(),
        placement: Default::default(),
        occupancy: stored.occupancy,
        revision: stored.revision,
    };
    let mut out = Vec::new();
    write_asset_feature(&mut out, &asset, &|c| c, |_| {});
    serde_json::from_slice(&out).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Refuses a change of ref: the ref is the council's asset number, which
/// imports match on and the id is derived from.
fn same_ref(current: &AssetDetails, details: &AssetDetails) -> ApiResult<()> {
    if current.asset_ref == details.asset_ref {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "ref",
            "an asset's ref cannot change; delete it and add the asset under its new ref",
        ))
    }
}

fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else if k == "geometry" {
                    t.insert(k.clone(), v.clone());
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Deletes an asset.
#[utoipa::path(delete, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses((status = 204, description = "Deleted"), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, description = "Live applications or installations hold the asset", body = Problem, content_type = "application/problem+json")))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    owned(&state, &caller, &id)?;
    match state.register.delete(&id).await? {
        Deleted::Yes => Ok(StatusCode::NO_CONTENT),
        Deleted::NotFound => Err(ApiError::NotFound(format!("asset {id:?} not found"))),
        Deleted::Held => Err(ApiError::Conflict(format!(
            "asset {id:?} is held by live applications or carries equipment; it can be deleted \
             once they are withdrawn, rejected, lapsed or terminated"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_across_the_antimeridian_splits_in_two() {
        let r = parse_bbox("170,-10,-170,10").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].max().x, 180.0);
        assert_eq!(r[1].min().x, -180.0);
        assert!(matches!(parse_bbox("1,2,3"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_bbox("0,91,1,92"), Err(ApiError::Invalid(_))));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = serde_json::json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &serde_json::json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, serde_json::json!({"a": "z", "c": {"d": "e"}}));
    }
}
