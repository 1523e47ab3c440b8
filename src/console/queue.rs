//! The review queue: the applications a signed-in user may see, through the
//! register's scoped list (staff their council's, an operator its own, the
//! admin all), with status, operator, number of sites and the days left on
//! the decision clock (overdue ones highlighted); filters, sorting and paging.
//! Staff open it at `/console/queue`, operators at `/console/applications`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use time::Date;

use super::format::{date, words};
use super::session::Session;
use super::{Chrome, ConsoleError, PageResult, render};
use crate::domain::access::Principal;
use crate::domain::application::{ApplicationStatus, DecisionClock, days_between};
use crate::http::AppState;
use crate::http::applications::today;
use crate::register::{ApplicationFilter, ApplicationSort};

/// Rows per page.
pub const PAGE_SIZE: u32 = 25;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/queue", get(queue))
        .route("/console/applications", get(queue))
}

/// The query string of the queue (every field optional; unknown values are
/// refused by name).
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    operator: Option<String>,
    overdue: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<u32>,
}

/// The decision clock as the queue shows it.
#[derive(Debug, Clone)]
pub struct Clock {
    /// `12 days left`, `3 days overdue`, `Paused`, or `Decided`.
    pub text: String,
    /// Past the due date.
    pub overdue: bool,
    /// Seven days or fewer left.
    pub soon: bool,
    /// Stopped while information is awaited.
    pub paused: bool,
}

