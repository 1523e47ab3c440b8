//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Geometry, Intersects};
use time::format_description::well_known::Rfc3339;

use super::crs::{BboxFilter, Crs, bad_request, parse_bbox_in};
use super::filter::{self, Filter, Schema};
use super::formats::{self, AreaRow, Format};
use super::{GEOJSON, JSON, Shape, Source, base_url, downloads, find_feature_collection};
use crate::domain::area::Area;
use crate::domain::asset::Asset;
use crate::geojson_io::{
    begin_collection, end_collection,
    erased::{Member, Raw},
    write_asset_feature, write_geometry, write_int, write_link, write_located_page_feature,
    write_str,
};
use crate::http::auth::Reader;
use crate::http::params::{KEEP_ENCODINGS_UP_TO, criteria, page_href, page_limit};
use crate::http::{ApiError, ApiResult, AppState};
use crate::index::Located;

/// Parameters every items request may carry.
const COMMON: [&str; 10] = [
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "f",
    "filter",
    "filter-lang",
    "filter-crs",
];
/// Attribute filters of the assets collection.
const ASSET_FILTERS: [&str; 5] = ["kind", "status", "authority", "power_supply", "ward"];
/// Attribute filters of the area collections.
const AREA_FILTERS: [&str; 2] = ["authority", "name"];

/// The query string as a map, refusing unknown parameters and parameters
/// repeated with different values.
pub(super) fn params(uri: &Uri, allowed: &[&[&str]]) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if !allowed.iter().any(|set| set.contains(&k.as_ref())) {
            return Err(ApiError::BadRequest(format!(
                "unknown query parameter {k:?}; allowed: {}",
                allowed.concat().join(", ")
            )));
        }
        // The same value twice is harmless (GDAL 3.6 appends `crs` to
        // `next` links that already carry it); two different values are
        // ambiguous.
        match out.get(k.as_ref()) {
            Some(earlier) if *earlier != v => {
                return Err(ApiError::BadRequest(format!(
                    "query parameter {k:?} is given more than once with different values"
                )));
            }
            Some(_) => {}
            None => {
                out.insert(k.to_string(), v.into_owned());
            }
        }
    }
    Ok(out)
}

/// The output format: `f` when given, else a bulk format `Accept` prefers,
/// else GeoJSON (`f=json` is the same body labelled plain JSON).
fn format(p: &BTreeMap<String, String>, headers: &HeaderMap) -> ApiResult<Format> {
    match p.get("f") {
        None => Ok(Format::from_accept(headers).unwrap_or(Format::GeoJson)),
        Some(v) => Format::from_f(v).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "f {v:?} is not supported; use geojson, json, fgb, geojsonseq or csv"
            ))
        }),
    }
}

/// The format of a single feature: GeoJSON, or the same labelled JSON.
fn feature_format(p: &BTreeMap<String, String>) -> ApiResult<&'static str> {
    match format(p, &HeaderMap::new())? {
        Format::GeoJson => Ok(GEOJSON),
        Format::Json => Ok(JSON),
        other => Err(ApiError::BadRequest(format!(
            "a single feature is GeoJSON; {} is for collections (f=geojson or json)",
            other.f()
        ))),
    }
}

pub(super) fn output_crs(p: &BTreeMap<String, String>) -> ApiResult<Crs> {
    p.get("crs")
        .map_or(Ok(Crs::Crs84), |v| Crs::parse("crs", v))
}

fn count(p: &BTreeMap<String, String>, name: &str) -> ApiResult<Option<usize>> {
    p.get(name)
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                ApiError::BadRequest(format!("{name} {v:?} must be a non-negative integer"))
            })
        })
        .transpose()
}

/// Checks `datetime` (an instant or an interval, RFC 3339, `..` open). No
/// feature has a temporal extent, so a valid value filters nothing out.
fn check_datetime(v: &str) -> ApiResult<()> {
    let ok = |s: &str| {
        s.is_empty()
            || s == ".."
            || time::OffsetDateTime::parse(s, &Rfc3339).is_ok()
            || time::Date::parse(
                s,
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .is_ok()
    };
    let parts: Vec<&str> = v.split('/').collect();
    let valid = match parts[..] {
        [one] => !one.is_empty() && one != ".." && ok(one),
        [a, b] => ok(a) && ok(b) && !(matches!(a, "" | "..") && matches!(b, "" | "..")),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "datetime {v:?} must be an RFC 3339 instant or interval"
        )))
    }
}

