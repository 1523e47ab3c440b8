//! The endpoints around the tiles: GDAL reading them, empty, bad and
//! private tiles, tileset metadata, the map page.
use super::*;
use crate::helpers::gdal_tool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_tiles() {
    let app = with_demo(spawn_app(Db::Sqlite).await.unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    for (collection, z) in [("assets", 15u8), ("assets", 13), ("wards", 13)] {
        let t = TileId::at(PLACES[0].0, PLACES[0].1, z);
        let (status, _, body) = fetch(&app, &t.path(collection), Some(ADMIN)).await;
        assert_eq!(status, 200);
        let n = decode(&body, collection).len();
        let file = dir.path().join(format!("{collection}-{z}.mvt"));
        std::fs::write(&file, &body).unwrap();
        let (f, zs, xs, ys) = (
            file.display().to_string(),
            format!("Z={}", t.z),
            format!("X={}", t.x),
            format!("Y={}", t.y),
        );
        let Some(out) = tokio::task::spawn_blocking(move || {
            gdal_tool(
                "ogrinfo",
                &["-ro", "-al", "-so", "-oo", &zs, "-oo", &xs, "-oo", &ys, &f],
                &[],
            )
        })
        .await
        .unwrap() else {
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("Layer name: {collection}")),
            "{text}"
        );
        // GDAL may split a layer by geometry type; the counts add up.
        let counted: usize = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Feature Count: "))
            .map(|c| c.parse::<usize>().unwrap())
            .sum();
        assert_eq!(counted, n, "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_bad_and_private_tiles() {
    let (url, dir) = fresh_database(Db::Sqlite).await.unwrap();
    let app = start(url.clone(), dir.clone(), false).await;
    let staff = app.authority("alpha").await;
    let (s, b) = app
        .json(
            reqwest::Method::POST,
            "/v1/authorities/alpha/assets",
            Some(&staff),
            &serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.40]},
                "properties": {"ref": "LP-1", "kind": "lamp_post", "power_supply": "none",
                               "capacity": 1, "status": "available"}
            }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let here = TileId::at(-2.35, 53.40, 14);

    // The tile holding the asset has it; the one next door (whose buffer
    // does not reach it: it is over 64 units from the edge) and one in the
    // Atlantic are empty.
    let (s, _, body) = fetch(&app, &here.path("assets"), Some(ADMIN)).await;
    assert_eq!(s, 200);
    assert_eq!(decode(&body, "assets").len(), 1);
    let p = here.local(-2.35, 53.40);
    assert!(p.iter().all(|v| (100.0..3996.0).contains(v)), "{p:?}");
    for t in [
        TileId {
            x: here.x + 1,
            ..here
        },
        TileId {
            z: 14,
            x: 7000,
            y: 5000,
        },
    ] {
        let (s, h, body) = fetch(&app, &t.path("assets"), Some(ADMIN)).await;
        assert_eq!(s, 204, "{t:?}");
        assert!(body.is_empty());
        assert_eq!(h["cache-control"], "max-age=60");
    }
    // No wards loaded: every ward tile is empty.
    let (s, _, _) = fetch(&app, &here.path("wards"), Some(ADMIN)).await;
    assert_eq!(s, 204);

    // Bad coordinates: 400; unknown tile matrix set or collection: 404.
    let base = "/collections/assets/tiles/WebMercatorQuad";
    for path in [
        format!("{base}/25/0/0"),
        format!("{base}/1/2/0"),
        format!("{base}/1/0/2"),
        format!("{base}/14/99999/0"),
        format!("{base}/a/0/0"),
        format!("{base}/1/-1/0"),
        format!("{base}/1/0/1.5"),
        format!("{base}/1e1/0/0"),
    ] {
        let resp = app
            .client
            .get(app.url(&path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        problem(resp, 400).await;
    }
    for path in [
        "/collections/assets/tiles/WorldCRS84Quad/1/0/0",
        "/collections/assets/tiles/WorldCRS84Quad",
        "/collections/nope/tiles/WebMercatorQuad/1/0/0",
        "/collections/nope/tiles/WebMercatorQuad",
        "/collections/nope/tiles",
    ] {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        problem(resp, 404).await;
    }

    // Private by default: 401 without a token; a public server serves
    // anyone, but still refuses a bad token.
    let tile = here.path("assets");
    for path in [
        tile.as_str(),
        "/collections/assets/tiles",
        "/collections/assets/tiles/WebMercatorQuad",
    ] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        problem(resp, 401).await;
        let (s, _, _) = fetch(&app, path, Some(&staff)).await;
        assert_eq!(s, 200, "{path}");
    }
    let public = start(url, dir, true).await;
    let (s, _, body) = fetch(&public, &tile, None).await;
    assert_eq!(s, 200);
    assert_eq!(decode(&body, "assets").len(), 1);
    let resp = public
        .client
        .get(public.url(&tile))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    problem(resp, 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tileset_metadata_links_to_working_tiles() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    for id in ["assets", "wards", "fee-zones", "conservation-areas"] {
        let (s, c) = app.get(&format!("/collections/{id}"), Some(ADMIN)).await;
        assert_eq!(s, 200);
        let href = c["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == REL_TILESETS)
            .and_then(|l| l["href"].as_str())
            .unwrap_or_else(|| panic!("{id}: no tilesets link in {c}"));
        assert_eq!(href, app.url(&format!("/collections/{id}/tiles")));

        let (s, list) = app
            .get(&format!("/collections/{id}/tiles"), Some(ADMIN))
            .await;
        assert_eq!(s, 200);
        let sets = list["tilesets"].as_array().unwrap();
        assert_eq!(sets.len(), 1, "{list}");
        assert_eq!(sets[0]["dataType"], "vector");
        assert_eq!(sets[0]["tileMatrixSetURI"], TMS_URI);
        let self_href = sets[0]["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "self")
            .and_then(|l| l["href"].as_str())
            .unwrap()
            .to_string();
        assert_eq!(
            self_href,
            app.url(&format!("/collections/{id}/tiles/WebMercatorQuad"))
        );

        let path = self_href.strip_prefix(&app.base).unwrap();
        let (s, set) = app.get(path, Some(ADMIN)).await;
        assert_eq!(s, 200);
        assert_eq!(set["dataType"], "vector");
        assert_eq!(set["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
        assert_eq!(set["tileMatrixSetURI"], TMS_URI);
        assert!(set["title"].as_str().is_some_and(|t| !t.is_empty()));
        let item = set["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "item")
            .unwrap_or_else(|| panic!("no item link: {set}"));
        assert_eq!(item["type"], MVT);
        assert_eq!(item["templated"], true);
        let template = item["href"].as_str().unwrap();
        assert_eq!(
            template,
            app.url(&format!(
                "/collections/{id}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
            ))
        );
        let filled = template
            .replace("{tileMatrix}", "3")
            .replace("{tileRow}", "2")
            .replace("{tileCol}", "4");
        let (s, _, _) = fetch(&app, filled.strip_prefix(&app.base).unwrap(), Some(ADMIN)).await;
        assert_eq!(s, 204, "{filled} (empty register)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_page_asks_for_the_tiles() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    // The page holds no data, so it needs no token.
    let resp = app.client.get(app.url("/map")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        crate::helpers::content_type(&resp),
        "text/html; charset=utf-8"
    );
    let html = resp.text().await.unwrap();
    for needle in [
        "/collections/${collection}/tiles/WebMercatorQuad/{z}/{y}/{x}",
        "\"source-layer\": \"assets\"",
        "\"source-layer\": \"wards\"",
        "maplibre-gl@5.6.0/dist/maplibre-gl.js",
        "integrity=\"sha384-",
        "Authorization: `Bearer ${token}`",
        "tile.openstreetmap.org",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
}
