//! Bad input never gets a 500, and every error is RFC 9457 problem+json
//! with `status`, `title` and `detail` (and `errors[].field` for a 422).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, TestApp, content_type, problem};
use crate::on_both_databases;
use streetcell::domain::asset::asset_id;

/// Like [`problem`] for a 422, also checking `errors[].field` names `field`.
async fn invalid(resp: reqwest::Response, field: &str) -> Value {
    let body = problem(resp, 422).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("a 422 has errors[]")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            e["field"].as_str().expect("errors[].field")
        })
        .collect();
    assert!(
        fields.contains(&field),
        "expected errors[].field {field:?}: {body}"
    );
    body
}

fn feature(asset_ref: &str, kind: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "geometry": geometry, "properties": {"ref": asset_ref, "kind": kind}})
}

fn point(lon: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lon, lat]})
}

/// Sends raw bytes with a content type and an optional token.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request")
}

async fn send_json(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    send_raw(
        app,
        method,
        path,
        Some(token),
        "application/json",
        serde_json::to_vec(body).expect("json"),
    )
    .await
}

/// An authority `alpha` with one asset; returns the staff token and its id.
async fn one_asset(app: &TestApp) -> (String, String) {
    let staff = app.authority("alpha").await;
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/alpha/assets",
            Some(&staff),
            &feature("A-1", "lamp_post", point(-2.35, 53.45)),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    (staff, b["id"].as_str().expect("id").to_string())
}

mod fuzz;
mod import_rows;
mod regressions;
mod shapes;
