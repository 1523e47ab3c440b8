//! Geometry validity at every door: search bodies, single assets, imports
//! of polygon assets, boundary-layer uploads and CQL2 literals refuse
//! unclosed rings, rings of fewer than four positions, self-intersecting
//! rings and one-position lines, saying which field and what is wrong.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

/// The examples, each with the words its 422 must contain.
fn invalid_geometries() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}),
            "at least four positions",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            "closed",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
            "self-intersection",
        ),
        (
            json!({"type": "LineString", "coordinates": [[0, 0]]}),
            "two distinct positions",
        ),
    ]
}

/// Asserts a 422 whose `errors` name `field` with a message containing `why`.
fn assert_invalid(status: u16, body: &Value, field: &str, why: &str) {
    assert_eq!(status, 422, "{body}");
    let named = body["errors"]
        .as_array()
        .expect("errors[]")
        .iter()
        .any(|e| e["field"] == field && e["message"].as_str().unwrap_or("").contains(why));
    assert!(named, "expected {field}: …{why}… in {body}");
}

on_both_databases!(search_refuses_invalid_geometry, |app: TestApp| async move {
    for (g, why) in invalid_geometries() {
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/assets/search",
                Some(ADMIN),
                &json!({"geometry": g}),
            )
            .await;
        assert_invalid(s, &b, "geometry", why);
    }
    let square = json!({"type": "Polygon",
            "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]});
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/assets/search",
            Some(ADMIN),
            &json!({"geometry": square}),
        )
        .await;
    assert_eq!(s, 200, "a valid square is searched: {b}");
});

on_both_databases!(
    asset_writes_and_imports_refuse_invalid_polygons,
    |app: TestApp| async move {
        let staff = app.authority("springfield").await;
        let polygons: Vec<(Value, &str)> = invalid_geometries()
            .into_iter()
            .filter(|(g, _)| g["type"] == "Polygon")
            .collect();
        for (g, why) in &polygons {
            let feature = json!({"type": "Feature", "geometry": g,
                "properties": {"ref": "HALL", "kind": "rooftop"}});
            let (s, b) = app
                .json(
                    Method::POST,
                    "/v1/authorities/springfield/assets",
                    Some(&staff),
                    &feature,
                )
                .await;
            assert_invalid(s, &b, "geometry", why);
        }
        // An import keeps the good rows and reports each bad one.
        let mut features: Vec<Value> = polygons
            .iter()
            .enumerate()
            .map(|(i, (g, _))| {
                json!({"type": "Feature", "geometry": g,
                    "properties": {"ref": format!("BAD-{i}"), "kind": "rooftop"}})
            })
            .collect();
        features.push(json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-2.35, 53.39]},
            "properties": {"ref": "GOOD", "kind": "lamp_post"}}));
        let body = serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))
            .unwrap();
        let (s, b) = app
            .post_bytes(
                "/v1/authorities/springfield/imports",
                Some(&staff),
                "application/geo+json",
                body.clone(),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["inserted"], 1, "{b}");
        let rejected = b["rejected"].as_array().expect("rejected");
        assert_eq!(rejected.len(), polygons.len(), "{b}");
        for (r, (_, why)) in rejected.iter().zip(&polygons) {
            assert!(
                r["reason"].as_str().unwrap().contains(why),
                "{r} should say {why}"
            );
        }
        // A boundary layer: the bad polygons are rejected, the good one loads.
        let mut areas: Vec<Value> = polygons
            .iter()
            .map(|(g, _)| json!({"type": "Feature", "geometry": g, "properties": {"name": "bad"}}))
            .collect();
        areas.push(json!({"type": "Feature", "properties": {"name": "Centre"},
            "geometry": {"type": "Polygon", "coordinates":
                [[[-2.36, 53.38], [-2.34, 53.38], [-2.34, 53.40], [-2.36, 53.40], [-2.36, 53.38]]]}}));
        let body =
            serde_json::to_vec(&json!({"type": "FeatureCollection", "features": areas})).unwrap();
        let (s, b) = app
            .post_bytes(
                "/v1/authorities/springfield/areas?layer=ward",
                Some(&staff),
                "application/geo+json",
                body,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["loaded"], 1, "{b}");
        let rejected = b["rejected"].as_array().expect("rejected");
        assert_eq!(rejected.len(), polygons.len(), "{b}");
        for (r, (_, why)) in rejected.iter().zip(&polygons) {
            assert!(
                r["reason"].as_str().unwrap().contains(why),
                "{r} should say {why}"
            );
        }
    }
);

on_both_databases!(
    cql2_geometry_literals_must_be_valid,
    |app: TestApp| async move {
        let cases = [
            ("POLYGON((0 0, 1 0, 1 1, 0 1))", "closed"),
            ("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "self-intersection"),
        ];
        for (wkt, why) in cases {
            let resp = app
                .client
                .get(app.url("/collections/assets/items"))
                .query(&[("filter", format!("S_INTERSECTS(geometry, {wkt})"))])
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("problem JSON");
            assert_eq!(status, 400, "{wkt}: {body}");
            assert!(
                body["detail"].as_str().unwrap().contains(why),
                "{wkt}: {body}"
            );
        }
        let resp = app
            .client
            .get(app.url("/collections/assets/items"))
            .query(&[(
                "filter",
                "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1, 0 0)))",
            )])
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "a closed square is a valid literal");
    }
);
