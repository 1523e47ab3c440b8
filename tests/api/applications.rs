//! Applications over HTTP: the whole life of an application, every illegal
//! transition refused, capacity held and released, scoping between
//! operators and councils, forms, the clock, and the audit trail.

use reqwest::Method;
use serde_json::{Value, json};
use streetcell::domain::access::Principal;
use streetcell::domain::application::ApplicationRequest;

use crate::application_helpers::*;
use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

fn status(b: &Value) -> &str {
    b["status"].as_str().unwrap_or("?")
}

fn id(b: &Value) -> String {
    b["id"].as_str().expect("application id").to_string()
}

/// Submits an application for `assets` as `token`, expecting 201.
async fn applied(app: &TestApp, token: &str, assets: &[String]) -> String {
    let (s, b) = submit(app, token, &form(assets, today(), 3)).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(status(&b), "submitted");
    id(&b)
}

/// Expects `(200, body)` with `status` `want`.
fn moved((s, b): (u16, Value), want: &str) -> Value {
    assert_eq!(s, 200, "{b}");
    assert_eq!(status(&b), want, "{b}");
    b
}

/// Lapses approvals as the server's rule does, on a day past every
/// install-by date set here.
async fn run_lapse_rule(app: &TestApp) -> usize {
    app.register
        .lapse_overdue(plus_days(today(), 400))
        .await
        .expect("lapse rule")
}

