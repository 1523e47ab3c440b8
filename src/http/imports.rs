//! Bulk loading: asset registers and boundary layers.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, header};
use axum::middleware::from_fn;
use axum::routing::post;
use serde::Deserialize;

use super::auth::{Caller, Reader};
use super::limits::refuse_announced_over;
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Encoded, MAX_IMPORT_BODY, Query};
use crate::domain::area::AreaLayer;
use crate::domain::asset::AssetKind;
use crate::domain::reimport::ImportMode;
use crate::geojson_io::{begin_collection, end_collection, write_geometry, write_int, write_str};
use crate::import::{self, Mapping, SourceCrs};
use crate::register::{ImportTarget, import_rows_with};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/authorities/{code}/imports",
            post(import_assets)
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BODY))
                .layer(from_fn(refuse_announced_over::<MAX_IMPORT_BODY>)),
        )
        .route(
            "/v1/authorities/{code}/areas",
            post(import_areas)
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BODY))
                .layer(from_fn(refuse_announced_over::<MAX_IMPORT_BODY>))
                .get(list_areas),
        )
}

/// Import mapping options, as query parameters.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MappingParams {
    /// One kind for every row.
    pub kind: Option<String>,
    /// Column or property holding each row's kind.
    pub kind_field: Option<String>,
    /// Column or property holding the council's asset number.
    pub ref_field: Option<String>,
    /// CSV column of longitude or easting.
    pub x_field: Option<String>,
    /// CSV column of latitude or northing.
    pub y_field: Option<String>,
    /// `EPSG:4326` (default) or `EPSG:27700`.
    pub crs: Option<String>,
    /// Other field names: `height_m:COLUMN_HEIGHT,power_supply:SUPPLY`.
    pub fields: Option<String>,
    /// `merge` (default: fields a row leaves out keep their stored values) or
    /// `replace` (the file is the whole register: fields left out are
    /// cleared, the authority's assets it does not list are removed).
    #[param(pattern = "^(merge|replace)$")]
    pub mode: Option<String>,
}

impl MappingParams {
    /// The import mode (default `merge`).
    pub fn mode(&self) -> Result<ImportMode, crate::domain::asset::InvalidField> {
        self.mode
            .as_deref()
            .map_or(Ok(ImportMode::default()), str::parse)
            .map_err(|e| crate::domain::asset::InvalidField::new("mode", e))
    }

    /// Validates the options into a [`Mapping`].
    pub fn into_mapping(self) -> Result<Mapping, crate::domain::asset::InvalidField> {
        use crate::domain::asset::InvalidField;
        let kind = self
            .kind
            .map(|k| k.parse::<AssetKind>())
            .transpose()
            .map_err(|e| InvalidField::new("kind", e.to_string()))?;
        let crs = match self.crs.as_deref() {
            None => SourceCrs::Wgs84,
            Some(c) => c
                .parse::<SourceCrs>()
                .map_err(|e| InvalidField::new("crs", e.to_string()))?,
        };
        let mut fields = BTreeMap::new();
        for pair in self.fields.iter().flat_map(|f| f.split(',')) {
            let (ours, theirs) = pair.split_once(':').ok_or_else(|| {
                InvalidField::new("fields", format!("{pair:?} is not our_field:source_column"))
            })?;
            fields.insert(ours.trim().to_string(), theirs.trim().to_string());
        }
        Ok(Mapping {
            kind,
            kind_field: self.kind_field,
            ref_field: self.ref_field,
            x_field: self.x_field,
            y_field: self.y_field,
            crs,
            fields,
        })
    }
}

/// The body's format, from its `Content-Type`.
fn is_csv(headers: &HeaderMap) -> ApiResult<bool> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "text/csv" => Ok(true),
        "application/geo+json" | "application/json" => Ok(false),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "send the register as application/geo+json or text/csv, not {ct:?}"
        ))),
    }
}

/// A body that could not be read: over the import limit (413 naming it),
/// too slow (408), or cut off.
fn import_body_error(r: BytesRejection) -> ApiError {
    if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(MAX_IMPORT_BODY)
    } else {
        ApiError::from(r)
    }
}

async fn known_authority(state: &AppState, caller: &Caller, code: &str) -> ApiResult<()> {
    caller.require_authority(code)?;
    if state.register.authority(code).await?.is_none() {
        return Err(ApiError::NotFound(format!("authority {code:?} not found")));
    }
    Ok(())
}

