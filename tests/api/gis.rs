//! GIS clients without friction: the service's description is public
//! (items are not), CRS short forms, a parameter repeated with the same
//! value, a south edge north of the north edge, every invalid field named,
//! compression, the tile matrix set served here, and the HTML landing page.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, Db, TestApp, content_type, problem, spawn_app};

const BNG: &str = "http://www.opengis.net/def/crs/EPSG/0/27700";

/// An app with one council and a handful of lamp posts.
async fn small_app() -> (TestApp, String) {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let staff = app.authority("alpha").await;
    for i in 0..5 {
        let (s, b) = app
            .json(
                Method::POST,
                "/v1/authorities/alpha/assets",
                Some(&staff),
                &json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [-2.35 + i as f64 * 0.001, 53.40]},
                    "properties": {"ref": format!("LP-{i}"), "kind": "lamp_post"}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    (app, staff)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_is_public_and_the_data_is_not() {
    let (app, _) = small_app().await;
    for path in [
        "/",
        "/conformance",
        "/collections",
        "/collections/assets",
        "/collections/assets/queryables",
        "/api",
        "/api.html",
        "/tileMatrixSets",
        "/tileMatrixSets/WebMercatorQuad",
    ] {
        let (s, b) = app.get(path, None).await;
        assert_eq!(s, 200, "{path}: {b}");
        // A token that is sent is still checked.
        let (s, _) = app.get(path, Some("not-a-token")).await;
        assert!(s == 401 || path.starts_with("/api"), "{path}: {s}");
    }
    for path in [
        "/collections/assets/items",
        "/collections/wards/items",
        "/collections/assets/tiles/WebMercatorQuad/0/0/0",
    ] {
        assert_eq!(app.get(path, None).await.0, 401, "{path}");
    }
    // Staff still see their private collections listed.
    let (_, anon) = app.get("/collections", None).await;
    let (_, admin) = app.get("/collections", Some(ADMIN)).await;
    let ids = |v: &Value| -> Vec<String> {
        v["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!ids(&anon).contains(&"applications".to_string()));
    assert!(ids(&admin).contains(&"applications".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crs_short_forms_and_repeated_parameters() {
    let (app, staff) = small_app().await;
    let get = |q: String| {
        let app = &app;
        let staff = staff.clone();
        async move {
            let resp = app
                .client
                .get(app.url(&format!("/collections/assets/items?{q}")))
                .bearer_auth(staff)
                .send()
                .await
                .unwrap();
            let crs = resp
                .headers()
                .get("content-crs")
                .map(|v| v.to_str().unwrap().to_string());
            (
                resp.status().as_u16(),
                crs,
                resp.json::<Value>().await.unwrap(),
            )
        }
    };
    let (s, crs, full) = get(format!("crs={BNG}")).await;
    assert_eq!(s, 200, "{full}");
    assert_eq!(crs.as_deref(), Some(format!("<{BNG}>").as_str()));
    for short in ["EPSG:27700", "epsg:27700", "[EPSG:27700]"] {
        let (s, crs, body) = get(format!("crs={short}")).await;
        assert_eq!(s, 200, "{short}: {body}");
        assert_eq!(crs.as_deref(), Some(format!("<{BNG}>").as_str()));
        assert_eq!(body["features"], full["features"], "{short}");
    }
    let (s, _, body) = get("crs=CRS84&bbox-crs=EPSG:4326&bbox=53.3,-2.4,53.5,-2.3".into()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["numberMatched"], 5, "{body}");

    // GDAL 3.6 appends `crs` to `next` links that carry it already.
    let (s, _, twice) = get("crs=EPSG:27700&limit=2&crs=EPSG%3A27700".into()).await;
    assert_eq!(s, 200, "{twice}");
    assert_eq!(twice["features"][0], full["features"][0]);
    // ...but two different values are a 400 naming the parameter.
    let resp = app
        .client
        .get(app.url("/collections/assets/items?limit=1&limit=2"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    let body = problem(resp, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("limit"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_south_edge_north_of_the_north_edge_is_a_400_naming_bbox() {
    let (app, staff) = small_app().await;
    for path in [
        "/v1/assets?bbox=-2.36,53.41,-2.34,53.39",
        "/collections/assets/items?bbox=-2.36,53.41,-2.34,53.39",
        "/collections/assets/items?bbox=53.41,-2.36,53.39,-2.34&bbox-crs=EPSG:4326",
    ] {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        let body = problem(resp, 400).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("bbox") && detail.contains("south"),
            "{path}: {body}"
        );
    }
    // An east edge west of the west edge is a box across the antimeridian.
    let (s, b) = app
        .get("/v1/assets?bbox=170,53.39,-170,53.41", Some(&staff))
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_names_every_invalid_field() {
    let (app, staff) = small_app().await;
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/alpha/assets",
            Some(&staff),
            &json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.40]},
                "properties": {"ref": "X-1", "kind": "lamppost", "height_m": -3,
                    "capacity": 0, "status": "gone", "last_inspected": "yesterday"}}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let mut fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["capacity", "height_m", "kind", "last_inspected", "status"],
        "{b}"
    );
    // A bad geometry is named beside the other fields.
    let (s, b) = app
        .json(
            Method::POST,
            "/v1/authorities/alpha/assets",
            Some(&staff),
            &json!({"type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-2.35, 53.40], [-2.34, 53.41]]},
                "properties": {"ref": "X-2", "kind": "lamppost"}}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"geometry") && fields.contains(&"kind"),
        "{b}"
    );
}

/// Runs `gzip -dc` on `bytes`: an independent decoder.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_tiles_are_compressed_when_the_client_accepts_it() {
    let (app, staff) = small_app().await;
    let raw = app
        .client
        .get(app.url("/collections/assets/items"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert!(raw.headers().get("content-encoding").is_none());
    let raw = raw.bytes().await.unwrap();
    let zipped = app
        .client
        .get(app.url("/collections/assets/items"))
        .bearer_auth(&staff)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let zipped = zipped.bytes().await.unwrap();
    assert!(
        zipped.len() < raw.len(),
        "{} >= {}",
        zipped.len(),
        raw.len()
    );
    assert_eq!(gunzip(&zipped), raw.to_vec());

    // A vector tile, in Brotli.
    let tile = app
        .client
        .get(app.url("/collections/assets/tiles/WebMercatorQuad/14/5302/8085"))
        .bearer_auth(&staff)
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    let status = tile.status().as_u16();
    if status == 200 {
        assert_eq!(tile.headers()["content-encoding"], "br");
    } else {
        assert_eq!(status, 204);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tile_matrix_set_is_served_here_and_linked() {
    let (app, staff) = small_app().await;
    let (s, tileset) = app
        .get("/collections/assets/tiles/WebMercatorQuad", Some(&staff))
        .await;
    assert_eq!(s, 200, "{tileset}");
    let scheme = tileset["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(scheme.starts_with(&app.base), "{scheme}");
    let (s, tms) = app.get(scheme.strip_prefix(&app.base).unwrap(), None).await;
    assert_eq!(s, 200, "{tms}");
    assert_eq!(tms["id"], "WebMercatorQuad");
    assert_eq!(tms["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
    let m = tms["tileMatrices"].as_array().unwrap();
    assert_eq!(m.len(), 25);
    assert_eq!(m[14]["matrixWidth"], 16384);
    assert_eq!(app.get("/tileMatrixSets/WorldCRS84Quad", None).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_a_landing_page_for_people() {
    let (app, _) = small_app().await;
    let (s, _) = app
        .json(
            Method::POST,
            "/v1/authorities",
            Some(ADMIN),
            &json!({"code": "beta", "name": "Beta & <Sons> Council"}),
        )
        .await;
    assert_eq!(s, 201);
    let resp = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("text/html"));
    let html = resp.text().await.unwrap();
    for needle in [
        "alpha council",
        "Beta &#38; &#60;Sons&#62; Council",
        "href=\"/map\"",
        "href=\"/api.html\"",
        "href=\"/collections\"",
        "href=\"/conformance\"",
        "Quick start",
        "5 assets",
    ] {
        assert!(html.contains(needle), "{needle:?} missing:\n{html}");
    }
    // GIS clients asking for JSON get the OGC landing page from the same path.
    let (s, landing) = app.get("/", None).await;
    assert_eq!(s, 200);
    assert!(landing["links"].is_array(), "{landing}");
    let (s, landing) = app.get("/?f=json", None).await;
    assert_eq!(s, 200);
    assert!(landing["links"].is_array(), "{landing}");
}

/// GDAL (3.10 on) picks its page size from the API document: the concrete
/// items path of the collection it reads, a `limit` parameter by `$ref`,
/// and that parameter's default and maximum, aiming for 1,000 within the
/// maximum. This follows those steps over the document served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_document_offers_gdal_a_page_size() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let (s, doc) = app.get("/api", None).await;
    assert_eq!(s, 200);
    for id in [
        "assets",
        "assets-points",
        "assets-polygons",
        "wards",
        "fee-zones",
        "conservation-areas",
    ] {
        let params = doc["paths"][format!("/collections/{id}/items")]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("no path for {id}"));
        let reference = params
            .iter()
            .filter_map(|p| p["$ref"].as_str())
            .find(|r| r.contains("limit"))
            .expect("limit by $ref");
        let limit = doc.pointer(reference.strip_prefix('#').unwrap()).unwrap();
        let maximum = limit["schema"]["maximum"].as_i64().unwrap();
        let default = limit["schema"]["default"].as_i64().unwrap();
        let page = 1000.max(default).min(maximum);
        assert_eq!(page, 1000, "{id}: {limit}");
        assert!(params.iter().all(|p| p["name"] != "collectionId"), "{id}");
    }
}
