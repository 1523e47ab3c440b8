//! Vector tiles (OGC API - Tiles, Mapbox Vector Tile) for web maps.
//!
//! `GET /collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}` builds one
//! tile per request from the in-memory indexes: the tile's lon/lat bounds
//! (grown by [`BUFFER`]) query the R-tree, points are written as points,
//! polygons are clipped to the buffered tile, simplified to about a pixel
//! and written with MVT's winding (exterior clockwise in tile coordinates,
//! y down). One layer per tile, named after the collection. A tile with no
//! feature is `204 No Content`.
//!
//! Boundary polygons change rarely, so their Web Mercator projection and an
//! R-tree over every authority's areas per layer are built once per
//! published area index and reused by every tile until the next one.

use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Coord, Geometry, LineString, MultiPolygon, Polygon, Rect, Simplify};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde_json::{Value, json};

use super::{JSON, Source, base_url, find_collection, json_response, link};
use crate::domain::area::AreaLayer;
use crate::domain::asset::Asset;
use crate::http::auth::Reader;
use crate::http::{ApiError, ApiResult, AppState};
use crate::index::Snapshot;
use crate::index::areas::AreaIndex;

/// Media type of a Mapbox Vector Tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The one tile matrix set offered.
pub const TILE_MATRIX_SET: &str = "WebMercatorQuad";
/// Its OGC definition.
pub const TILE_MATRIX_SET_URI: &str =
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
/// Link relation from a collection to its vector tilesets.
pub const REL_TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";
const REL_GEODATA: &str = "http://www.opengis.net/def/rel/ogc/1.0/geodata";
const CRS_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";

/// Tile coordinates run 0..EXTENT across a tile.
pub const EXTENT: u32 = 4096;
/// Features this far outside the tile (tile units) are still written, so
/// symbols drawn at an edge are not cut: 64, as MapLibre's own GeoJSON
/// tiler uses (8 CSS pixels of a tile drawn 512 pixels wide).
pub const BUFFER: f64 = 64.0;
/// Douglas-Peucker tolerance in tile units: a device pixel of a tile drawn
/// 512 CSS pixels wide on a high-density (2×) screen.
pub const SIMPLIFY: f64 = 4.0;
/// Deepest zoom level served (WebMercatorQuad defines 0..=24).
pub const MAX_ZOOM: u8 = 24;
/// Tiles change whenever the register does, so caches may keep them briefly.
const CACHE_CONTROL: &str = "max-age=60";
/// Latitudes are clamped here before projecting: the poles project to
/// infinity, and anything past ±85.05° falls outside every tile anyway.
const MAX_LAT: f64 = 89.999;

/// One tile of WebMercatorQuad: zoom `z`, column `x`, row `y` (row 0 at
/// the north edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    /// Zoom level (tile matrix), 0..=24.
    pub z: u8,
    /// Column, 0..2^z, west to east.
    pub x: u32,
    /// Row, 0..2^z, north to south.
    pub y: u32,
}

impl TileId {
    /// A tile, or `None` when `z > 24` or `x`, `y` are off the matrix.
    pub fn new(z: u8, x: u32, y: u32) -> Option<TileId> {
        let n = 1u64 << z.min(MAX_ZOOM);
        (z <= MAX_ZOOM && u64::from(x) < n && u64::from(y) < n).then_some(TileId { z, x, y })
    }

