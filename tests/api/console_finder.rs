//! The console's site finder over HTTP with a cookie jar, as a browser
//! without JavaScript uses it: a typed box and a picked ward give the same
//! sites as the same request to `POST /v1/site-searches`; a search is seen
//! only by its own operator; "apply for these sites" makes the application
//! (seen by the council's staff in their queue); and no finder form works
//! without its CSRF token.

use serde_json::{Value, json};

use crate::application_helpers::{asset_at, scene};
use crate::console_helpers::{Page, Visitor, hidden};
use crate::helpers::TestApp;
use crate::on_both_databases;

/// Three lamp posts about 200 m apart on latitude 53.39 and a ward holding
/// the western two. Returns (scene, asset ids west to east).
async fn street(app: &TestApp) -> (crate::application_helpers::Scene, Vec<String>) {
    let s = scene(app, "north", true).await;
    let mut ids = Vec::new();
    for (r, lon, h) in [
        ("LP-W", -2.351, 8.0),
        ("LP-M", -2.348, 10.0),
        ("LP-E", -2.345, 6.0),
    ] {
        let props = json!({"kind": "lamp_post", "capacity": 2, "height_m": h,
            "power_supply": "continuous"});
        ids.push(asset_at(app, &s.staff, "north", r, lon, props).await);
    }
    let wards = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"name": "Westgate"},
        "geometry": {"type": "Polygon", "coordinates": [[[-2.36, 53.38], [-2.3465, 53.38],
            [-2.3465, 53.40], [-2.36, 53.40], [-2.36, 53.38]]]}}]});
    let (status, body) = app
        .post_bytes(
            "/v1/authorities/north/areas?layer=ward&name_field=name",
            Some(&s.staff),
            "application/geo+json",
            wards.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (s, ids)
}

