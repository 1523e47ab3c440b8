//! Index answers checked against brute force over the same assets.

use std::collections::BTreeMap;

use geo::{Geometry, Intersects, Point, Rect, coord, polygon};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::*;
use crate::domain::asset::{AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply};

fn asset(id: &str, geometry: Geometry<f64>, kind: AssetKind) -> Asset {
    Asset {
        id: id.to_string(),
        authority: "trafford".into(),
        details: AssetDetails {
            asset_ref: id.to_string(),
            kind,
            geometry,
            height_m: None,
            power_supply: PowerSupply::None,
            capacity: 1,
            load_rating_kg: None,
            last_inspected: None,
            install_year: None,
            status: AssetStatus::Available,
            listed: false,
            photo_url: None,
            source_attributes: BTreeMap::new(),
        },
        placement: Placement::default(),
    }
}

/// Points scattered over Trafford plus a few small square "rooftops".
fn sample(n: usize, seed: u64) -> Vec<Asset> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let lon = rng.random_range(-2.48..-2.25);
            let lat = rng.random_range(53.35..53.48);
            if i % 10 == 0 {
                let s = 0.0004;
                let sq = polygon![(x: lon, y: lat), (x: lon + s, y: lat), (x: lon + s, y: lat + s), (x: lon, y: lat + s)];
                asset(&format!("a{i:05}"), Geometry::Polygon(sq), AssetKind::Rooftop)
            } else {
                asset(&format!("a{i:05}"), Geometry::Point(Point::new(lon, lat)), AssetKind::LampPost)
            }
        })
        .collect()
}

fn brute_nearest(assets: &[Asset], p: Point<f64>, k: usize) -> Vec<(String, f64)> {
    let mut all: Vec<(String, f64)> = assets
        .iter()
        .map(|a| {
            let d = match &a.details.geometry {
                Geometry::Point(q) => geodesy::point_distance(p, *q),
                g => geodesy::geometry_distance(&Geometry::Point(p), g),
            };
            (a.id.clone(), d)
        })
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

/// Same ids in the same order, with distances equal to 0.1 mm (the index
/// turns chords into geodesic metres; the brute force uses Karney).
fn assert_same_neighbours(got: &[(String, f64)], want: &[(String, f64)]) {
    let ids = |v: &[(String, f64)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(ids(got), ids(want));
    for (g, w) in got.iter().zip(want) {
        assert!((g.1 - w.1).abs() < 1e-4, "{}: {} vs {}", g.0, g.1, w.1);
    }
}

fn ids<'a>(v: impl IntoIterator<Item = &'a Arc<Located>>) -> Vec<String> {
    v.into_iter().map(|l| l.id().to_string()).collect()
}

#[test]
fn nearest_matches_brute_force() {
    let assets = sample(3000, 1);
    let index = AssetIndex::build(assets.clone());
    let snap = index.snapshot();
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..200 {
        let p = Point::new(rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let k = rng.random_range(1..25);
        let got: Vec<(String, f64)> = snap
            .nearest(p, k, None, |_| true)
            .into_iter()
            .map(|(l, d)| (l.id().to_string(), d))
            .collect();
        let want = brute_nearest(&assets, p, k);
        assert_same_neighbours(&got, &want);
    }
}

#[test]
fn bbox_matches_brute_force() {
    let assets = sample(3000, 3);
    let index = AssetIndex::build(assets.clone());
    let snap = index.snapshot();
    let mut rng = StdRng::seed_from_u64(4);
    for _ in 0..200 {
        let (x0, y0) = (rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let (w, h) = (rng.random_range(0.0..0.05), rng.random_range(0.0..0.03));
        let rect = Rect::new(coord! {x: x0, y: y0}, coord! {x: x0 + w, y: y0 + h});
        let got = ids(snap.query(Some(&[rect]), |a| {
            a.details.kind == AssetKind::LampPost || w > 0.02
        }));
        let mut want: Vec<String> = assets
            .iter()
            .filter(|a| a.details.geometry.intersects(&rect))
            .filter(|a| a.details.kind == AssetKind::LampPost || w > 0.02)
            .map(|a| a.id.clone())
            .collect();
        want.sort();
        assert_eq!(got, want);
    }
}

#[test]
fn polygon_search_with_buffer_matches_brute_force() {
    let assets = sample(2000, 5);
    let index = AssetIndex::build(assets.clone());
    let snap = index.snapshot();
    let triangle = Geometry::Polygon(
        polygon![(x: -2.40, y: 53.40), (x: -2.33, y: 53.41), (x: -2.37, y: 53.45)],
    );
    for buffer in [0.0, 50.0, 400.0] {
        let got: Vec<String> = snap
            .intersecting(&triangle, buffer, |_| true)
            .into_iter()
            .map(|(l, _)| l.id().to_string())
            .collect();
        let mut want: Vec<String> = assets
            .iter()
            .filter(|a| geodesy::geometry_distance(&a.details.geometry, &triangle) <= buffer)
            .map(|a| a.id.clone())
            .collect();
        want.sort();
        assert!(!want.is_empty());
        assert_eq!(got, want, "buffer {buffer}");
    }
}

#[test]
fn writes_show_in_new_snapshots_and_not_old_ones() {
    let mut assets = sample(500, 6);
    let index = AssetIndex::build(assets.clone());
    let before = index.snapshot();
    // Move one asset, delete another, add a new one.
    let mut moved = assets[1].clone();
    moved.details.geometry = Geometry::Point(Point::new(-2.30, 53.46));
    let added = asset(
        "zz-new",
        Geometry::Point(Point::new(-2.31, 53.46)),
        AssetKind::CctvColumn,
    );
    let deleted = assets[2].id.clone();
    index.apply(vec![moved.clone(), added.clone()], vec![deleted.clone()]);
    let after = index.snapshot();
    assert_eq!(before.len(), 500);
    assert_eq!(after.len(), 500);
    assert!(after.get(&deleted).is_none());
    assert!(before.get(&deleted).is_some());
    assets[1] = moved;
    assets.retain(|a| a.id != deleted);
    assets.push(added);
    let p = Point::new(-2.305, 53.459);
    let got: Vec<(String, f64)> = after
        .nearest(p, 5, None, |_| true)
        .into_iter()
        .map(|(l, d)| (l.id().to_string(), d))
        .collect();
    assert_same_neighbours(&got, &brute_nearest(&assets, p, 5));
    let all = ids(after.query(None, |_| true));
    let mut want: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
    want.sort();
    assert_eq!(all, want);
}

#[test]
fn many_writes_fold_into_the_base_without_losing_any() {
    let index = AssetIndex::build(Vec::new());
    let assets = sample(MIN_DELTA + 500, 7);
    for chunk in assets.chunks(1000) {
        index.apply(chunk.to_vec(), Vec::new());
    }
    let snap = index.snapshot();
    assert_eq!(snap.len(), assets.len());
    assert!(snap.base.slots.len() > MIN_DELTA, "the delta was folded");
    let victims: Vec<String> = assets.iter().step_by(3).map(|a| a.id.clone()).collect();
    index.apply(Vec::new(), victims.clone());
    let snap = index.snapshot();
    assert_eq!(snap.len(), assets.len() - victims.len());
    assert!(victims.iter().all(|v| snap.get(v).is_none()));
}
