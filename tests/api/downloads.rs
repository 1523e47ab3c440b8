//! Whole-collection downloads and items pages in FlatGeobuf, GeoJSON text
//! sequences and CSV, read back by independent readers: GDAL (the engine
//! under QGIS) straight over HTTP, `serde_json` per record, the `csv`
//! crate; each compared, feature by feature, with the register.

use std::collections::BTreeMap;

use geo::Geometry;
use serde_json::Value;

use crate::helpers::{ADMIN, Db, TestApp, content_type, spawn_app, start};

/// Runs a GDAL tool with the admin token; `None` (a skip, or a failure
/// under CI) when GDAL is absent.
async fn gdal(tool: &'static str, args: Vec<String>) -> Option<std::process::Output> {
    tokio::task::spawn_blocking(move || {
        let header = format!("Authorization: Bearer {ADMIN}");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env = [
            ("GDAL_HTTP_HEADERS", header.as_str()),
            ("GDAL_HTTP_TIMEOUT", "20"),
        ];
        crate::helpers::gdal_tool(tool, &args, &env)
    })
    .await
    .unwrap()
}

async fn with_demo() -> TestApp {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("load demo");
    app.restart().await
}

/// The register's point assets by id: (lon, lat, height, power, capacity, status).
type Expected = BTreeMap<String, (f64, f64, Option<f64>, String, u32, String)>;

fn register_points(app: &TestApp) -> Expected {
    let snap = app.register.assets().snapshot();
    snap.query(None, |_| true)
        .into_iter()
        .filter_map(|l| {
            let d = &l.asset.details;
            let Geometry::Point(p) = d.geometry else {
                return None;
            };
            Some((
                l.asset.id.clone(),
                (
                    p.x(),
                    p.y(),
                    d.height_m,
                    d.power_supply.as_str().to_string(),
                    d.capacity,
                    d.status.as_str().to_string(),
                ),
            ))
        })
        .collect()
}

