//! One application: its sites on a map over the council's wards and
//! conservation areas, the facts that decide each site, the quote, the
//! operator's equipment, plan and documents, the audit trail, and the forms
//! for the next steps (review, approve, reject, request information;
//! for the operator: respond, withdraw).
//!
//! Everything is read through the register's scoped calls with the
//! session's principal (an application the user may not see is a 404, as in
//! the API), and every step goes through `Register::act_on_application`,
//! the call `POST /v1/applications/{id}/decision` makes, after the same
//! form parsers. Which forms are shown is asked of the domain's rules
//! (`permission`, `transition`), so the page offers only what would work.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::format::{date, metres, money, timestamp, words};
use super::queue::{Clock, clock};
use super::session::{Posted, Session, check_csrf};
use super::svgmap::{Marker, Shape, site_map};
use super::{Chrome, ConsoleError, PageResult, render};
use crate::domain::application::{
    Action, DecisionRequest, Permission, ReasonRequest, ResponseRequest, permission, transition,
};
use crate::domain::area::AreaLayer;
use crate::domain::asset::InvalidField;
use crate::http::AppState;
use crate::http::applications::today;
use crate::index::areas::AreaIndex;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/applications/{id}", get(page))
        .route("/console/applications/{id}/actions", post(act))
        .route(
            "/console/applications/{id}/documents/{document}",
            get(download),
        )
        .route(
            "/console/applications/{id}/documents",
            post(attach).layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// One site as the page shows it.
pub struct SiteView {
    n: usize,
    anchor: String,
    asset: String,
    asset_ref: String,
    kind: String,
    ward: String,
    conservation: bool,
    fee_zone: String,
    height: String,
    power: String,
    load: String,
    inspected: String,
    age: String,
    photo: Option<String>,
    annual: String,
}

/// A step the user may take now.
pub struct ActionForm {
    action: &'static str,
    label: String,
    /// `reason` (decisions, withdrawal) or `response` (answering a request).
    field: &'static str,
    field_label: &'static str,
    required: bool,
    hint: &'static str,
    danger: bool,
}

struct Line {
    what: String,
    asset: String,
    amount: String,
}

struct EventView {
    at: String,
    who: String,
    action: String,
    change: String,
    reason: String,
}

struct DocView {
    name: String,
    href: String,
    kind: String,
    size: String,
    description: String,
    uploaded: String,
}

#[derive(Template)]
#[template(path = "console/application.html")]
struct ApplicationPage {
    chrome: Chrome,
    id: String,
    authority: String,
    organisation: String,
    status: &'static str,
    status_text: String,
    clock: Clock,
    submitted: String,
    due: String,
    decided: Option<String>,
    start: String,
    term_years: u32,
    install_by: String,
    notice: Option<String>,
    error: Option<(String, Vec<InvalidField>)>,
    map: String,
    sites: Vec<SiteView>,
    currency: String,
    lines: Vec<Line>,
    years: Vec<(u32, String, String)>,
    application_fee: String,
    one_off_total: String,
    rent_total: String,
    subsidy_total: String,
    term_total: String,
    schedule_version: i64,
    technology: String,
    bands: String,
    antenna: String,
    cabinet: &'static str,
    power_w: String,
    plan: String,
    social_value: String,
    contact: String,
    documents: Vec<DocView>,
    events: Vec<EventView>,
    actions: Vec<ActionForm>,
    can_attach: bool,
    csrf: String,
}

/// The forms for the steps the domain allows this principal now.
fn forms(
    principal: &crate::domain::access::Principal,
    app: &crate::domain::application::Application,
) -> Vec<ActionForm> {
    let steps: [(Action, &str, &str, &str, bool, &str, bool); 6] = [
        (Action::Review, "Start review", "", "", false, "", false),
        (
            Action::Approve,
            "Approve",
            "reason",
            "Reason (optional)",
            false,
            "Makes the concession agreement on the quote below.",
            false,
        ),
        (
            Action::RequestInfo,
            "Request information",
            "reason",
            "What is needed",
            true,
            "Pauses the decision clock until the operator answers.",
            false,
        ),
        (
            Action::Reject,
            "Reject",
            "reason",
            "Reason for rejecting",
            true,
            "Releases the sites. The operator sees this reason.",
            true,
        ),
        (
            Action::Respond,
            "Send response",
            "response",
            "Your response",
            true,
            "Restarts the council's decision clock.",
            false,
        ),
        (
            Action::Withdraw,
            "Withdraw application",
            "reason",
            "Reason (optional)",
            false,
            "Releases the sites. This cannot be undone.",
            true,
        ),
    ];
    steps
        .into_iter()
        .filter(|(a, ..)| {
            permission(principal, &app.parties(), *a) == Permission::Allowed
                && transition(app.status, *a).is_ok()
        })
        .map(
            |(a, label, field, field_label, required, hint, danger)| ActionForm {
                action: a.as_str(),
                label: label.to_string(),
                field,
                field_label,
                required,
                hint,
                danger,
            },
        )
        .collect()
}

/// What the page says after a step was taken.
fn done_message(step: &str) -> Option<&'static str> {
    Some(match step {
        "review" => "Review started: the application is under review.",
        "approve" => "Approved. The concession agreement is made.",
        "reject" => "Rejected. The sites are released.",
        "request_info" => {
            "Information requested. The decision clock is paused until the operator answers."
        }
        "respond" => "Response sent. The decision clock runs again.",
        "withdraw" => "Withdrawn. The sites are released.",
        "attach" => "Document attached.",
        "submit" => "Submitted. The sites are held while the council decides.",
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
struct PageQuery {
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let done = query.ok().and_then(|q| q.0.done);
    let notice = done.as_deref().and_then(done_message).map(str::to_string);
    show(&state, &session, &id, notice, None, StatusCode::OK).await
}

async fn show(
    state: &AppState,
    session: &Session,
    id: &str,
    notice: Option<String>,
    error: Option<(String, Vec<InvalidField>)>,
    status: StatusCode,
) -> PageResult<Response> {
    let principal = &session.principal;
    let record = state.register.application_record(principal, id).await?;
    let events = state.register.application_events(principal, id).await?;
    let documents = state.register.documents(principal, id).await?;
    let app = &record.application;
    let today = today();
    let q = &app.quote;
    let cur = q.currency.as_str();

    // Sites with the facts from the register as it stands now.
    let snap = state.register.assets().snapshot();
    let annual_of = |asset: &str| {
        q.lines
            .iter()
            .filter(|l| l.is_annual() && l.asset_id() == Some(asset))
            .map(|l| l.amount())
            .sum::<rust_decimal::Decimal>()
    };
    let mut markers = Vec::new();
    let mut sites = Vec::new();
    for (i, s) in app.sites.iter().enumerate() {
        let n = i + 1;
        let anchor = format!("site-{n}");
        let current = snap.get(&s.asset).map(|l| l.asset.clone());
        let d = current.as_ref().map(|a| &a.details);
        if let Some(p) = d.and_then(|d| d.anchor()) {
            markers.push(Marker {
                label: n.to_string(),
                href: format!("#{anchor}"),
                title: format!(
                    "Site {n}: {} {}",
                    words(s.kind.as_str()),
                    d.map_or("", |d| d.asset_ref.as_str())
                ),
                lon: p.x(),
                lat: p.y(),
            });
        }
        sites.push(SiteView {
            n,
            anchor,
            asset: s.asset.clone(),
            asset_ref: d.map_or_else(
                || "(no longer in the register)".into(),
                |d| d.asset_ref.clone(),
            ),
            kind: words(s.kind.as_str()),
            ward: s.ward.clone().unwrap_or_else(|| "No ward".into()),
            conservation: current
                .as_ref()
                .is_some_and(|a| a.placement.in_conservation_area),
            fee_zone: s.fee_zone.clone().unwrap_or_else(|| "None".into()),
            height: d
                .and_then(|d| d.height_m)
                .map_or_else(|| "Not recorded".into(), metres),
            power: words(s.power_supply.as_str()),
            load: d
                .and_then(|d| d.load_rating_kg)
                .map_or_else(|| "Not recorded".into(), |v| format!("{v:.0} kg")),
            inspected: d
                .and_then(|d| d.last_inspected)
                .map_or_else(|| "Not recorded".into(), date),
            age: s.install_year.map_or_else(
                || "Not recorded".into(),
                |y| {
                    let age = today.year() - y;
                    format!(
                        "{age} year{} (installed {y})",
                        if age == 1 { "" } else { "s" }
                    )
                },
            ),
            // Only web links: a `javascript:` URL in an imported register
            // must not become a link.
            photo: d
                .and_then(|d| d.photo_url.as_deref().map(str::to_string))
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            annual: money(annual_of(&s.asset), cur),
        });
    }

    // The council's wards and conservation areas around the sites.
    let areas = state.register.areas();
    let env = {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for m in &markers {
            x0 = x0.min(m.lon);
            y0 = y0.min(m.lat);
            x1 = x1.max(m.lon);
            y1 = y1.max(m.lat);
        }
        // About 2 km around, which covers the drawn view.
        let pad = 0.02;
        rstar::AABB::from_corners([x0 - pad, y0 - pad], [x1 + pad, y1 + pad])
    };
    let map = site_map(
        &format!(
            "Map of the {} sites of application {}",
            app.sites.len(),
            app.id
        ),
        &markers,
        &shapes(
            &areas,
            &app.authority,
            AreaLayer::Ward,
            env,
            markers.is_empty(),
        ),
        &shapes(
            &areas,
            &app.authority,
            AreaLayer::ConservationArea,
            env,
            markers.is_empty(),
        ),
    );

    let lines = q
        .lines
        .iter()
        .map(|l| Line {
            what: serde_json::to_value(l)
                .ok()
                .and_then(|v| v["type"].as_str().map(words))
                .unwrap_or_default(),
            asset: l
                .asset_id()
                .and_then(|a| app.sites.iter().position(|s| s.asset == a))
                .map_or_else(String::new, |i| format!("Site {}", i + 1)),
            amount: money(l.amount(), cur),
        })
        .collect();
    let f = &app.details;
    let p = ApplicationPage {
        chrome: session.chrome("queue"),
        id: app.id.clone(),
        authority: app.authority.clone(),
        organisation: app.organisation.clone(),
        status: app.status.as_str(),
        status_text: words(app.status.as_str()),
        clock: clock(app.status, &app.clock, today),
        submitted: date(app.clock.submitted_on),
        due: date(app.clock.due_on(today)),
        decided: app.decided_on.map(date),
        start: date(app.start),
        term_years: app.term_years,
        install_by: date(app.install_by),
        notice,
        error,
        map,
        sites,
        currency: q.currency.clone(),
        lines,
        years: q
            .years
            .iter()
            .map(|y| (y.year, money(y.rent, cur), money(y.subsidy, cur)))
            .collect(),
        application_fee: money(q.application_fee, cur),
        one_off_total: money(q.one_off_total, cur),
        rent_total: money(q.rent_total, cur),
        subsidy_total: money(q.subsidy_total, cur),
        term_total: money(q.term_total, cur),
        schedule_version: q.schedule_version,
        technology: f.equipment.technology.clone(),
        bands: f.equipment.bands.join(", "),
        antenna: format!("{} litres", f.equipment.antenna_volume_l),
        cabinet: if f.equipment.cabinet { "Yes" } else { "No" },
        power_w: format!("{} W", f.equipment.power_w),
        plan: f.deployment_plan.clone(),
        social_value: f.social_value.clone(),
        contact: format!(
            "{}, {}, {}",
            f.contact.name, f.contact.email, f.contact.phone
        ),
        documents: documents
            .iter()
            .map(|d| DocView {
                name: d.filename.clone(),
                href: format!("/console/applications/{}/documents/{}", app.id, d.id),
                kind: d.content_type.clone(),
                size: format!("{:.1} KB", d.size_bytes as f64 / 1024.0),
                description: d.description.clone().unwrap_or_default(),
                uploaded: format!("{} by {}", timestamp(&d.uploaded_at), d.uploaded_by),
            })
            .collect(),
        events: events
            .iter()
            .map(|e| EventView {
                at: timestamp(&e.at),
                who: format!("{} ({})", e.actor.name, e.actor.role),
                action: words(&e.action),
                change: match (e.from, e.to) {
                    (Some(a), Some(b)) if a != b => {
                        format!("{} → {}", words(a.as_str()), words(b.as_str()))
                    }
                    (None, Some(b)) => words(b.as_str()),
                    _ => String::new(),
                },
                reason: e.reason.clone().unwrap_or_default(),
            })
            .collect(),
        actions: forms(principal, app),
        can_attach: principal.can_act_for_organisation(&app.organisation) && app.status.is_open(),
        csrf: session.csrf.clone(),
    };
    let mut r = render(&p);
    *r.status_mut() = status;
    Ok(r)
}

/// The areas of one of `authority`'s layers near the sites (none when no
/// site could be placed, so an empty map is not drawn over the borough).
fn shapes<'a>(
    areas: &'a AreaIndex,
    authority: &str,
    layer: AreaLayer,
    env: rstar::AABB<[f64; 2]>,
    no_sites: bool,
) -> Vec<Shape<'a>> {
    if no_sites {
        return Vec::new();
    }
    areas
        .in_envelope(authority, layer, env)
        .map(|a| Shape {
            name: &a.name,
            geometry: &a.geometry,
        })
        .collect()
}

/// The fields of an action form.
#[derive(Deserialize)]
struct ActionFields {
    action: Option<String>,
    reason: Option<String>,
    response: Option<String>,
}

/// Text fields left empty count as not given.
fn given(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// The action and its text, parsed by the same rules as the JSON API.
fn parse(fields: ActionFields) -> Result<(Action, Option<String>), Vec<InvalidField>> {
    let reason = given(fields.reason);
    match fields.action.as_deref() {
        Some("review") => Ok((Action::Review, None)),
        Some(d @ ("approve" | "reject" | "request_info")) => DecisionRequest {
            decision: Some(d.to_string()),
            reason,
        }
        .parse(),
        Some("respond") => ResponseRequest {
            response: given(fields.response),
        }
        .parse()
        .map(|r| (Action::Respond, Some(r))),
        Some("withdraw") => ReasonRequest { reason }
            .parse(false)
            .map(|r| (Action::Withdraw, r)),
        Some(other) => Err(vec![InvalidField::new(
            "action",
            format!("{other:?} is not a step this page takes"),
        )]),
        None => Err(vec![InvalidField::new("action", "is required")]),
    }
}

async fn act(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ActionFields>,
) -> PageResult<Response> {
    let session = posted.session;
    let (action, reason) = match parse(posted.form) {
        Ok(v) => v,
        Err(fields) => {
            return show(
                &state,
                &session,
                &id,
                None,
                Some((
                    "Some fields need attention; nothing was changed.".into(),
                    fields,
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state
        .register
        .act_on_application(&session.principal, &id, action, reason.as_deref(), today())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/console/applications/{id}?done={}",
            action.as_str()
        ))
        .into_response()),
        Err(e) => {
            let e = crate::http::ApiError::from(e);
            let status = e.status();
            match e {
                // Hidden applications stay hidden; failures are failures.
                crate::http::ApiError::NotFound(_) | crate::http::ApiError::Internal(_) => {
                    Err(e.into())
                }
                crate::http::ApiError::Invalid(fields) => {
                    show(
                        &state,
                        &session,
                        &id,
                        None,
                        Some((
                            "Some fields need attention; nothing was changed.".into(),
                            fields,
                        )),
                        status,
                    )
                    .await
                }
                other => {
                    show(
                        &state,
                        &session,
                        &id,
                        None,
                        Some((other.to_string(), Vec::new())),
                        status,
                    )
                    .await
                }
            }
        }
    }
}

/// `POST /console/applications/{id}/documents`: the operator attaches a
/// document (multipart: `csrf`, `file`, `description`), through the
/// register's `attach_document` like the API's upload: its type is told
/// from its bytes and must match what the browser declared.
async fn attach(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> PageResult<Response> {
    let limit = state.settings.max_attachment_bytes;
    let mut csrf = None;
    let mut description = None;
    let mut file: Option<(String, String, Vec<u8>)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ConsoleError::bad_form(&e.body_text()))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("description") => description = field.text().await.ok(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                let kind = field.content_type().unwrap_or("").to_string();
                // Read up to the limit, no further.
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| ConsoleError::bad_form(&e.body_text()))?
                {
                    if bytes.len() + chunk.len() > limit {
                        return Err(crate::http::ApiError::PayloadTooLarge(limit).into());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((name, kind, bytes));
            }
            _ => {}
        }
    }
    check_csrf(&session, csrf.as_deref())?;
    let Some((name, kind, bytes)) = file.filter(|f| !f.2.is_empty()) else {
        return show(
            &state,
            &session,
            &id,
            None,
            Some((
                "Nothing was attached.".into(),
                vec![InvalidField::new("file", "choose a file to attach")],
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state
        .register
        .attach_document(
            &session.principal,
            &id,
            &name,
            description.as_deref().filter(|d| !d.trim().is_empty()),
            &kind,
            &bytes,
        )
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/applications/{id}?done=attach")).into_response())
        }
        Err(e) => {
            let e = crate::http::ApiError::from(e);
            let status = e.status();
            match e {
                crate::http::ApiError::NotFound(_) | crate::http::ApiError::Internal(_) => {
                    Err(e.into())
                }
                crate::http::ApiError::Invalid(fields) => {
                    show(
                        &state,
                        &session,
                        &id,
                        None,
                        Some(("Nothing was attached.".into(), fields)),
                        status,
                    )
                    .await
                }
                other => {
                    show(
                        &state,
                        &session,
                        &id,
                        None,
                        Some((other.to_string(), Vec::new())),
                        status,
                    )
                    .await
                }
            }
        }
    }
}

/// A document of an application the user may see, as a download.
async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((id, document)): Path<(String, String)>,
) -> PageResult<Response> {
    let (info, bytes) = state
        .register
        .document(&session.principal, &id, &document)
        .await?;
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&info.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let safe: String = info
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(action: &str, reason: &str) -> ActionFields {
        ActionFields {
            action: Some(action.into()),
            reason: Some(reason.into()),
            response: None,
        }
    }

    #[test]
    fn forms_parse_as_the_api_does() {
        assert_eq!(
            parse(fields("approve", "")).unwrap(),
            (Action::Approve, None)
        );
        let err = parse(fields("reject", "  ")).unwrap_err();
        assert_eq!(err[0].field, "reason");
        assert_eq!(
            parse(fields("request_info", "Photos of site 2")).unwrap(),
            (Action::RequestInfo, Some("Photos of site 2".into()))
        );
        assert_eq!(parse(fields("lapse", "")).unwrap_err()[0].field, "action");
        let respond = ActionFields {
            action: Some("respond".into()),
            reason: None,
            response: Some("Attached.".into()),
        };
        assert_eq!(
            parse(respond).unwrap(),
            (Action::Respond, Some("Attached.".into()))
        );
    }
}
