//! Roles and authorities are enforced, and a write to another council's
//! missing asset is refused without a leak.

use super::*;

on_both_databases!(
    roles_and_authorities_are_enforced,
    |app: TestApp| async move {
        let w = world(&app).await;
        let staff_a = || Some(w.staff_a.clone());
        let operator = || Some(w.operator.clone());
        let admin = || Some(ADMIN.to_string());
        let a1 = format!("/v1/assets/{}", w.a1);
        let b1 = format!("/v1/assets/{}", w.b1);
        let case =
            |who, token: Option<String>, method: Method, path: &str, body: Body, expect| Case {
                who,
                token,
                method,
                path: path.to_string(),
                body,
                expect,
            };
        let put_b1 = || Body::Json(point_feature("B-1", -2.30, 53.46, 9.0));
        let patch = || Body::Json(json!({"properties": {"height_m": 9.5}}));
        let new_b = || Body::Json(point_feature("B-9", -2.31, 53.47, 6.0));
        let new_authority = || Body::Json(json!({"code": "gamma", "name": "Gamma council"}));
        let new_org = || Body::Json(json!({"slug": "three", "name": "Three"}));
        let new_staff_token =
            || Body::Json(json!({"role": "staff", "authority": "beta", "name": "t"}));
        let new_admin_token = || Body::Json(json!({"role": "admin", "name": "t"}));
        let areas_b = "/v1/authorities/beta/areas?layer=ward";
        let import_b = "/v1/authorities/beta/imports?kind=lamp_post";

        let forbidden = vec![
            // Staff of alpha against beta's register.
            case("staff A", staff_a(), Method::PUT, &b1, put_b1(), 403),
            case("staff A", staff_a(), Method::PATCH, &b1, patch(), 403),
            case("staff A", staff_a(), Method::DELETE, &b1, Body::None, 403),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/authorities/beta/assets",
                new_b(),
                403,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                import_b,
                Body::Csv(CSV),
                403,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                areas_b,
                Body::GeoJson(ward_layer()),
                403,
            ),
            // ...and a PUT that tries to move beta's asset into alpha's data.
            case(
                "staff A",
                staff_a(),
                Method::PUT,
                &b1,
                Body::Json(point_feature("A-1", -2.3, 53.4, 1.0)),
                403,
            ),
            // Staff are not administrators.
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/authorities",
                new_authority(),
                403,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/organisations",
                new_org(),
                403,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/tokens",
                new_staff_token(),
                403,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/tokens",
                new_admin_token(),
                403,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/tokens",
                Body::Json(json!({"role": "staff", "authority": "alpha", "name": "own"})),
                403,
            ),
            // Operators write no asset data at all.
            case(
                "operator",
                operator(),
                Method::PUT,
                &a1,
                Body::Json(point_feature("A-1", -2.35, 53.45, 1.0)),
                403,
            ),
            case("operator", operator(), Method::PATCH, &a1, patch(), 403),
            case("operator", operator(), Method::DELETE, &a1, Body::None, 403),
            case("operator", operator(), Method::PUT, &b1, put_b1(), 403),
            case(
                "operator",
                operator(),
                Method::POST,
                "/v1/authorities/beta/assets",
                new_b(),
                403,
            ),
            case(
                "operator",
                operator(),
                Method::POST,
                import_b,
                Body::Csv(CSV),
                403,
            ),
            case(
                "operator",
                operator(),
                Method::POST,
                areas_b,
                Body::GeoJson(ward_layer()),
                403,
            ),
            case(
                "operator",
                operator(),
                Method::POST,
                "/v1/authorities",
                new_authority(),
                403,
            ),
            case(
                "operator",
                operator(),
                Method::POST,
                "/v1/organisations",
                new_org(),
                403,
            ),
            case(
                "operator",
                operator(),
                Method::POST,
                "/v1/tokens",
                new_admin_token(),
                403,
            ),
            case(
                "operator",
                operator(),
                Method::POST,
                "/v1/tokens",
                Body::Json(json!({"role": "operator", "organisation": "ee", "name": "own"})),
                403,
            ),
            // Everyone with a valid token reads everything.
            case("staff A", staff_a(), Method::GET, &b1, Body::None, 200),
            case(
                "staff A",
                staff_a(),
                Method::GET,
                "/v1/assets",
                Body::None,
                200,
            ),
            case("operator", operator(), Method::GET, &a1, Body::None, 200),
            case(
                "operator",
                operator(),
                Method::GET,
                "/v1/assets/nearest?lon=-2.3&lat=53.46&k=2",
                Body::None,
                200,
            ),
            case(
                "operator",
                operator(),
                Method::GET,
                "/v1/authorities/beta/areas",
                Body::None,
                200,
            ),
            case(
                "staff A",
                staff_a(),
                Method::GET,
                "/v1/authorities/beta/areas",
                Body::None,
                200,
            ),
        ];
        run_table(&app, &forbidden).await;

        // None of the refused writes landed.
        let (s, b) = app.get(&b1, Some(&w.staff_b)).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["properties"]["height_m"], 8.0, "{b}");
        assert_eq!(b["properties"]["ref"], "B-1", "{b}");
        let (s, b) = app.get(&a1, Some(&w.staff_a)).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["properties"]["height_m"], 8.0, "{b}");
        let (_, b) = app.get("/v1/assets", Some(&w.operator)).await;
        assert_eq!(b["numberMatched"], 2, "{b}");
        let (_, b) = app
            .get("/v1/authorities/beta/areas", Some(&w.operator))
            .await;
        assert_eq!(b["numberMatched"], 0, "{b}");
        let (_, b) = app.get("/v1/authorities", None).await;
        assert_eq!(b["authorities"].as_array().map(Vec::len), Some(2), "{b}");

        // Staff of alpha manage alpha's register.
        let a2 = asset_id("alpha", "A-2");
        let allowed_staff = vec![
            case(
                "staff A",
                staff_a(),
                Method::PUT,
                &a1,
                Body::Json(point_feature("A-1", -2.35, 53.45, 9.0)),
                200,
            ),
            case("staff A", staff_a(), Method::PATCH, &a1, patch(), 200),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/authorities/alpha/assets",
                Body::Json(point_feature("A-2", -2.36, 53.44, 5.0)),
                201,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/authorities/alpha/imports?kind=lamp_post",
                Body::Csv(CSV),
                200,
            ),
            case(
                "staff A",
                staff_a(),
                Method::POST,
                "/v1/authorities/alpha/areas?layer=ward",
                Body::GeoJson(ward_layer()),
                200,
            ),
            case(
                "staff A",
                staff_a(),
                Method::DELETE,
                &format!("/v1/assets/{a2}"),
                Body::None,
                204,
            ),
        ];
        run_table(&app, &allowed_staff).await;
        let (_, b) = app.get(&a1, Some(&w.operator)).await;
        assert_eq!(b["properties"]["height_m"], 9.5, "{b}");
        let (s, _) = app
            .get(
                &format!("/v1/assets/{}", asset_id("alpha", "IMP-1")),
                Some(&w.operator),
            )
            .await;
        assert_eq!(s, 200);
        let (s, _) = app
            .get(&format!("/v1/assets/{a2}"), Some(&w.operator))
            .await;
        assert_eq!(s, 404);

        // The administrator may do everything, to anyone's data.
        let b9 = asset_id("beta", "B-9");
        let allowed_admin = vec![
            case("admin", admin(), Method::PUT, &b1, put_b1(), 200),
            case("admin", admin(), Method::PATCH, &b1, patch(), 200),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/authorities/beta/assets",
                new_b(),
                201,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                import_b,
                Body::Csv(CSV),
                200,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                areas_b,
                Body::GeoJson(ward_layer()),
                200,
            ),
            case(
                "admin",
                admin(),
                Method::DELETE,
                &format!("/v1/assets/{b9}"),
                Body::None,
                204,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/authorities",
                new_authority(),
                201,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/organisations",
                new_org(),
                201,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/tokens",
                new_staff_token(),
                201,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/tokens",
                new_admin_token(),
                201,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/tokens",
                Body::Json(json!({"role": "operator", "organisation": "three", "name": "t"})),
                201,
            ),
            case(
                "admin",
                admin(),
                Method::POST,
                "/v1/tokens",
                Body::Json(json!({"role": "staff", "authority": "gamma", "name": "t"})),
                201,
            ),
        ];
        run_table(&app, &allowed_admin).await;
        let (_, b) = app.get(&b1, Some(&w.staff_a)).await;
        assert_eq!(b["properties"]["height_m"], 9.5, "{b}");
        let (_, b) = app
            .get("/v1/authorities/beta/areas", Some(&w.staff_a))
            .await;
        assert_eq!(b["numberMatched"], 1, "{b}");

        // Staff of beta can still do their own work; the admin can delete theirs.
        let (s, b) = app
            .json(
                Method::PATCH,
                &b1,
                Some(&w.staff_b),
                &json!({"properties": {"height_m": 7.0}}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let resp = request(&app, Method::DELETE, &b1, Some(ADMIN), &Body::None).await;
        assert_eq!(resp.status().as_u16(), 204);
        let (s, _) = app.get(&b1, Some(&w.staff_b)).await;
        assert_eq!(s, 404);
    }
);

on_both_databases!(
    a_write_to_a_missing_asset_of_another_authority,
    |app: TestApp| async move {
        // An id that would belong to beta but does not exist. Any valid token
        // may read assets, so existence is not secret; the status is 404 or 403,
        // never a success and never a 500.
        let w = world(&app).await;
        let ghost = format!("/v1/assets/{}", asset_id("beta", "NOT-THERE"));
        for (method, body) in [
            (
                Method::PUT,
                Body::Json(point_feature("NOT-THERE", -2.3, 53.4, 1.0)),
            ),
            (
                Method::PATCH,
                Body::Json(json!({"properties": {"height_m": 1.0}})),
            ),
            (Method::DELETE, Body::None),
        ] {
            let resp = request(&app, method.clone(), &ghost, Some(&w.staff_a), &body).await;
            let status = resp.status().as_u16();
            assert!(status == 404 || status == 403, "{method} {ghost}: {status}");
            problem(resp, status).await;
            let resp = request(&app, method.clone(), &ghost, Some(ADMIN), &body).await;
            problem(resp, 404).await;
        }
        let (_, b) = app.get("/v1/assets", Some(&w.operator)).await;
        assert_eq!(b["numberMatched"], 2, "{b}");
    }
);
