//! Finance's page: a council's revenue and subsidy fund for a year, by ward
//! and year by year, as SVG charts with the same figures in tables, and the
//! year's CSV (one row per charge) to download. Read through the register's
//! ledger, the one `GET /v1/authorities/{code}/ledger` serves; staff see
//! their own council's, the admin any council's (`?authority=`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

use super::chart::{Row, bars};
use super::format::money;
use super::session::Session;
use super::{Chrome, ConsoleError, PageResult, render};
use crate::domain::access::Principal;
use crate::domain::ledger::csv;
use crate::http::applications::today;
use crate::http::{ApiError, AppState};

/// Years shown in the year-by-year chart: this many before the chosen one
/// and after it.
const YEARS_BEFORE: i32 = 2;
const YEARS_AFTER: i32 = 7;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/ledger", get(page))
        .route("/console/ledger.csv", get(download))
}

#[derive(Deserialize, Default)]
struct LedgerQuery {
    year: Option<i32>,
    authority: Option<String>,
}

/// The council whose ledger this user may read, or 403/404.
async fn council(state: &AppState, session: &Session, asked: Option<&str>) -> PageResult<String> {
    let code = match (&session.principal, asked) {
        (Principal::Staff { authority }, _) => authority.clone(),
        (Principal::Admin, Some(a)) => a.to_string(),
        (Principal::Admin, None) => {
            return Err(
                ApiError::invalid("authority", "name the council whose ledger to show").into(),
            );
        }
        (Principal::Operator { .. }, _) => {
            return Err(ApiError::Forbidden("ledgers are the council's staff's".into()).into());
        }
    };
    if !session.principal.can_manage_authority(&code) {
        return Err(ApiError::Forbidden("ledgers are the council's staff's".into()).into());
    }
    match state.register.authority(&code).await? {
        Some(_) => Ok(code),
        None => Err(ApiError::NotFound(format!("there is no council {code:?}")).into()),
    }
}

struct WardRow {
    ward: String,
    revenue: String,
    subsidy: String,
}

#[derive(Template)]
#[template(path = "console/ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    code: String,
    year: i32,
    years: Vec<(i32, bool)>,
    currency: String,
    application_fees: String,
    site_fees: String,
    rent: String,
    total: String,
    subsidy: String,
    ward_chart: String,
    year_chart: String,
    wards: Vec<WardRow>,
    by_year: Vec<(i32, String, String)>,
    csv_href: String,
    admin_query: String,
}

fn f(d: rust_decimal::Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<axum::extract::Query<LedgerQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let q = query.map_err(|e| ConsoleError::bad_form(&e.body_text()))?.0;
    let code = council(&state, &session, q.authority.as_deref()).await?;
    let year = q.year.unwrap_or_else(|| today().year());
    let (ledger, _) = state.register.ledger(&code, year, None).await?;
    let cur = ledger.currency.clone().unwrap_or_else(|| "GBP".into());
    let mut by_year = Vec::new();
    for y in (year - YEARS_BEFORE)..=(year + YEARS_AFTER) {
        let (l, _) = state.register.ledger(&code, y, Some(&cur)).await?;
        by_year.push((y, l.revenue.total, l.subsidy_fund));
    }
    let ward_name = |w: &Option<String>| w.clone().unwrap_or_else(|| "Outside any ward".into());
    let ward_chart = bars(
        &format!("Revenue and subsidy by ward, {year}"),
        &ledger
            .by_ward
            .iter()
            .map(|w| Row {
                label: ward_name(&w.ward),
                a: (f(w.revenue), money(w.revenue, &cur)),
                b: Some((f(w.subsidy), money(w.subsidy, &cur))),
            })
            .collect::<Vec<_>>(),
        ("Revenue", Some("Subsidy fund")),
    );
    let year_chart = bars(
        "Revenue and subsidy by year",
        &by_year
            .iter()
            .map(|(y, r, s)| Row {
                label: y.to_string(),
                a: (f(*r), money(*r, &cur)),
                b: Some((f(*s), money(*s, &cur))),
            })
            .collect::<Vec<_>>(),
        ("Revenue", Some("Subsidy fund")),
    );
    let admin_query = if session.principal.is_admin() {
        format!("&authority={code}")
    } else {
        String::new()
    };
    let p = LedgerPage {
        chrome: session.chrome("ledger"),
        code: code.clone(),
        year,
        years: ((year - 5)..=(year + 5)).map(|y| (y, y == year)).collect(),
        currency: cur.clone(),
        application_fees: money(ledger.revenue.application_fees, &cur),
        site_fees: money(ledger.revenue.site_fees, &cur),
        rent: money(ledger.revenue.rent, &cur),
        total: money(ledger.revenue.total, &cur),
        subsidy: money(ledger.subsidy_fund, &cur),
        ward_chart,
        year_chart,
        wards: ledger
            .by_ward
            .iter()
            .map(|w| WardRow {
                ward: ward_name(&w.ward),
                revenue: money(w.revenue, &cur),
                subsidy: money(w.subsidy, &cur),
            })
            .collect(),
        by_year: by_year
            .iter()
            .map(|(y, r, s)| (*y, money(*r, &cur), money(*s, &cur)))
            .collect(),
        csv_href: format!("/console/ledger.csv?year={year}{admin_query}"),
        admin_query,
    };
    Ok(render(&p))
}

async fn download(
    State(state): State<AppState>,
    session: Session,
    query: Result<axum::extract::Query<LedgerQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let q = query.map_err(|e| ConsoleError::bad_form(&e.body_text()))?.0;
    let code = council(&state, &session, q.authority.as_deref()).await?;
    let year = q.year.unwrap_or_else(|| today().year());
    let (_, charges) = state
        .register
        .ledger(&code, year, None)
        .await
        .map_err(ConsoleError::from)?;
    let mut r = (StatusCode::OK, csv(&charges)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{code}-ledger-{year}.csv\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
