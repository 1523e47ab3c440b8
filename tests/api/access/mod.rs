//! Who may do what: every role and authority boundary of the API.
//!
//! Two councils (`alpha`, `beta`) with one asset each, staff tokens for both,
//! an operator token and the bootstrap admin token. A table of requests says
//! which principal gets which status; the forbidden rows run first, then the
//! data is checked to be untouched, then the allowed rows run.
//!
//! Layout: the scene and the table runner are here; `unauthenticated.rs`
//! (no or a bad token), `roles.rs` (roles and authorities, and writes to
//! another council's missing asset), `tokens.rs` (who may issue which
//! token), `public_read.rs` (`--public-read`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, Db, TestApp, content_type, fresh_database, problem, start};
use crate::on_both_databases;
use streetcell::domain::asset::asset_id;

/// A body a request of the table sends.
#[derive(Clone)]
pub(super) enum Body {
    None,
    Json(Value),
    Csv(&'static str),
    GeoJson(Value),
}

/// One row of the table.
pub(super) struct Case {
    pub(super) who: &'static str,
    pub(super) token: Option<String>,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) body: Body,
    pub(super) expect: u16,
}

pub(super) fn point_feature(asset_ref: &str, lon: f64, lat: f64, height: f64) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"ref": asset_ref, "kind": "lamp_post", "height_m": height}
    })
}

pub(super) fn ward_layer() -> Value {
    json!({
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"name": "Ward 1"},
            "geometry": {"type": "Polygon", "coordinates": [[
                [-2.40, 53.40], [-2.30, 53.40], [-2.30, 53.50], [-2.40, 53.50], [-2.40, 53.40]
            ]]}
        }]
    })
}

/// An import body. It gives a height: imports without one hit a separate
/// PostgreSQL bug (see `errors::writes_after_imports_without_heights_never_500`).
pub(super) const CSV: &str = "ref,kind,lon,lat,height_m\nIMP-1,lamp_post,-2.3500,53.4500,7\n";

/// Sends a request with an optional bearer token (sent verbatim as the
/// whole `Authorization` value when it does not look like a token we made).
pub(super) async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Body,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Csv(text) => req.header("content-type", "text/csv").body(*text),
        Body::GeoJson(v) => req
            .header("content-type", "application/geo+json")
            .body(serde_json::to_vec(v).expect("json")),
    };
    req.send().await.expect("request")
}

/// Runs the rows in order, collecting every mismatch before failing.
pub(super) async fn run_table(app: &TestApp, cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let resp = request(app, c.method.clone(), &c.path, c.token.as_deref(), &c.body).await;
        let status = resp.status().as_u16();
        let ct = content_type(&resp);
        let www = resp.headers().get("www-authenticate").cloned();
        let text = resp.text().await.unwrap_or_default();
        if status != c.expect {
            failures.push(format!(
                "{} {} as {}: expected {}, got {status}: {text}",
                c.method, c.path, c.who, c.expect
            ));
            continue;
        }
        if status >= 400 {
            if !ct.starts_with("application/problem+json") {
                failures.push(format!(
                    "{} {} as {}: {status} is {ct:?}, not problem+json",
                    c.method, c.path, c.who
                ));
            }
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if body["status"] != status || !body["detail"].is_string() || !body["title"].is_string()
            {
                failures.push(format!(
                    "{} {} as {}: bad problem {text}",
                    c.method, c.path, c.who
                ));
            }
        }
        if status == 401 && www.as_ref().and_then(|v| v.to_str().ok()) != Some("Bearer") {
            failures.push(format!(
                "{} {} as {}: 401 without WWW-Authenticate: Bearer ({www:?})",
                c.method, c.path, c.who
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Two authorities with an asset each, and tokens for everyone.
pub(super) struct World {
    pub(super) staff_a: String,
    pub(super) staff_b: String,
    pub(super) operator: String,
    /// alpha's asset.
    pub(super) a1: String,
    /// beta's asset (ref B-1).
    pub(super) b1: String,
}

pub(super) async fn world(app: &TestApp) -> World {
    let staff_a = app.authority("alpha").await;
    let staff_b = app.authority("beta").await;
    let operator = app.organisation("ee").await;
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/alpha/assets",
            Some(&staff_a),
            &point_feature("A-1", -2.35, 53.45, 8.0),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let a1 = b["id"].as_str().expect("id").to_string();
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/beta/assets",
            Some(&staff_b),
            &point_feature("B-1", -2.30, 53.46, 8.0),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let b1 = b["id"].as_str().expect("id").to_string();
    assert_eq!(a1, asset_id("alpha", "A-1"));
    assert_eq!(b1, asset_id("beta", "B-1"));
    World {
        staff_a,
        staff_b,
        operator,
        a1,
        b1,
    }
}

mod public_read;
mod roles;
mod tokens;
mod unauthenticated;
