//! Coverage mode: choose up to `k` sites, no two closer than the spacing,
//! whose discs cover the most demand weight.
//!
//! Maximum coverage is NP-hard; greedy (take the site adding the most
//! uncovered weight, again and again) is the known baseline with its
//! (1 − 1/e) guarantee. It runs lazily here (a site's gain only shrinks, so
//! a stale gain on top of the heap is recomputed before it is trusted), and
//! stops as soon as everything coverable is covered. Spacing makes the
//! problem a coverage problem under an independence constraint, where greedy
//! can do worse, so a local-search pass follows: swap a chosen site for an
//! unchosen one whenever that covers strictly more (candidates tried in
//! order of their total weight, best swap per chosen site), then add sites
//! again if room was freed, until nothing improves. The result is never
//! worse than greedy's; the tests and BENCHMARKS.md compare both with the
//! exact optimum found by brute force on small instances.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::{Contains, Coord, Geometry, MultiPolygon, Orient, Point, unary_union};

use super::earth::{Cells, Place as At, Spacing, circle};
use super::request::{Place, SearchSpec};

/// Most sample points in the grid laid over the area when no demand is given.
pub const MAX_SAMPLES: f64 = 4_096.0;
/// Most local-search rounds (each a swap pass and an add pass).
pub const MAX_ROUNDS: usize = 10;

/// A coverage problem.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Candidate sites, best score first (ties go to the earlier one).
    pub sites: Vec<At>,
    /// Demand points and their weights.
    pub demand: Vec<(At, f64)>,
    /// Disc radius, metres.
    pub radius_m: f64,
    /// Least distance between chosen sites (0: none).
    pub min_spacing_m: f64,
    /// Most sites to choose.
    pub k: usize,
}

/// A chosen set.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Indices into `Instance::sites`, in order of their contribution (each
    /// adds the most to those before it).
    pub chosen: Vec<usize>,
    /// Demand weight covered.
    pub covered: f64,
    /// Demand weight greedy alone covered.
    pub greedy: f64,
    /// All demand weight.
    pub total: f64,
}

/// Which demand points each site covers, all sites' lists in one array.
struct Cover {
    starts: Vec<u32>,
    points: Vec<u32>,
}

impl std::ops::Index<usize> for Cover {
    type Output = [u32];
    fn index(&self, site: usize) -> &[u32] {
        &self.points[self.starts[site] as usize..self.starts[site + 1] as usize]
    }
}

impl Cover {
    fn iter(&self) -> impl Iterator<Item = &[u32]> {
        (0..self.starts.len() - 1).map(|j| &self[j])
    }
}

fn covers(inst: &Instance) -> Cover {
    let places: Vec<At> = inst.demand.iter().map(|d| d.0).collect();
    let cells = Cells::new(&places, inst.radius_m);
    let mut starts = Vec::with_capacity(inst.sites.len() + 1);
    let mut points = Vec::new();
    starts.push(0);
    for s in &inst.sites {
        cells.around(s, |d| {
            if s.within(&places[d as usize], inst.radius_m) {
                points.push(d);
            }
        });
        starts.push(points.len() as u32);
    }
    Cover { starts, points }
}

/// The chosen sites and the spacing rule between them.
struct Chosen<'a> {
    rule: Spacing<'a>,
    is_chosen: Vec<bool>,
    list: Vec<usize>,
}

impl<'a> Chosen<'a> {
    fn new(inst: &'a Instance) -> Self {
        Chosen {
            rule: Spacing::new(&inst.sites, inst.min_spacing_m),
            is_chosen: vec![false; inst.sites.len()],
            list: Vec::new(),
        }
    }

    /// Whether `j` keeps its distance from every chosen site but `except`.
    fn spaced(&self, j: usize, except: Option<usize>) -> bool {
        self.rule.free(j, except)
    }

    fn contains(&self, j: usize) -> bool {
        self.is_chosen[j]
    }

    fn add(&mut self, j: usize) {
        self.rule.choose(j);
        self.is_chosen[j] = true;
        self.list.push(j);
    }