/// Imports (upserts by ref) an authority's register from GeoJSON or CSV.
/// Good rows land even when others are rejected.
#[utoipa::path(post, path = "/v1/authorities/{code}/imports", tag = "imports",
    params(("code" = String, Path, description = "Authority code"), MappingParams),
    request_body(content = String, description = "The register as `application/geo+json` or `text/csv`", content_type = "text/csv"),
    responses((status = 200, description = "What was inserted, updated and rejected", body = ImportReport),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, description = "Body over 256 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither GeoJSON nor CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Unprocessable)))]
async fn import_assets(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(params): Query<MappingParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<crate::register::ImportReport>> {
    known_authority(&state, &caller, &code).await?;
    let body = body.map_err(import_body_error)?;
    let mode = params.mode()?;
    let mapping = params.into_mapping()?;
    let csv = is_csv(&headers)?;
    // Rows are parsed a batch at a time as they are written: the import
    // holds the body and a few batches, not every parsed row.
    let report = if csv {
        let rows = tokio::task::block_in_place(|| import::csv_rows(&body, &mapping))
            .map_err(|e| ApiError::invalid("body", e.to_string()))?;
        import_rows_with(
            ImportTarget::Register(&state.register),
            &code,
            mode,
            rows,
            &|_| {},
        )
        .await?
    } else {
        let rows = tokio::task::block_in_place(|| import::geojson_rows(&body, &mapping))
            .map_err(|e| ApiError::invalid("body", e.to_string()))?;
        import_rows_with(
            ImportTarget::Register(&state.register),
            &code,
            mode,
            rows,
            &|_| {},
        )
        .await?
    };
    state
        .metrics
        .imported(report.inserted, report.updated, report.rejected_total);
    Ok(axum::Json(report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaParams {
    layer: String,
    name_field: Option<String>,
}

/// Replaces one boundary layer (wards, fee zones or conservation areas) of
/// an authority from GeoJSON polygons; assets are re-placed.
#[utoipa::path(post, path = "/v1/authorities/{code}/areas", tag = "imports",
    params(("code" = String, Path, description = "Authority code"),
        ("layer" = String, Query, description = "ward, fee_zone or conservation_area"),
        ("name_field" = Option<String>, Query, description = "Property holding each polygon's name (default `name`)")),
    request_body(content = Object, description = "GeoJSON FeatureCollection of Polygon/MultiPolygon", content_type = "application/geo+json"),
    responses((status = 200, description = "How many areas were loaded and which features were rejected"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
async fn import_areas(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(params): Query<AreaParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    known_authority(&state, &caller, &code).await?;
    let body = body.map_err(import_body_error)?;
    // A boundary layer is GeoJSON: anything declared otherwise is refused
    // as such (415), as the register import does, not parsed and failed.
    if is_csv(&headers)? {
        return Err(ApiError::UnsupportedMediaType(
            "send a boundary layer as application/geo+json, not text/csv".into(),
        ));
    }
    let layer: AreaLayer = params
        .layer
        .parse()
        .map_err(|m: String| ApiError::invalid("layer", m))?;
    let name_field = params.name_field.as_deref().unwrap_or("name");
    let parsed = import::parse_areas_geojson(&body, name_field)
        .map_err(|e| ApiError::invalid("body", e.to_string()))?;
    let mut good = Vec::new();
    let mut rejected = Vec::new();
    for a in parsed {
        match a.outcome {
            Ok(area) => good.push(area),
            Err(reason) => rejected.push(serde_json::json!({"line": a.line, "reason": reason})),
        }
    }
    state.register.replace_areas(&code, layer, &good).await?;
    Ok(axum::Json(serde_json::json!({
        "layer": layer.as_str(),
        "loaded": good.len(),
        "rejected": rejected,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerParams {
    layer: Option<String>,
}

/// An authority's boundary polygons as GeoJSON.
#[utoipa::path(get, path = "/v1/authorities/{code}/areas", tag = "imports",
    params(("code" = String, Path, description = "Authority code"),
        ("layer" = Option<String>, Query, description = "ward, fee_zone or conservation_area (default: all)")),
    responses((status = 200, description = "The polygons", body = AreaFeatureCollection, content_type = "application/geo+json"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
async fn list_areas(
    State(state): State<AppState>,
    _reader: Reader,
    Path(code): Path<String>,
    Query(params): Query<LayerParams>,
) -> ApiResult<Encoded> {
    let layer = params
        .layer
        .map(|l| l.parse::<AreaLayer>())
        .transpose()
        .map_err(|m| ApiError::invalid("layer", m))?;
    let areas = state.register.areas();
    let chosen: Vec<_> = areas
        .areas()
        .iter()
        .filter(|a| a.authority == code && layer.is_none_or(|l| l == a.layer))
        .collect();
    let mut out = Vec::new();
    let n = chosen.len();
    begin_collection(
        &mut out,
        &[
            (
                "numberMatched",
                &n as &dyn crate::geojson_io::erased::Member,
            ),
            ("numberReturned", &n),
        ],
    );
    for (i, a) in chosen.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        write_int(&mut out, a.id);
        out.extend_from_slice(br#","geometry":"#);
        write_geometry(
            &mut out,
            &geo::Geometry::MultiPolygon(a.geometry.clone()),
            &|c| c,
        );
        out.extend_from_slice(br#","properties":{"authority":"#);
        write_str(&mut out, &a.authority);
        out.extend_from_slice(br#","layer":"#);
        write_str(&mut out, a.layer.as_str());
        out.extend_from_slice(br#","name":"#);
        write_str(&mut out, &a.name);
        out.extend_from_slice(b"}}");
    }
    end_collection(&mut out);
    Ok(Encoded::geojson(out))
}
