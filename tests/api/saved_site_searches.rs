//! Saved site searches: every search is kept; lists and fetches are scoped
//! (an operator sees its organisation's, staff those touching their council,
//! admin all; anyone else gets a 404), lists page with counts and links, and
//! an application can be seeded from (or checked against) a saved search.
//! On both databases.

use reqwest::Method;
use serde_json::{Value, json};

use crate::application_helpers::{asset_at, form, scene, submit, today};
use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

async fn search(app: &TestApp, token: &str, sites_wanted: u32) -> (u16, Value) {
    app.json(
        Method::POST,
        "/v1/site-searches",
        Some(token),
        &json!({"near": {"lon": -2.35, "lat": 53.39, "radius_m": 2000},
                "sites_wanted": sites_wanted, "min_spacing_m": 100}),
    )
    .await
}

fn ids(b: &Value) -> Vec<String> {
    b["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

on_both_databases!(
    saved_searches_are_scoped_paged_and_seed_applications,
    |app: TestApp| async move {
        let s = scene(&app, "trafford", true).await;
        let other = scene(&app, "stockport", false).await;
        // Five lamp posts 300 m apart along a parallel (0.0045° of longitude ≈ 300 m).
        for i in 0..5 {
            asset_at(
                &app,
                &s.staff,
                "trafford",
                &format!("L{i}"),
                -2.36 + 0.0045 * f64::from(i),
                json!({"kind": "lamp_post", "capacity": 2, "height_m": 8}),
            )
            .await;
        }

        let (st, first) = search(&app, &s.acme, 3).await;
        assert_eq!(st, 201, "{first}");
        let id = first["id"].as_str().expect("saved id").to_string();
        let chosen = ids(&first);
        assert_eq!(chosen.len(), 3);
        for _ in 0..2 {
            let (st, _) = search(&app, &s.acme, 2).await;
            assert_eq!(st, 201);
        }
        let (st, _) = search(&app, &s.beta, 1).await;
        assert_eq!(st, 201);

        // The owner reads it back as served, with its request.
        let (st, back) = app
            .get(&format!("/v1/site-searches/{id}"), Some(&s.acme))
            .await;
        assert_eq!(st, 200, "{back}");
        assert_eq!(back["features"], first["features"]);
        assert_eq!(back["summary"], first["summary"]);
        assert_eq!(back["request"]["sites_wanted"], 3);
        // Its council's staff and the admin see it; another operator and another council do not.
        for (token, status) in [
            (&s.staff, 200),
            (&ADMIN.to_string(), 200),
            (&s.beta, 404),
            (&other.staff, 404),
        ] {
            let (st, b) = app
                .get(&format!("/v1/site-searches/{id}"), Some(token))
                .await;
            assert_eq!(st, status, "{b}");
        }

        // Lists: acme has 3, beta 1, the council's staff 4, the other council 0.
        let (st, page) = app.get("/v1/site-searches?limit=2", Some(&s.acme)).await;
        assert_eq!(st, 200, "{page}");
        assert_eq!(page["number_matched"], 3);
        assert_eq!(page["number_returned"], 2);
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .expect("a next link")["href"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, rest) = app.get(&next, Some(&s.acme)).await;
        assert_eq!(st, 200, "{rest}");
        assert_eq!(rest["number_returned"], 1);
        let mut seen: Vec<Value> = page["site_searches"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rest["site_searches"].as_array().unwrap())
            .map(|x| x["id"].clone())
            .collect();
        seen.dedup();
        assert_eq!(seen.len(), 3);
        assert!(seen.contains(&json!(id)));
        for (token, n) in [
            (&s.beta, 1),
            (&s.staff, 4),
            (&other.staff, 0),
            (&ADMIN.to_string(), 4),
        ] {
            let (st, b) = app.get("/v1/site-searches", Some(token)).await;
            assert_eq!(st, 200);
            assert_eq!(b["number_matched"], n, "{b}");
        }
        let (st, _) = app.get("/v1/site-searches?limit=0", Some(&s.acme)).await;
        assert_eq!(st, 422);

        // Another operator cannot apply from acme's search.
        let mut body = form(&[], today(), 10);
        body.as_object_mut().unwrap().remove("assets");
        body["site_search"] = json!(id);
        let (st, b) = submit(&app, &s.beta, &body).await;
        assert_eq!(st, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "site_search");
        // Assets the search did not choose are named.
        let mut named = form(&["trafford-nope".to_string()], today(), 10);
        named["site_search"] = json!(id);
        let (st, b) = submit(&app, &s.acme, &named).await;
        assert_eq!(st, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "assets[0]");
        // Omitted assets are the search's chosen sites, in rank order.
        let (st, b) = submit(&app, &s.acme, &body).await;
        assert_eq!(st, 201, "{b}");
        let sites: Vec<String> = b["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["asset"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(sites, chosen);
        assert_eq!(b["site_search"], json!(id));
    }
);
