//! Tile addressing and geometry: Web Mercator, the buffered tile, clipping rings and polygons to it.

use super::*;

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
    pub(super) fn n(self) -> f64 {
        (1u64 << self.z) as f64
    }

    /// The buffered tile in world coordinates, clamped to the world.
    pub(super) fn world_bounds(self) -> [f64; 4] {
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
    pub(super) fn to_tile(self, w: [f64; 2]) -> [f64; 2] {
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
pub(super) fn in_buffered_tile(p: [f64; 2]) -> bool {
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1])
}

/// A stable feature id for a string id: FNV-1a, cut to 53 bits so that
/// JavaScript numbers (MapLibre's feature state) hold it exactly. The
/// `id` property carries the real id.
pub(super) fn feature_id(id: &str) -> u64 {
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
pub(super) fn clip_ring(ring: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
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
pub(super) fn area2(ring: &[[i32; 2]]) -> i64 {
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
pub(super) fn tile_ring(
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
pub(super) fn tile_polygons<'a>(
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