on_both_databases!(
    the_whole_life_of_applications_through_every_legal_transition,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let a = lamp_post(&app, &sc.staff, "trafford", "LP-1", 1).await;
        let b = lamp_post(&app, &sc.staff, "trafford", "LP-2", 1).await;
        let sites = vec![a.clone(), b.clone()];

        // submitted: the clock starts; both sites are held.
        let (s, sub) = submit(&app, &sc.acme, &form(&sites, today(), 3)).await;
        assert_eq!(s, 201, "{sub}");
        let first = id(&sub);
        assert_eq!(sub["decision_due"], iso(plus_days(today(), 56)));
        assert_eq!(sub["overdue"], false);
        assert_eq!(sub["quote"]["schedule_version"], 1);
        assert_eq!(sub["quote"]["application_fee"], "500.00");
        assert_eq!(sub["assets"], json!(sites));
        assert_eq!(free_capacity(&app, &a).await, 0);
        assert_eq!(free_capacity(&app, &b).await, 0);

        // under_review → info_requested (clock paused) → under_review.
        moved(review(&app, &sc.staff, &first).await, "under_review");
        let paused = moved(
            decide(
                &app,
                &sc.staff,
                &first,
                "request_info",
                Some("Structural calcs for LP-2?"),
            )
            .await,
            "info_requested",
        );
        assert_eq!(paused["clock"]["paused"], true);
        moved(
            respond(&app, &sc.acme, &first, "Attached.").await,
            "under_review",
        );

        // approved: an agreement on the schedule's terms, year by year.
        let approved = moved(
            decide(&app, &sc.staff, &first, "approve", None).await,
            "approved",
        );
        let agreement = &approved["agreement"];
        assert_eq!(agreement["schedule_version"], 1);
        assert_eq!(agreement["start"], iso(today()));
        // Two lamp posts at 270.00, 3 % a year, half to the fund.
        let years: Vec<(&str, &str)> = agreement["years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| (y["rent"].as_str().unwrap(), y["subsidy"].as_str().unwrap()))
            .collect();
        assert_eq!(
            years,
            [
                ("540.00", "270.00"),
                ("556.20", "278.10"),
                ("572.88", "286.44")
            ]
        );
        assert_eq!(approved["install_deadline"], iso(plus_days(today(), 183)));

        // installed: the council sees what is on its columns.
        let installed = moved(install(&app, &sc.acme, &first, &sites).await, "installed");
        assert_eq!(installed["installations"].as_array().unwrap().len(), 2);
        let (_, as_staff) = app.get(&format!("/v1/assets/{a}"), Some(&sc.staff)).await;
        let on_it = &as_staff["properties"]["attachments_in_use"];
        assert_eq!(on_it[0]["carrier"], "Acme Mobile", "{as_staff}");
        assert_eq!(on_it[0]["contact_24h"]["phone"], "+44 800 555 0199");
        assert_eq!(as_staff["properties"]["shared"], true);
        let (_, as_operator) = app.get(&format!("/v1/assets/{a}"), Some(&sc.beta)).await;
        assert!(
            as_operator["properties"]
                .get("attachments_in_use")
                .is_none()
        );
        assert_eq!(as_operator["properties"]["shared"], true);

        // terminated: equipment off, sites free.
        moved(terminate(&app, &sc.staff, &first).await, "terminated");
        assert_eq!(free_capacity(&app, &a).await, 1);
        let (_, after) = app.get(&format!("/v1/assets/{a}"), Some(&sc.staff)).await;
        assert!(
            after["properties"].get("attachments_in_use").is_none(),
            "{after}"
        );
        assert_eq!(after["properties"]["shared"], false);

        // The audit trail of all that, in order, with who and why.
        let (s, ev) = events(&app, &sc.acme, &first).await;
        assert_eq!(s, 200, "{ev}");
        let trail: Vec<(String, String, String, String)> = ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_string(),
                    e["from"].as_str().unwrap_or("-").to_string(),
                    e["to"].as_str().unwrap_or("-").to_string(),
                    e["actor"]["role"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want = [
            ("submit", "-", "submitted", "operator"),
            ("review", "submitted", "under_review", "staff"),
            ("request_info", "under_review", "info_requested", "staff"),
            ("respond", "info_requested", "under_review", "operator"),
            ("approve", "under_review", "approved", "staff"),
            ("install", "approved", "installed", "operator"),
            ("terminate", "installed", "terminated", "staff"),
        ];
        assert_eq!(
            trail,
            want.map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
        );
        assert_eq!(ev["events"][2]["reason"], "Structural calcs for LP-2?");
        assert_eq!(ev["events"][3]["reason"], "Attached.");

        // Withdrawal from each open state, rejection, and lapse.
        let w1 = applied(&app, &sc.acme, &sites).await;
        moved(withdraw(&app, &sc.acme, &w1).await, "withdrawn");
        let w2 = applied(&app, &sc.acme, &sites).await;
        moved(review(&app, &sc.staff, &w2).await, "under_review");
        moved(withdraw(&app, &sc.acme, &w2).await, "withdrawn");
        let w3 = applied(&app, &sc.acme, &sites).await;
        moved(review(&app, &sc.staff, &w3).await, "under_review");
        moved(
            decide(&app, &sc.staff, &w3, "request_info", Some("Drawings?")).await,
            "info_requested",
        );
        moved(withdraw(&app, &sc.acme, &w3).await, "withdrawn");
        let r = applied(&app, &sc.acme, &sites).await;
        moved(review(&app, &sc.staff, &r).await, "under_review");
        moved(
            decide(
                &app,
                &sc.staff,
                &r,
                "reject",
                Some("Column due for replacement"),
            )
            .await,
            "rejected",
        );
        let l = applied(&app, &sc.acme, &sites).await;
        moved(review(&app, &sc.staff, &l).await, "under_review");
        moved(
            decide(&app, &sc.staff, &l, "approve", None).await,
            "approved",
        );
        assert_eq!(free_capacity(&app, &a).await, 0);
        assert_eq!(run_lapse_rule(&app).await, 1);
        let (_, lapsed) = fetch(&app, &sc.acme, &l).await;
        assert_eq!(status(&lapsed), "lapsed");
        assert_eq!(
            lapsed["agreement"]["ended_on"],
            iso(plus_days(today(), 400))
        );
        let (_, ev) = events(&app, &sc.staff, &l).await;
        let last = ev["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "lapse");
        assert_eq!(last["actor"]["role"], "system");
        // Every application released what it held.
        assert_eq!(free_capacity(&app, &a).await, 1);
        assert_eq!(free_capacity(&app, &b).await, 1);
    }
);

/// Drives a fresh application on its own asset to `state` and returns it.
async fn in_state(app: &TestApp, sc: &Scene, state: &str, n: usize) -> String {
    let asset = lamp_post(app, &sc.staff, &sc.code, &format!("S-{n}"), 1).await;
    let sites = vec![asset];
    let id = applied(app, &sc.acme, &sites).await;
    let path: &[&str] = match state {
        "submitted" => &[],
        "under_review" => &["review"],
        "info_requested" => &["review", "request_info"],
        "approved" => &["review", "approve"],
        "installed" => &["review", "approve", "install"],
        "rejected" => &["review", "reject"],
        "withdrawn" => &["withdraw"],
        "terminated" => &["review", "approve", "install", "terminate"],
        "lapsed" => &["review", "approve", "lapse"],
        other => panic!("no path to {other}"),
    };
    for step in path {
        let r = match *step {
            "review" => review(app, &sc.staff, &id).await,
            "request_info" => decide(app, &sc.staff, &id, "request_info", Some("more")).await,
            "approve" => decide(app, &sc.staff, &id, "approve", None).await,
            "reject" => decide(app, &sc.staff, &id, "reject", Some("no")).await,
            "install" => install(app, &sc.acme, &id, &sites).await,
            "withdraw" => withdraw(app, &sc.acme, &id).await,
            "terminate" => terminate(app, &sc.staff, &id).await,
            "lapse" => {
                app.register
                    .lapse_overdue(plus_days(today(), 400))
                    .await
                    .expect("lapse");
                fetch(app, &sc.acme, &id).await
            }
            _ => unreachable!(),
        };
        assert_eq!(r.0, 200, "{step}: {}", r.1);
    }
    let (_, b) = fetch(app, &sc.acme, &id).await;
    assert_eq!(status(&b), state);
    id
}

on_both_databases!(
    every_illegal_transition_is_refused_with_the_current_state,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        // From the issue: what each state allows over HTTP.
        let legal: &[(&str, &[&str])] = &[
            ("submitted", &["review", "withdraw"]),
            (
                "under_review",
                &["approve", "reject", "request_info", "withdraw"],
            ),
            ("info_requested", &["respond", "withdraw"]),
            ("approved", &["install"]),
            ("installed", &["terminate"]),
            ("rejected", &[]),
            ("withdrawn", &[]),
            ("terminated", &[]),
            ("lapsed", &[]),
        ];
        let actions = [
            "review",
            "approve",
            "reject",
            "request_info",
            "respond",
            "withdraw",
            "install",
            "terminate",
        ];
        for (n, (state, allowed)) in legal.iter().enumerate() {
            let id = in_state(&app, &sc, state, n).await;
            let (_, before) = events(&app, ADMIN, &id).await;
            let (_, current) = fetch(&app, ADMIN, &id).await;
            let sites: Vec<String> = serde_json::from_value(current["assets"].clone()).unwrap();
            for action in actions.iter().filter(|a| !allowed.contains(a)) {
                // The admin may act for either side, so a refusal is the
                // state machine's, never a permission.
                let (s, b) = match *action {
                    "review" => review(&app, ADMIN, &id).await,
                    "approve" | "reject" | "request_info" => {
                        decide(&app, ADMIN, &id, action, Some("x")).await
                    }
                    "respond" => respond(&app, ADMIN, &id, "x").await,
                    "withdraw" => withdraw(&app, ADMIN, &id).await,
                    "install" => install(&app, ADMIN, &id, &sites).await,
                    "terminate" => terminate(&app, ADMIN, &id).await,
                    _ => unreachable!(),
                };
                assert_eq!(s, 409, "{action} from {state}: {b}");
                assert_eq!(b["current_status"], *state, "{action} from {state}: {b}");
                assert!(b["detail"].as_str().unwrap().contains(state), "{b}");
            }
            // Nothing changed, and nothing was written to the trail.
            let (_, after) = fetch(&app, ADMIN, &id).await;
            assert_eq!(status(&after), *state);
            let (_, trail) = events(&app, ADMIN, &id).await;
            assert_eq!(trail, before, "{state}");
        }
        // The lapse rule touches approvals only: an installed application
        // whose install-by date has long passed stays installed.
        let installed = in_state(&app, &sc, "installed", 99).await;
        assert_eq!(run_lapse_rule(&app).await, 0);
        let (_, b) = fetch(&app, &sc.acme, &installed).await;
        assert_eq!(status(&b), "installed");
    }
);

on_both_databases!(
    withdrawal_rejection_and_lapse_free_capacity_for_the_next_operator,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let col = lamp_post(&app, &sc.staff, "trafford", "ONE", 1).await;
        let sites = vec![col.clone()];
        let refused = |b: &Value| {
            assert_eq!(b["status"], 409, "{b}");
            assert_eq!(b["assets"], json!([col.clone()]), "{b}");
        };

        let first = applied(&app, &sc.acme, &sites).await;
        let (s, b) = submit(&app, &sc.beta, &form(&sites, today(), 3)).await;
        assert_eq!(s, 409);
        refused(&b);
        moved(withdraw(&app, &sc.acme, &first).await, "withdrawn");

        let second = applied(&app, &sc.beta, &sites).await;
        let (s, b) = submit(&app, &sc.acme, &form(&sites, today(), 3)).await;
        assert_eq!(s, 409);
        refused(&b);
        moved(review(&app, &sc.staff, &second).await, "under_review");
        moved(
            decide(&app, &sc.staff, &second, "reject", Some("no")).await,
            "rejected",
        );

        let third = applied(&app, &sc.acme, &sites).await;
        moved(review(&app, &sc.staff, &third).await, "under_review");
        moved(
            decide(&app, &sc.staff, &third, "approve", None).await,
            "approved",
        );
        let (s, _) = submit(&app, &sc.beta, &form(&sites, today(), 3)).await;
        assert_eq!(s, 409);
        assert_eq!(run_lapse_rule(&app).await, 1);
        applied(&app, &sc.beta, &sites).await;
    }
);