    fn replace(&mut self, at: usize, j: usize) {
        let old = self.list[at];
        self.rule.drop_site(old);
        self.is_chosen[old] = false;
        self.rule.choose(j);
        self.is_chosen[j] = true;
        self.list[at] = j;
    }
}

#[derive(PartialEq)]
struct Entry(f64, usize);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // More gain first; on a tie the better-scored (lower index) site.
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// Solves `inst`: lazy greedy, then local search.
pub fn solve(inst: &Instance) -> Solution {
    let cov = covers(inst);
    let w: Vec<f64> = inst.demand.iter().map(|d| d.1).collect();
    let total: f64 = w.iter().sum();
    let eps = 1e-9 * total.max(1.0);
    let mut count = vec![0u32; w.len()];
    let mut chosen = Chosen::new(inst);
    let mut covered = 0.0;
    let gain = |count: &[u32], j: usize| -> f64 {
        cov[j]
            .iter()
            .filter(|&&p| count[p as usize] == 0)
            .map(|&p| w[p as usize])
            .sum()
    };

    greedy_fill(inst, &cov, &w, &mut count, &mut chosen, &mut covered, eps);
    let greedy = covered;

    // Candidates by the total weight they could cover, most first, so a
    // swap search can stop at the first that cannot beat the best found.
    let weight_of: Vec<f64> = cov
        .iter()
        .map(|c| c.iter().map(|&p| w[p as usize]).sum())
        .collect();
    let mut by_weight: Vec<usize> = (0..inst.sites.len())
        .filter(|&j| weight_of[j] > 0.0)
        .collect();
    by_weight.sort_by(|&a, &b| weight_of[b].total_cmp(&weight_of[a]).then(a.cmp(&b)));

    let mut mark = vec![false; w.len()];
    for _ in 0..MAX_ROUNDS {
        if covered >= total - eps {
            break;
        }
        let mut improved = false;
        for at in 0..chosen.list.len() {
            let i = chosen.list[at];
            let loss: f64 = cov[i]
                .iter()
                .filter(|&&p| count[p as usize] == 1)
                .map(|&p| w[p as usize])
                .sum();
            for &p in &cov[i] {
                mark[p as usize] = true;
            }
            let mut best: Option<(usize, f64)> = None;
            for &j in &by_weight {
                let bar = loss + best.map_or(eps, |b| b.1);
                if weight_of[j] <= bar {
                    break;
                }
                if chosen.contains(j) {
                    continue;
                }
                let g: f64 = cov[j]
                    .iter()
                    .filter(|&&p| {
                        let c = count[p as usize];
                        c == 0 || (c == 1 && mark[p as usize])
                    })
                    .map(|&p| w[p as usize])
                    .sum();
                if g - loss > best.map_or(eps, |b| b.1) && chosen.spaced(j, Some(i)) {
                    best = Some((j, g - loss));
                }
            }
            for &p in &cov[i] {
                mark[p as usize] = false;
            }
            if let Some((j, delta)) = best {
                for &p in &cov[i] {
                    count[p as usize] -= 1;
                }
                for &p in &cov[j] {
                    count[p as usize] += 1;
                }
                chosen.replace(at, j);
                covered += delta;
                improved = true;
            }
        }
        if chosen.list.len() < inst.k {
            let before = covered;
            greedy_fill(inst, &cov, &w, &mut count, &mut chosen, &mut covered, eps);
            improved |= covered > before + eps;
        }
        if !improved {
            break;
        }
    }
    // Recount exactly (sums of floats in a different order drift).
    let covered = (0..w.len())
        .filter(|&p| count[p] > 0)
        .map(|p| w[p])
        .sum::<f64>();

    // Rank: each next site is the one adding most to those before it.
    let mut rest = chosen.list.clone();
    let mut seen = vec![0u32; w.len()];
    let mut order = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let (pos, _) = rest
            .iter()
            .enumerate()
            .map(|(n, &j)| (n, gain(&seen, j)))
            .fold((0, f64::NEG_INFINITY), |acc, (n, g)| {
                let better = g > acc.1 || (g == acc.1 && rest[n] < rest[acc.0]);
                if better { (n, g) } else { acc }
            });
        let j = rest.swap_remove(pos);
        for &p in &cov[j] {
            seen[p as usize] += 1;
        }
        order.push(j);
    }
    Solution {
        chosen: order,
        covered,
        greedy,
        total,
    }
}

