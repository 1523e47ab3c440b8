//! The console: server-rendered pages under `/console` for council staff,
//! operators and residents, served by the same binary with no front-end
//! build step and no third-party code (our own small CSS and JS, maps drawn
//! here as inline SVG from the service's own index and boundary layers, so
//! every page works with no internet at all).
//!
//! Pages go through the same register and access rules as the JSON API:
//! they call the register's scoped reads and its application workflow with
//! the principal the session's token resolves to, never the store.
//!
//! One module per screen, each with its own `router()`:
//! - [`session`]: sign in (token → session cookie), sign out, the
//!   [`session::Session`] extractor and the CSRF-checked [`session::Posted`] form.
//! - [`queue`]: the staff review queue (an operator sees its own list).
//! - [`application`]: one application, its map and facts, and the decision forms.
//! - [`subsidy`]: the residents' page of a council's connectivity subsidy.
//! - [`ledger`]: revenue and subsidy by ward and year, and the CSV.
//! - [`fees`]: the fee schedule in effect, its history, publishing a version.
//! - [`assets`]: the asset register: search, edit one asset, import a file.
//! - [`finder`]: the operators' site finder and "apply for these sites"
//!   ([`finder_form`]: its forms as API request bodies).
//! - [`svgmap`] and [`chart`]: the SVG map and chart drawing (pure).
//! - [`format`]: money and dates in the council's locale.

pub mod application;
pub mod assets;
pub mod chart;
pub mod fees;
pub mod finder;
pub mod finder_form;
pub mod format;
pub mod ledger;
pub mod queue;
pub mod session;
pub mod subsidy;
pub mod svgmap;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::domain::access::Principal;
use crate::domain::asset::InvalidField;
use crate::http::{ApiError, AppState};
use session::Session;

const CSS: &str = include_str!("../../static/console/console.css");
const JS: &str = include_str!("../../static/console/console.js");

/// Routes of the console.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/static/console.css", get(css))
        .route("/console/static/console.js", get(js))
        .merge(session::router())
        .merge(queue::router())
        .merge(application::router())
        .merge(subsidy::router())
        .merge(ledger::router())
        .merge(fees::router())
        .merge(assets::router())
        .merge(finder::router())
        .layer(axum::middleware::from_fn(session::renew_cookie))
}

/// `/console`: each role's first page.
async fn home(session: Session) -> Redirect {
    match session.principal {
        Principal::Operator { .. } => Redirect::to("/console/applications"),
        _ => Redirect::to("/console/queue"),
    }
}

fn asset_response(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

async fn css() -> Response {
    asset_response(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset_response(JS, "text/javascript; charset=utf-8")
}

/// One link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Target.
    pub href: String,
    /// Text.
    pub label: &'static str,
    /// The page being shown is this one (`aria-current`).
    pub current: bool,
}

/// What every page shows around its content: who is signed in, the
/// navigation for their role, and the CSRF token for the sign-out form.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// "Staff of trafford", empty when nobody is signed in.
    pub who: String,
    /// The session's CSRF token (empty when signed out).
    pub csrf: String,
    /// Navigation links.
    pub nav: Vec<NavLink>,
}

impl Chrome {
    /// Chrome of a page seen without signing in.
    pub fn public(_current: &str) -> Chrome {
        Chrome {
            who: String::new(),
            csrf: String::new(),
            nav: Vec::new(),
        }
    }

    /// Chrome of a signed-in page; `current` is the nav key of the page.
    pub fn signed_in(p: &Principal, csrf: &str, current: &str) -> Chrome {
        let link = |href: String, label, key: &str| NavLink {
            href,
            label,
            current: key == current,
        };
        let (who, nav) = match p {
            Principal::Admin => (
                "Administrator".to_string(),
                vec![link("/console/queue".into(), "Review queue", "queue")],
            ),
            Principal::Staff { authority } => (
                format!("Estates staff, {authority}"),
                vec![
                    link("/console/queue".into(), "Review queue", "queue"),
                    link("/console/assets".into(), "Asset register", "assets"),
                    link("/console/fees".into(), "Fee schedule", "fees"),
                    link("/console/ledger".into(), "Ledger", "ledger"),
                    link(
                        format!("/console/public/{authority}/subsidy"),
                        "Public subsidy page",
                        "subsidy",
                    ),
                ],
            ),
            Principal::Operator { organisation } => (
                format!("Operator, {organisation}"),
                vec![
                    link("/console/applications".into(), "Our applications", "queue"),
                    link("/console/finder".into(), "Site finder", "finder"),
                ],
            ),
        };
        Chrome {
            who,
            csrf: csrf.to_string(),
            nav,
        }
    }
}

/// Renders a template as an HTML page (a template that fails to render is a
/// bug: logged, and a plain 500).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response()
        }
    }
}

/// Why a console page could not be shown, rendered as a page.
#[derive(Debug)]
pub struct ConsoleError {
    status: StatusCode,
    title: &'static str,
    message: String,
    fields: Vec<InvalidField>,
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: &'a str,
    fields: &'a [InvalidField],
}

impl ConsoleError {
    /// A form without (or with a stale) CSRF token.
    pub fn csrf() -> ConsoleError {
        ConsoleError {
            status: StatusCode::FORBIDDEN,
            title: "This form has expired",
            message: "The form did not carry this session's security token. Go back, reload the \
                      page and try again."
                .into(),
            fields: Vec::new(),
        }
    }

    /// A form that could not be read.
    pub fn bad_form(detail: &str) -> ConsoleError {
        ConsoleError {
            status: StatusCode::BAD_REQUEST,
            title: "The form could not be read",
            message: detail.to_string(),
            fields: Vec::new(),
        }
    }
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        let status = e.status();
        let (title, message, fields) = match e {
            ApiError::Invalid(fields) => (
                "Some fields need attention",
                "Nothing was changed.".to_string(),
                fields,
            ),
            ApiError::NotFound(m) => ("Not found", m, Vec::new()),
            ApiError::Forbidden(m) => ("Not allowed", m, Vec::new()),
            ApiError::Unauthorized => (
                "Sign in again",
                "Your session has ended.".into(),
                Vec::new(),
            ),
            ApiError::Conflict(m) | ApiError::ConflictWith(m, _) => {
                ("That could not be done now", m, Vec::new())
            }
            ApiError::Internal(_) => (
                "Something went wrong",
                "The service could not complete this. It has been logged.".to_string(),
                Vec::new(),
            ),
            other => ("That could not be done", other.to_string(), Vec::new()),
        };
        ConsoleError {
            status,
            title,
            message,
            fields,
        }
    }
}

impl From<crate::register::ApplicationError> for ConsoleError {
    fn from(e: crate::register::ApplicationError) -> Self {
        ConsoleError::from(ApiError::from(e))
    }
}

impl From<crate::store::StoreError> for ConsoleError {
    fn from(e: crate::store::StoreError) -> Self {
        ConsoleError::from(ApiError::from(e))
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(message = %self.message, "console page failed");
        }
        let page = ErrorPage {
            chrome: Chrome::public("error"),
            title: self.title,
            message: &self.message,
            fields: &self.fields,
        };
        let mut r = render(&page);
        *r.status_mut() = self.status;
        r
    }
}

/// Result alias of console handlers.
pub type PageResult<T = Response> = Result<T, ConsoleError>;
