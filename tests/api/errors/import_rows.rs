//! Imports: bad rows are reported with their line and reason, good rows land.

use super::*;

fn rejected(report: &Value) -> Vec<(u64, String)> {
    report["rejected"]
        .as_array()
        .expect("rejected[]")
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

on_both_databases!(
    bad_import_rows_are_reported_and_good_ones_land,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        let good = |r: &str, lon: f64| feature(r, "lamp_post", point(lon, 53.45));
        let collection = json!({
            "type": "FeatureCollection",
            "features": [
                good("LP-1", -2.31),
                {"type": "Feature", "geometry": null, "properties": {"ref": "LP-2", "kind": "lamp_post"}},
                feature("LP-3", "lamp_post", point(-2.3, 95.0)),
                feature("LP-4", "spaceship", point(-2.3, 53.4)),
                good("LP-5", -2.32),
                good("LP-1", -2.33),
                good("LP-6", -2.34),
            feature("LP-7", "lamp_post", json!({"type": "Point", "coordinates": [-2.3]})),
            feature("LP-8", "rooftop", json!({"type": "Polygon", "coordinates": [[[-2.3, 53.4], []]]})),
            ]
        });
        let resp = send_raw(
            &app,
            Method::POST,
            "/v1/authorities/alpha/imports",
            Some(&staff),
            "application/geo+json",
            serde_json::to_vec(&collection).unwrap(),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 200);
        let report: Value = resp.json().await.unwrap();
        assert_eq!(report["inserted"], 3, "{report}");
        assert_eq!(report["updated"], 0, "{report}");
        let r = rejected(&report);
        assert_eq!(
            r.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![2, 3, 4, 6, 8, 9],
            "{report}"
        );
        assert!(r[0].1.contains("no geometry"), "{report}");
        assert!(
            r[1].1.contains("latitude 95") && r[1].1.contains("out of range"),
            "{report}"
        );
        assert!(
            r[2].1.contains("unknown kind") && r[2].1.contains("spaceship"),
            "{report}"
        );
        assert!(
            r[3].1.contains("duplicate ref LP-1") && r[3].1.contains("feature 1"),
            "{report}"
        );
        let (s, b) = app.get("/v1/assets", Some(&staff)).await;
        assert_eq!(s, 200);
        assert_eq!(b["numberMatched"], 3, "{b}");
        // The first LP-1 is the one kept.
        let (_, b) = app
            .get(
                &format!("/v1/assets/{}", asset_id("alpha", "LP-1")),
                Some(&staff),
            )
            .await;
        assert_eq!(b["geometry"]["coordinates"], json!([-2.31, 53.45]), "{b}");
        for r in ["LP-2", "LP-3", "LP-4"] {
            let (s, _) = app
                .get(
                    &format!("/v1/assets/{}", asset_id("alpha", r)),
                    Some(&staff),
                )
                .await;
            assert_eq!(s, 404, "{r}");
        }

        // The same as CSV: lines count from the header (line 1).
        let csv = "ref,kind,lon,lat\n\
               C-1,lamp_post,-2.31,53.46\n\
               C-2,lamp_post,,\n\
               C-3,lamp_post,-2.3,95\n\
               C-4,spaceship,-2.3,53.4\n\
               C-5,lamp_post,-2.32,53.46\n\
               C-1,lamp_post,-2.33,53.46\n\
               C-6,lamp_post,-2.34,53.46\n";
        let resp = send_raw(
            &app,
            Method::POST,
            "/v1/authorities/alpha/imports",
            Some(&staff),
            "text/csv; charset=utf-8",
            csv.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 200);
        let report: Value = resp.json().await.unwrap();
        assert_eq!(report["inserted"], 3, "{report}");
        let r = rejected(&report);
        assert_eq!(
            r.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![3, 4, 5, 7],
            "{report}"
        );
        assert!(r[0].1.contains("no geometry"), "{report}");
        assert!(r[1].1.contains("latitude 95"), "{report}");
        assert!(r[2].1.contains("unknown kind \"spaceship\""), "{report}");
        assert!(
            r[3].1.contains("duplicate ref C-1 (first seen on line 2)"),
            "{report}"
        );
        let (_, b) = app.get("/v1/assets", Some(&staff)).await;
        assert_eq!(b["numberMatched"], 6, "{b}");

        // A file that is not usable at all is a 422 naming the body, and nothing lands.
        for (ct, body) in [
            (
                "application/geo+json",
                b"{\"type\": \"FeatureCollection\", \"features\": [".to_vec(),
            ),
            ("application/geo+json", b"{\"type\": \"Topology\"}".to_vec()),
            ("text/csv", b"".to_vec()),
            (
                "text/csv",
                b"ref,kind,lon,lat\n\xff\xfe,lamp_post,1,2\n".to_vec(),
            ),
        ] {
            let resp = send_raw(
                &app,
                Method::POST,
                "/v1/authorities/alpha/imports",
                Some(&staff),
                ct,
                body,
            )
            .await;
            invalid(resp, "body").await;
        }
        // A bad mapping option names the option.
        let resp = send_raw(
            &app,
            Method::POST,
            "/v1/authorities/alpha/imports?kind=spaceship",
            Some(&staff),
            "text/csv",
            b"ref,lon,lat\nX,-2.3,53.4\n".to_vec(),
        )
        .await;
        invalid(resp, "kind").await;
        let resp = send_raw(
            &app,
            Method::POST,
            "/v1/authorities/alpha/imports?crs=EPSG:3857",
            Some(&staff),
            "text/csv",
            b"ref,kind,lon,lat\nX,lamp_post,-2.3,53.4\n".to_vec(),
        )
        .await;
        invalid(resp, "crs").await;
        let (_, b) = app.get("/v1/assets", Some(&staff)).await;
        assert_eq!(b["numberMatched"], 6, "{b}");
    }
);
