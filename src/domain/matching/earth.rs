//! The little Earth geometry matching needs: Earth-centred positions,
//! geodesic distances decided from chords, a grid for "who is within r
//! metres", and geodesic circles.
//!
//! The index has its own copy of the ECEF conversion (`index::geodesy`);
//! the domain cannot reach up to it, and the dozen lines are not worth a
//! shared crate. The same facts hold: a chord never exceeds the geodesic, so
//! a chord test is a sound first cut, and below 20 km the arc is
//! `c + c³/24R²` to within 0.1 mm. Decisions within a millimetre of the
//! threshold are taken with Karney's geodesic, so "closer than" means
//! exactly what an independent geodesic check says.

use std::collections::HashMap;

use geo::{Destination, Distance, Geodesic, LineString, Point, Polygon};

/// WGS84 semi-major axis, metres.
const A: f64 = 6_378_137.0;
/// WGS84 first eccentricity squared.
const E2: f64 = 6.694_379_990_141_33e-3;

/// Earth-centred position of a lon/lat point on the ellipsoid.
pub fn ecef(p: Point<f64>) -> [f64; 3] {
    let (sl, cl) = p.x().to_radians().sin_cos();
    let (sp, cp) = p.y().to_radians().sin_cos();
    let n = A / (1.0 - E2 * sp * sp).sqrt();
    [n * cp * cl, n * cp * sl, n * (1.0 - E2) * sp]
}

/// Geodesic metres between two lon/lat points (Karney).
pub fn geodesic(a: Point<f64>, b: Point<f64>) -> f64 {
    Geodesic.distance(a, b)
}

fn chord(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// A place: lon/lat and its Earth-centred position.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// Longitude/latitude.
    pub point: Point<f64>,
    /// Earth-centred metres.
    pub xyz: [f64; 3],
}

impl Place {
    /// The place at `point`.
    pub fn new(point: Point<f64>) -> Place {
        Place {
            point,
            xyz: ecef(point),
        }
    }

    /// Whether `other` lies strictly closer than `metres` geodesic metres
    /// (the spacing rule: exactly at the spacing is allowed).
    pub fn closer_than(&self, other: &Place, metres: f64) -> bool {
        let c = chord(&self.xyz, &other.xyz);
        if c >= metres {
            return false; // chord ≤ geodesic
        }
        if c > 20_000.0 {
            return geodesic(self.point, other.point) < metres;
        }
        let arc = arc_at(self.point.y(), c);
        if (arc - metres).abs() < 1e-3 {
            geodesic(self.point, other.point) < metres
        } else {
            arc < metres
        }
    }

    /// Whether `other` lies within `metres` geodesic metres (inclusive).
    pub fn within(&self, other: &Place, metres: f64) -> bool {
        let c = chord(&self.xyz, &other.xyz);
        if c > metres * (1.0 + 1e-12) + 1e-9 {
            return false; // chord ≤ geodesic
        }
        if c > 20_000.0 {
            return geodesic(self.point, other.point) <= metres;
        }
        let arc = arc_at(self.point.y(), c);
        if (arc - metres).abs() < 1e-3 {
            geodesic(self.point, other.point) <= metres
        } else {
            arc <= metres
        }
    }
}

/// Geodesic metres from a chord under 20 km at latitude `lat`.
fn arc_at(lat: f64, c: f64) -> f64 {
    let sp = lat.to_radians().sin();
    let w2 = 1.0 - E2 * sp * sp;
    let r = A * (1.0 - E2).sqrt() / w2;
    c + c * c * c / (24.0 * r * r)
}

/// Places bucketed in Earth-centred cubes of a given side, so the places
/// within that many metres of a point are found in the 27 cubes around it.
#[derive(Debug, Clone)]
pub struct Grid {
    side: f64,
    cells: HashMap<[i64; 3], Vec<u32>>,
}

impl Grid {
    /// An empty grid for neighbourhoods of `side` metres (> 0).
    pub fn new(side: f64) -> Grid {
        Grid {
            side: side.max(1e-3),
            cells: HashMap::new(),
        }
    }

    fn cell(&self, xyz: &[f64; 3]) -> [i64; 3] {
        xyz.map(|v| (v / self.side).floor() as i64)
    }

    /// Adds item `id` at `place`.
    pub fn insert(&mut self, id: u32, place: &Place) {
        let c = self.cell(&place.xyz);
        self.cells.entry(c).or_default().push(id);
    }

    /// Removes item `id` at `place`.
    pub fn remove(&mut self, id: u32, place: &Place) {
        let c = self.cell(&place.xyz);
        if let Some(v) = self.cells.get_mut(&c) {
            v.retain(|&x| x != id);
        }
    }

    /// Calls `each` with every item in the cubes around `place`: a superset
    /// of the items within `side` metres.
    pub fn around(&self, place: &Place, mut each: impl FnMut(u32)) {
        let [x, y, z] = self.cell(&place.xyz);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(v) = self.cells.get(&[x + dx, y + dy, z + dz]) {
                        v.iter().copied().for_each(&mut each);
                    }
                }
            }
        }
    }
}

/// Vertices of a geodesic circle polygon.
pub const CIRCLE_VERTICES: usize = 64;

/// A polygon approximating the geodesic circle of `radius` metres around
/// `centre`: [`CIRCLE_VERTICES`] points at that geodesic distance, so the
/// polygon lies inside the true circle (its edges are chords), counter-
/// clockwise as RFC 7946 asks of exterior rings.
pub fn circle(centre: Point<f64>, radius: f64) -> Polygon<f64> {
    let mut ring: Vec<_> = (0..CIRCLE_VERTICES)
        .map(|i| {
            // Bearings clockwise from north; walk them backwards for CCW.
            let bearing = 360.0 - 360.0 * i as f64 / CIRCLE_VERTICES as f64;
            Geodesic.destination(centre, bearing % 360.0, radius).0
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString(ring), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_agrees_with_karney_at_the_threshold() {
        let a = Place::new(Point::new(-2.35, 53.42));
        for d in [1.0, 150.0, 999.9, 5_000.0] {
            let b = Place::new(Geodesic.destination(a.point, 37.0, d));
            let exact = geodesic(a.point, b.point);
            assert!(a.within(&b, exact));
            assert!(!a.within(&b, exact - 1e-6));
        }
    }

    #[test]
    fn grid_finds_every_neighbour() {
        let centre = Place::new(Point::new(-2.3, 53.4));
        let mut g = Grid::new(100.0);
        let mut all = Vec::new();
        for i in 0..200u32 {
            let p = Place::new(Geodesic.destination(centre.point, i as f64 * 7.0, i as f64));
            g.insert(i, &p);
            all.push(p);
        }
        let mut seen = Vec::new();
        g.around(&centre, |i| seen.push(i));
        for (i, p) in all.iter().enumerate() {
            if centre.within(p, 100.0) {
                assert!(seen.contains(&(i as u32)), "{i}");
            }
        }
    }
}
