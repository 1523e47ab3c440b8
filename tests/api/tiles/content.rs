//! Tile contents against brute force: assets, ward intersections, and the
//! thinning of low zooms.
use super::*;

async fn asset_tiles_match_brute_force(app: &TestApp, assets: &[DemoAsset]) -> usize {
    let mut checked = 0;
    for &(lon, lat) in &PLACES {
        for z in 12..=16u8 {
            let t = TileId::at(lon, lat, z);
            // Points: exactly the assets inside the buffered tile (those
            // within a hair of its edge may go either way).
            let mut sure = BTreeSet::new();
            let mut maybe = BTreeSet::new();
            for a in assets.iter().filter(|a| a.is_point) {
                let d = outside_by(t.local(a.coords[0].0, a.coords[0].1));
                if d < -1e-6 {
                    sure.insert(a.id.as_str());
                } else if d <= 1e-6 {
                    maybe.insert(a.id.as_str());
                }
            }
            let (status, headers, body) = fetch(app, &t.path("assets"), Some(ADMIN)).await;
            assert_eq!(headers["cache-control"], "max-age=60");
            if status == 204 {
                assert!(sure.is_empty(), "{t:?} is empty but should hold {sure:?}");
                assert!(body.is_empty());
                continue;
            }
            assert_eq!(status, 200, "{t:?}");
            assert_eq!(headers["content-type"], MVT);
            let features = decode(&body, "assets");
            let by_id: BTreeMap<&str, &DemoAsset> =
                assets.iter().map(|a| (a.id.as_str(), a)).collect();
            let mut got_points = BTreeSet::new();
            let mut feature_ids = BTreeSet::new();
            for f in &features {
                let id = f.text("id").expect("id property");
                let a = by_id
                    .get(id)
                    .unwrap_or_else(|| panic!("unknown asset {id}"));
                assert!(feature_ids.insert(f.id.expect("feature id")), "{t:?}");
                assert_eq!(f.text("kind"), a.props["kind"].as_str(), "{id}");
                assert_eq!(f.text("ref"), a.props["ref"].as_str(), "{id}");
                assert_eq!(f.text("status"), a.props["status"].as_str(), "{id}");
                assert_eq!(f.text("authority"), Some("trafford"));
                assert_eq!(
                    f.props["listed"].bool_value,
                    a.props["listed"].as_bool(),
                    "{id}"
                );
                assert!(f.props["in_conservation_area"].bool_value.is_some());
                if let Some(h) = a.props["height_m"].as_f64() {
                    assert_eq!(f.props["height_m"].double_value, Some(h), "{id}");
                }
                match f.kind {
                    POINT => {
                        assert!(a.is_point, "{id}");
                        got_points.insert(id);
                        let [px, py] = f.parts[0][0];
                        let want = t.local(a.coords[0].0, a.coords[0].1);
                        assert!(
                            (px as f64 - want[0]).abs() <= 1.0
                                && (py as f64 - want[1]).abs() <= 1.0,
                            "{id} at {px},{py}, expected {want:?}"
                        );
                    }
                    POLYGON => {
                        assert!(!a.is_point, "{id}");
                        // A building reaches into the buffered tile.
                        let (xs, ys): (Vec<f64>, Vec<f64>) = a
                            .coords
                            .iter()
                            .map(|&(lo, la)| {
                                let p = t.local(lo, la);
                                (p[0], p[1])
                            })
                            .unzip();
                        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
                        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        assert!(max(&xs) >= -BUFFER && min(&xs) <= EXTENT + BUFFER, "{id}");
                        assert!(max(&ys) >= -BUFFER && min(&ys) <= EXTENT + BUFFER, "{id}");
                        check_rings(&f.parts, &format!("{id} in {t:?}"));
                    }
                    other => panic!("geometry type {other}"),
                }
            }
            assert!(
                sure.is_subset(&got_points),
                "{t:?}: missing {:?}",
                sure.difference(&got_points).take(5).collect::<Vec<_>>()
            );
            let extra: Vec<_> = got_points
                .iter()
                .filter(|id| !sure.contains(*id) && !maybe.contains(*id))
                .take(5)
                .collect();
            assert!(extra.is_empty(), "{t:?}: unexpected {extra:?}");
            checked += usize::from(!sure.is_empty());
        }
    }
    checked
}

