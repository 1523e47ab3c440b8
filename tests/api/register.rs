//! The register over HTTP against answers worked out independently: real
//! Trafford open data imported through the API, then queried and compared
//! with brute force computed here from the same files (geodesic distances
//! with `geo::Geodesic`, point-in-polygon by ray casting, distance to a
//! polygon's boundary by densifying its edges), with the publisher's own
//! ward names, and with itself across a restart and a second writer.
//!
//! One file: the tests share the independent readers of the source files and
//! the brute-force geometry defined at its top; splitting would export them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;
use std::time::Instant;

use geo::{Distance, Geodesic, Point};
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{self, TestApp};
use crate::on_both_databases;

const AUTHORITY: &str = "trafford";
const GEOJSON: &str = "application/geo+json";
const TREES: &str = "trafford-street-assets/trafford_highways_trees.geojson";
const CCTV: &str = "trafford-street-assets/trafford_cctv_cameras.geojson";
const WARDS: &str = "trafford-boundaries/trafford_ward_2023_full_resolution.geojson";
const CONSERVATION: &str = "trafford-boundaries/trafford_conservation_areas.geojson";

/// Trafford, for random query points and boxes.
const LON: std::ops::Range<f64> = -2.48..-2.25;
const LAT: std::ops::Range<f64> = 53.35..53.48;

// ---------------------------------------------------------------------------
// Reading the source files independently of the importer.
// ---------------------------------------------------------------------------

/// One point feature of a source file: the ref it should get and where it is.
#[derive(Debug, Clone)]
struct Site {
    reference: String,
    lon: f64,
    lat: f64,
}

impl Site {
    fn point(&self) -> Point<f64> {
        Point::new(self.lon, self.lat)
    }
}

/// A ref as the file writes it: text, or a JSON number (`1001.0` is `1001`).
fn ref_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => panic!("unexpected ref value {other}"),
    }
}

/// The Point features of a GeoJSON file, with refs from `ref_property`.
fn sites(file: &Value, ref_property: &str) -> Vec<Site> {
    file["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            assert_eq!(f["geometry"]["type"], "Point");
            Site {
                reference: ref_text(&f["properties"][ref_property]),
                lon: c[0].as_f64().expect("lon"),
                lat: c[1].as_f64().expect("lat"),
            }
        })
        .collect()
}

/// A shared data file's bytes and its parsed JSON, or `None` when absent.
fn shared_file(rel: &str) -> Option<(Vec<u8>, Value)> {
    let path = helpers::shared_data(rel)?;
    let bytes = std::fs::read(&path).expect("read shared data");
    let value = serde_json::from_slice(&bytes).expect("shared data is JSON");
    Some((bytes, value))
}

// ---------------------------------------------------------------------------
// HTTP helpers.
// ---------------------------------------------------------------------------

/// Creates the authority and returns its staff token.
async fn trafford(app: &TestApp) -> String {
    app.authority(AUTHORITY).await
}

/// Imports GeoJSON bytes as `kind` with refs from `ref_field`.
async fn import(app: &TestApp, token: &str, kind: &str, ref_field: &str, body: Vec<u8>) -> Value {
    let path = format!("/v1/authorities/{AUTHORITY}/imports?kind={kind}&ref_field={ref_field}");
    let (s, b) = app.post_bytes(&path, Some(token), GEOJSON, body).await;
    assert_eq!(s, 200, "import: {b}");
    b
}

/// GETs `path`, asserting 200.
async fn get_ok(app: &TestApp, token: &str, path: &str) -> Value {
    let (s, b) = app.get(path, Some(token)).await;
    assert_eq!(s, 200, "GET {path}: {b}");
    b
}

/// `numberMatched` of the whole register.
async fn count(app: &TestApp, token: &str) -> u64 {
    get_ok(app, token, "/v1/assets?limit=1").await["numberMatched"]
        .as_u64()
        .expect("numberMatched")
}

/// Every asset in the register, page by page.
async fn all_assets(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = get_ok(
            app,
            token,
            &format!("/v1/assets?limit=10000&offset={}", out.len()),
        )
        .await;
        let features = page["features"].as_array().expect("features").clone();
        let matched = page["numberMatched"].as_u64().expect("numberMatched") as usize;
        let done = features.is_empty();
        out.extend(features);
        if done || out.len() >= matched {
            assert_eq!(out.len(), matched, "paging lost or repeated features");
            return out;
        }
    }
}

