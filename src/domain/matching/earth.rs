//! The little Earth geometry matching needs: Earth-centred positions,
//! geodesic distances decided from chords, a grid for "who is within r
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

/// Places bucketed once for "who is within `reach` metres of here": a grid
/// over the plane tangent to the Earth at the places' mean position.
///
/// The orthogonal projection onto a plane never lengthens a chord, and a
/// chord never exceeds the geodesic, so every place within `reach` geodesic
/// metres of a point lies within `reach` of it in the plane: the grid gives a
/// superset, whatever the region's size or latitude (far-away places only
/// crowd the plane, they are never missed). Cells are a quarter of `reach`
/// wide and the items sit in one array sorted by row then column, so the
/// disc around a query is one slice per row of cells: about nine slices,
/// no hashing, and a few more places than the disc holds to test exactly.
#[derive(Debug, Clone)]
pub struct Cells {
    reach: f64,
    frame: Frame,
    side: f64,
    origin: [f64; 2],
    cols: usize,
    rows: usize,
    /// `starts[r * cols + c]..starts[r * cols + c + 1]`: the run of cell
    /// (r, c) in `items`.
    starts: Vec<u32>,
    items: Vec<u32>,
}

/// Two axes of the tangent plane, and a point on it.
#[derive(Debug, Clone, Copy)]
struct Frame {
    east: [f64; 3],
    north: [f64; 3],
}

impl Frame {
    /// The plane tangent at the direction of the mean of `places`.
    fn around(places: &[Place]) -> Frame {
        let mut m = [0.0; 3];
        for p in places {
            for (a, v) in m.iter_mut().zip(p.xyz) {
                *a += v;
            }
        }
        let len = (m[0] * m[0] + m[1] * m[1] + m[2] * m[2]).sqrt();
        let up = if len > 1.0 {
            m.map(|v| v / len)
        } else {
            [1.0, 0.0, 0.0]
        };
        // East is perpendicular to the polar axis and to up; at a pole any
        // horizontal direction will do.
        let e = [-up[1], up[0], 0.0];
        let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
        let east = if el > 1e-12 {
            [e[0] / el, e[1] / el, 0.0]
        } else {
            [0.0, 1.0, 0.0]
        };
        let north = [
            up[1] * east[2] - up[2] * east[1],
            up[2] * east[0] - up[0] * east[2],
            up[0] * east[1] - up[1] * east[0],
        ];
        Frame { east, north }
    }

    /// Plane coordinates of a position (an orthogonal projection).
    fn project(&self, xyz: &[f64; 3]) -> [f64; 2] {
        let dot = |a: &[f64; 3]| a[0] * xyz[0] + a[1] * xyz[1] + a[2] * xyz[2];
        [dot(&self.east), dot(&self.north)]
    }
}

/// Most cells per place the grid may have (a sparse set of places spread
/// far apart gets wider cells instead of a huge empty grid).
const CELLS_PER_PLACE: f64 = 4.0;

