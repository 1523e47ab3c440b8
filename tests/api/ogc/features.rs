//! Landing page, conformance, collections, paging, exact counts, errors,
//! queryables and access.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn landing_conformance_and_collections() {
    let (app, known) = app_with_data().await;
    let (s, h, b) = get(&app, "/").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(content_type(&h), "application/json");
    assert!(b["title"].is_string() && b["description"].is_string());
    for rel in ["self", "service-desc", "service-doc", "conformance", "data"] {
        let href = link(&b, rel).unwrap_or_else(|| panic!("no {rel} link in {b}"));
        assert!(href.starts_with(&app.base), "{href}");
    }
    assert_eq!(link(&b, "data").unwrap(), app.url("/collections"));
    let desc = b["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "service-desc")
        .unwrap();
    assert_eq!(desc["href"], app.url("/api"));
    assert_eq!(desc["type"], "application/vnd.oai.openapi+json;version=3.0");

    let (s, _, b) = get(&app, "/conformance").await;
    assert_eq!(s, 200);
    let classes: BTreeSet<&str> = b["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // Parts 1 and 2 here; Part 3 (filter) classes are checked in cql2.rs.
    let features_1_2: BTreeSet<&str> = classes
        .iter()
        .copied()
        .filter(|c| c.contains("/ogcapi-features-1/") || c.contains("/ogcapi-features-2/"))
        .collect();
    assert_eq!(
        features_1_2,
        BTreeSet::from([
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        ])
    );
    // Vector tiles: OGC API - Tiles core, tilesets and Mapbox Vector Tiles.
    for class in [
        "core",
        "tileset",
        "tilesets-list",
        "geodata-tilesets",
        "mvt",
    ] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{class}");
        assert!(classes.contains(uri.as_str()), "{uri} missing");
    }

    let (s, _, b) = get(&app, "/collections").await;
    assert_eq!(s, 200, "{b}");
    let all = b["collections"].as_array().unwrap();
    let names: Vec<&str> = all.iter().map(|c| c["id"].as_str().unwrap()).collect();
    // The admin also sees councils' private applications and installations
    // (tests/api/applications.rs checks who else does).
    assert_eq!(
        names,
        [
            "assets",
            "wards",
            "fee-zones",
            "conservation-areas",
            "assets-points",
            "assets-polygons",
            "applications",
            "installations"
        ]
    );
    for c in &all[6..] {
        assert_eq!(c["crs"], json!([CRS84]));
        let (s, _, one) = get(&app, &format!("/collections/{}", c["id"].as_str().unwrap())).await;
        assert_eq!(s, 200);
        assert_eq!(&one, c);
    }
    let list = &all[..6];
    for c in list {
        assert_eq!(c["storageCrs"], CRS84);
        assert_eq!(c["crs"], json!([CRS84, EPSG_4326, EPSG_27700]));
        let items = link(c, "items").unwrap();
        assert_eq!(
            items,
            app.url(&format!("/collections/{}/items", c["id"].as_str().unwrap()))
        );
        let (s, _, one) = get(&app, &format!("/collections/{}", c["id"].as_str().unwrap())).await;
        assert_eq!(s, 200);
        assert_eq!(&one, c);
    }
    // Extents come from the data.
    let lon = known.iter().map(|k| k.lon);
    let lat = known.iter().map(|k| k.lat);
    let expect = [
        lon.clone().fold(f64::INFINITY, f64::min),
        lat.clone().fold(f64::INFINITY, f64::min),
        lon.fold(f64::NEG_INFINITY, f64::max),
        lat.fold(f64::NEG_INFINITY, f64::max),
    ];
    let bbox = &list[0]["extent"]["spatial"]["bbox"][0];
    for (i, e) in expect.iter().enumerate() {
        assert!((bbox[i].as_f64().unwrap() - e).abs() < 1e-9, "{bbox}");
    }
    assert_eq!(
        list[1]["extent"]["spatial"]["bbox"],
        json!([[-2.42, 53.39, -2.33, 53.45]])
    );
    assert_eq!(
        list[2]["extent"]["spatial"]["bbox"],
        json!([[-2.31, 53.44, -2.23, 53.46]])
    );
    assert!(
        list[3].get("extent").is_none(),
        "no conservation areas loaded"
    );

    let (s, _, _) = get(&app, "/collections/nope").await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_walks_every_feature_once() {
    let (app, known) = app_with_data().await;
    let mut seen = Vec::new();
    let mut next = Some(app.url("/collections/assets/items?limit=7"));
    let mut pages = 0;
    while let Some(url) = next {
        let (s, h, b) = get(&app, &url).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(content_type(&h), "application/geo+json");
        assert_eq!(b["type"], "FeatureCollection");
        assert_eq!(b["numberMatched"], known.len());
        let page = ids(&b);
        assert_eq!(b["numberReturned"], page.len());
        assert!(page.len() <= 7);
        assert!(b["timeStamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(link(&b, "self").unwrap(), url);
        assert!(link(&b, "alternate").is_some());
        if pages > 0 {
            assert!(link(&b, "prev").unwrap().starts_with(&app.base));
        } else {
            assert!(link(&b, "prev").is_none());
        }
        seen.extend(page);
        next = link(&b, "next").map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, known.len().div_ceil(7));
    let mut expect: Vec<String> = known.iter().map(|k| k.id.clone()).collect();
    expect.sort();
    assert_eq!(seen, expect, "every feature exactly once, in id order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_matched_is_exact_for_filters() {
    let (app, known) = app_with_data().await;
    type Pred = fn(&Known) -> bool;
    let cases: Vec<(&str, Pred)> = vec![
        ("", |_| true),
        ("kind=lamp_post", |k| k.kind == "lamp_post"),
        ("status=unavailable", |k| k.status == "unavailable"),
        ("kind=lamp_post,cctv_column&status=available", |k| {
            k.kind != "bus_shelter" && k.status == "available"
        }),
        ("authority=beta", |k| k.authority == "beta"),
        ("ward=West", |k| k.ward == Some("West")),
        ("ward=East&power_supply=continuous", |k| {
            k.ward == Some("East") && k.power == "continuous"
        }),
        ("bbox=-2.385,53.405,-2.355,53.435&kind=cctv_column", |k| {
            (-2.385..=-2.355).contains(&k.lon)
                && (53.405..=53.435).contains(&k.lat)
                && k.kind == "cctv_column"
        }),
        ("bbox=-2.31,53.0,0,-2.272,54.0,100", |k| {
            (-2.31..=-2.272).contains(&k.lon)
        }),
    ];
    for (query, pred) in cases {
        let expect: Vec<String> = known
            .iter()
            .filter(|k| pred(k))
            .map(|k| k.id.clone())
            .collect();
        assert!(
            !expect.is_empty(),
            "{query}: the fixture should match something"
        );
        let (s, _, b) = get(&app, &format!("/collections/assets/items?limit=3&{query}")).await;
        assert_eq!(s, 200, "{query}: {b}");
        assert_eq!(b["numberMatched"], expect.len(), "{query}");
        assert_eq!(b["numberReturned"], expect.len().min(3), "{query}");
        let (_, _, all) = get(
            &app,
            &format!("/collections/assets/items?limit=1000&{query}"),
        )
        .await;
        let mut expect = expect;
        expect.sort();
        assert_eq!(ids(&all), expect, "{query}");
    }

    // Area collections filter by authority and name; ids are area ids.
    let (s, _, b) = get(&app, "/collections/wards/items?authority=alpha&name=East").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["numberMatched"], 1);
    assert_eq!(b["features"][0]["properties"]["name"], "East");
    let id = b["features"][0]["id"].as_i64().expect("numeric area id");
    let (s, h, one) = get(&app, &format!("/collections/wards/items/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(content_type(&h), "application/geo+json");
    assert_eq!(one["id"], id);
    assert_eq!(one["properties"]["name"], "East");
    let (_, _, b) = get(
        &app,
        "/collections/wards/items?bbox=-2.41,53.40,-2.40,53.41",
    )
    .await;
    assert_eq!(b["numberMatched"], 1);
    assert_eq!(b["features"][0]["properties"]["name"], "West");
    let (_, _, b) = get(&app, "/collections/wards/items?authority=beta").await;
    assert_eq!(b["numberMatched"], 0);
    let (s, _, _) = get(&app, "/collections/wards/items?kind=lamp_post").await;
    assert_eq!(s, 400, "assets' queryables are not the wards'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn features_errors_and_limits() {
    let (app, known) = app_with_data().await;
    let k = &known[7];
    let (s, h, f) = get(&app, &format!("/collections/assets/items/{}", k.id)).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(content_type(&h), "application/geo+json");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{CRS84}>"));
    assert_eq!(f["id"], k.id);
    assert_eq!(f["geometry"]["coordinates"], json!([k.lon, k.lat]));
    assert_eq!(f["properties"]["kind"], k.kind);

    for path in [
        "/collections/assets/items/alpha-0000000000000000",
        "/collections/wards/items/999999",
        "/collections/wards/items/not-a-number",
        "/collections/nope/items",
    ] {
        let (s, h, b) = get(&app, path).await;
        assert_eq!(s, 404, "{path}: {b}");
        assert_eq!(content_type(&h), "application/problem+json", "{path}");
    }
    for query in [
        "colour=red",
        "limit=0",
        "limit=many",
        "offset=-1",
        "bbox=1,2,3",
        "bbox=0,91,1,92",
        "kind=spaceship",
        "crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        "bbox=0,0,1,1&bbox-crs=urn:nope",
        "datetime=yesterday",
        "limit=5&limit=6",
    ] {
        let (s, h, b) = get(&app, &format!("/collections/assets/items?{query}")).await;
        assert_eq!(s, 400, "{query}: {b}");
        assert_eq!(content_type(&h), "application/problem+json", "{query}");
    }
    let (s, _, _) = get(&app, &format!("/collections/assets/items/{}?limit=1", k.id)).await;
    assert_eq!(s, 400, "unknown parameter on a single feature");
    let (s, _, b) = get(
        &app,
        "/collections/assets/items?datetime=2024-01-01T00:00:00Z/..",
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // Over the maximum: clamped to 10,000, not refused. The prev link
    // shows the effective page size.
    let (s, _, b) = get(&app, "/collections/assets/items?limit=20000").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["numberReturned"], known.len());
    let (s, _, b) = get(&app, "/collections/assets/items?limit=20000&offset=15000").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["numberReturned"], 0);
    let prev = link(&b, "prev").unwrap();
    assert!(prev.contains("offset=5000"), "{prev}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queryables_are_a_json_schema() {
    let (app, _) = app_with_data().await;
    let r = app
        .client
        .get(app.url("/collections/assets/queryables"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(r.headers()), "application/schema+json");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(b["type"], "object");
    assert_eq!(b["properties"]["geometry"]["format"], "geometry-any");
    assert!(
        b["properties"]["kind"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("lamp_post"))
    );
    for p in ["status", "authority", "power_supply", "ward"] {
        assert!(b["properties"][p]["type"] == "string", "{p}");
    }
    let (s, _, b) = get(&app, "/collections/wards/queryables").await;
    assert_eq!(s, 200);
    let keys: BTreeSet<&str> = b["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["authority", "geometry", "name"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_is_as_for_v1_assets() {
    let (url, dir) = fresh_database(Db::Sqlite).await.unwrap();
    let private = start(url.clone(), dir.clone(), false).await;
    // The service's description is public (tests/api/gis.rs), the data not.
    for path in ["/", "/collections"] {
        let (s, _) = private.get(path, None).await;
        assert_eq!(s, 200, "{path}");
        let (s, _) = private.get(path, Some("not-a-token")).await;
        assert_eq!(s, 401, "{path}");
    }
    for path in ["/collections/assets/items"] {
        let (s, _) = private.get(path, None).await;
        assert_eq!(s, 401, "{path}");
        let (s, _) = private.get(path, Some("not-a-token")).await;
        assert_eq!(s, 401, "{path}");
        let (s, _) = private.get(path, Some(ADMIN)).await;
        assert_eq!(s, 200, "{path}");
    }
    let public = start(url, dir, true).await;
    for path in ["/", "/conformance", "/collections/assets/items"] {
        let (s, _) = public.get(path, None).await;
        assert_eq!(s, 200, "{path}");
        let (s, _) = public.get(path, Some("not-a-token")).await;
        assert_eq!(s, 401, "{path}");
    }
}
