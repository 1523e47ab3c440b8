//! OGC API - Features (Part 1 Core + GeoJSON, Part 2 CRS) at the service root.
//!
//! A small known register: authority `alpha` has a 6 × 5 grid of points at
//! 0.01° spacing (lon -2.40..-2.35, lat 53.40..53.44) split into two wards at
//! lon -2.375; authority `beta` has a row of 13 points further east. Every
//! expected answer is computed from that list by brute force.
//!
//! Layout: the fixture and the request helpers are here; `features.rs`
//! (landing page, paging, counts, errors, queryables, access), `crs.rs`
//! (output and bbox CRS), `gdal.rs` (GDAL reading the service).

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

mod crs;
mod features;
mod gdal;
