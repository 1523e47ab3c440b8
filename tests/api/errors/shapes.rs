//! The shape of every error: problem+json for malformed, mistyped, oversized and invalid input.

use super::*;

on_both_databases!(malformed_json_is_a_400_problem, |app: TestApp| async move {
    let (staff, id) = one_asset(&app).await;
    let bad: [&[u8]; 6] = [
        b"{",
        b"{\"geometry\": }",
        b"not json at all",
        b"{\"geometry\": 1,}",
        b"\xff\xfe{}",
        b"[",
    ];
    let targets = [
        (Method::POST, "/v1/assets/search".to_string()),
        (Method::POST, "/v1/authorities/alpha/assets".to_string()),
        (Method::PUT, format!("/v1/assets/{id}")),
        (Method::PATCH, format!("/v1/assets/{id}")),
        (Method::POST, "/v1/authorities".to_string()),
        (Method::POST, "/v1/tokens".to_string()),
    ];
    for (method, path) in &targets {
        let token = if path.starts_with("/v1/assets/") || path.contains("alpha") {
            staff.as_str()
        } else {
            ADMIN
        };
        for body in bad {
            let resp = send_raw(
                &app,
                method.clone(),
                path,
                Some(token),
                "application/json",
                body.to_vec(),
            )
            .await;
            problem(resp, 400).await;
        }
    }
    // An empty body is not JSON either.
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/assets/search",
        Some(&staff),
        "application/json",
        vec![],
    )
    .await;
    let status = resp.status().as_u16();
    assert!(status == 400 || status == 422, "{status}");
    problem(resp, status).await;
    // Nothing changed.
    let (_, b) = app.get(&format!("/v1/assets/{id}"), Some(&staff)).await;
    assert_eq!(b["properties"]["ref"], "A-1", "{b}");
});

