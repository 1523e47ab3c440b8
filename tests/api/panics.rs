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

/// A MultiPolygon on which geo 0.33's `relate` fails an assertion
/// ("(dim_a != ZeroDimensional && dim_b != ZeroDimensional) || ...") when the
/// validity check relates its polygons pairwise: a self-crossing ring, and a
/// ring whose positions are all one point. Found by fuzzing `validate` with
/// polygons on a coarse grid. The assertion is a `debug_assert!`: where debug
/// assertions are off (a release build) `relate` goes on and the validity
/// check refuses the ring on its own grounds, still a 422 naming `geometry`.
fn relate_panics_on() -> serde_json::Value {
    serde_json::json!({"type": "MultiPolygon", "coordinates": [
        [[[-2.299, 53.402], [-2.298, 53.405], [-2.299, 53.405], [-2.3, 53.4], [-2.298, 53.403],
          [-2.299, 53.402]]],
        [[[-2.299, 53.401], [-2.299, 53.401], [-2.299, 53.401], [-2.299, 53.401]],
         [[-2.296, 53.401], [-2.296, 53.401], [-2.3, 53.402], [-2.296, 53.401]]]]})
}

crate::on_both_databases!(
    a_geometry_geo_panics_on_is_a_422_naming_it,
    |app: crate::helpers::TestApp| async move {
        use crate::helpers::ADMIN;
        let staff = app.authority("north").await;
        let cases = [
            (
                "/v1/assets/search",
                ADMIN.to_string(),
                serde_json::json!({"geometry": relate_panics_on()}),
            ),
            (
                "/v1/authorities/north/assets",
                staff.clone(),
                serde_json::json!({"type": "Feature", "geometry": relate_panics_on(),
                    "properties": {"ref": "B1", "kind": "rooftop"}}),
            ),
        ];
        for (path, token, body) in cases {
            let (s, b) = app
                .json(reqwest::Method::POST, path, Some(&token), &body)
                .await;
            assert_eq!(s, 422, "{path}: {b}");
            assert_eq!(b["errors"][0]["field"], "geometry", "{path}: {b}");
            if cfg!(debug_assertions) {
                assert!(
                    b["errors"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("could not be checked"),
                    "{path}: {b}"
                );
            }
        }
        // The service goes on answering.
        let (s, _) = app.get("/healthz", None).await;
        assert_eq!(s, 200);
    }
);