fn features(collection: &Value) -> &Vec<Value> {
    collection["features"].as_array().expect("features")
}

fn ref_of(feature: &Value) -> &str {
    feature["properties"]["ref"].as_str().expect("ref")
}

/// The refs of a collection, asserting none repeats.
fn ref_set(collection: &Value) -> BTreeSet<String> {
    let fs = features(collection);
    let set: BTreeSet<String> = fs.iter().map(|f| ref_of(f).to_string()).collect();
    assert_eq!(set.len(), fs.len(), "a ref repeats in the answer");
    set
}

/// The id of the asset with `reference`, from a listing.
fn id_by_ref(assets: &[Value], reference: &str) -> String {
    assets
        .iter()
        .find(|f| ref_of(f) == reference)
        .and_then(|f| f["id"].as_str())
        .unwrap_or_else(|| panic!("no asset with ref {reference}"))
        .to_string()
}

async fn nearest(app: &TestApp, token: &str, lon: f64, lat: f64, k: usize) -> Value {
    get_ok(
        app,
        token,
        &format!("/v1/assets/nearest?lon={lon}&lat={lat}&k={k}"),
    )
    .await
}

// ---------------------------------------------------------------------------
// Brute force.
// ---------------------------------------------------------------------------

/// Every site with its geodesic distance from `q`, closest first.
fn by_distance(sites: &[Site], q: Point<f64>) -> Vec<(f64, &str)> {
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
fn check_nearest(answer: &Value, sites: &[Site], q: Point<f64>, k: usize) {
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
fn in_box(sites: &[Site], b: [f64; 4]) -> BTreeSet<String> {
    sites
        .iter()
        .filter(|s| b[0] <= s.lon && s.lon <= b[2] && b[1] <= s.lat && s.lat <= b[3])
        .map(|s| s.reference.clone())
        .collect()
}

/// Polygon rings as `[lon, lat]` positions, closed.
type Rings = Vec<Vec<[f64; 2]>>;

/// Even-odd ray casting over every ring (so holes are outside).
fn ray_cast_inside(p: [f64; 2], rings: &Rings) -> bool {
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
fn sample_segment(
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
fn segment_distance(p: Point<f64>, a: [f64; 2], b: [f64; 2]) -> f64 {
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
fn coarse_segment_distance(p: Point<f64>, a: [f64; 2], b: [f64; 2]) -> f64 {
    let len = Geodesic
        .distance(Point::new(a[0], a[1]), Point::new(b[0], b[1]))
        .max(1e-9);
    sample_segment(p, a, b, len, 0.0, 1.0, 10.0).0
}

/// Geodesic distance from `p` to the nearest edge of any ring, exact to a
/// centimetre when it is at most 110 m (or when `precise`), otherwise a
/// coarse value within 5 m above the truth.
fn boundary_distance(p: Point<f64>, rings: &Rings, precise: bool) -> f64 {
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
fn random_polygon(rng: &mut StdRng) -> Rings {
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
struct PolygonCase {
    rings: Rings,
    /// Refs that must be in the answer with buffer 0 (inside).
    within: BTreeSet<String>,
    /// Refs within 5 cm of the boundary: either answer is accepted.
    within_unsure: BTreeSet<String>,
    /// Refs that must be in the answer with a 100 m buffer, with their
    /// distance (0 inside).
    buffered: BTreeMap<String, f64>,
    /// Refs within 5 cm of the buffer's edge: either answer is accepted.
    buffered_unsure: BTreeSet<String>,
}

const BUFFER_M: f64 = 100.0;
const UNSURE_M: f64 = 0.05;

fn polygon_case(sites: &[Site], rings: Rings) -> PolygonCase {
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
fn check_search(
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
struct TreeCases {
    sites: Vec<Site>,
    nearest: Vec<(Point<f64>, usize)>,
    boxes: Vec<[f64; 4]>,
    polygons: Vec<PolygonCase>,
}

static TREE_CASES: LazyLock<Option<TreeCases>> = LazyLock::new(|| {
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

// ---------------------------------------------------------------------------
// 1 and 2. The highway trees: import at scale, then nearest, bbox and
// polygon search against brute force.
// ---------------------------------------------------------------------------

async fn trees_import_and_queries(app: TestApp) {
    let Some((bytes, file)) = shared_file(TREES) else {
        return;
    };
    let token = trafford(&app).await;

    // Independent count: distinct treeIDs as read here.
    let features_in_file = file["features"].as_array().expect("features").len();
    let distinct: HashSet<String> = file["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| ref_text(&f["properties"]["treeID"]))
        .collect();
    assert_eq!(features_in_file, 15_638, "PROVENANCE gives 15,638 trees");
    assert_eq!(
        distinct.len(),
        features_in_file,
        "every tree has its own treeID"
    );
    let n = distinct.len();

    let started = Instant::now();
    let first = import(&app, &token, "lamp_post", "treeID", bytes.clone()).await;
    eprintln!("first import of {n} trees: {:?}", started.elapsed());
    assert_eq!(first["inserted"], n, "{first}");
    assert_eq!(first["updated"], 0, "{first}");
    assert_eq!(first["rejected"], json!([]), "{first}");

    let started = Instant::now();
    let again = import(&app, &token, "lamp_post", "treeID", bytes).await;
    eprintln!("re-import: {:?}", started.elapsed());
    assert_eq!(again["inserted"], 0, "{again}");
    assert_eq!(again["updated"], n, "{again}");
    assert_eq!(again["rejected"], json!([]), "{again}");
    assert_eq!(count(&app, &token).await, n as u64);

    let listed = all_assets(&app, &token).await;
    let listed_refs: HashSet<String> = listed.iter().map(|f| ref_of(f).to_string()).collect();
    assert_eq!(
        listed_refs, distinct,
        "the register holds exactly the file's trees"
    );
    let ids: HashSet<&str> = listed
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), n, "ids are unique");

    let cases = tokio::task::block_in_place(|| TREE_CASES.as_ref()).expect("trees file read");
    let sites = &cases.sites;
    let started = Instant::now();

    for &(q, k) in &cases.nearest {
        let answer = nearest(&app, &token, q.x(), q.y(), k).await;
        check_nearest(&answer, sites, q, k);
    }

    for b in &cases.boxes {
        let bbox = format!("{},{},{},{}", b[0], b[1], b[2], b[3]);
        let answer = get_ok(&app, &token, &format!("/v1/assets?bbox={bbox}&limit=10000")).await;
        let expected = in_box(sites, *b);
        assert!(expected.len() < 10_000, "box {bbox} too big for one page");
        assert_eq!(answer["numberMatched"], expected.len(), "bbox {bbox}");
        assert_eq!(ref_set(&answer), expected, "bbox {bbox}");
    }
    let nonempty = cases
        .boxes
        .iter()
        .filter(|b| !in_box(sites, **b).is_empty())
        .count();
    assert!(nonempty >= 18, "most boxes hold trees ({nonempty})");

    for (i, case) in cases.polygons.iter().enumerate() {
        let geometry = json!({"type": "Polygon", "coordinates": case.rings});
        for buffer in [0.0, BUFFER_M] {
            let (s, answer) = app
                .json(
                    Method::POST,
                    "/v1/assets/search",
                    Some(&token),
                    &json!({"geometry": geometry, "buffer_m": buffer}),
                )
                .await;
            assert_eq!(s, 200, "search: {answer}");
            let what = format!("polygon {i} buffer {buffer} ({geometry})");
            if buffer == 0.0 {
                check_search(&answer, &case.within, &case.within_unsure, &what);
            } else {
                let expected: BTreeSet<String> = case.buffered.keys().cloned().collect();
                check_search(&answer, &expected, &case.buffered_unsure, &what);
                for f in features(&answer) {
                    let Some(want) = case.buffered.get(ref_of(f)) else {
                        continue;
                    };
                    let got = f["properties"]["distance_m"].as_f64().expect("distance_m");
                    assert!(
                        (got - want).abs() <= 0.02,
                        "{what}: {} reported {got} m from the polygon, brute force {want} m",
                        ref_of(f)
                    );
                }
            }
        }
    }
    let hits: usize = cases.polygons.iter().map(|c| c.within.len()).sum();
    let buffered: usize = cases.polygons.iter().map(|c| c.buffered.len()).sum();
    assert!(
        hits > 100 && buffered > hits,
        "the polygons cover trees ({hits} inside, {buffered} with buffer)"
    );
    eprintln!(
        "{} nearest, {} bbox, {} polygon queries ({hits} trees inside, {buffered} \
         within 100 m) checked in {:?}",
        cases.nearest.len(),
        cases.boxes.len(),
        2 * cases.polygons.len(),
        started.elapsed()
    );
}

on_both_databases!(
    trees_import_and_queries_match_brute_force,
    trees_import_and_queries
);

// ---------------------------------------------------------------------------
// 3. CCTV cameras land in the ward the publisher names.
// ---------------------------------------------------------------------------

async fn cctv_wards(app: TestApp) {
    let Some((cctv_bytes, cctv)) = shared_file(CCTV) else {
        return;
    };
    let Some((wards, _)) = shared_file(WARDS) else {
        return;
    };
    let Some((conservation, _)) = shared_file(CONSERVATION) else {
        return;
    };
    let token = trafford(&app).await;

    let (s, b) = app
        .post_bytes(
            &format!("/v1/authorities/{AUTHORITY}/areas?layer=ward&name_field=area_name"),
            Some(&token),
            GEOJSON,
            wards,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["loaded"], 21, "{b}");
    assert_eq!(b["rejected"], json!([]), "{b}");

    let report = import(&app, &token, "cctv_column", "camera_id", cctv_bytes).await;
    assert_eq!(report["inserted"], 163, "{report}");
    assert_eq!(report["rejected"], json!([]), "{report}");

    let expected: BTreeMap<String, String> = cctv["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                ref_text(&p["camera_id"]),
                p["area_name"].as_str().expect("area_name").to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 163);

    let assets = all_assets(&app, &token).await;
    assert_eq!(assets.len(), 163);
    let placed: BTreeMap<String, Option<String>> = assets
        .iter()
        .map(|f| {
            (
                ref_of(f).to_string(),
                f["properties"]["ward"].as_str().map(str::to_string),
            )
        })
        .collect();
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(r, ward)| placed.get(*r) != Some(&Some((*ward).clone())))
        .map(|(r, ward)| format!("{r}: publisher {ward:?}, register {:?}", placed.get(r)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of 163 cameras in the wrong ward: {wrong:#?}",
        wrong.len()
    );
    assert!(
        assets
            .iter()
            .all(|f| f["properties"]["in_conservation_area"] == false)
    );

    // Following `next` links, 50 at a time, visits each camera once; each
    // page links back with `prev` to the one before.
    let link = |page: &Value, rel: &str| {
        page["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == rel)
            .map(|l| l["href"].as_str().expect("href").to_string())
    };
    let mut walked = Vec::new();
    let mut href = Some("/v1/assets?limit=50".to_string());
    let mut previous: Option<String> = None;
    while let Some(h) = href {
        let page = get_ok(&app, &token, &h).await;
        assert_eq!(link(&page, "self").as_deref(), Some(h.as_str()));
        let back = link(&page, "prev");
        match &previous {
            None => assert_eq!(back, None, "first page has no prev"),
            Some(p) => assert_eq!(
                get_ok(&app, &token, back.as_deref().expect("prev")).await["features"],
                get_ok(&app, &token, p).await["features"],
                "prev of {h} is not {p}"
            ),
        }
        walked.extend(features(&page).iter().map(|f| ref_of(f).to_string()));
        previous = Some(h);
        href = link(&page, "next");
    }
    assert_eq!(walked.len(), 163, "4 pages of 50, 50, 50, 13");
    let walked: BTreeSet<String> = walked.into_iter().collect();
    assert_eq!(walked, expected.keys().cloned().collect::<BTreeSet<_>>());

    let (s, b) = app
        .post_bytes(
            &format!(
                "/v1/authorities/{AUTHORITY}/areas?layer=conservation_area&name_field=site_name"
            ),
            Some(&token),
            GEOJSON,
            conservation,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["loaded"], 21, "{b}");
    let assets = all_assets(&app, &token).await;
    let inside: Vec<&str> = assets
        .iter()
        .filter(|f| f["properties"]["in_conservation_area"] == true)
        .map(ref_of)
        .collect();
    assert_eq!(
        inside.len(),
        12,
        "PROVENANCE puts 12 cameras in conservation areas: {inside:?}"
    );
    // Loading another layer leaves the wards as they were.
    for f in &assets {
        assert_eq!(
            f["properties"]["ward"].as_str(),
            Some(expected[ref_of(f)].as_str())
        );
    }
}

on_both_databases!(cctv_cameras_land_in_the_publishers_wards, cctv_wards);

// ---------------------------------------------------------------------------
// 4. Data survives a restart.
// ---------------------------------------------------------------------------

async fn survives_restart(app: TestApp) {
    let Some((cctv_bytes, _)) = shared_file(CCTV) else {
        return;
    };
    let token = trafford(&app).await;
    import(&app, &token, "cctv_column", "camera_id", cctv_bytes).await;
    let assets = all_assets(&app, &token).await;
    let id = id_by_ref(&assets, "1001");

    let (s, patched) = app
        .json(
            Method::PATCH,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &json!({"properties": {"height_m": 9.5, "power_supply": "continuous", "status": "unavailable"}}),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["properties"]["height_m"], 9.5);

    let before_count = count(&app, &token).await;
    let before_asset = get_ok(&app, &token, &format!("/v1/assets/{id}")).await;
    let (lon, lat) = (-2.3, 53.45);
    let before_nearest = nearest(&app, &token, lon, lat, 25).await;
    assert_eq!(before_count, 163);

    let app = app.restart().await;
    // The token was stored, so it still works.
    assert_eq!(count(&app, &token).await, before_count);
    let after_asset = get_ok(&app, &token, &format!("/v1/assets/{id}")).await;
    assert_eq!(
        after_asset, before_asset,
        "the patched asset changed across a restart"
    );
    assert_eq!(after_asset["properties"]["height_m"], 9.5);
    assert_eq!(after_asset["properties"]["power_supply"], "continuous");
    assert_eq!(after_asset["properties"]["status"], "unavailable");
    let after_nearest = nearest(&app, &token, lon, lat, 25).await;
    assert_eq!(
        after_nearest, before_nearest,
        "nearest changed across a restart"
    );
    assert_eq!(
        all_assets(&app, &token).await,
        assets_after_patch(assets, &before_asset)
    );
}

/// The listing before the patch with the patched feature swapped in.
fn assets_after_patch(mut assets: Vec<Value>, patched: &Value) -> Vec<Value> {
    for f in &mut assets {
        if f["id"] == patched["id"] {
            *f = patched.clone();
        }
    }
    assets
}

on_both_databases!(register_survives_a_restart, survives_restart);

// ---------------------------------------------------------------------------
// 5. Writes show up at once; another process's writes after catch_up.
// ---------------------------------------------------------------------------

fn refs_in(answer: &Value) -> Vec<String> {
    features(answer)
        .iter()
        .map(|f| ref_of(f).to_string())
        .collect()
}

async fn writes_visible(app: TestApp) {
    let Some((cctv_bytes, cctv)) = shared_file(CCTV) else {
        return;
    };
    let token = trafford(&app).await;
    import(&app, &token, "cctv_column", "camera_id", cctv_bytes).await;
    let sites = sites(&cctv, "camera_id");
    let assets = all_assets(&app, &token).await;
    let moved = &sites[10];
    let id = id_by_ref(&assets, &moved.reference);

    // PUT moves the asset to a spot with no camera near it.
    let (to_lon, to_lat) = (-2.4512, 53.4101);
    let nearest_site = by_distance(&sites, Point::new(to_lon, to_lat))[0].0;
    assert!(nearest_site > 500.0, "the new spot is clear of cameras");
    let (s, b) = app
        .json(
            Method::PUT,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [to_lon, to_lat]},
                "properties": {"ref": moved.reference, "kind": "cctv_column", "height_m": 6.0},
            }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let answer = nearest(&app, &token, to_lon, to_lat, 3).await;
    assert_eq!(features(&answer)[0]["id"], id.as_str(), "{answer}");
    assert_eq!(features(&answer)[0]["properties"]["distance_m"], 0.0);
    let answer = nearest(&app, &token, moved.lon, moved.lat, 5).await;
    assert!(
        !refs_in(&answer).contains(&moved.reference),
        "still at its old spot: {answer}"
    );
    let d = 0.0005;
    let old_box = format!(
        "{},{},{},{}",
        moved.lon - d,
        moved.lat - d,
        moved.lon + d,
        moved.lat + d
    );
    let new_box = format!(
        "{},{},{},{}",
        to_lon - d,
        to_lat - d,
        to_lon + d,
        to_lat + d
    );
    let listed = get_ok(&app, &token, &format!("/v1/assets?bbox={old_box}")).await;
    assert!(!refs_in(&listed).contains(&moved.reference));
    let listed = get_ok(&app, &token, &format!("/v1/assets?bbox={new_box}")).await;
    assert_eq!(refs_in(&listed), vec![moved.reference.clone()]);

    // DELETE removes it from the list and from nearest.
    let (s, b) = app
        .json(
            Method::DELETE,
            &format!("/v1/assets/{id}"),
            Some(&token),
            &Value::Null,
        )
        .await;
    assert_eq!(s, 204, "{b}");
    let (s, _) = app.get(&format!("/v1/assets/{id}"), Some(&token)).await;
    assert_eq!(s, 404);
    assert_eq!(count(&app, &token).await, 162);
    assert!(
        !all_assets(&app, &token)
            .await
            .iter()
            .any(|f| f["id"] == id.as_str())
    );
    let answer = nearest(&app, &token, to_lon, to_lat, 3).await;
    assert!(
        !refs_in(&answer).contains(&moved.reference),
        "deleted but still nearest: {answer}"
    );
    let listed = get_ok(&app, &token, &format!("/v1/assets?bbox={new_box}")).await;
    assert_eq!(listed["numberMatched"], 0);

    // A second process writes the same database: one new asset, one moved,
    // one deleted. This server sees them once it catches up.
    use streetcell::domain::asset::{AssetDetails, AssetKind, AssetStatus, PowerSupply};
    let other = streetcell::store::Store::connect(&app.db_url)
        .await
        .expect("second store");
    let details = |reference: &str, lon: f64, lat: f64| AssetDetails {
        asset_ref: reference.to_string(),
        kind: AssetKind::LampPost,
        geometry: geo::Geometry::Point(Point::new(lon, lat)),
        height_m: Some(10.0),
        power_supply: PowerSupply::PartNight,
        capacity: 2,
        load_rating_kg: None,
        last_inspected: None,
        install_year: Some(2019),
        status: AssetStatus::Available,
        listed: false,
        photo_url: None,
        source_attributes: BTreeMap::new(),
    };
    let (new_lon, new_lat) = (-2.4405, 53.3702);
    let shifted = &sites[20];
    let (shift_lon, shift_lat) = (-2.3011, 53.3791);
    let gone = &sites[30];
    let written = other
        .upsert_assets(
            AUTHORITY,
            &[
                details("EXT-1", new_lon, new_lat),
                details(&shifted.reference, shift_lon, shift_lat),
            ],
        )
        .await
        .expect("second process writes");
    let new_id = written[0].id.clone();
    let gone_id = id_by_ref(&assets, &gone.reference);
    assert_eq!(
        other
            .delete_asset(&gone_id)
            .await
            .expect("second process deletes"),
        streetcell::store::Deleted::Yes
    );
    other.close().await;

    // Not yet seen (no catch-up loop runs in tests)...
    let (s, _) = app.get(&format!("/v1/assets/{new_id}"), Some(&token)).await;
    assert_eq!(s, 404, "seen before catch_up");
    // ...then seen.
    let refreshed = app.register.catch_up().await.expect("catch up");
    assert!(refreshed >= 3, "catch_up refreshed {refreshed}");
    let fetched = get_ok(&app, &token, &format!("/v1/assets/{new_id}")).await;
    assert_eq!(fetched["properties"]["ref"], "EXT-1");
    assert_eq!(fetched["properties"]["power_supply"], "part_night");
    let answer = nearest(&app, &token, new_lon, new_lat, 1).await;
    assert_eq!(refs_in(&answer), vec!["EXT-1".to_string()]);
    let answer = nearest(&app, &token, shift_lon, shift_lat, 1).await;
    assert_eq!(refs_in(&answer), vec![shifted.reference.clone()]);
    assert_eq!(features(&answer)[0]["properties"]["kind"], "lamp_post");
    let answer = nearest(&app, &token, shifted.lon, shifted.lat, 3).await;
    assert!(!refs_in(&answer).contains(&shifted.reference), "{answer}");
    let (s, _) = app
        .get(&format!("/v1/assets/{gone_id}"), Some(&token))
        .await;
    assert_eq!(s, 404, "deleted by the other process but still served");
    let answer = nearest(&app, &token, gone.lon, gone.lat, 3).await;
    assert!(!refs_in(&answer).contains(&gone.reference), "{answer}");
    assert_eq!(count(&app, &token).await, 162);
    // Catching up again changes nothing.
    let before = all_assets(&app, &token).await;
    app.register.catch_up().await.expect("catch up");
    assert_eq!(all_assets(&app, &token).await, before);
}

on_both_databases!(
    writes_are_visible_at_once_and_after_catch_up,
    writes_visible
);

// ---------------------------------------------------------------------------
// 6. Concurrent overlapping imports.
// ---------------------------------------------------------------------------

const FILES: usize = 8;
const PER_FILE: usize = 16;
const STRIDE: usize = 4;

/// File `i` of the concurrent imports: refs `C-{i*STRIDE}..` in a varying
/// order, each tagged with the file it came from.
fn overlapping_file(i: usize) -> Vec<u8> {
    let mut refs: Vec<usize> = (i * STRIDE..i * STRIDE + PER_FILE).collect();
    if i % 2 == 1 {
        refs.reverse();
    }
    let features: Vec<Value> = refs
        .iter()
        .map(|&j| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35 + j as f64 * 0.0003, 53.42 + (j % 7) as f64 * 0.0002]},
                "properties": {"ref": format!("C-{j:03}"), "kind": "lamp_post", "file": i},
            })
        })
        .collect();
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).expect("json")
}

async fn concurrent_imports(app: TestApp) {
    let token = trafford(&app).await;
    let union: BTreeSet<String> = (0..(FILES - 1) * STRIDE + PER_FILE)
        .map(|j| format!("C-{j:03}"))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..FILES {
        let client = app.client.clone();
        let url = app.url(&format!("/v1/authorities/{AUTHORITY}/imports"));
        let token = token.clone();
        tasks.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", GEOJSON)
                .body(overlapping_file(i))
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (i, status, body)
        });
    }
    let mut inserted = 0;
    let mut written = 0;
    while let Some(done) = tasks.join_next().await {
        let (i, status, body) = done.expect("task");
        assert_eq!(status, 200, "import {i}: {body}");
        assert_eq!(body["rejected"], json!([]), "import {i}: {body}");
        inserted += body["inserted"].as_u64().expect("inserted");
        written += body["inserted"].as_u64().unwrap() + body["updated"].as_u64().expect("updated");
    }
    assert_eq!(
        inserted as usize,
        union.len(),
        "each ref inserted exactly once"
    );
    assert_eq!(written as usize, FILES * PER_FILE);

    let listed = all_assets(&app, &token).await;
    let refs: Vec<&str> = listed.iter().map(ref_of).collect();
    let set: BTreeSet<String> = refs.iter().map(|r| r.to_string()).collect();
    assert_eq!(refs.len(), set.len(), "duplicate refs: {refs:?}");
    assert_eq!(set, union);
    assert_eq!(count(&app, &token).await as usize, union.len());

    // The index holds what the database holds: a restart reloads it from
    // the database and must give the same features.
    let app = app.restart().await;
    assert_eq!(
        all_assets(&app, &token).await,
        listed,
        "index and database disagree"
    );
}

on_both_databases!(
    concurrent_overlapping_imports_end_with_the_union,
    concurrent_imports
);

on_both_databases!(
    a_ref_cannot_change_so_reimports_find_the_same_asset,
    |app: TestApp| async move {
        let staff = app.authority("trafford").await;
        let feature = |r: &str| {
            serde_json::json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.35, 53.39]},
                "properties": {"ref": r, "kind": "lamp_post"}})
        };
        let (s, b) = app
            .json(
                reqwest::Method::POST,
                "/v1/authorities/trafford/assets",
                Some(&staff),
                &feature("OLD"),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let id = b["id"].as_str().unwrap().to_string();
        let path = format!("/v1/assets/{id}");
        let (s, b) = app
            .json(
                reqwest::Method::PATCH,
                &path,
                Some(&staff),
                &serde_json::json!({"properties": {"ref": "NEW"}}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "ref");
        let (s, b) = app
            .json(reqwest::Method::PUT, &path, Some(&staff), &feature("NEW"))
            .await;
        assert_eq!(s, 422, "{b}");
        // Re-importing the same ref updates the same asset.
        let body = serde_json::to_vec(
            &serde_json::json!({"type": "FeatureCollection", "features": [feature("OLD")]}),
        )
        .unwrap();
        let (s, b) = app
            .post_bytes(
                "/v1/authorities/trafford/imports",
                Some(&staff),
                "application/geo+json",
                body,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["inserted"].as_u64(), b["updated"].as_u64()),
            (Some(0), Some(1))
        );
    }
);
