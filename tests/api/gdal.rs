//! GDAL, the engine under QGIS, reads the service as a GIS analyst would:
//! the whole demo register in British National Grid through the OAPIF
//! driver, several pages, into a GeoPackage without a warning; the page
//! size it picks from the API document; and the vector tiles through the
//! OGCAPI driver with the tile matrix set served here (nothing fetched from
//! anywhere but this server).

use std::collections::BTreeMap;

use geo::Geometry;
use streetcell::crs::wgs84_to_bng;

use crate::helpers::{ADMIN, Db, TestApp, spawn_app};

/// Runs a GDAL tool with the admin token; `None` when GDAL is absent.
fn gdal(tool: &str, args: &[&str], debug: bool) -> Option<std::process::Output> {
    let header = format!("Authorization: Bearer {ADMIN}");
    let mut env = vec![
        ("GDAL_HTTP_HEADERS", header.as_str()),
        // Give up at once on anything that is not this server.
        ("GDAL_HTTP_TIMEOUT", "10"),
    ];
    if debug {
        env.push(("CPL_DEBUG", "ON"));
    }
    crate::helpers::gdal_tool(tool, args, &env)
}

async fn gdal_async(
    tool: &'static str,
    args: Vec<String>,
    debug: bool,
) -> Option<std::process::Output> {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        gdal(tool, &args, debug)
    })
    .await
    .unwrap()
}

/// GDAL's warnings and errors in its stderr (debug lines excluded).
fn complaints(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("Warning") || l.starts_with("ERROR"))
        .collect()
}

/// Every URL GDAL fetched (with `CPL_DEBUG=ON`).
fn fetched(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| {
            l.split_once("HTTP: Fetch(")
                .map(|(_, u)| u.trim_end_matches(')'))
        })
        .collect()
}

