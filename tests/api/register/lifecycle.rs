//! 4–6. Data survives a restart; writes show up at once, another process's
//! after catch_up; concurrent overlapping imports.

use super::*;

// ---------------------------------------------------------------------------
// 4. Data survives a restart.
// ---------------------------------------------------------------------------

async fn survives_restart(app: TestApp) {
    let Some((cctv_bytes, _)) = shared_file(CCTV) else {
        return;
    };
    let token = trafford(&app).await;
    import(&app, &token, "cctv_column", "camera_id", cctv_bytes).await;
    let assets = all_assets(&app, &token).await;
    let id = id_by_ref(&assets, "1001");

    let (s, patched) = app
        .json(
            Method::PATCH,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &json!({"properties": {"height_m": 9.5, "power_supply": "continuous", "status": "unavailable"}}),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["properties"]["height_m"], 9.5);

    let before_count = count(&app, &token).await;
    let before_asset = get_ok(&app, &token, &format!("/v1/assets/{id}")).await;
    let (lon, lat) = (-2.3, 53.45);
    let before_nearest = nearest(&app, &token, lon, lat, 25).await;
    assert_eq!(before_count, 163);

    let app = app.restart().await;
    // The token was stored, so it still works.
    assert_eq!(count(&app, &token).await, before_count);
    let after_asset = get_ok(&app, &token, &format!("/v1/assets/{id}")).await;
    assert_eq!(
        after_asset, before_asset,
        "the patched asset changed across a restart"
    );
    assert_eq!(after_asset["properties"]["height_m"], 9.5);
    assert_eq!(after_asset["properties"]["power_supply"], "continuous");
    assert_eq!(after_asset["properties"]["status"], "unavailable");
    let after_nearest = nearest(&app, &token, lon, lat, 25).await;
    assert_eq!(
        after_nearest, before_nearest,
        "nearest changed across a restart"
    );
    assert_eq!(
        all_assets(&app, &token).await,
        assets_after_patch(assets, &before_asset)
    );
}

/// The listing before the patch with the patched feature swapped in.
fn assets_after_patch(mut assets: Vec<Value>, patched: &Value) -> Vec<Value> {
    for f in &mut assets {
        if f["id"] == patched["id"] {
            *f = patched.clone();
        }
    }
    assets
}

on_both_databases!(register_survives_a_restart, survives_restart);

// ---------------------------------------------------------------------------
// 5. Writes show up at once; another process's writes after catch_up.
// ---------------------------------------------------------------------------

fn refs_in(answer: &Value) -> Vec<String> {
    features(answer)
        .iter()
        .map(|f| ref_of(f).to_string())
        .collect()
}

