//! Helpers for the application, document and ledger endpoints: one per
//! endpoint, plus a scene (a council with a fee schedule and lamp posts, and
//! two operators).

use reqwest::Method;
use serde_json::{Value, json};
use time::Date;

use crate::helpers::{ADMIN, TestApp};

/// Today (UTC), as the server sees it.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `d` plus `n` days.
pub fn plus_days(d: Date, n: i64) -> Date {
    d + time::Duration::days(n)
}

/// The FCC 2018 safe-harbour schedule shipped in `data/fees/`, with 3%
/// indexation and half the rent to the subsidy fund.
pub fn fcc_schedule() -> Value {
    let mut s: Value =
        serde_json::from_str(include_str!("../../data/fees/fcc-2018-safe-harbour.json")).unwrap();
    s["effective_from"] = json!("2019-01-14");
    s["annual_indexation"] = json!("0.03");
    s["subsidy_share"] = json!("0.50");
    s
}

/// A council with a published schedule, and operators.
pub struct Scene {
    /// The council's code.
    pub code: String,
    /// A staff token of the council.
    pub staff: String,
    /// Operator A's token (`acme`).
    pub acme: String,
    /// Operator B's token (`beta`).
    pub beta: String,
}

/// Sets up council `code` with the FCC schedule and two operators (made
/// once per app: pass `with_operators = false` for a second council).
pub async fn scene(app: &TestApp, code: &str, with_operators: bool) -> Scene {
    let staff = app.authority(code).await;
    let (s, b) = app
        .json(
            Method::PUT,
            &format!("/v1/authorities/{code}/fee-schedule"),
            Some(&staff),
            &fcc_schedule(),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (acme, beta) = if with_operators {
        (
            app.organisation("acme").await,
            app.organisation("beta").await,
        )
    } else {
        (String::new(), String::new())
    };
    Scene {
        code: code.to_string(),
        staff,
        acme,
        beta,
    }
}

/// Adds a lamp post of `code` with `capacity` and optional properties.
pub async fn lamp_post(app: &TestApp, staff: &str, code: &str, r: &str, capacity: u32) -> String {
    asset(
        app,
        staff,
        code,
        r,
        json!({"kind": "lamp_post", "capacity": capacity}),
    )
    .await
}

/// Adds an asset with the given properties (plus `ref`) at a point derived
/// from its ref.
pub async fn asset(app: &TestApp, staff: &str, code: &str, r: &str, props: Value) -> String {
    let n: f64 = r.bytes().map(f64::from).sum::<f64>() / 10_000.0;
    asset_at(app, staff, code, r, -2.35 + n, props).await
}

/// Adds an asset with the given properties (plus `ref`) at longitude `lon`
/// (latitude 53.39).
pub async fn asset_at(
    app: &TestApp,
    staff: &str,
    code: &str,
    r: &str,
    lon: f64,
    mut props: Value,
) -> String {
    props["ref"] = json!(r);
    let (s, b) = app
        .json(
            Method::POST,
            &format!("/v1/authorities/{code}/assets"),
            Some(staff),
            &json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, 53.39]},
                "properties": props}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

/// A complete application form for `assets` starting `start`.
pub fn form(assets: &[String], start: Date, term_years: u32) -> Value {
    json!({
        "assets": assets,
        "term_years": term_years,
        "start": iso(start),
        "equipment": {"technology": "5G NR", "bands": ["n78"], "antenna_volume_l": 20,
                      "cabinet": false, "power_w": 250},
        "deployment_plan": "Radios on existing columns, one visit per site.",
        "install_by": iso(plus_days(start, 90)),
        "contact": {"name": "Ada Planner", "email": "ada@example.net", "phone": "+44 161 555 0100"},
        "social_value": "Indoor coverage for the high street.",
    })
}

/// `POST /v1/applications`.
pub async fn submit(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    app.json(Method::POST, "/v1/applications", Some(token), body)
        .await
}

/// `GET /v1/applications/{id}`.
pub async fn fetch(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    app.get(&format!("/v1/applications/{id}"), Some(token))
        .await
}

/// `GET /v1/applications?...`.
pub async fn list(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    app.get(&format!("/v1/applications{query}"), Some(token))
        .await
}

