//! `POST /v1/site-searches`: operators' requests matched to sites.
//!
//! The body is validated into a typed search (every bad field named), run
//! on the current index snapshot off the async threads (a coverage search
//! over tens of thousands of candidates takes milliseconds of CPU), and
//! answered as a GeoJSON FeatureCollection of the chosen sites in rank order
//! with a `summary`: counts, why the rest were ruled out, the covered region
//! and the quote.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::applications::views::Link;
use super::auth::Caller;
use super::openapi::{BadRequest, NotFound, Unauthorized, Unprocessable};
use super::{ApiError, ApiResult, AppState, Encoded, Json, Query};
use crate::domain::access::Principal;
use crate::domain::fees::money;
use crate::domain::matching::{RejectedBy, ScoreParts, SiteSearchRequest};
use crate::geojson_io::erased::{Member, Raw};
use crate::geojson_io::{
    begin_collection, end_collection, geometry_json, write_f64, write_located, write_str,
};
use crate::register::SiteSearchAnswer;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/site-searches", post(create).get(list))
        .route("/v1/site-searches/{id}", get(fetch))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Runs a site search: the chosen sites in rank order, with why every other
/// asset was ruled out and the quote for the selection. The search is saved
/// (request, answer, time, organisation) under the `id` it answers with.
///
/// Exactly one of `area`, `near` or `corridor` says where. Without
/// `coverage_radius_m` (spacing mode) sites are taken best score first,
/// never two closer than `min_spacing_m`; with it (coverage mode) the
/// spaced set covering the most demand is chosen. See the README.
#[utoipa::path(post, path = "/v1/site-searches", operation_id = "create_site_search", tag = "site-searches",
    request_body = SiteSearchRequest,
    responses((status = 201, description = "The chosen sites and the summary, saved", body = SiteSearchResult, content_type = "application/geo+json",
            headers(("Location" = String, description = "The saved search"))),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable)))]
async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let (id, out) = run_and_save(&state, &principal, body).await?;
    let mut resp = Encoded::geojson(out);
    resp.status = StatusCode::CREATED;
    Ok((
        [(header::LOCATION, format!("/v1/site-searches/{id}"))],
        resp,
    )
        .into_response())
}

/// Validates a request body, runs the search off the async threads and
/// saves it for `principal`; returns the saved id and the answer's bytes.
/// `POST /v1/site-searches` and the console's site finder both call this,
/// so a search from either is the same search.
pub async fn run_and_save(
    state: &AppState,
    principal: &Principal,
    body: Value,
) -> ApiResult<(String, Vec<u8>)> {
    let request_text = body.to_string();
    let req: SiteSearchRequest = super::error::from_body(body)?;
    let spec = req
        .parse(today(), &state.settings.site_search_limits)
        .map_err(ApiError::Invalid)?;
    let register = state.register.clone();
    let (id, created_at) = register.new_site_search_stamp();
    let (answer, summary, out) = {
        let (id, created_at) = (id.clone(), created_at.clone());
        tokio::task::spawn_blocking(move || -> ApiResult<_> {
            let answer = register.search_sites(&spec).map_err(ApiError::Invalid)?;
            let summary = serde_json::to_vec(&summary(&answer, spec.coverage_radius_m))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let out = encode(&answer, &id, &created_at, &summary)?;
            Ok((answer, summary, out))
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    state
        .register
        .save_site_search(
            principal,
            &id,
            &created_at,
            &request_text,
            &text(&summary),
            &text(&out),
            &answer,
        )
        .await?;
    Ok((id, out))
}

/// Paging of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Page size (default 50, at most 500).
    limit: Option<u32>,
    /// Searches to skip.
    offset: Option<u64>,
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// The saved searches the caller may see, newest first: an operator its
/// organisation's, staff those their council ran or that chose their
/// council's sites, admin all.
#[utoipa::path(get, path = "/v1/site-searches", operation_id = "list_site_searches", tag = "site-searches",
    params(ListParams),
    responses((status = 200, description = "A page of saved searches (request and summary; the answer at each `self` link)", body = SiteSearchList),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable)))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    uri: Uri,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let offset = p.offset.unwrap_or(0);
    let (total, rows) = state
        .register
        .site_searches(&principal, limit, offset)
        .await?;
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "created_at": r.created_at,
                "role": r.role,
                "organisation": r.organisation,
                "authority": r.authority,
                "request": parse(&r.request),
                "summary": parse(&r.summary),
                "links": [Link::json(format!("/v1/site-searches/{}", r.id), "self")],
            })
        })
        .collect();
    let returned = items.len() as u64;
    let mut links = vec![Link::json(uri.to_string(), "self")];
    if offset + returned < total {
        links.push(Link::json(
            super::params::page_href(&uri, (offset + u64::from(limit)) as usize),
            "next",
        ));
    }
    if offset > 0 {
        links.push(Link::json(
            super::params::page_href(&uri, offset.saturating_sub(u64::from(limit)) as usize),
            "prev",
        ));
    }
    Ok(axum::Json(json!({
        "number_matched": total,
        "number_returned": returned,
        "site_searches": items,
        "links": links,
    })))
}

