//! Filters compiled and evaluated against hand-built records.

use super::*;
use crate::domain::area::AreaLayer;
use crate::domain::asset::{AssetDetails, Placement};

fn asset(kind: AssetKind, height: Option<f64>, lon: f64, lat: f64) -> Asset {
    Asset {
        id: format!("a-{lon}-{lat}"),
        authority: "trafford".into(),
        details: AssetDetails {
            asset_ref: "LP-1".into(),
            kind,
            geometry: Geometry::Point(geo::Point::new(lon, lat)),
            height_m: height,
            power_supply: PowerSupply::PartNight,
            capacity: 2,
            load_rating_kg: None,
            last_inspected: Some(time::macros::date!(2024 - 03 - 15)),
            install_year: Some(1998),
            status: AssetStatus::Available,
            listed: false,
            photo_url: None,
            source_attributes: Default::default(),
        },
        placement: Placement {
            ward: Some("Bowdon".into()),
            fee_zone: None,
            in_conservation_area: true,
        },
        occupancy: Default::default(),
        revision: 1,
    }
}

fn lamp() -> Asset {
    asset(AssetKind::LampPost, Some(8.0), -2.35, 53.39)
}

fn run(text: &str, a: &Asset) -> bool {
    compile(text, Crs::Crs84, &ASSETS)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .matches(a)
}

fn error(text: &str) -> String {
    match compile(text, Crs::Crs84, &ASSETS) {
        Ok(f) => panic!("{text} compiled: {f:?}"),
        Err(FilterError(m)) => m,
    }
}

#[test]
fn comparisons_on_each_type() {
    let a = lamp();
    for (text, expect) in [
        ("height_m >= 8", true),
        ("height_m > 8", false),
        ("8 = height_m", true),
        ("capacity <> 2", false),
        ("capacity < 2.5", true),
        ("kind = 'lamp_post'", true),
        ("kind <> 'lamp_post'", false),
        ("ward > 'Altrincham'", true),
        ("in_conservation_area = true", true),
        ("listed", false),
        ("in_conservation_area", true),
        ("last_inspected = '2024-03-15'", true),
        ("last_inspected < DATE('2024-03-16')", true),
        ("last_inspected > date('2024-03-15')", false),
        ("install_year BETWEEN 1990 AND 2000", true),
        ("install_year NOT BETWEEN 1990 AND 2000", false),
        ("height_m BETWEEN 8 AND 8", true),
    ] {
        assert_eq!(run(text, &a), expect, "{text}");
    }
}

#[test]
fn logic_is_three_valued() {
    let a = lamp(); // load_rating_kg and photo_url are null
    for (text, expect) in [
        ("load_rating_kg > 1", false),
        ("NOT (load_rating_kg > 1)", false),
        ("load_rating_kg > 1 OR kind = 'lamp_post'", true),
        ("load_rating_kg > 1 AND kind = 'lamp_post'", false),
        ("NOT (load_rating_kg > 1 AND kind = 'cctv_column')", true),
        ("load_rating_kg IS NULL", true),
        ("load_rating_kg IS NOT NULL", false),
        ("photo_url IS NULL AND height_m IS NOT NULL", true),
        ("photo_url LIKE '%'", false),
        ("photo_url IN ('x')", false),
        ("true", true),
        ("NOT false AND (false OR true)", true),
    ] {
        assert_eq!(run(text, &a), expect, "{text}");
    }
}

#[test]
fn like_and_in() {
    let a = lamp();
    for (text, expect) in [
        ("ward LIKE 'B%'", true),
        ("ward LIKE 'b%'", false),
        ("ward LIKE '%don'", true),
        ("ward LIKE 'B_wdon'", true),
        ("ward LIKE 'B_don'", false),
        ("ward NOT LIKE '%o%'", false),
        ("ref LIKE 'LP\\-%'", true),
        ("kind IN ('cctv_column', 'lamp_post')", true),
        ("kind NOT IN ('cctv_column', 'bus_shelter')", true),
        ("capacity IN (1, 2, 3)", true),
        ("last_inspected IN ('2024-03-15')", true),
    ] {
        assert_eq!(run(text, &a), expect, "{text}");
    }
    let p = like_pattern("a%b_c%");
    assert!(like(&p, "axxbyc"));
    assert!(like(&p, "abzczzz"));
    assert!(like(&p, "ab\u{e9}c"), "_ is one character, not one byte");
    assert!(!like(&p, "abc"));
    assert!(like(&like_pattern("%%"), ""));
    assert!(like(&like_pattern("100\\%"), "100%"));
    assert!(!like(&like_pattern("100\\%"), "1000"));
    assert!(like(&like_pattern("%a%a%a"), "aaaa"));
    assert!(!like(&like_pattern("%a%a%a"), "aab"));
}