async fn writes_visible(app: TestApp) {
    let Some((cctv_bytes, cctv)) = shared_file(CCTV) else {
        return;
    };
    let token = trafford(&app).await;
    import(&app, &token, "cctv_column", "camera_id", cctv_bytes).await;
    let sites = sites(&cctv, "camera_id");
    let assets = all_assets(&app, &token).await;
    let moved = &sites[10];
    let id = id_by_ref(&assets, &moved.reference);

    // PUT moves the asset to a spot with no camera near it.
    let (to_lon, to_lat) = (-2.4512, 53.4101);
    let nearest_site = by_distance(&sites, Point::new(to_lon, to_lat))[0].0;
    assert!(nearest_site > 500.0, "the new spot is clear of cameras");
    let (s, b) = app
        .json(
            Method::PUT,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [to_lon, to_lat]},
                "properties": {"ref": moved.reference, "kind": "cctv_column", "height_m": 6.0},
            }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let answer = nearest(&app, &token, to_lon, to_lat, 3).await;
    assert_eq!(features(&answer)[0]["id"], id.as_str(), "{answer}");
    assert_eq!(features(&answer)[0]["properties"]["distance_m"], 0.0);
    let answer = nearest(&app, &token, moved.lon, moved.lat, 5).await;
    assert!(
        !refs_in(&answer).contains(&moved.reference),
        "still at its old spot: {answer}"
    );
    let d = 0.0005;
    let old_box = format!(
        "{},{},{},{}",
        moved.lon - d,
        moved.lat - d,
        moved.lon + d,
        moved.lat + d
    );
    let new_box = format!(
        "{},{},{},{}",
        to_lon - d,
        to_lat - d,
        to_lon + d,
        to_lat + d
    );
    let listed = get_ok(&app, &token, &format!("/v1/assets?bbox={old_box}")).await;
    assert!(!refs_in(&listed).contains(&moved.reference));
    let listed = get_ok(&app, &token, &format!("/v1/assets?bbox={new_box}")).await;
    assert_eq!(refs_in(&listed), vec![moved.reference.clone()]);

    // DELETE removes it from the list and from nearest.
    let (s, b) = app
        .json(
            Method::DELETE,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &Value::Null,
        )
        .await;
    assert_eq!(s, 204, "{b}");
    let (s, _) = app.get(&format!("/v1/assets/{id}"), Some(&token)).await;
    assert_eq!(s, 404);
    assert_eq!(count(&app, &token).await, 162);
    assert!(
        !all_assets(&app, &token)
            .await
            .iter()
            .any(|f| f["id"] == id.as_str())
    );
    let answer = nearest(&app, &token, to_lon, to_lat, 3).await;
    assert!(
        !refs_in(&answer).contains(&moved.reference),
        "deleted but still nearest: {answer}"
    );
    let listed = get_ok(&app, &token, &format!("/v1/assets?bbox={new_box}")).await;
    assert_eq!(listed["numberMatched"], 0);

    // A second process writes the same database: one new asset, one moved,
    // one deleted. This server sees them once it catches up.
    use streetcell::domain::asset::{AssetDetails, AssetKind, AssetStatus, PowerSupply};
    let other = streetcell::store::Store::connect(&app.db_url)
        .await
        .expect("second store");
    let details = |reference: &str, lon: f64, lat: f64| AssetDetails {
        asset_ref: reference.to_string(),
        kind: AssetKind::LampPost,
        geometry: geo::Geometry::Point(Point::new(lon, lat)),
        height_m: Some(10.0),
        power_supply: PowerSupply::PartNight,
        capacity: 2,
        load_rating_kg: None,
        last_inspected: None,
        install_year: Some(2019),
        status: AssetStatus::Available,
        listed: false,
        photo_url: None,
        source_attributes: Default::default(),
    };
    let (new_lon, new_lat) = (-2.4405, 53.3702);
    let shifted = &sites[20];
    let (shift_lon, shift_lat) = (-2.3011, 53.3791);
    let gone = &sites[30];
    let written = other
        .upsert_assets(
            AUTHORITY,
            &[
                details("EXT-1", new_lon, new_lat),
                details(&shifted.reference, shift_lon, shift_lat),
            ],
        )
        .await
        .expect("second process writes");
    let new_id = written[0].id.clone();
    let gone_id = id_by_ref(&assets, &gone.reference);
    assert_eq!(
        other
            .delete_asset(&gone_id)
            .await
            .expect("second process deletes"),
        streetcell::store::Deleted::Yes
    );
    other.close().await;

    // Not yet seen (no catch-up loop runs in tests)...
    let (s, _) = app.get(&format!("/v1/assets/{new_id}"), Some(&token)).await;
    assert_eq!(s, 404, "seen before catch_up");
    // ...then seen.
    let refreshed = app.register.catch_up().await.expect("catch up");
    assert!(refreshed >= 3, "catch_up refreshed {refreshed}");
    let fetched = get_ok(&app, &token, &format!("/v1/assets/{new_id}")).await;
    assert_eq!(fetched["properties"]["ref"], "EXT-1");
    assert_eq!(fetched["properties"]["power_supply"], "part_night");
    let answer = nearest(&app, &token, new_lon, new_lat, 1).await;
    assert_eq!(refs_in(&answer), vec!["EXT-1".to_string()]);
    let answer = nearest(&app, &token, shift_lon, shift_lat, 1).await;
    assert_eq!(refs_in(&answer), vec![shifted.reference.clone()]);
    assert_eq!(features(&answer)[0]["properties"]["kind"], "lamp_post");
    let answer = nearest(&app, &token, shifted.lon, shifted.lat, 3).await;
    assert!(!refs_in(&answer).contains(&shifted.reference), "{answer}");
    let (s, _) = app
        .get(&format!("/v1/assets/{gone_id}"), Some(&token))
        .await;
    assert_eq!(s, 404, "deleted by the other process but still served");
    let answer = nearest(&app, &token, gone.lon, gone.lat, 3).await;
    assert!(!refs_in(&answer).contains(&gone.reference), "{answer}");
    assert_eq!(count(&app, &token).await, 162);
    // Catching up again changes nothing.
    let before = all_assets(&app, &token).await;
    app.register.catch_up().await.expect("catch up");
    assert_eq!(all_assets(&app, &token).await, before);
}