async fn with_demo() -> TestApp {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("load demo");
    app.restart().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_copies_the_demo_in_british_national_grid_to_a_geopackage_without_warnings() {
    let app = with_demo().await;
    let snap = app.register.assets().snapshot();
    let mut points = BTreeMap::new();
    let mut polygons = 0;
    for l in snap.query(None, |_| true) {
        match &l.asset.details.geometry {
            Geometry::Point(p) => {
                points.insert(l.asset.id.clone(), wgs84_to_bng(p.x(), p.y()).unwrap());
            }
            _ => polygons += 1,
        }
    }
    assert!(points.len() > 17_000 && polygons > 10);

    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("demo.gpkg").display().to_string();
    let src = format!("OAPIF:{}/?crs=EPSG:27700", app.base);
    let args = [
        "-f",
        "GPKG",
        &gpkg,
        &src,
        "assets-points",
        "assets-polygons",
        "-a_srs",
        "EPSG:27700",
        "-oo",
        "PAGE_SIZE=2000",
    ];
    let Some(out) = gdal_async("ogr2ogr", args.map(String::from).to_vec(), true).await else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(complaints(&stderr), Vec::<&str>::new(), "GDAL complained");
    // Several pages, each carrying the CRS GDAL was given (twice, once
    // encoded by the server's `next` link: the same value, accepted).
    let urls = fetched(&stderr);
    let pages = urls
        .iter()
        .filter(|u| u.contains("/collections/assets-points/items"))
        .count();
    assert!(pages >= 9, "{pages} pages: {urls:#?}");
    assert!(urls.iter().all(|u| u.starts_with(&app.base)), "{urls:#?}");

    // Layers of one geometry type each, in EPSG:27700, every feature there.
    let info = gdal_async(
        "ogrinfo",
        vec!["-so".into(), "-al".into(), gpkg.clone()],
        false,
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("Geometry: Point"), "{text}");
    assert!(text.contains("Geometry: Multi Polygon"), "{text}");
    assert!(
        text.contains(&format!("Feature Count: {}", points.len())),
        "{text}"
    );
    assert!(
        text.contains(&format!("Feature Count: {polygons}")),
        "{text}"
    );
    assert!(text.contains("ID[\"EPSG\",27700]"), "{text}");

    // Each point where OSTN15 puts it, to the millimetre.
    let csv = dir.path().join("points.csv").display().to_string();
    let out = gdal_async(
        "ogr2ogr",
        [
            "-f",
            "CSV",
            &csv,
            &gpkg,
            "assets-points",
            "-lco",
            "GEOMETRY=AS_XY",
        ]
        .map(String::from)
        .to_vec(),
        false,
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (x, y, id) = (col("X"), col("Y"), col("id"));
    let mut seen = 0;
    for line in lines {
        // The first columns hold no commas (X, Y, then the id).
        let f: Vec<&str> = line.splitn(id + 2, ',').collect();
        let (e, n) = points[f[id].trim_matches('"')];
        let (gx, gy): (f64, f64) = (f[x].parse().unwrap(), f[y].parse().unwrap());
        assert!((gx - e).abs() < 0.001 && (gy - n).abs() < 0.001, "{line}");
        seen += 1;
    }
    assert_eq!(seen, points.len());
}

/// The page sizes GDAL asked for, from its debug log.
fn limits(stderr: &str) -> Vec<usize> {
    fetched(stderr)
        .iter()
        .filter(|u| u.contains("/items"))
        .filter_map(|u| u.split("limit=").nth(1))
        .filter_map(|v| v.split('&').next()?.parse().ok())
        .collect()
}

/// GDAL 3.10 and later choose their page size from the API document (the
/// document's side is checked in `gis.rs`); GDAL 3.6 reads no API document
/// and asks for 10 a page unless told, so there the README's
/// `-oo PAGE_SIZE=1000` must work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_large_pages() {
    let app = with_demo().await;
    let src = format!("OAPIF:{}/", app.base);
    let run = |extra: &[&str]| {
        let mut args: Vec<String> = ["-ro", "-al", "-q", &src, "assets-polygons"]
            .map(String::from)
            .to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        gdal_async("ogrinfo", args, true)
    };
    let Some(out) = run(&[]).await else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(complaints(&stderr), Vec::<&str>::new(), "GDAL complained");
    let reads_api = fetched(&stderr).iter().any(|u| u.ends_with("/api"));
    if reads_api {
        assert!(limits(&stderr).iter().max() >= Some(&1000), "{stderr}");
    }
    let out = run(&["-oo", "PAGE_SIZE=1000"]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(limits(&stderr).contains(&1000), "{stderr}");
}

/// The collection's extent in Web Mercator metres, as GDAL's `MINX`..`MAXY`
/// open options: GDAL's OGCAPI driver compares the collection's CRS84 bbox,
/// unconverted, with the tile matrix set's columns and rows in metres, so
/// without them it reads tiles near (0, 0) instead of the register's.
async fn mercator_extent(app: &TestApp) -> [f64; 4] {
    let (status, collection) = app.get("/collections/assets", None).await;
    assert_eq!(status, 200, "{collection}");
    let bbox: Vec<f64> = collection["extent"]["spatial"]["bbox"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    const R: f64 = 6_378_137.0;
    let x = |lon: f64| R * lon.to_radians();
    let y = |lat: f64| {
        R * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln()
    };
    [x(bbox[0]), y(bbox[1]), x(bbox[2]), y(bbox[3])]
}

/// Whether the installed GDAL was built with the OGCAPI driver's vector-tile
/// code. Debian's GDAL 3.6.2 is not: the driver's CMake file enables that
/// code only when the GML driver is already configured, and GDAL configures
/// raster drivers (`frmts/`, OGCAPI among them) before vector ones, so the
/// block is compiled out and with it the only use of the string
/// `vectorType`, which the block reads from the collection.
fn ogcapi_reads_vector_tiles() -> bool {
    let Ok(out) = std::process::Command::new("sh")
        .args(["-c", "ldd \"$(command -v ogrinfo)\""])
        .output()
    else {
        return false;
    };
    let ldd = String::from_utf8_lossy(&out.stdout).into_owned();
    let lib = ldd
        .lines()
        .find(|l| l.trim_start().starts_with("libgdal.so"))
        .and_then(|l| l.split("=>").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .expect("ogrinfo links libgdal");
    let bytes = std::fs::read(lib).expect("read libgdal");
    bytes
        .windows(b"vectorType".len())
        .any(|w| w == b"vectorType")
}

/// GDAL's OGCAPI driver finds the tiles from the collection alone, with
/// nothing fetched from anywhere but this server: the tilesets, the tileset,
/// and the tile matrix set served here (before it was, the definition was
/// only linked on the OGC's site and the driver failed offline). Where this
/// GDAL has the driver's vector-tile code, it opens one layer per zoom
/// level and reads features; Debian's 3.6.2 lacks that code (see
/// [`ogcapi_reads_vector_tiles`]), so there it must get as far as the tile
/// matrix set without an error and stop only where its build ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_tiles_offline_with_the_local_tile_matrix_set() {
    let app = with_demo().await;
    let [minx, miny, maxx, maxy] = mercator_extent(&app).await;
    let src = format!("OGCAPI:{}/collections/assets", app.base);
    let mut args: Vec<String> = vec!["-ro".into(), "-oo".into(), "API=TILES".into()];
    for (k, v) in [
        ("MINX", minx),
        ("MINY", miny),
        ("MAXX", maxx),
        ("MAXY", maxy),
    ] {
        args.extend(["-oo".into(), format!("{k}={v}")]);
    }
    args.push(src);
    let Some(out) = gdal_async("ogrinfo", args, true).await else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let urls = fetched(&stderr);
    let base = &app.base;
    for path in [
        "/collections/assets",
        "/collections/assets/tiles",
        "/collections/assets/tiles/WebMercatorQuad",
        "/tileMatrixSets/WebMercatorQuad",
    ] {
        assert!(
            urls.contains(&format!("{base}{path}").as_str()),
            "{path} not fetched: {urls:#?}"
        );
    }
    assert!(urls.iter().all(|u| u.starts_with(base)), "{urls:#?}");
    assert_eq!(complaints(&stderr), Vec::<&str>::new(), "GDAL complained");
    if ogcapi_reads_vector_tiles() {
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("1: "), "no layer: {stdout}");
        assert!(
            urls.iter().any(|u| u.contains("/tiles/WebMercatorQuad/")),
            "no tile read: {urls:#?}"
        );
    } else {
        assert!(!out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("Unable to open datasource"), "{stdout}");
        // What it fetched last is the tile matrix set: nothing after it
        // failed, the build simply has no vector-tile reader to go on with.
        assert_eq!(
            urls.last().copied(),
            Some(format!("{base}/tileMatrixSets/WebMercatorQuad").as_str()),
            "{urls:#?}"
        );
    }
}
