//! Issue 12, start-up snapshots: a register started from a snapshot and the
//! change feed since gives the answers a load from the database gives, and
//! a snapshot the database cannot vouch for (damaged, of another database,
//! older than the change log) is not used.

use std::path::Path;

use geo::MultiPolygon;
use reqwest::Method;
use serde_json::{Value, json};
use streetcell::domain::area::AreaLayer;
use streetcell::domain::asset::Asset;
use streetcell::register::{ImportTarget, Register, StartedFrom, import_rows};
use streetcell::store::Store;

use crate::helpers::{Db, TestApp, fresh_database, serve_register};
use crate::on_both_databases;

const AUTHORITY: &str = streetcell::demo::AUTHORITY;

/// Every asset a register holds, in id order.
fn every_asset(r: &Register) -> Vec<Asset> {
    streetcell::index::Cursor::new(r.assets().snapshot())
        .map(|l| l.asset.clone())
        .collect()
}

/// Loads the demo register through a second connection and lets `app`
/// follow it.
async fn demo(app: &TestApp) {
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("demo data");
    app.register.catch_up().await.expect("catch up");
}

/// Registers over `app`'s database: one from the snapshot at `path` (and
/// how it started), one loaded from the database alone.
async fn both_ways(app: &TestApp, path: &Path) -> (Register, StartedFrom, Register) {
    let (warm, from) = Register::load_with_snapshot(app.other_process().await, path)
        .await
        .expect("load with a snapshot");
    let cold = Register::load(app.other_process().await)
        .await
        .expect("load from the database");
    (warm, from, cold)
}

/// What a page answers, without what differs between two servers (their
/// addresses in links, the time of the answer).
fn answer(page: &Value) -> Value {
    json!({"features": page["features"], "numberMatched": page["numberMatched"]})
}

/// Serves both registers and checks they answer bbox pages and a nearest
/// query alike; returns the first bbox page.
async fn same_answers(app: &TestApp, warm: Register, cold: Register, token: &str) -> Value {
    let warm = serve_register(app.db_url.clone(), None, false, warm).await;
    let cold = serve_register(app.db_url.clone(), None, false, cold).await;
    let mut first = Value::Null;
    for path in [
        "/v1/assets?bbox=-2.40,53.40,-2.30,53.46&limit=100",
        "/v1/assets?bbox=-2.40,53.40,-2.30,53.46&limit=100&offset=100",
        "/v1/assets/nearest?lon=-2.3522&lat=53.3881&k=25",
        "/collections/assets/items?bbox=-2.36,53.41,-2.32,53.44&limit=50",
    ] {
        let (s1, b1) = warm.get(path, Some(token)).await;
        let (s2, b2) = cold.get(path, Some(token)).await;
        assert_eq!((s1, s2), (200, 200), "{path}: {b1} / {b2}");
        assert!(!b1["features"].as_array().unwrap().is_empty(), "{path}");
        assert_eq!(answer(&b1), answer(&b2), "{path}");
        if first.is_null() {
            first = b1;
        }
    }
    first
}