#[test]
fn spatial_literals() {
    let a = lamp(); // (-2.35, 53.39)
    let square = "POLYGON((-2.36 53.38, -2.34 53.38, -2.34 53.40, -2.36 53.40, -2.36 53.38))";
    for (text, expect) in [
        (format!("S_INTERSECTS(geometry, {square})"), true),
        (format!("s_intersects({square}, geometry)"), true),
        (
            "S_INTERSECTS(geometry, BBOX(-2.36, 53.38, -2.34, 53.40))".into(),
            true,
        ),
        (
            "S_INTERSECTS(geometry, BBOX(-2.34, 53.38, -2.33, 53.40))".into(),
            false,
        ),
        ("S_INTERSECTS(geometry, POINT(-2.35 53.39))".into(), true),
        (
            "S_INTERSECTS(geometry, LINESTRING(-2.36 53.39, -2.34 53.39))".into(),
            true,
        ),
        (
            "S_INTERSECTS(geometry, LINESTRING(-2.36 53.391, -2.34 53.391))".into(),
            false,
        ),
        (
            "S_INTERSECTS(geometry, MULTIPOINT((0 0), (-2.35 53.39)))".into(),
            true,
        ),
        (
            "S_INTERSECTS(geometry, MULTILINESTRING((0 0, 1 1), (-2.35 53.3, -2.35 53.5)))".into(),
            true,
        ),
        (
            format!(
                "S_INTERSECTS(geometry, MULTIPOLYGON((({})), ((0 0, 1 0, 1 1, 0 0))))",
                &square[9..square.len() - 2]
            ),
            true,
        ),
        (
            "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(0 0), POINT(-2.35 53.39)))".into(),
            true,
        ),
        // Crosses the antimeridian: west edge 170, east edge -170.
        (
            "S_INTERSECTS(geometry, BBOX(170, 50, -170, 60))".into(),
            false,
        ),
    ] {
        assert_eq!(run(&text, &a), expect, "{text}");
    }
    let far_east = asset(AssetKind::Other, None, 175.0, 55.0);
    assert!(run(
        "S_INTERSECTS(geometry, BBOX(170, 50, -170, 60))",
        &far_east
    ));
    let f = compile(
        "S_INTERSECTS(geometry, BBOX(170, 50, -170, 60))",
        Crs::Crs84,
        &ASSETS,
    )
    .unwrap();
    assert_eq!(f.rects().unwrap().len(), 2);
}

#[test]
fn spatial_bound_follows_and_and_or() {
    let b = |t: &str| {
        compile(t, Crs::Crs84, &ASSETS)
            .unwrap()
            .rects
            .map(|r| r.len())
    };
    assert_eq!(b("kind = 'lamp_post'"), None);
    assert_eq!(
        b("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) AND kind = 'lamp_post'"),
        Some(1)
    );
    assert_eq!(
        b("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR S_INTERSECTS(geometry, POINT(5 5))"),
        Some(2)
    );
    assert_eq!(
        b("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR kind = 'lamp_post'"),
        None
    );
    assert_eq!(b("NOT S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))"), None);
    // The tighter of two conjuncts is used.
    let f = compile(
        "S_INTERSECTS(geometry, BBOX(0, 0, 10, 10)) AND S_INTERSECTS(geometry, BBOX(1, 1, 2, 2))",
        Crs::Crs84,
        &ASSETS,
    )
    .unwrap();
    assert_eq!(f.rects().unwrap()[0], Rect::new((1.0, 1.0), (2.0, 2.0)));
}

#[test]
fn filter_crs_lat_lon_and_bng() {
    let a = lamp(); // (-2.35, 53.39)
    let (e, n) = wgs84_to_bng(-2.35, 53.39).unwrap();
    let near = format!(
        "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))",
        e - 10.0,
        n - 10.0,
        e + 10.0,
        n + 10.0
    );
    let off = format!("S_INTERSECTS(geometry, POINT({} {}))", e + 5.0, n);
    assert!(compile(&near, Crs::Bng, &ASSETS).unwrap().matches(&a));
    assert!(!compile(&off, Crs::Bng, &ASSETS).unwrap().matches(&a));
    let f = compile(&near, Crs::Bng, &ASSETS).unwrap();
    let r = f.rects().unwrap()[0];
    assert!(r.intersects(&Coord { x: -2.35, y: 53.39 }), "{r:?}");
    assert!(r.width() < 0.01 && r.height() < 0.01, "{r:?}");
    let swapped = "S_INTERSECTS(geometry, BBOX(53.38, -2.36, 53.40, -2.34))";
    assert!(compile(swapped, Crs::LatLon, &ASSETS).unwrap().matches(&a));
    assert!(!compile(swapped, Crs::Crs84, &ASSETS).unwrap().matches(&a));
    assert!(
        compile(
            "S_INTERSECTS(geometry, POINT(53.39 -2.35))",
            Crs::LatLon,
            &ASSETS
        )
        .unwrap()
        .matches(&a)
    );
}