    /// Parses path segments `{z}/{y}/{x}`; the error says what is wrong.
    pub fn parse(z: &str, y: &str, x: &str) -> Result<TileId, String> {
        fn number(name: &str, v: &str) -> Result<u32, String> {
            // Digits only: no sign, spaces or exponent.
            if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{name} {v:?} must be a non-negative integer"));
            }
            v.parse()
                .map_err(|_| format!("{name} {v:?} must be a non-negative integer"))
        }
        let (zn, yn, xn) = (
            number("tileMatrix", z)?,
            number("tileRow", y)?,
            number("tileCol", x)?,
        );
        if zn > u32::from(MAX_ZOOM) {
            return Err(format!(
                "tileMatrix {zn} is not in WebMercatorQuad (0 to {MAX_ZOOM})"
            ));
        }
        let n = 1u64 << zn;
        for (name, v) in [("tileRow", yn), ("tileCol", xn)] {
            if u64::from(v) >= n {
                return Err(format!(
                    "{name} {v} is off tile matrix {zn} (0 to {})",
                    n - 1
                ));
            }
        }
        Ok(TileId {
            z: zn as u8,
            x: xn,
            y: yn,
        })
    }

    /// Tiles across the matrix at this zoom.
    fn n(self) -> f64 {
        (1u64 << self.z) as f64
    }

    /// The buffered tile in world coordinates, clamped to the world.
    fn world_bounds(self) -> [f64; 4] {
        let (n, b) = (self.n(), BUFFER / f64::from(EXTENT));
        let clamp = |v: f64| v.clamp(0.0, 1.0);
        [
            clamp((f64::from(self.x) - b) / n),
            clamp((f64::from(self.y) - b) / n),
            clamp((f64::from(self.x) + 1.0 + b) / n),
            clamp((f64::from(self.y) + 1.0 + b) / n),
        ]
    }

    /// The buffered tile as a lon/lat rectangle, a hair larger than exact
    /// so that rounding in the inverse projection never loses a feature;
    /// the exact test is done in tile coordinates.
    pub fn lonlat_bounds(self) -> Rect<f64> {
        let [x0, y0, x1, y1] = self.world_bounds();
        let lon = |wx: f64| wx * 360.0 - 180.0;
        let lat = |wy: f64| {
            if wy <= 0.0 {
                90.0
            } else if wy >= 1.0 {
                -90.0
            } else {
                (PI * (1.0 - 2.0 * wy)).sinh().atan().to_degrees()
            }
        };
        let pad = 1e-9;
        Rect::new(
            (lon(x0) - pad, lat(y1) - pad),
            (lon(x1) + pad, lat(y0) + pad),
        )
    }

    /// World coordinates to this tile's coordinates.
    fn to_tile(self, w: [f64; 2]) -> [f64; 2] {
        let scale = self.n() * f64::from(EXTENT);
        [
            w[0] * scale - f64::from(self.x) * f64::from(EXTENT),
            w[1] * scale - f64::from(self.y) * f64::from(EXTENT),
        ]
    }
}

/// Web Mercator world coordinates of a lon/lat: x and y in 0..1, y down
/// (0 at 85.05°N), as WebMercatorQuad lays its tiles out.
pub fn world(lon: f64, lat: f64) -> [f64; 2] {
    let s = lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    [
        (lon + 180.0) / 360.0,
        0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * PI),
    ]
}

/// Whether a tile-coordinate position lies in the buffered tile.
fn in_buffered_tile(p: [f64; 2]) -> bool {
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1])
}

/// A stable feature id for a string id: FNV-1a, cut to 53 bits so that
/// JavaScript numbers (MapLibre's feature state) hold it exactly. The
/// `id` property carries the real id.
fn feature_id(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h & ((1 << 53) - 1)
}

