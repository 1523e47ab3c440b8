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

/// A replica beside `app`: its own register over the same database.
async fn replica(app: &TestApp) -> streetcell::register::Register {
    streetcell::register::Register::load(app.other_process().await)
        .await
        .expect("replica loads")
}

/// The replica's `height_m` for `id`, or `None` when it does not hold it.
fn replica_height(r: &streetcell::register::Register, id: &str) -> Option<Option<f64>> {
    r.assets()
        .snapshot()
        .get(id)
        .map(|l| l.asset.details.height_m)
}

/// Reproduction of replicas missing rows for good: on PostgreSQL a slow
/// transaction (a large import) commits a change numbered below one a quick
/// edit has already committed and a replica has already read. SQLite has one
/// writer at a time, so there it cannot happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_has_no_gaps_behind_slow_transactions() {
    use sqlx::Connection;
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Db::Postgres).await else {
        return;
    };
    let staff = app.authority(AUTHORITY).await;
    let path = format!("/v1/authorities/{AUTHORITY}/assets");
    let (s, b) = app
        .json(
            Method::POST,
            &path,
            Some(&staff),
            &lamp_post("QUICK", -2.35, 53.39),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let quick = b["id"].as_str().unwrap().to_string();
    let b_side = replica(&app).await;

    // The slow writer takes its change number first and commits last.
    let slow = streetcell::domain::asset::asset_id(AUTHORITY, "SLOW");
    let mut conn = sqlx::AnyConnection::connect(&app.db_url)
        .await
        .expect("connect");
    sqlx::raw_sql("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    sqlx::query(
        "INSERT INTO assets (id, authority, ref, kind, geometry, power_supply, capacity, status, \
         listed, created_at, updated_at) VALUES ($1, $2, 'SLOW', 'lamp_post', \
         '{\"type\":\"Point\",\"coordinates\":[-2.34,53.39]}', 'none', 1, 'available', 0, \
         '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .bind(&slow)
    .bind(AUTHORITY)
    .execute(&mut conn)
    .await
    .expect("slow insert");
    sqlx::query("INSERT INTO asset_changes (asset_id) VALUES ($1)")
        .bind(&slow)
        .execute(&mut conn)
        .await
        .expect("slow change");

    // A quick edit commits meanwhile, and the replica follows it.
    let (s, b) = app
        .json(
            Method::PATCH,
            &format!("/v1/assets/{quick}"),
            Some(&staff),
            &json!({"properties": {"height_m": 9.0}}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b_side.catch_up().await.expect("catch up");
    assert_eq!(replica_height(&b_side, &quick), Some(Some(9.0)));
    assert_eq!(replica_height(&b_side, &slow), None, "not committed yet");

    sqlx::raw_sql("COMMIT")
        .execute(&mut conn)
        .await
        .expect("commit");
    b_side.catch_up().await.expect("catch up");
    assert_eq!(
        replica_height(&b_side, &slow),
        Some(None),
        "the slow transaction's asset reaches the replica"
    );
    // And the replica agrees with the database on every asset.
    let (s, b) = app.get("/v1/assets?limit=100", Some(&staff)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b_side.assets().snapshot().len(), 2, "{b}");
}

// Concurrent merge patches of one asset, each adding its own
// `source_attributes` key: every key survives (each patch applies to the
// row as the previous one left it).
on_both_databases!(
    concurrent_patches_of_one_asset_lose_nothing,
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
        let asset = format!("/v1/assets/{}", b["id"].as_str().unwrap());
        let patches = (0..50).map(|i| {
            let (app, staff, asset) = (&app, &staff, &asset);
            async move {
                let body = json!({"properties": {"source_attributes": {format!("k{i}"): i}}});
                app.json(Method::PATCH, asset, Some(staff), &body).await
            }
        });
        let answers = futures_util::future::join_all(patches).await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        let (s, b) = app.get(&asset, Some(&staff)).await;
        assert_eq!(s, 200, "{b}");
        let keys = b["properties"]["source_attributes"]
            .as_object()
            .expect("object");
        let missing: Vec<usize> = (0..50)
            .filter(|i| !keys.contains_key(&format!("k{i}")))
            .collect();
        assert!(missing.is_empty(), "lost keys {missing:?} of 50");
        // After a restart (a load from the database) the same.
        let app = app.restart().await;
        let (_, again) = app.get(&asset, Some(&staff)).await;
        assert_eq!(again["properties"], b["properties"]);
    }
);

// `ETag` / `If-Match`: a write based on a stale read is refused with 412
// and changes nothing; one based on the current tag succeeds.
on_both_databases!(
    stale_if_match_is_refused_on_assets_and_fee_schedules,
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
        let asset = app.url(&format!("/v1/assets/{}", b["id"].as_str().unwrap()));
        let read = app
            .client
            .get(&asset)
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        let tag = read.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(tag, "\"1\"");
        let patch = |height: f64, tag: &str| {
            app.client
                .patch(&asset)
                .bearer_auth(&staff)
                .header("if-match", tag)
                .json(&json!({"properties": {"height_m": height}}))
                .send()
        };
        let first = patch(8.0, &tag).await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["etag"], "\"2\"");
        let stale = patch(9.0, &tag).await.unwrap();
        assert_eq!(stale.status(), 412);
        assert_eq!(stale.headers()["content-type"], "application/problem+json");
        let (_, now) = app
            .get(
                &format!("/v1/assets/{}", b["id"].as_str().unwrap()),
                Some(&staff),
            )
            .await;
        assert_eq!(
            now["properties"]["height_m"], 8.0,
            "the stale write changed nothing"
        );

        let schedule_path = app.url(&format!("/v1/authorities/{AUTHORITY}/fee-schedule"));
        let publish = |rent: &str, tag: &str| {
            app.client
                .put(&schedule_path)
                .bearer_auth(&staff)
                .header("if-match", tag)
                .json(&schedule(rent, "2019-01-14"))
                .send()
        };
        let first = publish("270.00", "\"0\"").await.unwrap();
        assert_eq!(first.status(), 201, "version 1 when none was published");
        let stale = publish("280.00", "\"0\"").await.unwrap();
        assert_eq!(stale.status(), 412, "someone published since");
        let read = app.client.get(&schedule_path).send().await.unwrap();
        assert_eq!(read.headers()["etag"], "\"1\"");
        let next = publish("290.00", "\"1\"").await.unwrap();
        assert_eq!(next.status(), 201);
    }
);

