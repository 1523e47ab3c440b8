//! GeoJSON encoding speed: how fast a page of assets is written to bytes,
//! which bounds a full export (issue target: 1M features at >= 100 MB/s).
//!
//! Run with `cargo bench --bench encode`. A page of 10,000 point assets
//! shaped like `bench/gen_assets.py`'s register (a ward, a fee zone, one
//! source attribute) is written as one FeatureCollection, as
//! `/collections/assets/items?limit=10000` does, in CRS84 and in British
//! National Grid (each position converted with OSTN15), and in CRS84 from
//! each asset's kept encoding (`Located::geojson`, what a page copies once
//! the assets on it have been served before). Criterion reports bytes per
//! second.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::{Geometry, Point};
use rand::{Rng, SeedableRng, rngs::StdRng};

use streetcell::domain::asset::{
    Asset, AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply,
};
use streetcell::geojson_io::{
    begin_collection, end_collection, write_asset_feature, write_located,
};
use streetcell::index::Located;
use streetcell::ogc::crs::Crs;

const PAGE: usize = 10_000;

fn page() -> Vec<Asset> {
    let mut rng = StdRng::seed_from_u64(7946);
    (0..PAGE)
        .map(|i| {
            let id = format!("synthetic-{i:016x}");
            let mut source_attributes = BTreeMap::new();
            source_attributes.insert("column_type".to_string(), "steel".into());
            Asset {
                authority: "synthetic".into(),
                details: AssetDetails {
                    asset_ref: format!("SYN-{i:07}"),
                    kind: AssetKind::LampPost,
                    geometry: Geometry::Point(Point::new(
                        rng.random_range(-2.75..-1.9),
                        rng.random_range(53.3..53.7),
                    )),
                    height_m: Some(8.0),
                    power_supply: PowerSupply::PartNight,
                    capacity: 1,
                    load_rating_kg: None,
                    last_inspected: None,
                    install_year: Some(rng.random_range(1965..2025)),
                    status: AssetStatus::Available,
                    listed: false,
                    photo_url: None,
                    source_attributes: source_attributes.into(),
                },
                placement: Placement {
                    ward: Some("Stretford and Humphrey Park".into()),
                    fee_zone: Some("suburban".into()),
                    in_conservation_area: false,
                },
                occupancy: Default::default(),
                revision: 1,
                id,
            }
        })
        .collect()
}

fn encode(assets: &[Asset], crs: Crs, out: &mut Vec<u8>) {
    out.clear();
    begin_collection(out, &[("numberReturned", &assets.len())]);
    for (i, a) in assets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_asset_feature(out, a, &|c| crs.output(c), |_| {});
    }
    end_collection(out);
}

fn bench(c: &mut Criterion) {
    let assets = page();
    let mut out = Vec::with_capacity(8 << 20);
    let mut group = c.benchmark_group("encode_page_10k");
    for (name, crs) in [("crs84", Crs::Crs84), ("epsg27700", Crs::Bng)] {
        encode(&assets, crs, &mut out);
        eprintln!("{name}: {} bytes per 10,000-feature page", out.len());
        group.throughput(Throughput::Bytes(out.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                encode(black_box(&assets), crs, &mut out);
                black_box(out.len())
            })
        });
    }
    // Kept encodings: each asset in its own allocation, as in the index.
    let located: Vec<Located> = assets.into_iter().map(Located::new).collect();
    let kept = |out: &mut Vec<u8>| {
        out.clear();
        begin_collection(out, &[("numberReturned", &located.len())]);
        for (i, l) in located.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_located(out, l, |_| {});
        }
        end_collection(out);
    };
    kept(&mut out);
    group.throughput(Throughput::Bytes(out.len() as u64));
    group.bench_function("crs84_kept", |b| {
        b.iter(|| {
            kept(&mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
