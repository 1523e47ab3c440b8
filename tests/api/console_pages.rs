//! The console's staff pages beyond the queue (the ledger and its CSV, the
//! fee schedule, the asset register) and the operator's documents, driven
//! over HTTP with a cookie jar and checked against the JSON API: the same
//! numbers, the same writes, the same conditional-write rules (a stale
//! revision or version is refused, nothing written), and no form without
//! its CSRF token.

use serde_json::{Value, json};

use crate::application_helpers::{
    asset, decide, fcc_schedule, fetch, form, get_bytes, pdf, review, scene, submit, today,
};
use crate::console_helpers::{Part, Visitor, grouped, hidden};
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    the_ledger_page_matches_the_api_and_its_csv,
    |app: TestApp| async move {
        let s = scene(&app, "north", true).await;
        let a = asset(
            &app,
            &s.staff,
            "north",
            "LP-1",
            json!({"kind": "lamp_post", "capacity": 1}),
        )
        .await;
        let (_, b) = submit(&app, &s.acme, &form(&[a], today(), 5)).await;
        let id = b["id"].as_str().unwrap().to_string();
        review(&app, &s.staff, &id).await;
        assert_eq!(decide(&app, &s.staff, &id, "approve", None).await.0, 200);
        let year = today().year();
        let (_, ledger) = crate::application_helpers::ledger(&app, &s.staff, "north", year).await;

        let v = Visitor::signed_in(&app, &s.staff).await;
        let page = v.get(&format!("/console/ledger?year={year}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        // The API's totals, as the page writes dollars (the FCC schedule).
        for amount in [&ledger["revenue"]["total"], &ledger["subsidy_fund"]] {
            let text = format!("<strong>${}</strong>", grouped(amount.as_str().unwrap()));
            assert!(page.body.contains(&text), "{text} not on the page");
        }
        assert!(page.body.contains("class=\"chart\""));
        // The CSV is the API's, byte for byte.
        let csv = v.get(&format!("/console/ledger.csv?year={year}")).await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let (_, _, api_csv) = get_bytes(
            &app,
            Some(&s.staff),
            &format!("/v1/authorities/north/ledger?year={year}&format=csv"),
        )
        .await;
        assert_eq!(csv.body.as_bytes(), api_csv.as_slice());
        // Operators have no ledger.
        let op = Visitor::signed_in(&app, &s.acme).await;
        assert_eq!(op.get("/console/ledger").await.status, 403);
        assert_eq!(
            op.get(&format!("/console/ledger.csv?year={year}"))
                .await
                .status,
            403
        );
    }
);

on_both_databases!(
    fee_schedules_are_published_from_the_page_once,
    |app: TestApp| async move {
        let s = scene(&app, "north", true).await;
        let v = Visitor::signed_in(&app, &s.staff).await;
        let page = v.get("/console/fees").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("In effect today: version 1"));
        assert_eq!(hidden(&page.body, "latest").as_deref(), Some("1"));
        let csrf = page.csrf();

        let mut next = fcc_schedule();
        next["effective_from"] = json!("2020-01-01");
        next["annual_rent"]["lamp_post"] = json!("300.00");
        let text = next.to_string();
        // No token: nothing published.
        let r = v
            .post(
                "/console/fees/publish",
                &[("schedule", &text), ("latest", "1")],
            )
            .await;
        assert_eq!(r.status, 403);
        // Invalid JSON names the field.
        let r = v
            .post(
                "/console/fees/publish",
                &[("schedule", "{"), ("latest", "1"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("<strong>schedule</strong>"));
        // Published as version 2.
        let r = v
            .post(
                "/console/fees/publish",
                &[("schedule", &text), ("latest", "1"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.location(), "/console/fees?published=2");
        let (_, api) = app.get("/v1/authorities/north/fee-schedule", None).await;
        assert_eq!(api["annual_rent"]["lamp_post"], "300.00", "{api}");
        // The same form again was drawn at version 1: refused, nothing published.
        let r = v
            .post(
                "/console/fees/publish",
                &[("schedule", &text), ("latest", "1"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, 412, "{}", r.body);
        let (_, history) = app
            .get("/v1/authorities/north/fee-schedule/history", None)
            .await;
        assert_eq!(history["versions"].as_array().unwrap().len(), 2);
    }
);

on_both_databases!(
    assets_are_edited_at_the_revision_read,
    |app: TestApp| async move {
        let s = scene(&app, "north", true).await;
        let id = asset(
            &app,
            &s.staff,
            "north",
            "LP-9",
            json!({"kind": "lamp_post", "capacity": 1, "height_m": 8}),
        )
        .await;
        let v = Visitor::signed_in(&app, &s.staff).await;
        let list = v.get("/console/assets?q=lp-9").await;
        assert_eq!(list.status, 200);
        assert!(
            list.body
                .contains(&format!("href=\"/console/assets/{id}\""))
        );
        assert!(
            v.get("/console/assets?q=nothing-like-it")
                .await
                .body
                .contains("No assets match.")
        );

        let form = v.get(&format!("/console/assets/{id}")).await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        let rev = hidden(&form.body, "revision").unwrap();
        let fields = |height: &'static str, rev: String, csrf: String| {
            vec![
                ("csrf", csrf),
                ("revision", rev),
                ("height_m", height.to_string()),
                ("capacity", "2".into()),
                ("load_rating_kg", "".into()),
                ("last_inspected", "2025-03-01".into()),
                ("install_year", "2001".into()),
                ("status", "available".into()),
                ("power_supply", "continuous".into()),
                ("photo_url", "".into()),
            ]
        };
        let post = |f: Vec<(&'static str, String)>| {
            let v = &v;
            let id = id.clone();
            async move {
                let pairs: Vec<(&str, &str)> = f.iter().map(|(k, x)| (*k, x.as_str())).collect();
                v.post(&format!("/console/assets/{id}"), &pairs).await
            }
        };
        let r = post(fields("9.5", rev.clone(), csrf.clone())).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (_, a) = app.get(&format!("/v1/assets/{id}"), Some(&s.staff)).await;
        assert_eq!(a["properties"]["height_m"], 9.5, "{a}");
        assert_eq!(a["properties"]["capacity"], 2);
        assert_eq!(a["properties"]["last_inspected"], "2025-03-01");
        // The same form again, at the old revision: 412, nothing written.
        let r = post(fields("12", rev.clone(), csrf.clone())).await;
        assert_eq!(r.status, 412, "{}", r.body);
        let (_, a) = app.get(&format!("/v1/assets/{id}"), Some(&s.staff)).await;
        assert_eq!(a["properties"]["height_m"], 9.5);
        // Bad numbers are named; no token, no write.
        let r = post(fields(
            "tall",
            (rev.parse::<i64>().unwrap() + 1).to_string(),
            csrf.clone(),
        ))
        .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("<strong>height_m</strong>"));
        let r = post(fields(
            "1",
            (rev.parse::<i64>().unwrap() + 1).to_string(),
            "forged".into(),
        ))
        .await;
        assert_eq!(r.status, 403);
        // Another council's staff cannot open it.
        let south = app.authority("south").await;
        let other = Visitor::signed_in(&app, &south).await;
        assert_eq!(
            other.get(&format!("/console/assets/{id}")).await.status,
            403
        );
    }
);

on_both_databases!(
    imports_report_each_rejected_row,
    |app: TestApp| async move {
        let s = scene(&app, "north", true).await;
        let v = Visitor::signed_in(&app, &s.staff).await;
        let csrf = v.get("/console/assets").await.csrf();
        let csv = b"ref,kind,lon,lat,capacity\nIMP-1,lamp_post,-2.35,53.39,1\nIMP-2,spaceship,-2.35,53.39,1\nIMP-3,lamp_post,-2.34,53.39,1\n";
        let no_token = v
            .post_multipart(
                "/console/assets/import",
                &[Part {
                    name: "file",
                    file: Some(("assets.csv", "text/csv")),
                    body: csv,
                }],
            )
            .await;
        assert_eq!(no_token.status, 403);
        let r = v
            .post_multipart(
                "/console/assets/import",
                &[
                    Part {
                        name: "csrf",
                        file: None,
                        body: csrf.as_bytes(),
                    },
                    Part {
                        name: "crs",
                        file: None,
                        body: b"wgs84",
                    },
                    Part {
                        name: "file",
                        file: Some(("assets.csv", "text/csv")),
                        body: csv,
                    },
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body
                .contains("Import finished: 2 added, 0 updated, 1 rejected."),
            "{}",
            r.body
        );
        assert!(r.body.contains("<td>3</td>"), "line 3 is the bad row");
        let (_, list) = app.get("/v1/assets?limit=10", Some(&s.staff)).await;
        assert_eq!(
            list["numberMatched"]
                .as_u64()
                .or(list["number_matched"].as_u64()),
            Some(2),
            "{list}"
        );
    }
);

on_both_databases!(
    operators_attach_documents_and_staff_download_them,
    |app: TestApp| async move {
        let s = scene(&app, "north", true).await;
        let a = asset(
            &app,
            &s.staff,
            "north",
            "LP-1",
            json!({"kind": "lamp_post", "capacity": 1}),
        )
        .await;
        let (_, b) = submit(&app, &s.acme, &form(&[a], today(), 5)).await;
        let id = b["id"].as_str().unwrap().to_string();
        let acme = Visitor::signed_in(&app, &s.acme).await;
        let page = acme.get(&format!("/console/applications/{id}")).await;
        assert!(page.body.contains("Attach a document"));
        let csrf = page.csrf();
        let doc = pdf();
        let path = format!("/console/applications/{id}/documents");
        let file = Part {
            name: "file",
            file: Some(("plan.pdf", "application/pdf")),
            body: &doc,
        };
        // Without the token: refused, nothing attached.
        let r = acme
            .post_multipart(
                &path,
                &[Part {
                    name: "file",
                    file: Some(("plan.pdf", "application/pdf")),
                    body: &doc,
                }],
            )
            .await;
        assert_eq!(r.status, 403);
        // A PNG declared as a PDF is told from its bytes.
        let png = crate::application_helpers::png();
        let r = acme
            .post_multipart(
                &path,
                &[
                    Part {
                        name: "csrf",
                        file: None,
                        body: csrf.as_bytes(),
                    },
                    Part {
                        name: "file",
                        file: Some(("plan.pdf", "application/pdf")),
                        body: &png,
                    },
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = acme
            .post_multipart(
                &path,
                &[
                    Part {
                        name: "csrf",
                        file: None,
                        body: csrf.as_bytes(),
                    },
                    Part {
                        name: "description",
                        file: None,
                        body: b"Site plan",
                    },
                    file,
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (_, docs) = crate::application_helpers::attachments(&app, &s.staff, &id).await;
        let docs: &Vec<Value> = docs["attachments"]
            .as_array()
            .or(docs.as_array())
            .expect("documents");
        assert_eq!(docs.len(), 1);
        let doc_id = docs[0]["id"].as_str().unwrap();
        // Staff download it from the application page's link.
        let staff = Visitor::signed_in(&app, &s.staff).await;
        let page = staff.get(&format!("/console/applications/{id}")).await;
        let href = format!("/console/applications/{id}/documents/{doc_id}");
        assert!(page.body.contains(&href) && page.body.contains("Site plan"));
        let got = staff.client.get(app.url(&href)).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.headers()["content-type"], "application/pdf");
        assert_eq!(got.bytes().await.unwrap().as_ref(), pdf().as_slice());
        // The other operator cannot.
        let beta = Visitor::signed_in(&app, &s.beta).await;
        assert_eq!(beta.get(&href).await.status, 404);
        let (_, now) = fetch(&app, &s.staff, &id).await;
        assert_eq!(now["status"], "submitted");
    }
);
