//! Heap bytes per asset held by the index: what the server's resident
//! memory is made of, counted exactly rather than read off `VmRSS`.
//!
//! Run with `cargo bench --bench memory` (N assets, default 1,000,000, or
//! `STREETCELL_MEMORY_N`). The assets are `bench/gen_assets.py`'s register
//! as the server loads it: ids of the service's shape, one authority, a
//! ref, height, install year and one source attribute per asset. Prints the
//! bytes a counting allocator saw requested for the assets alone, for the
//! index built over them, and for every feature's GeoJSON kept (what the
//! feature cache costs per asset once full). Requested bytes, not the
//! allocator's size classes: the server's RSS is higher by its rounding
//! and free pages.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use geo::{Geometry, Point};
use rand::{Rng, SeedableRng, rngs::StdRng};

use streetcell::domain::asset::{
    Asset, AssetDetails, AssetKind, AssetStatus, Names, Placement, PowerSupply, SourceAttributes,
};
use streetcell::index::{AssetIndex, FeatureCache, Located};

/// The system allocator, counting bytes in use.
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn in_use() -> isize {
    IN_USE.load(Ordering::Relaxed)
}

/// `n` assets like `bench/gen_assets.py` writes and the server loads.
fn register(n: usize) -> Vec<Asset> {
    const KINDS: [AssetKind; 5] = [
        AssetKind::LampPost,
        AssetKind::CctvColumn,
        AssetKind::TrafficSignal,
        AssetKind::BusShelter,
        AssetKind::Rooftop,
    ];
    let mut rng = StdRng::seed_from_u64(7946);
    let mut names = Names::default();
    (0..n)
        .map(|i| {
            let asset_ref = format!("SYN-{i:07}");
            let column = ["steel", "concrete", "aluminium"][rng.random_range(0..3)];
            Asset {
                id: streetcell::domain::asset::asset_id("synthetic", &asset_ref),
                authority: names.intern("synthetic"),
                details: AssetDetails {
                    asset_ref,
                    kind: KINDS[rng.random_range(0..KINDS.len())],
                    geometry: Geometry::Point(Point::new(
                        rng.random_range(-2.75..-1.90),
                        rng.random_range(53.30..53.70),
                    )),
                    height_m: Some(f64::from(rng.random_range(5..13))),
                    power_supply: PowerSupply::PartNight,
                    capacity: 1,
                    load_rating_kg: None,
                    last_inspected: None,
                    install_year: Some(rng.random_range(1965..2025)),
                    status: AssetStatus::Available,
                    listed: false,
                    photo_url: None,
                    source_attributes: SourceAttributes::from([("column_type", column)]),
                },
                placement: Placement::default(),
                occupancy: Default::default(),
                revision: 1,
            }
        })
        .collect()
}

fn main() {
    let n: usize = std::env::var("STREETCELL_MEMORY_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `cargo bench` passes `--bench`; a filter that names nothing here skips.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && a != "memory")
    {
        return;
    }
    let per = |bytes: isize| bytes as f64 / n as f64;
    println!(
        "size_of: Asset {} B, Located {} B, AssetDetails {} B, Geometry {} B",
        size_of::<Asset>(),
        size_of::<Located>(),
        size_of::<AssetDetails>(),
        size_of::<Geometry<f64>>()
    );
    let start = in_use();
    let assets = register(n);
    let assets_bytes = in_use() - start;
    let vec_bytes = (assets.capacity() * size_of::<Asset>()) as isize;
    println!(
        "assets as loaded: {:.0} B per asset ({:.0} B inline, {:.0} B of strings and attributes)",
        per(assets_bytes),
        per(vec_bytes),
        per(assets_bytes - vec_bytes)
    );
    let index = AssetIndex::build(assets);
    let index_bytes = in_use() - start;
    println!(
        "index over {n} assets: {:.0} B per asset ({:.0} MB)",
        per(index_bytes),
        index_bytes as f64 / 1e6
    );
    FeatureCache::process().set_budget(usize::MAX);
    let snapshot = index.snapshot();
    let mut out = Vec::new();
    let mut encoded = 0usize;
    for l in streetcell::index::Cursor::new(snapshot) {
        out.clear();
        streetcell::geojson_io::write_located(&mut out, &l, |_| {});
        encoded += out.len();
    }
    let kept_bytes = in_use() - start - index_bytes;
    println!(
        "every feature kept: {:.0} B per asset more (GeoJSON {:.0} B per feature), {:.0} B per asset in all",
        per(kept_bytes),
        encoded as f64 / n as f64,
        per(in_use() - start)
    );
}
