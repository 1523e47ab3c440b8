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
//! One file: every test decodes tiles with the same protobuf reader and
//! brute-force references defined here.

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

async fn asset_tiles_match_brute_force(app: &TestApp, assets: &[DemoAsset]) -> usize {
    let mut checked = 0;
    for &(lon, lat) in &PLACES {
        for z in 12..=16u8 {
            let t = TileId::at(lon, lat, z);
            // Points: exactly the assets inside the buffered tile (those
            // within a hair of its edge may go either way).
            let mut sure = BTreeSet::new();
            let mut maybe = BTreeSet::new();
            for a in assets.iter().filter(|a| a.is_point) {
                let d = outside_by(t.local(a.coords[0].0, a.coords[0].1));
                if d < -1e-6 {
                    sure.insert(a.id.as_str());
                } else if d <= 1e-6 {
                    maybe.insert(a.id.as_str());
                }
            }
            let (status, headers, body) = fetch(app, &t.path("assets"), Some(ADMIN)).await;
            assert_eq!(headers["cache-control"], "max-age=60");
            if status == 204 {
                assert!(sure.is_empty(), "{t:?} is empty but should hold {sure:?}");
                assert!(body.is_empty());
                continue;
            }
            assert_eq!(status, 200, "{t:?}");
            assert_eq!(headers["content-type"], MVT);
            let features = decode(&body, "assets");
            let by_id: BTreeMap<&str, &DemoAsset> =
                assets.iter().map(|a| (a.id.as_str(), a)).collect();
            let mut got_points = BTreeSet::new();
            let mut feature_ids = BTreeSet::new();
            for f in &features {
                let id = f.text("id").expect("id property");
                let a = by_id
                    .get(id)
                    .unwrap_or_else(|| panic!("unknown asset {id}"));
                assert!(feature_ids.insert(f.id.expect("feature id")), "{t:?}");
                assert_eq!(f.text("kind"), a.props["kind"].as_str(), "{id}");
                assert_eq!(f.text("ref"), a.props["ref"].as_str(), "{id}");
                assert_eq!(f.text("status"), a.props["status"].as_str(), "{id}");
                assert_eq!(f.text("authority"), Some("trafford"));
                assert_eq!(
                    f.props["listed"].bool_value,
                    a.props["listed"].as_bool(),
                    "{id}"
                );
                assert!(f.props["in_conservation_area"].bool_value.is_some());
                if let Some(h) = a.props["height_m"].as_f64() {
                    assert_eq!(f.props["height_m"].double_value, Some(h), "{id}");
                }
                match f.kind {
                    POINT => {
                        assert!(a.is_point, "{id}");
                        got_points.insert(id);
                        let [px, py] = f.parts[0][0];
                        let want = t.local(a.coords[0].0, a.coords[0].1);
                        assert!(
                            (px as f64 - want[0]).abs() <= 1.0
                                && (py as f64 - want[1]).abs() <= 1.0,
                            "{id} at {px},{py}, expected {want:?}"
                        );
                    }
                    POLYGON => {
                        assert!(!a.is_point, "{id}");
                        // A building reaches into the buffered tile.
                        let (xs, ys): (Vec<f64>, Vec<f64>) = a
                            .coords
                            .iter()
                            .map(|&(lo, la)| {
                                let p = t.local(lo, la);
                                (p[0], p[1])
                            })
                            .unzip();
                        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
                        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        assert!(max(&xs) >= -BUFFER && min(&xs) <= EXTENT + BUFFER, "{id}");
                        assert!(max(&ys) >= -BUFFER && min(&ys) <= EXTENT + BUFFER, "{id}");
                        check_rings(&f.parts, &format!("{id} in {t:?}"));
                    }
                    other => panic!("geometry type {other}"),
                }
            }
            assert!(
                sure.is_subset(&got_points),
                "{t:?}: missing {:?}",
                sure.difference(&got_points).take(5).collect::<Vec<_>>()
            );
            let extra: Vec<_> = got_points
                .iter()
                .filter(|id| !sure.contains(*id) && !maybe.contains(*id))
                .take(5)
                .collect();
            assert!(extra.is_empty(), "{t:?}: unexpected {extra:?}");
            checked += usize::from(!sure.is_empty());
        }
    }
    checked
}