/// A saved search: its answer as first served, with the request. A search
/// the caller may not see is a 404.
#[utoipa::path(get, path = "/v1/site-searches/{id}", operation_id = "fetch_site_search", tag = "site-searches",
    params(("id" = String, Path, description = "Saved search id")),
    responses((status = 200, description = "The answer as first served, plus `request`", body = SiteSearchResult, content_type = "application/geo+json"),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
async fn fetch(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Encoded> {
    let Some(saved) = state.register.site_search(&principal, &id).await? else {
        return Err(ApiError::NotFound(format!("site search {id:?} not found")));
    };
    const HEAD: &str = r#"{"type":"FeatureCollection","#;
    let rest = saved
        .result
        .strip_prefix(HEAD)
        .ok_or_else(|| ApiError::Internal(format!("site search {id:?} is stored oddly")))?;
    let mut out = Vec::with_capacity(saved.result.len() + saved.row.request.len() + 16);
    out.extend_from_slice(HEAD.as_bytes());
    out.extend_from_slice(br#""request":"#);
    out.extend_from_slice(saved.row.request.as_bytes());
    out.push(b',');
    out.extend_from_slice(rest.as_bytes());
    Ok(Encoded::geojson(out))
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The summary member.
fn summary(a: &SiteSearchAnswer, radius: Option<f64>) -> Value {
    let coverage = a.coverage.as_ref().map(|c| {
        let geometry: Value = serde_json::from_str(&geometry_json(&geo::Geometry::MultiPolygon(
            c.region.clone(),
        )))
        .unwrap_or(Value::Null);
        json!({
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "radius_m": radius,
                "demand_points": c.demand_points,
                "sampled_grid": c.sampled,
                "covered_weight": round6(c.covered),
                "greedy_weight": round6(c.greedy),
                "total_weight": round6(c.total),
            }
        })
    });
    json!({
        "mode": if radius.is_some() { "coverage" } else { "spacing" },
        "candidates": a.candidates,
        "selected": a.chosen.len(),
        "coverage_fraction": a.coverage.as_ref().map(|c| round6(c.fraction)),
        "coverage": coverage,
        "rejected_by": a.rejected_by,
        "quote": {"quotes": a.quotes},
    })
}

/// The whole answer as GeoJSON bytes.
fn encode(a: &SiteSearchAnswer, id: &str, created_at: &str, summary: &[u8]) -> ApiResult<Vec<u8>> {
    let mut out = Vec::with_capacity(1024 + a.chosen.len() * 700 + summary.len());
    begin_collection(
        &mut out,
        &[
            ("id", &id as &dyn Member),
            ("created_at", &created_at),
            ("summary", &Raw(summary)),
        ],
    );
    for (n, c) in a.chosen.iter().enumerate() {
        let Some(l) = a.snapshot.get(&c.id) else {
            return Err(ApiError::Internal(format!("{} left the snapshot", c.id)));
        };
        if n > 0 {
            out.push(b',');
        }
        write_located(&mut out, l, |out| {
            out.extend_from_slice(br#","rank":"#);
            crate::geojson_io::write_int(out, c.rank);
            out.extend_from_slice(br#","score":"#);
            write_f64(out, round6(c.score));
            out.extend_from_slice(br#","score_parts":{"demand":"#);
            let p = &c.parts;
            write_f64(out, round6(p.demand));
            out.extend_from_slice(br#","height":"#);
            write_f64(out, round6(p.height));
            out.extend_from_slice(br#","power":"#);
            write_f64(out, round6(p.power));
            out.extend_from_slice(br#","shared":"#);
            write_f64(out, round6(p.shared));
            out.extend_from_slice(br#","fee":"#);
            write_f64(out, round6(p.fee));
            out.extend_from_slice(br#"},"annual_fee":"#);
            match &c.annual_fee {
                Some((fee, currency)) => {
                    write_str(out, &money::to_string(*fee));
                    out.extend_from_slice(br#","currency":"#);
                    write_str(out, currency);
                }
                None => out.extend_from_slice(br#"null,"currency":null"#),
            }
        });
    }
    end_collection(&mut out);
    Ok(out)
}

/// The answer to a site search (GeoJSON FeatureCollection).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SiteSearchResult {
    /// `FeatureCollection`.
    #[schema(example = "FeatureCollection")]
    r#type: String,
    /// The saved search's id.
    id: String,
    /// When it ran (RFC 3339).
    created_at: String,
    /// `GET /v1/site-searches/{id}` only: the request as sent.
    #[schema(value_type = Option<Object>)]
    request: Option<Value>,
    /// Counts, reasons, coverage and the quote.
    summary: SiteSearchSummary,
    /// The chosen sites, rank order.
    features: Vec<SiteFeature>,
}

/// What a search found and why the rest were ruled out.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SiteSearchSummary {
    /// `spacing` or `coverage`.
    mode: String,
    /// Assets passing every hard constraint.
    candidates: usize,
    /// Sites chosen.
    selected: usize,
    /// Coverage mode: covered demand weight over all demand weight (with no
    /// demand given: covered sample points of the area's grid over all).
    coverage_fraction: Option<f64>,
    /// Coverage mode: a Feature whose MultiPolygon is the union of the chosen
    /// sites' discs (64-gon geodesic circles).
    #[schema(value_type = Option<Object>)]
    coverage: Option<Value>,
    /// Each ruled-out asset counted once, under the first rule it fails.
    rejected_by: RejectedBy,
    /// `{"quotes": [...]}`: as `POST /v1/quotes` answers for the chosen
    /// sites whose councils publish a schedule.
    #[schema(value_type = Object)]
    quote: Value,
}

/// A chosen site.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SiteFeature {
    /// `Feature`.
    r#type: String,
    /// Asset id.
    id: String,
    /// The asset's geometry.
    #[schema(value_type = Object)]
    geometry: Value,
    /// The asset's properties plus the ranking.
    properties: SiteProperties,
}

/// A chosen site's properties: every asset property (see `AssetProperties`)
/// plus these.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SiteProperties {
    /// 1 for the first.
    rank: usize,
    /// Weighted score, 0 to 1.
    score: f64,
    /// The parts of the score, each 0 to 1.
    score_parts: ScoreParts,
    /// Year-one fee, two decimals, where the council publishes a schedule.
    annual_fee: Option<String>,
    /// ISO 4217 currency of `annual_fee`.
    currency: Option<String>,
}

/// A page of saved searches.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SiteSearchList {
    /// How many the caller may see in all.
    number_matched: u64,
    /// How many are in this page.
    number_returned: u64,
    /// The page, newest first.
    site_searches: Vec<SiteSearchListItem>,
    /// `self`, and `next`/`prev` when there are more.
    links: Vec<Link>,
}

/// A saved search in a list.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SiteSearchListItem {
    /// Its id.
    id: String,
    /// When it ran.
    created_at: String,
    /// Role of whoever ran it.
    role: String,
    /// The operator's organisation, when an operator ran it.
    organisation: Option<String>,
    /// The council, when its staff ran it.
    authority: Option<String>,
    /// The request as sent.
    #[schema(value_type = Object)]
    request: Value,
    /// The answer's summary.
    summary: SiteSearchSummary,
    /// `self`: the whole answer.
    links: Vec<Link>,
}