/// Adds sites greedily (lazy evaluation) until `k`, full coverage, or no
/// spaced site adds anything.
fn greedy_fill(
    inst: &Instance,
    cov: &Cover,
    w: &[f64],
    count: &mut [u32],
    chosen: &mut Chosen<'_>,
    covered: &mut f64,
    eps: f64,
) {
    let total: f64 = w.iter().sum();
    let gain = |count: &[u32], j: usize| -> f64 {
        cov[j]
            .iter()
            .filter(|&&p| count[p as usize] == 0)
            .map(|&p| w[p as usize])
            .sum()
    };
    let mut heap: BinaryHeap<Entry> = (0..inst.sites.len())
        .filter(|&j| !chosen.contains(j))
        .map(|j| Entry(gain(count, j), j))
        .filter(|e| e.0 > eps)
        .collect();
    while chosen.list.len() < inst.k && *covered < total - eps {
        let Some(Entry(g, j)) = heap.pop() else {
            break;
        };
        let now = gain(count, j);
        if now <= eps {
            continue;
        }
        if now < g {
            heap.push(Entry(now, j));
            continue;
        }
        if !chosen.spaced(j, None) {
            continue; // spacing only tightens as sites are added
        }
        for &p in &cov[j] {
            count[p as usize] += 1;
        }
        *covered += now;
        chosen.add(j);
    }
}

/// The best coverage any spaced set of at most `k` sites achieves, by
/// trying every set (small instances only: tests and benchmarks).
pub fn exact(inst: &Instance) -> f64 {
    let cov = covers(inst);
    let n = inst.sites.len();
    let conflict: Vec<Vec<bool>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| {
                    a != b
                        && inst.min_spacing_m > 0.0
                        && super::earth::geodesic(inst.sites[a].point, inst.sites[b].point)
                            < inst.min_spacing_m
                })
                .collect()
        })
        .collect();
    let mut best = 0.0f64;
    let mut set = Vec::new();
    fn walk(
        from: usize,
        set: &mut Vec<usize>,
        inst: &Instance,
        cov: &Cover,
        conflict: &[Vec<bool>],
        best: &mut f64,
    ) {
        let mut hit = vec![false; inst.demand.len()];
        for &s in set.iter() {
            for &p in &cov[s] {
                hit[p as usize] = true;
            }
        }
        let v: f64 = hit
            .iter()
            .zip(&inst.demand)
            .filter(|(h, _)| **h)
            .map(|(_, d)| d.1)
            .sum();
        *best = best.max(v);
        if set.len() == inst.k {
            return;
        }
        for j in from..inst.sites.len() {
            if set.iter().any(|&s| conflict[s][j]) {
                continue;
            }
            set.push(j);
            walk(j + 1, set, inst, cov, conflict, best);
            set.pop();
        }
    }
    walk(0, &mut set, inst, &cov, &conflict, &mut best);
    best
}

/// The documented sample grid standing for demand when none is given: a
/// square grid in local metres with spacing `max(radius / 3, √(area /
/// 4,096))`, offset half a step from the region's south-west corner, keeping
/// the points inside the region; each weighs 1. The covered fraction of these
/// points estimates the covered fraction of the area.
pub fn sample_grid(spec: &SearchSpec, radius_m: f64) -> Vec<Point<f64>> {
    let step = (radius_m / 3.0).max((spec.area_m2 / MAX_SAMPLES).sqrt());
    let (lo, hi, centre_lat) = bounds(&spec.place);
    let (m_lat, m_lon) = metres_per_degree(centre_lat);
    let (dlat, dlon) = (step / m_lat, step / m_lon);
    let mut out = Vec::new();
    let mut y = lo.y + dlat / 2.0;
    while y <= hi.y {
        let mut x = lo.x + dlon / 2.0;
        while x <= hi.x {
            let p = Point::new(x, y);
            if inside(&spec.place, p) {
                out.push(p);
            }
            x += dlon;
        }
        y += dlat;
    }
    out
}

