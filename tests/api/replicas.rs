//! Two replicas over one PostgreSQL database (issue 15): concurrent writes
//! on both (an HTTP import on one, PATCHes on both, a fee schedule
//! publication on the other), then each replica catches up and holds
//! exactly what the database holds, row by row.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Db, TestApp, spawn_app, start};

const AUTHORITY: &str = "shelbyville";

async fn patch_height(app: &TestApp, token: &str, id: &str, height: f64) {
    let (s, b) = app
        .json(
            Method::PATCH,
            &format!("/v1/assets/{id}"),
            Some(token),
            &json!({"properties": {"height_m": height}}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_under_concurrent_writes_on_both_equal_the_database() {
    let Some(a) = spawn_app(Db::Postgres).await else {
        return;
    };
    let b = start(a.db_url.clone(), None, false).await;
    let staff = a.authority(AUTHORITY).await;

    // Assets to edit, created through B.
    let mut ids = Vec::new();
    for i in 0..40 {
        let (s, body) = b
            .json(
                Method::POST,
                &format!("/v1/authorities/{AUTHORITY}/assets"),
                Some(&staff),
                &json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [-2.30 - i as f64 * 1e-3, 53.40]},
                    "properties": {"ref": format!("EDIT-{i}"), "kind": "lamp_post"}}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }

    // A follows B's creations (a server does so every second).
    a.register.catch_up().await.expect("A catches up");

    // At once: a 3,000-row import on A, PATCHes on both (each asset twice,
    // once through each replica), and a fee schedule published through B.
    let mut csv = String::from("ref,kind,lon,lat,height_m\n");
    for i in 0..3000 {
        csv.push_str(&format!(
            "IMP-{i},lamp_post,{:.5},{:.5},{}\n",
            -2.40 + (i % 100) as f64 * 1e-3,
            53.30 + (i / 100) as f64 * 1e-3,
            5 + i % 7
        ));
    }
    let import = async {
        let (s, body) = a
            .post_bytes(
                &format!("/v1/authorities/{AUTHORITY}/imports?kind=lamp_post"),
                Some(&staff),
                "text/csv",
                csv.into_bytes(),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["inserted"], 3000, "{body}");
    };
    let patches = async {
        let on_a = ids
            .iter()
            .enumerate()
            .map(|(i, id)| patch_height(&a, &staff, id, 6.0 + i as f64));
        let on_b = ids
            .iter()
            .enumerate()
            .map(|(i, id)| patch_height(&b, &staff, id, 100.0 + i as f64));
        join_all(on_a.chain(on_b)).await;
    };
    let publish = async {
        let schedule: serde_json::Value =
            serde_json::from_str(include_str!("../../data/fees/fcc-2018-safe-harbour.json"))
                .unwrap();
        let (s, body) = b
            .json(
                Method::PUT,
                &format!("/v1/authorities/{AUTHORITY}/fee-schedule"),
                Some(&staff),
                &schedule,
            )
            .await;
        assert_eq!(s, 201, "{body}");
    };
    // Meanwhile both replicas follow the change feed as servers do (every
    // 20 ms here, not every second), so a cursor that passed a change still
    // in flight would leave a gap for good.
    let done = std::sync::atomic::AtomicBool::new(false);
    let follow = async {
        let mut rounds = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            a.register.catch_up().await.expect("A follows");
            b.register.catch_up().await.expect("B follows");
            rounds += 1;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        rounds
    };
    let writes = async {
        tokio::join!(import, patches, publish);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let ((), rounds) = tokio::join!(writes, follow);
    assert!(
        rounds >= 2,
        "the replicas followed {rounds} times during the writes"
    );

    a.register.catch_up().await.expect("A catches up");
    b.register.catch_up().await.expect("B catches up");

    // The database, row by row.
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&a.db_url)
        .await
        .expect("connect");
    let rows: Vec<(String, i64, Option<f64>)> =
        sqlx::query_as("SELECT id, revision, height_m FROM assets ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .expect("read assets");
    assert_eq!(rows.len(), 3040);
    for (name, replica) in [("A", &a.register), ("B", &b.register)] {
        let snap = replica.assets().snapshot();
        assert_eq!(snap.len(), rows.len(), "replica {name}: asset count");
        for (id, revision, height) in &rows {
            let l = snap
                .get(id)
                .unwrap_or_else(|| panic!("replica {name} misses {id}"));
            assert_eq!(l.asset.revision, *revision, "replica {name}: {id} revision");
            assert_eq!(
                l.asset.details.height_m, *height,
                "replica {name}: {id} height"
            );
        }
        assert_eq!(
            replica.fee_schedule_history(AUTHORITY).len(),
            1,
            "replica {name}: the published schedule"
        );
    }
    // Each edited asset took both patches: revision 3 (created, then two).
    for id in &ids {
        let row = rows.iter().find(|r| &r.0 == id).unwrap();
        assert_eq!(row.1, 3, "{id}");
    }
}
