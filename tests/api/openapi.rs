//! `GET /api`: the OpenAPI 3.0 document describes every route the service
//! really has, validates with an independent validator, and declares the
//! page-size limit the server enforces.

use std::collections::BTreeSet;

use serde_json::Value;
use streetcell::http::params::MAX_LIMIT;

use crate::helpers::{ADMIN, Db, content_type, spawn_app};

/// The console's pages (`src/console/`) are HTML for people, not API
/// operations, so they are not in the document; they must all live under
/// `/console` (checked), and tests/api/console*.rs and browser.rs cover them.
const CONSOLE_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/console");

/// Every (method, path) the router declares, read from the `.route(..)`
/// calls in the source (independent of the `#[utoipa::path]` annotations the
/// document is built from), with path parameters written `{}`: a route added
/// without its annotation fails the comparison below.
fn routed() -> BTreeSet<(String, String)> {
    let mut files = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    let mut ops = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let call = &text[at + ".route(".len()..];
            // The call's arguments: up to the parenthesis that closes it.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or_else(|| panic!("unclosed .route( in {}", path.display()));
            let args = &call[..end];
            let route = args.split('"').nth(1).expect("a route path literal");
            if path.starts_with(CONSOLE_SOURCE) {
                assert!(
                    route == "/console" || route.starts_with("/console/"),
                    "console page {route} outside /console in {}",
                    path.display()
                );
                continue;
            }
            let methods = &args[args.find(',').expect("a method router")..];
            let mut found = false;
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = methods.match_indices(&format!("{method}(")).any(|(i, _)| {
                    !methods[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    ops.insert((method.to_string(), normalise(route)));
                    found = true;
                }
            }
            assert!(found, "no method in .route({args}) in {}", path.display());
        }
    }
    ops
}

/// A route with its parameter names erased: `/v1/assets/{id}` → `/v1/assets/{}`.
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether `path` is `pattern` with some `{}` segments filled in.
fn instance_of(pattern: &str, path: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || *x == "{}")
}

#[test]
fn routes_are_read_from_the_source() {
    let ops = routed();
    for (method, path) in [
        ("get", "/"),
        ("patch", "/v1/assets/{}"),
        ("delete", "/v1/assets/{}"),
        ("get", "/collections/{}/tiles/{}/{}/{}/{}"),
    ] {
        assert!(
            ops.contains(&(method.into(), path.into())),
            "{method} {path}"
        );
    }
    assert!(!ops.contains(&("post".into(), "/v1/assets/{}".into())));
    assert!(instance_of(
        "/collections/{}/items",
        "/collections/wards/items"
    ));
    assert!(!instance_of(
        "/collections/{}/items",
        "/collections/wards/items/1"
    ));
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_document_describes_the_service() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    // The document is public, like the landing page that links to it.
    let resp = app.client.get(app.url("/api")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        content_type(&resp),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let doc: Value = resp.json().await.unwrap();
    let version = doc["openapi"].as_str().unwrap();
    assert!(
        version.starts_with("3.0."),
        "oas30 promises 3.0, got {version}"
    );

    // Exactly the service's operations: the router and the document agree...
    let in_document: BTreeSet<(String, String)> = documented(&doc)
        .into_iter()
        .map(|(m, p)| (m, normalise(&p)))
        .collect();
    let routed = routed();
    let undocumented: Vec<_> = routed.difference(&in_document).collect();
    // A documented path may also be one instance of a routed pattern (each
    // collection's own items path, which GDAL reads for its page size).
    let unrouted: Vec<_> = in_document
        .iter()
        .filter(|(m, p)| !routed.iter().any(|(rm, rp)| rm == m && instance_of(rp, p)))
        .collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not documented: {undocumented:?}; documented but not routed: {unrouted:?}"
    );

    // ...and each documented operation reaches a handler, not the router's
    // 404/405 fallbacks.
    for (method, path) in documented(&doc) {
        let concrete = path
            .replace("{collectionId}", "assets")
            .replace("{featureId}", "absent")
            .replace("{id}", "absent")
            .replace("{code}", "absent")
            .replace("{tileMatrixSetId}", "WebMercatorQuad")
            .replace("{tileMatrix}", "0")
            .replace("{tileRow}", "0")
            .replace("{tileCol}", "0");
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app
            .client
            .request(m, app.url(&concrete))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        assert_ne!(status, 405, "{method} {concrete}: {body}");
        assert!(
            !(status == 404 && body.contains("no such resource")),
            "{method} {concrete} is documented but not routed"
        );
    }

    // Every reference resolves inside the document.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
    }

    // `limit` declares the clamp the server applies.
    for path in ["/collections/{collectionId}/items", "/v1/assets"] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(limit["schema"]["maximum"], MAX_LIMIT as f64, "{path}");
        assert_eq!(limit["in"], "query");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // An independent validator agrees it is a valid OpenAPI 3.0 document.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let check = "import json, sys\n\
                 from openapi_spec_validator import validate\n\
                 validate(json.load(open(sys.argv[1])))\n";
    match std::process::Command::new("python3")
        .args(["-c", check])
        .arg(&file)
        .output()
    {
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named") => {
            crate::helpers::missing_prerequisite("openapi-spec-validator (pip install)");
        }
        Ok(out) => assert!(
            out.status.success(),
            "openapi-spec-validator: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => crate::helpers::missing_prerequisite(&format!("python3 ({e})")),
    }

    // The human-readable page lists the same operations.
    let resp = app.client.get(app.url("/api.html")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("text/html"));
    let html = resp.text().await.unwrap();
    for (method, path) in documented(&doc) {
        assert!(
            html.contains(&format!("{method}</span> <span class=\"path\">{path}")),
            "{method} {path} missing from /api.html"
        );
    }
}

