//! Index answers checked against brute force over the same assets.

use geo::{Geometry, Intersects, Point, Rect, coord, polygon};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::collections::BTreeMap;

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
            source_attributes: Default::default(),
        },
        placement: Placement::default(),
        occupancy: Default::default(),
        revision: 1,
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

#[test]
fn a_fold_keeps_id_order_and_the_latest_version_of_every_asset() {
    // A base of even-numbered ids; then, in one write big enough to fold:
    // new odd ids between them (and before the first, after the last),
    // moved versions of some base assets, and deletions (first and last
    // base ids included).
    let base: Vec<Asset> = (0..3 * MIN_DELTA)
        .map(|i| {
            let p = Point::new(-2.4 + i as f64 * 1e-5, 53.4);
            asset(
                &format!("a{:06}", 2 * i + 2),
                Geometry::Point(p),
                AssetKind::LampPost,
            )
        })
        .collect();
    let index = AssetIndex::build(base.clone());
    let mut model: BTreeMap<String, Asset> =
        base.iter().map(|a| (a.id.clone(), a.clone())).collect();
    let mut upserts = Vec::new();
    for i in (0..=3 * MIN_DELTA).step_by(2) {
        let p = Point::new(-2.3, 53.3 + i as f64 * 1e-5);
        upserts.push(asset(
            &format!("a{:06}", 2 * i + 1),
            Geometry::Point(p),
            AssetKind::CctvColumn,
        ));
    }
    for a in base.iter().skip(1).step_by(3) {
        let mut moved = a.clone();
        moved.details.geometry = Geometry::Point(Point::new(-2.2, 53.5));
        upserts.push(moved);
    }
    let mut deletes: Vec<String> = base.iter().step_by(5).map(|a| a.id.clone()).collect();
    deletes.push(base.last().expect("base").id.clone());
    for a in &upserts {
        model.insert(a.id.clone(), a.clone());
    }
    for id in &deletes {
        model.remove(id);
    }
    assert!(upserts.len() + deletes.len() > MIN_DELTA, "folds");
    index.apply(upserts, deletes);
    let snap = index.snapshot();
    assert!(snap.changes.is_empty(), "the delta was folded");
    let got: Vec<(String, Geometry<f64>)> = snap
        .base
        .slots
        .iter()
        .map(|l| (l.id().to_string(), l.asset.details.geometry.clone()))
        .collect();
    let want: Vec<(String, Geometry<f64>)> = model
        .into_values()
        .map(|a| (a.id, a.details.geometry))
        .collect();
    assert_eq!(got, want);
}

/// Points and squares with every kind, status and power supply, and some
/// assets stacked on the same spot (ties broken by id).
fn varied_sample(n: usize, seed: u64) -> Vec<Asset> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out: Vec<Asset> = Vec::with_capacity(n);
    for i in 0..n {
        let mut a = if i % 7 == 3 && i > 0 {
            // Same place as an earlier asset.
            let twin = &out[rng.random_range(0..out.len())];
            asset(
                &format!("v{i:05}"),
                twin.details.geometry.clone(),
                AssetKind::Other,
            )
        } else {
            let (x, y) = (
                rng.random_range(-2.48..-2.25),
                rng.random_range(53.35..53.48),
            );
            let g = if i % 10 == 0 {
                let s = 0.0004;
                Geometry::Polygon(
                    polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s)],
                )
            } else {
                Geometry::Point(Point::new(x, y))
            };
            asset(&format!("v{i:05}"), g, AssetKind::Other)
        };
        a.details.kind = AssetKind::ALL[rng.random_range(0..AssetKind::ALL.len())];
        a.details.status = AssetStatus::ALL[rng.random_range(0..2)];
        a.details.power_supply = PowerSupply::ALL[rng.random_range(0..3)];
        a.authority = if rng.random_bool(0.5) {
            "trafford"
        } else {
            "salford"
        }
        .into();
        out.push(a);
    }
    out
}

/// Brute force: every asset passing `keep` within `max` metres, nearest
/// first, ties by id, at most `k`.
fn brute(
    assets: &[Asset],
    p: Point<f64>,
    k: usize,
    max: f64,
    keep: impl Fn(&Asset) -> bool,
) -> Vec<(String, f64)> {
    let kept: Vec<Asset> = assets.iter().filter(|a| keep(a)).cloned().collect();
    let mut all = brute_nearest(&kept, p, usize::MAX);
    all.retain(|x| x.1 <= max);
    all.truncate(k);
    all
}

fn named(v: Vec<(&Arc<Located>, f64)>) -> Vec<(String, f64)> {
    v.into_iter()
        .map(|(l, d)| (l.id().to_string(), d))
        .collect()
}