#[test]
fn areas_have_their_own_queryables() {
    let area = Area {
        id: 1,
        authority: "trafford".into(),
        layer: AreaLayer::Ward,
        name: "Bowdon".into(),
        geometry: geo::MultiPolygon(vec![Rect::new((0.0, 0.0), (1.0, 1.0)).to_polygon()]),
    };
    let f = |t: &str| compile(t, Crs::Crs84, &AREAS).unwrap().matches(&area);
    assert!(f("name LIKE 'Bow%' AND authority = 'trafford'"));
    assert!(f("S_INTERSECTS(geometry, POINT(0.5 0.5))"));
    assert!(!f("S_INTERSECTS(geometry, POINT(1.5 0.5))"));
    let Err(FilterError(m)) = compile("kind = 'lamp_post'", Crs::Crs84, &AREAS) else {
        panic!("kind is not an area queryable");
    };
    assert!(
        m.contains("\"kind\"") && m.contains("authority, name, geometry"),
        "{m}"
    );
}

#[test]
fn errors_point_at_the_problem() {
    let m = error("kind = 'lamp_post' AND");
    assert!(m.contains("column 23"), "{m}");
    let m = error("kind == 'lamp_post'");
    assert!(
        m.contains("column 7") && m.contains("a property name"),
        "{m}"
    );
    let m = error("colour = 'red'");
    assert!(
        m.contains("\"colour\"") && m.contains("column 1") && m.contains("kind"),
        "{m}"
    );
    let m = error("kind = 'lamp_post' OR \"colour\" = 'red'");
    assert!(m.contains("column 23"), "{m}");
    let m = error("height_m = 'tall'");
    assert!(
        m.contains("height_m") && m.contains("a number") && m.contains("a string"),
        "{m}"
    );
    let m = error("kind LIKE 5");
    assert!(m.contains("pattern"), "{m}");
    let m = error("capacity LIKE '1%'");
    assert!(m.contains("capacity") && m.contains("LIKE"), "{m}");
    let m = error("kind = 'lampost'");
    assert!(m.contains("lamp_post") && m.contains("'lampost'"), "{m}");
    let m = error("kind IN ('lamp_post', 'spaceship')");
    assert!(m.contains("'spaceship'"), "{m}");
    let m = error("last_inspected > '15/03/2024'");
    assert!(m.contains("15/03/2024"), "{m}");
    let m = error("listed < true");
    assert!(m.contains("booleans"), "{m}");
    let m = error("height_m");
    assert!(m.contains("not a condition"), "{m}");
    let m = error("height_m = NULL");
    assert!(m.contains("IS NULL"), "{m}");
    let m = error("S_WITHIN(geometry, POINT(0 0))");
    assert!(m.contains("S_WITHIN"), "{m}");
    let m = error("S_INTERSECTS(ward, POINT(0 0))");
    assert!(m.contains("geometry property"), "{m}");
    let m = error("S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))");
    assert!(
        m.contains("polygon ring needs at least four positions"),
        "{m}"
    );
    let m = error("S_INTERSECTS(geometry, POINT(200 0))");
    assert!(m.contains("longitude"), "{m}");
    let m = error("height_m + 1 > 5");
    assert!(m.contains("arithmetic"), "{m}");
    let m = error("geometry = 'x'");
    assert!(m.contains("S_INTERSECTS"), "{m}");
    let deep = format!(
        "{}kind = 'lamp_post'{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(error(&deep).contains("nested"));
    assert!(error(&"NOT ".repeat(5_000)).contains("nested"));
    // Quoted text does not count towards nesting.
    assert!(run(&format!("ward <> '{}'", "(".repeat(100)), &lamp()));
}

#[test]
fn word_positions() {
    assert_eq!(word_position("a = 1 AND ward = 'x'", "ward"), Some((1, 11)));
    assert_eq!(word_position("'ward' = ward", "ward"), Some((1, 10)));
    assert_eq!(
        word_position("x = 1\n AND \"ward\" = 2", "ward"),
        Some((2, 6))
    );
    assert_eq!(word_position("wards = 1", "ward"), None);
}

#[test]
fn queryables_json_declares_types_and_geometry() {
    let p = ASSETS.json_properties();
    assert_eq!(p["height_m"]["type"], "number");
    assert_eq!(p["capacity"]["type"], "integer");
    assert_eq!(p["listed"]["type"], "boolean");
    assert_eq!(p["last_inspected"]["format"], "date");
    assert_eq!(p["geometry"]["x-ogc-role"], "primary-geometry");
    assert_eq!(p["geometry"]["format"], "geometry-any");
    assert_eq!(p.as_object().unwrap().len(), ASSETS.properties.len() + 1);
    // Every queryable is one the filter accepts.
    for name in p.as_object().unwrap().keys() {
        let text = if name == GEOMETRY {
            "S_INTERSECTS(geometry, POINT(0 0))".to_string()
        } else {
            format!("{name} IS NULL")
        };
        assert!(compile(&text, Crs::Crs84, &ASSETS).is_ok(), "{text}");
    }
}

/// Unclosed parentheses before an unfinished call made the parser backtrack
/// twice as long for each level (`fuzz/regressions/cql2_filter/`): 24 levels
/// took over a minute. Now it is refused at once as a syntax error, while a
/// filter nested as deep as allowed still compiles.
#[test]
fn unclosed_nesting_is_refused_at_once_and_deep_filters_still_compile() {
    let hostile = format!(
        "name = 'Bowdon' AND {}S_INTERSECTS(geometry, POINT(376681 387957))",
        "(".repeat(24)
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(compile(&hostile, Crs::Crs84, &ASSETS).is_err());
    });
    let refused = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("compiling the unclosed filter did not finish within 20 s");
    assert!(refused, "the unclosed filter compiled");

    let deep = format!(
        "{}kind = 'lamp_post' AND height_m > 5 OR S_INTERSECTS(geometry, POINT(-2.35 53.39)){}",
        "(".repeat(MAX_NESTING - 2),
        ")".repeat(MAX_NESTING - 2)
    );
    assert!(run(&deep, &lamp()), "{deep}");
}