on_both_databases!(
    a_refused_application_holds_nothing,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let full = lamp_post(&app, &sc.staff, "trafford", "FULL", 1).await;
        let free = lamp_post(&app, &sc.staff, "trafford", "FREE", 2).await;
        let also_full = lamp_post(&app, &sc.staff, "trafford", "FULL-2", 1).await;
        applied(&app, &sc.beta, &[full.clone(), also_full.clone()]).await;
        let (s, b) = submit(
            &app,
            &sc.acme,
            &form(&[free.clone(), also_full.clone(), full.clone()], today(), 3),
        )
        .await;
        assert_eq!(s, 409, "{b}");
        // Every asset without room is named; the free one is not.
        let mut named: Vec<String> = serde_json::from_value(b["assets"].clone()).unwrap();
        named.sort();
        let mut want = vec![full.clone(), also_full.clone()];
        want.sort();
        assert_eq!(named, want);
        assert_eq!(free_capacity(&app, &free).await, 2);
        let (_, mine) = list(&app, &sc.acme, "").await;
        assert_eq!(mine["number_matched"], 0);
    }
);

on_both_databases!(
    operators_and_councils_see_and_decide_only_their_own,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let salford = scene(&app, "salford", false).await;
        let s1 = lamp_post(&app, &sc.staff, "trafford", "A-1", 2).await;
        let s2 = lamp_post(&app, &sc.staff, "trafford", "B-1", 2).await;
        let acme_app = applied(&app, &sc.acme, std::slice::from_ref(&s1)).await;
        let beta_app = applied(&app, &sc.beta, std::slice::from_ref(&s2)).await;
        let (s, doc) = attach(
            &app,
            &sc.acme,
            &acme_app,
            "calcs.pdf",
            "application/pdf",
            pdf(),
        )
        .await;
        assert_eq!(s, 201, "{doc}");
        let doc_path = doc["href"].as_str().unwrap().to_string();

        // Operator B learns nothing of A's application: 404 everywhere.
        for path in [
            format!("/v1/applications/{acme_app}"),
            format!("/v1/applications/{acme_app}/events"),
            format!("/v1/applications/{acme_app}/attachments"),
            doc_path.clone(),
        ] {
            let (s, b) = app.get(&path, Some(&sc.beta)).await;
            assert_eq!(s, 404, "{path}: {b}");
        }
        let (s, _) = withdraw(&app, &sc.beta, &acme_app).await;
        assert_eq!(s, 404);
        let (s, _) = attach(&app, &sc.beta, &acme_app, "x.pdf", "application/pdf", pdf()).await;
        assert_eq!(s, 404);
        let (_, mine) = list(&app, &sc.beta, "").await;
        assert_eq!(mine["number_matched"], 1);
        assert_eq!(mine["applications"][0]["id"], beta_app.as_str());
        // A's own asset filter does not reveal B's either.
        let (_, by_asset) = list(&app, &sc.acme, &format!("?asset={s2}")).await;
        assert_eq!(by_asset["number_matched"], 0);

        // Another council's staff neither see nor decide.
        for path in [
            format!("/v1/applications/{acme_app}"),
            format!("/v1/applications/{acme_app}/attachments"),
            doc_path.clone(),
        ] {
            let (s, _) = app.get(&path, Some(&salford.staff)).await;
            assert_eq!(s, 404, "{path}");
        }
        let (s, _) = review(&app, &salford.staff, &acme_app).await;
        assert_eq!(s, 404);
        let (s, _) = decide(&app, &salford.staff, &acme_app, "approve", None).await;
        assert_eq!(s, 404);
        let (_, theirs) = list(&app, &salford.staff, "").await;
        assert_eq!(theirs["number_matched"], 0);

        // Each side may see but not take the other's actions: 403.
        let (s, _) = withdraw(&app, &sc.staff, &acme_app).await;
        assert_eq!(s, 403);
        let (s, _) = review(&app, &sc.acme, &acme_app).await;
        assert_eq!(s, 403);
        let (s, _) = attach(
            &app,
            &sc.staff,
            &acme_app,
            "x.pdf",
            "application/pdf",
            pdf(),
        )
        .await;
        assert_eq!(s, 403);
        // Staff must not apply; operators must not.
        let (s, _) = submit(
            &app,
            &sc.staff,
            &form(std::slice::from_ref(&s1), today(), 3),
        )
        .await;
        assert_eq!(s, 403);

        // The council and the admin see both; the status is unchanged.
        let (_, council) = list(&app, &sc.staff, "").await;
        assert_eq!(council["number_matched"], 2);
        let (_, all) = list(&app, ADMIN, "").await;
        assert_eq!(all["number_matched"], 2);
        let (_, a) = fetch(&app, &sc.staff, &acme_app).await;
        assert_eq!(status(&a), "submitted");

        // Money is the council's: other councils and operators get 403.
        let year = today().year();
        let (s, _) = ledger(&app, &salford.staff, "trafford", year).await;
        assert_eq!(s, 403);
        let (s, _) = ledger(&app, &sc.acme, "trafford", year).await;
        assert_eq!(s, 403);

        // GIS: the private collections exist for the council's staff only.
        let (_, cols) = app.get("/collections", Some(&sc.acme)).await;
        let ids: Vec<&str> = cols["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(!ids.contains(&"applications"), "{ids:?}");
        let (_, cols) = app.get("/collections", Some(&sc.staff)).await;
        assert!(
            cols["collections"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == "applications")
        );
        let (s, _) = app
            .get("/collections/applications/items", Some(&sc.acme))
            .await;
        assert_eq!(s, 404);
        let (s, _) = app
            .get("/collections/installations/items", Some(&sc.acme))
            .await;
        assert_eq!(s, 404);
        let (s, fc) = app
            .get("/collections/applications/items", Some(&sc.staff))
            .await;
        assert_eq!(s, 200, "{fc}");
        assert_eq!(fc["numberMatched"], 2);
        assert_eq!(fc["features"][0]["geometry"]["type"], "Point");
        let (_, fc) = app
            .get("/collections/applications/items", Some(&salford.staff))
            .await;
        assert_eq!(fc["numberMatched"], 0);
        let (s, _) = app
            .get(
                &format!("/collections/applications/items/{acme_app}"),
                Some(&salford.staff),
            )
            .await;
        assert_eq!(s, 404);
    }
);

