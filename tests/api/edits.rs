//! Editing a register as the README shows: PATCH bodies (a JSON merge patch
//! on the Feature, and the answer to a flat body), and re-imports in
//! `mode=merge` and `mode=replace`, checked field by field against values
//! written here.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

/// Adds one lamp post with every field set; returns its id.
async fn full_asset(app: &TestApp, staff: &str, r: &str) -> String {
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/north/assets",
            Some(staff),
            &json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.39]},
                "properties": {"ref": r, "kind": "lamp_post", "height_m": 8.0,
                    "power_supply": "continuous", "capacity": 2, "load_rating_kg": 40.0,
                    "last_inspected": "2025-06-01", "install_year": 2010,
                    "status": "available", "listed": true, "photo_url": "https://example.org/p.jpg",
                    "source_attributes": {"STREET": "High St"}}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

on_both_databases!(
    a_flat_patch_body_is_a_422_saying_to_send_properties,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let id = full_asset(&app, &staff, "LP1").await;
        let path = format!("/v1/assets/{id}");
        let (s, b) = app
            .json(
                Method::PATCH,
                &path,
                Some(&staff),
                &json!({"height_m": 9.5, "status": "unavailable"}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        let detail = b["detail"].as_str().unwrap();
        assert!(
            detail.contains("JSON merge patch on the Feature"),
            "{detail}"
        );
        assert!(detail.contains(r#"{"properties": {"#), "{detail}");
        assert!(
            detail.contains("height_m") && detail.contains("status"),
            "{detail}"
        );
        let fields: Vec<&str> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["body", "height_m", "status"], "{b}");
        // Nothing was written; the same change under "properties" is.
        let (_, a) = app.get(&path, Some(&staff)).await;
        assert_eq!(a["properties"]["height_m"], 8.0, "{a}");
        let (s, b) = app
            .json(
                Method::PATCH,
                &path,
                Some(&staff),
                &json!({"properties": {"height_m": 9.5, "photo_url": null}}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["properties"]["height_m"], 9.5, "{b}");
        assert_eq!(b["properties"]["photo_url"], Value::Null, "{b}");
        assert_eq!(b["properties"]["capacity"], 2, "{b}");
    }
);

/// Asserts an import report's mode and its inserted, updated, removed and
/// retired counts.
fn assert_report(r: &Value, mode: &str, [inserted, updated, removed, retired]: [u64; 4]) {
    assert_eq!(r["mode"], mode, "{r}");
    let counts = ["inserted", "updated", "removed", "retired"].map(|k| r[k].as_u64());
    assert_eq!(
        counts,
        [inserted, updated, removed, retired].map(Some),
        "{r}"
    );
}

/// POSTs a CSV import of `north` with `query`; status and report.
async fn import_csv(app: &TestApp, staff: &str, query: &str, csv: &str) -> (u16, Value) {
    app.post_bytes(
        &format!("/v1/authorities/north/imports?kind=lamp_post{query}"),
        Some(staff),
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await
}

/// The properties of asset `id` (a 404 as `None`).
async fn props(app: &TestApp, token: &str, id: &str) -> Option<Value> {
    let (s, b) = app.get(&format!("/v1/assets/{id}"), Some(token)).await;
    match s {
        200 => Some(b["properties"].clone()),
        404 => None,
        _ => panic!("GET {id}: {s} {b}"),
    }
}

on_both_databases!(
    a_merge_import_keeps_the_fields_a_file_leaves_out,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let lp1 = full_asset(&app, &staff, "LP1").await;
        // No mode: merge. The file has no power, capacity... columns; LP1's
        // height is given, LP2 is new.
        let (s, r) = import_csv(
            &app,
            &staff,
            "",
            "ref,lon,lat,height_m,STREET\nLP1,-2.35,53.39,9.5,Low St\nLP2,-2.34,53.39,7,Low St\n",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_report(&r, "merge", [1, 1, 0, 0]);
        assert_eq!(r["cleared_fields"], json!({}), "{r}");
        let p = props(&app, &staff, &lp1).await.unwrap();
        assert_eq!(p["height_m"], 9.5, "{p}");
        assert_eq!(p["power_supply"], "continuous", "{p}");
        assert_eq!(p["capacity"], 2, "{p}");
        assert_eq!(p["load_rating_kg"], 40.0, "{p}");
        assert_eq!(p["last_inspected"], "2025-06-01", "{p}");
        assert_eq!(p["install_year"], 2010, "{p}");
        assert_eq!(p["listed"], true, "{p}");
        assert_eq!(p["photo_url"], "https://example.org/p.jpg", "{p}");
        assert_eq!(p["source_attributes"]["STREET"], "Low St", "{p}");
        // An empty cell leaves the stored value too.
        let (s, r) = import_csv(
            &app,
            &staff,
            "&mode=merge",
            "ref,lon,lat,height_m,install_year\nLP1,-2.35,53.39,,2011\n",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let p = props(&app, &staff, &lp1).await.unwrap();
        assert_eq!(
            (p["height_m"].as_f64(), p["install_year"].as_u64()),
            (Some(9.5), Some(2011)),
            "{p}"
        );
        // What the index answers is what the database holds.
        let app = app.restart().await;
        assert_eq!(props(&app, &staff, &lp1).await.unwrap(), p);
    }
);

on_both_databases!(
    a_replace_import_clears_fields_and_removes_or_retires_unlisted_assets,
    |app: TestApp| async move {
        use crate::application_helpers::{form, scene, submit, today};
        let north = scene(&app, "north", true).await;
        let staff = north.staff.clone();
        let lp1 = full_asset(&app, &staff, "LP1").await;
        let lp3 = full_asset(&app, &staff, "LP3").await;
        let lp4 = full_asset(&app, &staff, "LP4").await;
        // An application holds LP4: it cannot be deleted.
        let (s, b) = submit(
            &app,
            &north.acme,
            &form(std::slice::from_ref(&lp4), today(), 5),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        // Another council's asset is not touched.
        let south = app.authority("south").await;
        let (s, b) = app
            .json(Method::POST, "/v1/authorities/south/assets", Some(&south),
                &json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.3, 53.4]},
                    "properties": {"ref": "S1", "kind": "lamp_post"}}))
            .await;
        assert_eq!(s, 201, "{b}");
        let s1 = b["id"].as_str().unwrap().to_string();

        // A file with a rejected row removes nothing.
        let (s, r) = import_csv(
            &app,
            &staff,
            "&mode=replace",
            "ref,lon,lat,height_m\nLP1,-2.35,53.39,9\nLP9,-2.35,953.39,9\n",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["rejected_total"], 1, "{r}");
        assert_eq!(
            (r["removed"].as_u64(), r["absent_kept"].as_u64()),
            (Some(0), Some(2)),
            "{r}"
        );
        assert!(props(&app, &staff, &lp3).await.is_some());

        let (s, r) = import_csv(
            &app,
            &staff,
            "&mode=replace",
            "ref,lon,lat,height_m\nLP1,-2.35,53.39,9\nLP5,-2.34,53.39,6\n",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_report(&r, "replace", [1, 1, 1, 1]);
        // LP1's values the file left out, each lost once. (The first
        // replace above cleared them already; this one finds them empty.)
        assert_eq!(r["cleared_fields"], json!({}), "{r}");
        let p = props(&app, &staff, &lp1).await.unwrap();
        assert_eq!(p["height_m"], 9.0, "{p}");
        assert_eq!(p["power_supply"], "none", "{p}");
        assert_eq!(p["capacity"], 1, "{p}");
        assert_eq!(p["load_rating_kg"], Value::Null, "{p}");
        assert_eq!(p["listed"], false, "{p}");
        assert_eq!(p["source_attributes"], json!({}), "{p}");
        assert_eq!(props(&app, &staff, &lp3).await, None);
        assert_eq!(
            props(&app, &staff, &lp4).await.unwrap()["status"],
            "unavailable"
        );
        assert!(props(&app, &south, &s1).await.is_some());
        // The index holds what the database holds.
        let app = app.restart().await;
        assert_eq!(props(&app, &staff, &lp3).await, None);
        assert_eq!(
            props(&app, &staff, &lp4).await.unwrap()["status"],
            "unavailable"
        );
    }
);

on_both_databases!(
    a_replace_import_reports_each_cleared_field,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let lp1 = full_asset(&app, &staff, "LP1").await;
        let (s, r) = import_csv(
            &app,
            &staff,
            "&mode=replace",
            "ref,lon,lat,height_m,STREET\nLP1,-2.35,53.39,8,High St\n",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        // Height and STREET were given the same values; install_year...
        // were left out and are gone. status was `available`, its default.
        assert_eq!(
            r["cleared_fields"],
            json!({"power_supply": 1, "capacity": 1, "load_rating_kg": 1, "last_inspected": 1,
                   "install_year": 1, "listed": 1, "photo_url": 1}),
            "{r}"
        );
        let p = props(&app, &staff, &lp1).await.unwrap();
        assert_eq!(
            (p["install_year"].clone(), p["photo_url"].clone()),
            (Value::Null, Value::Null),
            "{p}"
        );
        let (s, b) = import_csv(
            &app,
            &staff,
            "&mode=upsert",
            "ref,lon,lat\nLP1,-2.35,53.39\n",
        )
        .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "mode", "{b}");
    }
);

on_both_databases!(
    the_cli_import_takes_mode_and_a_server_catches_up,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let lp1 = full_asset(&app, &staff, "LP1").await;
        let lp3 = full_asset(&app, &staff, "LP3").await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("north.csv");
        std::fs::write(&file, "ref,lon,lat,height_m\nLP1,-2.35,53.39,12\n").unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_streetcell"))
            .args([
                "import",
                "--authority",
                "north",
                "--kind",
                "lamp_post",
                "--mode",
                "replace",
                "--json",
            ])
            .arg(&file)
            .env("DATABASE_URL", &app.db_url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (
                r["mode"].as_str(),
                r["removed"].as_u64(),
                r["updated"].as_u64()
            ),
            (Some("replace"), Some(1), Some(1)),
            "{r}"
        );
        assert_eq!(r["cleared_fields"]["power_supply"], 1, "{r}");
        // The server learns of the CLI's writes from the change log.
        app.register.catch_up().await.unwrap();
        assert_eq!(props(&app, &staff, &lp3).await, None);
        let p = props(&app, &staff, &lp1).await.unwrap();
        assert_eq!(
            (p["height_m"].as_f64(), p["power_supply"].as_str()),
            (Some(12.0), Some("none")),
            "{p}"
        );
    }
);