/// Clips a ring (unclosed, tile coordinates) to the buffered tile with
/// Sutherland-Hodgman, one window edge at a time. Parts of the ring outside
/// become runs along the window's edge, which MVT renderers accept.
fn clip_ring(ring: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    let mut pts = ring;
    // (axis, bound, keep the side above the bound)
    for (axis, bound, above) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        let Some(&last) = pts.last() else {
            break;
        };
        let inside = |p: [f64; 2]| {
            if above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let cross = |a: [f64; 2], b: [f64; 2]| {
            let t = (bound - a[axis]) / (b[axis] - a[axis]);
            let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
            p[axis] = bound;
            p
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        let mut prev = last;
        for &cur in &pts {
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
        pts = out;
    }
    pts
}

/// Twice the signed area of an integer ring (shoelace). Positive is
/// clockwise on screen (y down): an MVT exterior ring.
fn area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

/// A ring as MVT wants it: clipped, simplified, on the integer grid, with
/// no repeated vertex and no closing copy, wound as an exterior (clockwise
/// in tile coordinates) or a hole. `None` when nothing of area is left.
fn tile_ring(
    ring: &LineString<f64>,
    to_tile: &impl Fn(Coord<f64>) -> [f64; 2],
    exterior: bool,
) -> Option<Vec<[i32; 2]>> {
    let coords = &ring.0;
    let open = match coords.as_slice() {
        [rest @ .., last] if coords.len() > 1 && coords[0] == *last => rest,
        all => all,
    };
    let pts: Vec<[f64; 2]> = open.iter().map(|&c| to_tile(c)).collect();
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    let within = |p: &[f64; 2]| (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1]);
    let pts = if pts.iter().all(within) {
        pts
    } else {
        clip_ring(pts)
    };
    if pts.len() < 3 {
        return None;
    }
    let mut closed: Vec<Coord<f64>> = pts.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    closed.push(closed[0]);
    let simple = LineString(closed).simplify(SIMPLIFY);
    let mut out: Vec<[i32; 2]> = Vec::with_capacity(simple.0.len());
    for c in &simple.0 {
        // Within ±2^13 of the tile after clipping, so the cast is exact.
        let p = [c.x.round() as i32, c.y.round() as i32];
        if out.last() == Some(&p) {
            continue;
        }
        // A vertex midway along a horizontal or vertical run (rounding
        // and clipping leave them) adds bytes, not shape.
        if let [.., a, b] = out[..]
            && ((a[0] == b[0] && b[0] == p[0] && (a[1] < b[1]) == (b[1] < p[1]))
                || (a[1] == b[1] && b[1] == p[1] && (a[0] < b[0]) == (b[0] < p[0])))
        {
            out.pop();
        }
        out.push(p);
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    let a = area2(&out);
    if out.len() < 3 || a == 0 {
        return None;
    }
    if (a > 0) != exterior {
        out.reverse();
    }
    Some(out)
}

/// The rings of `polygons` in the tile, each polygon's exterior followed by
/// its holes; polygons whose exterior vanishes are dropped with their holes.
fn tile_polygons<'a>(
    polygons: impl IntoIterator<Item = &'a Polygon<f64>>,
    to_tile: &impl Fn(Coord<f64>) -> [f64; 2],
) -> Vec<Vec<[i32; 2]>> {
    let mut rings = Vec::new();
    for p in polygons {
        let Some(ext) = tile_ring(p.exterior(), to_tile, true) else {
            continue;
        };
        rings.push(ext);
        rings.extend(
            p.interiors()
                .iter()
                .filter_map(|r| tile_ring(r, to_tile, false)),
        );
    }
    rings
}

/// Protobuf wire types used by the vector tile messages.
const LEN: u32 = 2;
const VARINT: u32 = 0;
const I64: u32 = 1;

/// Appends `v` as a protobuf varint.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes `v` takes as a varint.
fn varint_len(v: u64) -> usize {
    // 1 byte per started 7 bits, at least 1.
    (64 - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// Appends a field key (field number and wire type).
fn put_key(out: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(out, u64::from(field << 3 | wire));
}

/// Appends a length-delimited field holding `bytes`.
fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a packed repeated `uint32` field (omitted when empty).
fn put_packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    if values.is_empty() {
        return;
    }
    put_key(out, field, LEN);
    let len: usize = values.iter().map(|&v| varint_len(u64::from(v))).sum();
    put_varint(out, len as u64);
    for &v in values {
        put_varint(out, u64::from(v));
    }
}

/// MVT geometry commands (vector_tile.proto, section 4.3).
const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;
/// `Feature.type` values.
const POINT: u32 = 1;
const POLYGON: u32 = 3;

fn command(id: u32, count: u32) -> u32 {
    id | count << 3
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Writes geometry commands, each position relative to the previous one
/// as MVT requires.
#[derive(Default)]
struct GeomWriter {
    data: Vec<u32>,
    cursor: [i32; 2],
}

impl GeomWriter {
    fn clear(&mut self) {
        self.data.clear();
        self.cursor = [0, 0];
    }

    fn param(&mut self, p: [i32; 2]) {
        // Tile coordinates stay within ±2^13 of the tile, so no overflow.
        self.data.push(zigzag(p[0] - self.cursor[0]));
        self.data.push(zigzag(p[1] - self.cursor[1]));
        self.cursor = p;
    }

    fn point(&mut self, p: [i32; 2]) {
        self.data.push(command(MOVE_TO, 1));
        self.param(p);
    }

    /// One ring (at least 3 vertices, no closing copy): every ring gets its
    /// own MoveTo, even one starting where the previous ring ended.
    fn ring(&mut self, ring: &[[i32; 2]]) {
        self.data.push(command(MOVE_TO, 1));
        self.param(ring[0]);
        self.data.push(command(LINE_TO, (ring.len() - 1) as u32));
        for &p in &ring[1..] {
            self.param(p);
        }
        self.data.push(command(CLOSE_PATH, 1));
    }
}

/// The value of one feature property. Strings borrow from the data the
/// tile is built from, so the layer's value table needs no copies.
#[derive(Clone, Copy)]
enum Val<'a> {
    Str(&'a str),
    Double(f64),
    Bool(bool),
}

/// FNV-1a for the value tables' hash maps: the keys are short strings and
/// numbers from our own data, where SipHash's flooding defence only costs.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K> = HashMap<K, u32, std::hash::BuildHasherDefault<Fnv>>;

/// Builds one MVT layer straight into protobuf bytes. Keys are a fixed
/// list given up front, entered in the layer's key table on first use;
/// values are deduplicated by type and value, as the spec asks.
struct LayerWriter<'a> {
    name: &'a str,
    keys: &'static [&'static str],
    /// Per entry of `keys`, its index in the layer's key table (or MAX).
    key_index: Vec<u32>,
    key_count: u32,
    key_bytes: Vec<u8>,
    value_count: u32,
    value_bytes: Vec<u8>,
    strings: FnvMap<&'a str>,
    doubles: FnvMap<u64>,
    bools: [u32; 2],
    features: usize,
    feature_bytes: Vec<u8>,
    /// Scratch for the feature being written, reused.
    tags: Vec<u32>,
    body: Vec<u8>,
    geom: GeomWriter,
}

impl<'a> LayerWriter<'a> {
    fn new(name: &'a str, keys: &'static [&'static str]) -> LayerWriter<'a> {
        LayerWriter {
            name,
            keys,
            key_index: vec![u32::MAX; keys.len()],
            key_count: 0,
            key_bytes: Vec::new(),
            value_count: 0,
            value_bytes: Vec::new(),
            strings: FnvMap::default(),
            doubles: FnvMap::default(),
            bools: [u32::MAX; 2],
            features: 0,
            feature_bytes: Vec::new(),
            tags: Vec::new(),
            body: Vec::new(),
            geom: GeomWriter::default(),
        }
    }

    /// Appends a `Value` message to the layer's value table.
    fn push_value(&mut self, v: Val<'a>) -> u32 {
        let mut inner = [0u8; 10];
        let out = &mut self.value_bytes;
        match v {
            Val::Str(s) => {
                let len = 1 + varint_len(s.len() as u64) + s.len();
                put_key(out, 4, LEN);
                put_varint(out, len as u64);
                put_bytes(out, 1, s.as_bytes());
            }
            Val::Double(d) => {
                inner[0] = (3 << 3 | I64) as u8;
                inner[1..9].copy_from_slice(&d.to_le_bytes());
                put_bytes(out, 4, &inner[..9]);
            }
            Val::Bool(b) => {
                inner[0] = (7 << 3 | VARINT) as u8;
                inner[1] = u8::from(b);
                put_bytes(out, 4, &inner[..2]);
            }
        }
        self.value_count += 1;
        self.value_count - 1
    }

    /// Adds property `key` (an index into the `keys` given) to the feature
    /// being written.
    fn tag(&mut self, key: usize, v: Val<'a>) {
        let mut k = self.key_index[key];
        if k == u32::MAX {
            k = self.key_count;
            self.key_count += 1;
            self.key_index[key] = k;
            put_bytes(&mut self.key_bytes, 3, self.keys[key].as_bytes());
        }
        let found = match v {
            Val::Str(s) => self.strings.get(s).copied(),
            Val::Double(d) => self.doubles.get(&d.to_bits()).copied(),
            Val::Bool(b) => Some(self.bools[usize::from(b)]).filter(|&i| i != u32::MAX),
        };
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.push_value(v);
                match v {
                    Val::Str(s) => {
                        self.strings.insert(s, i);
                    }
                    Val::Double(d) => {
                        self.doubles.insert(d.to_bits(), i);
                    }
                    Val::Bool(b) => self.bools[usize::from(b)] = i,
                }
                i
            }
        };
        self.tags.push(k);
        self.tags.push(i);
    }

    /// Writes the feature whose geometry is in `self.geom` and whose
    /// properties were added with [`LayerWriter::tag`], then clears both.
    fn finish_feature(&mut self, id: u64, kind: u32) {
        let body = &mut self.body;
        body.clear();
        put_key(body, 1, VARINT);
        put_varint(body, id);
        put_packed(body, 2, &self.tags);
        put_key(body, 3, VARINT);
        put_varint(body, u64::from(kind));
        put_packed(body, 4, &self.geom.data);
        put_bytes(&mut self.feature_bytes, 2, body);
        self.features += 1;
        self.tags.clear();
        self.geom.clear();
    }

    /// The tile holding this one layer, or `None` when it has no feature.
    fn into_tile(self) -> Option<Vec<u8>> {
        if self.features == 0 {
            return None;
        }
        let mut tail = Vec::with_capacity(8);
        put_key(&mut tail, 5, VARINT);
        put_varint(&mut tail, u64::from(EXTENT));
        put_key(&mut tail, 15, VARINT);
        put_varint(&mut tail, 2);
        let name_len = 1 + varint_len(self.name.len() as u64) + self.name.len();
        let layer_len = name_len
            + self.feature_bytes.len()
            + self.key_bytes.len()
            + self.value_bytes.len()
            + tail.len();
        let mut out = Vec::with_capacity(layer_len + 6);
        put_key(&mut out, 3, LEN);
        put_varint(&mut out, layer_len as u64);
        put_bytes(&mut out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.feature_bytes);
        out.extend_from_slice(&self.key_bytes);
        out.extend_from_slice(&self.value_bytes);
        out.extend_from_slice(&tail);
        debug_assert_eq!(out.len(), layer_len + 1 + varint_len(layer_len as u64));
        Some(out)
    }
}

/// Below this zoom a tile spans 10 km or more and a map can show no more
/// than one point per pixel, so points are thinned to one per
/// [`THIN_CELL`]-unit square (a pixel of a 256-pixel tile): a client such as
/// QGIS zoomed out over a register of a million assets gets a tile it can
/// draw, not every asset. `/map` shows assets from this zoom on, where
/// every asset is in its tile.
pub const THIN_BELOW_ZOOM: u8 = 12;
/// Side of a thinning cell in tile units.
pub const THIN_CELL: i32 = 16;
/// Cells per side of the buffered tile.
const THIN_SIDE: usize = ((EXTENT as i32 + 2 * BUFFER as i32) / THIN_CELL + 1) as usize;

/// Which thinning cells of a tile already hold a point.
struct Cells(Vec<u64>);

impl Cells {
    fn new() -> Cells {
        Cells(vec![0; (THIN_SIDE * THIN_SIDE).div_ceil(64)])
    }

    /// Marks the cell of `p` (in the buffered tile); false if it was taken.
    fn take(&mut self, p: [i32; 2]) -> bool {
        let cell = |v: i32| ((v + BUFFER as i32) / THIN_CELL) as usize;
        let i = cell(p[1]) * THIN_SIDE + cell(p[0]);
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let free = self.0[word] & bit == 0;
        self.0[word] |= bit;
        free
    }
}

/// Writes the geometry of an asset in tile `t` into `geom` and returns its
/// `Feature.type`, or `None` (writing nothing) when none of it is in the
/// buffered tile, or when it is a point in a cell of `thin` already taken.
fn asset_geometry(
    asset: &Asset,
    t: TileId,
    geom: &mut GeomWriter,
    thin: Option<&mut Cells>,
) -> Option<u32> {
    let to_tile = |c: Coord<f64>| t.to_tile(world(c.x, c.y));
    match &asset.details.geometry {
        Geometry::Point(p) => {
            let q = to_tile(p.0);
            if !in_buffered_tile(q) {
                return None;
            }
            // Within the buffered tile, so the casts are exact.
            let q = [q[0].round() as i32, q[1].round() as i32];
            if thin.is_some_and(|cells| !cells.take(q)) {
                return None;
            }
            geom.point(q);
            Some(POINT)
        }
        Geometry::Polygon(p) => polygon_geometry(&tile_polygons([p], &to_tile), geom),
        Geometry::MultiPolygon(m) => polygon_geometry(&tile_polygons(&m.0, &to_tile), geom),
        // Validation admits no other geometry for assets.
        _ => None,
    }
}

fn polygon_geometry(rings: &[Vec<[i32; 2]>], geom: &mut GeomWriter) -> Option<u32> {
    if rings.is_empty() {
        return None;
    }
    for r in rings {
        geom.ring(r);
    }
    Some(POLYGON)
}

/// Property keys of the `assets` layer, in the order features list them.
const ASSET_KEYS: &[&str] = &[
    "id",
    "kind",
    "status",
    "authority",
    "ref",
    "height_m",
    "power_supply",
    "ward",
    "in_conservation_area",
    "listed",
];

/// The `assets` tile `t` of a snapshot as MVT bytes, one layer named
/// `layer`, or `None` when no asset falls in the buffered tile. Below
/// [`THIN_BELOW_ZOOM`] points are thinned to one per pixel.
pub fn assets_tile(snap: &Snapshot, layer: &str, t: TileId) -> Option<Vec<u8>> {
    let mut out = LayerWriter::new(layer, ASSET_KEYS);
    let bounds = t.lonlat_bounds();
    let mut cells = (t.z < THIN_BELOW_ZOOM).then(Cells::new);
    // In id order, so the point kept in a thinned cell is the lowest id.
    for l in snap.query(Some(std::slice::from_ref(&bounds)), |_| true) {
        let a = &l.asset;
        let Some(kind) = asset_geometry(a, t, &mut out.geom, cells.as_mut()) else {
            continue;
        };
        let d = &a.details;
        out.tag(0, Val::Str(&a.id));
        out.tag(1, Val::Str(d.kind.as_str()));
        out.tag(2, Val::Str(d.status.as_str()));
        out.tag(3, Val::Str(&a.authority));
        out.tag(4, Val::Str(&d.asset_ref));
        if let Some(h) = d.height_m {
            out.tag(5, Val::Double(h));
        }
        out.tag(6, Val::Str(d.power_supply.as_str()));
        if let Some(w) = &a.placement.ward {
            out.tag(7, Val::Str(w));
        }
        out.tag(8, Val::Bool(a.placement.in_conservation_area));
        out.tag(9, Val::Bool(d.listed));
        out.finish_feature(feature_id(&a.id), kind);
    }
    out.into_tile()
}

/// An area's world-coordinate envelope and its position in `AreaIndex::areas`.
type AreaSlot = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Boundary polygons prepared for tiling: projected to world coordinates
/// once, with an R-tree per layer over every authority's areas.
struct AreaTiles {
    /// The area index these were built from.
    source: Arc<AreaIndex>,
    trees: HashMap<AreaLayer, RTree<AreaSlot>>,
    /// Per area (same order as `AreaIndex::areas`), its world geometry.
    world: Vec<MultiPolygon<f64>>,
}

impl AreaTiles {
    fn build(index: &Arc<AreaIndex>) -> AreaTiles {
        let project = |ring: &LineString<f64>| -> LineString<f64> {
            ring.0
                .iter()
                .map(|c| {
                    let w = world(c.x, c.y);
                    Coord { x: w[0], y: w[1] }
                })
                .collect()
        };
        let world_geoms: Vec<MultiPolygon<f64>> = index
            .areas()
            .iter()
            .map(|a| {
                a.geometry
                    .0
                    .iter()
                    .map(|p| {
                        Polygon::new(
                            project(p.exterior()),
                            p.interiors().iter().map(project).collect(),
                        )
                    })
                    .collect()
            })
            .collect();
        let mut grouped: HashMap<AreaLayer, Vec<_>> = HashMap::new();
        for (i, (a, g)) in index.areas().iter().zip(&world_geoms).enumerate() {
            if let Some(r) = g.bounding_rect() {
                let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                grouped
                    .entry(a.layer)
                    .or_default()
                    .push(GeomWithData::new(rect, i));
            }
        }
        AreaTiles {
            source: Arc::clone(index),
            trees: grouped
                .into_iter()
                .map(|(k, v)| (k, RTree::bulk_load(v)))
                .collect(),
            world: world_geoms,
        }
    }
}

/// The prepared boundaries of the newest area index seen.
static AREA_TILES: Mutex<Option<Arc<AreaTiles>>> = Mutex::new(None);

fn area_tiles(index: &Arc<AreaIndex>) -> Arc<AreaTiles> {
    if let Ok(cache) = AREA_TILES.lock()
        && let Some(t) = cache.as_ref()
        && Arc::ptr_eq(&t.source, index)
    {
        return Arc::clone(t);
    }
    let built = Arc::new(AreaTiles::build(index));
    if let Ok(mut cache) = AREA_TILES.lock() {
        *cache = Some(Arc::clone(&built));
    }
    built
}

/// The tile `t` of one boundary layer as MVT bytes, one layer named
/// `name`, or `None` when no area of the layer reaches the buffered tile.
pub fn areas_tile(
    index: &Arc<AreaIndex>,
    layer: AreaLayer,
    name: &str,
    t: TileId,
) -> Option<Vec<u8>> {
    let prepared = area_tiles(index);
    let tree = prepared.trees.get(&layer)?;
    let mut out = LayerWriter::new(name, AREA_KEYS);
    let [x0, y0, x1, y1] = t.world_bounds();
    let env = AABB::from_corners([x0, y0], [x1, y1]);
    let mut hits: Vec<usize> = tree
        .locate_in_envelope_intersecting(&env)
        .map(|s| s.data)
        .collect();
    hits.sort_unstable();
    let to_tile = |c: Coord<f64>| t.to_tile([c.x, c.y]);
    for i in hits {
        let rings = tile_polygons(&prepared.world[i].0, &to_tile);
        let Some(kind) = polygon_geometry(&rings, &mut out.geom) else {
            continue;
        };
        let a = &prepared.source.areas()[i];
        out.tag(0, Val::Str(&a.name));
        out.tag(1, Val::Str(&a.authority));
        out.finish_feature(u64::try_from(a.id).unwrap_or_default(), kind);
    }
    out.into_tile()
}

/// Property keys of the boundary layers.
const AREA_KEYS: &[&str] = &["name", "authority"];

fn check_tile_matrix_set(tms: &str) -> ApiResult<()> {
    if tms == TILE_MATRIX_SET {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "tile matrix set {tms:?} not found; this service offers {TILE_MATRIX_SET}"
        )))
    }
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}`.
#[utoipa::path(get, path = "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas"), ("tileMatrixSetId" = String, Path, description = "WebMercatorQuad"),
        ("tileMatrix" = u8, Path, description = "Zoom level", minimum = 0, maximum = 24),
        ("tileRow" = u32, Path, description = "Row, 0 at the north edge"),
        ("tileCol" = u32, Path, description = "Column, 0 at 180°W")),
    responses(
        (status = 200, description = "A Mapbox Vector Tile with one layer named after the collection", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 204, description = "No features in this tile"),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tile(
    State(state): State<AppState>,
    _reader: Reader,
    Path((id, tms, z, y, x)): Path<(String, String, String, String, String)>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    check_tile_matrix_set(&tms)?;
    let t = TileId::parse(&z, &y, &x).map_err(ApiError::BadRequest)?;
    let bytes = match c.source {
        Source::Assets => assets_tile(&state.register.assets().snapshot(), c.id, t),
        Source::Areas(layer) => areas_tile(&state.register.areas(), layer, c.id, t),
    };
    let mut r = match bytes {
        Some(b) => {
            let mut r = (StatusCode::OK, b).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
            r
        }
        None => StatusCode::NO_CONTENT.into_response(),
    };
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(r)
}

/// A tileset's links and identity, shared by the list and the tileset.
fn tileset_summary(base: &str, id: &str, title: &str) -> Value {
    let href = format!("{base}/collections/{id}/tiles/{TILE_MATRIX_SET}");
    json!({
        "title": format!("{title} (vector tiles)"),
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": TILE_MATRIX_SET_URI,
        "links": [
            link(href, "self", JSON, "This tileset"),
            // Served here (`tms.rs`), so clients need not reach the OGC's site.
            link(format!("{base}/tileMatrixSets/{TILE_MATRIX_SET}"), REL_TILING_SCHEME, JSON, "The WebMercatorQuad tile matrix set"),
        ],
    })
}

/// `GET /collections/{id}/tiles`: the list of tilesets (one).
#[utoipa::path(get, path = "/collections/{collectionId}/tiles", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas")),
    responses((status = 200, description = "The vector tilesets (OGC API - Tiles)", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tilesets(
    _reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    let base = base_url(&headers);
    Ok(json_response(
        JSON,
        &json!({
            "links": [link(format!("{base}/collections/{}/tiles", c.id), "self", JSON, "The tilesets of this collection")],
            "tilesets": [tileset_summary(&base, c.id, c.title)],
        }),
    ))
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}`: the tileset metadata.
#[utoipa::path(get, path = "/collections/{collectionId}/tiles/{tileMatrixSetId}", tag = "ogc",
    params(("collectionId" = String, Path, description = "assets, wards, fee-zones or conservation-areas"), ("tileMatrixSetId" = String, Path, description = "WebMercatorQuad")),
    responses((status = 200, description = "Tileset metadata with the templated tile link", body = Object),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, response = crate::http::openapi::NotFound)))]
