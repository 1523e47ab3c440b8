//! The little Earth geometry matching needs: Earth-centred positions,
//! geodesic distances decided from chords, cells for "who is within r
//! metres", the spacing rule's bookkeeping, and geodesic circles.
//!
//! The index has its own copy of the ECEF conversion (`index::geodesy`);
//! the domain cannot reach up to it, and the dozen lines are not worth a
//! shared crate. The same facts hold: a chord never exceeds the geodesic, so
//! a chord test is a sound first cut, and below 20 km the arc is
//! `c + c³/24R²` to within 0.1 mm. Decisions within a millimetre of the
//! threshold are taken with Karney's geodesic, so "closer than" means
//! exactly what an independent geodesic check says.

use geo::{Destination, Distance, Geodesic, LineString, Point, Polygon};
use rustc_hash::FxHashMap;

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

fn chord2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Whether a squared chord `c2` is certainly a geodesic shorter than
/// `metres` by more than the millimetre the exact tests look at: below
/// 20 km the arc exceeds its chord by under 9 mm (`c³/24R²`), so a chord
/// 11 mm short of the threshold decides it without a square root or the
/// latitude's sine; these are most pairs a search looks at.
fn clearly_shorter(c2: f64, metres: f64) -> bool {
    const SLACK: f64 = 0.011;
    metres <= 20_000.0 && metres > SLACK && c2 < (metres - SLACK) * (metres - SLACK)
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
        let c2 = chord2(&self.xyz, &other.xyz);
        if c2 >= metres * metres {
            return false; // chord ≤ geodesic
        }
        if clearly_shorter(c2, metres) {
            return true;
        }
        let c = c2.sqrt();
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
        let c2 = chord2(&self.xyz, &other.xyz);
        let most = metres * (1.0 + 1e-12) + 1e-9;
        if c2 > most * most {
            return false; // chord ≤ geodesic
        }
        if clearly_shorter(c2, metres) {
            return true;
        }
        let c = c2.sqrt();
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

/// Places bucketed once in Earth-centred cubes of a given side, so the
/// places within that many metres of a point are found in the 27 cubes
/// around it. Built once per search and only read after: the items sit in
/// one array sorted by cube, and a fast (non-keyed) hash maps each cube to
/// its run, so a query costs 27 probes and no allocation.
#[derive(Debug, Clone)]
pub struct Cells {
    side: f64,
    runs: FxHashMap<[i64; 3], (u32, u32)>,
    items: Vec<u32>,
}

impl Cells {
    /// Buckets `places` (item `i` is `places[i]`) for neighbourhoods of
    /// `side` metres (> 0).
    pub fn new(places: &[Place], side: f64) -> Cells {
        let side = side.max(1e-3);
        // A counting sort by cube: count, give each cube its run, place.
        let keys: Vec<[i64; 3]> = places.iter().map(|p| cell(side, &p.xyz)).collect();
        let mut runs: FxHashMap<[i64; 3], (u32, u32)> = FxHashMap::default();
        for k in &keys {
            runs.entry(*k).or_insert((0, 0)).1 += 1;
        }
        let mut start = 0u32;
        for run in runs.values_mut() {
            let n = run.1;
            *run = (start, start);
            start += n;
        }
        let mut items = vec![0u32; keys.len()];
        for (i, k) in keys.iter().enumerate() {
            let run = runs.get_mut(k).expect("counted above");
            items[run.1 as usize] = i as u32;
            run.1 += 1;
        }
        Cells { side, runs, items }
    }

    /// Calls `each` with every item in the cubes around `place`: a superset
    /// of the items within `side` metres.
    pub fn around(&self, place: &Place, mut each: impl FnMut(u32)) {
        if self.items.is_empty() {
            return;
        }
        let [x, y, z] = cell(self.side, &place.xyz);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(&(a, b)) = self.runs.get(&[x + dx, y + dy, z + dz]) {
                        self.items[a as usize..b as usize]
                            .iter()
                            .copied()
                            .for_each(&mut each);
                    }
                }
            }
        }
    }
}

fn cell(side: f64, xyz: &[f64; 3]) -> [i64; 3] {
    xyz.map(|v| (v / side).floor() as i64)
}

/// The spacing rule over a fixed list of sites: for each site, how many
/// chosen sites lie strictly closer than the spacing. Choosing or dropping a
/// site updates only its neighbours, so "may this one be added?" is a
/// lookup, and the sites ruled out by spacing are those with a count.
#[derive(Debug, Clone)]
pub struct Spacing<'a> {
    sites: &'a [Place],
    metres: f64,
    cells: Option<Cells>,
    blockers: Vec<u32>,
}

