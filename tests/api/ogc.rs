//! OGC API - Features (Part 1 Core + GeoJSON, Part 2 CRS) at the service root.
//!
//! A small known register: authority `alpha` has a 6 × 5 grid of points at
//! 0.01° spacing (lon -2.40..-2.35, lat 53.40..53.44) split into two wards at
//! lon -2.375; authority `beta` has a row of 13 points further east. Every
//! expected answer is computed from that list by brute force.
//!
//! One file: every test answers from the fixture above by brute force.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use streetcell::crs::wgs84_to_bng;
use streetcell::domain::asset::asset_id;

use crate::helpers::{ADMIN, Db, TestApp, fresh_database, spawn_app, start};

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const EPSG_4326: &str = "http://www.opengis.net/def/crs/EPSG/0/4326";
const EPSG_27700: &str = "http://www.opengis.net/def/crs/EPSG/0/27700";
const KINDS: [&str; 3] = ["lamp_post", "cctv_column", "bus_shelter"];
const POWER: [&str; 3] = ["none", "part_night", "continuous"];

/// One asset of the fixture.
#[derive(Debug, Clone)]
struct Known {
    id: String,
    authority: &'static str,
    kind: &'static str,
    status: &'static str,
    power: &'static str,
    ward: Option<&'static str>,
    lon: f64,
    lat: f64,
}

fn fixture() -> Vec<Known> {
    let mut out = Vec::new();
    let mut n = 0usize;
    let mut push = |authority: &'static str, lon: f64, lat: f64, ward| {
        let r = format!("A-{n:03}");
        // Micro-degrees: what a council export holds, and exact in CSV.
        let (lon, lat) = ((lon * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6);
        out.push(Known {
            id: asset_id(authority, &r),
            authority,
            kind: KINDS[n % 3],
            status: if n.is_multiple_of(4) {
                "unavailable"
            } else {
                "available"
            },
            power: POWER[(n / 3) % 3],
            ward,
            lon,
            lat,
        });
        n += 1;
    };
    for i in 0..6 {
        for j in 0..5 {
            let lon = -2.40 + i as f64 * 0.01;
            let lat = 53.40 + j as f64 * 0.01;
            push(
                "alpha",
                lon,
                lat,
                Some(if lon < -2.375 { "West" } else { "East" }),
            );
        }
    }
    for i in 0..13 {
        push("beta", -2.30 + i as f64 * 0.005, 53.45, None);
    }
    out
}

fn square(name: &str, x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!({
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [[
            [x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]
        ]]}
    })
}

