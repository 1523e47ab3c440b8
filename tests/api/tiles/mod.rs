//! Vector tiles (OGC API - Tiles, Mapbox Vector Tile).
//!
//! Tiles are decoded here with our own protobuf messages (`prost`) and our
//! own reading of the MVT command grammar, then checked against answers
//! worked out from the demo's GeoJSON files with the Web Mercator formula
//! (`ln(tan φ + sec φ)`, as on the OSM wiki), not with the service's code:
//! which assets fall in a tile, where each point lands, and how much of
//! each ward a tile covers (geo's boolean intersection of the ward with the
//! buffered tile).
//!
//! Layout: the decoder and the demo's reference data are here; `content.rs`
//! checks tile contents against brute force (assets, wards, thinning);
//! `service.rs` the endpoints around them (GDAL, errors and privacy,
//! tileset metadata, the map page).

use std::collections::{BTreeMap, BTreeSet};

use geo::{Area, BooleanOps, Coord, LineString, MultiPolygon, Polygon};
use prost::Message;
use serde_json::Value;
use streetcell::domain::asset::asset_id;

use crate::helpers::{ADMIN, Db, TestApp, fresh_database, problem, spawn_app, start};
use crate::on_both_databases;

const MVT: &str = "application/vnd.mapbox-vector-tile";
const EXTENT: f64 = 4096.0;
const BUFFER: f64 = 64.0;
const TMS_URI: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
const REL_TILESETS: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";

/// The vector tile protobuf schema (vector_tile.proto, version 2.1).
mod pb {
    /// A tile.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Tile {
        #[prost(message, repeated, tag = "3")]
        pub layers: Vec<Layer>,
    }
    /// A tag value.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        #[prost(string, optional, tag = "1")]
        pub string_value: Option<String>,
        #[prost(float, optional, tag = "2")]
        pub float_value: Option<f32>,
        #[prost(double, optional, tag = "3")]
        pub double_value: Option<f64>,
        #[prost(int64, optional, tag = "4")]
        pub int_value: Option<i64>,
        #[prost(uint64, optional, tag = "5")]
        pub uint_value: Option<u64>,
        #[prost(sint64, optional, tag = "6")]
        pub sint_value: Option<i64>,
        #[prost(bool, optional, tag = "7")]
        pub bool_value: Option<bool>,
    }
    /// A feature.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Feature {
        #[prost(uint64, optional, tag = "1")]
        pub id: Option<u64>,
        #[prost(uint32, repeated, tag = "2")]
        pub tags: Vec<u32>,
        #[prost(int32, optional, tag = "3")]
        pub r#type: Option<i32>,
        #[prost(uint32, repeated, tag = "4")]
        pub geometry: Vec<u32>,
    }
    /// A layer.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Layer {
        #[prost(uint32, required, tag = "15")]
        pub version: u32,
        #[prost(string, required, tag = "1")]
        pub name: String,
        #[prost(message, repeated, tag = "2")]
        pub features: Vec<Feature>,
        #[prost(string, repeated, tag = "3")]
        pub keys: Vec<String>,
        #[prost(message, repeated, tag = "4")]
        pub values: Vec<Value>,
        #[prost(uint32, optional, tag = "5")]
        pub extent: Option<u32>,
    }
}

const POINT: i32 = 1;
const POLYGON: i32 = 3;

/// A decoded feature: id, type, properties, geometry.
#[derive(Debug)]
struct Decoded {
    id: Option<u64>,
    kind: i32,
    props: BTreeMap<String, pb::Value>,
    /// Points (one per entry) or rings (closed implicitly).
    parts: Vec<Vec<[i64; 2]>>,
}

impl Decoded {
    fn text(&self, key: &str) -> Option<&str> {
        self.props.get(key).and_then(|v| v.string_value.as_deref())
    }
}

fn zigzag(v: u32) -> i64 {
    i64::from(v >> 1) ^ -i64::from(v & 1)
}

/// Reads a geometry by the MVT 2.1 grammar, asserting it: points are one
/// MoveTo; each polygon ring is MoveTo(1), LineTo(n ≥ 2), ClosePath(1).
fn geometry(kind: i32, g: &[u32]) -> Vec<Vec<[i64; 2]>> {
    let (mut x, mut y, mut i) = (0i64, 0i64, 0usize);
    let mut read = |i: &mut usize| {
        x += zigzag(g[*i]);
        y += zigzag(g[*i + 1]);
        *i += 2;
        [x, y]
    };
    let mut parts = Vec::new();
    match kind {
        POINT => {
            let (cmd, count) = (g[0] & 7, (g[0] >> 3) as usize);
            assert_eq!(cmd, 1, "a point starts with MoveTo: {g:?}");
            assert_eq!(g.len(), 1 + 2 * count, "{g:?}");
            i = 1;
            for _ in 0..count {
                parts.push(vec![read(&mut i)]);
            }
        }
        POLYGON => {
            while i < g.len() {
                assert_eq!(g[i], 9, "a ring starts with MoveTo(1): {g:?}");
                i += 1;
                let mut ring = vec![read(&mut i)];
                let (cmd, count) = (g[i] & 7, (g[i] >> 3) as usize);
                assert!(cmd == 2 && count >= 2, "then LineTo(n ≥ 2): {g:?}");
                i += 1;
                for _ in 0..count {
                    ring.push(read(&mut i));
                }
                assert_eq!(g[i], 15, "and ClosePath(1): {g:?}");
                i += 1;
                parts.push(ring);
            }
        }
        other => panic!("unexpected geometry type {other}"),
    }
    parts
}

