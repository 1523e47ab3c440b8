//! Benchmarks of the in-memory asset index at the scale of a large metropolitan
//! register: 1,000,000 point assets spread uniformly over Greater Manchester
//! (lon −2.75..−1.9, lat 53.3..53.7, about 2,500 km², so ~400 assets per km²).
//!
//! Run with `cargo bench --bench index`. Everything is generated from fixed
//! seeds, outside the timed sections, so runs are comparable.
//!
//! Groups:
//! - `build`: `AssetIndex::build` of 1M assets. That is, per asset, a
//!   `Located` (lon/lat bbox and ECEF envelope, with its trigonometry) in its
//!   own `Arc`; then the sort of the slots by id (and dedup); then the R-tree
//!   bulk load of one `Entry` (slot + envelope) per asset. Measured with the
//!   input in random order (ids not sorted, as a database without `ORDER BY`
//!   may return them) and already in id order (the sort's best case).
//! - `nearest`: k=10 nearest from random points, with no filter and with a
//!   common and a rare kind filter, given as a closure over the asset and
//!   as `Criteria` (what the HTTP handlers pass).
//! - `bbox`: a ~500 m × 500 m box (0.0075° × 0.0045°), which holds ~100
//!   assets on average at this density (the mean, min and max counts over
//!   the 10,000 boxes are printed before that bench runs).
//! - `apply`: one upsert (an asset moved) on the 1M index with no other
//!   pending change; what readers pay meanwhile (taking a snapshot, and k=10
//!   nearest on a snapshot holding the change); and the same single upsert
//!   with 1,000 / 4,000 changes already pending in the delta (it is folded
//!   into the base past max(4096, base/256) = 4,096 changes at 1M), plus
//!   k=10 nearest on the snapshot with 4,000 pending; and one write of
//!   5,000 moved assets, which folds the delta into a new 1M base (what a
//!   large import's publication does).
//!
//! Queries cycle through 10,000 pre-generated points (or boxes), so each
//! iteration walks a different path through the tree.
//!
//! Expensive fixtures are built lazily inside the benches that use them, so
//! a filtered run such as `cargo bench --bench index -- nearest` skips them.

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use geo::{Geometry, Point, Rect, coord};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};

use streetcell::domain::asset::{
    Asset, AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply,
};
use streetcell::domain::criteria::Criteria;
use streetcell::index::AssetIndex;

const N: usize = 1_000_000;
const QUERIES: usize = 10_000;
const LON: (f64, f64) = (-2.75, -1.9);
const LAT: (f64, f64) = (53.3, 53.7);
/// Half-sizes of the bbox query: 0.0075° × 0.0045° is ≈ 500 m × 500 m at
/// 53.5°N, 3.375e-5 deg² of the 0.34 deg² area, so ~99 of 1M assets.
const BOX_HALF: (f64, f64) = (0.00375, 0.00225);

/// A synthetic point asset, like `src/index/tests.rs` builds.
fn asset(id: String, lon: f64, lat: f64, kind: AssetKind) -> Asset {
    Asset {
        authority: "manchester".into(),
        details: AssetDetails {
            asset_ref: id.clone(),
            kind,
            geometry: Geometry::Point(Point::new(lon, lat)),
            height_m: Some(8.0),
            power_supply: PowerSupply::PartNight,
            capacity: 1,
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

/// A plausible mix of street furniture: mostly lamp posts.
fn kind(rng: &mut StdRng) -> AssetKind {
    match rng.random_range(0..100) {
        0..75 => AssetKind::LampPost,
        75..85 => AssetKind::TrafficSignal,
        85..93 => AssetKind::BusShelter,
        93..98 => AssetKind::CctvColumn,
        _ => AssetKind::Other,
    }
}

/// `n` assets with ids `a0000001`.. in id order.
fn assets(n: usize, seed: u64) -> Vec<Asset> {
    let mut rng = StdRng::seed_from_u64(seed);
    (1..=n)
        .map(|i| {
            let lon = rng.random_range(LON.0..LON.1);
            let lat = rng.random_range(LAT.0..LAT.1);
            let k = kind(&mut rng);
            asset(format!("a{i:07}"), lon, lat, k)
        })
        .collect()
}

fn points(n: usize, seed: u64, margin: (f64, f64)) -> Vec<Point<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            Point::new(
                rng.random_range(LON.0 + margin.0..LON.1 - margin.0),
                rng.random_range(LAT.0 + margin.1..LAT.1 - margin.1),
            )
        })
        .collect()
}

