//! The fee schedule page: the version in effect today laid out for people,
//! every published version (history), and a form to publish a new version
//! (the schedule document, pre-filled with the current one). Publication goes
//! through `Register::publish_schedule` after the same parsing and
//! validation as `PUT /v1/authorities/{code}/fee-schedule`, conditional on
//! the version the form was read at (the API's `If-Match`), so two people
//! publishing from the same page cannot overwrite each other unseen.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::format::{date, money, timestamp, words};
use super::session::{Posted, Session};
use super::{Chrome, PageResult, render};
use crate::domain::access::Principal;
use crate::domain::asset::InvalidField;
use crate::domain::fee_versions::PublishedSchedule;
use crate::domain::fees::{self, FeeSchedule};
use crate::http::applications::today;
use crate::http::{ApiError, AppState};
use crate::store::StoreError;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/fees", get(page))
        .route("/console/fees/publish", post(publish))
}

fn own_council(session: &Session) -> PageResult<String> {
    match &session.principal {
        Principal::Staff { authority } => Ok(authority.clone()),
        _ => {
            Err(ApiError::Forbidden("the fee schedule page is for a council's staff".into()).into())
        }
    }
}

struct Version {
    version: i64,
    effective: String,
    published: String,
    in_effect: bool,
}

#[derive(Template)]
#[template(path = "console/fees.html")]
struct FeesPage {
    chrome: Chrome,
    code: String,
    current: Option<Current>,
    history: Vec<Version>,
    latest: i64,
    draft: String,
    notice: Option<String>,
    error: Option<(String, Vec<InvalidField>)>,
}

struct Current {
    version: i64,
    effective: String,
    currency: String,
    application_fee: String,
    rents: Vec<(String, String)>,
    zones: Vec<(String, String)>,
    power: Vec<(String, String)>,
    survey: String,
    shared_discount: String,
    indexation: String,
    subsidy_share: String,
}

fn percent(d: rust_decimal::Decimal) -> String {
    format!("{}%", (d * rust_decimal::Decimal::from(100)).normalize())
}

fn current_of(p: &PublishedSchedule) -> Current {
    let s = &p.schedule;
    let cur = s.currency.as_str();
    Current {
        version: p.version,
        effective: date(s.effective_from),
        currency: s.currency.clone(),
        application_fee: format!(
            "{} for up to {} site{}, then {} a site",
            money(s.application_fee.base, cur),
            s.application_fee.sites_included,
            if s.application_fee.sites_included == 1 {
                ""
            } else {
                "s"
            },
            money(s.application_fee.per_additional_site, cur)
        ),
        rents: s
            .annual_rent
            .iter()
            .map(|(k, v)| (words(k), money(*v, cur)))
            .collect(),
        zones: s
            .zone_multipliers
            .iter()
            .map(|(k, v)| (k.clone(), format!("× {}", v.normalize())))
            .collect(),
        power: s
            .power_annual
            .iter()
            .map(|(k, v)| (words(k), money(*v, cur)))
            .collect(),
        survey: s.structural_survey.as_ref().map_or_else(
            || "None".into(),
            |x| {
                format!(
                    "{} for structures older than {} years",
                    money(x.fee, cur),
                    x.if_older_than_years
                )
            },
        ),
        shared_discount: money(s.shared_site_discount, cur),
        indexation: percent(s.annual_indexation),
        subsidy_share: percent(s.subsidy_share),
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    draft: Option<String>,
    notice: Option<String>,
    error: Option<(String, Vec<InvalidField>)>,
    status: StatusCode,
) -> PageResult<Response> {
    let code = own_council(session)?;
    let history = state.register.fee_schedule_history(&code);
    let in_effect = state.register.schedule_in_effect(&code, today());
    let latest = history.last().map_or(0, |p| p.version);
    let draft = draft.unwrap_or_else(|| {
        history
            .last()
            .and_then(|p| serde_json::to_string_pretty(&p.schedule).ok())
            .unwrap_or_default()
    });
    let p = FeesPage {
        chrome: session.chrome("fees"),
        code,
        current: in_effect.as_ref().map(current_of),
        history: history
            .iter()
            .rev()
            .map(|p| Version {
                version: p.version,
                effective: date(p.schedule.effective_from),
                published: timestamp(&p.published_at),
                in_effect: in_effect.as_ref().is_some_and(|e| e.version == p.version),
            })
            .collect(),
        latest,
        draft,
        notice,
        error,
    };
    let mut r = render(&p);
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize, Default)]
struct PageQuery {
    published: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<axum::extract::Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let notice = query
        .ok()
        .and_then(|q| q.0.published)
        .map(|v| format!("Version {v} published."));
    show(&state, &session, None, notice, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PublishForm {
    schedule: Option<String>,
    /// The newest version when the form was drawn (`If-Match`).
    latest: Option<i64>,
}

async fn publish(
    State(state): State<AppState>,
    posted: Posted<PublishForm>,
) -> PageResult<Response> {
    let session = posted.session;
    let code = own_council(&session)?;
    let text = posted.form.schedule.unwrap_or_default();
    let parsed: Result<FeeSchedule, Vec<InvalidField>> = serde_json::from_str(&text)
        .map_err(|e| vec![InvalidField::new("schedule", e.to_string())])
        .and_then(|s: FeeSchedule| fees::validate(&s).map(|_| s).map_err(|f| vec![f]));
    let schedule = match parsed {
        Ok(s) => s,
        Err(fields) => {
            return show(
                &state,
                &session,
                Some(text),
                None,
                Some(("The schedule was not published.".into(), fields)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    // Version 0 stands for "none yet", as an absent If-Match would.
    let expect = posted.form.latest.filter(|v| *v > 0);
    match state
        .register
        .publish_schedule(&code, &schedule, expect)
        .await
    {
        Ok(p) => {
            Ok(Redirect::to(&format!("/console/fees?published={}", p.version)).into_response())
        }
        Err(StoreError::Stale { current }) => {
            show(
                &state,
                &session,
                Some(text),
                None,
                Some((
                    format!(
                        "Version {current} was published since you opened this page; nothing was \
                         published. Review it below, then publish again."
                    ),
                    Vec::new(),
                )),
                StatusCode::PRECONDITION_FAILED,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