impl Cells {
    /// Buckets `places` (item `i` is `places[i]`) for neighbourhoods of
    /// `reach` metres (> 0).
    pub fn new(places: &[Place], reach: f64) -> Cells {
        let reach = reach.max(1e-3);
        let frame = Frame::around(places);
        let xy: Vec<[f64; 2]> = places.iter().map(|p| frame.project(&p.xyz)).collect();
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &xy {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        if xy.is_empty() {
            (lo, hi) = ([0.0; 2], [0.0; 2]);
        }
        let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
        let most = (CELLS_PER_PLACE * places.len() as f64).max(64.0);
        // A quarter of the reach, or wider when that would be too many cells.
        let side = (reach / 4.0).max(((w + reach) * (h + reach) / most).sqrt());
        let cols = (w / side) as usize + 1;
        let rows = (h / side) as usize + 1;
        let key = |p: &[f64; 2]| {
            let c = (((p[0] - lo[0]) / side) as usize).min(cols - 1);
            let r = (((p[1] - lo[1]) / side) as usize).min(rows - 1);
            r * cols + c
        };
        // A counting sort by cell.
        let mut starts = vec![0u32; rows * cols + 1];
        let keys: Vec<usize> = xy.iter().map(key).collect();
        for &k in &keys {
            starts[k + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut items = vec![0u32; keys.len()];
        for (i, &k) in keys.iter().enumerate() {
            items[next[k] as usize] = i as u32;
            next[k] += 1;
        }
        Cells {
            reach,
            frame,
            side,
            origin: lo,
            cols,
            rows,
            starts,
            items,
        }
    }

    /// Calls `each` with every item in the cells the disc of `reach` around
    /// `place` touches in the plane: a superset of the items within `reach`
    /// geodesic metres.
    pub fn around(&self, place: &Place, mut each: impl FnMut(u32)) {
        if self.items.is_empty() {
            return;
        }
        let [x, y] = self.frame.project(&place.xyz);
        let (x, y) = (x - self.origin[0], y - self.origin[1]);
        let r = self.reach;
        let s = self.side;
        let Some((r0, r1)) = span(y - r, y + r, s, self.rows - 1) else {
            return;
        };
        for row in r0..=r1 {
            // The disc's half-width over this band of rows (the outer rows
            // also hold what rounding clamped into them).
            let b0 = if row == 0 {
                f64::NEG_INFINITY
            } else {
                row as f64 * s
            };
            let b1 = if row == self.rows - 1 {
                f64::INFINITY
            } else {
                (row + 1) as f64 * s
            };
            let dy = if y < b0 {
                b0 - y
            } else if y > b1 {
                y - b1
            } else {
                0.0
            };
            let half = (r * r - dy * dy).max(0.0).sqrt();
            if let Some((c0, c1)) = span(x - half, x + half, s, self.cols - 1) {
                let base = row * self.cols;
                let a = self.starts[base + c0] as usize;
                let b = self.starts[base + c1 + 1] as usize;
                self.items[a..b].iter().copied().for_each(&mut each);
            }
        }
    }
}

/// The cells `lo..=hi` (plane metres from the grid's origin) cover along one
/// axis of `last + 1` cells of width `s`, or `None` when none. Truncating a
/// non-negative quotient is its floor (and needs no call to `floor`).
fn span(lo: f64, hi: f64, s: f64, last: usize) -> Option<(usize, usize)> {
    if hi < 0.0 || lo > hi {
        return None;
    }
    let a = if lo <= 0.0 { 0 } else { (lo / s) as usize };
    let b = ((hi / s) as usize).min(last);
    (a <= b).then_some((a, b))
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

/// The spacing rule as spacing mode needs it: a growing set of chosen
/// sites, asked "is any chosen site closer than the spacing to this one?".
///
/// Unlike [`Spacing`], which keeps a count for every site and so buckets
/// all of them up front, this buckets only the chosen: a dense grid of
/// cells at least the spacing wide over the plane tangent at the sites'
/// mean, each cell a linked list of the chosen sites in it. A site within
/// the spacing of another lies within it in the plane too (for the reason
/// [`Cells`] gives), so in the same or an adjacent cell: a question reads
/// the nine cells around the site's own, and none at all when no chosen
/// site is in them (a count per cell says so). Pairs are decided as
/// [`Spacing`] decides them: by the site listed first.
#[derive(Debug, Clone)]
pub struct Spaced<'a> {
    sites: &'a [Place],
    metres: f64,
    frame: Frame,
    origin: [f64; 2],
    /// 1 / the cells' width.
    scale: f64,
    cols: usize,
    rows: usize,
    /// Per cell, 1 + the index in `members` of the last site chosen in it
    /// (0: none).
    head: Vec<u32>,
    /// Per cell, how many chosen sites lie in it or the eight around it.
    near: Vec<u32>,
    /// Chosen sites: the site's position (read without a trip to `sites`),
    /// the site, and 1 + the member chosen before it in the same cell (0:
    /// none).
    members: Vec<([f64; 3], u32, u32)>,
}

impl<'a> Spaced<'a> {
    /// Nothing chosen yet; `metres` ≤ 0 means no rule.
    pub fn new(sites: &'a [Place], metres: f64) -> Spaced<'a> {
        let frame = Frame::around(sites);
        let (mut lo, mut hi) = ([0.0; 2], [0.0; 2]);
        if metres > 0.0 && !sites.is_empty() {
            (lo, hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for p in sites {
                let xy = frame.project(&p.xyz);
                for k in 0..2 {
                    lo[k] = lo[k].min(xy[k]);
                    hi[k] = hi[k].max(xy[k]);
                }
            }
        }
        let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
        // A hair over the spacing, so rounding in the projection cannot
        // push a site just inside it two cells away.
        let reach = metres.max(1e-3) * (1.0 + 1e-9) + 1e-6;
        let most = (CELLS_PER_PLACE * sites.len() as f64).max(64.0);
        let side = reach.max(((w + reach) * (h + reach) / most).sqrt());
        let cols = (w / side) as usize + 1;
        let rows = (h / side) as usize + 1;
        Spaced {
            sites,
            metres,
            frame,
            origin: lo,
            scale: 1.0 / side,
            cols,
            rows,
            head: vec![0; rows * cols],
            near: vec![0; rows * cols],
            members: Vec::new(),
        }
    }

    /// The row and column of site `j`'s cell.
    fn cell(&self, j: usize) -> (usize, usize) {
        let [x, y] = self.frame.project(&self.sites[j].xyz);
        let at =
            |v: f64, o: f64, last: usize| ((((v - o) * self.scale).max(0.0)) as usize).min(last);
        (
            at(y, self.origin[1], self.rows - 1),
            at(x, self.origin[0], self.cols - 1),
        )
    }

    /// The cells around (and including) `row`, `col`.
    fn around(&self, row: usize, col: usize) -> impl Iterator<Item = usize> + use<> {
        let (cols, rows) = (self.cols, self.rows);
        let r = row.saturating_sub(1)..=(row + 1).min(rows - 1);
        let c = col.saturating_sub(1)..=(col + 1).min(cols - 1);
        r.flat_map(move |r| c.clone().map(move |c| r * cols + c))
    }

    /// Whether a chosen site lies closer than the spacing to site `j`.
    pub fn blocked(&self, j: usize) -> bool {
        if self.metres <= 0.0 || self.members.is_empty() {
            return false;
        }
        let (row, col) = self.cell(j);
        if self.near[row * self.cols + col] == 0 {
            return false;
        }
        let xyz = &self.sites[j].xyz;
        let most = self.metres * self.metres;
        for cell in self.around(row, col) {
            let mut m = self.head[cell];
            while m != 0 {
                let (at, k, before) = &self.members[m as usize - 1];
                // The first test `closer_than` makes, without the call: most
                // chosen sites in the cells are too far.
                if chord2(xyz, at) < most {
                    let (a, b) = (j.min(*k as usize), j.max(*k as usize));
                    if a != b && self.sites[a].closer_than(&self.sites[b], self.metres) {
                        return true;
                    }
                }
                m = *before;
            }
        }
        false
    }

    /// Marks `j` chosen.
    pub fn choose(&mut self, j: usize) {
        if self.metres <= 0.0 {
            return;
        }
        let (row, col) = self.cell(j);
        for cell in self.around(row, col) {
            self.near[cell] += 1;
        }
        let head = &mut self.head[row * self.cols + col];
        self.members.push((self.sites[j].xyz, j as u32, *head));
        *head = self.members.len() as u32;
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

    /// Where the grid and spacing tests scatter places (centre lon, lat and
    /// radius in metres): a town, across the antimeridian, at a pole, over a
    /// whole country, and a tiny spread on the equator.
    const SCENES: [(f64, f64, f64); 5] = [
        (-2.35, 53.42, 5_000.0),
        (179.999, -16.5, 3_000.0),
        (0.0, 89.99, 2_000.0),
        (-3.0, 54.0, 600_000.0),
        (12.0, -0.01, 50.0),
    ];

    /// A place uniformly spread over the disc of `spread_m` around `centre`.
    fn scatter(rng: &mut rand::rngs::StdRng, centre: Point<f64>, spread_m: f64) -> Place {
        use rand::Rng;
        Place::new(Geodesic.destination(
            centre,
            rng.random_range(0.0..360.0),
            spread_m * rng.random::<f64>().sqrt(),
        ))
    }

    /// The grid misses no neighbour anywhere: across the antimeridian, at a
    /// pole, over a whole country, with the query outside the places' box.
    #[test]
    fn cells_miss_no_neighbour_anywhere() {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(7);
        for (lon, lat, spread_m) in SCENES {
            let centre = Point::new(lon, lat);
            let places: Vec<Place> = (0..400)
                .map(|_| scatter(&mut rng, centre, spread_m))
                .collect();
            for reach in [spread_m / 50.0, spread_m / 7.0, spread_m] {
                let cells = Cells::new(&places, reach);
                for _ in 0..40 {
                    // Some queries lie beyond the places' box.
                    let q = if rng.random_bool(0.2) {
                        Place::new(Geodesic.destination(centre, 45.0, spread_m * 1.05))
                    } else {
                        scatter(&mut rng, centre, spread_m)
                    };
                    let mut seen = vec![false; places.len()];
                    cells.around(&q, |i| seen[i as usize] = true);
                    for (i, p) in places.iter().enumerate() {
                        if geodesic(q.point, p.point) <= reach {
                            assert!(seen[i], "({lon}, {lat}) reach {reach}: missed {i}");
                        }
                    }
                }
            }
        }
    }

    /// `Spaced` answers "is a chosen site closer than the spacing?" as brute
    /// force does, anywhere: across the antimeridian, at a pole, over a
    /// whole country, with spacings from a fiftieth of the spread to all of it.
    #[test]
    fn spaced_agrees_with_brute_force_anywhere() {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(11);
        for (lon, lat, spread_m) in SCENES {
            let places: Vec<Place> = (0..300)
                .map(|_| scatter(&mut rng, Point::new(lon, lat), spread_m))
                .collect();
            for metres in [spread_m / 50.0, spread_m / 7.0, spread_m, 0.0] {
                let mut rule = Spaced::new(&places, metres);
                let mut chosen: Vec<usize> = Vec::new();
                let mut blocked = 0;
                for j in 0..places.len() {
                    let brute = chosen
                        .iter()
                        .any(|&k| geodesic(places[k].point, places[j].point) < metres);
                    assert_eq!(
                        rule.blocked(j),
                        brute,
                        "({lon}, {lat}) {metres} m: site {j}"
                    );
                    if brute {
                        blocked += 1;
                    } else if rng.random_bool(0.5) {
                        rule.choose(j);
                        chosen.push(j);
                    }
                }
                assert!(
                    blocked > 0 || metres == 0.0,
                    "({lon}, {lat}) {metres} m blocks none"
                );
            }
        }
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