/// The clock of an application in `status` on `today`.
pub fn clock(status: ApplicationStatus, c: &DecisionClock, today: Date) -> Clock {
    if c.is_overdue(status, today) {
        let days = days_between(c.due(), today);
        return Clock {
            text: format!("{days} day{} overdue", plural(days)),
            overdue: true,
            soon: false,
            paused: false,
        };
    }
    if status == ApplicationStatus::InfoRequested {
        return Clock {
            text: "Paused: information requested".into(),
            overdue: false,
            soon: false,
            paused: true,
        };
    }
    if status.clock_runs() {
        let days = days_between(today, c.due_on(today));
        return Clock {
            text: if days == 0 {
                "Due today".into()
            } else {
                format!("{days} day{} left", plural(days))
            },
            overdue: false,
            soon: days <= 7,
            paused: false,
        };
    }
    Clock {
        text: "Decided".into(),
        overdue: false,
        soon: false,
        paused: false,
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One row of the queue.
pub struct QueueRow {
    id: String,
    href: String,
    operator: String,
    status: &'static str,
    status_text: String,
    sites: usize,
    submitted: String,
    due: String,
    clock: Clock,
}

/// A sortable column header.
pub struct Column {
    label: &'static str,
    href: String,
    /// `ascending`, `descending` or `none` (`aria-sort`).
    aria_sort: &'static str,
    numeric: bool,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    chrome: Chrome,
    title: &'static str,
    staff_view: bool,
    rows: Vec<QueueRow>,
    columns: Vec<Column>,
    statuses: Vec<(&'static str, String, bool)>,
    operator: String,
    overdue: bool,
    matched: u64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    sort: &'static str,
    dir: &'static str,
}

const SORTS: [(&str, ApplicationSort); 5] = [
    ("submitted", ApplicationSort::Submitted),
    ("due", ApplicationSort::DecisionDue),
    ("operator", ApplicationSort::Organisation),
    ("status", ApplicationSort::Status),
    ("sites", ApplicationSort::Sites),
];

fn href(base: &str, q: &QueueQuery, sort: &str, dir: &str, page: u32) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(v) = q.status.as_deref().filter(|v| !v.is_empty()) {
        s.append_pair("status", v);
    }
    if let Some(v) = q.operator.as_deref().filter(|v| !v.is_empty()) {
        s.append_pair("operator", v);
    }
    if q.overdue.is_some() {
        s.append_pair("overdue", "on");
    }
    s.append_pair("sort", sort);
    s.append_pair("dir", dir);
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    format!("{base}?{}", s.finish())
}

async fn queue(
    State(state): State<AppState>,
    session: Session,
    uri: axum::http::Uri,
    query: Result<axum::extract::Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let axum::extract::Query(q) = query.map_err(|e| ConsoleError::bad_form(&e.body_text()))?;
    let staff_view = !matches!(session.principal, Principal::Operator { .. });
    let base = uri.path().to_string();
    let mut problems = Vec::new();
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => s
            .parse::<ApplicationStatus>()
            .map_err(|m| problems.push(crate::domain::asset::InvalidField::new("status", m)))
            .ok(),
    };
    let (sort_name, sort) = match q.sort.as_deref() {
        None | Some("") => SORTS[0],
        Some(s) => SORTS
            .iter()
            .copied()
            .find(|(n, _)| *n == s)
            .unwrap_or_else(|| {
                problems.push(crate::domain::asset::InvalidField::new(
                    "sort",
                    "expected submitted, due, operator, status or sites",
                ));
                SORTS[0]
            }),
    };
    let dir: &'static str = match q.dir.as_deref() {
        Some("desc") => "desc",
        None | Some("") | Some("asc") => "asc",
        Some(_) => {
            problems.push(crate::domain::asset::InvalidField::new(
                "dir",
                "expected asc or desc",
            ));
            "asc"
        }
    };
    if !problems.is_empty() {
        return Err(crate::http::ApiError::Invalid(problems).into());
    }
    let page = q.page.unwrap_or(1).max(1);
    let today = today();
    let operator = q
        .operator
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let found = state
        .register
        .applications(
            &session.principal,
            &ApplicationFilter {
                status,
                overdue: q.overdue.is_some(),
                limit: PAGE_SIZE,
                offset: u64::from(page - 1) * u64::from(PAGE_SIZE),
                organisation: if staff_view { operator.clone() } else { None },
                sort,
                descending: dir == "desc",
                ..ApplicationFilter::default()
            },
            today,
        )
        .await?;
    let pages = u32::try_from(found.number_matched.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let rows = found
        .applications
        .iter()
        .map(|a| QueueRow {
            id: a.id.clone(),
            href: format!("/console/applications/{}", a.id),
            operator: a.organisation.clone(),
            status: a.status.as_str(),
            status_text: words(a.status.as_str()),
            sites: a.sites.len(),
            submitted: date(a.clock.submitted_on),
            due: if a.status.clock_runs() || a.status == ApplicationStatus::InfoRequested {
                date(a.clock.due_on(today))
            } else {
                "—".into()
            },
            clock: clock(a.status, &a.clock, today),
        })
        .collect();
    let columns = [
        ("Submitted", "submitted", false),
        ("Operator", "operator", false),
        ("Status", "status", false),
        ("Sites", "sites", true),
        ("Decision due", "due", false),
    ]
    .into_iter()
    .filter(|(_, key, _)| staff_view || *key != "operator")
    .map(|(label, key, numeric)| {
        let current = key == sort_name;
        let next_dir = if current && dir == "asc" {
            "desc"
        } else {
            "asc"
        };
        Column {
            label,
            href: href(&base, &q, key, next_dir, 1),
            aria_sort: match (current, dir) {
                (false, _) => "none",
                (true, "desc") => "descending",
                (true, _) => "ascending",
            },
            numeric,
        }
    })
    .collect();
    let statuses = ApplicationStatus::ALL
        .iter()
        .map(|s| (s.as_str(), words(s.as_str()), Some(*s) == status))
        .collect();
    let p = QueuePage {
        chrome: session.chrome("queue"),
        title: if staff_view {
            "Review queue"
        } else {
            "Our applications"
        },
        staff_view,
        rows,
        columns,
        statuses,
        operator: operator.unwrap_or_default(),
        overdue: q.overdue.is_some(),
        matched: found.number_matched,
        page,
        pages,
        prev: (page > 1).then(|| href(&base, &q, sort_name, dir, page - 1)),
        next: (page < pages).then(|| href(&base, &q, sort_name, dir, page + 1)),
        sort: sort_name,
        dir,
    };
    Ok(render(&p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_clock_counts_days_left_and_overdue() {
        let c = DecisionClock::start(date!(2026 - 01 - 01), 56);
        assert_eq!(c.due(), date!(2026 - 02 - 26));
        let t = |today| clock(ApplicationStatus::UnderReview, &c, today);
        assert_eq!(t(date!(2026 - 02 - 16)).text, "10 days left");
        assert!(!t(date!(2026 - 02 - 16)).soon);
        assert!(t(date!(2026 - 02 - 19)).soon);
        assert_eq!(t(date!(2026 - 02 - 25)).text, "1 day left");
        assert_eq!(t(date!(2026 - 02 - 26)).text, "Due today");
        let late = t(date!(2026 - 03 - 01));
        assert_eq!(late.text, "3 days overdue");
        assert!(late.overdue);
        let paused = clock(
            ApplicationStatus::InfoRequested,
            &c.pause(date!(2026 - 02 - 01)),
            date!(2026 - 03 - 10),
        );
        assert!(paused.paused && !paused.overdue);
        assert_eq!(
            clock(ApplicationStatus::Approved, &c, date!(2026 - 03 - 10)).text,
            "Decided"
        );
    }
}
