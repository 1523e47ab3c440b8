//! Site searches over an area holding 50,000 candidates: 50,000 point assets
//! spread uniformly over a 5 km × 5 km square in Sale (lon −2.38..−2.305,
//! lat 53.40..53.445), all of which pass the hard constraints, searched with
//! that square as the `area`.
//!
//! Run with `cargo bench --bench site_search`. What is timed is the hot path
//! of `POST /v1/site-searches` after parsing: the index query for the area
//! (`Snapshot::intersecting`), then `matching::run` (constraints, scores,
//! ordering, selection, the `rejected_by` counts, and in coverage mode the
//! covered region's union of discs). Not timed: the quote (a handful of
//! sites) and writing the GeoJSON.
//!
//! Groups:
//! - `spacing`: 10 sites 150 m apart; 1,000 sites 150 m apart.
//! - `coverage`: 20 sites, 200 m discs, 150 m apart, over the documented
//!   sample grid (no demand given); the same with 1,000 weighted demand
//!   points; 100 sites over the grid.
//!
//! Before the benches it prints, for 1,000 random small instances (≤ 20
//! candidates, ≤ 4 sites), the worst ratio of greedy and of greedy + local
//! search to the exact optimum found by brute force.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Destination, Geodesic, Geometry, Point};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;

use streetcell::domain::asset::{
    Asset, AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply,
};
use streetcell::domain::matching::coverage::{Instance, exact, solve};
use streetcell::domain::matching::earth::Place as At;
use streetcell::domain::matching::{self, Limits, SiteSearchRequest};
use streetcell::index::AssetIndex;

/// The server's allocator (`main.rs`), so allocations cost what they cost
/// when served.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 50_000;
const LON: (f64, f64) = (-2.38, -2.305);
const LAT: (f64, f64) = (53.40, 53.445);

fn asset(i: usize, rng: &mut StdRng) -> Asset {
    let id = format!("a{i:06}");
    Asset {
        authority: "trafford".into(),
        details: AssetDetails {
            asset_ref: id.clone(),
            kind: AssetKind::LampPost,
            geometry: Geometry::Point(Point::new(
                rng.random_range(LON.0..LON.1),
                rng.random_range(LAT.0..LAT.1),
            )),
            height_m: Some(rng.random_range(4.0..14.0)),
            power_supply: if rng.random_bool(0.5) {
                PowerSupply::Continuous
            } else {
                PowerSupply::PartNight
            },
            capacity: 2,
            load_rating_kg: None,
            last_inspected: None,
            install_year: None,
            status: AssetStatus::Available,
            listed: false,
            photo_url: None,
            source_attributes: Default::default(),
        },
        placement: Placement::default(),
        occupancy: Default::default(),
        revision: 1,
        id,
    }
}

fn area() -> serde_json::Value {
    serde_json::json!({"type": "Polygon", "coordinates": [[
        [LON.0, LAT.0], [LON.1, LAT.0], [LON.1, LAT.1], [LON.0, LAT.1], [LON.0, LAT.0]
    ]]})
}

fn spec(v: serde_json::Value) -> matching::SearchSpec {
    let req: SiteSearchRequest = serde_json::from_value(v).expect("request");
    req.parse(time::macros::date!(2026 - 11 - 30), &Limits::default())
        .expect("valid request")
}

fn random_instance(rng: &mut StdRng) -> Instance {
    let centre = Point::new(-2.35, 53.42);
    let at = |rng: &mut StdRng| {
        let bearing = rng.random_range(0.0..360.0);
        let d = rng.random_range(0.0..800.0);
        At::new(Geodesic.destination(centre, bearing, d))
    };
    let n = rng.random_range(1..=20);
    let m = rng.random_range(5..=40);
    let sites = (0..n).map(|_| at(rng)).collect();
    let demand = (0..m)
        .map(|_| (at(rng), f64::from(rng.random_range(1u32..=10))))
        .collect();
    Instance {
        sites,
        demand,
        radius_m: rng.random_range(100.0..400.0),
        min_spacing_m: if rng.random_bool(0.7) {
            rng.random_range(0.0..500.0)
        } else {
            0.0
        },
        k: rng.random_range(1..=4),
    }
}

