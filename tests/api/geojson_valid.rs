//! Every GeoJSON response over the Trafford demo data obeys RFC 7946,
//! checked by a validator written here from the RFC's text.

use serde_json::Value;

use crate::helpers::{ADMIN, Db, spawn_app};

/// Problems with a GeoJSON document, each with a JSON-pointer-ish path.
fn validate(doc: &Value, path: &str, out: &mut Vec<String>) {
    // §4: no "crs" member anywhere in a GeoJSON object we produce.
    if doc.get("crs").is_some() {
        out.push(format!("{path}: has a crs member (RFC 7946 §4)"));
    }
    match doc["type"].as_str() {
        Some("FeatureCollection") => match doc["features"].as_array() {
            Some(fs) => {
                for (i, f) in fs.iter().enumerate() {
                    feature(f, &format!("{path}/features/{i}"), out);
                }
            }
            None => out.push(format!(
                "{path}: FeatureCollection without a features array (§3.3)"
            )),
        },
        Some("Feature") => feature(doc, path, out),
        other => out.push(format!(
            "{path}: type {other:?} is not a GeoJSON object here"
        )),
    }
}

fn feature(f: &Value, path: &str, out: &mut Vec<String>) {
    if f["type"] != "Feature" {
        out.push(format!("{path}: type is not Feature (§3.2)"));
    }
    if let Some(id) = f.get("id")
        && !(id.is_string() || id.is_number())
    {
        out.push(format!("{path}: id is neither string nor number (§3.2)"));
    }
    match f.get("properties") {
        Some(Value::Object(_)) | Some(Value::Null) => {}
        _ => out.push(format!(
            "{path}: properties must be an object or null (§3.2)"
        )),
    }
    match f.get("geometry") {
        Some(Value::Null) => {}
        Some(g) => geometry(g, &format!("{path}/geometry"), out),
        None => out.push(format!("{path}: no geometry member (§3.2)")),
    }
}

fn position(p: &Value, path: &str, out: &mut Vec<String>) -> Option<(f64, f64)> {
    let Some(a) = p.as_array() else {
        out.push(format!("{path}: position is not an array (§3.1.1)"));
        return None;
    };
    if !(2..=3).contains(&a.len()) || a.iter().any(|v| !v.is_number()) {
        out.push(format!("{path}: position must be 2 or 3 numbers (§3.1.1)"));
        return None;
    }
    let (x, y) = (a[0].as_f64()?, a[1].as_f64()?);
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        out.push(format!(
            "{path}: {x},{y} is not WGS84 longitude, latitude (§4)"
        ));
    }
    Some((x, y))
}

fn positions(v: &Value, path: &str, out: &mut Vec<String>) -> Vec<(f64, f64)> {
    match v.as_array() {
        Some(a) => a
            .iter()
            .enumerate()
            .filter_map(|(i, p)| position(p, &format!("{path}/{i}"), out))
            .collect(),
        None => {
            out.push(format!("{path}: not an array of positions"));
            Vec::new()
        }
    }
}

/// Twice the signed area (shoelace): positive when counter-clockwise.
fn signed_area(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

fn polygon(rings: &Value, path: &str, out: &mut Vec<String>) {
    let Some(rings) = rings.as_array() else {
        out.push(format!("{path}: polygon is not an array of rings"));
        return;
    };
    for (i, r) in rings.iter().enumerate() {
        let ring = positions(r, &format!("{path}/{i}"), out);
        if ring.len() < 4 || ring.first() != ring.last() {
            out.push(format!(
                "{path}/{i}: a linear ring is closed with ≥ 4 positions (§3.1.6)"
            ));
            continue;
        }
        let area = signed_area(&ring);
        // §3.1.6: exterior rings counter-clockwise, holes clockwise.
        if (i == 0 && area < 0.0) || (i > 0 && area > 0.0) {
            out.push(format!(
                "{path}/{i}: ring breaks the right-hand rule (§3.1.6)"
            ));
        }
    }
}

fn geometry(g: &Value, path: &str, out: &mut Vec<String>) {
    let c = &g["coordinates"];
    match g["type"].as_str() {
        Some("Point") => {
            position(c, &format!("{path}/coordinates"), out);
        }
        Some("MultiPoint") => {
            positions(c, &format!("{path}/coordinates"), out);
        }
        Some("LineString") => {
            if positions(c, &format!("{path}/coordinates"), out).len() < 2 {
                out.push(format!("{path}: a LineString has ≥ 2 positions (§3.1.4)"));
            }
        }
        Some("Polygon") => polygon(c, &format!("{path}/coordinates"), out),
        Some("MultiPolygon") => match c.as_array() {
            Some(ps) => {
                for (i, p) in ps.iter().enumerate() {
                    polygon(p, &format!("{path}/coordinates/{i}"), out);
                }
            }
            None => out.push(format!("{path}: MultiPolygon coordinates not an array")),
        },
        other => out.push(format!("{path}: geometry type {other:?} not allowed here")),
    }
}

#[test]
fn the_validator_catches_what_it_should() {
    let bad = serde_json::json!({"type": "FeatureCollection", "crs": {}, "features": [
        {"type": "Feature", "id": [1], "properties": 3, "geometry": {"type": "Point", "coordinates": [200.0, 10.0]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
            "coordinates": [[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[0.0, 0.0]]}}
    ]});
    let mut out = Vec::new();
    validate(&bad, "", &mut out);
    for needle in [
        "crs",
        "id is neither",
        "properties",
        "longitude",
        "right-hand",
        "LineString",
    ] {
        assert!(
            out.iter().any(|m| m.contains(needle)),
            "{needle} not reported: {out:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_geojson_response_over_the_demo_is_rfc_7946() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("demo loads");
    app.register.catch_up().await.expect("catch up");
    let n = app.register.assets().snapshot().len();
    assert_eq!(n, 17_108, "the demo's asset count (data/demo/README.md)");

    let mut paths = vec![
        "/v1/assets/nearest?lon=-2.3522&lat=53.3881&k=200".to_string(),
        "/v1/authorities/trafford/areas".to_string(),
        "/collections/wards/items?limit=10000".to_string(),
        "/collections/fee-zones/items?limit=10000".to_string(),
        "/collections/conservation-areas/items?limit=10000".to_string(),
    ];
    for offset in (0..n).step_by(10_000) {
        paths.push(format!("/v1/assets?limit=10000&offset={offset}"));
        paths.push(format!(
            "/collections/assets/items?limit=10000&offset={offset}"
        ));
    }
    let mut checked = 0;
    for path in &paths {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/geo+json"), "{path}: {ct}");
        let doc: Value = resp.json().await.expect("JSON");
        checked += doc["features"].as_array().map_or(0, Vec::len);
        let mut problems = Vec::new();
        validate(&doc, path, &mut problems);
        assert!(
            problems.is_empty(),
            "{} problems, first: {:?}",
            problems.len(),
            &problems[..problems.len().min(5)]
        );
    }
    // A polygon search, and one feature of each kind of geometry.
    let (s, doc) = app
        .json(
            reqwest::Method::POST,
            "/v1/assets/search",
            Some(ADMIN),
            &serde_json::json!({"geometry": {"type": "Polygon", "coordinates": [[[-2.36, 53.38], [-2.34, 53.38], [-2.34, 53.395], [-2.36, 53.395], [-2.36, 53.38]]]}, "buffer_m": 50}),
        )
        .await;
    assert_eq!(s, 200);
    let mut problems = Vec::new();
    validate(&doc, "search", &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        checked > 2 * n,
        "every asset checked twice, plus areas: {checked}"
    );
}