/// The chosen asset ids of a search answer, in rank order.
fn chosen(answer: &Value) -> Vec<String> {
    answer["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The saved search id a finder post was sent on to.
fn search_id(done: &Page) -> String {
    assert_eq!(done.status, 303, "{}", done.body);
    done.location()
        .strip_prefix("/console/finder/searches/")
        .unwrap_or_else(|| panic!("sent to {}", done.location()))
        .to_string()
}

on_both_databases!(
    the_finder_searches_as_the_api_does_and_applies,
    |app: TestApp| async move {
        let (s, ids) = street(&app).await;
        let acme = Visitor::signed_in(&app, &s.acme).await;
        let blank = acme.get("/console/finder").await;
        assert_eq!(blank.status, 200, "{}", blank.body);
        assert!(
            blank.body.contains("Westgate (north)"),
            "the ward is offered"
        );
        let csrf = blank.csrf();

        // A typed box, as with no JavaScript.
        let fields = [
            ("csrf", csrf.as_str()),
            ("place", "bbox"),
            ("bbox", "-2.36, 53.38, -2.34, 53.40"),
            ("sites_wanted", "10"),
            ("min_spacing_m", "150"),
            ("coverage_radius_m", "250"),
            ("kind", "lamp_post"),
            ("kind", "cctv_column"),
            ("min_height_m", "7"),
            ("term_years", "10"),
        ];
        let id = search_id(&acme.post("/console/finder", &fields).await);
        // The same request to the API chooses the same sites in the same order.
        let (st, api) = app
            .json(
                reqwest::Method::POST,
                "/v1/site-searches",
                Some(&s.acme),
                &json!({"area": {"type": "Polygon", "coordinates": [[[-2.36, 53.38], [-2.34, 53.38],
                    [-2.34, 53.40], [-2.36, 53.40], [-2.36, 53.38]]]},
                    "sites_wanted": 10, "min_spacing_m": 150, "coverage_radius_m": 250,
                    "kinds": ["lamp_post", "cctv_column"], "min_height_m": 7, "term_years": 10}),
            )
            .await;
        assert_eq!(st, 201, "{api}");
        let (st, saved) = app
            .get(&format!("/v1/site-searches/{id}"), Some(&s.acme))
            .await;
        assert_eq!(st, 200, "{saved}");
        assert_eq!(chosen(&saved), chosen(&api));
        // The 6 m post is too low: two chosen, one ruled out by height.
        let mut expect = vec![ids[0].clone(), ids[1].clone()];
        let mut got = chosen(&saved);
        got.sort();
        expect.sort();
        assert_eq!(got, expect);
        assert_eq!(saved["summary"]["rejected_by"]["height"], 1);

        // The page: ranked sites with score parts and fees, on the map with
        // the covered region, the counts per reason, the form filled in.
        let page = acme.get(&format!("/console/finder/searches/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for want in [
            "id=\"rank-1\"",
            "id=\"rank-2\"",
            "LP-W",
            "LP-M",
            "class=\"coverage\"",
            "class=\"search-area\"",
            "Height unknown or out of range</td><td class=\"num\">1</td>",
            "Apply for these sites",
            "value=\"-2.36,53.38,-2.34,53.4\"",
        ] {
            assert!(page.body.contains(want), "{want} missing");
        }
        assert!(
            !page.body.contains("LP-E</td>"),
            "the low post is not chosen"
        );
        assert_eq!(page.body.matches("class=\"site-dot\"").count(), 2);

        // A picked ward searches its polygon: only the western two posts.
        let ward = [
            ("csrf", csrf.as_str()),
            ("place", "ward"),
            ("ward", "north/Westgate"),
            ("sites_wanted", "10"),
            ("min_spacing_m", "0"),
        ];
        let ward_id = search_id(&acme.post("/console/finder", &ward).await);
        let (_, w) = app
            .get(&format!("/v1/site-searches/{ward_id}"), Some(&s.acme))
            .await;
        let mut got = chosen(&w);
        got.sort();
        assert_eq!(got, expect, "{w}");
        let page = acme
            .get(&format!("/console/finder/searches/{ward_id}"))
            .await;
        assert!(
            page.body
                .contains("<option value=\"north/Westgate\" selected>"),
            "the ward is shown picked"
        );

        // A bad form names its fields and searches nothing.
        let bad = acme
            .post(
                "/console/finder",
                &[
                    ("csrf", csrf.as_str()),
                    ("place", "bbox"),
                    ("bbox", "-2.34,53.38"),
                    ("sites_wanted", "0"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("<strong>bbox</strong>"));

        // Another operator sees none of acme's searches.
        let beta = Visitor::signed_in(&app, &s.beta).await;
        assert_eq!(
            beta.get(&format!("/console/finder/searches/{id}"))
                .await
                .status,
            404
        );
        let theirs = beta.get("/console/finder").await;
        assert!(!theirs.body.contains(&id) && !theirs.body.contains(&ward_id));
        let (st, _) = app
            .get(&format!("/v1/site-searches/{id}"), Some(&s.beta))
            .await;
        assert_eq!(st, 404);
        // ...nor may apply from them.
        let beta_csrf = theirs.csrf();
        let tried = beta
            .post(
                &format!("/console/finder/searches/{id}/apply"),
                &[("csrf", beta_csrf.as_str()), ("asset", ids[0].as_str())],
            )
            .await;
        assert_eq!(tried.status, 404);
        // acme's own finder lists both.
        let mine = acme.get("/console/finder").await;
        assert!(mine.body.contains(&id) && mine.body.contains(&ward_id));

        // Apply, with the form as the page filled it in plus the contact.
        let page = acme.get(&format!("/console/finder/searches/{id}")).await;
        let v = |name: &str| hidden(&page.body, name).unwrap_or_default();
        let (start, install_by) = (v("start"), v("install_by"));
        let (tech, bands, volume, power) = (
            v("technology"),
            v("bands"),
            v("antenna_volume_l"),
            v("power_w"),
        );
        assert_eq!((tech.as_str(), bands.as_str()), ("5G NR", "n78"));
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("term_years", "10"),
            ("start", start.as_str()),
            ("install_by", install_by.as_str()),
            ("technology", tech.as_str()),
            ("bands", bands.as_str()),
            ("antenna_volume_l", volume.as_str()),
            ("power_w", power.as_str()),
            ("deployment_plan", "In rank order."),
            ("contact_name", "Ada Planner"),
            ("contact_email", "ada@example.net"),
            ("contact_phone", "+44 161 555 0100"),
        ];
        for a in chosen(&saved).iter() {
            assert!(
                page.body
                    .contains(&format!("name=\"asset\" value=\"{a}\" checked")),
                "{a} ticked"
            );
        }
        let sites = chosen(&saved);
        for a in &sites {
            form.push(("asset", a.as_str()));
        }
        // Without the social value: named, nothing applied for.
        let missing = acme
            .post(&format!("/console/finder/searches/{id}/apply"), &form)
            .await;
        assert_eq!(missing.status, 422, "{}", missing.body);
        assert!(missing.body.contains("<strong>social_value</strong>"));
        assert!(missing.body.contains("Ada Planner"), "typed values kept");
        // Without the CSRF token: refused.
        let no_csrf: Vec<(&str, &str)> = form
            .iter()
            .copied()
            .filter(|(k, _)| *k != "csrf")
            .chain([("social_value", "Coverage for the high street.")])
            .collect();
        let refused = acme
            .post(&format!("/console/finder/searches/{id}/apply"), &no_csrf)
            .await;
        assert_eq!(refused.status, 403);
        let (_, none) = app.get("/v1/applications", Some(&s.acme)).await;
        assert_eq!(none["number_matched"], 0, "{none}");

        form.push(("social_value", "Coverage for the high street."));
        let done = acme
            .post(&format!("/console/finder/searches/{id}/apply"), &form)
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        let app_id = done
            .location()
            .strip_prefix("/console/applications/")
            .and_then(|l| l.strip_suffix("?done=submit"))
            .unwrap_or_else(|| panic!("sent to {}", done.location()))
            .to_string();
        // The council's staff see it, made from the search, in their queue.
        let (st, a) = app
            .get(&format!("/v1/applications/{app_id}"), Some(&s.staff))
            .await;
        assert_eq!(st, 200, "{a}");
        assert_eq!(a["status"], "submitted");
        assert_eq!(a["site_search"], json!(id));
        let applied: Vec<&str> = a["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["asset"].as_str().unwrap())
            .collect();
        assert_eq!(
            applied,
            sites.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let staff = Visitor::signed_in(&app, &s.staff).await;
        let queue = staff.get("/console/queue").await;
        assert!(
            queue
                .body
                .contains(&format!("/console/applications/{app_id}"))
        );
    }
);

on_both_databases!(
    finder_forms_need_their_csrf_token,
    |app: TestApp| async move {
        let (s, ids) = street(&app).await;
        let search = [
            ("place", "bbox"),
            ("bbox", "-2.36,53.38,-2.34,53.40"),
            ("sites_wanted", "3"),
        ];
        // Not signed in: sent to sign in.
        let stranger = Visitor::new(&app);
        let page = stranger.post("/console/finder", &search).await;
        assert_eq!(page.status, 303);
        assert!(page.location().starts_with("/console/sign-in"));

        let acme = Visitor::signed_in(&app, &s.acme).await;
        let beta = Visitor::signed_in(&app, &s.beta).await;
        let beta_csrf = beta.get("/console/finder").await.csrf();
        let mut no_token = search.to_vec();
        let refused = acme.post("/console/finder", &no_token).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("This form has expired"));
        for wrong in ["forged", beta_csrf.as_str()] {
            no_token.push(("csrf", wrong));
            assert_eq!(acme.post("/console/finder", &no_token).await.status, 403);
            no_token.pop();
        }
        let (_, list) = app.get("/v1/site-searches", Some(&s.acme)).await;
        assert_eq!(list["number_matched"], 0, "nothing searched: {list}");

        // With it, the search runs; applying without it is refused too.
        let csrf = acme.get("/console/finder").await.csrf();
        let mut with = search.to_vec();
        with.push(("csrf", &csrf));
        let id = search_id(&acme.post("/console/finder", &with).await);
        let apply = acme
            .post(
                &format!("/console/finder/searches/{id}/apply"),
                &[("asset", ids[0].as_str()), ("csrf", "forged")],
            )
            .await;
        assert_eq!(apply.status, 403);
        let (_, none) = app.get("/v1/applications", Some(&s.acme)).await;
        assert_eq!(none["number_matched"], 0);
    }
);