on_both_databases!(
    invalid_values_are_422_naming_the_field,
    |app: TestApp| async move {
        let (staff, id) = one_asset(&app).await;
        let asset = format!("/v1/assets/{id}");
        let put = |body: Value| {
            let app = &app;
            let asset = asset.clone();
            let staff = staff.clone();
            async move { send_json(app, Method::PUT, &asset, &staff, &body).await }
        };

        // Latitude 95: in a written geometry, and as a query parameter.
        invalid(
            put(feature("A-1", "lamp_post", point(-2.3, 95.0))).await,
            "geometry",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/authorities/alpha/assets",
                &staff,
                &feature("A-2", "lamp_post", point(-2.3, 95.0)),
            )
            .await,
            "geometry",
        )
        .await;
        let resp = app
            .client
            .get(app.url("/v1/assets/nearest?lon=-2.3&lat=95"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        invalid(resp, "lat").await;
        let resp = app
            .client
            .get(app.url("/v1/assets/nearest?lon=181&lat=95"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        let body = invalid(resp, "lon").await;
        assert_eq!(
            body["errors"].as_array().unwrap().len(),
            2,
            "both named: {body}"
        );
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/assets/search",
                &staff,
                &json!({"geometry": point(-2.3, 95.0)}),
            )
            .await,
            "geometry",
        )
        .await;

        // An unknown kind in a PUT (and in a PATCH, a POST and a search filter).
        let body = invalid(
            put(feature("A-1", "spaceship", point(-2.3, 53.4))).await,
            "kind",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains("spaceship"),
            "{body}"
        );
        invalid(
            send_json(
                &app,
                Method::PATCH,
                &asset,
                &staff,
                &json!({"properties": {"kind": "mast"}}),
            )
            .await,
            "kind",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/authorities/alpha/assets",
                &staff,
                &feature("A-3", "mast", point(-2.3, 53.4)),
            )
            .await,
            "kind",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/assets/search",
                &staff,
                &json!({"geometry": point(-2.3, 53.4), "kind": "mast"}),
            )
            .await,
            "kind",
        )
        .await;

        // A Polygon whose ring has 3 positions (closed, so nothing to add).
        let triangle_ring =
            json!({"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.3, 53.4]]]});
        invalid(
            put(feature("A-1", "rooftop", triangle_ring)).await,
            "geometry",
        )
        .await;
        let not_geometry = json!({"type": "Polygon", "coordinates": [-2.3, 53.4]});
        invalid(
            put(feature("A-1", "rooftop", not_geometry.clone())).await,
            "geometry",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/assets/search",
                &staff,
                &json!({"geometry": not_geometry}),
            )
            .await,
            "geometry",
        )
        .await;
        invalid(
            put(feature(
                "A-1",
                "lamp_post",
                json!({"type": "LineString", "coordinates": [[-2.3, 53.4], [-2.2, 53.4]]}),
            ))
            .await,
            "geometry",
        )
        .await;

        // Positions with fewer than two numbers (these used to panic in the
        // geojson crate's conversion and drop the connection).
        for short in [
            json!({"type": "Point", "coordinates": []}),
            json!({"type": "Point", "coordinates": [-2.3]}),
            json!({"type": "LineString", "coordinates": [[-2.3, 53.4], [-2.2]]}),
            json!({"type": "MultiPoint", "coordinates": [[]]}),
            json!({"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.2], [-2.3, 53.4]]]}),
            json!({"type": "MultiPolygon", "coordinates": [[[[-2.3, 53.4], [1.0], [-2.2, 53.5], [-2.3, 53.4]]]]}),
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0.5]}]}),
        ] {
            invalid(
                send_json(
                    &app,
                    Method::POST,
                    "/v1/assets/search",
                    &staff,
                    &json!({"geometry": short.clone(), "buffer_m": 10}),
                )
                .await,
                "geometry",
            )
            .await;
            invalid(
                put(feature("A-1", "rooftop", short.clone())).await,
                "geometry",
            )
            .await;
            invalid(
                send_json(
                    &app,
                    Method::PATCH,
                    &asset,
                    &staff,
                    &json!({"geometry": short.clone()}),
                )
                .await,
                "geometry",
            )
            .await;
        }

        // A negative (or absurd) buffer.
        for buffer in [json!(-1), json!(-0.001), json!(1e9)] {
            invalid(
                send_json(
                    &app,
                    Method::POST,
                    "/v1/assets/search",
                    &staff,
                    &json!({"geometry": point(-2.3, 53.4), "buffer_m": buffer}),
                )
                .await,
                "buffer_m",
            )
            .await;
        }

        // Other fields with rules.
        let mut f = feature("A-1", "lamp_post", point(-2.3, 53.4));
        f["properties"]["height_m"] = json!(-3);
        invalid(put(f).await, "height_m").await;
        let mut f = feature("A-1", "lamp_post", point(-2.3, 53.4));
        f["properties"]["capacity"] = json!(0);
        invalid(put(f).await, "capacity").await;
        let mut f = feature("A-1", "lamp_post", point(-2.3, 53.4));
        f["properties"]["ref"] = json!("   ");
        invalid(put(f).await, "ref").await;
        let mut f = feature("A-1", "lamp_post", point(-2.3, 53.4));
        f["properties"]["power_supply"] = json!("mains");
        invalid(put(f).await, "power_supply").await;
        let mut f = feature("A-1", "lamp_post", point(-2.3, 53.4));
        f["properties"]["status"] = json!("gone");
        invalid(put(f).await, "status").await;
        // Well-formed JSON of the wrong shape names the body.
        invalid(put(json!({"properties": {}})).await, "body").await;
        invalid(put(json!([1, 2, 3])).await, "body").await;
        invalid(
            send_json(&app, Method::PATCH, &asset, &staff, &json!("not an object")).await,
            "body",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/assets/search",
                &staff,
                &json!({"buffer_m": 5}),
            )
            .await,
            "body",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/assets/search",
                &staff,
                &json!({"geometry": point(0.0, 0.0), "colour": "red"}),
            )
            .await,
            "colour",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::POST,
                "/v1/authorities",
                ADMIN,
                &json!({"code": "Not A Slug!", "name": "x"}),
            )
            .await,
            "code",
        )
        .await;
        invalid(
            send_json(
                &app,
                Method::GET,
                "/v1/assets/nearest?lon=0&lat=0&k=0",
                &staff,
                &json!(null),
            )
            .await,
            "k",
        )
        .await;
        let resp = app
            .client
            .get(app.url("/v1/assets?bbox=0,91,1,92"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        invalid(resp, "bbox").await;

        // The asset is as it was.
        let (_, b) = app.get(&asset, Some(&staff)).await;
        assert_eq!(b["properties"]["kind"], "lamp_post", "{b}");
        assert_eq!(b["geometry"]["coordinates"], json!([-2.35, 53.45]), "{b}");
    }
);

on_both_databases!(
    unknown_query_parameters_are_400,
    |app: TestApp| async move {
        let (staff, _) = one_asset(&app).await;
        for path in [
            "/v1/assets?colour=red",
            "/v1/assets?limit=10&bogus=1",
            "/v1/assets?limit=ten",
            "/v1/assets?limit=-1",
            "/v1/assets?bbox=1,2,3",
            "/v1/assets/nearest?lon=0&lat=0&radius=5",
            "/v1/assets/nearest?lat=0",
            "/v1/assets/nearest?lon=abc&lat=0",
            "/v1/authorities/alpha/areas?layers=ward",
        ] {
            let resp = app
                .client
                .get(app.url(path))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap();
            problem(resp, 400).await;
        }
        let resp = send_raw(
            &app,
            Method::POST,
            "/v1/authorities/alpha/imports?kind=lamp_post&srid=27700",
            Some(&staff),
            "text/csv",
            b"ref,lon,lat\nX,-2.3,53.4\n".to_vec(),
        )
        .await;
        problem(resp, 400).await;
        let (_, b) = app.get("/v1/assets", Some(&staff)).await;
        assert_eq!(b["numberMatched"], 1, "{b}");
    }
);

