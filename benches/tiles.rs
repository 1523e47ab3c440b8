//! Benchmarks of vector-tile building over the bundled Trafford demo
//! (`data/demo/`: 17,108 assets loaded, 21 wards), the way a request builds one:
//! index query, projection, clipping, simplification, MVT encoding.
//!
//! Run with `cargo bench --bench tiles`. Groups:
//! - `assets`: the densest z14 tile over Trafford (its asset count is
//!   printed first), every z14 tile that holds an asset in turn, and the
//!   densest z16 and z12 tiles.
//! - `wards`: every z14 ward tile in turn (clipping full-resolution ward
//!   polygons), and the z12 tile holding most wards.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

use streetcell::domain::area::{Area, AreaLayer};
use streetcell::domain::asset::Asset;
use streetcell::domain::asset::asset_id;
use streetcell::import::{Mapping, parse_areas_geojson, parse_geojson};
use streetcell::index::AssetIndex;
use streetcell::index::areas::AreaIndex;
use streetcell::ogc::tiles::{TileId, areas_tile, assets_tile, world};

fn demo(file: &str) -> Vec<u8> {
    std::fs::read(format!("{}/data/demo/{file}", env!("CARGO_MANIFEST_DIR"))).expect("demo data")
}

/// The demo's wards and assets, placed as the service places them.
fn trafford() -> (Arc<AreaIndex>, AssetIndex) {
    let wards = parse_areas_geojson(&demo("wards.geojson"), "name")
        .expect("wards")
        .into_iter()
        .filter_map(|a| a.outcome.ok())
        .enumerate()
        .map(|(i, (name, geometry))| Area {
            id: i as i64 + 1,
            authority: "trafford".into(),
            layer: AreaLayer::Ward,
            name,
            geometry,
        })
        .collect();
    let areas = Arc::new(AreaIndex::build(wards));
    let assets: Vec<Asset> = parse_geojson(&demo("assets.geojson"), &Mapping::default())
        .expect("assets")
        .into_iter()
        .filter_map(|r| r.outcome.ok())
        .map(|details| Asset {
            id: asset_id("trafford", &details.asset_ref),
            authority: "trafford".into(),
            placement: areas.place("trafford", &details),
            occupancy: Default::default(),
            revision: 1,
            details,
        })
        .collect();
    (areas, AssetIndex::build(assets))
}

/// Tiles at zoom `z` holding the assets' anchor points, with their counts,
/// most crowded first.
fn occupied(index: &AssetIndex, z: u8) -> Vec<(TileId, usize)> {
    let n = f64::from(1u32 << z);
    let mut counts: HashMap<(u32, u32), usize> = HashMap::new();
    for l in index.snapshot().query(None, |_| true) {
        let c = l.bbox().center();
        let w = world(c.x, c.y);
        *counts
            .entry(((w[0] * n) as u32, (w[1] * n) as u32))
            .or_default() += 1;
    }
    let mut out: Vec<(TileId, usize)> = counts
        .into_iter()
        .filter_map(|((x, y), c)| Some((TileId::new(z, x, y)?, c)))
        .collect();
    out.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(a.0.x.cmp(&b.0.x))
            .then(a.0.y.cmp(&b.0.y))
    });
    out
}

fn bench(c: &mut Criterion) {
    let (areas, index) = trafford();
    let snap = index.snapshot();

    let mut g = c.benchmark_group("assets");
    for z in [12u8, 14, 16] {
        let (t, count) = occupied(&index, z)[0];
        let bytes = assets_tile(&snap, "assets", t).unwrap();
        println!(
            "densest z{z} tile {}/{}/{}: {count} assets (anchors), {} bytes",
            t.z,
            t.y,
            t.x,
            bytes.len()
        );
        // Where the time goes: the index query alone, for comparison.
        let started = std::time::Instant::now();
        for _ in 0..20 {
            black_box(snap.query(Some(&[t.lonlat_bounds()][..]), |_| true));
        }
        println!(
            "  index query alone: {:.0} µs",
            started.elapsed().as_secs_f64() * 1e6 / 20.0
        );
        g.bench_function(format!("densest_z{z}"), |b| {
            b.iter(|| assets_tile(&snap, "assets", black_box(t)))
        });
    }
    let all14: Vec<TileId> = occupied(&index, 14).into_iter().map(|(t, _)| t).collect();
    println!("{} z14 tiles hold assets", all14.len());
    let mut i = 0;
    g.bench_function("every_z14_in_turn", |b| {
        b.iter(|| {
            i = (i + 1) % all14.len();
            assets_tile(&snap, "assets", all14[i])
        })
    });
    g.finish();

    let mut g = c.benchmark_group("wards");
    let mut j = 0;
    g.bench_function("every_z14_in_turn", |b| {
        b.iter(|| {
            j = (j + 1) % all14.len();
            areas_tile(&areas, AreaLayer::Ward, "wards", all14[j])
        })
    });
    let (t12, _) = occupied(&index, 12)[0];
    g.bench_function("densest_z12", |b| {
        b.iter(|| areas_tile(&areas, AreaLayer::Ward, "wards", black_box(t12)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