/// A GeoJSON body with `Content-Crs`.
fn geojson_response(content_type: &'static str, crs: Crs, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri())) {
        h.insert("content-crs", v);
    }
    r
}

/// Pages of more features than this are streamed, the rest written whole
/// (and keep their encodings).
const STREAM_FROM: usize = KEEP_ENCODINGS_UP_TO;
/// Features per streamed chunk: about 150 KB, written in well under a
/// millisecond, so one large page never holds a worker for long.
const STREAM_CHUNK: usize = 512;

/// The rest of a FeatureCollection whose head (members and the opening of
/// `features`) is `head`: the features are written chunk by chunk as the
/// client reads, so a 10,000-feature page starts arriving at once and is
/// never held in memory whole. The page holds `Arc`s, not the snapshot, so
/// a slow client does not keep an old index alive.
fn stream_assets(head: Vec<u8>, page: Vec<Arc<Located>>, crs: Crs) -> Body {
    let mut head = Some(head);
    let mut rest = page.into_iter().peekable();
    let mut first = true;
    let mut done = false;
    let chunks = std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut out = head
            .take()
            .unwrap_or_else(|| Vec::with_capacity(320 * STREAM_CHUNK));
        for l in rest.by_ref().take(STREAM_CHUNK) {
            if !first {
                out.push(b',');
            }
            first = false;
            // A bulk export keeps no encodings of its own.
            write_feature(&mut out, &l, crs, false);
        }
        if rest.peek().is_none() {
            end_collection(&mut out);
            done = true;
        }
        Some(Ok::<_, Infallible>(Bytes::from(out)))
    });
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// `href` for the same request with `name` set to `value`.
pub(super) fn with_param(uri: &Uri, name: &str, value: &str) -> String {
    let pairs = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain([(name.to_string(), value.to_string())]);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{}?{}", uri.path(), query)
}

/// The asset with a Polygon written as a MultiPolygon of one, for the
/// `assets-polygons` collection (one geometry type per page); others as
/// they are.
pub(super) fn as_multi_polygon(l: &Arc<Located>) -> Arc<Located> {
    match &l.asset.details.geometry {
        Geometry::Polygon(p) => {
            let mut asset = l.asset.clone();
            asset.details.geometry = Geometry::MultiPolygon(geo::MultiPolygon(vec![p.clone()]));
            Arc::new(Located::new(asset))
        }
        _ => Arc::clone(l),
    }
}

/// An asset as a Feature in `crs`: for CRS84 from its kept encoding (and
/// kept, if newly made, when `keep`); other CRSs are encoded afresh.
pub(super) fn write_feature(out: &mut Vec<u8>, l: &Located, crs: Crs, keep: bool) {
    match crs {
        Crs::Crs84 => write_located_page_feature(out, l, keep),
        _ => write_asset_feature(out, &l.asset, &|c| crs.output(c), |_| {}),
    }
}

