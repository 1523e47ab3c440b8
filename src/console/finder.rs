//! The operators' site finder: say where (type a box, pick a ward, draw a
//! polygon or a street corridor on the map), set the constraints, and see
//! the chosen sites ranked with their score parts and annual fees on the
//! map and in a table, the region they cover, and how many assets each rule
//! ruled out; then "apply for these sites".
//!
//! A search runs through `http::site_searches::run_and_save`, the very call
//! `POST /v1/site-searches` makes (validation, the register's search on one
//! index snapshot, the quote, saving), so a console search is an API search
//! and shows up in `GET /v1/site-searches`. Its page is the saved search,
//! read through `Register::site_search` with the session's principal: a
//! search the user may not see is a 404, as in the API. Applying goes
//! through `Register::submit_application` with the saved search's id, as
//! `POST /v1/applications` does. Every form carries the session's CSRF
//! token ([`Posted`]). Without JavaScript everything but drawing works.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use serde_json::Value;

use super::finder_form::{ApplyFields, PLACES, SearchFields};
use super::format::{metres, money, timestamp, words};
use super::session::{Posted, Session};
use super::svgmap::{FinderLayers, Marker, Shape, finder_map};
use super::{Chrome, PageResult, render};
use crate::domain::access::Principal;
use crate::domain::area::AreaLayer;
use crate::domain::asset::{AssetKind, InvalidField, PowerSupply};
use crate::http::applications::today;
use crate::http::site_searches::run_and_save;
use crate::http::{ApiError, AppState};
use crate::index::areas::AreaIndex;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/finder", get(blank).post(run))
        .route("/console/finder/searches/{id}", get(saved))
        .route("/console/finder/searches/{id}/apply", post(apply))
}

/// A checkbox, radio button or option.
pub struct Choice {
    value: String,
    label: String,
    on: bool,
}

/// A chosen site as the table shows it.
pub struct SiteRow {
    rank: u64,
    anchor: String,
    asset: String,
    asset_ref: String,
    kind: String,
    authority: String,
    ward: String,
    height: String,
    power: String,
    score: String,
    parts: [String; 5],
    annual: String,
}

/// A quote of the selection, one per council.
pub struct QuoteRow {
    authority: String,
    application_fee: String,
    term_total: String,
    subsidy_total: String,
}

/// What a saved search found.
pub struct Results {
    id: String,
    created: String,
    mode: String,
    candidates: u64,
    selected: u64,
    coverage: Option<String>,
    sites: Vec<SiteRow>,
    rejected: Vec<(String, u64)>,
    rejected_total: u64,
    quotes: Vec<QuoteRow>,
}

/// The apply form as shown.
pub struct ApplyView {
    sites: Vec<Choice>,
    f: ApplyFields,
}

#[derive(Template)]
#[template(path = "console/finder.html")]
struct FinderPage {
    chrome: Chrome,
    csrf: String,
    error: Option<(String, Vec<InvalidField>)>,
    apply_error: Option<(String, Vec<InvalidField>)>,
    f: SearchFields,
    places: Vec<Choice>,
    wards: Vec<Choice>,
    kinds: Vec<Choice>,
    powers: Vec<Choice>,
    map: String,
    results: Option<Results>,
    apply: Option<ApplyView>,
    recent: Vec<(String, String, String)>,
}

fn choices<'a>(all: impl Iterator<Item = (&'a str, String)>, on: &[String]) -> Vec<Choice> {
    all.map(|(v, label)| Choice {
        on: on.iter().any(|o| o == v),
        value: v.to_string(),
        label,
    })
    .collect()
}

/// The wards of every council, `authority/name`, by council then name.
fn ward_choices(areas: &AreaIndex, picked: &str) -> Vec<Choice> {
    let mut v: Vec<Choice> = areas
        .areas()
        .iter()
        .filter(|a| a.layer == AreaLayer::Ward)
        .map(|a| {
            let value = format!("{}/{}", a.authority, a.name);
            Choice {
                on: value == picked,
                label: format!("{} ({})", a.name, a.authority),
                value,
            }
        })
        .collect();
    v.sort_by(|a, b| a.value.cmp(&b.value));
    v
}

