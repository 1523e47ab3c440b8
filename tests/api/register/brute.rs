//! Brute-force answers: geodesic distances, ray casting, densified
//! boundary distances, and the tree queries computed once for both databases.

use super::*;

/// Every site with its geodesic distance from `q`, closest first.
pub(super) fn by_distance(sites: &[Site], q: Point<f64>) -> Vec<(f64, &str)> {
    let mut all: Vec<(f64, &str)> = sites
        .iter()
        .map(|s| (Geodesic.distance(q, s.point()), s.reference.as_str()))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    all
}

/// Checks a nearest answer against brute force: the i-th answer is as far
/// as the i-th nearest site (so only exact ties may swap), refs are
/// distinct, and the reported distances are the geodesic ones to the cm.
pub(super) fn check_nearest(answer: &Value, sites: &[Site], q: Point<f64>, k: usize) {
    let expected = by_distance(sites, q);
    let distance: HashMap<&str, f64> = expected.iter().map(|&(d, r)| (r, d)).collect();
    let got = features(answer);
    assert_eq!(
        got.len(),
        k.min(sites.len()),
        "nearest {q:?} k={k}: wrong count"
    );
    let mut seen = HashSet::new();
    for (i, f) in got.iter().enumerate() {
        let r = ref_of(f);
        assert!(seen.insert(r), "nearest {q:?}: {r} twice");
        let d = distance[r];
        let (want_d, want_r) = expected[i];
        if r != want_r {
            assert!(
                (d - want_d).abs() <= 1e-6,
                "nearest {q:?} k={k} #{i}: got {r} at {d} m, brute force has {want_r} at {want_d} m"
            );
        }
        let reported = f["properties"]["distance_m"].as_f64().expect("distance_m");
        assert!(
            (reported - d).abs() <= 0.005 + 1e-9,
            "nearest {q:?} #{i} {r}: reported {reported} m, geodesic {d} m"
        );
    }
}

/// Refs of sites in the lon/lat box, edges included.
pub(super) fn in_box(sites: &[Site], b: [f64; 4]) -> BTreeSet<String> {
    sites
        .iter()
        .filter(|s| b[0] <= s.lon && s.lon <= b[2] && b[1] <= s.lat && s.lat <= b[3])
        .map(|s| s.reference.clone())
        .collect()
}

/// Polygon rings as `[lon, lat]` positions, closed.
pub(super) type Rings = Vec<Vec<[f64; 2]>>;

