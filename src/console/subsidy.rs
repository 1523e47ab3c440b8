//! For residents, no sign-in: each council's page of how much concession
//! money went into its connectivity subsidy fund, by ward (a choropleth map
//! and a bar chart, with the same figures in a table) and by year. Built
//! from the register's public subsidy summary, the one
//! `GET /v1/authorities/{code}/subsidy` serves, so it carries nothing about
//! operators, sites or agreements.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::chart::{Row, bars};
use super::format::{date, money};
use super::svgmap::{CLASS_COLOURS, NONE_COLOUR, Region, Shape, choropleth};
use super::{Chrome, ConsoleError, PageResult, render};
use crate::domain::area::AreaLayer;
use crate::http::applications::today;
use crate::http::{ApiError, AppState};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/public", get(councils))
        .route("/console/public/{code}/subsidy", get(page))
}

#[derive(Template)]
#[template(path = "console/councils.html")]
struct CouncilsPage {
    chrome: Chrome,
    councils: Vec<(String, String)>,
}

async fn councils(State(state): State<AppState>) -> PageResult<Response> {
    let councils = state
        .register
        .authorities()
        .await?
        .into_iter()
        .map(|a| (format!("/console/public/{}/subsidy", a.code), a.name))
        .collect();
    Ok(render(&CouncilsPage {
        chrome: Chrome::public("subsidy"),
        councils,
    }))
}

struct WardRow {
    anchor: String,
    name: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "console/subsidy.html")]
struct SubsidyPage {
    chrome: Chrome,
    code: String,
    council: String,
    as_of: String,
    total: String,
    map: String,
    has_map: bool,
    ward_chart: String,
    year_chart: String,
    wards: Vec<WardRow>,
    years: Vec<(i32, String)>,
    legend: Vec<(&'static str, String)>,
}

/// Anchor of a ward's table row.
fn anchor(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("ward-{slug}")
}

async fn page(State(state): State<AppState>, Path(code): Path<String>) -> PageResult<Response> {
    let Some(council) = state.register.authority(&code).await? else {
        return Err(ApiError::NotFound(format!("there is no council {code:?}")).into());
    };
    let summary = state
        .register
        .subsidy_summary(&code, None, today())
        .await
        .map_err(ConsoleError::from)?;
    let cur = summary.currency.clone().unwrap_or_else(|| "GBP".into());

    // All years together, ward by ward; every ward of the council appears,
    // those that received nothing at zero.
    let mut by_ward: BTreeMap<Option<String>, Decimal> = BTreeMap::new();
    let areas = state.register.areas();
    let wards: Vec<_> = areas
        .areas()
        .iter()
        .filter(|a| a.authority == code && a.layer == AreaLayer::Ward)
        .collect();
    for w in &wards {
        by_ward.insert(Some(w.name.clone()), Decimal::ZERO);
    }
    for y in &summary.years {
        for w in &y.by_ward {
            *by_ward.entry(w.ward.clone()).or_default() += w.subsidy;
        }
    }
    let value = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let regions: Vec<Region<'_>> = wards
        .iter()
        .map(|w| {
            let v = by_ward
                .get(&Some(w.name.clone()))
                .copied()
                .unwrap_or_default();
            Region {
                shape: Shape {
                    name: &w.name,
                    geometry: &w.geometry,
                },
                value: value(v),
                text: money(v, &cur),
                href: format!("#{}", anchor(&w.name)),
            }
        })
        .collect();
    let max = regions.iter().map(|r| r.value).fold(0.0, f64::max);
    let legend = std::iter::once((NONE_COLOUR, "Nothing yet".to_string()))
        .chain(CLASS_COLOURS.iter().enumerate().map(|(i, c)| {
            let n = CLASS_COLOURS.len() as f64;
            let lo = max * i as f64 / n;
            let hi = max * (i + 1) as f64 / n;
            let m = |v: f64| money(Decimal::from_f64_retain(v).unwrap_or_default(), &cur);
            (*c, format!("{} to {}", m(lo), m(hi)))
        }))
        .collect();
    let mut ward_rows: Vec<(String, Decimal)> = by_ward
        .iter()
        .map(|(k, v)| (k.clone().unwrap_or_else(|| "Outside any ward".into()), *v))
        .collect();
    ward_rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let ward_chart = bars(
        &format!("Subsidy by ward, {}", council.name),
        &ward_rows
            .iter()
            .map(|(n, v)| Row {
                label: n.clone(),
                a: (value(*v), money(*v, &cur)),
                b: None,
            })
            .collect::<Vec<_>>(),
        ("Subsidy", None),
    );
    let year_chart = bars(
        &format!("Subsidy by year, {}", council.name),
        &summary
            .years
            .iter()
            .map(|y| Row {
                label: y.year.to_string(),
                a: (value(y.subsidy_fund), money(y.subsidy_fund, &cur)),
                b: None,
            })
            .collect::<Vec<_>>(),
        ("Subsidy", None),
    );
    let as_of = time::Date::parse(
        &summary.as_of,
        &time::format_description::well_known::Iso8601::DATE,
    )
    .map_or(summary.as_of.clone(), date);
    let p = SubsidyPage {
        chrome: Chrome::public("subsidy"),
        code: code.clone(),
        council: council.name.clone(),
        as_of,
        total: money(summary.total, &cur),
        has_map: !regions.is_empty(),
        map: choropleth(
            &format!("Map of subsidy by ward, {}", council.name),
            &regions,
        ),
        ward_chart,
        year_chart,
        wards: ward_rows
            .iter()
            .map(|(n, v)| WardRow {
                anchor: anchor(n),
                name: n.clone(),
                amount: money(*v, &cur),
            })
            .collect(),
        years: summary
            .years
            .iter()
            .map(|y| (y.year, money(y.subsidy_fund, &cur)))
            .collect(),
        legend,
    };
    Ok(render(&p))
}
