//! Whole-collection downloads, advertised on each collection as
//! `enclosure` links (the OGC API - Features convention for bulk
//! download): `/collections/{id}/download/{id}.fgb` (FlatGeobuf),
//! `{id}.geojsons` (GeoJSON text sequence) and `{id}.csv` (CSV with WKT).
//! The file name ends in the extension GDAL recognises each format by, so
//! `ogr2ogr out.gpkg /vsicurl_streaming/URL` needs no driver named.
//!
//! A download walks one index snapshot (the register as it was when the
//! request came) with [`Cursor`] and writes it a chunk at a time
//! ([`formats::stream`]): memory stays flat however large the register.
//! Access is the items' rule (`Reader`: a token unless `--public-read`).
//! Items pages in these formats (`f=` or `Accept`) are answered by
//! [`bulk_page`], with their paging links in `Link` headers.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Rect};
use serde_json::Value;

use super::crs::Crs;
use super::formats::{
    self, AREA_COLUMNS, ASSET_COLUMNS, AreaRow, Encoder, Feature, Format, Geometries, Layout,
    planar, promoted,
};
use super::items::{output_crs, params};
use super::{Collection, Shape, Source, base_url, find_feature_collection, link};
use crate::http::auth::Reader;
use crate::http::{ApiError, ApiResult, AppState};
use crate::index::{Cursor, Located};

/// The `enclosure` links of a collection: one per bulk format.
pub(super) fn enclosures(base: &str, c: &Collection) -> Vec<Value> {
    Format::BULK
        .iter()
        .map(|f| {
            link(
                format!("{base}{}", download_path(c.id, *f)),
                "enclosure",
                f.media_type(),
                &format!("The whole collection as {}", f.title()),
            )
        })
        .collect()
}

fn download_path(id: &str, f: Format) -> String {
    format!("/collections/{id}/download/{id}.{}", f.extension())
}

/// The geometry types of a collection's rows.
fn geometries(c: &Collection) -> Geometries {
    match (c.source, c.shape) {
        (Source::Areas(_), _) => Geometries::MultiPolygons,
        (Source::Assets, None) => Geometries::Mixed,
        (Source::Assets, Some(Shape::Points)) => Geometries::Points,
        (Source::Assets, Some(Shape::Polygons)) => Geometries::MultiPolygons,
    }
}

/// How `c`'s rows are written in `format` and `crs`.
pub(super) fn layout(c: &'static Collection, format: Format, crs: Crs) -> Layout {
    Layout {
        name: c.id,
        title: c.title,
        geometries: geometries(c),
        columns: match c.source {
            Source::Assets => &ASSET_COLUMNS,
            Source::Areas(_) => &AREA_COLUMNS,
        },
        crs: if format == Format::GeoJsonSeq {
            crs
        } else {
            planar(crs)
        },
    }
}

/// The response head of a bulk body: its media type and the CRS written.
fn bulk_response(format: Format, layout: &Layout, body: axum::body::Body) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", layout.crs.uri())) {
        h.insert("content-crs", v);
    }
    r
}