/// Decodes a one-layer tile, checking the layer's header.
fn decode(bytes: &[u8], layer_name: &str) -> Vec<Decoded> {
    let tile = pb::Tile::decode(bytes).expect("a vector tile");
    assert_eq!(tile.layers.len(), 1);
    let layer = &tile.layers[0];
    assert_eq!(layer.name, layer_name);
    assert_eq!(layer.version, 2);
    assert_eq!(layer.extent, Some(4096));
    layer
        .features
        .iter()
        .map(|f| {
            assert_eq!(f.tags.len() % 2, 0);
            let props = f
                .tags
                .chunks(2)
                .map(|kv| {
                    (
                        layer.keys[kv[0] as usize].clone(),
                        layer.values[kv[1] as usize].clone(),
                    )
                })
                .collect();
            let kind = f.r#type.expect("geometry type");
            Decoded {
                id: f.id,
                kind,
                props,
                parts: geometry(kind, &f.geometry),
            }
        })
        .collect()
}

/// Twice a ring's signed area in tile coordinates (positive: clockwise
/// with y down, an exterior).
fn area2(ring: &[[i64; 2]]) -> i64 {
    (0..ring.len())
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

/// Position of a lon/lat on the zoom-`z` tile grid (fractional column, row).
fn mercator(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let phi = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x, y)
}

/// A tile: zoom, column, row.
#[derive(Debug, Clone, Copy)]
struct TileId {
    z: u8,
    x: u32,
    y: u32,
}

impl TileId {
    fn at(lon: f64, lat: f64, z: u8) -> TileId {
        let (x, y) = mercator(lon, lat, z);
        TileId {
            z,
            x: x.floor() as u32,
            y: y.floor() as u32,
        }
    }
    /// A lon/lat in this tile's coordinates (0..4096 inside).
    fn local(self, lon: f64, lat: f64) -> [f64; 2] {
        let (x, y) = mercator(lon, lat, self.z);
        [
            (x - f64::from(self.x)) * EXTENT,
            (y - f64::from(self.y)) * EXTENT,
        ]
    }
    fn path(self, collection: &str) -> String {
        format!(
            "/collections/{collection}/tiles/WebMercatorQuad/{}/{}/{}",
            self.z, self.y, self.x
        )
    }
}

/// Distance (tile units) of a tile-local position outside the buffered
/// tile; negative inside.
fn outside_by(p: [f64; 2]) -> f64 {
    let (lo, hi) = (-BUFFER, EXTENT + BUFFER);
    p.iter()
        .map(|&v| (lo - v).max(v - hi))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// One asset of the demo file.
struct DemoAsset {
    id: String,
    props: Value,
    /// The point, or every vertex of a polygon.
    coords: Vec<(f64, f64)>,
    is_point: bool,
}

fn demo_file(name: &str) -> Value {
    let path = format!("{}/data/demo/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).expect("demo file")).expect("GeoJSON")
}

fn positions(v: &Value, out: &mut Vec<(f64, f64)>) {
    match v.as_array() {
        Some(a) if a.first().is_some_and(Value::is_number) => {
            out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
        }
        Some(a) => a.iter().for_each(|x| positions(x, out)),
        None => {}
    }
}

/// Leisure polygons that are invalid as published and refused by the
/// importer (data/demo/README.md says why).
const INVALID_DEMO_POLYGONS: [&str; 3] = ["LC-4", "LC-5", "LC-11"];

fn demo_assets() -> Vec<DemoAsset> {
    demo_file("assets.geojson")["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !INVALID_DEMO_POLYGONS.contains(&f["properties"]["ref"].as_str().unwrap()))
        .map(|f| {
            let mut coords = Vec::new();
            positions(&f["geometry"]["coordinates"], &mut coords);
            DemoAsset {
                id: asset_id("trafford", f["properties"]["ref"].as_str().unwrap()),
                props: f["properties"].clone(),
                coords,
                is_point: f["geometry"]["type"] == "Point",
            }
        })
        .collect()
}

/// The demo's wards as (name, lon/lat polygons).
fn demo_wards() -> Vec<(String, MultiPolygon<f64>)> {
    demo_file("wards.geojson")["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let ring = |r: &Value| -> LineString<f64> {
                let mut c = Vec::new();
                positions(r, &mut c);
                c.into_iter().map(|(x, y)| Coord { x, y }).collect()
            };
            let polygon = |p: &Value| {
                let rings = p.as_array().unwrap();
                Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
            };
            let g = &f["geometry"];
            let mp = match g["type"].as_str().unwrap() {
                "Polygon" => MultiPolygon(vec![polygon(&g["coordinates"])]),
                _ => MultiPolygon(
                    g["coordinates"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(polygon)
                        .collect(),
                ),
            };
            (f["properties"]["name"].as_str().unwrap().to_string(), mp)
        })
        .collect()
}

/// GETs a tile: status, headers, body bytes.
async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

/// A fresh app holding the Trafford demo.
async fn with_demo(app: TestApp) -> TestApp {
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("load demo");
    app.restart().await
}

/// Places over Trafford the tiles are taken around: Stretford, Altrincham,
/// Sale, Old Trafford, and Trafford Park by the Ship Canal (the boundary).
const PLACES: [(f64, f64); 5] = [
    (-2.3125, 53.4466),
    (-2.3530, 53.3870),
    (-2.3190, 53.4240),
    (-2.2900, 53.4590),
    (-2.3200, 53.4700),
];

mod content;
mod service;