pub(super) async fn tileset(
    _reader: Reader,
    headers: HeaderMap,
    Path((id, tms)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = find_collection(&id)?;
    check_tile_matrix_set(&tms)?;
    let base = base_url(&headers);
    let collection = format!("{base}/collections/{}", c.id);
    let mut v = tileset_summary(&base, c.id, c.title);
    v["layers"] = json!([{"id": c.id, "dataType": "vector", "title": c.title}]);
    if let Some(links) = v["links"].as_array_mut() {
        links.push(link(
            collection.clone(),
            REL_GEODATA,
            JSON,
            "The collection",
        ));
        links.push(json!({
            "href": format!("{collection}/tiles/{TILE_MATRIX_SET}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
            "rel": "item",
            "type": MVT,
            "templated": true,
            "title": "A tile, as a Mapbox Vector Tile",
        }));
    }
    Ok(json_response(JSON, &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_ids_are_checked() {
        assert_eq!(
            TileId::parse("0", "0", "0"),
            Ok(TileId { z: 0, x: 0, y: 0 })
        );
        assert_eq!(
            TileId::parse("14", "5302", "8085"),
            Ok(TileId {
                z: 14,
                x: 8085,
                y: 5302
            })
        );
        for (z, y, x) in [
            ("25", "0", "0"),
            ("1", "2", "0"),
            ("1", "0", "2"),
            ("-1", "0", "0"),
            ("+1", "0", "0"),
            ("1", "0x1", "0"),
            ("", "0", "0"),
            ("1.0", "0", "0"),
            ("99999999999", "0", "0"),
        ] {
            assert!(TileId::parse(z, y, x).is_err(), "{z}/{y}/{x}");
        }
        assert!(TileId::new(24, (1 << 24) - 1, 0).is_some());
        assert!(TileId::new(24, 1 << 24, 0).is_none());
    }

    #[test]
    fn world_projection_matches_the_usual_formula() {
        // The z1 tiles meet at (0°, 0°); z0's corners are ±180°, ±85.0511°.
        let w = world(0.0, 0.0);
        assert!((w[0] - 0.5).abs() < 1e-15 && (w[1] - 0.5).abs() < 1e-15);
        let top = world(-180.0, 85.051_128_779_806_59);
        assert!(top[0].abs() < 1e-15 && top[1].abs() < 1e-12, "{top:?}");
        // Stretford in tile 14/8086/5303, worked with the OSM wiki's
        // ln(tan φ + sec φ) form: (3094.7556, 690.7558).
        let t = TileId::new(14, 8086, 5303).unwrap();
        let p = t.to_tile(world(-2.3125, 53.4466));
        assert!((p[0] - 3_094.755_555_555).abs() < 1e-6, "{p:?}");
        assert!((p[1] - 690.755_802_847).abs() < 1e-6, "{p:?}");
        let r = t.lonlat_bounds();
        assert!(r.min().x < -2.3125 && -2.3125 < r.max().x);
        assert!(r.min().y < 53.4466 && 53.4466 < r.max().y);
    }

    #[test]
    fn clipping_a_square_larger_than_the_tile_gives_the_window() {
        let e = f64::from(EXTENT);
        let ring = vec![
            [-1000.0, -1000.0],
            [e + 1000.0, -1000.0],
            [e + 1000.0, e + 1000.0],
            [-1000.0, e + 1000.0],
        ];
        let mut clipped = clip_ring(ring);
        let (lo, hi) = (-BUFFER, e + BUFFER);
        // The same ring whichever vertex it starts at.
        let start = clipped.iter().position(|p| *p == [lo, lo]).unwrap();
        clipped.rotate_left(start);
        assert_eq!(clipped, vec![[lo, lo], [hi, lo], [hi, hi], [lo, hi]]);
    }

    #[test]
    fn rings_are_wound_as_mvt_wants() {
        // Counter-clockwise on screen (as a lon/lat exterior becomes when y
        // flips): the exterior must come out clockwise (positive area).
        let ring: LineString<f64> = vec![
            (0.0, 0.0),
            (0.0, 100.0),
            (100.0, 100.0),
            (100.0, 0.0),
            (0.0, 0.0),
        ]
        .into();
        let id = |c: Coord<f64>| [c.x, c.y];
        let ext = tile_ring(&ring, &id, true).unwrap();
        assert_eq!(area2(&ext), 2 * 100 * 100);
        let hole = tile_ring(&ring, &id, false).unwrap();
        assert_eq!(area2(&hole), -2 * 100 * 100);
        // A sliver thinner than the tolerance vanishes.
        let sliver: LineString<f64> =
            vec![(0.0, 0.0), (1000.0, 1.0), (2000.0, 0.0), (0.0, 0.0)].into();
        assert!(tile_ring(&sliver, &id, true).is_none());
    }

    #[test]
    fn a_layer_encodes_as_worked_by_hand() {
        // The spec's point example (25, 17) -> [9, 50, 34], then a second
        // feature's point (26, 17). Both features share the value "v" (one
        // table entry); the second adds a bool.
        const KEYS: &[&str] = &["k", "b"];
        let mut l = LayerWriter::new("L", KEYS);
        l.geom.point([25, 17]);
        l.tag(0, Val::Str("v"));
        l.finish_feature(1, POINT);
        l.geom.point([26, 17]);
        l.tag(0, Val::Str("v"));
        l.tag(1, Val::Bool(true));
        l.finish_feature(300, POINT);
        let mut layer = vec![0x0a, 1, b'L'];
        // Feature 1: id 1, tags [0, 0], type 1, geometry [9, 50, 34].
        layer.extend([
            0x12, 13, 0x08, 1, 0x12, 2, 0, 0, 0x18, 1, 0x22, 3, 9, 50, 34,
        ]);
        // Feature 2: id 300 (varint ac 02), tags [0, 0, 1, 1], geometry
        // [9, 52, 34]: each point starts from (0, 0) again.
        layer.extend([0x12, 16, 0x08, 0xac, 0x02, 0x12, 4, 0, 0, 1, 1]);
        layer.extend([0x18, 1, 0x22, 3, 9, 52, 34]);
        layer.extend([0x1a, 1, b'k', 0x1a, 1, b'b']);
        layer.extend([0x22, 3, 0x0a, 1, b'v', 0x22, 2, 0x38, 1]);
        // extent 4096, version 2
        layer.extend([0x28, 0x80, 0x20, 0x78, 2]);
        let mut tile = vec![0x1a, layer.len() as u8];
        tile.extend(layer);
        assert_eq!(l.into_tile().unwrap(), tile);
        assert!(LayerWriter::new("L", KEYS).into_tile().is_none());
    }

    #[test]
    fn varints_and_zigzag() {
        for (v, len) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!((out.len(), varint_len(v)), (len, len), "{v}");
        }
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        // The spec's examples: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3.
        assert_eq!([0, -1, 1, -2].map(zigzag), [0, 1, 2, 3]);
        assert_eq!(zigzag(i32::MIN), u32::MAX);
    }

    #[test]
    fn a_ring_never_loses_its_move_to() {
        // Two squares sharing a corner, the second starting where the first
        // ends. Each ring must encode as MoveTo(1) + 2 parameters, LineTo(3)
        // + 6, ClosePath: 11 integers, 22 in all. (Had the second ring's
        // MoveTo been merged away, it would take 8.)
        let a = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
        let b = vec![[0, 10], [0, 20], [-10, 20], [-10, 10]];
        let mut g = GeomWriter::default();
        g.ring(&a);
        g.ring(&b);
        assert_eq!(g.data.len(), 22);
    }
}