/// Metres per degree of latitude and of longitude at `lat` (WGS84).
fn metres_per_degree(lat: f64) -> (f64, f64) {
    const A: f64 = 6_378_137.0;
    const E2: f64 = 6.694_379_990_141_33e-3;
    let sp = lat.to_radians().sin();
    let w = (1.0 - E2 * sp * sp).sqrt();
    let rad = std::f64::consts::PI / 180.0;
    (
        A * (1.0 - E2) / (w * w * w) * rad,
        A * lat.to_radians().cos() / w * rad,
    )
}

fn bounds(place: &Place) -> (Coord<f64>, Coord<f64>, f64) {
    use geo::BoundingRect;
    let grow = |r: geo::Rect<f64>, m: f64| {
        let lat = r.center().y;
        let (ml, mn) = metres_per_degree(lat);
        (
            Coord {
                x: r.min().x - m / mn,
                y: r.min().y - m / ml,
            },
            Coord {
                x: r.max().x + m / mn,
                y: r.max().y + m / ml,
            },
            lat,
        )
    };
    match place {
        Place::Area(g) => {
            let r = g.bounding_rect().expect("a valid polygon has a box");
            grow(r, 0.0)
        }
        Place::Near { centre, radius_m } => grow(geo::Rect::new(centre.0, centre.0), *radius_m),
        Place::Corridor { line, width_m } => {
            let r = line.bounding_rect().expect("a valid line has a box");
            grow(r, width_m / 2.0)
        }
    }
}

/// Whether `p` lies in the search region.
fn inside(place: &Place, p: Point<f64>) -> bool {
    match place {
        Place::Area(g) => g.contains(&p),
        Place::Near { centre, radius_m } => At::new(*centre).within(&At::new(p), *radius_m),
        Place::Corridor { line, width_m } => line_distance(line, p) <= width_m / 2.0,
    }
}

/// Metres from `p` to a line, in the plane tangent at `p` (street scale).
fn line_distance(line: &Geometry<f64>, p: Point<f64>) -> f64 {
    let (ml, mn) = metres_per_degree(p.y());
    let plane = |c: Coord<f64>| ((c.x - p.x()) * mn, (c.y - p.y()) * ml);
    let seg = |a: Coord<f64>, b: Coord<f64>| {
        let (ax, ay) = plane(a);
        let (bx, by) = plane(b);
        let (dx, dy) = (bx - ax, by - ay);
        let l2 = dx * dx + dy * dy;
        let t = if l2 == 0.0 {
            0.0
        } else {
            (-(ax * dx + ay * dy) / l2).clamp(0.0, 1.0)
        };
        let (x, y) = (ax + t * dx, ay + t * dy);
        (x * x + y * y).sqrt()
    };
    let lines: Vec<&geo::LineString<f64>> = match line {
        Geometry::LineString(l) => vec![l],
        Geometry::MultiLineString(m) => m.0.iter().collect(),
        _ => Vec::new(),
    };
    lines
        .into_iter()
        .flat_map(|l| l.lines())
        .map(|l| seg(l.start, l.end))
        .fold(f64::INFINITY, f64::min)
}

/// The covered region: the union of the chosen sites' discs, exterior rings
/// counter-clockwise.
pub fn region(centres: &[Point<f64>], radius_m: f64) -> MultiPolygon<f64> {
    let discs: Vec<_> = centres.iter().map(|c| circle(*c, radius_m)).collect();
    unary_union(&discs).orient(geo::algorithm::orient::Direction::Default)
}