on_both_databases!(
    unknown_routes_and_wrong_methods_are_problems,
    |app: TestApp| async move {
        let (staff, id) = one_asset(&app).await;
        for (method, path) in [
            (Method::GET, "/nope"),
            (Method::GET, "/v1"),
            (Method::GET, "/v1/asset"),
            (Method::POST, "/v1/nothing/here"),
            (Method::GET, "/v1/assets/a/b/c"),
        ] {
            let resp = app
                .client
                .request(method, app.url(path))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap();
            problem(resp, 404).await;
        }
        // Without a token too: an unknown route is 404, not 401.
        problem(app.client.get(app.url("/nope")).send().await.unwrap(), 404).await;
        // A missing asset is a 404 problem.
        let resp = app
            .client
            .get(app.url(&format!("/v1/assets/{}", asset_id("alpha", "ghost"))))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        problem(resp, 404).await;

        for (method, path) in [
            (Method::DELETE, "/v1/assets".to_string()),
            (Method::POST, "/v1/assets".to_string()),
            (Method::GET, "/v1/assets/search".to_string()),
            (Method::PUT, "/v1/assets/nearest".to_string()),
            (Method::POST, format!("/v1/assets/{id}")),
            (Method::DELETE, "/v1/authorities".to_string()),
            (Method::PUT, "/v1/tokens".to_string()),
            (Method::PUT, "/v1/organisations".to_string()),
            (Method::GET, "/v1/authorities/alpha/imports".to_string()),
            (Method::DELETE, "/v1/authorities/alpha/areas".to_string()),
            (Method::POST, "/healthz".to_string()),
        ] {
            let resp = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap();
            let allow = resp.headers().get("allow").cloned();
            let body = problem(resp, 405).await;
            assert!(
                allow.is_some(),
                "{method} {path}: 405 without Allow: {body}"
            );
        }
    }
);

on_both_databases!(oversized_and_mistyped_bodies, |app: TestApp| async move {
    let (staff, id) = one_asset(&app).await;
    // Just over 2 MiB of otherwise valid JSON.
    let limit = streetcell::http::MAX_BODY;
    let pad = "x".repeat(limit + 1);
    let big = serde_json::to_vec(&json!({"geometry": point(-2.3, 53.4), "kind": pad})).unwrap();
    assert!(big.len() > 2 * 1024 * 1024);
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/assets/search",
        Some(&staff),
        "application/json",
        big.clone(),
    )
    .await;
    let body = problem(resp, 413).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&limit.to_string()),
        "{body}"
    );
    let resp = send_raw(
        &app,
        Method::PUT,
        &format!("/v1/assets/{id}"),
        Some(&staff),
        "application/json",
        big.clone(),
    )
    .await;
    problem(resp, 413).await;
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/authorities",
        Some(ADMIN),
        "application/json",
        big,
    )
    .await;
    problem(resp, 413).await;
    // Just under the limit is read (and then judged on its content).
    let mut small =
        serde_json::to_vec(&json!({"geometry": point(-2.3, 53.4), "kind": "lamp_post"})).unwrap();
    small.extend(std::iter::repeat_n(b' ', limit - small.len()));
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/assets/search",
        Some(&staff),
        "application/json",
        small,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);

    // The import endpoint takes more than 2 MiB: a 3 MiB CSV lands.
    let mut csv = String::from("ref,kind,lon,lat,notes\n");
    let note = "n".repeat(1000);
    let mut n = 0;
    while csv.len() < 3 * 1024 * 1024 {
        csv.push_str(&format!("BIG-{n},lamp_post,-2.3,53.4,{note}\n"));
        n += 1;
    }
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/authorities/alpha/imports",
        Some(&staff),
        "text/csv",
        csv.into_bytes(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["inserted"], n, "{report}");

    // Wrong content types: 415 on the import and on a JSON endpoint.
    for ct in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "",
    ] {
        let resp = send_raw(
            &app,
            Method::POST,
            "/v1/authorities/alpha/imports?kind=lamp_post",
            Some(&staff),
            ct,
            b"ref,lon,lat\nX-1,-2.3,53.4\n".to_vec(),
        )
        .await;
        problem(resp, 415).await;
    }
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/assets/search",
        Some(&staff),
        "text/plain",
        serde_json::to_vec(&json!({"geometry": point(-2.3, 53.4)})).unwrap(),
    )
    .await;
    problem(resp, 415).await;
    let resp = app
        .client
        .put(app.url(&format!("/v1/assets/{id}")))
        .bearer_auth(&staff)
        .body(serde_json::to_vec(&feature("A-1", "lamp_post", point(-2.3, 53.4))).unwrap())
        .send()
        .await
        .unwrap();
    problem(resp, 415).await;
    let (_, b) = app.get("/v1/assets?limit=1", Some(&staff)).await;
    assert_eq!(b["numberMatched"], n + 1, "{b}");
});
