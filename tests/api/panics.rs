//! A panic while answering (an assertion inside `geo` on a degenerate
//! geometry) is a problem+json answer, never a dropped connection.

use axum::Router;
use axum::middleware::from_fn;
use axum::routing::get;

use crate::helpers::content_type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_problem_json_and_keeps_serving() {
    // The service's own middleware around a handler that panics the way a
    // geometry library's assertion does.
    let router = Router::new()
        .route(
            "/boom",
            get(|| async {
                let v: Vec<u8> = Vec::new();
                assert!(!v.is_empty(), "found single null side");
                "unreachable"
            }),
        )
        .route("/fine", get(|| async { "fine" }))
        .layer(from_fn(streetcell::http::error::catch_panics));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    // One client: the second request reuses the connection if it survived.
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("http://{addr}/boom"))
        .send()
        .await
        .expect("an answer, not a closed connection");
    assert_eq!(resp.status(), 500);
    assert_eq!(content_type(&resp), "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 500);
    // No internals in the answer: the panic is logged, not shown.
    assert!(
        !body["detail"].as_str().unwrap().contains("null side"),
        "{body}"
    );
    let resp = client
        .get(format!("http://{addr}/fine"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "fine");
}
