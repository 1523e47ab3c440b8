//! British National Grid imports against Ordnance Survey's OSTN15 test points.
//!
//! The published OSGB36 eastings/northings of OS's 40 test points are
//! imported as a BNG CSV; each stored WGS84 position must convert back to
//! OS's easting/northing within a centimetre, and match OS's ETRS89
//! latitude/longitude within 1e-7 degrees (about 1 cm).

use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_databases;
use streetcell::crs::wgs84_to_bng;
use streetcell::domain::asset::asset_id;

/// One of OS's test points.
struct TestPoint {
    id: String,
    lat: f64,
    lon: f64,
    easting: f64,
    northing: f64,
}

fn os_test_points() -> Vec<TestPoint> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ostn15_test_points.csv"
    );
    let text = std::fs::read_to_string(path).expect("read the OSTN15 test points");
    let mut lines = text.lines();
    assert_eq!(
        lines.next().map(str::trim),
        Some("point_id,etrs89_lat,etrs89_lon,osgb36_easting,osgb36_northing")
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.trim().split(',').collect();
            assert_eq!(cells.len(), 5, "{l}");
            let num = |i: usize| -> f64 {
                cells[i]
                    .parse()
                    .unwrap_or_else(|e| panic!("{l}: cell {i}: {e}"))
            };
            TestPoint {
                id: cells[0].to_string(),
                lat: num(1),
                lon: num(2),
                easting: num(3),
                northing: num(4),
            }
        })
        .collect()
}

on_both_databases!(
    bng_import_reproduces_os_test_points,
    |app: TestApp| async move {
        let points = os_test_points();
        // OS publishes a horizontal result for every one of its 40 points.
        assert_eq!(points.len(), 40);

        let staff = app.authority("os").await;
        let mut csv = String::from("ref,easting,northing\n");
        for p in &points {
            // The published values as OS writes them (to the millimetre).
            csv.push_str(&format!("{},{:.3},{:.3}\n", p.id, p.easting, p.northing));
        }
        let resp = app
        .client
        .post(app.url(
            "/v1/authorities/os/imports?kind=other&crs=EPSG:27700&x_field=easting&y_field=northing",
        ))
        .bearer_auth(&staff)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
        assert_eq!(resp.status().as_u16(), 200);
        let report: Value = resp.json().await.expect("report");
        assert_eq!(report["inserted"], 40, "{report}");
        assert_eq!(report["updated"], 0, "{report}");
        assert_eq!(report["rejected"], serde_json::json!([]), "{report}");

        let (s, list) = app.get("/v1/assets?limit=100", Some(&staff)).await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(list["numberMatched"], 40, "{list}");

        let mut checked = 0;
        let mut worst_m: f64 = 0.0;
        let mut worst_deg: f64 = 0.0;
        for p in &points {
            let (s, f) = app
                .get(
                    &format!("/v1/assets/{}", asset_id("os", &p.id)),
                    Some(&staff),
                )
                .await;
            assert_eq!(s, 200, "{}: {f}", p.id);
            assert_eq!(f["properties"]["ref"], p.id.as_str(), "{f}");
            assert_eq!(f["properties"]["kind"], "other", "{f}");
            assert_eq!(f["geometry"]["type"], "Point", "{f}");
            // The x/y columns are consumed, not kept as source attributes.
            let attrs = &f["properties"]["source_attributes"];
            assert!(
                attrs.is_null() || attrs.get("easting").is_none(),
                "{}: {f}",
                p.id
            );
            let c = &f["geometry"]["coordinates"];
            let lon = c[0].as_f64().expect("lon");
            let lat = c[1].as_f64().expect("lat");

            let (e, n) = wgs84_to_bng(lon, lat)
                .unwrap_or_else(|err| panic!("{}: ({lon}, {lat}) back to BNG: {err}", p.id));
            let de = (e - p.easting).abs();
            let dn = (n - p.northing).abs();
            assert!(
                de <= 0.01 && dn <= 0.01,
                "{}: stored ({lon}, {lat}) is E {e} N {n}; OS says E {} N {} (off by {de:.4} m, {dn:.4} m)",
                p.id,
                p.easting,
                p.northing
            );
            let dlon = (lon - p.lon).abs();
            let dlat = (lat - p.lat).abs();
            assert!(
                dlon <= 1e-7 && dlat <= 1e-7,
                "{}: stored ({lon}, {lat}); OS ETRS89 ({}, {}) (off by {dlon:e}°, {dlat:e}°)",
                p.id,
                p.lon,
                p.lat
            );
            worst_m = worst_m.max(de).max(dn);
            worst_deg = worst_deg.max(dlon).max(dlat);
            checked += 1;
        }
        assert_eq!(checked, 40);
        eprintln!("checked {checked} OS points: worst {worst_m:.4} m, {worst_deg:e}°");

        // Importing the same file again updates every point in place.
        let mut csv = String::from("ref,easting,northing\n");
        for p in &points {
            csv.push_str(&format!("{},{:.3},{:.3}\n", p.id, p.easting, p.northing));
        }
        let resp = app
        .client
        .post(app.url(
            "/v1/authorities/os/imports?kind=other&crs=EPSG:27700&x_field=easting&y_field=northing",
        ))
        .bearer_auth(&staff)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
        let report: Value = resp.json().await.expect("report");
        assert_eq!(report["inserted"], 0, "{report}");
        assert_eq!(report["updated"], 40, "{report}");
    }
);
