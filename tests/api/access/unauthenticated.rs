//! Requests without a valid token get 401 problems.

use super::*;

on_both_databases!(
    requests_without_a_valid_token_get_401_problems,
    |app: TestApp| async move {
        let w = world(&app).await;
        let patch = Body::Json(json!({"properties": {"height_m": 9.0}}));
        let put = Body::Json(point_feature("B-1", -2.30, 53.46, 9.0));
        let routes: Vec<(Method, String, Body)> = vec![
            (Method::GET, "/v1/assets".into(), Body::None),
            (Method::GET, format!("/v1/assets/{}", w.b1), Body::None),
            (
                Method::GET,
                "/v1/assets/nearest?lon=-2.3&lat=53.4".into(),
                Body::None,
            ),
            (
                Method::POST,
                "/v1/assets/search".into(),
                Body::Json(
                    json!({"geometry": {"type": "Point", "coordinates": [-2.3, 53.46]}, "buffer_m": 100}),
                ),
            ),
            (Method::GET, "/v1/authorities/beta/areas".into(), Body::None),
            (Method::PUT, format!("/v1/assets/{}", w.b1), put),
            (Method::PATCH, format!("/v1/assets/{}", w.b1), patch),
            (Method::DELETE, format!("/v1/assets/{}", w.b1), Body::None),
            (
                Method::POST,
                "/v1/authorities/beta/assets".into(),
                Body::Json(point_feature("B-2", -2.3, 53.4, 8.0)),
            ),
            (
                Method::POST,
                "/v1/authorities/beta/imports?kind=lamp_post".into(),
                Body::Csv(CSV),
            ),
            (
                Method::POST,
                "/v1/authorities/beta/areas?layer=ward".into(),
                Body::GeoJson(ward_layer()),
            ),
            (
                Method::POST,
                "/v1/authorities".into(),
                Body::Json(json!({"code": "gamma", "name": "G"})),
            ),
            (
                Method::POST,
                "/v1/organisations".into(),
                Body::Json(json!({"slug": "o2", "name": "O2"})),
            ),
            (
                Method::POST,
                "/v1/tokens".into(),
                Body::Json(json!({"role": "admin", "name": "sneaky"})),
            ),
        ];
        let bad_tokens: [(&'static str, Option<&str>); 4] = [
            ("nobody", None),
            ("garbage token", Some("sc_not-a-real-token")),
            ("admin token with a typo", Some("test-admin-tokem")),
            ("empty-ish token", Some("x")),
        ];
        let mut cases = Vec::new();
        for (who, token) in bad_tokens {
            for (method, path, body) in &routes {
                cases.push(Case {
                    who,
                    token: token.map(str::to_string),
                    method: method.clone(),
                    path: path.clone(),
                    body: body.clone(),
                    expect: 401,
                });
            }
        }
        run_table(&app, &cases).await;

        // Not a bearer scheme at all, or an empty bearer: still 401.
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearer ",
            "Bearer",
            "sc_token_without_scheme",
        ] {
            let resp = app
                .client
                .get(app.url("/v1/assets"))
                .header("authorization", value)
                .send()
                .await
                .expect("request");
            assert_eq!(
                resp.headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap()),
                Some("Bearer"),
                "{value:?}"
            );
            problem(resp, 401).await;
        }

        // Nothing was changed by any of that.
        let (s, b) = app
            .get(&format!("/v1/assets/{}", w.b1), Some(&w.staff_b))
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["properties"]["height_m"], 8.0);
        let (s, b) = app.get("/v1/assets", Some(&w.operator)).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["numberMatched"], 2, "{b}");
        let (s, b) = app.get("/v1/authorities", None).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["authorities"].as_array().map(Vec::len), Some(2), "{b}");
    }
);