pub(super) fn write_area_feature(out: &mut Vec<u8>, a: &Area, crs: Crs) {
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    write_int(out, a.id);
    out.extend_from_slice(br#","geometry":"#);
    write_geometry(out, &Geometry::MultiPolygon(a.geometry.clone()), &|c| {
        crs.output(c)
    });
    out.extend_from_slice(br#","properties":{"authority":"#);
    write_str(out, &a.authority);
    out.extend_from_slice(br#","layer":"#);
    write_str(out, a.layer.as_str());
    out.extend_from_slice(br#","name":"#);
    write_str(out, &a.name);
    out.extend_from_slice(b"}}");
}

fn area_matches(
    a: &Area,
    bbox: Option<&BboxFilter>,
    p: &BTreeMap<String, String>,
    filter: Option<&Filter<Area>>,
) -> bool {
    p.get("authority").is_none_or(|v| *v == a.authority)
        && p.get("name").is_none_or(|v| *v == a.name)
        && bbox.is_none_or(|b| {
            b.rects.iter().any(|r| a.geometry.intersects(r))
                && b.exact(&Geometry::MultiPolygon(a.geometry.clone()))
        })
        && filter.is_none_or(|f| f.matches(a))
}

/// The `filter` parameter (Part 3), compiled for `schema`, if given.
fn compile_filter<T>(
    p: &BTreeMap<String, String>,
    schema: &'static Schema<T>,
) -> ApiResult<Option<Filter<T>>> {
    let Some(text) = p.get("filter") else {
        for dependent in ["filter-lang", "filter-crs"] {
            if p.contains_key(dependent) {
                return Err(ApiError::BadRequest(format!("{dependent} needs a filter")));
            }
        }
        return Ok(None);
    };
    filter::check_lang(p.get("filter-lang").map(String::as_str))?;
    let crs = p
        .get("filter-crs")
        .map_or(Ok(Crs::Crs84), |v| Crs::parse("filter-crs", v))?;
    Ok(Some(filter::compile(text, crs, schema)?))
}

/// `GET /collections/{id}/items`.
#[utoipa::path(get, path = "/collections/{collectionId}/items", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas"),
        ("bbox" = Option<String>, Query, description = "minx,miny,maxx,maxy (or 6 numbers with heights), in `bbox-crs`; intersects"),
        ("bbox-crs" = Option<String>, Query, description = "CRS URI of `bbox` (default CRS84)"),
        ("crs" = Option<String>, Query, description = "Output CRS URI: CRS84 (default), EPSG 4326 (lat/lon order) or EPSG 27700 (British National Grid)"),
        ("limit" = Option<usize>, Query, description = "Page size, default 100; larger values are clamped to 10000", minimum = 1, maximum = 10000),
        ("offset" = Option<usize>, Query, description = "Features to skip (the `next` link carries it)"),
        ("datetime" = Option<String>, Query, description = "RFC 3339 instant or interval; features have no time, so it filters nothing"),
        ("f" = Option<String>, Query, description = "`json` labels the body application/json instead of application/geo+json; `fgb` (FlatGeobuf), `geojsonseq` (RFC 8142 GeoJSON text sequence) and `csv` (CSV with WKT) answer the page in that format with its paging links in `Link` headers; without `f`, `Accept` may ask for those three by media type"),
        ("kind" = Option<String>, Query, description = "assets: comma-separated kinds"),
        ("status" = Option<String>, Query, description = "assets: available or unavailable"),
        ("power_supply" = Option<String>, Query, description = "assets: none, part_night or continuous"),
        ("ward" = Option<String>, Query, description = "assets: ward name"),
        ("authority" = Option<String>, Query, description = "Authority code"),
        ("name" = Option<String>, Query, description = "boundary layers: area name"),
        ("filter" = Option<String>, Query, description = "CQL2 text over the queryables: comparisons, AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, S_INTERSECTS(geometry, WKT or BBOX)"),
        ("filter-lang" = Option<String>, Query, description = "cql2-text (the default and only language)"),
        ("filter-crs" = Option<String>, Query, description = "CRS URI of the filter's geometries (default CRS84; EPSG 4326 or 27700)"),
    ),
    responses(
        (status = 200, description = "A page of features with numberMatched, numberReturned and next/prev links; `Content-Crs` names the CRS", content_type = "application/geo+json", body = AssetFeatureCollection),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn items(
    State(state): State<AppState>,
    _reader: Reader,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_feature_collection(&id)?;
    let filters: &[&str] = match c.source {
        Source::Assets => &ASSET_FILTERS,
        Source::Areas(_) => &AREA_FILTERS,
    };
    let p = params(&uri, &[&COMMON, filters])?;
    let fmt = format(&p, &headers)?;
    let content_type = fmt.media_type();
    let crs = output_crs(&p)?;
    let bbox_crs = p
        .get("bbox-crs")
        .map_or(Ok(Crs::Crs84), |v| Crs::parse("bbox-crs", v))?;
    if p.contains_key("bbox-crs") && !p.contains_key("bbox") {
        return Err(ApiError::BadRequest("bbox-crs needs a bbox".into()));
    }
    let bbox = p
        .get("bbox")
        .map(|b| parse_bbox_in(b, bbox_crs))
        .transpose()?;
    if let Some(d) = p.get("datetime") {
        check_datetime(d)?;
    }
    // OGC API - Features answers a bad parameter with 400.
    let limit = page_limit(count(&p, "limit")?)
        .map_err(|e| ApiError::BadRequest(format!("{} {}", e.field, e.message)))?;
    let offset = count(&p, "offset")?.unwrap_or(0);

    let mut out = Vec::with_capacity(1024);
    let write_head = |out: &mut Vec<u8>, matched: usize, returned: usize| {
        let base = base_url(&headers);
        let mut links = Vec::with_capacity(512);
        links.push(b'[');
        write_link(
            &mut links,
            &format!("{base}{uri}"),
            "self",
            content_type,
            Some("This page"),
        );
        let (alt_f, alt_type) = if content_type == GEOJSON {
            ("json", JSON)
        } else {
            ("geojson", GEOJSON)
        };
        let alternate = with_param(&uri, "f", alt_f);
        links.push(b',');
        write_link(
            &mut links,
            &format!("{base}{alternate}"),
            "alternate",
            alt_type,
            Some("This page in another format"),
        );
        for f in Format::BULK {
            links.push(b',');
            let alternate = with_param(&uri, "f", f.f());
            write_link(
                &mut links,
                &format!("{base}{alternate}"),
                "alternate",
                f.media_type(),
                Some(f.title()),
            );
        }
        if offset + returned < matched {
            links.push(b',');
            let next = page_href(&uri, offset + limit);
            let next = format!("{base}{next}");
            write_link(&mut links, &next, "next", content_type, Some("Next page"));
        }
        if offset > 0 {
            links.push(b',');
            let prev = page_href(&uri, offset.saturating_sub(limit));
            let prev = format!("{base}{prev}");
            write_link(
                &mut links,
                &prev,
                "prev",
                content_type,
                Some("Previous page"),
            );
        }
        links.push(b']');
        let stamp = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        let stamp = stamp.as_str();
        begin_collection(
            out,
            &[
                ("numberMatched", &matched as &dyn Member),
                ("numberReturned", &returned),
                ("timeStamp", &stamp),
                ("links", &Raw(&links)),
            ],
        );
    };

    match c.source {
        Source::Assets => {
            let mut crit = criteria(
                p.get("kind").map(String::as_str),
                p.get("status").map(String::as_str),
                p.get("power_supply").map(String::as_str),
                p.get("authority").map(String::as_str),
                p.get("ward").map(String::as_str),
            )
            .map_err(bad_request)?;
            let cql = compile_filter(&p, &filter::ASSETS)?.and_then(|f| f.lower_into(&mut crit));
            // Both the bbox and the filter may bound the search; the index
            // takes the smaller, the other is tested per candidate.
            let bbox_rects = bbox.as_ref().map(|b| &b.rects[..]);
            let filter_rects = cql.as_ref().and_then(Filter::rects);
            let by_filter = match (bbox_rects, filter_rects) {
                (Some(b), Some(f)) => filter::area(f) < filter::area(b),
                (None, Some(_)) => true,
                _ => false,
            };
            let rects = if by_filter { filter_rects } else { bbox_rects };
            let snap = state.register.assets().snapshot();
            // A lon/lat bbox alone is decided by the index; a filter, a
            // geometry-type collection, or a box in EPSG:27700, needs each
            // candidate read.
            let shape = c.shape;
            let exact =
                cql.is_some() || shape.is_some() || bbox.as_ref().is_some_and(|b| b.bng.is_some());
            let extra = exact.then_some(|a: &Asset| {
                bbox.as_ref().is_none_or(|b| {
                    (!by_filter || b.rects.iter().any(|r| a.details.geometry.intersects(r)))
                        && b.exact(&a.details.geometry)
                }) && cql.as_ref().is_none_or(|f| f.matches(a))
                    && shape.is_none_or(|s| s.holds(&a.details.geometry))
            });
            let (matched, page) = snap.select_page(rects, &crit, extra, offset, limit);
            if fmt.is_bulk() {
                let envelope = page.iter().fold(None, |e, l| formats::union(e, l.bbox()));
                let geometries = downloads::layout(c, fmt, crs).geometries;
                let page: Vec<Arc<Located>> = page
                    .into_iter()
                    .map(|l| formats::promoted(Arc::clone(l), geometries))
                    .collect();
                let paging = (matched, offset, limit);
                return Ok(downloads::bulk_page(
                    c, fmt, crs, &headers, &uri, paging, envelope, page,
                ));
            }
            write_head(&mut out, matched, page.len());
            let promoted: Vec<Arc<Located>>;
            let page: Vec<&Arc<Located>> = if shape == Some(Shape::Polygons) {
                promoted = page.iter().map(|l| as_multi_polygon(l)).collect();
                promoted.iter().collect()
            } else {
                page
            };
            if page.len() > STREAM_FROM {
                let page = page.into_iter().map(Arc::clone).collect();
                let mut r = geojson_response(content_type, crs, Vec::new());
                *r.body_mut() = stream_assets(out, page, crs);
                return Ok(r);
            }
            // One allocation for the page. For CRS84 this first pass also
            // brings every feature's kept bytes in from memory together,
            // rather than one cache miss at a time while copying.
            let size: usize = match crs {
                Crs::Crs84 => page
                    .iter()
                    .map(|l| l.geojson().map_or(512, <[u8]>::len) + 1)
                    .sum(),
                _ => page.len() * 512,
            };
            out.reserve(size + 2);
            for (i, l) in page.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_feature(&mut out, l, crs, true);
            }
        }
        Source::Areas(layer) => {
            let cql = compile_filter(&p, &filter::AREAS)?;
            let index = state.register.areas();
            let areas = index.areas();
            // Positions in the index: a bulk row names its area by one.
            let hits: Vec<usize> = (0..areas.len())
                .filter(|&i| {
                    let a = &areas[i];
                    a.layer == layer && area_matches(a, bbox.as_ref(), &p, cql.as_ref())
                })
                .collect();
            let page = || hits.iter().skip(offset).take(limit).copied();
            if fmt.is_bulk() {
                let envelope = page()
                    .filter_map(|i| areas[i].geometry.bounding_rect())
                    .fold(None, formats::union);
                let rows: Vec<AreaRow> = page()
                    .map(|at| AreaRow {
                        index: Arc::clone(&index),
                        at,
                    })
                    .collect();
                let paging = (hits.len(), offset, limit);
                return Ok(downloads::bulk_page(
                    c, fmt, crs, &headers, &uri, paging, envelope, rows,
                ));
            }
            write_head(&mut out, hits.len(), page().count());
            for (n, i) in page().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_area_feature(&mut out, &areas[i], crs);
            }
        }
    }
    end_collection(&mut out);
    Ok(geojson_response(content_type, crs, out))
}

/// `GET /collections/{id}/items/{featureId}`.
#[utoipa::path(get, path = "/collections/{collectionId}/items/{featureId}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas"), ("featureId" = String, Path, description = "The feature's `id`"), ("crs" = Option<String>, Query, description = "Output CRS URI: CRS84 (default), EPSG 4326 (lat/lon order) or EPSG 27700 (British National Grid)"), ("f" = Option<String>, Query, description = "`json` labels the body application/json instead of application/geo+json")),
    responses(
        (status = 200, description = "The feature", content_type = "application/geo+json", body = AssetFeature),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn item(
    State(state): State<AppState>,
    _reader: Reader,
    uri: Uri,
    Path((id, feature_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = find_feature_collection(&id)?;
    let p = params(&uri, &[&["crs", "f"]])?;
    let content_type = feature_format(&p)?;
    let crs = output_crs(&p)?;
    let missing = || ApiError::NotFound(format!("feature {feature_id:?} not found in {id:?}"));
    let mut out = Vec::with_capacity(1024);
    match c.source {
        Source::Assets => {
            let snap = state.register.assets().snapshot();
            let l = snap
                .get(&feature_id)
                .filter(|l| c.shape.is_none_or(|s| s.holds(&l.asset.details.geometry)))
                .ok_or_else(missing)?;
            if c.shape == Some(Shape::Polygons) {
                write_feature(&mut out, &as_multi_polygon(l), crs, false);
            } else {
                write_feature(&mut out, l, crs, true);
            }
        }
        Source::Areas(layer) => {
            let n: i64 = feature_id.parse().map_err(|_| missing())?;
            let index = state.register.areas();
            let areas = index.areas();
            let a = areas
                .binary_search_by_key(&n, |a| a.id)
                .ok()
                .map(|i| &areas[i])
                .filter(|a| a.layer == layer)
                .ok_or_else(missing)?;
            write_area_feature(&mut out, a, crs);
        }
    }
    Ok(geojson_response(content_type, crs, out))
}