on_both_databases!(
    forms_name_every_bad_field_and_sites_must_be_one_councils,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let other = scene(&app, "salford", false).await;
        let mine = lamp_post(&app, &sc.staff, "trafford", "M-1", 1).await;
        let theirs = lamp_post(&app, &other.staff, "salford", "T-1", 1).await;
        let off = asset(
            &app,
            &sc.staff,
            "trafford",
            "OFF-1",
            json!({"kind": "lamp_post", "status": "unavailable"}),
        )
        .await;

        let (s, b) = submit(
            &app,
            &sc.acme,
            &json!({"assets": [], "term_years": 99,
            "start": "yesterday", "contact": {"email": "nope"}}),
        )
        .await;
        assert_eq!(s, 422, "{b}");
        let fields: Vec<&str> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for f in [
            "assets",
            "term_years",
            "start",
            "install_by",
            "equipment",
            "deployment_plan",
            "contact.name",
            "contact.email",
            "contact.phone",
            "social_value",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }

        let (s, b) = submit(
            &app,
            &sc.acme,
            &form(&[mine.clone(), theirs.clone()], today(), 3),
        )
        .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "assets");
        let (s, b) = submit(
            &app,
            &sc.acme,
            &form(&["trafford-nope".to_string(), off.clone()], today(), 3),
        )
        .await;
        assert_eq!(s, 422, "{b}");
        let fields: Vec<&str> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["assets[0]", "assets[1]"]);
        // Nothing was held by any of that.
        assert_eq!(free_capacity(&app, &mine).await, 1);

        let mut extra = form(std::slice::from_ref(&mine), today(), 3);
        extra["colour"] = json!("green");
        let (s, b) = submit(&app, &sc.acme, &extra).await;
        assert_eq!(s, 422, "{b}");

        // Decisions need reasons to refuse or ask, and a known decision.
        let id = applied(&app, &sc.acme, std::slice::from_ref(&mine)).await;
        moved(review(&app, &sc.staff, &id).await, "under_review");
        let (s, b) = decide(&app, &sc.staff, &id, "reject", None).await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "reason");
        let (s, b) = decide(&app, &sc.staff, &id, "maybe", Some("x")).await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "decision");
    }
);