fn boxes(n: usize, seed: u64) -> Vec<Rect<f64>> {
    points(n, seed, BOX_HALF)
        .into_iter()
        .map(|c| {
            Rect::new(
                coord! {x: c.x() - BOX_HALF.0, y: c.y() - BOX_HALF.1},
                coord! {x: c.x() + BOX_HALF.0, y: c.y() + BOX_HALF.1},
            )
        })
        .collect()
}

/// Cycles through a slice, so successive iterations take different paths
/// through the tree rather than one cached one.
struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    fn new(items: &'a [T]) -> Self {
        Cycle { items, next: 0 }
    }
    fn next(&mut self) -> &'a T {
        let item = &self.items[self.next];
        self.next = (self.next + 1) % self.items.len();
        item
    }
}

fn index_benches(c: &mut Criterion) {
    // Expensive fixtures are built lazily, on the first call of a bench that
    // needs them, so a filtered run (`cargo bench --bench index -- nearest`)
    // skips the ones it does not use.
    let sorted = assets(N, 1);
    let shuffled: OnceCell<Vec<Asset>> = OnceCell::new();
    let index: OnceCell<AssetIndex> = OnceCell::new();
    let main_index = || index.get_or_init(|| AssetIndex::build(sorted.clone()));
    let queries = points(QUERIES, 3, (0.0, 0.0));
    let rects = boxes(QUERIES, 4);

    // --- build -----------------------------------------------------------
    {
        let mut g = c.benchmark_group("build");
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(10));
        // Cloning the input (setup) and dropping the index are not timed.
        g.bench_function("1M_points_random_order", |b| {
            let input = shuffled.get_or_init(|| {
                let mut v = sorted.clone();
                v.shuffle(&mut StdRng::seed_from_u64(2));
                v
            });
            b.iter_batched(|| input.clone(), AssetIndex::build, BatchSize::LargeInput)
        });
        g.bench_function("1M_points_id_order", |b| {
            b.iter_batched(|| sorted.clone(), AssetIndex::build, BatchSize::LargeInput)
        });
        g.finish();
    }
    drop(shuffled);

    // --- nearest ---------------------------------------------------------
    {
        let mut g = c.benchmark_group("nearest");
        g.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        let mut q = Cycle::new(&queries);
        g.bench_function("k10_no_filter", |b| {
            let snap = main_index().snapshot();
            b.iter(|| black_box(snap.nearest(*q.next(), 10, None, |_| true).len()))
        });
        let mut q = Cycle::new(&queries);
        g.bench_function("k10_kind_lamp_post_75pct", |b| {
            let snap = main_index().snapshot();
            let f = |a: &Asset| a.details.kind == AssetKind::LampPost;
            b.iter(|| black_box(snap.nearest(*q.next(), 10, None, f).len()))
        });
        let mut q = Cycle::new(&queries);
        g.bench_function("k10_kind_cctv_column_5pct", |b| {
            let snap = main_index().snapshot();
            let f = |a: &Asset| a.details.kind == AssetKind::CctvColumn;
            b.iter(|| black_box(snap.nearest(*q.next(), 10, None, f).len()))
        });
        // The HTTP handlers pass `Criteria`, whose kind, status and power
        // supply the index tests on its own per-entry key, never reading
        // the asset.
        for (name, kind) in [
            ("k10_criteria_lamp_post_75pct", AssetKind::LampPost),
            ("k10_criteria_cctv_column_5pct", AssetKind::CctvColumn),
        ] {
            let mut q = Cycle::new(&queries);
            let c = Criteria {
                kinds: Some(vec![kind]),
                ..Criteria::default()
            };
            g.bench_function(name, |b| {
                let snap = main_index().snapshot();
                b.iter(|| black_box(snap.nearest_matching(*q.next(), 10, None, &c).len()))
            });
        }
        g.finish();
    }

    // --- bbox ------------------------------------------------------------
    {
        let mut g = c.benchmark_group("bbox");
        g.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        let mut r = Cycle::new(&rects);
        let mut counted = false;
        g.bench_function("500m_square_about_100_hits", |b| {
            let snap = main_index().snapshot();
            if !counted {
                counted = true;
                let counts: Vec<usize> = rects
                    .iter()
                    .map(|r| snap.query(Some(std::slice::from_ref(r)), |_| true).len())
                    .collect();
                let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
                let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
                eprintln!(
                    "bbox: the {QUERIES} boxes of 0.0075° × 0.0045° hold {mean:.1} assets \
                     on average (min {lo}, max {hi})"
                );
            }
            b.iter(|| {
                let rect = r.next();
                black_box(snap.query(Some(std::slice::from_ref(rect)), |_| true).len())
            })
        });
        g.finish();
    }

    // --- apply -----------------------------------------------------------
    {
        let mut g = c.benchmark_group("apply");
        g.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        // One asset moved back and forth between two spots: the delta holds
        // this one change (plus any pending ones) on every iteration.
        let mover = &sorted[N / 2];
        let spots = [Point::new(-2.2446, 53.4794), Point::new(-2.2450, 53.4790)];
        let mut turn = 0usize;
        let mut moved = || {
            turn += 1;
            let mut a = mover.clone();
            a.details.geometry = Geometry::Point(spots[turn % 2]);
            vec![a]
        };

        g.bench_function("upsert_1_no_pending", |b| {
            let index = main_index();
            b.iter_batched(
                &mut moved,
                |u| index.apply(u, Vec::new()),
                BatchSize::SmallInput,
            )
        });
        // Readers: taking a snapshot, and querying one that holds a change.
        g.bench_function("reader_snapshot_load", |b| {
            let index = main_index();
            b.iter(|| black_box(index.snapshot()))
        });
        let mut q = Cycle::new(&queries);
        g.bench_function("reader_nearest_k10_with_1_pending", |b| {
            let snap = main_index().snapshot();
            b.iter(|| black_box(snap.nearest(*q.next(), 10, None, |_| true).len()))
        });

        // The same write with many changes pending in the delta (folding
        // happens past max(4096, base/256) = 4,096 changes at 1M).
        g.sampling_mode(SamplingMode::Flat);
        for pending in [1_000usize, 4_000] {
            let cell: OnceCell<AssetIndex> = OnceCell::new();
            let pending_index = || {
                cell.get_or_init(|| {
                    let index = AssetIndex::build(sorted.clone());
                    // Other assets, each nudged ~0.7 m east, in one write.
                    let upserts: Vec<Asset> = sorted
                        .iter()
                        .step_by(N / pending)
                        .filter(|a| a.id != mover.id)
                        .take(pending)
                        .map(|a| {
                            let mut a = a.clone();
                            if let Geometry::Point(p) = &mut a.details.geometry {
                                p.set_x(p.x() + 0.00001);
                            }
                            a
                        })
                        .collect();
                    index.apply(upserts, Vec::new());
                    index
                })
            };
            g.sample_size(20);
            g.bench_function(format!("upsert_1_{pending}_pending"), |b| {
                let index = pending_index();
                b.iter_batched(
                    &mut moved,
                    |u| index.apply(u, Vec::new()),
                    BatchSize::SmallInput,
                )
            });
            if pending == 4_000 {
                g.sample_size(50);
                let mut q = Cycle::new(&queries);
                g.bench_function("reader_nearest_k10_with_4000_pending", |b| {
                    let snap = pending_index().snapshot();
                    b.iter(|| black_box(snap.nearest(*q.next(), 10, None, |_| true).len()))
                });
            }
        }
        // A write big enough to fold: 5,000 assets nudged ~0.7 m east, then
        // back, in turn.
        g.sample_size(10);
        let mut nudge = 0.0;
        g.bench_function("fold_5000", |b| {
            let index = main_index();
            b.iter_batched(
                || {
                    nudge = if nudge > 0.0 { -0.00001 } else { 0.00001 };
                    sorted
                        .iter()
                        .step_by(N / 5_000)
                        .map(|a| {
                            let mut a = a.clone();
                            if let Geometry::Point(p) = &mut a.details.geometry {
                                p.set_x(p.x() + nudge);
                            }
                            a
                        })
                        .collect::<Vec<Asset>>()
                },
                |u| index.apply(u, Vec::new()),
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, index_benches);
criterion_main!(benches);