/// Even-odd ray casting over every ring (so holes are outside).
pub(super) fn ray_cast_inside(p: [f64; 2], rings: &Rings) -> bool {
    let mut inside = false;
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

/// Minimum geodesic distance from `p` to samples `step_m` metres apart
/// along the straight lon/lat segment `a`–`b` between parameters `lo` and
/// `hi`; returns the distance and the parameter where it is reached.
pub(super) fn sample_segment(
    p: Point<f64>,
    a: [f64; 2],
    b: [f64; 2],
    len: f64,
    lo: f64,
    hi: f64,
    step_m: f64,
) -> (f64, f64) {
    let n = (((hi - lo) * len) / step_m).ceil().max(1.0) as usize;
    (0..=n)
        .map(|i| {
            let t = lo + (hi - lo) * i as f64 / n as f64;
            let q = Point::new(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
            (Geodesic.distance(p, q), t)
        })
        .min_by(|x, y| x.0.total_cmp(&y.0))
        .expect("at least one sample")
}

/// Geodesic distance from `p` to a segment, by densifying it: samples every
/// 10 m, then every 1 m around the best, then every 1 cm around that.
pub(super) fn segment_distance(p: Point<f64>, a: [f64; 2], b: [f64; 2]) -> f64 {
    let len = Geodesic
        .distance(Point::new(a[0], a[1]), Point::new(b[0], b[1]))
        .max(1e-9);
    let (_, t) = sample_segment(p, a, b, len, 0.0, 1.0, 10.0);
    let w = 10.0 / len;
    let (_, t) = sample_segment(p, a, b, len, (t - w).max(0.0), (t + w).min(1.0), 1.0);
    let w = 1.0 / len;
    sample_segment(p, a, b, len, (t - w).max(0.0), (t + w).min(1.0), 0.01).0
}

/// Coarse distance (samples every 10 m) from `p` to a segment: at least the
/// true distance and at most 5 m more.
pub(super) fn coarse_segment_distance(p: Point<f64>, a: [f64; 2], b: [f64; 2]) -> f64 {
    let len = Geodesic
        .distance(Point::new(a[0], a[1]), Point::new(b[0], b[1]))
        .max(1e-9);
    sample_segment(p, a, b, len, 0.0, 1.0, 10.0).0
}

/// Geodesic distance from `p` to the nearest edge of any ring, exact to a
/// centimetre when it is at most 110 m (or when `precise`), otherwise a
/// coarse value within 5 m above the truth.
pub(super) fn boundary_distance(p: Point<f64>, rings: &Rings, precise: bool) -> f64 {
    let edges: Vec<([f64; 2], [f64; 2])> = rings
        .iter()
        .flat_map(|r| r.windows(2).map(|w| (w[0], w[1])))
        .collect();
    let coarse: Vec<f64> = edges
        .iter()
        .map(|&(a, b)| coarse_segment_distance(p, a, b))
        .collect();
    let best = coarse.iter().copied().fold(f64::INFINITY, f64::min);
    if best > 110.0 && !precise {
        return best;
    }
    // An edge whose coarse distance exceeds the best by over 5 m cannot hold
    // the nearest point.
    edges
        .iter()
        .zip(&coarse)
        .filter(|(_, c)| **c <= best + 5.0 + 1e-9)
        .map(|(&(a, b), _)| segment_distance(p, a, b))
        .fold(f64::INFINITY, f64::min)
}

/// A random star-shaped (usually concave) polygon of 5 to 9 vertices,
/// 120 to 600 m from its centre, sometimes with a hexagonal hole.
pub(super) fn random_polygon(rng: &mut StdRng) -> Rings {
    let (clon, clat): (f64, f64) = (
        rng.random_range(-2.44..-2.29),
        rng.random_range(53.37..53.46),
    );
    let m_lat = 111_200.0;
    let m_lon = m_lat * clat.to_radians().cos();
    let n = rng.random_range(5..=9);
    let mut outer = Vec::with_capacity(n + 1);
    let mut min_r = f64::INFINITY;
    for i in 0..n {
        let angle = (i as f64 + rng.random_range(-0.3..0.3)) * std::f64::consts::TAU / n as f64;
        let r = rng.random_range(120.0..600.0);
        min_r = f64::min(min_r, r);
        outer.push([
            clon + r * angle.cos() / m_lon,
            clat + r * angle.sin() / m_lat,
        ]);
    }
    outer.push(outer[0]);
    let mut rings = vec![outer];
    if rng.random_bool(0.3) {
        let r = 0.25 * min_r;
        let mut hole: Vec<[f64; 2]> = (0..6)
            .map(|i| {
                let angle = -(i as f64) * std::f64::consts::TAU / 6.0;
                [
                    clon + r * angle.cos() / m_lon,
                    clat + r * angle.sin() / m_lat,
                ]
            })
            .collect();
        hole.push(hole[0]);
        rings.push(hole);
    }
    rings
}

/// What a polygon search must return, worked out by brute force.
pub(super) struct PolygonCase {
    pub(super) rings: Rings,
    /// Refs that must be in the answer with buffer 0 (inside).
    pub(super) within: BTreeSet<String>,
    /// Refs within 5 cm of the boundary: either answer is accepted.
    pub(super) within_unsure: BTreeSet<String>,
    /// Refs that must be in the answer with a 100 m buffer, with their
    /// distance (0 inside).
    pub(super) buffered: BTreeMap<String, f64>,
    /// Refs within 5 cm of the buffer's edge: either answer is accepted.
    pub(super) buffered_unsure: BTreeSet<String>,
}

pub(super) const BUFFER_M: f64 = 100.0;
pub(super) const UNSURE_M: f64 = 0.05;

pub(super) fn polygon_case(sites: &[Site], rings: Rings) -> PolygonCase {
    let (mut lon0, mut lat0, mut lon1, mut lat1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in &rings[0] {
        lon0 = lon0.min(c[0]);
        lon1 = lon1.max(c[0]);
        lat0 = lat0.min(c[1]);
        lat1 = lat1.max(c[1]);
    }
    // Anything within 100 m lies inside this box grown by well over 100 m.
    let dlat = 150.0 / 111_000.0;
    let dlon = 150.0 / (111_000.0 * lat1.to_radians().cos());
    let mut case = PolygonCase {
        rings,
        within: BTreeSet::new(),
        within_unsure: BTreeSet::new(),
        buffered: BTreeMap::new(),
        buffered_unsure: BTreeSet::new(),
    };
    for s in sites {
        if s.lon < lon0 - dlon || s.lon > lon1 + dlon || s.lat < lat0 - dlat || s.lat > lat1 + dlat
        {
            continue;
        }
        let inside = ray_cast_inside([s.lon, s.lat], &case.rings);
        let d = boundary_distance(s.point(), &case.rings, false);
        let r = s.reference.clone();
        if d < UNSURE_M {
            case.within_unsure.insert(r.clone());
        } else if inside {
            case.within.insert(r.clone());
        }
        if inside {
            case.buffered.insert(r, 0.0);
        } else if (d - BUFFER_M).abs() < UNSURE_M {
            case.buffered_unsure.insert(r);
        } else if d <= BUFFER_M {
            case.buffered.insert(r, d);
        }
    }
    case
}

/// Compares a search answer with the expected refs, ignoring unsure ones.
pub(super) fn check_search(
    answer: &Value,
    expected: &BTreeSet<String>,
    unsure: &BTreeSet<String>,
    what: &str,
) {
    let got = ref_set(answer);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got
        .difference(expected)
        .filter(|r| !unsure.contains(*r))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, unexpected {extra:?} ({} expected, {} returned)",
        expected.len(),
        got.len()
    );
}

/// Queries and their brute-force answers over the trees, computed once and
/// shared by the SQLite and PostgreSQL runs.
pub(super) struct TreeCases {
    pub(super) sites: Vec<Site>,
    pub(super) nearest: Vec<(Point<f64>, usize)>,
    pub(super) boxes: Vec<[f64; 4]>,
    pub(super) polygons: Vec<PolygonCase>,
}

pub(super) static TREE_CASES: LazyLock<Option<TreeCases>> = LazyLock::new(|| {
    let path = helpers::shared_data(TREES)?;
    let file: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let started = Instant::now();
    let sites = sites(&file, "treeID");
    let mut rng = StdRng::seed_from_u64(20_240_611);

    // Nearest: random points over Trafford with assorted k, plus the sites
    // that share their position with another (exact ties at distance 0).
    let mut nearest: Vec<(Point<f64>, usize)> = (0..20)
        .map(|i| {
            let q = Point::new(rng.random_range(LON), rng.random_range(LAT));
            (q, [1, 2, 7, 25, 100][i % 5])
        })
        .collect();
    let mut at: HashMap<(u64, u64), usize> = HashMap::new();
    for s in &sites {
        *at.entry((s.lon.to_bits(), s.lat.to_bits())).or_default() += 1;
    }
    let shared: Vec<&Site> = sites
        .iter()
        .filter(|s| at[&(s.lon.to_bits(), s.lat.to_bits())] > 1)
        .collect();
    assert!(!shared.is_empty(), "the trees file has co-located trees");
    for s in shared.iter().step_by(2).take(5) {
        nearest.push((s.point(), 3));
    }

    // Boxes: random ones of assorted sizes, half of them around a random
    // tree so they hold some...
    let mut boxes: Vec<[f64; 4]> = (0..20)
        .map(|i| {
            let (w, h) = (
                rng.random_range(0.001..0.04),
                rng.random_range(0.0005..0.025),
            );
            let (x, y) = if i % 2 == 0 {
                let t = &sites[rng.random_range(0..sites.len())];
                (t.lon - w / 2.0, t.lat - h / 2.0)
            } else {
                (
                    rng.random_range(LON.start..LON.end - w),
                    rng.random_range(LAT.start..LAT.end - h),
                )
            };
            [x, y, x + w, y + h]
        })
        .collect();
    // ...some with edges exactly on trees (edges are inclusive), one a
    // single point, one with nothing inside.
    for _ in 0..4 {
        let a = &sites[rng.random_range(0..sites.len())];
        let b = &sites[rng.random_range(0..sites.len())];
        boxes.push([
            a.lon.min(b.lon),
            a.lat.min(b.lat),
            a.lon.max(b.lon),
            a.lat.max(b.lat),
        ]);
    }
    let t = &sites[rng.random_range(0..sites.len())];
    boxes.push([t.lon, t.lat, t.lon, t.lat]);
    boxes.push([-2.0, 53.0, -1.9, 53.1]);

    let polygons: Vec<PolygonCase> = (0..20)
        .map(|_| polygon_case(&sites, random_polygon(&mut rng)))
        .collect();
    eprintln!(
        "brute force over {} trees took {:?}",
        sites.len(),
        started.elapsed()
    );
    Some(TreeCases {
        sites,
        nearest,
        boxes,
        polygons,
    })
});