/// Every ring lies in the buffered tile, has 3+ distinct vertices and
/// area; each polygon starts with an exterior (positive area).
fn check_rings(rings: &[Vec<[i64; 2]>], what: &str) {
    assert!(
        area2(&rings[0]) > 0,
        "{what}: first ring is not an exterior"
    );
    for r in rings {
        assert!(r.len() >= 3, "{what}");
        assert_ne!(area2(r), 0, "{what}");
        for p in r {
            let (lo, hi) = (-BUFFER as i64, (EXTENT + BUFFER) as i64);
            assert!(
                (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1]),
                "{what}: {p:?}"
            );
        }
    }
}

/// Ward tiles: each ward's decoded area matches geo's intersection of the
/// ward (projected by the formula above) with the buffered tile.
async fn ward_tiles_match_intersections(app: &TestApp, wards: &[(String, MultiPolygon<f64>)]) {
    for &(lon, lat) in &PLACES {
        for z in [11u8, 13, 15] {
            let t = TileId::at(lon, lat, z);
            let window = Polygon::new(
                LineString::from(vec![
                    (-BUFFER, -BUFFER),
                    (EXTENT + BUFFER, -BUFFER),
                    (EXTENT + BUFFER, EXTENT + BUFFER),
                    (-BUFFER, EXTENT + BUFFER),
                    (-BUFFER, -BUFFER),
                ]),
                vec![],
            );
            let mut expected: BTreeMap<&str, f64> = BTreeMap::new();
            for (name, mp) in wards {
                let local = mp.map_coords_local(t);
                let area = local
                    .intersection(&MultiPolygon(vec![window.clone()]))
                    .unsigned_area();
                if area > 0.0 {
                    expected.insert(name, area);
                }
            }
            let (status, _, body) = fetch(app, &t.path("wards"), Some(ADMIN)).await;
            assert_eq!(status, 200, "{t:?}");
            let features = decode(&body, "wards");
            let mut got: BTreeMap<&str, f64> = BTreeMap::new();
            for f in &features {
                assert_eq!(f.kind, POLYGON);
                assert_eq!(f.text("authority"), Some("trafford"));
                let name = f.text("name").expect("name");
                let key = expected
                    .keys()
                    .find(|k| **k == name)
                    .unwrap_or_else(|| panic!("{name} does not reach {t:?}"));
                check_rings(&f.parts, &format!("{name} in {t:?}"));
                let signed: i64 = f.parts.iter().map(|r| area2(r)).sum();
                got.insert(key, signed as f64 / 2.0);
            }
            // Simplification moves edges by at most 4 units: allow 1% of
            // the window and 2% of each ward's share.
            let window_area = (EXTENT + 2.0 * BUFFER).powi(2);
            for (name, want) in &expected {
                let have = got.get(name).copied().unwrap_or(0.0);
                assert!(
                    (have - want).abs() <= 0.02 * want + 0.01 * window_area,
                    "{name} in {t:?}: area {have}, expected {want}"
                );
            }
            let total: f64 = got.values().sum();
            let want_total: f64 = expected.values().sum();
            assert!(
                (total - want_total).abs() <= 0.01 * window_area,
                "{t:?}: {total} vs {want_total}"
            );
        }
    }
}

/// Projects lon/lat polygons into a tile's coordinates.
trait Local {
    fn map_coords_local(&self, t: TileId) -> MultiPolygon<f64>;
}

impl Local for MultiPolygon<f64> {
    fn map_coords_local(&self, t: TileId) -> MultiPolygon<f64> {
        use geo::MapCoords;
        self.map_coords(|c| {
            let p = t.local(c.x, c.y);
            Coord { x: p[0], y: p[1] }
        })
    }
}