on_both_databases!(
    a_snapshot_and_the_change_feed_since_answer_as_the_database_does,
    |app: TestApp| async move {
        demo(&app).await;
        let staff = app.token("staff", Some(AUTHORITY), None).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.snapshot");
        let written = app.register.write_snapshot(&path).await.expect("write");
        let before = every_asset(&app.register);
        assert_eq!(written, before.len());
        assert!(written > 1_000, "the demo has {written} assets");

        // After the snapshot: a PATCH and a DELETE over HTTP, a CLI import
        // (merge: updates and new rows), and a ward layer replaced by
        // another process (every placement may move).
        let (patched, deleted) = (before[10].id.clone(), before[20].id.clone());
        let (s, b) = app
            .json(
                Method::PATCH,
                &format!("/v1/assets/{patched}"),
                Some(&staff),
                &json!({"properties": {"height_m": 31.5, "status": "unavailable"}}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let resp = app
            .client
            .delete(app.url(&format!("/v1/assets/{deleted}")))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 204);
        let mut csv = String::from("ref,kind,lon,lat,height_m\n");
        csv.push_str(&format!(
            "{},lamp_post,-2.3300,53.4300,12\n",
            before[30].details.asset_ref
        ));
        for i in 0..50 {
            csv.push_str(&format!(
                "SNAP-{i},lamp_post,{:.4},53.42,7\n",
                -2.36 + f64::from(i) * 1e-3
            ));
        }
        let rows = streetcell::import::parse_csv(csv.as_bytes(), &Default::default()).unwrap();
        let other = app.other_process().await;
        let report = import_rows(ImportTarget::Store(&other), AUTHORITY, rows, &|_| {})
            .await
            .unwrap();
        assert_eq!((report.inserted, report.updated), (50, 1), "{report:?}");
        let square = geo::Polygon::new(
            vec![
                (-2.37, 53.41),
                (-2.33, 53.41),
                (-2.33, 53.44),
                (-2.37, 53.44),
                (-2.37, 53.41),
            ]
            .into(),
            vec![],
        );
        other
            .replace_areas(
                AUTHORITY,
                AreaLayer::Ward,
                &[("Snapshot Ward".to_string(), MultiPolygon(vec![square]))],
            )
            .await
            .unwrap();

        let (warm, from, cold) = both_ways(&app, &path).await;
        match &from {
            // Each change above is one row of the feed (the import's
            // update and inserts, the PATCH, the DELETE); a ward layer is
            // no asset change.
            // (On PostgreSQL the feed's cursor may stop short of rows
            // whose transactions were in doubt, and re-read them.)
            StartedFrom::Snapshot { assets, replayed } => {
                assert_eq!(*assets, before.len() + 50 - 1, "{from:?}");
                if app.db_url.starts_with("sqlite") {
                    assert_eq!(*replayed, 53, "{from:?}");
                } else {
                    assert!(*replayed >= 53, "{from:?}");
                }
            }
            StartedFrom::Database { why } => panic!("the snapshot was not used: {why}"),
        }
        let (w, c) = (every_asset(&warm), every_asset(&cold));
        assert_eq!(w.len(), c.len());
        for (w, c) in w.iter().zip(&c) {
            assert_eq!(w, c, "asset {}", c.id);
        }
        // The checks above compare with what happened, not only with each
        // other: the edits are there and the new ward placed assets.
        let find = |id: &str| w.iter().find(|a| a.id == id);
        assert_eq!(find(&patched).unwrap().details.height_m, Some(31.5));
        assert!(find(&deleted).is_none());
        assert!(
            w.iter()
                .any(|a| a.placement.ward.as_deref() == Some("Snapshot Ward"))
        );
        let page = same_answers(&app, warm, cold, &staff).await;
        assert_eq!(page["features"].as_array().unwrap().len(), 100, "{page}");
    }
);

/// Overwrites `path` with `bytes` changed by `damage`.
fn damage(path: &Path, damage: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    damage(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Loads with the snapshot at `path`, expects it refused for a reason
/// containing `reason`, and the register equal to a database load.
async fn refused(app: &TestApp, path: &Path, reason: &str) {
    let (warm, from, cold) = both_ways(app, path).await;
    match from {
        StartedFrom::Database { why } => assert!(why.contains(reason), "{why:?}, not {reason:?}"),
        other => panic!("the snapshot was used ({other:?}); expected: {reason}"),
    }
    assert_eq!(every_asset(&warm), every_asset(&cold));
}

on_both_databases!(
    a_snapshot_the_database_cannot_vouch_for_is_not_used,
    |app: TestApp| async move {
        demo(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.snapshot");
        let good = dir.path().join("good.snapshot");
        app.register.write_snapshot(&good).await.unwrap();
        let fresh = |from: &Path| std::fs::copy(from, &path).unwrap();

        refused(
            &app,
            &dir.path().join("none.snapshot"),
            "there is no snapshot",
        )
        .await;
        fresh(&good);
        damage(&path, |b| {
            let mid = b.len() / 2;
            b[mid] ^= 1;
        });
        refused(&app, &path, "checksum").await;
        fresh(&good);
        damage(&path, |b| b.truncate(b.len() * 2 / 3));
        refused(&app, &path, "truncated").await;

        // Another database's snapshot, with assets of its own.
        let db = if app.db_url.starts_with("sqlite") {
            Db::Sqlite
        } else {
            Db::Postgres
        };
        let (url, _keep) = fresh_database(db).await.expect("a second database");
        let elsewhere = Store::connect(&url).await.unwrap();
        streetcell::demo::load(&elsewhere).await.unwrap();
        let foreign = dir.path().join("foreign.snapshot");
        Register::load(elsewhere)
            .await
            .unwrap()
            .write_snapshot(&foreign)
            .await
            .unwrap();
        refused(&app, &foreign, "another database").await;

        // The good snapshot is still used...
        let (_, from, _) = both_ways(&app, &good).await;
        assert!(matches!(from, StartedFrom::Snapshot { .. }), "{from:?}");
        // ...until the feed no longer reaches back to it: pruned (as a
        // restore from an older backup would also leave it), then another
        // write.
        let pool = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
        sqlx::query("DELETE FROM asset_changes")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let staff = app.token("staff", Some(AUTHORITY), None).await;
        let id = every_asset(&app.register)[5].id.clone();
        let (s, b) = app
            .json(
                Method::PATCH,
                &format!("/v1/assets/{id}"),
                Some(&staff),
                &json!({"properties": {"height_m": 44.0}}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        refused(&app, &good, "older than the change log").await;
    }
);

/// `streetcell serve` over `url`, logging to `log`; its base URL.
fn serve_binary(url: &str, log: &Path, extra: &[&str]) -> (std::process::Child, String) {
    crate::helpers::spawn_serve(
        std::process::Command::new(env!("CARGO_BIN_EXE_streetcell"))
            .args([
                "serve",
                "--public-read",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                url,
            ])
            .args(extra)
            .env("RUST_LOG", "streetcell=info")
            .env("NO_COLOR", "1")
            .stderr(std::fs::File::create(log).unwrap()),
    )
}

/// Stops `child` as an operator would (SIGTERM) and waits for it.
fn terminate(mut child: std::process::Child, log: &Path) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let logged = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status}\n{logged}"
    );
}

/// What the served register answers to a nearest query and a bbox page.
async fn served(base: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for path in [
        "/v1/assets/nearest?lon=-2.3522&lat=53.3881&k=10",
        "/v1/assets?bbox=-2.40,53.40,-2.30,53.46&limit=100",
    ] {
        let page: Value = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(!page["features"].as_array().unwrap().is_empty(), "{page}");
        out.push(answer(&page));
    }
    out
}

/// The server writes its snapshot when it stops and starts from it next
/// time; a CLI import made while it was down is replayed from the feed.
async fn serve_writes_and_reads_its_snapshot(db: Db) {
    let Some((url, dir)) = fresh_database(db).await else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let (path, extra) = match db {
        // Beside the SQLite file by default.
        Db::Sqlite => (
            format!("{}.snapshot", url.trim_start_matches("sqlite://")),
            vec![],
        ),
        Db::Postgres => {
            let p = work.path().join("pg.snapshot").display().to_string();
            (p.clone(), vec!["--snapshot".to_string(), p])
        }
    };
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let store = Store::connect(&url).await.unwrap();
    streetcell::demo::load(&store).await.unwrap();
    let log = work.path().join("serve.log");

    let (child, _) = serve_binary(&url, &log, &extra);
    terminate(child, &log);
    assert!(Path::new(&path).exists(), "no snapshot at {path}");

    // While it is down: a CLI-style import (another process) moves and
    // adds assets near the queried point.
    let mut csv = String::from("ref,kind,lon,lat\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "DOWN-{i},lamp_post,{:.4},53.3881\n",
            -2.3522 + f64::from(i) * 1e-4
        ));
    }
    let rows = streetcell::import::parse_csv(csv.as_bytes(), &Default::default()).unwrap();
    import_rows(ImportTarget::Store(&store), AUTHORITY, rows, &|_| {})
        .await
        .unwrap();

    let (child, base) = serve_binary(&url, &log, &extra);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("loaded the start-up snapshot"),
        "the snapshot was not used: {logged}"
    );
    let warm = served(&base).await;
    let names: Vec<&str> = warm[0]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["ref"].as_str())
        .collect();
    assert!(names.iter().any(|r| r.starts_with("DOWN-")), "{names:?}");
    terminate(child, &log);

    let (child, base) = serve_binary(&url, &log, &["--no-snapshot"]);
    assert_eq!(served(&base).await, warm);
    terminate(child, &log);
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_writes_and_reads_its_snapshot_sqlite() {
    serve_writes_and_reads_its_snapshot(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_writes_and_reads_its_snapshot_postgres() {
    serve_writes_and_reads_its_snapshot(Db::Postgres).await;
}