/// Every kind × status × power supply at two heights and two places.
fn every_key() -> Vec<Asset> {
    let mut out = Vec::new();
    for k in AssetKind::ALL {
        for s in AssetStatus::ALL {
            for p in PowerSupply::ALL {
                for (h, lon) in [(Some(4.0), -2.35), (None, -1.5)] {
                    let mut a = asset(k, h, lon, 53.4);
                    a.details.status = s;
                    a.details.power_supply = p;
                    out.push(a);
                }
            }
        }
    }
    out
}

#[test]
fn lowering_into_criteria_keeps_every_answer() {
    use crate::domain::criteria::Criteria;
    // (filter, whether it lowers completely, whether anything moves)
    let cases = [
        ("kind = 'bus_shelter'", true, true),
        (
            "kind IN ('lamp_post', 'cctv_column') AND status = 'available'",
            true,
            true,
        ),
        ("'lamp_post' = kind AND height_m > 3", false, true),
        ("kind = 'lamp_post' AND kind = 'cctv_column'", true, true),
        (
            "power_supply IN ('continuous') AND (kind = 'lamp_post' AND \
             S_INTERSECTS(geometry, BBOX(-3, 53, -2, 54)))",
            false,
            true,
        ),
        ("kind = 'lamp_post' OR status = 'available'", false, false),
        ("NOT kind = 'lamp_post'", false, false),
        ("kind <> 'lamp_post'", false, false),
        ("ref = 'LP-1'", false, false),
    ];
    let assets = every_key();
    let presets = [
        Criteria::default(),
        Criteria {
            kinds: Some(vec![AssetKind::LampPost, AssetKind::BusShelter]),
            ..Criteria::default()
        },
    ];
    for (text, whole, moves) in cases {
        for preset in &presets {
            let original = compile(text, Crs::Crs84, &ASSETS).unwrap();
            let bound = original.rects().map(<[_]>::to_vec);
            let mut crit = preset.clone();
            let rest = compile(text, Crs::Crs84, &ASSETS)
                .unwrap()
                .lower_into(&mut crit);
            assert_eq!(rest.is_none(), whole, "{text}");
            assert_eq!(crit != *preset, moves, "{text}");
            assert_eq!(
                rest.as_ref().and_then(|f| f.rects()).map(<[_]>::to_vec),
                bound,
                "{text}: the spatial bound is kept"
            );
            let mut matched = 0;
            for a in &assets {
                let want = preset.matches(a) && original.matches(a);
                let got = crit.matches(a) && rest.as_ref().is_none_or(|f| f.matches(a));
                assert_eq!(got, want, "{text} on {:?}", a.details);
                matched += usize::from(want);
            }
            if text == "kind = 'bus_shelter'" {
                assert!(matched > 0, "the test assets include bus shelters");
            }
        }
    }
}