/// `GET /collections/{id}/download/{file}`.
#[utoipa::path(get, path = "/collections/{collectionId}/download/{file}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, assets-points, assets-polygons, wards, fee-zones or conservation-areas"),
        ("file" = String, Path, description = "`{collectionId}.fgb` (FlatGeobuf), `{collectionId}.geojsons` (GeoJSON text sequence, RFC 8142) or `{collectionId}.csv` (CSV, geometry as WKT in the first column); the collection's `enclosure` links name them"),
        ("crs" = Option<String>, Query, description = "Output CRS URI: CRS84 (default), EPSG 4326 or EPSG 27700. FlatGeobuf and CSV always put x (longitude or easting) first")),
    responses(
        (status = 200, description = "Every feature of the collection, streamed; the columns are the GeoJSON properties (an asset's `source_attributes` as JSON text)", content_type = ["application/flatgeobuf", "application/geo+json-seq", "text/csv"], body = Vec<u8>),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn download(
    State(state): State<AppState>,
    _reader: Reader,
    uri: Uri,
    Path((id, file)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = find_feature_collection(&id)?;
    let format = file
        .strip_prefix(c.id)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(Format::from_extension)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no download {file:?} of {id:?}; there are {}",
                Format::BULK
                    .map(|f| format!("{id}.{}", f.extension()))
                    .join(", ")
            ))
        })?;
    let p = params(&uri, &[&["crs"]])?;
    let crs = output_crs(&p)?;
    let layout = layout(c, format, crs);
    let body = match c.source {
        Source::Assets => {
            let snap = state.register.assets().snapshot();
            let shape = c.shape;
            let holds =
                move |l: &Arc<Located>| shape.is_none_or(|s| s.holds(&l.asset.details.geometry));
            // The header declares the count and extent: one pass over the
            // snapshot's index entries before the first byte.
            let (count, envelope) = match shape {
                None => (snap.len(), super::asset_extent(&snap)),
                Some(_) => Cursor::new(Arc::clone(&snap))
                    .filter(holds)
                    .fold((0, None), |(n, e), l| (n + 1, formats::union(e, l.bbox()))),
            };
            let geometries = layout.geometries;
            let features = Cursor::new(snap)
                .filter(holds)
                .map(move |l| promoted(l, geometries));
            let encoder = Encoder::new(format, layout, count as u64, envelope);
            formats::stream(encoder, features)
        }
        Source::Areas(layer) => {
            let index = state.register.areas();
            let positions: Vec<usize> = (0..index.areas().len())
                .filter(|&i| index.areas()[i].layer == layer)
                .collect();
            let envelope = positions
                .iter()
                .filter_map(|&i| index.areas()[i].geometry.bounding_rect())
                .fold(None, formats::union);
            let encoder = Encoder::new(format, layout, positions.len() as u64, envelope);
            let rows = positions.into_iter().map(move |at| AreaRow {
                index: Arc::clone(&index),
                at,
            });
            formats::stream(encoder, rows)
        }
    };
    let mut r = bulk_response(format, &layout, body);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// An items page in a bulk format. Its links (this page, the next and
/// previous, the page as GeoJSON) go in `Link` headers, each with `f` set
/// so a client following them keeps the format it asked for by `Accept`.
#[allow(clippy::too_many_arguments)]
pub(super) fn bulk_page<F: Feature + Send + 'static>(
    c: &'static Collection,
    format: Format,
    crs: Crs,
    headers: &HeaderMap,
    uri: &Uri,
    (matched, offset, limit): (usize, usize, usize),
    envelope: Option<Rect<f64>>,
    page: Vec<F>,
) -> Response {
    let layout = layout(c, format, crs);
    let returned = page.len();
    let encoder = Encoder::new(format, layout, returned as u64, envelope);
    let mut r = bulk_response(format, &layout, formats::stream(encoder, page.into_iter()));
    let base = base_url(headers);
    let in_format: Uri = super::items::with_param(uri, "f", format.f())
        .parse()
        .unwrap_or_else(|_| uri.clone());
    let mut links = vec![(format!("{base}{in_format}"), "self", format.media_type())];
    if offset + returned < matched {
        let next = crate::http::params::page_href(&in_format, offset + limit);
        links.push((format!("{base}{next}"), "next", format.media_type()));
    }
    if offset > 0 {
        let prev = crate::http::params::page_href(&in_format, offset.saturating_sub(limit));
        links.push((format!("{base}{prev}"), "prev", format.media_type()));
    }
    let geojson = super::items::with_param(uri, "f", "geojson");
    links.push((format!("{base}{geojson}"), "alternate", super::GEOJSON));
    for (href, rel, kind) in links {
        if let Ok(v) = HeaderValue::from_str(&format!("<{href}>; rel=\"{rel}\"; type=\"{kind}\"")) {
            r.headers_mut().append(header::LINK, v);
        }
    }
    r
}