/// Rows of a CSV text by column name.
fn csv_rows(text: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text);
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            head.iter()
                .cloned()
                .zip(row.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Checks every row against the register: the same ids, each where the
/// register has it, with its height, power, capacity and status.
fn assert_rows_match(rows: &[BTreeMap<String, String>], want: &Expected, what: &str) {
    assert_eq!(rows.len(), want.len(), "{what}: feature count");
    for row in rows {
        let id = &row["id"];
        let (x, y, height, power, capacity, status) = want
            .get(id)
            .unwrap_or_else(|| panic!("{what}: {id} is not in the register"));
        let num = |k: &str| {
            row[k]
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{what}: {k} {row:?}"))
        };
        assert!(
            (num("X") - x).abs() < 1e-9 && (num("Y") - y).abs() < 1e-9,
            "{what}: {row:?}"
        );
        match height {
            Some(h) => assert!((num("height_m") - h).abs() < 1e-9, "{what}: {row:?}"),
            None => assert_eq!(row["height_m"], "", "{what}: {row:?}"),
        }
        assert_eq!(&row["power_supply"], power, "{what}");
        assert_eq!(row["capacity"], capacity.to_string(), "{what}");
        assert_eq!(&row["status"], status, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_each_download_straight_over_http() {
    let app = with_demo().await;
    let want = register_points(&app);
    assert!(want.len() > 17_000, "{}", want.len());

    // The collection advertises its downloads as enclosure links.
    let (status, body) = app.get("/collections/assets-points", None).await;
    assert_eq!(status, 200);
    let enclosures: BTreeMap<String, String> = body["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "enclosure")
        .map(|l| {
            assert!(l["title"].as_str().is_some_and(|t| !t.is_empty()), "{l}");
            (
                l["type"].as_str().unwrap().to_string(),
                l["href"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let types: Vec<&str> = enclosures.keys().map(String::as_str).collect();
    assert_eq!(
        types,
        [
            "application/flatgeobuf",
            "application/geo+json-seq",
            "text/csv; charset=utf-8"
        ]
    );

    for (kind, href) in &enclosures {
        // GDAL picks the driver from the file name and content, reading as
        // the bytes arrive, and writes what it read as CSV with X and Y.
        let Some(out) = gdal(
            "ogr2ogr",
            vec![
                "-f".into(),
                "CSV".into(),
                "/vsistdout/".into(),
                format!("/vsicurl_streaming/{href}"),
                "-lco".into(),
                "GEOMETRY=AS_XY".into(),
            ],
        )
        .await
        else {
            return;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kind}: {stderr}");
        assert!(!stderr.contains("ERROR"), "{kind}: {stderr}");
        assert_rows_match(&csv_rows(&out.stdout), &want, kind);
    }

    // FlatGeobuf declares the layer: its name, geometry type, count and CRS.
    let fgb = &enclosures["application/flatgeobuf"];
    let out = gdal(
        "ogrinfo",
        vec![
            "-ro".into(),
            "-so".into(),
            "-al".into(),
            format!("/vsicurl_streaming/{fgb}"),
        ],
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Layer name: assets-points"), "{text}");
    assert!(text.contains("Geometry: Point"), "{text}");
    assert!(
        text.contains(&format!("Feature Count: {}", want.len())),
        "{text}"
    );
    assert!(text.contains("ID[\"EPSG\",4326]"), "{text}");
    for field in [
        "height_m: Real",
        "capacity: Integer",
        "listed: Integer(Boolean)",
    ] {
        assert!(text.contains(field), "{field}: {text}");
    }

    // The mixed collection and a boundary layer read whole too.
    let snap = app.register.assets().snapshot();
    for (path, count) in [
        ("/collections/assets/download/assets.fgb", snap.len()),
        (
            "/collections/wards/download/wards.fgb",
            app.register
                .areas()
                .areas()
                .iter()
                .filter(|a| a.layer.as_str() == "ward")
                .count(),
        ),
    ] {
        let out = gdal(
            "ogrinfo",
            vec![
                "-ro".into(),
                "-so".into(),
                "-al".into(),
                format!("/vsicurl_streaming/{}", app.url(path)),
            ],
        )
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("Feature Count: {count}")),
            "{path}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_formats_parse_back_with_independent_readers() {
    let app = with_demo().await;
    let want = register_points(&app);
    let get = |path: &str| app.client.get(app.url(path)).bearer_auth(ADMIN).send();

    // RFC 8142: every record is RS, one GeoJSON Feature, LF.
    let resp = get("/collections/assets-points/download/assets-points.geojsons")
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), "application/geo+json-seq");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.first(), Some(&0x1e));
    let records: Vec<&[u8]> = bytes.split(|b| *b == 0x1e).skip(1).collect();
    assert_eq!(records.len(), want.len());
    for r in &records {
        assert_eq!(r.last(), Some(&b'\n'));
        let f: Value = serde_json::from_slice(r).unwrap();
        let (x, y, height, ..) = &want[f["id"].as_str().unwrap()];
        assert_eq!(f["geometry"]["coordinates"], serde_json::json!([x, y]));
        assert_eq!(f["properties"]["height_m"].as_f64(), *height);
    }

    // CSV: a header, then a row per feature with its WKT first.
    let resp = get("/collections/assets-points/download/assets-points.csv")
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"assets-points.csv\""
    );
    let rows = csv_rows(&resp.bytes().await.unwrap());
    assert_eq!(rows.len(), want.len());
    for row in &rows {
        let (x, y, ..) = &want[&row["id"]];
        let point: Geometry<f64> = wkt::TryFromWkt::try_from_wkt_str(&row["WKT"]).unwrap();
        assert_eq!(point, Geometry::Point(geo::Point::new(*x, *y)));
    }

    // Unknown files are 404s; unknown parameters 400s.
    let resp = get("/collections/assets/download/assets.shp")
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = get("/collections/assets/download/wards.fgb").await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = get("/collections/assets/download/assets.fgb?limit=10")
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

/// An items page in each format: the same features as the GeoJSON page,
/// with paging in `Link` headers that keep the format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_pages_come_in_each_format_with_paging_links() {
    let app = with_demo().await;
    let query = "bbox=-2.36,53.38,-2.30,53.42&kind=lamp_post&limit=50&offset=50";
    let (status, page) = app
        .get(
            &format!("/collections/assets-points/items?{query}"),
            Some(ADMIN),
        )
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 50, "the demo has more than 100 lamp posts there");

    // By f=csv.
    let resp = app
        .client
        .get(app.url(&format!("/collections/assets-points/items?{query}&f=csv")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let links: Vec<String> = resp
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let rows = csv_rows(&resp.bytes().await.unwrap());
    assert_eq!(
        rows.iter().map(|r| r["id"].as_str()).collect::<Vec<_>>(),
        ids
    );
    let next = links
        .iter()
        .find(|l| l.contains("rel=\"next\""))
        .expect("next");
    assert!(
        next.contains("offset=100") && next.contains("f=csv"),
        "{next}"
    );
    let prev = links
        .iter()
        .find(|l| l.contains("rel=\"prev\""))
        .expect("prev");
    assert!(prev.contains("offset=0"), "{prev}");

    // By Accept: FlatGeobuf, read back with its crate's reader; the next
    // link names the format so a client following it keeps it.
    let resp = app
        .client
        .get(app.url(&format!("/collections/assets-points/items?{query}")))
        .header("accept", "application/flatgeobuf")
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), "application/flatgeobuf");
    let next = resp
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|l| l.contains("rel=\"next\""))
        .unwrap();
    assert!(next.contains("f=fgb"), "{next}");
    let bytes = resp.bytes().await.unwrap();
    let mut fgb = flatgeobuf::FgbReader::open(std::io::Cursor::new(&bytes[..]))
        .unwrap()
        .select_all_seq()
        .unwrap();
    let mut got = Vec::new();
    use flatgeobuf::{FallibleStreamingIterator, FeatureProperties};
    while let Some(f) = fgb.next().unwrap() {
        got.push(f.property::<String>("id").unwrap());
    }
    assert_eq!(got, ids);

    // A GeoJSON page links its other formats.
    let alternates: Vec<&str> = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "alternate")
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    for t in [
        "application/flatgeobuf",
        "application/geo+json-seq",
        "text/csv; charset=utf-8",
    ] {
        assert!(alternates.contains(&t), "{alternates:?}");
    }
    // A single feature stays GeoJSON.
    let (status, _) = app
        .get(
            &format!("/collections/assets-points/items/{}?f=csv", ids[0]),
            Some(ADMIN),
        )
        .await;
    assert_eq!(status, 400);
}

/// Downloads follow the items' access rule: a token, unless the server
/// reads publicly.
#[tokio::test]
async fn downloads_need_a_token_unless_reads_are_public() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let path = "/collections/assets/download/assets.fgb";
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app
        .client
        .get(app.url(path))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // An empty register is a header with no features.
    let bytes = resp.bytes().await.unwrap();
    let fgb = flatgeobuf::FgbReader::open(std::io::Cursor::new(&bytes[..])).unwrap();
    assert_eq!(fgb.header().features_count(), 0);

    let public = start(app.db_url.clone(), None, true).await;
    let resp = public.client.get(public.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}