async fn load(app: &TestApp) -> Vec<Known> {
    let known = fixture();
    for code in ["alpha", "beta"] {
        app.authority(code).await;
    }
    let wards = json!({"type": "FeatureCollection", "features": [
        square("West", -2.42, 53.39, -2.375, 53.45),
        square("East", -2.375, 53.39, -2.33, 53.45),
    ]});
    let (s, b) = app
        .post_bytes(
            "/v1/authorities/alpha/areas?layer=ward",
            Some(ADMIN),
            "application/geo+json",
            serde_json::to_vec(&wards).unwrap(),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let zones = json!({"type": "FeatureCollection", "features": [
        square("Zone B", -2.31, 53.44, -2.23, 53.46),
    ]});
    let (s, b) = app
        .post_bytes(
            "/v1/authorities/beta/areas?layer=fee_zone",
            Some(ADMIN),
            "application/geo+json",
            serde_json::to_vec(&zones).unwrap(),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for code in ["alpha", "beta"] {
        let mut csv = String::from("ref,kind,lon,lat,power_supply,status\n");
        for (n, k) in fixture().iter().enumerate() {
            if k.authority == code {
                csv += &format!(
                    "A-{n:03},{},{},{},{},{}\n",
                    k.kind, k.lon, k.lat, k.power, k.status
                );
            }
        }
        let (s, b) = app
            .post_bytes(
                &format!("/v1/authorities/{code}/imports"),
                Some(ADMIN),
                "text/csv",
                csv.into_bytes(),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert!(b["rejected"].as_array().is_none_or(|r| r.is_empty()), "{b}");
    }
    known
}

/// GET with the admin token: status, headers, JSON body.
async fn get(app: &TestApp, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = if url.starts_with("http") {
        url.to_string()
    } else {
        app.url(url)
    };
    let r = app
        .client
        .get(url)
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn content_type(h: &reqwest::header::HeaderMap) -> &str {
    h.get("content-type").unwrap().to_str().unwrap()
}

fn ids(body: &Value) -> Vec<String> {
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("string id").to_string())
        .collect()
}

fn link<'a>(body: &'a Value, rel: &str) -> Option<&'a str> {
    body["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
}

async fn app_with_data() -> (TestApp, Vec<Known>) {
    let app = spawn_app(Db::Sqlite).await.expect("sqlite");
    let known = load(&app).await;
    (app, known)
}

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
async fn output_crs_epsg_4326_and_27700() {
    let (app, known) = app_with_data().await;
    let by_id = |id: &str| known.iter().find(|k| k.id == id).unwrap();

    let (s, h, b) = get(
        &app,
        &format!("/collections/assets/items?limit=1000&crs={EPSG_4326}"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_4326}>"));
    for f in b["features"].as_array().unwrap() {
        let k = by_id(f["id"].as_str().unwrap());
        assert_eq!(f["geometry"]["coordinates"], json!([k.lat, k.lon]));
    }

    let (s, h, b) = get(
        &app,
        &format!("/collections/assets/items?limit=1000&crs={EPSG_27700}"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(content_type(&h), "application/geo+json");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_27700}>"));
    assert_eq!(b["numberReturned"], known.len());
    for f in b["features"].as_array().unwrap() {
        let k = by_id(f["id"].as_str().unwrap());
        let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
        let c = &f["geometry"]["coordinates"];
        assert!((c[0].as_f64().unwrap() - e).abs() <= 0.001, "{c} vs {e}");
        assert!((c[1].as_f64().unwrap() - n).abs() <= 0.001, "{c} vs {n}");
    }

    let k = &known[3];
    let (s, h, f) = get(
        &app,
        &format!("/collections/assets/items/{}?crs={EPSG_27700}", k.id),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_27700}>"));
    let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
    assert!((f["geometry"]["coordinates"][0].as_f64().unwrap() - e).abs() <= 0.001);
    assert!((f["geometry"]["coordinates"][1].as_f64().unwrap() - n).abs() <= 0.001);

    // Area polygons convert too (first ring vertex).
    let (_, _, w) = get(
        &app,
        &format!("/collections/wards/items?name=West&crs={EPSG_27700}"),
    )
    .await;
    let v = &w["features"][0]["geometry"]["coordinates"][0][0][0];
    let (e, n) = wgs84_to_bng(-2.42, 53.39).unwrap();
    assert!((v[0].as_f64().unwrap() - e).abs() <= 0.001, "{v}");
    assert!((v[1].as_f64().unwrap() - n).abs() <= 0.001, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bbox_in_other_crs_selects_the_same_features() {
    let (app, known) = app_with_data().await;
    // The lon/lat box (-2.385, 53.405) - (-2.355, 53.435) has its edges half
    // way between grid points (≥ 300 m from any point). Its BNG counterpart
    // takes eastings from the west/east edge midpoints and northings from the
    // south/north ones; grid convergence here moves edges by tens of metres
    // at most, so both boxes hold the same 9 points.
    let (w, _) = wgs84_to_bng(-2.385, 53.42).unwrap();
    let (east, _) = wgs84_to_bng(-2.355, 53.42).unwrap();
    let (_, south) = wgs84_to_bng(-2.37, 53.405).unwrap();
    let (_, north) = wgs84_to_bng(-2.37, 53.435).unwrap();
    let in_box =
        |k: &&Known| (-2.385..=-2.355).contains(&k.lon) && (53.405..=53.435).contains(&k.lat);
    let mut expect: Vec<String> = known.iter().filter(in_box).map(|k| k.id.clone()).collect();
    expect.sort();
    assert_eq!(expect.len(), 9);
    // The same set, decided in BNG from the stored coordinates.
    let mut in_bng: Vec<String> = known
        .iter()
        .filter(|k| {
            let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
            (w..=east).contains(&e) && (south..=north).contains(&n)
        })
        .map(|k| k.id.clone())
        .collect();
    in_bng.sort();
    assert_eq!(in_bng, expect);

    let (s, _, lonlat) = get(
        &app,
        "/collections/assets/items?bbox=-2.385,53.405,-2.355,53.435",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&lonlat), expect);
    let (s, _, latlon) = get(
        &app,
        &format!("/collections/assets/items?bbox=53.405,-2.385,53.435,-2.355&bbox-crs={EPSG_4326}"),
    )
    .await;
    assert_eq!(s, 200, "{latlon}");
    assert_eq!(ids(&latlon), expect);
    let (s, h, bng) = get(
        &app,
        &format!(
            "/collections/assets/items?bbox={w},{south},{east},{north}&bbox-crs={EPSG_27700}&crs={EPSG_27700}"
        ),
    )
    .await;
    assert_eq!(s, 200, "{bng}");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_27700}>"));
    assert_eq!(ids(&bng), expect);
    assert_eq!(bng["numberMatched"], 9);

    // Exact in BNG: a box 1 m around one point holds only that point, even
    // though its lon/lat envelope is padded.
    let k = &known[12];
    let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
    let (_, _, one) = get(
        &app,
        &format!(
            "/collections/assets/items?bbox={},{},{},{}&bbox-crs={EPSG_27700}",
            e - 1.0,
            n - 1.0,
            e + 1.0,
            n + 1.0
        ),
    )
    .await;
    assert_eq!(ids(&one), vec![k.id.clone()]);
    // A BNG box just east of the point (5 m away) does not hold it.
    let (_, _, none) = get(
        &app,
        &format!(
            "/collections/assets/items?bbox={},{},{},{}&bbox-crs={EPSG_27700}",
            e + 5.0,
            n - 1.0,
            e + 10.0,
            n + 1.0
        ),
    )
    .await;
    assert_eq!(none["numberMatched"], 0, "{none}");
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

/// Runs a GDAL command line tool, or `None` (and a note) when it is absent.
fn gdal(tool: &str, args: &[&str], env: &[(&str, &str)]) -> Option<std::process::Output> {
    let mut cmd = std::process::Command::new(tool);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::helpers::missing_prerequisite(&format!("{tool} (apt-get install gdal-bin)"));
            None
        }
        Err(e) => panic!("running {tool}: {e}"),
    }
}

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
            gdal("ogrinfo", &["-ro", "-al", "-so", &root], &env)
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
        let one = gdal(
            "ogr2ogr",
            &["-f", "GeoJSON", &a, &root2, "assets", "-oo", "PAGE_SIZE=7"],
            &[env[0], ("CPL_DEBUG", "ON")],
        );
        let two = gdal(
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
        let one = gdal(
            "ogr2ogr",
            &[&csv[..], &[&b, &src, "-a_srs", "EPSG:27700"]].concat(),
            &env,
        )?;
        let two = gdal(
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