/// `POST /v1/applications/{id}/review`.
pub async fn review(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    post_empty(app, token, &format!("/v1/applications/{id}/review")).await
}

/// `POST /v1/applications/{id}/decision`.
pub async fn decide(
    app: &TestApp,
    token: &str,
    id: &str,
    decision: &str,
    reason: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"decision": decision});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    app.json(
        Method::POST,
        &format!("/v1/applications/{id}/decision"),
        Some(token),
        &body,
    )
    .await
}

/// `POST /v1/applications/{id}/response`.
pub async fn respond(app: &TestApp, token: &str, id: &str, text: &str) -> (u16, Value) {
    app.json(
        Method::POST,
        &format!("/v1/applications/{id}/response"),
        Some(token),
        &json!({"response": text}),
    )
    .await
}

/// `POST /v1/applications/{id}/withdraw` with no body.
pub async fn withdraw(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    post_empty(app, token, &format!("/v1/applications/{id}/withdraw")).await
}

/// `POST /v1/applications/{id}/installation` for `assets`, today.
pub async fn install(app: &TestApp, token: &str, id: &str, assets: &[String]) -> (u16, Value) {
    let equipment: Vec<Value> = assets
        .iter()
        .map(|a| json!({"asset": a, "description": format!("radio on {a}")}))
        .collect();
    app.json(
        Method::POST,
        &format!("/v1/applications/{id}/installation"),
        Some(token),
        &json!({"carrier": "Acme Mobile", "technology": "5G NR", "installed_on": iso(today()),
                "contact_24h": {"name": "Acme NOC", "phone": "+44 800 555 0199"},
                "equipment": equipment}),
    )
    .await
}

/// `POST /v1/applications/{id}/termination`.
pub async fn terminate(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    app.json(
        Method::POST,
        &format!("/v1/applications/{id}/termination"),
        Some(token),
        &json!({"reason": "site decommissioned"}),
    )
    .await
}

/// `GET /v1/applications/{id}/events`.
pub async fn events(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    app.get(&format!("/v1/applications/{id}/events"), Some(token))
        .await
}

/// `POST /v1/applications/{id}/attachments?filename=` with raw bytes.
pub async fn attach(
    app: &TestApp,
    token: &str,
    id: &str,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    app.post_bytes(
        &format!("/v1/applications/{id}/attachments?filename={filename}"),
        Some(token),
        content_type,
        bytes,
    )
    .await
}

/// `GET /v1/applications/{id}/attachments`.
pub async fn attachments(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    app.get(&format!("/v1/applications/{id}/attachments"), Some(token))
        .await
}

/// `GET` a path as raw bytes: status, content type and body.
pub async fn get_bytes(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let ct = crate::helpers::content_type(&resp);
    (status, ct, resp.bytes().await.expect("body").to_vec())
}

/// `GET /v1/authorities/{code}/ledger?year=`.
pub async fn ledger(app: &TestApp, token: &str, code: &str, year: i32) -> (u16, Value) {
    app.get(
        &format!("/v1/authorities/{code}/ledger?year={year}"),
        Some(token),
    )
    .await
}

/// `GET /v1/authorities/{code}/subsidy` (no token).
pub async fn subsidy(app: &TestApp, code: &str) -> (u16, Value) {
    app.get(&format!("/v1/authorities/{code}/subsidy"), None)
        .await
}

/// `PUT /v1/authorities/{code}/application-settings`.
pub async fn set_settings(
    app: &TestApp,
    token: &str,
    code: &str,
    decision: u32,
    install: u32,
) -> (u16, Value) {
    app.json(
        Method::PUT,
        &format!("/v1/authorities/{code}/application-settings"),
        Some(token),
        &json!({"decision_period_days": decision, "install_by_days": install}),
    )
    .await
}

/// The asset's `free_capacity` as the index shows it.
pub async fn free_capacity(app: &TestApp, id: &str) -> i64 {
    let (s, b) = app.get(&format!("/v1/assets/{id}"), Some(ADMIN)).await;
    assert_eq!(s, 200, "{b}");
    b["properties"]["free_capacity"]
        .as_i64()
        .expect("free_capacity")
}

async fn post_empty(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A small but complete PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
      2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
      trailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

/// A 1×1 PNG.
pub fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    b.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    b
}