/// Everything a finder page shows besides the results.
struct Page {
    fields: SearchFields,
    error: Option<(String, Vec<InvalidField>)>,
    apply_error: Option<(String, Vec<InvalidField>)>,
    results: Option<(Results, Value, Value)>,
    apply: Option<ApplyView>,
}

async fn draw(state: &AppState, session: &Session, page: Page, status: StatusCode) -> Response {
    let areas = state.register.areas();
    let f = page.fields;
    let (results, layers) = match page.results {
        Some((r, request, answer)) => {
            let layers = layers_of(&request, &answer, &r);
            (Some(r), layers)
        }
        None => (None, FinderLayers::default()),
    };
    let mut layers = layers;
    layers.wards = wards_near(&areas, &layers);
    let title = match &results {
        Some(r) => format!("Map of the {} sites chosen by search {}", r.selected, r.id),
        None => "Map of the councils' wards: draw the search area here".to_string(),
    };
    let map = finder_map(&title, &layers);
    let recent = match state
        .register
        .site_searches(&session.principal, 10, 0)
        .await
    {
        Ok((_, rows)) => rows
            .into_iter()
            .map(|r| {
                let n = serde_json::from_str::<Value>(&r.summary)
                    .ok()
                    .and_then(|s| s["selected"].as_u64())
                    .unwrap_or(0);
                (
                    format!("/console/finder/searches/{}", r.id),
                    timestamp(&r.created_at),
                    format!("{n} site{}", if n == 1 { "" } else { "s" }),
                )
            })
            .collect(),
        Err(e) => return super::ConsoleError::from(ApiError::from(e)).into_response(),
    };
    let p = FinderPage {
        chrome: session.chrome("finder"),
        csrf: session.csrf.clone(),
        error: page.error,
        apply_error: page.apply_error,
        places: PLACES
            .iter()
            .map(|(v, l)| Choice {
                value: v.to_string(),
                label: l.to_string(),
                on: f.place == *v,
            })
            .collect(),
        wards: ward_choices(&areas, &f.ward),
        kinds: choices(
            AssetKind::ALL
                .iter()
                .map(|k| (k.as_str(), words(k.as_str()))),
            &f.kinds,
        ),
        powers: choices(
            PowerSupply::ALL
                .iter()
                .map(|k| (k.as_str(), words(k.as_str()))),
            &f.power,
        ),
        f,
        map,
        results,
        apply: page.apply,
        recent,
    };
    let mut r = render(&p);
    *r.status_mut() = status;
    r
}

/// The wards around what the map shows (every ward when nothing is shown).
fn wards_near<'a>(areas: &'a AreaIndex, layers: &FinderLayers<'_>) -> Vec<Shape<'a>> {
    use geo::BoundingRect;
    let mut rects = Vec::new();
    rects.extend(layers.area.as_ref().and_then(|a| a.bounding_rect()));
    rects.extend(layers.corridor.as_ref().and_then(|c| c.0.bounding_rect()));
    rects.extend(layers.coverage.as_ref().and_then(|c| c.bounding_rect()));
    for m in &layers.markers {
        rects.push(geo::Rect::new((m.lon, m.lat), (m.lon, m.lat)));
    }
    let env = rects.iter().fold(None::<(f64, f64, f64, f64)>, |acc, r| {
        let (a, b) = (r.min(), r.max());
        Some(match acc {
            None => (a.x, a.y, b.x, b.y),
            Some((x0, y0, x1, y1)) => (x0.min(a.x), y0.min(a.y), x1.max(b.x), y1.max(b.y)),
        })
    });
    areas
        .areas()
        .iter()
        .filter(|a| a.layer == AreaLayer::Ward)
        .filter(|a| match env {
            None => true,
            Some((x0, y0, x1, y1)) => a.geometry.bounding_rect().is_some_and(|b| {
                // About 3 km around, which covers the drawn view.
                let pad = 0.03;
                b.min().x <= x1 + pad
                    && b.max().x >= x0 - pad
                    && b.min().y <= y1 + pad
                    && b.max().y >= y0 - pad
            }),
        })
        .map(|a| Shape {
            name: &a.name,
            geometry: &a.geometry,
        })
        .collect()
}