fn report_gap() {
    let mut rng = StdRng::seed_from_u64(2026);
    let (mut g, mut f) = (1.0f64, 1.0f64);
    let (mut g_sum, mut f_sum, mut n, mut below) = (0.0, 0.0, 0, 0);
    for _ in 0..1_000 {
        let inst = random_instance(&mut rng);
        let sol = solve(&inst);
        let best = exact(&inst);
        if best > 0.0 {
            g = g.min(sol.greedy / best);
            f = f.min(sol.covered / best);
            g_sum += sol.greedy / best;
            f_sum += sol.covered / best;
            n += 1;
            if sol.covered < best - 1e-9 {
                below += 1;
            }
        }
    }
    eprintln!(
        "brute force, 1,000 instances (≤20 candidates, ≤4 sites): greedy worst {g:.4} mean {:.4}; \
         greedy+swaps worst {f:.4} mean {:.4}; short of the optimum in {below}",
        g_sum / f64::from(n),
        f_sum / f64::from(n)
    );
}

fn bench(c: &mut Criterion) {
    report_gap();
    let mut rng = StdRng::seed_from_u64(50_000);
    let assets: Vec<Asset> = (0..N).map(|i| asset(i, &mut rng)).collect();
    let index = AssetIndex::build(assets);
    let snap = index.snapshot();
    let gbp: std::sync::Arc<str> = "GBP".into();
    let fee = |_: &Asset| Some((Decimal::new(27_000, 2), gbp.clone()));

    let run = |s: &matching::SearchSpec| {
        let matching::Place::Area(g) = &s.place else {
            unreachable!()
        };
        let inside: Vec<matching::Found> = snap
            .intersecting(g, 0.0, |_| true)
            .into_iter()
            .map(|(l, distance)| matching::Found {
                asset: &l.asset,
                distance,
                xyz: l.point_ecef(),
            })
            .collect();
        let out = matching::run(s, inside, snap.len(), fee);
        (
            out.chosen.len(),
            out.candidates,
            out.coverage.map(|c| c.fraction),
        )
    };

    let spacing10 =
        spec(serde_json::json!({"area": area(), "sites_wanted": 10, "min_spacing_m": 150}));
    let spacing1000 =
        spec(serde_json::json!({"area": area(), "sites_wanted": 1000, "min_spacing_m": 150}));
    let grid20 = spec(serde_json::json!({"area": area(), "sites_wanted": 20,
        "min_spacing_m": 150, "coverage_radius_m": 200}));
    let grid100 = spec(serde_json::json!({"area": area(), "sites_wanted": 100,
        "min_spacing_m": 150, "coverage_radius_m": 200}));
    let mut drng = StdRng::seed_from_u64(7);
    let demand: Vec<serde_json::Value> = (0..1_000)
        .map(|_| {
            serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
                drng.random_range(LON.0..LON.1), drng.random_range(LAT.0..LAT.1)]},
                "properties": {"weight": drng.random_range(1..100)}})
        })
        .collect();
    let demand20 = spec(serde_json::json!({"area": area(), "sites_wanted": 20,
        "min_spacing_m": 150, "coverage_radius_m": 200,
        "demand": {"type": "FeatureCollection", "features": demand}}));
    for (name, s) in [
        ("spacing10", &spacing10),
        ("spacing1000", &spacing1000),
        ("grid20", &grid20),
        ("grid100", &grid100),
        ("demand20", &demand20),
    ] {
        let (chosen, candidates, fraction) = run(s);
        eprintln!("{name}: {candidates} candidates, {chosen} chosen, coverage {fraction:?}");
    }

    let mut g = c.benchmark_group("spacing");
    g.sample_size(20);
    g.bench_function("50k_candidates_10_sites", |b| {
        b.iter(|| black_box(run(&spacing10)))
    });
    g.bench_function("50k_candidates_1000_sites", |b| {
        b.iter(|| black_box(run(&spacing1000)))
    });
    g.finish();
    let mut g = c.benchmark_group("coverage");
    g.sample_size(10);
    g.bench_function("50k_candidates_20_sites_grid", |b| {
        b.iter(|| black_box(run(&grid20)))
    });
    g.bench_function("50k_candidates_20_sites_1000_demand", |b| {
        b.iter(|| black_box(run(&demand20)))
    });
    g.bench_function("50k_candidates_100_sites_grid", |b| {
        b.iter(|| black_box(run(&grid100)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
