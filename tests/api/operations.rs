//! Issue 15, operations: `/readyz`, `/metrics` and request ids.

use serde_json::Value;

use crate::helpers::{TestApp, problem};
use crate::on_both_databases;

on_both_databases!(
    readyz_says_ready_and_503_once_the_database_is_gone,
    |app: TestApp| async move {
        let (s, b) = app.get("/readyz", None).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["status"], "ready", "{b}");
        assert_eq!(b["assets"], 0, "{b}");
        // An asset written by another process is caught up with before
        // readiness is claimed... (the test server runs no follower loop)
        let staff = app.authority("alpha").await;
        let other = app.other_process().await;
        let csv = b"ref,kind,lon,lat\nA-1,lamp_post,-2.3,53.4\n";
        let rows = streetcell::import::parse_csv(csv, &Default::default()).unwrap();
        streetcell::register::import_rows(
            streetcell::register::ImportTarget::Store(&other),
            "alpha",
            rows,
            &|_| {},
        )
        .await
        .unwrap();
        // (the index last caught up at load, so it is "fresh" for a few
        // seconds; a catch-up makes the change visible either way)
        app.register.catch_up().await.unwrap();
        let (s, b) = app.get("/readyz", None).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["assets"], 1, "{b}");
        let _ = staff;
        // ...and with the database closed, the replica is not ready.
        app.register.close().await;
        let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
        problem(resp, 503).await;
    }
);

on_both_databases!(
    metrics_count_requests_by_route_and_status,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        for _ in 0..3 {
            app.get("/v1/assets/nope", Some(&staff)).await;
        }
        let csv = b"ref,kind,lon,lat\nA-1,lamp_post,-2.3,53.4\nA-2,lamp_post,999,53.4\n".to_vec();
        app.post_bytes(
            "/v1/authorities/alpha/imports",
            Some(&staff),
            "text/csv",
            csv,
        )
        .await;
        let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        let text = resp.text().await.unwrap();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has(
                r#"streetcell_http_requests_total{route="/v1/assets/{id}",method="GET",status="404"} 3"#
            ),
            "{text}"
        );
        assert!(
            has(
                r#"streetcell_http_request_duration_seconds_count{route="/v1/assets/{id}",method="GET"} 3"#
            ),
            "{text}"
        );
        assert!(has("streetcell_index_assets 1"), "{text}");
        assert!(
            has(r#"streetcell_import_rows_total{outcome="inserted"} 1"#),
            "{text}"
        );
        assert!(
            has(r#"streetcell_import_rows_total{outcome="rejected"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("streetcell_change_feed_lag_seconds "),
            "{text}"
        );
        assert!(text.contains("streetcell_open_connections "), "{text}");
        // Every line is a comment or `name{labels} number`.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = l.rsplit_once(' ').unwrap();
            assert!(v.parse::<f64>().is_ok(), "{l}");
        }
        // Unknown paths do not make a series each.
        app.get("/no/such/path/123", None).await;
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("/no/such/path"), "{text}");
        assert!(text.contains(r#"route="unmatched""#), "{text}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await else {
        return;
    };
    let a = app.client.get(app.url("/healthz")).send().await.unwrap();
    let b = app.client.get(app.url("/v1/assets")).send().await.unwrap();
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string())
            .expect("x-request-id")
    };
    let (ia, ib) = (id(&a), id(&b));
    assert_ne!(ia, ib);
    assert_eq!(b.status(), 401, "errors carry one too");
    let _: Value = b.json().await.unwrap();
    // A client's own id is kept.
    let c = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&c), "trace-abc-123");
}
