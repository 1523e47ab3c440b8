//! The asset register for a council's staff: search and a paged list, one
//! asset's edit form, and importing a file with the per-row report.
//!
//! An edit is a merge patch built from the form and applied by the rule of
//! `PATCH /v1/assets/{id}` (`http::assets::patched_details`) through
//! `Register::modify`, conditional on the revision the form was drawn at
//! (the API's `If-Match`): if someone changed the asset meanwhile, nothing
//! is written and the form comes back with the current values. Imports go
//! through `register::import_rows` like `POST /v1/authorities/{code}/imports`.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::format::words;
use super::session::{Posted, Session, check_csrf};
use super::{Chrome, ConsoleError, PageResult, render};
use crate::domain::access::Principal;
use crate::domain::asset::{Asset, AssetKind, AssetStatus, InvalidField, PowerSupply};
use crate::http::{ApiError, AppState};
use crate::import::{Mapping, SourceCrs};
use crate::register::{ImportTarget, import_rows};
use crate::store::StoreError;

/// Rows per page.
const PAGE_SIZE: usize = 50;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/assets", get(list))
        .route("/console/assets/import", post(import))
        .route("/console/assets/{id}", get(edit_page).post(save))
        // Registers are large; the import form takes what the API takes.
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::http::MAX_IMPORT_BODY,
        ))
}

fn own_council(session: &Session) -> PageResult<String> {
    match &session.principal {
        Principal::Staff { authority } => Ok(authority.clone()),
        _ => Err(
            ApiError::Forbidden("the asset register pages are for a council's staff".into()).into(),
        ),
    }
}

struct AssetRow {
    href: String,
    asset_ref: String,
    kind: String,
    ward: String,
    status: String,
    free: String,
}