// A boundary-layer upload re-places assets while edits are published: no
// edit may be undone in the index (the upload used to rebuild it from the
// snapshot it started with).
on_both_databases!(
    a_boundary_layer_upload_keeps_concurrent_edits,
    |app: TestApp| async move {
        let Some(wards) = crate::helpers::shared_data(
            "trafford-boundaries/trafford_ward_2023_full_resolution.geojson",
        ) else {
            return;
        };
        let wards = std::fs::read(wards).expect("wards file");
        let staff = app.authority(AUTHORITY).await;
        // Enough assets that re-placing them all takes a while.
        let features: Vec<Value> = (0..3000)
            .map(|i| {
                let (lon, lat) = (
                    -2.37 + f64::from(i % 60) * 0.0006,
                    53.41 + f64::from(i / 60) * 0.0004,
                );
                lamp_post(&format!("LP-{i}"), lon, lat)
            })
            .collect();
        let body = serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))
            .unwrap();
        let (s, b) = app
            .post_bytes(
                &format!("/v1/authorities/{AUTHORITY}/imports"),
                Some(&staff),
                "application/geo+json",
                body,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let ids: Vec<String> = (0..40)
            .map(|i| streetcell::domain::asset::asset_id(AUTHORITY, &format!("LP-{}", i * 70)))
            .collect();
        let areas = format!("/v1/authorities/{AUTHORITY}/areas?layer=ward&name_field=area_name");
        let upload = app.post_bytes(&areas, Some(&staff), "application/geo+json", wards);
        // Edits keep coming until the upload has answered, so some land
        // while it re-places the register.
        let done = std::sync::atomic::AtomicBool::new(false);
        let edits = async {
            let mut last = vec![None; ids.len()];
            let mut n = 0u32;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let i = n as usize % ids.len();
                let height = f64::from(n % 500) / 10.0;
                let body = json!({"properties": {"height_m": height}});
                let (s, b) = app
                    .json(
                        Method::PATCH,
                        &format!("/v1/assets/{}", ids[i]),
                        Some(&staff),
                        &body,
                    )
                    .await;
                assert_eq!(s, 200, "{b}");
                last[i] = Some(height);
                n += 1;
            }
            (last, n)
        };
        let upload = async {
            let answer = upload.await;
            done.store(true, std::sync::atomic::Ordering::Release);
            answer
        };
        let ((s, b), (last, n)) = tokio::join!(upload, edits);
        assert_eq!(s, 200, "{b}");
        eprintln!("{n} edits ran beside the upload");
        for (id, height) in ids.iter().zip(last) {
            let (_, b) = app.get(&format!("/v1/assets/{id}"), Some(&staff)).await;
            if let Some(h) = height {
                assert_eq!(b["properties"]["height_m"], h, "{id} lost its edit: {b}");
            }
            assert!(b["properties"]["ward"].is_string(), "{id} has no ward: {b}");
        }
    }
);
