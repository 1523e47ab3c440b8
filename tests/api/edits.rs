//! Editing a register as the README shows: PATCH bodies (a JSON merge patch
//! on the Feature, and the answer to a flat body), and re-imports in
//! `mode=merge` and `mode=replace`, checked field by field against values
//! written here.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

/// Adds one lamp post with every field set; returns its id.
async fn full_asset(app: &TestApp, staff: &str, r: &str) -> String {
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/north/assets",
            Some(staff),
            &json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.39]},
                "properties": {"ref": r, "kind": "lamp_post", "height_m": 8.0,
                    "power_supply": "continuous", "capacity": 2, "load_rating_kg": 40.0,
                    "last_inspected": "2025-06-01", "install_year": 2010,
                    "status": "available", "listed": true, "photo_url": "https://example.org/p.jpg",
                    "source_attributes": {"STREET": "High St"}}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

on_both_databases!(
    a_flat_patch_body_is_a_422_saying_to_send_properties,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let id = full_asset(&app, &staff, "LP1").await;
        let path = format!("/v1/assets/{id}");
        let (s, b) = app
            .json(
                Method::PATCH,
                &path,
                Some(&staff),
                &json!({"height_m": 9.5, "status": "unavailable"}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        let detail = b["detail"].as_str().unwrap();
        assert!(
            detail.contains("JSON merge patch on the Feature"),
            "{detail}"
        );
        assert!(detail.contains(r#"{"properties": {"#), "{detail}");
        assert!(
            detail.contains("height_m") && detail.contains("status"),
            "{detail}"
        );
        let fields: Vec<&str> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["body", "height_m", "status"], "{b}");
        // Nothing was written; the same change under "properties" is.
        let (_, a) = app.get(&path, Some(&staff)).await;
        assert_eq!(a["properties"]["height_m"], 8.0, "{a}");
        let (s, b) = app
            .json(
                Method::PATCH,
                &path,
                Some(&staff),
                &json!({"properties": {"height_m": 9.5, "photo_url": null}}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["properties"]["height_m"], 9.5, "{b}");
        assert_eq!(b["properties"]["photo_url"], Value::Null, "{b}");
        assert_eq!(b["properties"]["capacity"], 2, "{b}");
    }
);
