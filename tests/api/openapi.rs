//! `GET /api`: the OpenAPI 3.0 document describes every route the service
//! really has, validates with an independent validator, and declares the
//! page-size limit the server enforces.

use std::collections::BTreeSet;

use serde_json::Value;
use streetcell::http::assets::MAX_LIMIT;

use crate::helpers::{ADMIN, Db, content_type, spawn_app};

/// Every operation of the HTTP API, written out by hand from the README's
/// API table (independent of the annotations the document is built from).
const OPERATIONS: [(&str, &str); 67] = [
    ("get", "/"),
    ("get", "/conformance"),
    ("get", "/api"),
    ("get", "/healthz"),
    ("get", "/collections"),
    ("get", "/collections/{collectionId}"),
    ("get", "/collections/{collectionId}/queryables"),
    ("get", "/collections/{collectionId}/items"),
    ("get", "/collections/{collectionId}/items/{featureId}"),
    ("get", "/v1/authorities"),
    ("post", "/v1/authorities"),
    ("post", "/v1/organisations"),
    ("post", "/v1/tokens"),
    ("get", "/v1/tokens"),
    ("delete", "/v1/tokens/{id}"),
    ("get", "/v1/organisations"),
    ("get", "/tileMatrixSets"),
    // Each collection's items, for GDAL's page size (see gis.rs).
    ("get", "/collections/assets/items"),
    ("get", "/collections/assets-points/items"),
    ("get", "/collections/assets-polygons/items"),
    ("get", "/collections/wards/items"),
    ("get", "/collections/fee-zones/items"),
    ("get", "/collections/conservation-areas/items"),
    ("get", "/tileMatrixSets/{tileMatrixSetId}"),
    ("get", "/v1/assets"),
    ("get", "/v1/assets/nearest"),
    ("post", "/v1/assets/search"),
    ("get", "/v1/assets/{id}"),
    ("put", "/v1/assets/{id}"),
    ("patch", "/v1/assets/{id}"),
    ("delete", "/v1/assets/{id}"),
    ("post", "/v1/authorities/{code}/assets"),
    ("post", "/v1/authorities/{code}/imports"),
    ("get", "/v1/authorities/{code}/areas"),
    ("post", "/v1/authorities/{code}/areas"),
    ("get", "/v1/authorities/{code}/fee-schedule"),
    ("put", "/v1/authorities/{code}/fee-schedule"),
    ("get", "/v1/authorities/{code}/fee-schedule/history"),
    ("post", "/v1/quotes"),
    ("get", "/api.html"),
    ("get", "/map"),
    ("get", "/collections/{collectionId}/tiles"),
    ("get", "/collections/{collectionId}/tiles/{tileMatrixSetId}"),
    (
        "get",
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    ),
    ("post", "/v1/applications"),
    ("get", "/v1/applications"),
    ("get", "/v1/applications/{id}"),
    ("post", "/v1/applications/{id}/review"),
    ("post", "/v1/applications/{id}/decision"),
    ("post", "/v1/applications/{id}/response"),
    ("post", "/v1/applications/{id}/withdraw"),
    ("post", "/v1/applications/{id}/installation"),
    ("post", "/v1/applications/{id}/termination"),
    ("get", "/v1/applications/{id}/events"),
    ("post", "/v1/applications/{id}/attachments"),
    ("get", "/v1/applications/{id}/attachments"),
    ("get", "/v1/applications/{id}/attachments/{document}"),
    ("get", "/v1/authorities/{code}/ledger"),
    ("get", "/v1/authorities/{code}/subsidy"),
    ("get", "/v1/authorities/{code}/application-settings"),
    ("put", "/v1/authorities/{code}/application-settings"),
    ("get", "/collections/applications"),
    ("get", "/collections/applications/items"),
    ("get", "/collections/applications/items/{featureId}"),
    ("get", "/collections/installations"),
    ("get", "/collections/installations/items"),
    ("get", "/collections/installations/items/{featureId}"),
];

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

    // Exactly the service's operations: the hand list and the document agree...
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented(&doc), expected);

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
            eprintln!("skipped validation: pip install openapi-spec-validator");
        }
        Ok(out) => assert!(
            out.status.success(),
            "openapi-spec-validator: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("skipped validation: python3: {e}"),
    }

    // The human-readable page lists the same operations.
    let resp = app.client.get(app.url("/api.html")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("text/html"));
    let html = resp.text().await.unwrap();
    for (method, path) in expected {
        assert!(
            html.contains(&format!("{method}</span> <span class=\"path\">{path}")),
            "{method} {path} missing from /api.html"
        );
    }
}