on_both_databases!(
    councils_set_their_clocks_and_overdue_decisions_are_listed,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let other = scene(&app, "salford", false).await;
        let (s, b) = set_settings(&app, &sc.staff, "trafford", 20, 90).await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = app
            .get("/v1/authorities/trafford/application-settings", None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            b,
            json!({"decision_period_days": 20, "install_by_days": 90})
        );
        let (s, _) = set_settings(&app, &other.staff, "trafford", 30, 90).await;
        assert_eq!(s, 403);
        let (s, b) = set_settings(&app, &sc.staff, "trafford", 0, 5000).await;
        assert_eq!(s, 422);
        let fields: Vec<&str> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["decision_period_days", "install_by_days"]);

        let assets: Vec<String> = {
            let mut v = Vec::new();
            for i in 0..4 {
                v.push(lamp_post(&app, &sc.staff, "trafford", &format!("C-{i}"), 1).await);
            }
            v
        };
        // Fresh: due in the council's 20 days.
        let fresh = applied(&app, &sc.acme, &assets[0..1]).await;
        let (_, b) = fetch(&app, &sc.acme, &fresh).await;
        assert_eq!(b["decision_due"], iso(plus_days(today(), 20)));

        // Two submitted 30 days ago (through the register, which takes the
        // day as given): one waiting, overdue; one paused for information,
        // which stops the clock, so not overdue.
        let past = plus_days(today(), -30);
        let acme = Principal::Operator {
            organisation: "acme".into(),
        };
        let staff = Principal::Staff {
            authority: "trafford".into(),
        };
        let mut old = Vec::new();
        for a in &assets[1..3] {
            let req: ApplicationRequest =
                serde_json::from_value(form(std::slice::from_ref(a), past, 3)).unwrap();
            let r = app
                .register
                .submit_application(&acme, &req, past)
                .await
                .expect("submitted in the past");
            old.push(r.application.id);
        }
        use streetcell::domain::application::Action;
        for (a, r) in [
            (Action::Review, None),
            (Action::RequestInfo, Some("plans?")),
        ] {
            app.register
                .act_on_application(&staff, &old[1], a, r, past)
                .await
                .expect("acted in the past");
        }
        let (_, late) = list(&app, &sc.staff, "?overdue=true").await;
        assert_eq!(late["number_matched"], 1, "{late}");
        assert_eq!(late["applications"][0]["id"], old[0].as_str());
        assert_eq!(late["applications"][0]["overdue"], true);
        assert_eq!(
            late["applications"][0]["decision_due"],
            iso(plus_days(past, 20))
        );
        // The paused one's due date moves on with each day it waits.
        let (_, paused) = fetch(&app, &sc.staff, &old[1]).await;
        assert_eq!(paused["overdue"], false);
        assert_eq!(paused["clock"]["paused_days"], 30);
        assert_eq!(paused["decision_due"], iso(plus_days(today(), 20)));
        // The operator answers today: 30 days added, due in 20 days' time.
        moved(
            respond(&app, &sc.acme, &old[1], "plans attached").await,
            "under_review",
        );
        let (_, b) = fetch(&app, &sc.staff, &old[1]).await;
        assert_eq!(b["decision_due"], iso(plus_days(today(), 20)));
        assert_eq!(b["overdue"], false);

        // Filters and paging: three submitted, two a page.
        let (_, by_status) = list(&app, &sc.staff, "?status=submitted&limit=2").await;
        assert_eq!(by_status["number_matched"], 2);
        let (_, page) = list(&app, &sc.staff, "?limit=2").await;
        assert_eq!(page["number_matched"], 3);
        assert_eq!(page["number_returned"], 2);
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .expect("next link")["href"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, rest) = app.get(&next, Some(&sc.staff)).await;
        assert_eq!(rest["number_returned"], 1);
        assert!(
            !rest["links"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["rel"] == "next")
        );
        let mut seen: Vec<String> = page["applications"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rest["applications"].as_array().unwrap())
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
        seen.sort();
        let mut all = vec![fresh, old[0].clone(), old[1].clone()];
        all.sort();
        assert_eq!(seen, all);
        let (s, b) = list(&app, &sc.staff, "?status=pending").await;
        assert_eq!(s, 422, "{b}");
        let (s, _) = list(&app, &sc.staff, "?limit=0").await;
        assert_eq!(s, 422);
    }
);

on_both_databases!(
    the_audit_trail_cannot_be_changed,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let a = lamp_post(&app, &sc.staff, "trafford", "E-1", 1).await;
        let id = applied(&app, &sc.acme, &[a]).await;
        // No endpoint edits or deletes an event.
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            let (s, _) = app
                .json(
                    method.clone(),
                    &format!("/v1/applications/{id}/events"),
                    Some(ADMIN),
                    &json!({}),
                )
                .await;
            assert_eq!(s, 405, "{method}");
        }
        // And the database itself refuses, whoever asks.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&app.db_url).await.expect("connect");
        let update = sqlx::query("UPDATE application_events SET reason = 'edited'")
            .execute(&pool)
            .await;
        assert!(update.is_err(), "update allowed");
        let delete = sqlx::query("DELETE FROM application_events")
            .execute(&pool)
            .await;
        assert!(delete.is_err(), "delete allowed");
        pool.close().await;
        let (_, ev) = events(&app, &sc.acme, &id).await;
        assert_eq!(ev["events"].as_array().unwrap().len(), 1);
        assert_eq!(ev["events"][0]["reason"], Value::Null);
    }
);