impl<'a> Spacing<'a> {
    /// No site chosen yet; `metres` ≤ 0 means no rule.
    pub fn new(sites: &'a [Place], metres: f64) -> Spacing<'a> {
        Spacing {
            sites,
            metres,
            cells: (metres > 0.0).then(|| Cells::new(sites, metres)),
            blockers: vec![0; sites.len()],
        }
    }

    /// Whether sites `a` and `b` break the rule (decided the same way
    /// whichever is named first).
    pub fn conflict(&self, a: usize, b: usize) -> bool {
        let (a, b) = (a.min(b), a.max(b));
        a != b && self.metres > 0.0 && self.sites[a].closer_than(&self.sites[b], self.metres)
    }

    /// How many sites the rule is over.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// Whether the rule is over no sites.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// How many chosen sites other than `j` are too close to `j`.
    pub fn blockers(&self, j: usize) -> u32 {
        self.blockers[j]
    }

    /// Whether `j` keeps its distance from every chosen site but `except`.
    pub fn free(&self, j: usize, except: Option<usize>) -> bool {
        let n = self.blockers[j];
        match except {
            Some(i) if n == 1 => self.conflict(i, j),
            _ => n == 0,
        }
    }

    /// Marks `j` chosen.
    pub fn choose(&mut self, j: usize) {
        self.neighbours(j, |b| *b += 1);
    }

    /// Marks `j` no longer chosen.
    pub fn drop_site(&mut self, j: usize) {
        self.neighbours(j, |b| *b -= 1);
    }

    fn neighbours(&mut self, j: usize, mut f: impl FnMut(&mut u32)) {
        let Some(cells) = &self.cells else {
            return;
        };
        let (sites, metres, blockers) = (self.sites, self.metres, &mut self.blockers);
        cells.around(&sites[j], |k| {
            let k = k as usize;
            let (a, b) = (j.min(k), j.max(k));
            if k != j && sites[a].closer_than(&sites[b], metres) {
                f(&mut blockers[k]);
            }
        });
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
    fn chord_shortcuts_agree_with_karney_around_the_threshold() {
        let a = Place::new(Point::new(-2.35, 53.42));
        for i in 0..2_000 {
            let d = 0.5 + (i as f64) * 1.37;
            let b = Place::new(Geodesic.destination(a.point, (i * 37 % 360) as f64, d));
            let exact = geodesic(a.point, b.point);
            for metres in [
                exact - 0.02,
                exact - 0.012,
                exact - 0.005,
                exact + 0.005,
                exact + 0.012,
                exact + 0.02,
            ] {
                assert_eq!(
                    a.within(&b, metres),
                    exact <= metres,
                    "{exact} within {metres}"
                );
                assert_eq!(
                    a.closer_than(&b, metres),
                    exact < metres,
                    "{exact} closer than {metres}"
                );
            }
        }
    }

    #[test]
    fn cells_find_every_neighbour() {
        let centre = Place::new(Point::new(-2.3, 53.4));
        let all: Vec<Place> = (0..200)
            .map(|i| Place::new(Geodesic.destination(centre.point, i as f64 * 7.0, i as f64)))
            .collect();
        let cells = Cells::new(&all, 100.0);
        let mut seen = Vec::new();
        cells.around(&centre, |i| seen.push(i));
        let mut near = 0;
        for (i, p) in all.iter().enumerate() {
            if centre.within(p, 100.0) {
                near += 1;
                assert!(seen.contains(&(i as u32)), "{i}");
            }
        }
        assert!(near > 50, "the test must find neighbours: {near}");
    }

    #[test]
    fn spacing_counts_the_chosen_sites_too_close() {
        let centre = Point::new(-2.3, 53.4);
        let sites: Vec<Place> = (0..60)
            .map(|i| Place::new(Geodesic.destination(centre, i as f64 * 53.0, i as f64 * 9.0)))
            .collect();
        let mut rule = Spacing::new(&sites, 120.0);
        let chosen = [0usize, 17, 33];
        for &c in &chosen {
            rule.choose(c);
        }
        for j in 0..sites.len() {
            let brute = chosen
                .iter()
                .filter(|&&c| c != j && geodesic(sites[c].point, sites[j].point) < 120.0)
                .count() as u32;
            assert_eq!(rule.blockers(j), brute, "site {j}");
        }
        rule.drop_site(17);
        for j in 0..sites.len() {
            let brute = [0usize, 33]
                .iter()
                .filter(|&&c| c != j && geodesic(sites[c].point, sites[j].point) < 120.0)
                .count() as u32;
            assert_eq!(rule.blockers(j), brute, "site {j} after dropping 17");
        }
    }
}
