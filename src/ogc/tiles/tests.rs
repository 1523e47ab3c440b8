//! Tiles decoded with prost and compared with the geometry they encode.

use super::*;

#[test]
fn tile_ids_are_checked() {
    assert_eq!(
        TileId::parse("0", "0", "0"),
        Ok(TileId { z: 0, x: 0, y: 0 })
    );
    assert_eq!(
        TileId::parse("14", "5302", "8085"),
        Ok(TileId {
            z: 14,
            x: 8085,
            y: 5302
        })
    );
    for (z, y, x) in [
        ("25", "0", "0"),
        ("1", "2", "0"),
        ("1", "0", "2"),
        ("-1", "0", "0"),
        ("+1", "0", "0"),
        ("1", "0x1", "0"),
        ("", "0", "0"),
        ("1.0", "0", "0"),
        ("99999999999", "0", "0"),
    ] {
        assert!(TileId::parse(z, y, x).is_err(), "{z}/{y}/{x}");
    }
    assert!(TileId::new(24, (1 << 24) - 1, 0).is_some());
    assert!(TileId::new(24, 1 << 24, 0).is_none());
}

#[test]
fn world_projection_matches_the_usual_formula() {
    // The z1 tiles meet at (0°, 0°); z0's corners are ±180°, ±85.0511°.
    let w = world(0.0, 0.0);
    assert!((w[0] - 0.5).abs() < 1e-15 && (w[1] - 0.5).abs() < 1e-15);
    let top = world(-180.0, 85.051_128_779_806_59);
    assert!(top[0].abs() < 1e-15 && top[1].abs() < 1e-12, "{top:?}");
    // Stretford in tile 14/8086/5303, worked with the OSM wiki's
    // ln(tan φ + sec φ) form: (3094.7556, 690.7558).
    let t = TileId::new(14, 8086, 5303).unwrap();
    let p = t.to_tile(world(-2.3125, 53.4466));
    assert!((p[0] - 3_094.755_555_555).abs() < 1e-6, "{p:?}");
    assert!((p[1] - 690.755_802_847).abs() < 1e-6, "{p:?}");
    let r = t.lonlat_bounds();
    assert!(r.min().x < -2.3125 && -2.3125 < r.max().x);
    assert!(r.min().y < 53.4466 && 53.4466 < r.max().y);
}

#[test]
fn clipping_a_square_larger_than_the_tile_gives_the_window() {
    let e = f64::from(EXTENT);
    let ring = vec![
        [-1000.0, -1000.0],
        [e + 1000.0, -1000.0],
        [e + 1000.0, e + 1000.0],
        [-1000.0, e + 1000.0],
    ];
    let mut clipped = clip_ring(ring);
    let (lo, hi) = (-BUFFER, e + BUFFER);
    // The same ring whichever vertex it starts at.
    let start = clipped.iter().position(|p| *p == [lo, lo]).unwrap();
    clipped.rotate_left(start);
    assert_eq!(clipped, vec![[lo, lo], [hi, lo], [hi, hi], [lo, hi]]);
}

#[test]
fn rings_are_wound_as_mvt_wants() {
    // Counter-clockwise on screen (as a lon/lat exterior becomes when y
    // flips): the exterior must come out clockwise (positive area).
    let ring: LineString<f64> = vec![
        (0.0, 0.0),
        (0.0, 100.0),
        (100.0, 100.0),
        (100.0, 0.0),
        (0.0, 0.0),
    ]
    .into();
    let id = |c: Coord<f64>| [c.x, c.y];
    let ext = tile_ring(&ring, &id, true).unwrap();
    assert_eq!(area2(&ext), 2 * 100 * 100);
    let hole = tile_ring(&ring, &id, false).unwrap();
    assert_eq!(area2(&hole), -2 * 100 * 100);
    // A sliver thinner than the tolerance vanishes.
    let sliver: LineString<f64> = vec![(0.0, 0.0), (1000.0, 1.0), (2000.0, 0.0), (0.0, 0.0)].into();
    assert!(tile_ring(&sliver, &id, true).is_none());
}

#[test]
fn a_layer_encodes_as_worked_by_hand() {
    // The spec's point example (25, 17) -> [9, 50, 34], then a second
    // feature's point (26, 17). Both features share the value "v" (one
    // table entry); the second adds a bool.
    const KEYS: &[&str] = &["k", "b"];
    let mut l = LayerWriter::new("L", KEYS);
    l.geom.point([25, 17]);
    l.tag(0, Val::Str("v"));
    l.finish_feature(1, POINT);
    l.geom.point([26, 17]);
    l.tag(0, Val::Str("v"));
    l.tag(1, Val::Bool(true));
    l.finish_feature(300, POINT);
    let mut layer = vec![0x0a, 1, b'L'];
    // Feature 1: id 1, tags [0, 0], type 1, geometry [9, 50, 34].
    layer.extend([
        0x12, 13, 0x08, 1, 0x12, 2, 0, 0, 0x18, 1, 0x22, 3, 9, 50, 34,
    ]);
    // Feature 2: id 300 (varint ac 02), tags [0, 0, 1, 1], geometry
    // [9, 52, 34]: each point starts from (0, 0) again.
    layer.extend([0x12, 16, 0x08, 0xac, 0x02, 0x12, 4, 0, 0, 1, 1]);
    layer.extend([0x18, 1, 0x22, 3, 9, 52, 34]);
    layer.extend([0x1a, 1, b'k', 0x1a, 1, b'b']);
    layer.extend([0x22, 3, 0x0a, 1, b'v', 0x22, 2, 0x38, 1]);
    // extent 4096, version 2
    layer.extend([0x28, 0x80, 0x20, 0x78, 2]);
    let mut tile = vec![0x1a, layer.len() as u8];
    tile.extend(layer);
    assert_eq!(l.into_tile().unwrap(), tile);
    assert!(LayerWriter::new("L", KEYS).into_tile().is_none());
}

#[test]
fn varints_and_zigzag() {
    for (v, len) in [
        (0, 1),
        (127, 1),
        (128, 2),
        (16_383, 2),
        (16_384, 3),
        (u64::MAX, 10),
    ] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        assert_eq!((out.len(), varint_len(v)), (len, len), "{v}");
    }
    let mut out = Vec::new();
    put_varint(&mut out, 300);
    assert_eq!(out, [0xac, 0x02]);
    // The spec's examples: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3.
    assert_eq!([0, -1, 1, -2].map(zigzag), [0, 1, 2, 3]);
    assert_eq!(zigzag(i32::MIN), u32::MAX);
}

#[test]
fn a_ring_never_loses_its_move_to() {
    // Two squares sharing a corner, the second starting where the first
    // ends. Each ring must encode as MoveTo(1) + 2 parameters, LineTo(3)
    // + 6, ClosePath: 11 integers, 22 in all. (Had the second ring's
    // MoveTo been merged away, it would take 8.)
    let a = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
    let b = vec![[0, 10], [0, 20], [-10, 20], [-10, 10]];
    let mut g = GeomWriter::default();
    g.ring(&a);
    g.ring(&b);
    assert_eq!(g.data.len(), 22);
}
