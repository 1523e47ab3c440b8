//! Fee schedules and quotes over HTTP, checked against hand-worked figures.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

/// The FCC 2018 safe-harbour schedule shipped in `data/fees/`, with 3%
/// annual indexation and a 50% subsidy share added.
fn fcc_indexed(effective_from: &str) -> Value {
    let mut s: Value =
        serde_json::from_str(include_str!("../../data/fees/fcc-2018-safe-harbour.json")).unwrap();
    s["effective_from"] = json!(effective_from);
    s["annual_indexation"] = json!("0.03");
    s["subsidy_share"] = json!("0.50");
    s
}

async fn lamp_posts(app: &TestApp, staff: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/authorities/springfield/assets",
                Some(staff),
                &json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [-2.35 + i as f64 * 0.001, 53.39]},
                    "properties": {"ref": format!("LP-{i}"), "kind": "lamp_post", "install_year": 2020}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    ids
}

on_both_databases!(
    seven_site_fcc_quote_matches_hand_worked_figures,
    |app: TestApp| async move {
        let staff = app.authority("springfield").await;
        let operator = app.organisation("acme-mobile").await;
        let (s, b) = app
            .json(
                Method::PUT,
                "/v1/authorities/springfield/fee-schedule",
                Some(&staff),
                &fcc_indexed("2019-01-14"),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["version"], 1);
        // Terms are public: no token needed.
        let (s, b) = app
            .get("/v1/authorities/springfield/fee-schedule", None)
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["annual_rent"]["lamp_post"], "270.00");

        let ids = lamp_posts(&app, &staff, 7).await;
        let (s, b) = app
        .json(
            Method::POST,
            "/v1/quotes",
            Some(&operator),
            &json!({"assets": ids, "term_years": 10, "start": "2027-04-01", "discount_rate": "0.035"}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let q = &b["quotes"][0];
        // By hand: application fee 500 + 2 × 100 (sites six and seven).
        assert_eq!(q["application_fee"], "700.00");
        // Per site, per year, rounded half-up: 270.00, 278.10, 286.44, 295.04,
        // 303.89, 313.00, 322.39, 332.07, 342.03, 352.29 = 3,095.25; × 7 sites.
        assert_eq!(q["rent_total"], "21666.75");
        assert_eq!(q["term_total"], "22366.75");
        // Half of each rounded per-site payment, itself rounded: year 5 is
        // 7 × round(303.89 / 2 = 151.945) = 7 × 151.95 = 1,063.65, not
        // 2,127.23 / 2 = 1,063.615 rounded once.
        assert_eq!(
            q["years"][4],
            json!({"year": 5, "rent": "2127.23", "subsidy": "1063.65"})
        );
        assert_eq!(q["schedule_version"], 1);
        assert_eq!(q["currency"], "USD");
        assert_eq!(q["authority"], "springfield");
        // Year table sums to the totals.
        let cents =
            |v: &Value| (v.as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64;
        let years = q["years"].as_array().unwrap();
        assert_eq!(years.len(), 10);
        assert_eq!(
            years.iter().map(|y| cents(&y["rent"])).sum::<i64>(),
            cents(&q["rent_total"])
        );
        assert_eq!(
            years.iter().map(|y| cents(&y["subsidy"])).sum::<i64>(),
            cents(&q["subsidy_total"])
        );
        assert!(q["npv"].is_string());
    }
);

on_both_databases!(
    versions_are_kept_and_quotes_use_the_one_in_effect,
    |app: TestApp| async move {
        let staff = app.authority("springfield").await;
        let ids = lamp_posts(&app, &staff, 1).await;
        app.json(
            Method::PUT,
            "/v1/authorities/springfield/fee-schedule",
            Some(&staff),
            &fcc_indexed("2020-01-01"),
        )
        .await;
        let mut dearer = fcc_indexed("2028-04-01");
        dearer["annual_rent"]["lamp_post"] = json!("300.00");
        let (s, b) = app
            .json(
                Method::PUT,
                "/v1/authorities/springfield/fee-schedule",
                Some(&staff),
                &dearer,
            )
            .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["version"], 2);
        let (_, h) = app
            .get("/v1/authorities/springfield/fee-schedule/history", None)
            .await;
        assert_eq!(h["versions"].as_array().unwrap().len(), 2);

        for (start, version, year1) in [("2027-04-01", 1, "270.00"), ("2028-04-01", 2, "300.00")] {
            let (s, b) = app
                .json(
                    Method::POST,
                    "/v1/quotes",
                    Some(ADMIN),
                    &json!({"assets": ids, "term_years": 1, "start": start}),
                )
                .await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["quotes"][0]["schedule_version"], version);
            assert_eq!(b["quotes"][0]["rent_total"], year1);
        }
        // Before any schedule takes effect there is nothing to price with.
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/quotes",
                Some(ADMIN),
                &json!({"assets": ids, "term_years": 1, "start": "2019-01-01"}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "start");
    }
);

on_both_databases!(
    bad_schedules_and_outsiders_are_refused,
    |app: TestApp| async move {
        let staff = app.authority("springfield").await;
        let other = app.authority("shelbyville").await;
        let mut bad = fcc_indexed("2020-01-01");
        bad["subsidy_share"] = json!("1.50");
        let (s, b) = app
            .json(
                Method::PUT,
                "/v1/authorities/springfield/fee-schedule",
                Some(&staff),
                &bad,
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "subsidy_share");
        let (s, _) = app
            .json(
                Method::PUT,
                "/v1/authorities/springfield/fee-schedule",
                Some(&other),
                &fcc_indexed("2020-01-01"),
            )
            .await;
        assert_eq!(s, 403);
        let (s, _) = app
            .json(
                Method::PUT,
                "/v1/authorities/springfield/fee-schedule",
                None,
                &fcc_indexed("2020-01-01"),
            )
            .await;
        assert_eq!(s, 401);
        let (s, b) = app
            .get("/v1/authorities/springfield/fee-schedule", None)
            .await;
        assert_eq!(s, 404, "nothing published yet: {b}");
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/quotes",
                Some(ADMIN),
                &json!({"assets": ["nope"], "term_years": 1, "start": "2027-01-01"}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "assets[0]");
    }
);