/// Every ring lies in the buffered tile, has 3+ distinct vertices and
/// area; each polygon starts with an exterior (positive area).
fn check_rings(rings: &[Vec<[i64; 2]>], what: &str) {
    assert!(
        area2(&rings[0]) > 0,
        "{what}: first ring is not an exterior"
    );
    for r in rings {
        assert!(r.len() >= 3, "{what}");
        assert_ne!(area2(r), 0, "{what}");
        for p in r {
            let (lo, hi) = (-BUFFER as i64, (EXTENT + BUFFER) as i64);
            assert!(
                (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1]),
                "{what}: {p:?}"
            );
        }
    }
}

/// Ward tiles: each ward's decoded area matches geo's intersection of the
/// ward (projected by the formula above) with the buffered tile.
async fn ward_tiles_match_intersections(app: &TestApp, wards: &[(String, MultiPolygon<f64>)]) {
    for &(lon, lat) in &PLACES {
        for z in [11u8, 13, 15] {
            let t = TileId::at(lon, lat, z);
            let window = Polygon::new(
                LineString::from(vec![
                    (-BUFFER, -BUFFER),
                    (EXTENT + BUFFER, -BUFFER),
                    (EXTENT + BUFFER, EXTENT + BUFFER),
                    (-BUFFER, EXTENT + BUFFER),
                    (-BUFFER, -BUFFER),
                ]),
                vec![],
            );
            let mut expected: BTreeMap<&str, f64> = BTreeMap::new();
            for (name, mp) in wards {
                let local = mp.map_coords_local(t);
                let area = local
                    .intersection(&MultiPolygon(vec![window.clone()]))
                    .unsigned_area();
                if area > 0.0 {
                    expected.insert(name, area);
                }
            }
            let (status, _, body) = fetch(app, &t.path("wards"), Some(ADMIN)).await;
            assert_eq!(status, 200, "{t:?}");
            let features = decode(&body, "wards");
            let mut got: BTreeMap<&str, f64> = BTreeMap::new();
            for f in &features {
                assert_eq!(f.kind, POLYGON);
                assert_eq!(f.text("authority"), Some("trafford"));
                let name = f.text("name").expect("name");
                let key = expected
                    .keys()
                    .find(|k| **k == name)
                    .unwrap_or_else(|| panic!("{name} does not reach {t:?}"));
                check_rings(&f.parts, &format!("{name} in {t:?}"));
                let signed: i64 = f.parts.iter().map(|r| area2(r)).sum();
                got.insert(key, signed as f64 / 2.0);
            }
            // Simplification moves edges by at most 4 units: allow 1% of
            // the window and 2% of each ward's share.
            let window_area = (EXTENT + 2.0 * BUFFER).powi(2);
            for (name, want) in &expected {
                let have = got.get(name).copied().unwrap_or(0.0);
                assert!(
                    (have - want).abs() <= 0.02 * want + 0.01 * window_area,
                    "{name} in {t:?}: area {have}, expected {want}"
                );
            }
            let total: f64 = got.values().sum();
            let want_total: f64 = expected.values().sum();
            assert!(
                (total - want_total).abs() <= 0.01 * window_area,
                "{t:?}: {total} vs {want_total}"
            );
        }
    }
}

/// Projects lon/lat polygons into a tile's coordinates.
trait Local {
    fn map_coords_local(&self, t: TileId) -> MultiPolygon<f64>;
}

impl Local for MultiPolygon<f64> {
    fn map_coords_local(&self, t: TileId) -> MultiPolygon<f64> {
        use geo::MapCoords;
        self.map_coords(|c| {
            let p = t.local(c.x, c.y);
            Coord { x: p[0], y: p[1] }
        })
    }
}

/// Side of a thinning cell below z12 (a pixel of a 256-pixel tile).
const THIN_CELL: f64 = 16.0;

