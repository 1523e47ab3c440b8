//! The console (server-rendered pages under `/console`) driven as a browser
//! drives it, over HTTP with a cookie jar: sign-in and its cookie, CSRF on
//! every form, expiry and sign-out, scoping between councils and operators,
//! the review queue, the application page and its decision forms (checked
//! against the JSON API afterwards), and the residents' subsidy page.

use serde_json::json;

use crate::application_helpers::{decide, fetch, form, plus_days, review, scene, submit, today};
use crate::console_helpers::{Visitor, expire_sessions, grouped, hidden};
use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

/// A council `code` with an application by `acme` for two lamp posts, taken
/// up for review. Returns (scene, application id, asset ids).
async fn under_review(app: &TestApp, code: &str) -> (crate::application_helpers::Scene, String) {
    let s = scene(app, code, true).await;
    let a = crate::application_helpers::asset(
        app,
        &s.staff,
        code,
        "LP-1",
        json!({"kind": "lamp_post", "capacity": 2, "height_m": 8, "load_rating_kg": 45,
               "last_inspected": "2024-09-27", "install_year": 1991, "power_supply": "continuous",
               "photo_url": "https://photos.example.net/lp1.jpg"}),
    )
    .await;
    let b = crate::application_helpers::lamp_post(app, &s.staff, code, "LP-2", 2).await;
    let (st, body) = submit(app, &s.acme, &form(&[a, b], today(), 5)).await;
    assert_eq!(st, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (st, body) = review(app, &s.staff, &id).await;
    assert_eq!(st, 200, "{body}");
    (s, id)
}

on_both_databases!(
    sign_in_sets_a_strict_session_cookie,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let v = Visitor::new(&app);

        // Pages need a session: a visitor without one is sent to sign in and
        // brought back afterwards.
        let page = v.get("/console/queue").await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), "/console/sign-in?next=%2Fconsole%2Fqueue");

        let done = v.sign_in(&staff).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let cookie = done.cookie("sc_session").expect("session cookie");
        for attr in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/console",
            "Max-Age=28800",
            "Expires=",
        ] {
            assert!(cookie.contains(attr), "{attr} missing from {cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
        // The token itself is never the cookie.
        assert!(!cookie.contains(&staff));

        let queue = v.get("/console/queue").await;
        assert_eq!(queue.status, 200, "{}", queue.body);
        assert!(queue.body.contains("<h1>Review queue</h1>"));
        assert!(queue.body.contains("Estates staff, north"));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_secure_behind_https() {
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    let v = Visitor::new(&app);
    let form = v.get("/console/sign-in").await;
    let csrf = form.csrf();
    let resp = v
        .client
        .post(app.url("/console/sign-in"))
        .header("x-forwarded-proto", "https")
        .form(&[("token", ADMIN), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sc_session="))
        .unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_or_a_forged_sign_in_opens_no_session() {
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    let v = Visitor::new(&app);
    let bad = v.sign_in("sc_not-a-real-token").await;
    assert_eq!(bad.status, 401);
    assert!(bad.body.contains("not valid"));
    assert!(bad.cookie("sc_session").is_none());

    // A sign-in posted from elsewhere carries no nonce cookie: refused
    // before the token is even looked at.
    let forged = Visitor::new(&app)
        .post("/console/sign-in", &[("token", ADMIN), ("csrf", "guess")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.cookie("sc_session").is_none());
}

on_both_databases!(
    forms_without_their_csrf_token_are_refused,
    |app: TestApp| async move {
        let (s, id) = under_review(&app, "north").await;
        let v = Visitor::signed_in(&app, &s.staff).await;
        let page = v.get(&format!("/console/applications/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf();
        let path = format!("/console/applications/{id}/actions");

        // Missing, wrong, and another session's token: all 403, nothing done.
        let other = Visitor::signed_in(&app, &s.staff).await;
        let others = other.get("/console/queue").await.csrf();
        assert_ne!(others, csrf);
        for token in [None, Some("forged"), Some(others.as_str())] {
            let mut fields = vec![("action", "approve")];
            if let Some(t) = token {
                fields.push(("csrf", t));
            }
            let r = v.post(&path, &fields).await;
            assert_eq!(r.status, 403, "{token:?}: {}", r.body);
            assert!(r.body.contains("This form has expired"));
        }
        let (_, now) = fetch(&app, &s.staff, &id).await;
        assert_eq!(now["status"], "under_review");

        // Sign-out is a form like any other.
        let r = v.post("/console/sign-out", &[]).await;
        assert_eq!(r.status, 403);
        assert_eq!(v.get("/console/queue").await.status, 200);

        // With its token the form works, through the same workflow as the API.
        let r = v
            .post(&path, &[("action", "approve"), ("csrf", &csrf)])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(
            r.location(),
            format!("/console/applications/{id}?done=approve")
        );
        let (_, now) = fetch(&app, &s.staff, &id).await;
        assert_eq!(now["status"], "approved");
        let done = v.get(r.location()).await;
        assert!(
            done.body
                .contains("Approved. The concession agreement is made.")
        );
    }
);

on_both_databases!(
    sessions_expire_and_sign_out_ends_them,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let v = Visitor::signed_in(&app, &staff).await;
        assert_eq!(v.get("/console/queue").await.status, 200);
        // Eight hours on, the same cookie opens nothing.
        expire_sessions(&app).await;
        let r = v.get("/console/queue").await;
        assert_eq!(r.status, 303);
        assert!(r.location().starts_with("/console/sign-in"));

        let v = Visitor::signed_in(&app, &staff).await;
        let csrf = v.get("/console/queue").await.csrf();
        let out = v.post("/console/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert_eq!(out.location(), "/console/sign-in");
        assert!(out.cookie("sc_session").unwrap().contains("Max-Age=0"));
        // The session is gone on the server, not only from this browser: the
        // old cookie sent by hand is refused too.
        let r = v.get("/console/queue").await;
        assert_eq!(r.status, 303);
    }
);

on_both_databases!(
    pages_show_no_other_councils_or_operators_data,
    |app: TestApp| async move {
        let (s, id) = under_review(&app, "north").await;
        let south = app.authority("south").await;

        // The other council's staff: the application does not exist for them.
        let v = Visitor::signed_in(&app, &south).await;
        let r = v.get(&format!("/console/applications/{id}")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert!(!r.body.contains("acme"));
        let q = v.get("/console/queue").await;
        assert!(!q.body.contains(&id), "{}", q.body);
        // Nor can they act on it, with a valid token for their own session.
        let csrf = q.csrf();
        let r = v
            .post(
                &format!("/console/applications/{id}/actions"),
                &[("action", "approve"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, 404);

        // The other operator: same.
        let beta = Visitor::signed_in(&app, &s.beta).await;
        assert_eq!(
            beta.get(&format!("/console/applications/{id}"))
                .await
                .status,
            404
        );
        let mine = beta.get("/console/applications").await;
        assert!(mine.body.contains("Our applications"));
        assert!(!mine.body.contains(&id));

        // The applying operator sees it, and only its own steps: no decision
        // forms, but withdrawal.
        let acme = Visitor::signed_in(&app, &s.acme).await;
        let page = acme.get(&format!("/console/applications/{id}")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("value=\"withdraw\""));
        assert!(!page.body.contains("value=\"approve\""));
        // An operator posting a decision gets the domain's 403.
        let r = acme
            .post(
                &format!("/console/applications/{id}/actions"),
                &[("action", "approve"), ("csrf", &page.csrf())],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let (_, now) = fetch(&app, &s.staff, &id).await;
        assert_eq!(now["status"], "under_review");
    }
);

on_both_databases!(
    the_application_page_shows_what_decides_it,
    |app: TestApp| async move {
        let (s, id) = under_review(&app, "north").await;
        let v = Visitor::signed_in(&app, &s.staff).await;
        let page = v.get(&format!("/console/applications/{id}")).await;
        assert_eq!(page.status, 200);
        let b = &page.body;
        // The map: one numbered dot per site, linking to its facts.
        assert_eq!(b.matches("class=\"site-dot\"").count(), 2, "{b}");
        assert!(b.contains("href=\"#site-1\"") && b.contains("id=\"site-2\""));
        // Facts of site 1 as entered, formatted for people.
        for fact in [
            "8 m",
            "45 kg",
            "27 Sep 2024",
            "(installed 1991)",
            "Continuous",
            "https://photos.example.net/lp1.jpg",
        ] {
            assert!(b.contains(fact), "{fact} missing");
        }
        // The quote in pounds, the plan, the trail.
        // The FCC schedule of the scene is in US dollars.
        assert!(
            b.contains("$1,") || b.contains("$2") || b.contains("$5"),
            "money in the schedule's currency"
        );
        assert!(b.contains("Radios on existing columns"));
        assert!(b.contains("Under review") && b.contains("Submit"));
        // Reject needs a reason, as in the API: 422 naming it, nothing changed.
        let r = v
            .post(
                &format!("/console/applications/{id}/actions"),
                &[
                    ("action", "reject"),
                    ("reason", " "),
                    ("csrf", &page.csrf()),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("<strong>reason</strong>"));
        let (_, now) = fetch(&app, &s.staff, &id).await;
        assert_eq!(now["status"], "under_review");
        // Request information, then the operator answers on its page.
        let r = v
            .post(
                &format!("/console/applications/{id}/actions"),
                &[
                    ("action", "request_info"),
                    ("reason", "Photos of site 2, please."),
                    ("csrf", &page.csrf()),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let acme = Visitor::signed_in(&app, &s.acme).await;
        let mine = acme.get(&format!("/console/applications/{id}")).await;
        assert!(mine.body.contains("Photos of site 2, please."));
        let r = acme
            .post(
                &format!("/console/applications/{id}/actions"),
                &[
                    ("action", "respond"),
                    ("response", "Attached today."),
                    ("csrf", &mine.csrf()),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (_, now) = fetch(&app, &s.staff, &id).await;
        assert_eq!(now["status"], "under_review");
        // Acting twice: the second approval meets the state the first left.
        let first = v
            .post(
                &format!("/console/applications/{id}/actions"),
                &[("action", "approve"), ("csrf", &page.csrf())],
            )
            .await;
        assert_eq!(first.status, 303);
        let second = v
            .post(
                &format!("/console/applications/{id}/actions"),
                &[("action", "approve"), ("csrf", &page.csrf())],
            )
            .await;
        assert_eq!(second.status, 409, "{}", second.body);
    }
);

on_both_databases!(
    the_queue_filters_sorts_pages_and_flags_overdue,
    |app: TestApp| async move {
        let s = scene(&app, "north", true).await;
        let mut ids = Vec::new();
        // Three applications: acme with 1 and 3 sites, beta with 2.
        for (token, n, tag) in [(&s.acme, 1, "a"), (&s.beta, 2, "b"), (&s.acme, 3, "c")] {
            let mut assets = Vec::new();
            for i in 0..n {
                assets.push(
                    crate::application_helpers::lamp_post(
                        &app,
                        &s.staff,
                        "north",
                        &format!("Q-{tag}{i}"),
                        1,
                    )
                    .await,
                );
            }
            let (st, body) = submit(&app, token, &form(&assets, today(), 5)).await;
            assert_eq!(st, 201, "{body}");
            ids.push(body["id"].as_str().unwrap().to_string());
        }
        // The first was submitted long ago: its decision is overdue.
        {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
            sqlx::query(
                "UPDATE applications SET submitted_on = $1, decision_due = $2 WHERE id = $3",
            )
            .bind("2020-01-01")
            .bind("2020-02-26")
            .bind(&ids[0])
            .execute(&mut conn)
            .await
            .unwrap();
        }
        let v = Visitor::signed_in(&app, &s.staff).await;
        let q = v.get("/console/queue").await;
        assert_eq!(q.status, 200);
        assert!(q.body.contains("3 applications match"));
        let row = |body: &str, id: &str| body.find(&format!(">{id}</a>")).expect(id);
        // Overdue highlighted with its days.
        let overdue_row = q.body[..row(&q.body, &ids[0])].rfind("<tr").unwrap();
        assert!(q.body[overdue_row..].starts_with("<tr class=\"overdue\">"));
        assert!(q.body.contains("overdue</span>"));

        // Sorted by sites, most first: c, b, a.
        let q = v.get("/console/queue?sort=sites&dir=desc").await;
        let (c, b, a) = (
            row(&q.body, &ids[2]),
            row(&q.body, &ids[1]),
            row(&q.body, &ids[0]),
        );
        assert!(c < b && b < a, "{}", q.body);
        assert!(q.body.contains("aria-sort=\"descending\""));
        // Filtered by operator and by overdue.
        let q = v.get("/console/queue?operator=beta").await;
        assert!(q.body.contains("1 application match") && q.body.contains(&ids[1]));
        let q = v.get("/console/queue?overdue=on").await;
        assert!(q.body.contains("1 application match") && q.body.contains(&ids[0]));
        let q = v.get("/console/queue?status=approved").await;
        assert!(q.body.contains("0 applications match"));
        // A bad filter names itself.
        let q = v.get("/console/queue?sort=colour").await;
        assert_eq!(q.status, 422);
        assert!(q.body.contains("<strong>sort</strong>"));

        // Paging: 25 a page, the 26th on page 2.
        for i in 0..23 {
            let a = crate::application_helpers::lamp_post(
                &app,
                &s.staff,
                "north",
                &format!("P-{i}"),
                1,
            )
            .await;
            let (st, _) = submit(&app, &s.acme, &form(&[a], plus_days(today(), 0), 5)).await;
            assert_eq!(st, 201);
        }
        let p1 = v.get("/console/queue").await;
        assert!(p1.body.contains("Page 1 of 2") && p1.body.contains("rel=\"next\""));
        assert_eq!(
            p1.body
                .matches("<td><a href=\"/console/applications/")
                .count(),
            25
        );
        let p2 = v.get("/console/queue?sort=submitted&dir=asc&page=2").await;
        assert!(p2.body.contains("Page 2 of 2") && p2.body.contains("rel=\"prev\""));
    }
);

on_both_databases!(
    residents_see_the_subsidy_without_signing_in,
    |app: TestApp| async move {
        let (s, id) = under_review(&app, "north").await;
        let (st, body) = decide(&app, &s.staff, &id, "approve", None).await;
        assert_eq!(st, 200, "{body}");
        // Two wards, one with both sites.
        let wards = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Central"}, "geometry": {"type": "Polygon",
         "coordinates": [[[-2.40, 53.35], [-2.20, 53.35], [-2.20, 53.45], [-2.40, 53.45], [-2.40, 53.35]]]}},
        {"type": "Feature", "properties": {"name": "Outer"}, "geometry": {"type": "Polygon",
         "coordinates": [[[-2.20, 53.35], [-2.10, 53.35], [-2.10, 53.45], [-2.20, 53.45], [-2.20, 53.35]]]}}]});
        let (status, body) = app
            .post_bytes(
                "/v1/authorities/north/areas?layer=ward",
                Some(&s.staff),
                "application/geo+json",
                wards.to_string().into_bytes(),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, summary) = crate::application_helpers::subsidy(&app, "north").await;
        let total = summary["total"].as_str().unwrap().to_string();

        let resident = Visitor::new(&app);
        let list = resident.get("/console/public").await;
        assert_eq!(list.status, 200);
        assert!(list.body.contains("/console/public/north/subsidy"));
        let page = resident.get("/console/public/north/subsidy").await;
        assert_eq!(page.status, 200, "{}", page.body);
        // The API's total, in pounds, and both wards on the map and in the table.
        assert_eq!(summary["currency"], "USD", "the scene's FCC schedule");
        let dollars = format!("${}", grouped(&total));
        assert!(page.body.contains(&dollars), "{dollars} not on the page");
        assert!(
            page.body.contains("aria-label=\"Central: $")
                && page.body.contains("aria-label=\"Outer: $0.00\"")
        );
        assert!(page.body.contains("<th scope=\"row\">Central</th>"));
        // Nothing about operators, sites or agreements.
        for private in ["acme", "LP-1", &id] {
            assert!(!page.body.contains(private), "{private} on the public page");
        }
        assert!(
            hidden(&page.body, "csrf").is_none(),
            "no forms for residents"
        );
        assert_eq!(
            resident.get("/console/public/nowhere/subsidy").await.status,
            404
        );
    }
);