on_both_databases!(
    writes_are_visible_at_once_and_after_catch_up,
    writes_visible
);

// ---------------------------------------------------------------------------
// 6. Concurrent overlapping imports.
// ---------------------------------------------------------------------------

const FILES: usize = 8;
const PER_FILE: usize = 16;
const STRIDE: usize = 4;

/// File `i` of the concurrent imports: refs `C-{i*STRIDE}..` in a varying
/// order, each tagged with the file it came from.
fn overlapping_file(i: usize) -> Vec<u8> {
    let mut refs: Vec<usize> = (i * STRIDE..i * STRIDE + PER_FILE).collect();
    if i % 2 == 1 {
        refs.reverse();
    }
    let features: Vec<Value> = refs
        .iter()
        .map(|&j| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35 + j as f64 * 0.0003, 53.42 + (j % 7) as f64 * 0.0002]},
                "properties": {"ref": format!("C-{j:03}"), "kind": "lamp_post", "file": i},
            })
        })
        .collect();
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).expect("json")
}

async fn concurrent_imports(app: TestApp) {
    let token = trafford(&app).await;
    let union: BTreeSet<String> = (0..(FILES - 1) * STRIDE + PER_FILE)
        .map(|j| format!("C-{j:03}"))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..FILES {
        let client = app.client.clone();
        let url = app.url(&format!("/v1/authorities/{AUTHORITY}/imports"));
        let token = token.clone();
        tasks.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", GEOJSON)
                .body(overlapping_file(i))
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (i, status, body)
        });
    }
    let mut inserted = 0;
    let mut written = 0;
    while let Some(done) = tasks.join_next().await {
        let (i, status, body) = done.expect("task");
        assert_eq!(status, 200, "import {i}: {body}");
        assert_eq!(body["rejected"], json!([]), "import {i}: {body}");
        inserted += body["inserted"].as_u64().expect("inserted");
        written += body["inserted"].as_u64().unwrap() + body["updated"].as_u64().expect("updated");
    }
    assert_eq!(
        inserted as usize,
        union.len(),
        "each ref inserted exactly once"
    );
    assert_eq!(written as usize, FILES * PER_FILE);

    let listed = all_assets(&app, &token).await;
    let refs: Vec<&str> = listed.iter().map(ref_of).collect();
    let set: BTreeSet<String> = refs.iter().map(|r| r.to_string()).collect();
    assert_eq!(refs.len(), set.len(), "duplicate refs: {refs:?}");
    assert_eq!(set, union);
    assert_eq!(count(&app, &token).await as usize, union.len());

    // The index holds what the database holds: a restart reloads it from
    // the database and must give the same features.
    let app = app.restart().await;
    assert_eq!(
        all_assets(&app, &token).await,
        listed,
        "index and database disagree"
    );
}

on_both_databases!(
    concurrent_overlapping_imports_end_with_the_union,
    concurrent_imports
);

on_both_databases!(
    a_ref_cannot_change_so_reimports_find_the_same_asset,
    |app: TestApp| async move {
        let staff = app.authority("trafford").await;
        let feature = |r: &str| {
            serde_json::json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.39]},
                "properties": {"ref": r, "kind": "lamp_post"}})
        };
        let (s, b) = app
            .json(
                reqwest::Method::POST,
                "/v1/authorities/trafford/assets",
                Some(&staff),
                &feature("OLD"),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let id = b["id"].as_str().unwrap().to_string();
        let path = format!("/v1/assets/{id}");
        let (s, b) = app
            .json(
                reqwest::Method::PATCH,
                &path,
                Some(&staff),
                &serde_json::json!({"properties": {"ref": "NEW"}}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "ref");
        let (s, b) = app
            .json(reqwest::Method::PUT, &path, Some(&staff), &feature("NEW"))
            .await;
        assert_eq!(s, 422, "{b}");
        // Re-importing the same ref updates the same asset.
        let body = serde_json::to_vec(
            &serde_json::json!({"type": "FeatureCollection", "features": [feature("OLD")]}),
        )
        .unwrap();
        let (s, b) = app
            .post_bytes(
                "/v1/authorities/trafford/imports",
                Some(&staff),
                "application/geo+json",
                body,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["inserted"].as_u64(), b["updated"].as_u64()),
            (Some(0), Some(1))
        );
    }
);
