//! A server following a large write by another process (a CLI import into
//! the same database) keeps answering its own writes: catching up takes the
//! publication lock one feed batch at a time, so an officer's PATCH waits
//! for at most one batch, not for the whole backlog. (It once waited for the
//! whole import: 37 s for a 1M-row CLI import.)

use std::sync::Arc;

use streetcell::domain::reimport::ImportMode;
use streetcell::import::parse_csv;
use streetcell::register::{ImportTarget, import_rows_in_batches};

use super::*;
use crate::helpers::{Db, spawn_app};

/// Five of the change feed's 10,000-row batches.
const ROWS: usize = 50_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_during_a_long_catch_up_waits_for_one_feed_batch_not_all_of_them() {
    let app = spawn_app(Db::Sqlite).await.expect("SQLite is always here");
    let token = app.authority(AUTHORITY).await;
    let (s, created) = app
        .json(
            Method::POST,
            &format!("/v1/authorities/{AUTHORITY}/assets"),
            Some(&token),
            &json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.42]},
                "properties": {"ref": "OWN-1", "kind": "lamp_post", "height_m": 8}}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();

    // Another process writes a large import; the server has not seen it.
    let mut csv = String::from("ref,kind,lon,lat,height_m\n");
    for i in 0..ROWS {
        let (lon, lat) = (
            -2.48 + (i % 250) as f64 * 8e-4,
            53.35 + (i / 250) as f64 * 6e-4,
        );
        csv.push_str(&format!("CLI-{i},lamp_post,{lon:.5},{lat:.5},10\n"));
    }
    let other = app.other_process().await;
    let report = import_rows_in_batches(
        ImportTarget::Store(&other),
        AUTHORITY,
        ImportMode::Merge,
        parse_csv(csv.as_bytes(), &Default::default()).expect("parse"),
        10_000,
        &|_| {},
    )
    .await
    .expect("the other process imports");
    assert_eq!(report.inserted, ROWS);
    other.close().await;
    let before = app.register.assets().snapshot().len();
    assert_eq!(before, 1);

    // The server starts catching up; once its first batch is in the index,
    // the officer saves an edit through the server.
    let register = Arc::clone(&app.register);
    let catching_up = tokio::spawn(async move { register.catch_up().await });
    let started = Instant::now();
    while app.register.assets().snapshot().len() == before {
        assert!(
            started.elapsed().as_secs() < 120,
            "catch_up published nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let (s, patched) = app
        .json(
            Method::PATCH,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &json!({"properties": {"height_m": 11}}),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    let seen = app.register.assets().snapshot().len();
    assert!(
        seen < before + ROWS,
        "the PATCH answered only once the whole backlog was caught up ({seen} assets indexed)"
    );

    // Catching up still ends with everything, the edit included.
    let refreshed = catching_up.await.expect("join").expect("catch up");
    assert!(refreshed >= ROWS, "refreshed {refreshed}");
    assert_eq!(app.register.assets().snapshot().len(), before + ROWS);
    let (s, fetched) = app.get(&format!("/v1/assets/{id}"), Some(&token)).await;
    assert_eq!(s, 200, "{fetched}");
    assert_eq!(fetched["properties"]["height_m"], 11.0);
}
