//! Who may do what: every role and authority boundary of the API.
//!
//! Two councils (`alpha`, `beta`) with one asset each, staff tokens for both,
//! an operator token and the bootstrap admin token. A table of requests says
//! which principal gets which status; the forbidden rows run first, then the
//! data is checked to be untouched, then the allowed rows run.
//!
//! One file: it is one table of cases run in one order against one scene.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, Db, TestApp, content_type, fresh_database, problem, start};
use crate::on_both_databases;
use streetcell::domain::asset::asset_id;

/// A body a request of the table sends.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Csv(&'static str),
    GeoJson(Value),
}

/// One row of the table.
struct Case {
    who: &'static str,
    token: Option<String>,
    method: Method,
    path: String,
    body: Body,
    expect: u16,
}

fn point_feature(asset_ref: &str, lon: f64, lat: f64, height: f64) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"ref": asset_ref, "kind": "lamp_post", "height_m": height}
    })
}

fn ward_layer() -> Value {
    json!({
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"name": "Ward 1"},
            "geometry": {"type": "Polygon", "coordinates": [[
                [-2.40, 53.40], [-2.30, 53.40], [-2.30, 53.50], [-2.40, 53.50], [-2.40, 53.40]
            ]]}
        }]
    })
}

/// An import body. It gives a height: imports without one hit a separate
/// PostgreSQL bug (see `errors::writes_after_imports_without_heights_never_500`).
const CSV: &str = "ref,kind,lon,lat,height_m\nIMP-1,lamp_post,-2.3500,53.4500,7\n";

/// Sends a request with an optional bearer token (sent verbatim as the
/// whole `Authorization` value when it does not look like a token we made).
async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Body,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Csv(text) => req.header("content-type", "text/csv").body(*text),
        Body::GeoJson(v) => req
            .header("content-type", "application/geo+json")
            .body(serde_json::to_vec(v).expect("json")),
    };
    req.send().await.expect("request")
}

/// Runs the rows in order, collecting every mismatch before failing.
async fn run_table(app: &TestApp, cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let resp = request(app, c.method.clone(), &c.path, c.token.as_deref(), &c.body).await;
        let status = resp.status().as_u16();
        let ct = content_type(&resp);
        let www = resp.headers().get("www-authenticate").cloned();
        let text = resp.text().await.unwrap_or_default();
        if status != c.expect {
            failures.push(format!(
                "{} {} as {}: expected {}, got {status}: {text}",
                c.method, c.path, c.who, c.expect
            ));
            continue;
        }
        if status >= 400 {
            if !ct.starts_with("application/problem+json") {
                failures.push(format!(
                    "{} {} as {}: {status} is {ct:?}, not problem+json",
                    c.method, c.path, c.who
                ));
            }
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if body["status"] != status || !body["detail"].is_string() || !body["title"].is_string()
            {
                failures.push(format!(
                    "{} {} as {}: bad problem {text}",
                    c.method, c.path, c.who
                ));
            }
        }
        if status == 401 && www.as_ref().and_then(|v| v.to_str().ok()) != Some("Bearer") {
            failures.push(format!(
                "{} {} as {}: 401 without WWW-Authenticate: Bearer ({www:?})",
                c.method, c.path, c.who
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Two authorities with an asset each, and tokens for everyone.
struct World {
    staff_a: String,
    staff_b: String,
    operator: String,
    /// alpha's asset.
    a1: String,
    /// beta's asset (ref B-1).
    b1: String,
}

async fn world(app: &TestApp) -> World {
    let staff_a = app.authority("alpha").await;
    let staff_b = app.authority("beta").await;
    let operator = app.organisation("ee").await;
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/alpha/assets",
            Some(&staff_a),
            &point_feature("A-1", -2.35, 53.45, 8.0),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let a1 = b["id"].as_str().expect("id").to_string();
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/beta/assets",
            Some(&staff_b),
            &point_feature("B-1", -2.30, 53.46, 8.0),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let b1 = b["id"].as_str().expect("id").to_string();
    assert_eq!(a1, asset_id("alpha", "A-1"));
    assert_eq!(b1, asset_id("beta", "B-1"));
    World {
        staff_a,
        staff_b,
        operator,
        a1,
        b1,
    }
}

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
