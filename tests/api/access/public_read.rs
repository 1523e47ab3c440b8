//! `--public-read`: reads need no token, writes still do.

use super::*;

/// `--public-read`: reads need no token, a bad token is still refused, and
/// every write still needs a token with the right role.
async fn public_read(db: Db) {
    let Some((url, dir)) = fresh_database(db).await else {
        return;
    };
    let app = start(url, dir, true).await;
    let w = world(&app).await;
    let b1 = format!("/v1/assets/{}", w.b1);
    let search = Body::Json(json!({
        "geometry": {"type": "Point", "coordinates": [-2.30, 53.46]}, "buffer_m": 50
    }));
    let case = |who, token: Option<String>, method: Method, path: &str, body: Body, expect| Case {
        who,
        token,
        method,
        path: path.to_string(),
        body,
        expect,
    };
    let cases = vec![
        case("nobody", None, Method::GET, "/v1/assets", Body::None, 200),
        case("nobody", None, Method::GET, &b1, Body::None, 200),
        case(
            "nobody",
            None,
            Method::GET,
            "/v1/assets/nearest?lon=-2.3&lat=53.46&k=1",
            Body::None,
            200,
        ),
        case(
            "nobody",
            None,
            Method::POST,
            "/v1/assets/search",
            search.clone(),
            200,
        ),
        case(
            "nobody",
            None,
            Method::GET,
            "/v1/authorities/beta/areas",
            Body::None,
            200,
        ),
        case(
            "nobody",
            None,
            Method::GET,
            "/v1/authorities",
            Body::None,
            200,
        ),
        case(
            "nobody",
            None,
            Method::GET,
            "/v1/assets/nope-0000000000000000",
            Body::None,
            404,
        ),
        // A token that is sent is checked even here.
        case(
            "garbage",
            Some("sc_garbage".into()),
            Method::GET,
            "/v1/assets",
            Body::None,
            401,
        ),
        case(
            "garbage",
            Some("sc_garbage".into()),
            Method::GET,
            &b1,
            Body::None,
            401,
        ),
        case(
            "garbage",
            Some("sc_garbage".into()),
            Method::POST,
            "/v1/assets/search",
            search.clone(),
            401,
        ),
        // Valid tokens read as before.
        case(
            "operator",
            Some(w.operator.clone()),
            Method::GET,
            &b1,
            Body::None,
            200,
        ),
        // Writes still need a token...
        case(
            "nobody",
            None,
            Method::PUT,
            &b1,
            Body::Json(point_feature("B-1", -2.3, 53.46, 1.0)),
            401,
        ),
        case(
            "nobody",
            None,
            Method::PATCH,
            &b1,
            Body::Json(json!({"properties": {"height_m": 1.0}})),
            401,
        ),
        case("nobody", None, Method::DELETE, &b1, Body::None, 401),
        case(
            "nobody",
            None,
            Method::POST,
            "/v1/authorities/beta/assets",
            Body::Json(point_feature("B-2", -2.3, 53.4, 1.0)),
            401,
        ),
        case(
            "nobody",
            None,
            Method::POST,
            "/v1/authorities/beta/imports?kind=lamp_post",
            Body::Csv(CSV),
            401,
        ),
        case(
            "nobody",
            None,
            Method::POST,
            "/v1/authorities/beta/areas?layer=ward",
            Body::GeoJson(ward_layer()),
            401,
        ),
        case(
            "nobody",
            None,
            Method::POST,
            "/v1/authorities",
            Body::Json(json!({"code": "g", "name": "G"})),
            401,
        ),
        case(
            "nobody",
            None,
            Method::POST,
            "/v1/tokens",
            Body::Json(json!({"role": "admin", "name": "t"})),
            401,
        ),
        // ...and the right one.
        case(
            "staff A",
            Some(w.staff_a.clone()),
            Method::DELETE,
            &b1,
            Body::None,
            403,
        ),
        case(
            "operator",
            Some(w.operator.clone()),
            Method::PATCH,
            &b1,
            Body::Json(json!({"properties": {"height_m": 1.0}})),
            403,
        ),
        case(
            "staff B",
            Some(w.staff_b.clone()),
            Method::PATCH,
            &b1,
            Body::Json(json!({"properties": {"height_m": 7.0}})),
            200,
        ),
    ];
    run_table(&app, &cases).await;
    let (s, b) = app.get(&b1, None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["properties"]["height_m"], 7.0, "{b}");
    let (_, b) = app.get("/v1/assets", None).await;
    assert_eq!(b["numberMatched"], 2, "{b}");
}

mod public_read_serves_reads_without_a_token {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        public_read(Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        public_read(Db::Postgres).await;
    }
}
