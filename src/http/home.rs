//! `GET /` for people: a short HTML page (what the service is, the councils
//! it holds, links to the map, the API reference and the OGC endpoints, and
//! a quick start). GIS clients asking for JSON get the OGC landing page from
//! the same path (`ogc::landing` decides by `Accept` and `f`).
//!
//! The page is an askama template (`templates/home.html`), checked when the
//! crate compiles and escaped by default (council names are user data).

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{ApiResult, AppState};
use crate::store::Authority;

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    authorities: &'a [Authority],
    assets: usize,
    base: &'a str,
}

/// Whether a request for `/` wants the page for people: `f=html`, or an
/// `Accept` that names `text/html` (browsers) and no `f=json`.
pub fn wants_html(headers: &HeaderMap, f: Option<&str>) -> bool {
    match f {
        Some("html") => true,
        Some(_) => false,
        None => headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|m| m.trim().starts_with("text/html"))),
    }
}

/// The page, for a request whose scheme and host are `base`.
pub async fn page(state: &AppState, base: &str) -> ApiResult<Response> {
    let authorities = state.register.authorities().await?;
    let html = Home {
        authorities: &authorities,
        assets: state.register.assets().snapshot().len(),
        base,
    }
    .render()
    .map_err(|e| super::ApiError::Internal(format!("rendering the home page: {e}")))?;
    let mut r = html.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html_and_gis_clients_json() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(wants_html(&h, None));
        assert!(!wants_html(&h, Some("json")));
        let mut gdal = HeaderMap::new();
        gdal.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_html(&gdal, None));
        assert!(!wants_html(&HeaderMap::new(), None));
        assert!(wants_html(&HeaderMap::new(), Some("html")));
    }

    #[test]
    fn council_names_are_escaped() {
        let a = [Authority {
            code: "x".into(),
            name: "<script>alert(1)</script>".into(),
        }];
        let html = Home {
            authorities: &a,
            assets: 0,
            base: "http://h",
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    }
}
