//! The OpenAPI document says exactly what the server accepts (issue 15,
//! defect 8): every JSON request body is closed (`additionalProperties:
//! false`) and the server refuses an unknown member with a 422 naming it,
//! at the top level and in nested objects, while every member the document
//! declares is known to the server; the closed sets the document
//! enumerates are the ones the server accepts; and the statuses every
//! operation can answer are declared.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, Db, TestApp, spawn_app};

/// Request bodies left open on purpose: a boundary-layer upload is a GeoJSON
/// FeatureCollection, whose foreign members RFC 7946 allows.
const OPEN_BODIES: [&str; 1] = ["post /v1/authorities/{code}/areas"];

/// The member no schema declares.
const UNKNOWN: &str = "zz_not_a_member";

async fn document(app: &TestApp) -> Value {
    app.client
        .get(app.url("/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `schema` with a `$ref` (or a single-`allOf` wrapper of one) resolved.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let target = schema["$ref"]
        .as_str()
        .or_else(|| schema["allOf"][0]["$ref"].as_str());
    match target {
        Some(r) => doc
            .pointer(r.strip_prefix('#').unwrap())
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => schema,
    }
}

/// The JSON request body schema of an operation, if it takes one.
fn json_body<'a>(doc: &'a Value, op: &'a Value) -> Option<&'a Value> {
    let content = op.pointer("/requestBody/content")?.as_object()?;
    let (_, media) = content
        .iter()
        .find(|(m, _)| *m == "application/json" || m.ends_with("+json"))?;
    Some(resolve(doc, &media["schema"]))
}

/// A fixture the bodies can be sent to: a council with one asset (an
/// absent one would be a 404 before the patch is read).
async fn fixture() -> (TestApp, String) {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    app.authority("north").await;
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/north/assets",
            Some(ADMIN),
            &json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.3, 53.4]},
                "properties": {"ref": "LP1", "kind": "lamp_post"}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    (app, id)
}

fn concrete(path: &str, asset: &str) -> String {
    path.replace("{code}", "north").replace(
        "{id}",
        if path.starts_with("/v1/assets/") {
            asset
        } else {
            "absent"
        },
    )
}