/// The thinning cell of a tile-local position, or `None` when rounding to
/// whole tile units could put it in either of two cells.
fn thin_cell(p: [f64; 2]) -> Option<(i64, i64)> {
    let cell = |v: f64| ((v + 0.5).floor() + BUFFER).div_euclid(THIN_CELL) as i64;
    let either = |v: f64| cell(v - 0.01) != cell(v + 0.01);
    (!either(p[0]) && !either(p[1])).then(|| (cell(p[0]), cell(p[1])))
}

/// Below z12 a tile holds one point per 16-unit cell: exactly the cells
/// the brute-force points fall in, each once, each the lowest id there.
async fn low_zoom_tiles_are_thinned_to_one_point_per_cell(app: &TestApp, assets: &[DemoAsset]) {
    let mut thinned = 0;
    for &(lon, lat) in &PLACES[..2] {
        for z in 8..=11u8 {
            let t = TileId::at(lon, lat, z);
            // Brute force: per cell, the ids of the points in it.
            let mut want: BTreeMap<(i64, i64), BTreeSet<&str>> = BTreeMap::new();
            let mut unsure = BTreeSet::new();
            let mut points = 0;
            for a in assets.iter().filter(|a| a.is_point) {
                let p = t.local(a.coords[0].0, a.coords[0].1);
                let d = outside_by(p);
                if d > 1e-6 {
                    continue;
                }
                points += 1;
                match thin_cell(p).filter(|_| d < -1e-6) {
                    Some(cell) => {
                        want.entry(cell).or_default().insert(a.id.as_str());
                    }
                    None => {
                        unsure.insert(a.id.as_str());
                    }
                }
            }
            let (status, _, body) = fetch(app, &t.path("assets"), Some(ADMIN)).await;
            assert_eq!(status, 200, "{t:?}");
            let mut got: BTreeMap<(i64, i64), &str> = BTreeMap::new();
            let features = decode(&body, "assets");
            for f in features.iter().filter(|f| f.kind == POINT) {
                let [x, y] = f.parts[0][0];
                let cell = (
                    (x as f64 + BUFFER).div_euclid(THIN_CELL) as i64,
                    (y as f64 + BUFFER).div_euclid(THIN_CELL) as i64,
                );
                let id = f.text("id").expect("id property");
                assert!(
                    got.insert(cell, id).is_none(),
                    "{t:?}: two points in {cell:?}"
                );
            }
            for (cell, ids) in &want {
                let kept = got
                    .get(cell)
                    .unwrap_or_else(|| panic!("{t:?}: {cell:?} lost"));
                assert!(
                    ids.first() == Some(kept) || unsure.contains(kept),
                    "{t:?}: {cell:?} kept {kept}, the lowest id there is {ids:?}"
                );
            }
            for (cell, id) in &got {
                assert!(
                    want.contains_key(cell) || unsure.contains(id),
                    "{t:?}: {id}"
                );
            }
            assert!(got.len() <= points, "{t:?}");
            thinned += usize::from(got.len() < points);
        }
    }
    assert!(thinned >= 4, "only {thinned} tiles were thinned");
}

on_both_databases!(demo_tiles_match_brute_force, |app: TestApp| async move {
    let app = with_demo(app).await;
    let assets = demo_assets();
    assert_eq!(assets.len(), 17_108);
    // Most of these tiles hold assets (a z16 tile by the canal has none).
    let checked = asset_tiles_match_brute_force(&app, &assets).await;
    assert!(checked >= 20, "only {checked} tiles held assets");
    low_zoom_tiles_are_thinned_to_one_point_per_cell(&app, &assets).await;
    ward_tiles_match_intersections(&app, &demo_wards()).await;
});

/// Runs `ogrinfo`, or `None` (and a note) when GDAL is not installed.
fn ogrinfo(args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new("ogrinfo").args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::helpers::missing_prerequisite("ogrinfo (apt-get install gdal-bin)");
            None
        }
        Err(e) => panic!("running ogrinfo: {e}"),
    }
}

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
            ogrinfo(&["-ro", "-al", "-so", "-oo", &zs, "-oo", &xs, "-oo", &ys, &f])
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
