//! Who may issue which token, and in what scope.

use super::*;

on_both_databases!(
    tokens_issued_by_admin_carry_their_role,
    |app: TestApp| async move {
        app.authority("alpha").await;
        app.authority("beta").await;
        // A staff token and an admin token issued through the API.
        let staff_b = app.token("staff", Some("beta"), None).await;
        let admin2 = app.token("admin", None, None).await;
        assert!(staff_b.starts_with("sc_") && admin2.starts_with("sc_"));
        assert_ne!(staff_b, admin2);
        // The issued admin token can itself administer.
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/authorities",
                Some(&admin2),
                &json!({"code": "gamma", "name": "G"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        // The staff token is scoped to beta.
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/authorities/beta/assets",
                Some(&staff_b),
                &point_feature("B-1", -2.3, 53.4, 8.0),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/authorities/gamma/assets",
                Some(&staff_b),
                &point_feature("G-1", -2.3, 53.4, 8.0),
            )
            .await;
        assert_eq!(s, 403, "{b}");
        // Staff of beta cannot write to an authority that does not exist either
        // (403: it is not theirs), while the admin gets 404.
        let (s, _) = app
            .json(
                Method::POST,
                "/v1/authorities/nowhere/assets",
                Some(&staff_b),
                &point_feature("N-1", -2.3, 53.4, 8.0),
            )
            .await;
        assert_eq!(s, 403);
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/authorities/nowhere/assets",
                Some(ADMIN),
                &point_feature("N-1", -2.3, 53.4, 8.0),
            )
            .await;
        assert_eq!(s, 404, "{b}");
        let resp = request(
            &app,
            Method::POST,
            "/v1/authorities/nowhere/imports?kind=lamp_post",
            Some(ADMIN),
            &Body::Csv(CSV),
        )
        .await;
        problem(resp, 404).await;
    }
);

on_both_databases!(
    tokens_need_an_existing_scope_that_fits_the_role,
    |app: TestApp| async move {
        app.authority("alpha").await;
        app.organisation("ee").await;
        let cases: Vec<(Value, &str)> = vec![
            (
                json!({"role": "staff", "authority": "nowhere", "name": "t"}),
                "scope",
            ),
            (
                json!({"role": "operator", "organisation": "nobody", "name": "t"}),
                "scope",
            ),
            (json!({"role": "staff", "name": "t"}), "role"),
            (
                json!({"role": "staff", "authority": "alpha", "organisation": "ee", "name": "t"}),
                "role",
            ),
            (
                json!({"role": "operator", "authority": "alpha", "name": "t"}),
                "role",
            ),
            (
                json!({"role": "admin", "authority": "alpha", "name": "t"}),
                "role",
            ),
            (json!({"role": "superuser", "name": "t"}), "role"),
            (
                json!({"role": "staff", "authority": "alpha", "name": "  "}),
                "name",
            ),
        ];
        for (body, field) in cases {
            let resp = request(
                &app,
                Method::POST,
                "/v1/tokens",
                Some(ADMIN),
                &Body::Json(body.clone()),
            )
            .await;
            let p = problem(resp, 422).await;
            let fields: Vec<&str> = p["errors"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(
                fields.contains(&field),
                "{body}: expected field {field}, got {p}"
            );
        }
        // The refused token for the missing authority did not create the authority.
        let (_, b) = app.get("/v1/authorities", None).await;
        assert_eq!(b["authorities"].as_array().map(Vec::len), Some(1), "{b}");
    }
);
