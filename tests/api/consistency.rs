//! One way in for every write: what a write changes is visible at once in
//! everything served from memory (prices, placements), writes by another
//! process are followed, and conflicts are decided by the database.

use geo::MultiPolygon;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use streetcell::domain::area::AreaLayer;

const AUTHORITY: &str = "springfield";

/// A lamp post feature at (lon, lat).
fn lamp_post(reference: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"ref": reference, "kind": "lamp_post"}})
}

/// The FCC safe-harbour schedule with the lamp-post rent set to `rent`.
fn schedule(rent: &str, effective_from: &str) -> Value {
    let mut s: Value =
        serde_json::from_str(include_str!("../../data/fees/fcc-2018-safe-harbour.json")).unwrap();
    s["annual_rent"]["lamp_post"] = json!(rent);
    s["effective_from"] = json!(effective_from);
    s
}

/// The `annual_fee` the nearest-asset search serves for the one asset.
async fn served_fee(app: &TestApp, token: &str) -> Value {
    let (s, b) = app
        .get("/v1/assets/nearest?lon=-2.35&lat=53.39&k=1", Some(token))
        .await;
    assert_eq!(s, 200, "{b}");
    b["features"][0]["properties"]["annual_fee"].clone()
}

on_both_databases!(
    annual_fee_changes_right_after_a_fee_schedule_is_published,
    |app: TestApp| async move {
        let staff = app.authority(AUTHORITY).await;
        let path = format!("/v1/authorities/{AUTHORITY}/assets");
        let (s, b) = app
            .json(
                Method::POST,
                &path,
                Some(&staff),
                &lamp_post("LP-1", -2.35, 53.39),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(
            served_fee(&app, &staff).await,
            Value::Null,
            "no schedule yet"
        );
        let path = format!("/v1/authorities/{AUTHORITY}/fee-schedule");
        for (rent, from) in [("270.00", "2019-01-14"), ("300.00", "2019-01-15")] {
            let (s, b) = app
                .json(Method::PUT, &path, Some(&staff), &schedule(rent, from))
                .await;
            assert_eq!(s, 201, "{b}");
            assert_eq!(
                served_fee(&app, &staff).await,
                json!(rent),
                "after publishing {rent}"
            );
        }
    }
);

on_both_databases!(
    boundary_layers_written_by_another_process_are_followed,
    |app: TestApp| async move {
        let staff = app.authority(AUTHORITY).await;
        let path = format!("/v1/authorities/{AUTHORITY}/assets");
        let (s, b) = app
            .json(
                Method::POST,
                &path,
                Some(&staff),
                &lamp_post("LP-1", -2.35, 53.39),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let id = b["id"].as_str().unwrap().to_string();
        assert_eq!(b["properties"]["ward"], Value::Null);
        // A CLI `import-areas` (or another replica) writes the layer.
        let ring: Vec<(f64, f64)> = vec![
            (-2.36, 53.38),
            (-2.34, 53.38),
            (-2.34, 53.40),
            (-2.36, 53.40),
            (-2.36, 53.38),
        ];
        let square = geo::Polygon::new(ring.into(), vec![]);
        app.other_process()
            .await
            .replace_areas(
                AUTHORITY,
                AreaLayer::Ward,
                &[("Centre".to_string(), MultiPolygon(vec![square]))],
            )
            .await
            .expect("second process writes a ward layer");
        app.register.catch_up().await.expect("catch up");
        let (s, b) = app.get(&format!("/v1/assets/{id}"), Some(&staff)).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["properties"]["ward"], "Centre", "{b}");
        let (s, b) = app
            .get(
                &format!("/v1/authorities/{AUTHORITY}/areas?layer=ward"),
                Some(&staff),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["features"][0]["properties"]["name"], "Centre", "{b}");
    }
);

on_both_databases!(
    concurrent_adds_of_one_ref_create_one_asset,
    |app: TestApp| async move {
        let staff = app.authority(AUTHORITY).await;
        let path = format!("/v1/authorities/{AUTHORITY}/assets");
        let attempts = (0..16).map(|i| {
            let (app, staff, path) = (&app, &staff, &path);
            async move {
                let body = lamp_post("LP-RACE", -2.35 + f64::from(i) * 1e-4, 53.39);
                app.json(Method::POST, path, Some(staff), &body).await
            }
        });
        let answers = futures_util::future::join_all(attempts).await;
        let created = answers.iter().filter(|(s, _)| *s == 201).count();
        let conflicts = answers.iter().filter(|(s, _)| *s == 409).count();
        assert_eq!((created, conflicts), (1, 15), "{answers:?}");
        let (s, b) = app.get("/v1/assets?limit=10", Some(&staff)).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["numberMatched"], 1, "{b}");
    }
);