fn random_criteria(rng: &mut StdRng) -> Criteria {
    let some = |rng: &mut StdRng| rng.random_bool(0.5);
    let mut c = Criteria::default();
    if some(rng) {
        let n = rng.random_range(1..3);
        c.kinds = Some(
            (0..n)
                .map(|_| AssetKind::ALL[rng.random_range(0..7)])
                .collect(),
        );
    }
    if some(rng) {
        c.statuses = Some(vec![AssetStatus::ALL[rng.random_range(0..2)]]);
    }
    if some(rng) {
        c.power_supplies = Some(vec![PowerSupply::ALL[rng.random_range(0..3)]]);
    }
    if rng.random_bool(0.25) {
        c.authority = Some("salford".into());
    }
    c
}

#[test]
fn key_sets_agree_with_criteria_on_every_combination() {
    let mut rng = StdRng::seed_from_u64(20);
    let mut a = asset(
        "x",
        Geometry::Point(Point::new(-2.3, 53.4)),
        AssetKind::LampPost,
    );
    for _ in 0..300 {
        let c = random_criteria(&mut rng);
        let keys = KeySet::of(&c);
        let filter = criteria_filter(&c);
        for kind in AssetKind::ALL {
            for status in AssetStatus::ALL {
                for power in PowerSupply::ALL {
                    a.details.kind = kind;
                    a.details.status = status;
                    a.details.power_supply = power;
                    let by_key = keys.contains(key_of(&a.details));
                    let mut c_no_authority = c.clone();
                    c_no_authority.authority = None;
                    assert_eq!(by_key, c_no_authority.matches(&a), "{c:?} {kind:?}");
                    let layer = Layer::build(vec![Arc::new(Located::new(a.clone()))]);
                    assert_eq!(filter.passes(key_of(&a.details), &layer, 0), c.matches(&a));
                }
            }
        }
    }
}