/// Whether the document says `op` needs a token: its `security` (else the
/// document's) names a scheme and offers no empty alternative. (Read from
/// the document here, independently of the server's own post-processing.)
fn token_required(doc: &Value, op: &Value) -> bool {
    let reqs = op.get("security").or_else(|| doc.get("security"));
    match reqs.and_then(Value::as_array) {
        Some(r) => {
            !r.is_empty()
                && r.iter()
                    .all(|x| x.as_object().is_some_and(|o| !o.is_empty()))
        }
        None => false,
    }
}

/// A documented path made concrete, with absent ids.
fn concrete(path: &str) -> String {
    path.replace("{collectionId}", "assets")
        .replace("{featureId}", "absent")
        .replace("{id}", "absent")
        .replace("{doc}", "absent")
        .replace("{code}", "absent")
        .replace("{tileMatrixSetId}", "WebMercatorQuad")
        .replace("{tileMatrix}", "0")
        .replace("{tileRow}", "0")
        .replace("{tileCol}", "0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_needing_a_token_answers_and_documents_401() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let doc: Value = app
        .client
        .get(app.url("/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (mut protected, mut public) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = app.url(&concrete(path));
            let resp = app
                .client
                .request(m, &url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let ct = content_type(&resp);
            if token_required(&doc, op) {
                protected += 1;
                assert_eq!(status, 401, "{method} {path} without a token");
                assert_eq!(ct, "application/problem+json", "{method} {path}");
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} answers 401 but does not document it"
                );
            } else {
                public += 1;
                assert_ne!(status, 401, "{method} {path} is documented as public");
            }
        }
    }
    assert!(
        protected >= 40 && public >= 10,
        "{protected} protected, {public} public"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_of_another_type_answer_and_document_415() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let doc: Value = app
        .client
        .get(app.url("/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.authority("north").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(content) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            else {
                continue;
            };
            assert!(
                op["responses"]["415"].is_object(),
                "{method} {path} reads a body but does not document 415"
            );
            let json = content
                .keys()
                .all(|m| m == "application/json" || m.ends_with("+json"));
            if !json {
                continue;
            }
            for code in ["400", "422"] {
                assert!(
                    op["responses"][code].is_object(),
                    "{method} {path} reads JSON but does not document {code}"
                );
            }
            // A real council and the required query parameters, so the
            // body is what the request gets refused for.
            let mut url = concrete(path).replace("/absent", "/north");
            let required: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| {
                    let name = p["name"].as_str().unwrap();
                    let value = p["schema"]["enum"][0].as_str().unwrap_or(match name {
                        "layer" => "ward",
                        _ => "1",
                    });
                    format!("{name}={value}")
                })
                .collect();
            if !required.is_empty() {
                url = format!("{url}?{}", required.join("&"));
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app
                .client
                .request(m, app.url(&url))
                .bearer_auth(ADMIN)
                .header("content-type", "text/plain")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(
                resp.status().as_u16(),
                415,
                "{method} {path} with a text/plain body"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked} JSON-body operations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_enumerations_are_declared() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let doc: Value = app
        .client
        .get(app.url("/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    let names = |v: &Value| -> Vec<String> {
        v["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum in {v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&schema("AssetStatus")), ["available", "unavailable"]);
    assert_eq!(
        names(&schema("PowerSupply")),
        ["none", "part_night", "continuous"]
    );
    assert_eq!(names(&schema("AssetKind")).len(), 7);
    for s in ["AssetProperties", "AssetInputProperties"] {
        for (field, target) in [
            ("kind", "AssetKind"),
            ("status", "AssetStatus"),
            ("power_supply", "PowerSupply"),
        ] {
            let p = &schema(s)["properties"][field];
            let r = p["$ref"]
                .as_str()
                .or_else(|| p["allOf"][0]["$ref"].as_str());
            assert_eq!(
                r,
                Some(format!("#/components/schemas/{target}").as_str()),
                "{s}.{field}: {p}"
            );
        }
    }
    // The listing's comma-separated filters: the pattern the server accepts.
    let params = doc["paths"]["/v1/assets"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let pattern = |name: &str| {
        let p = params.iter().find(|p| p["name"] == name).unwrap();
        regex_lite_match(p["schema"]["pattern"].as_str().unwrap())
    };
    assert!(pattern("kind")("lamp_post,cctv_column"));
    assert!(!pattern("kind")("lamp post"));
    assert!(pattern("power_supply")("continuous"));
    assert!(!pattern("status")("gone"));
}

/// A matcher for the `^(a|b)(,(a|b))*$` patterns the document writes, so the
/// test needs no regex crate: the value split at commas, each a listed name.
fn regex_lite_match(pattern: &str) -> impl Fn(&str) -> bool {
    let inner = pattern
        .strip_prefix("^(")
        .and_then(|p| p.split_once(')'))
        .map(|(names, _)| names.split('|').map(String::from).collect::<Vec<_>>())
        .unwrap_or_else(|| panic!("unexpected pattern {pattern}"));
    let expected = format!("^({0})(,({0}))*$", inner.join("|"));
    assert_eq!(pattern, expected);
    move |v: &str| v.split(',').all(|x| inner.iter().any(|n| n == x))
}