#[derive(Template)]
#[template(path = "console/assets.html")]
struct ListPage {
    chrome: Chrome,
    code: String,
    q: String,
    kinds: Vec<(&'static str, String, bool)>,
    rows: Vec<AssetRow>,
    matched: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    report: Option<ImportView>,
}

struct ImportView {
    inserted: usize,
    updated: usize,
    rejected: Vec<(u64, String)>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    page: Option<usize>,
}

fn matches(a: &Asset, q: &str, kind: Option<AssetKind>) -> bool {
    if kind.is_some_and(|k| k != a.details.kind) {
        return false;
    }
    q.is_empty()
        || a.details.asset_ref.to_lowercase().contains(q)
        || a.id.to_lowercase().contains(q)
        || a.placement
            .ward
            .as_deref()
            .is_some_and(|w| w.to_lowercase().contains(q))
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    query: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let q = query.map_err(|e| ConsoleError::bad_form(&e.body_text()))?.0;
    list_page(&state, &session, q, None, StatusCode::OK)
}

fn list_page(
    state: &AppState,
    session: &Session,
    q: ListQuery,
    report: Option<ImportView>,
    status: StatusCode,
) -> PageResult<Response> {
    let code = own_council(session)?;
    let text = q.q.clone().unwrap_or_default().trim().to_lowercase();
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(
            k.parse::<AssetKind>()
                .map_err(|e| ConsoleError::from(ApiError::invalid("kind", e.to_string())))?,
        ),
    };
    // A walk over the snapshot (slot order is id order, so pages are
    // stable); a console page of one council's register, not a hot path.
    let snap = state.register.assets().snapshot();
    let found: Vec<_> = snap
        .page(0, snap.len())
        .into_iter()
        .filter(|l| *l.asset.authority == *code && matches(&l.asset, &text, kind))
        .collect();
    let pages = found.len().div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let link = |p: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", q.q.as_deref().unwrap_or(""));
        s.append_pair("kind", q.kind.as_deref().unwrap_or(""));
        s.append_pair("page", &p.to_string());
        format!("/console/assets?{}", s.finish())
    };
    let rows = found
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|l| {
            let a = &l.asset;
            AssetRow {
                href: format!("/console/assets/{}", a.id),
                asset_ref: a.details.asset_ref.clone(),
                kind: words(a.details.kind.as_str()),
                ward: a.placement.ward.as_deref().unwrap_or_default().to_string(),
                status: words(a.details.status.as_str()),
                free: format!("{} of {}", a.free_capacity(), a.details.capacity),
            }
        })
        .collect();
    let p = ListPage {
        chrome: session.chrome("assets"),
        code,
        q: q.q.clone().unwrap_or_default(),
        kinds: AssetKind::ALL
            .iter()
            .map(|k| (k.as_str(), words(k.as_str()), Some(*k) == kind))
            .collect(),
        rows,
        matched: found.len(),
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        report,
    };
    let mut r = render(&p);
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Template)]
#[template(path = "console/asset_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    asset_ref: String,
    kind: String,
    ward: String,
    revision: i64,
    f: Fields,
    statuses: Vec<(&'static str, String)>,
    powers: Vec<(&'static str, String)>,
    notice: Option<String>,
    error: Option<(String, Vec<InvalidField>)>,
}

/// The editable fields, as text in the form.
#[derive(Debug, Clone, Default, Deserialize)]
struct Fields {
    height_m: String,
    capacity: String,
    load_rating_kg: String,
    last_inspected: String,
    install_year: String,
    status: String,
    power_supply: String,
    photo_url: String,
}

impl Fields {
    fn of(a: &Asset) -> Fields {
        let d = &a.details;
        let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        Fields {
            height_m: num(d.height_m),
            capacity: d.capacity.to_string(),
            load_rating_kg: num(d.load_rating_kg),
            last_inspected: d
                .last_inspected
                .map(crate::domain::asset::format_date)
                .unwrap_or_default(),
            install_year: d.install_year.map(|y| y.to_string()).unwrap_or_default(),
            status: d.status.as_str().to_string(),
            power_supply: d.power_supply.as_str().to_string(),
            photo_url: d.photo_url.as_deref().unwrap_or_default().to_string(),
        }
    }

    /// The merge patch the form stands for: an empty optional field clears
    /// it; numbers that do not parse are named.
    fn patch(&self) -> Result<Value, Vec<InvalidField>> {
        let mut problems = Vec::new();
        let mut number = |name: &str, v: &str, required: bool| -> Value {
            let v = v.trim();
            if v.is_empty() {
                if required {
                    problems.push(InvalidField::new(name, "is required"));
                }
                return Value::Null;
            }
            match v.parse::<f64>() {
                Ok(n) if n.fract() == 0.0 && n.abs() < 1e15 => json!(n as i64),
                Ok(n) => json!(n),
                Err(_) => {
                    problems.push(InvalidField::new(name, format!("{v:?} is not a number")));
                    Value::Null
                }
            }
        };
        let height = number("height_m", &self.height_m, false);
        let capacity = number("capacity", &self.capacity, true);
        let load = number("load_rating_kg", &self.load_rating_kg, false);
        let year = number("install_year", &self.install_year, false);
        let text = |v: &str| {
            let v = v.trim();
            if v.is_empty() { Value::Null } else { json!(v) }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(json!({"properties": {
            "height_m": height,
            "capacity": capacity,
            "load_rating_kg": load,
            "last_inspected": text(&self.last_inspected),
            "install_year": year,
            "status": text(&self.status),
            "power_supply": text(&self.power_supply),
            "photo_url": text(&self.photo_url),
        }}))
    }
}

/// The asset `id` of the session's council (404 when absent, 403 when
/// another council's).
fn owned(state: &AppState, session: &Session, id: &str) -> PageResult<Asset> {
    own_council(session)?;
    let snap = state.register.assets().snapshot();
    let Some(l) = snap.get(id) else {
        return Err(ApiError::NotFound(format!("asset {id:?} not found")).into());
    };
    if !session.principal.can_manage_authority(&l.asset.authority) {
        return Err(ApiError::Forbidden("this asset is another council's".into()).into());
    }
    Ok(l.asset.clone())
}

fn edit_view(
    session: &Session,
    a: &Asset,
    f: Fields,
    notice: Option<String>,
    error: Option<(String, Vec<InvalidField>)>,
    status: StatusCode,
) -> Response {
    let p = EditPage {
        chrome: session.chrome("assets"),
        id: a.id.clone(),
        asset_ref: a.details.asset_ref.clone(),
        kind: words(a.details.kind.as_str()),
        ward: a.placement.ward.as_deref().unwrap_or("No ward").to_string(),
        revision: a.revision,
        f,
        statuses: AssetStatus::ALL
            .iter()
            .map(|s| (s.as_str(), words(s.as_str())))
            .collect(),
        powers: PowerSupply::ALL
            .iter()
            .map(|s| (s.as_str(), words(s.as_str())))
            .collect(),
        notice,
        error,
    };
    let mut r = render(&p);
    *r.status_mut() = status;
    r
}

#[derive(Deserialize, Default)]
struct EditQuery {
    saved: Option<i64>,
}

async fn edit_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<EditQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let a = owned(&state, &session, &id)?;
    let notice = query
        .ok()
        .and_then(|q| q.0.saved)
        .map(|r| format!("Saved (revision {r})."));
    Ok(edit_view(
        &session,
        &a,
        Fields::of(&a),
        notice,
        None,
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
struct EditForm {
    /// Text: numbers do not survive `flatten` in URL-encoded forms.
    revision: Option<String>,
    #[serde(flatten)]
    fields: Fields,
}

async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<EditForm>,
) -> PageResult<Response> {
    let session = posted.session;
    let a = owned(&state, &session, &id)?;
    let form = posted.form;
    let revision = form
        .revision
        .as_deref()
        .and_then(|r| r.trim().parse::<i64>().ok());
    let patch = match form.fields.patch() {
        Ok(p) => p,
        Err(fields) => {
            return Ok(edit_view(
                &session,
                &a,
                form.fields,
                None,
                Some(("Nothing was saved.".into(), fields)),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let result = state
        .register
        .modify(&id, revision, |stored| {
            crate::http::assets::patched_details(stored, &patch)
        })
        .await;
    match result {
        Ok(saved) => Ok(
            Redirect::to(&format!("/console/assets/{id}?saved={}", saved.revision)).into_response(),
        ),
        Err(ApiError::PreconditionFailed(_)) => {
            // Someone saved first: show what is stored now.
            let now = owned(&state, &session, &id)?;
            Ok(edit_view(
                &session,
                &now,
                Fields::of(&now),
                None,
                Some((
                    "Someone changed this asset since you opened it, so nothing was saved. The \
                     form now shows the stored values; make your change again."
                        .into(),
                    Vec::new(),
                )),
                StatusCode::PRECONDITION_FAILED,
            ))
        }
        Err(ApiError::Invalid(fields)) => Ok(edit_view(
            &session,
            &a,
            form.fields,
            None,
            Some(("Nothing was saved.".into(), fields)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/assets/import`: a multipart form with `csrf`, `crs` and
/// the `file` (CSV or GeoJSON, told by its name).
async fn import(
    State(state): State<AppState>,
    session: Session,
    mut multipart: Multipart,
) -> PageResult<Response> {
    let code = own_council(&session)?;
    let mut csrf = None;
    let mut crs = None;
    let mut file: Option<(String, axum::body::Bytes)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ConsoleError::bad_form(&e.body_text()))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("crs") => crs = field.text().await.ok(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ConsoleError::bad_form(&e.body_text()))?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    // The token is checked before the file is looked at.
    check_csrf(&session, csrf.as_deref())?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(ApiError::invalid("file", "choose a CSV or GeoJSON file").into());
    };
    let mapping = Mapping {
        crs: match crs.as_deref() {
            None | Some("") => SourceCrs::Wgs84,
            Some(c) => c
                .parse::<SourceCrs>()
                .map_err(|e| ConsoleError::from(ApiError::invalid("crs", e.to_string())))?,
        },
        ..Mapping::default()
    };
    let is_csv = name.to_ascii_lowercase().ends_with(".csv");
    let rows = tokio::task::block_in_place(|| {
        if is_csv {
            crate::import::parse_csv(&bytes, &mapping)
        } else {
            crate::import::parse_geojson(&bytes, &mapping)
        }
    })
    .map_err(|e| ConsoleError::from(ApiError::invalid("file", e.to_string())))?;
    let report = import_rows(
        ImportTarget::Register(&state.register),
        &code,
        rows,
        &|_| {},
    )
    .await
    .map_err(|e: StoreError| ConsoleError::from(e))?;
    list_page(
        &state,
        &session,
        ListQuery::default(),
        Some(ImportView {
            inserted: report.inserted,
            updated: report.updated,
            rejected: report
                .rejected
                .into_iter()
                .map(|r| (r.line, r.reason))
                .collect(),
        }),
        StatusCode::OK,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_a_merge_patch() {
        let f = Fields {
            height_m: "8.5".into(),
            capacity: "2".into(),
            load_rating_kg: "".into(),
            last_inspected: "2024-09-27".into(),
            install_year: " 1991 ".into(),
            status: "available".into(),
            power_supply: "continuous".into(),
            photo_url: "".into(),
        };
        let p = f.patch().unwrap();
        assert_eq!(p["properties"]["height_m"], 8.5);
        assert_eq!(p["properties"]["capacity"], 2);
        assert_eq!(p["properties"]["install_year"], 1991);
        assert!(p["properties"]["load_rating_kg"].is_null());
        assert!(p["properties"]["photo_url"].is_null());
        let bad = Fields {
            capacity: "".into(),
            height_m: "tall".into(),
            ..f
        };
        let fields: Vec<String> = bad
            .patch()
            .unwrap_err()
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(fields, ["height_m", "capacity"]);
    }
}
