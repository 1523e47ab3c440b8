//! GDAL reads the service, in CRS84 and in British National Grid.
use super::*;
use crate::helpers::gdal_tool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_service() {
    let (url, dir) = fresh_database(Db::Sqlite).await.unwrap();
    let app = start(url, dir, false).await;
    let known = load(&app).await;
    let root = format!("OAPIF:{}/", app.base);
    let headers = format!("Authorization: Bearer {ADMIN}");
    let env = [("GDAL_HTTP_HEADERS", headers.as_str())];
    let Some(info) = tokio::task::spawn_blocking({
        let (root, env) = (root.clone(), env.map(|(k, v)| (k, v.to_string())));
        move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            gdal_tool("ogrinfo", &["-ro", "-al", "-so", &root], &env)
        }
    })
    .await
    .unwrap() else {
        return;
    };
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&info.stderr)
    );
    assert!(text.contains("Layer name: assets"), "{text}");
    assert!(text.contains("Layer name: wards"), "{text}");
    assert!(
        text.contains(&format!("Feature Count: {}", known.len())),
        "{text}"
    );

    // ogr2ogr pages through the whole layer (GDAL follows `next` links),
    // then again with a spatial filter (sent as `bbox`).
    let out_dir = tempfile::tempdir().unwrap();
    let all = out_dir.path().join("all.geojson");
    let some = out_dir.path().join("some.geojson");
    let (a, s) = (all.display().to_string(), some.display().to_string());
    let (root2, headers2) = (root.clone(), headers.clone());
    let results = tokio::task::spawn_blocking(move || {
        let env = [("GDAL_HTTP_HEADERS", headers2.as_str())];
        let one = gdal_tool(
            "ogr2ogr",
            &["-f", "GeoJSON", &a, &root2, "assets", "-oo", "PAGE_SIZE=7"],
            &[env[0], ("CPL_DEBUG", "ON")],
        );
        let two = gdal_tool(
            "ogr2ogr",
            &[
                "-f", "GeoJSON", &s, &root2, "assets", "-spat", "-2.385", "53.405", "-2.355",
                "53.435",
            ],
            &env,
        );
        (one.unwrap(), two.unwrap())
    })
    .await
    .unwrap();
    for r in [&results.0, &results.1] {
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let log = String::from_utf8_lossy(&results.0.stderr);
    assert!(log.contains("offset=42"), "GDAL should page by 7: {log}");
    let read = |p: &std::path::Path| -> Vec<String> {
        let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        let mut ids: Vec<String> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["properties"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        ids.sort();
        ids
    };
    let mut expect: Vec<String> = known.iter().map(|k| k.id.clone()).collect();
    expect.sort();
    assert_eq!(read(&all), expect);
    let mut inside: Vec<String> = known
        .iter()
        .filter(|k| (-2.385..=-2.355).contains(&k.lon) && (53.405..=53.435).contains(&k.lat))
        .map(|k| k.id.clone())
        .collect();
    inside.sort();
    assert_eq!(read(&some), inside);
}

/// GDAL reads the assets in British National Grid. GDAL 3.6's OAPIF driver
/// (Debian 12) cannot ask for a CRS (its `CRS` open option came in 3.7), so
/// GDAL's GeoJSON driver reads the items URL with `crs=EPSG:27700` itself.
/// Each position must equal our OSTN15 conversion (checked against
/// Ordnance Survey's test points in `src/crs.rs`) to the millimetre, and
/// PROJ's own inverse back to WGS84 must land within 5 m of the source
/// position (PROJ uses a Helmert transform, or OSTN15 when the grid is
/// installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_british_national_grid() {
    let (url, dir) = fresh_database(Db::Sqlite).await.unwrap();
    let app = start(url, dir, false).await;
    let known = load(&app).await;
    let src = format!(
        "GeoJSON:{}/collections/assets/items?crs={EPSG_27700}&limit=1000",
        app.base
    );
    let headers = format!("Authorization: Bearer {ADMIN}");
    let out_dir = tempfile::tempdir().unwrap();
    let bng = out_dir.path().join("bng.csv");
    let back = out_dir.path().join("back.csv");
    let (b, k) = (bng.display().to_string(), back.display().to_string());
    let Some((one, two)) = tokio::task::spawn_blocking(move || {
        let env = [("GDAL_HTTP_HEADERS", headers.as_str())];
        let csv = ["-f", "CSV", "-lco", "GEOMETRY=AS_XY"];
        let one = gdal_tool(
            "ogr2ogr",
            &[&csv[..], &[&b, &src, "-a_srs", "EPSG:27700"]].concat(),
            &env,
        )?;
        let two = gdal_tool(
            "ogr2ogr",
            &[
                &csv[..],
                &[&k, &src, "-s_srs", "EPSG:27700", "-t_srs", "EPSG:4326"],
            ]
            .concat(),
            &env,
        )?;
        Some((one, two))
    })
    .await
    .unwrap() else {
        return;
    };
    for r in [&one, &two] {
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    // CSV with X,Y first, then the properties (`id` among them).
    let rows = |p: &std::path::Path| -> std::collections::BTreeMap<String, (f64, f64)> {
        let text = std::fs::read_to_string(p).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (x, y, id) = (col("X"), col("Y"), col("id"));
        lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let n = |i: usize| f[i].parse::<f64>().unwrap();
                (f[id].trim_matches('"').to_string(), (n(x), n(y)))
            })
            .collect()
    };
    let (bng, back) = (rows(&bng), rows(&back));
    assert_eq!(bng.len(), known.len());
    assert_eq!(back.len(), known.len());
    for k in &known {
        let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
        let got = bng[&k.id];
        assert!(
            (got.0 - e).abs() < 0.001 && (got.1 - n).abs() < 0.001,
            "{}: GDAL read {got:?}, OSTN15 gives ({e}, {n})",
            k.id
        );
        let (lon, lat) = back[&k.id];
        use geo::Distance;
        let metres =
            geo::Haversine.distance(geo::Point::new(lon, lat), geo::Point::new(k.lon, k.lat));
        assert!(metres < 5.0, "{}: PROJ puts it {metres:.2} m away", k.id);
    }
}