/// Sends `body` to the operation with the admin token and the media type
/// the document names.
async fn send(app: &TestApp, method: &str, url: &str, media: &str, body: &Value) -> (u16, Value) {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let resp = app
        .client
        .request(m, app.url(url))
        .bearer_auth(ADMIN)
        .header("content-type", media)
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn named_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_closed_body_refuses_an_unknown_member_naming_it_and_knows_every_declared_one() {
    let (app, asset) = fixture().await;
    let doc = document(&app).await;
    let (mut closed, mut nested, mut declared) = (0, 0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = json_body(&doc, op) else {
                continue;
            };
            let media = op["requestBody"]["content"]
                .as_object()
                .unwrap()
                .keys()
                .find(|m| *m == "application/json" || m.ends_with("+json"))
                .unwrap()
                .clone();
            let label = format!("{method} {path}");
            if OPEN_BODIES.contains(&label.as_str()) {
                continue;
            }
            assert_eq!(
                schema["additionalProperties"],
                Value::Bool(false),
                "{label}: the body's schema is not closed: {schema}"
            );
            let url = concrete(path, &asset);
            // An unknown member at the top level: 422 naming it.
            let (s, b) = send(&app, method, &url, &media, &json!({UNKNOWN: 1})).await;
            assert_eq!(s, 422, "{label} with an unknown member: {b}");
            assert!(
                named_fields(&b).iter().any(|f| f == UNKNOWN),
                "{label}: the 422 does not name {UNKNOWN}: {b}"
            );
            closed += 1;
            for (name, property) in schema["properties"].as_object().unwrap() {
                // Every declared member is one the server knows.
                let (s, b) = send(&app, method, &url, &media, &json!({name: null})).await;
                assert!(
                    !b.to_string().contains("unknown field"),
                    "{label}: {name} is declared but unknown to the server ({s}): {b}"
                );
                declared += 1;
                // And a closed nested object refuses an unknown member too,
                // named by its path.
                let (inner, value, expected) = if property["type"] == "array" {
                    (
                        resolve(&doc, &property["items"]),
                        json!([{UNKNOWN: 1}]),
                        format!("{name}[0].{UNKNOWN}"),
                    )
                } else {
                    (
                        resolve(&doc, property),
                        json!({UNKNOWN: 1}),
                        format!("{name}.{UNKNOWN}"),
                    )
                };
                if inner["additionalProperties"] != Value::Bool(false) {
                    continue;
                }
                let (s, b) = send(&app, method, &url, &media, &json!({name: value})).await;
                assert_eq!(s, 422, "{label} with {expected}: {b}");
                assert!(
                    named_fields(&b).contains(&expected),
                    "{label}: the 422 does not name {expected}: {b}"
                );
                nested += 1;
            }
        }
    }
    assert!(
        closed >= 15 && nested >= 8 && declared >= 80,
        "{closed} closed bodies, {nested} nested objects, {declared} members"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sets_and_statuses_in_the_document_are_the_servers() {
    let (app, _) = fixture().await;
    let doc = document(&app).await;
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))["schema"]
            .clone()
    };
    let list = |v: &Value| -> Vec<String> {
        v["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum in {v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };

    // Application states: each one filters (200), anything else is refused.
    let states = list(&param("/v1/applications", "get", "status"));
    assert_eq!(states.len(), 9, "{states:?}");
    for s in &states {
        let (code, b) = app
            .get(&format!("/v1/applications?status={s}"), Some(ADMIN))
            .await;
        assert_eq!(code, 200, "status={s}: {b}");
    }
    let (code, _) = app
        .get("/v1/applications?status=pending", Some(ADMIN))
        .await;
    assert!(code == 400 || code == 422, "status=pending: {code}");
    assert_eq!(
        list(&schema("ApplicationView")["properties"]["status"]),
        states
    );

    // Boundary layers: each one lists (200), anything else is refused.
    let layers = list(&param("/v1/authorities/{code}/areas", "get", "layer"));
    assert_eq!(layers, ["ward", "fee_zone", "conservation_area"]);
    for l in &layers {
        let (code, b) = app
            .get(
                &format!("/v1/authorities/north/areas?layer={l}"),
                Some(ADMIN),
            )
            .await;
        assert_eq!(code, 200, "layer={l}: {b}");
    }
    let (code, _) = app
        .get("/v1/authorities/north/areas?layer=parish", Some(ADMIN))
        .await;
    assert!(code == 400 || code == 422, "layer=parish: {code}");

    // Roles: each one issues a token (with what it needs); another is a 422 naming `role`.
    let roles = list(&schema("NewToken")["properties"]["role"]);
    assert_eq!(roles, ["admin", "staff", "operator"]);
    app.organisation("acme").await;
    for role in &roles {
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/tokens",
                Some(ADMIN),
                &json!({"role": role, "name": "t",
                    "authority": (role == "staff").then_some("north"),
                    "organisation": (role == "operator").then_some("acme")}),
            )
            .await;
        assert_eq!(s, 201, "role {role}: {b}");
    }
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/tokens",
            Some(ADMIN),
            &json!({"role": "owner", "name": "t"}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(named_fields(&b).contains(&"role".to_string()), "{b}");

    // Decisions, currencies and money: the enumerations are the domain's.
    assert_eq!(
        list(&schema("DecisionRequest")["properties"]["decision"]),
        ["approve", "reject", "request_info"]
    );
    let currencies = list(&schema("FeeScheduleInput")["properties"]["currency"]);
    assert_eq!(currencies, streetcell::domain::fees::CURRENCIES);
    let rent = &schema("FeeScheduleInput")["properties"]["annual_rent"];
    assert_eq!(rent["required"].as_array().unwrap().len(), 7, "{rent}");
    // A schedule the document describes is published; money as a number
    // (which the pattern forbids, being a string schema) is refused.
    let schedule: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/fees/fcc-2018-safe-harbour.json"
    )))
    .unwrap();
    let base = schema("FeeApplicationFee")["properties"]["base"].clone();
    let money = regex_free_money(base["pattern"].as_str().unwrap());
    assert!(money("500.00") && money("500") && !money("-1") && !money("1.234"));
    let (s, b) = app
        .json(
            Method::PUT,
            "/v1/authorities/north/fee-schedule",
            Some(ADMIN),
            &schedule,
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let mut numeric = schedule.clone();
    numeric["application_fee"]["base"] = json!(500);
    let (s, b) = app
        .json(
            Method::PUT,
            "/v1/authorities/north/fee-schedule",
            Some(ADMIN),
            &numeric,
        )
        .await;
    assert_eq!(s, 422, "{b}");
    // What `GET` adds to a version is accepted back (read, edit, publish).
    let (_, mut read) = app
        .get("/v1/authorities/north/fee-schedule", Some(ADMIN))
        .await;
    read["effective_from"] = json!("2030-01-01");
    let (s, b) = app
        .json(
            Method::PUT,
            "/v1/authorities/north/fee-schedule",
            Some(ADMIN),
            &read,
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // Dates are declared as dates where the server reads `YYYY-MM-DD`.
    for (s, p) in [
        ("ApplicationRequest", "start"),
        ("ApplicationRequest", "install_by"),
        ("InstallationRequest", "installed_on"),
        ("QuoteBody", "start"),
        ("SiteSearchRequest", "start"),
        ("AssetInputProperties", "last_inspected"),
        ("FeeScheduleInput", "effective_from"),
    ] {
        assert_eq!(schema(s)["properties"][p]["format"], "date", "{s}.{p}");
    }

    // Statuses: 429 wherever the rate limit applies (all but the probes),
    // 413 wherever a body is read, 400 wherever query parameters are parsed.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let r = &op["responses"];
            let probe = ["/healthz", "/readyz", "/metrics"].contains(&path.as_str());
            assert_eq!(r["429"].is_object(), !probe, "{method} {path}: 429");
            if op.get("requestBody").is_some() {
                assert!(r["413"].is_object(), "{method} {path}: 413");
            }
            let queried = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "query");
            if queried {
                assert!(r["400"].is_object(), "{method} {path}: 400");
            }
        }
    }
}

/// The money pattern as the document writes it, checked without a regex
/// crate: digits, then optionally a point and one or two digits.
fn regex_free_money(pattern: &str) -> impl Fn(&str) -> bool {
    assert_eq!(pattern, r"^[0-9]+(\.[0-9]{1,2})?$");
    |v: &str| {
        let (whole, frac) = v.split_once('.').unwrap_or((v, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits(whole) && digits(frac) && frac.len() <= 2
    }
}