fn parse_geometry(v: &Value) -> Option<geo::Geometry<f64>> {
    let g: geojson::Geometry = serde_json::from_value(v.clone()).ok()?;
    crate::domain::geometry::from_geojson(&g.value).ok()
}

/// The map layers of a saved search: its region, coverage and sites.
fn layers_of<'a>(request: &Value, answer: &Value, r: &Results) -> FinderLayers<'a> {
    let mut layers = FinderLayers::default();
    if let Some(a) = request.get("area").and_then(parse_geometry) {
        layers.area = match a {
            geo::Geometry::Polygon(p) => Some(geo::MultiPolygon(vec![p])),
            geo::Geometry::MultiPolygon(m) => Some(m),
            _ => None,
        };
    }
    if let Some(c) = request.get("corridor") {
        let width = c["width_m"].as_f64().unwrap_or(0.0);
        layers.corridor = match c.get("line").and_then(parse_geometry) {
            Some(geo::Geometry::LineString(l)) => Some((geo::MultiLineString(vec![l]), width)),
            Some(geo::Geometry::MultiLineString(m)) => Some((m, width)),
            _ => None,
        };
    }
    if let Some(geo::Geometry::MultiPolygon(m)) =
        parse_geometry(&answer["summary"]["coverage"]["geometry"])
    {
        layers.coverage = Some(m);
    }
    let features = answer["features"].as_array().cloned().unwrap_or_default();
    for (f, row) in features.iter().zip(&r.sites) {
        let Some(g) = parse_geometry(&f["geometry"]) else {
            continue;
        };
        use geo::InteriorPoint;
        let Some(p) = g.interior_point() else {
            continue;
        };
        layers.markers.push(Marker {
            label: row.rank.to_string(),
            href: format!("#{}", row.anchor),
            title: format!("Rank {}: {} {}", row.rank, row.kind, row.asset_ref),
            lon: p.x(),
            lat: p.y(),
        });
    }
    layers
}