#[test]
fn filtered_nearest_with_limits_matches_brute_force() {
    let assets = varied_sample(3000, 21);
    let index = AssetIndex::build(assets.clone());
    let snap = index.snapshot();
    let mut rng = StdRng::seed_from_u64(22);
    for round in 0..300 {
        let p = Point::new(rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let k = if round % 10 == 0 {
            rng.random_range(1000..3100)
        } else {
            rng.random_range(1..30)
        };
        let max = if rng.random_bool(0.4) {
            Some(rng.random_range(0.0..2_000.0))
        } else {
            None
        };
        let c = random_criteria(&mut rng);
        let want = brute(&assets, p, k, max.unwrap_or(f64::INFINITY), |a| {
            c.matches(a)
        });
        let got = named(snap.nearest_matching(p, k, max, &c));
        assert_same_neighbours(&got, &want);
        let got = named(snap.nearest(p, k, max, |a| c.matches(a)));
        assert_same_neighbours(&got, &want);
    }
}

#[test]
fn within_distance_matches_brute_force() {
    let assets = varied_sample(2000, 23);
    let snap = AssetIndex::build(assets.clone()).snapshot();
    let mut rng = StdRng::seed_from_u64(24);
    for _ in 0..50 {
        let p = Point::new(rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let r = rng.random_range(0.0..3_000.0);
        let is_lamp = |a: &Asset| a.details.kind == AssetKind::LampPost;
        let got = named(snap.within_distance(p, r, is_lamp));
        assert_same_neighbours(&got, &brute(&assets, p, usize::MAX, r, is_lamp));
    }
}

#[test]
fn ties_are_broken_by_id_across_base_and_delta() {
    let spot = Geometry::Point(Point::new(-2.3, 53.4));
    let base: Vec<Asset> = ["b", "d", "f"]
        .iter()
        .map(|id| asset(id, spot.clone(), AssetKind::LampPost))
        .collect();
    let index = AssetIndex::build(base);
    // Added later, so they live in the delta, on the very same spot.
    index.apply(
        ["a", "c", "e"]
            .iter()
            .map(|id| asset(id, spot.clone(), AssetKind::LampPost))
            .collect(),
        Vec::new(),
    );
    let snap = index.snapshot();
    let p = Point::new(-2.301, 53.4);
    for k in 1..=6 {
        let got: Vec<String> = named(snap.nearest(p, k, None, |_| true))
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(got, ["a", "b", "c", "d", "e", "f"][..k]);
    }
}

#[test]
fn nearest_skips_deleted_and_shadowed_assets() {
    let mut assets = varied_sample(3000, 25);
    let index = AssetIndex::build(assets.clone());
    let mut rng = StdRng::seed_from_u64(26);
    // Move, retag and delete assets across several writes, so the delta
    // holds new versions of base assets and deletions shadow others.
    for _ in 0..5 {
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        for _ in 0..40 {
            let i = rng.random_range(0..assets.len());
            if rng.random_bool(0.3) {
                deletes.push(assets.remove(i).id);
            } else {
                let a = &mut assets[i];
                a.details.geometry = Geometry::Point(Point::new(
                    rng.random_range(-2.48..-2.25),
                    rng.random_range(53.35..53.48),
                ));
                a.details.kind = AssetKind::ALL[rng.random_range(0..7)];
                upserts.push(a.clone());
            }
        }
        index.apply(upserts, deletes);
    }
    let snap = index.snapshot();
    assert!(!snap.changes.is_empty() && snap.base.slots.len() == 3000);
    assert_eq!(snap.len(), assets.len());
    for _ in 0..200 {
        let p = Point::new(rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let k = rng.random_range(1..40);
        let c = random_criteria(&mut rng);
        let want = brute(&assets, p, k, f64::INFINITY, |a| c.matches(a));
        assert_same_neighbours(&named(snap.nearest_matching(p, k, None, &c)), &want);
    }
}

#[test]
fn criteria_queries_match_brute_force() {
    let assets = varied_sample(2000, 27);
    let snap = AssetIndex::build(assets.clone()).snapshot();
    let mut rng = StdRng::seed_from_u64(28);
    let triangle = Geometry::Polygon(
        polygon![(x: -2.40, y: 53.40), (x: -2.33, y: 53.41), (x: -2.37, y: 53.45)],
    );
    for _ in 0..100 {
        let c = random_criteria(&mut rng);
        let (x0, y0) = (rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let rect = Rect::new(coord! {x: x0, y: y0}, coord! {x: x0 + 0.03, y: y0 + 0.02});
        let mut want: Vec<String> = assets
            .iter()
            .filter(|a| a.details.geometry.intersects(&rect) && c.matches(a))
            .map(|a| a.id.clone())
            .collect();
        want.sort();
        assert_eq!(ids(snap.query_matching(Some(&[rect]), &c)), want);
        let all = ids(snap.query_matching(None, &c));
        let mut want: Vec<String> = assets
            .iter()
            .filter(|a| c.matches(a))
            .map(|a| a.id.clone())
            .collect();
        want.sort();
        assert_eq!(all, want);
        let buffer = rng.random_range(0.0..300.0);
        let got: Vec<String> = snap
            .intersecting_matching(&triangle, buffer, &c)
            .into_iter()
            .map(|(l, _)| l.id().to_string())
            .collect();
        let mut want: Vec<String> = assets
            .iter()
            .filter(|a| c.matches(a))
            .filter(|a| geodesy::geometry_distance(&a.details.geometry, &triangle) <= buffer)
            .map(|a| a.id.clone())
            .collect();
        want.sort();
        assert_eq!(got, want, "{c:?} buffer {buffer}");
    }
}

/// Every plan of `select_page` (slots, entries, read and test) pages
/// through what a filter over every asset, sorted by id, gives.
#[test]
fn select_page_matches_brute_force_under_every_plan() {
    let assets = varied_sample(1500, 31);
    let snap = AssetIndex::build(assets.clone()).snapshot();
    let mut rng = StdRng::seed_from_u64(32);
    for round in 0..120 {
        let c = if round % 3 == 0 {
            Criteria::default()
        } else {
            random_criteria(&mut rng)
        };
        let (x0, y0) = (rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let rect = Rect::new(coord! {x: x0, y: y0}, coord! {x: x0 + 0.05, y: y0 + 0.03});
        let rects = (round % 2 == 0).then_some([rect]);
        let tall = rng.random_range(0.0..12.0);
        let extra =
            (round % 4 < 2).then_some(move |a: &Asset| a.details.height_m.unwrap_or(0.0) >= tall);
        let mut want: Vec<String> = assets
            .iter()
            .filter(|a| rects.is_none_or(|r| a.details.geometry.intersects(&r[0])))
            .filter(|a| c.matches(a) && extra.is_none_or(|f| f(a)))
            .map(|a| a.id.clone())
            .collect();
        want.sort();
        let (offset, limit) = (
            rng.random_range(0..want.len() + 5),
            rng.random_range(1..200),
        );
        let (matched, page) =
            snap.select_page(rects.as_ref().map(|r| &r[..]), &c, extra, offset, limit);
        assert_eq!(matched, want.len(), "round {round}");
        let expect: Vec<String> = want.into_iter().skip(offset).take(limit).collect();
        assert_eq!(ids(page), expect, "round {round}");
    }
}

/// Large enough to be built on two threads and to make trees several
/// levels deep; given shuffled and with repeated ids.
#[test]
fn shuffled_bulk_load_with_repeats_matches_brute_force() {
    use rand::seq::SliceRandom;
    let mut rng = StdRng::seed_from_u64(29);
    let mut assets: Vec<Asset> = (0..PARALLEL_FROM + 5000)
        .map(|i| {
            let id = format!("shared-prefix-of-16+ bytes/{i:06}");
            let p = Point::new(
                rng.random_range(-2.48..-2.25),
                rng.random_range(53.35..53.48),
            );
            asset(&id, Geometry::Point(p), AssetKind::ALL[i % 7])
        })
        .collect();
    // Repeat some ids with another position: the later copy must win.
    let repeats: Vec<Asset> = assets
        .iter()
        .step_by(97)
        .map(|a| {
            let mut a = a.clone();
            a.details.geometry = Geometry::Point(Point::new(-2.3, 53.4));
            a
        })
        .collect();
    assets.shuffle(&mut rng);
    let mut input = assets.clone();
    input.extend(repeats.iter().cloned());
    let index = AssetIndex::build(input);
    let snap = index.snapshot();
    for r in &repeats {
        let a = assets
            .iter_mut()
            .find(|a| a.id == r.id)
            .expect("repeat of an input");
        *a = r.clone();
    }
    assert_eq!(snap.len(), assets.len());
    let mut want: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
    want.sort();
    assert_eq!(ids(snap.query(None, |_| true)), want);
    for r in repeats.iter().take(20) {
        assert_eq!(snap.get(&r.id).map(|l| &l.asset), Some(r));
    }
    for _ in 0..40 {
        let p = Point::new(rng.random_range(-2.5..-2.2), rng.random_range(53.34..53.5));
        let k = rng.random_range(1..20);
        assert_same_neighbours(
            &named(snap.nearest(p, k, None, |_| true)),
            &brute_nearest(&assets, p, k),
        );
    }
    // Replacing the index retires this base on a background thread; the
    // snapshot held here keeps answering.
    index.replace_all(Vec::new());
    assert_eq!(snap.len(), assets.len());
    assert!(index.snapshot().is_empty());
}

#[test]
fn unfiltered_pages_walk_every_asset_once_in_id_order() {
    let mut assets = sample(700, 11);
    let index = AssetIndex::build(assets.clone());
    let check = |snap: &Snapshot, assets: &[Asset]| {
        let mut want: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
        want.sort();
        for (offset, limit) in [
            (0, 100),
            (250, 97),
            (650, 100),
            (699, 5),
            (700, 10),
            (900, 3),
        ] {
            let got = ids(snap.page(offset, limit));
            let expect: Vec<String> = want.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(got, expect, "offset {offset} limit {limit}");
        }
        let mut walked = Vec::new();
        let mut offset = 0;
        loop {
            let page = ids(snap.page(offset, 64));
            if page.is_empty() {
                break;
            }
            offset += page.len();
            walked.extend(page);
        }
        assert_eq!(walked, want);
    };
    // The owning cursor of bulk downloads walks the same order.
    let cursor_walks = |snap: Arc<Snapshot>, assets: &[Asset]| {
        let mut want: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
        want.sort();
        let got: Vec<String> = Cursor::new(snap).map(|l| l.id().to_string()).collect();
        assert_eq!(got, want);
    };
    check(&index.snapshot(), &assets);
    cursor_walks(index.snapshot(), &assets);
    // With changes pending in the delta: a move, a delete, two additions
    // (one sorting first, one last).
    let mut moved = assets[3].clone();
    moved.details.geometry = Geometry::Point(Point::new(-2.3, 53.4));
    let first = asset(
        "a",
        Geometry::Point(Point::new(-2.3, 53.41)),
        AssetKind::Wall,
    );
    let last = asset(
        "zz",
        Geometry::Point(Point::new(-2.3, 53.42)),
        AssetKind::Wall,
    );
    let deleted = assets[10].id.clone();
    index.apply(
        vec![moved.clone(), first.clone(), last.clone()],
        vec![deleted.clone()],
    );
    assets[3] = moved;
    assets.retain(|a| a.id != deleted);
    assets.extend([first, last]);
    let snap = index.snapshot();
    assert_eq!(snap.len(), assets.len());
    check(&snap, &assets);
    cursor_walks(snap, &assets);
}

/// The lon/lat carried in point entries is free only while a leaf is no
/// bigger than rstar's parent node, which sets the size of every child.
#[test]
fn point_entries_fit_in_the_node_enum() {
    use rstar::ParentNode;
    use std::mem::size_of;
    assert!(size_of::<PointEntry>() <= size_of::<ParentNode<PointEntry>>());
    assert_eq!(
        size_of::<rstar::RTreeNode<PointEntry>>(),
        size_of::<rstar::RTreeNode<ShapeEntry>>()
    );
}
