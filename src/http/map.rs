//! `GET /map`: one self-contained page showing the vector tiles with
//! MapLibre GL JS over an OpenStreetMap basemap.
//!
//! The page holds no data: it asks for tiles like any client, so it works on
//! a `--public-read` server as it is, and elsewhere once a token is typed
//! in (sent as `Authorization: Bearer` to this service only).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

const PAGE: &str = include_str!("../../static/map.html");

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/map", get(page))
}

/// A web map of the assets and wards (MapLibre GL over OpenStreetMap).
#[utoipa::path(get, path = "/map", tag = "service", security(()),
    responses((status = 200, description = "HTML", content_type = "text/html")))]
async fn page() -> Response {
    let mut r = PAGE.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}