fn decimal(v: &Value) -> Option<Decimal> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// The results of a saved search, from its answer as first served.
fn results(id: &str, answer: &Value) -> Results {
    let s = &answer["summary"];
    let sites = answer["features"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let p = &f["properties"];
                    let rank = p["rank"].as_u64().unwrap_or(0);
                    let part =
                        |k: &str| format!("{:.2}", p["score_parts"][k].as_f64().unwrap_or(0.0));
                    let text = |k: &str| p[k].as_str().unwrap_or("").to_string();
                    SiteRow {
                        rank,
                        anchor: format!("rank-{rank}"),
                        asset: f["id"].as_str().unwrap_or("").to_string(),
                        asset_ref: text("ref"),
                        kind: words(p["kind"].as_str().unwrap_or("")),
                        authority: text("authority"),
                        ward: p["ward"].as_str().unwrap_or("No ward").to_string(),
                        height: p["height_m"]
                            .as_f64()
                            .map_or_else(|| "Not recorded".into(), metres),
                        power: words(p["power_supply"].as_str().unwrap_or("")),
                        score: format!("{:.3}", p["score"].as_f64().unwrap_or(0.0)),
                        parts: [
                            part("demand"),
                            part("height"),
                            part("power"),
                            part("shared"),
                            part("fee"),
                        ],
                        annual: match (decimal(&p["annual_fee"]), p["currency"].as_str()) {
                            (Some(fee), Some(cur)) => money(fee, cur),
                            _ => "No published terms".into(),
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let reasons = [
        ("outside", "Outside the search region"),
        ("kind", "Not a kind asked for"),
        ("height", "Height unknown or out of range"),
        ("power", "Power supply not asked for"),
        ("conservation_area", "In a conservation area"),
        ("listed", "Listed"),
        ("status", "Unavailable"),
        ("capacity", "No free capacity"),
        ("spacing", "Too close to a chosen site"),
    ];
    let rejected: Vec<(String, u64)> = reasons
        .iter()
        .map(|(k, label)| (label.to_string(), s["rejected_by"][k].as_u64().unwrap_or(0)))
        .collect();
    let quotes = s["quote"]["quotes"]
        .as_array()
        .map(|qs| {
            qs.iter()
                .map(|q| {
                    let cur = q["currency"].as_str().unwrap_or("");
                    let m = |k: &str| decimal(&q[k]).map_or_else(String::new, |d| money(d, cur));
                    QuoteRow {
                        authority: q["authority"].as_str().unwrap_or("").to_string(),
                        application_fee: m("application_fee"),
                        term_total: m("term_total"),
                        subsidy_total: m("subsidy_total"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Results {
        id: id.to_string(),
        created: timestamp(answer["created_at"].as_str().unwrap_or("")),
        mode: s["mode"].as_str().unwrap_or("").to_string(),
        candidates: s["candidates"].as_u64().unwrap_or(0),
        selected: s["selected"].as_u64().unwrap_or(0),
        coverage: s["coverage_fraction"]
            .as_f64()
            .map(|f| format!("{:.1}%", f * 100.0)),
        rejected_total: rejected.iter().map(|r| r.1).sum(),
        rejected,
        sites,
        quotes,
    }
}

/// The apply form filled in from a search: its sites of the council with
/// the most of them ticked (an application is to one council), the
/// equipment and plan of a typical small cell, the term of the search.
fn prefilled(r: &Results, request: &Value) -> ApplyView {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in &r.sites {
        match counts.iter_mut().find(|c| c.0 == s.authority) {
            Some(c) => c.1 += 1,
            None => counts.push((&s.authority, 1)),
        }
    }
    let council = counts
        .iter()
        .fold(None::<(&str, usize)>, |best, c| match best {
            Some(b) if b.1 >= c.1 => Some(b),
            _ => Some(*c),
        })
        .map(|c| c.0)
        .unwrap_or("");
    let start = today();
    let install_by = start + time::Duration::days(182);
    let f = ApplyFields {
        assets: r
            .sites
            .iter()
            .filter(|s| s.authority == council)
            .map(|s| s.asset.clone())
            .collect(),
        term_years: request["term_years"].as_i64().unwrap_or(10).to_string(),
        start: crate::domain::asset::format_date(start),
        install_by: crate::domain::asset::format_date(install_by),
        technology: "5G NR".into(),
        bands: "n78".into(),
        antenna_volume_l: "20".into(),
        cabinet: false,
        power_w: "250".into(),
        deployment_plan: format!(
            "Small cells on the sites chosen by site search {}, built in rank order; \
             each site surveyed before installation.",
            r.id
        ),
        ..ApplyFields::default()
    };
    apply_view(r, f)
}

fn apply_view(r: &Results, f: ApplyFields) -> ApplyView {
    ApplyView {
        sites: r
            .sites
            .iter()
            .map(|s| Choice {
                value: s.asset.clone(),
                label: format!(
                    "Rank {}: {} {} ({}, {})",
                    s.rank, s.kind, s.asset_ref, s.authority, s.annual
                ),
                on: f.assets.contains(&s.asset),
            })
            .collect(),
        f,
    }
}

/// `GET /console/finder`: the empty form over the map of the wards.
async fn blank(State(state): State<AppState>, session: Session) -> Response {
    let page = Page {
        fields: SearchFields::default(),
        error: None,
        apply_error: None,
        results: None,
        apply: None,
    };
    draw(&state, &session, page, StatusCode::OK).await
}

/// `POST /console/finder`: runs and saves the search, then shows it.
async fn run(
    State(state): State<AppState>,
    posted: Posted<Vec<(String, String)>>,
) -> PageResult<Response> {
    let session = posted.session;
    let fields = SearchFields::from_pairs(&posted.form);
    let invalid = |fields: SearchFields, problems: Vec<InvalidField>| Page {
        fields,
        error: Some((
            "Some fields need attention; nothing was searched.".into(),
            problems,
        )),
        apply_error: None,
        results: None,
        apply: None,
    };
    let body = match fields.to_request(&state.register.areas()) {
        Ok(b) => b,
        Err(problems) => {
            let page = invalid(fields, problems);
            return Ok(draw(&state, &session, page, StatusCode::UNPROCESSABLE_ENTITY).await);
        }
    };
    match run_and_save(&state, &session.principal, body).await {
        Ok((id, _)) => Ok(Redirect::to(&format!("/console/finder/searches/{id}")).into_response()),
        Err(ApiError::Invalid(problems)) => {
            let page = invalid(fields, problems);
            Ok(draw(&state, &session, page, StatusCode::UNPROCESSABLE_ENTITY).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// A saved search the session may see: its request and its answer.
async fn load(state: &AppState, session: &Session, id: &str) -> PageResult<(Value, Value)> {
    let Some(saved) = state.register.site_search(&session.principal, id).await? else {
        return Err(ApiError::NotFound(format!("site search {id:?} not found")).into());
    };
    let request = serde_json::from_str(&saved.row.request).unwrap_or(Value::Null);
    let answer = serde_json::from_str(&saved.result).unwrap_or(Value::Null);
    Ok((request, answer))
}

/// `GET /console/finder/searches/{id}`: a saved search's results, with its
/// form filled in and, for an operator, the apply form.
async fn saved(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let (request, answer) = load(&state, &session, &id).await?;
    let r = results(&id, &answer);
    let operator = matches!(session.principal, Principal::Operator { .. });
    let apply = (operator && !r.sites.is_empty()).then(|| prefilled(&r, &request));
    let page = Page {
        fields: SearchFields::from_request(&request, &state.register.areas()),
        error: None,
        apply_error: None,
        results: Some((r, request, answer)),
        apply,
    };
    Ok(draw(&state, &session, page, StatusCode::OK).await)
}

/// `POST /console/finder/searches/{id}/apply`: the application for the
/// ticked sites of the search, through the register as the API makes it.
async fn apply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> PageResult<Response> {
    let session = posted.session;
    let (request, answer) = load(&state, &session, &id).await?;
    let fields = ApplyFields::from_pairs(&posted.form);
    let outcome = match fields.to_request(&id) {
        Err(problems) => Err(ApiError::Invalid(problems)),
        Ok(req) => state
            .register
            .submit_application(&session.principal, &req, today())
            .await
            .map_err(ApiError::from),
    };
    let e = match outcome {
        Ok(record) => {
            return Ok(Redirect::to(&format!(
                "/console/applications/{}?done=submit",
                record.application.id
            ))
            .into_response());
        }
        Err(e @ (ApiError::NotFound(_) | ApiError::Internal(_))) => return Err(e.into()),
        Err(e) => e,
    };
    let status = e.status();
    let message = match &e {
        ApiError::Invalid(_) => "Some fields need attention; nothing was applied for.".into(),
        other => other.to_string(),
    };
    let problems = match e {
        ApiError::Invalid(p) => p,
        _ => Vec::new(),
    };
    let r = results(&id, &answer);
    let apply = Some(apply_view(&r, fields));
    let page = Page {
        fields: SearchFields::from_request(&request, &state.register.areas()),
        error: None,
        apply_error: Some((message, problems)),
        results: Some((r, request, answer)),
        apply,
    };
    Ok(draw(&state, &session, page, status).await)
}