/// Side of a thinning cell below z12 (a pixel of a 256-pixel tile).
const THIN_CELL: f64 = 16.0;

/// The thinning cell of a tile-local position, or `None` when rounding to
/// whole tile units could put it in either of two cells.
fn thin_cell(p: [f64; 2]) -> Option<(i64, i64)> {
    let cell = |v: f64| ((v + 0.5).floor() + BUFFER).div_euclid(THIN_CELL) as i64;
    let either = |v: f64| cell(v - 0.01) != cell(v + 0.01);
    (!either(p[0]) && !either(p[1])).then(|| (cell(p[0]), cell(p[1])))
}

/// Below z12 a tile holds one point per 16-unit cell: exactly the cells
/// the brute-force points fall in, each once, each the lowest id there.
async fn low_zoom_tiles_are_thinned_to_one_point_per_cell(app: &TestApp, assets: &[DemoAsset]) {
    let mut thinned = 0;
    for &(lon, lat) in &PLACES[..2] {
        for z in 8..=11u8 {
            let t = TileId::at(lon, lat, z);
            // Brute force: per cell, the ids of the points in it.
            let mut want: BTreeMap<(i64, i64), BTreeSet<&str>> = BTreeMap::new();
            let mut unsure = BTreeSet::new();
            let mut points = 0;
            for a in assets.iter().filter(|a| a.is_point) {
                let p = t.local(a.coords[0].0, a.coords[0].1);
                let d = outside_by(p);
                if d > 1e-6 {
                    continue;
                }
                points += 1;
                match thin_cell(p).filter(|_| d < -1e-6) {
                    Some(cell) => {
                        want.entry(cell).or_default().insert(a.id.as_str());
                    }
                    None => {
                        unsure.insert(a.id.as_str());
                    }
                }
            }
            let (status, _, body) = fetch(app, &t.path("assets"), Some(ADMIN)).await;
            assert_eq!(status, 200, "{t:?}");
            let mut got: BTreeMap<(i64, i64), &str> = BTreeMap::new();
            let features = decode(&body, "assets");
            for f in features.iter().filter(|f| f.kind == POINT) {
                let [x, y] = f.parts[0][0];
                let cell = (
                    (x as f64 + BUFFER).div_euclid(THIN_CELL) as i64,
                    (y as f64 + BUFFER).div_euclid(THIN_CELL) as i64,
                );
                let id = f.text("id").expect("id property");
                assert!(
                    got.insert(cell, id).is_none(),
                    "{t:?}: two points in {cell:?}"
                );
            }
            for (cell, ids) in &want {
                let kept = got
                    .get(cell)
                    .unwrap_or_else(|| panic!("{t:?}: {cell:?} lost"));
                assert!(
                    ids.first() == Some(kept) || unsure.contains(kept),
                    "{t:?}: {cell:?} kept {kept}, the lowest id there is {ids:?}"
                );
            }
            for (cell, id) in &got {
                assert!(
                    want.contains_key(cell) || unsure.contains(id),
                    "{t:?}: {id}"
                );
            }
            assert!(got.len() <= points, "{t:?}");
            thinned += usize::from(got.len() < points);
        }
    }
    assert!(thinned >= 4, "only {thinned} tiles were thinned");
}

on_both_databases!(demo_tiles_match_brute_force, |app: TestApp| async move {
    let app = with_demo(app).await;
    let assets = demo_assets();
    assert_eq!(assets.len(), 17_108);
    // Most of these tiles hold assets (a z16 tile by the canal has none).
    let checked = asset_tiles_match_brute_force(&app, &assets).await;
    assert!(checked >= 20, "only {checked} tiles held assets");
    low_zoom_tiles_are_thinned_to_one_point_per_cell(&app, &assets).await;
    ward_tiles_match_intersections(&app, &demo_wards()).await;
});
