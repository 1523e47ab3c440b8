//! The ledger and the public subsidy summary, against figures worked out by
//! hand from the FCC schedule (270.00 a site, 3 % a year, half to the fund).

use std::collections::BTreeMap;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::application_helpers::*;
use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

fn d(v: &Value) -> Decimal {
    Decimal::from_str_exact(v.as_str().unwrap_or_else(|| panic!("{v} is not money"))).unwrap()
}

/// Each breakdown adds up to the totals, to the penny.
fn breakdowns_add_up(l: &Value) {
    let total = d(&l["revenue"]["total"]);
    let subsidy = d(&l["subsidy_fund"]);
    assert_eq!(
        d(&l["revenue"]["application_fees"])
            + d(&l["revenue"]["site_fees"])
            + d(&l["revenue"]["rent"]),
        total
    );
    for key in ["by_ward", "by_kind", "by_operator"] {
        let rows = l[key].as_array().unwrap();
        assert_eq!(
            rows.iter().map(|r| d(&r["revenue"])).sum::<Decimal>(),
            total,
            "{key}"
        );
        assert_eq!(
            rows.iter().map(|r| d(&r["subsidy"])).sum::<Decimal>(),
            subsidy,
            "{key}"
        );
    }
}

/// `{key: (revenue, subsidy)}` of a breakdown.
fn table(l: &Value, key: &str, name: &str) -> BTreeMap<String, (String, String)> {
    l[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[name].as_str().unwrap_or("(none)").to_string(),
                (
                    r["revenue"].as_str().unwrap().to_string(),
                    r["subsidy"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

async fn approve(app: &TestApp, staff: &str, id: &str) -> Value {
    let (s, b) = review(app, staff, id).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = decide(app, staff, id, "approve", None).await;
    assert_eq!(s, 200, "{b}");
    b
}

on_both_databases!(
    ledger_totals_match_the_agreements_to_the_penny,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        // Two wards: West of -2.345, East of it.
        let ward = |name: &str, w: f64, e: f64| {
            json!({"type": "Feature", "properties": {"name": name},
                "geometry": {"type": "Polygon", "coordinates": [[[w, 53.3], [e, 53.3], [e, 53.5], [w, 53.5], [w, 53.3]]]}})
        };
        let (s, b) = app
            .post_bytes(
                "/v1/authorities/trafford/areas?layer=ward&name_field=name",
                Some(&sc.staff),
                "application/geo+json",
                serde_json::to_vec(&json!({"type": "FeatureCollection",
                    "features": [ward("West", -2.40, -2.345), ward("East", -2.345, -2.30)]}))
                .unwrap(),
            )
            .await;
        assert!(s < 300, "{s} {b}");
        let lamp = json!({"kind": "lamp_post", "capacity": 2});
        let cctv = json!({"kind": "cctv_column", "capacity": 2});
        let w1 = asset_at(&app, &sc.staff, "trafford", "W1", -2.36, lamp.clone()).await;
        let w2 = asset_at(&app, &sc.staff, "trafford", "W2", -2.37, lamp.clone()).await;
        let e1 = asset_at(&app, &sc.staff, "trafford", "E1", -2.33, cctv).await;
        let e2 = asset_at(&app, &sc.staff, "trafford", "E2", -2.32, lamp).await;

        // acme: W1 and E1 for three years; beta: E2 for two; beta's W2 is refused.
        let (_, a) = submit(&app, &sc.acme, &form(&[w1.clone(), e1.clone()], today(), 3)).await;
        let (_, b) = submit(&app, &sc.beta, &form(std::slice::from_ref(&e2), today(), 2)).await;
        let (_, r) = submit(&app, &sc.beta, &form(std::slice::from_ref(&w2), today(), 1)).await;
        let (acme_id, beta_id, refused) = (
            a["id"].as_str().unwrap().to_string(),
            b["id"].as_str().unwrap().to_string(),
            r["id"].as_str().unwrap().to_string(),
        );
        assert_eq!(a["sites"][0]["ward"], "West");
        let acme = approve(&app, &sc.staff, &acme_id).await;
        let beta = approve(&app, &sc.staff, &beta_id).await;
        let (s, _) = review(&app, &sc.staff, &refused).await;
        assert_eq!(s, 200);
        let (s, _) = decide(&app, &sc.staff, &refused, "reject", Some("column too old")).await;
        assert_eq!(s, 200);

        // This year, by hand: three application fees of 500.00 (acme's
        // shared 250.00 + 250.00 over its two sites), and year-one rent of
        // 270.00 on each of three sites, half of it to the fund.
        let year = today().year();
        let (s, l) = ledger(&app, &sc.staff, "trafford", year).await;
        assert_eq!(s, 200, "{l}");
        assert_eq!(l["currency"], "USD");
        assert_eq!(
            l["revenue"],
            json!({"application_fees": "1500.00", "site_fees": "0.00", "rent": "810.00", "total": "2310.00"})
        );
        assert_eq!(l["subsidy_fund"], "405.00");
        breakdowns_add_up(&l);
        assert_eq!(
            table(&l, "by_ward", "ward"),
            BTreeMap::from([
                // acme 250 + W1 270 + beta's refused W2 fee 500.
                ("West".to_string(), pair("1020.00", "135.00")),
                // acme 250 + E1 270 + beta 500 + E2 270.
                ("East".to_string(), pair("1290.00", "270.00")),
            ])
        );
        assert_eq!(
            table(&l, "by_kind", "kind"),
            BTreeMap::from([
                ("lamp_post".to_string(), pair("1790.00", "270.00")),
                ("cctv_column".to_string(), pair("520.00", "135.00")),
            ])
        );
        assert_eq!(
            table(&l, "by_operator", "operator"),
            BTreeMap::from([
                ("acme".to_string(), pair("1040.00", "270.00")),
                ("beta".to_string(), pair("1270.00", "135.00")),
            ])
        );

        // Over the years, rent and subsidy equal the agreements' schedules,
        // which are the quote engine's years.
        let mut rent = Decimal::ZERO;
        let mut fund = Decimal::ZERO;
        let mut by_year = Vec::new();
        for y in year..year + 4 {
            let (_, l) = ledger(&app, &sc.staff, "trafford", y).await;
            breakdowns_add_up(&l);
            rent += d(&l["revenue"]["rent"]);
            fund += d(&l["subsidy_fund"]);
            by_year.push(l["revenue"]["rent"].as_str().unwrap().to_string());
        }
        // 2 × 278.10 + 278.10, then acme's 2 × 286.44 alone (beta's term is two years).
        assert_eq!(by_year, ["810.00", "834.30", "572.88", "0.00"]);
        let agreed = |v: &Value, key: &str| d(&v["agreement"][key]);
        assert_eq!(
            rent,
            agreed(&acme, "rent_total") + agreed(&beta, "rent_total")
        );
        assert_eq!(
            fund,
            agreed(&acme, "subsidy_total") + agreed(&beta, "subsidy_total")
        );
        assert_eq!(
            rent,
            d(&acme["quote"]["rent_total"]) + d(&beta["quote"]["rent_total"])
        );
        assert_eq!(
            fund,
            d(&acme["quote"]["subsidy_total"]) + d(&beta["quote"]["subsidy_total"])
        );
        assert_eq!(rent.to_string(), "2217.18");

        // CSV for finance: one row per charge, adding up to the same total.
        let (s, ct, body) = get_bytes(
            &app,
            Some(&sc.staff),
            &format!("/v1/authorities/trafford/ledger?year={year}&format=csv"),
        )
        .await;
        assert_eq!(s, 200);
        assert!(ct.starts_with("text/csv"), "{ct}");
        let text = String::from_utf8(body).unwrap();
        let mut rows = csv_rows(&text);
        let header = rows.remove(0);
        assert_eq!(
            header,
            [
                "due_on",
                "charge",
                "application",
                "agreement",
                "agreement_year",
                "operator",
                "asset",
                "asset_kind",
                "ward",
                "currency",
                "amount",
                "subsidy"
            ]
        );
        // Fees: acme's two shares, beta's two; rent: three sites.
        assert_eq!(rows.len(), 7, "{text}");
        let total: Decimal = rows
            .iter()
            .map(|r| Decimal::from_str_exact(&r[10]).unwrap())
            .sum();
        assert_eq!(total.to_string(), "2310.00");
        let w1_rent = rows
            .iter()
            .find(|r| r[1] == "rent" && r[6] == w1)
            .expect("W1's rent");
        assert_eq!(w1_rent[0], iso(today()));
        assert_eq!(w1_rent[2], acme_id);
        assert_eq!(w1_rent[3], acme["agreement"]["id"].as_str().unwrap());
        assert_eq!((w1_rent[4].as_str(), w1_rent[8].as_str()), ("1", "West"));
        assert_eq!(
            (w1_rent[10].as_str(), w1_rent[11].as_str()),
            ("270.00", "135.00")
        );

        // The public summary: what went into the fund, by year and ward,
        // and nothing about operators, sites or agreements.
        let (s, p) = subsidy(&app, "trafford").await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["total"], "405.00");
        assert_eq!(
            p["years"],
            json!([{"year": year, "subsidy_fund": "405.00", "by_ward": [
                {"ward": "East", "subsidy": "270.00"}, {"ward": "West", "subsidy": "135.00"}]}])
        );
        let text = p.to_string();
        for private in [
            "acme",
            "beta",
            &acme_id,
            &beta_id,
            &refused,
            &w1,
            &w2,
            &e1,
            &e2,
            acme["agreement"]["id"].as_str().unwrap(),
        ] {
            assert!(!text.contains(private), "{private} leaks: {text}");
        }
        let (s, _) = subsidy(&app, "nowhere").await;
        assert_eq!(s, 404);

        // Terminating acme's agreement today keeps what fell due today and
        // stops next year's rent.
        let (s, _) = install(&app, &sc.acme, &acme_id, &[w1.clone(), e1.clone()]).await;
        assert_eq!(s, 200);
        let (s, _) = terminate(&app, &sc.acme, &acme_id).await;
        assert_eq!(s, 200);
        let (_, now) = ledger(&app, &sc.staff, "trafford", year).await;
        assert_eq!(now["revenue"]["total"], "2310.00");
        let (_, next) = ledger(&app, &sc.staff, "trafford", year + 1).await;
        assert_eq!(next["revenue"]["rent"], "278.10");
        assert_eq!(
            table(&next, "by_operator", "operator"),
            BTreeMap::from([("beta".to_string(), pair("278.10", "139.05"))])
        );

        // The admin reads any council's; bad parameters are named.
        let (s, _) = ledger(&app, ADMIN, "trafford", year).await;
        assert_eq!(s, 200);
        let (s, b) = app
            .get("/v1/authorities/trafford/ledger?year=1066", Some(&sc.staff))
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "year");
        let (s, b) = app
            .get(
                &format!("/v1/authorities/trafford/ledger?year={year}&format=xls"),
                Some(&sc.staff),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        let (s, _) = app
            .json(
                Method::GET,
                "/v1/authorities/trafford/ledger",
                Some(&sc.staff),
                &json!({}),
            )
            .await;
        assert_eq!(s, 400);
    }
);

/// Splits simple CSV (quotes only around fields with commas or quotes).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}
