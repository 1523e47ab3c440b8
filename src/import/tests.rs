//! The importers against hand-worked fixtures and the shared Trafford files.
//! One file: the fixtures and the shared-data reader at its top serve every
//! test.

use std::collections::{BTreeMap, HashSet};

use geo::{Geometry, Point};
use serde_json::{Value, json};

use super::*;
use crate::domain::asset::{AssetStatus, PowerSupply};

const ASSETS_CSV: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/import/assets.csv"
));
const ASSETS_GEOJSON: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/import/assets.geojson"
));
const BNG_CSV: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/import/bng.csv"
));
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/");

const KINDS: &str = "lamp_post, cctv_column, traffic_signal, bus_shelter, rooftop, wall, other";

/// A row's line and either what it gave or why it was refused.
type Outcome<T> = (u64, Result<T, String>);

/// Each row's line and either its ref or its reason.
fn summary(rows: &[ParsedRow]) -> Vec<Outcome<String>> {
    rows.iter()
        .map(|r| {
            let outcome = match &r.outcome {
                Ok(d) => Ok(d.asset_ref.clone()),
                Err(e) => Err(e.clone()),
            };
            (r.line, outcome)
        })
        .collect()
}

fn ok(line: u64, r: &str) -> Outcome<String> {
    (line, Ok(r.to_string()))
}

fn err(line: u64, reason: &str) -> Outcome<String> {
    (line, Err(reason.to_string()))
}

/// The accepted asset with ref `r`.
fn asset<'r>(rows: &'r [ParsedRow], r: &str) -> &'r AssetDetails {
    rows.iter()
        .filter_map(|row| row.outcome.as_ref().ok())
        .find(|d| d.asset_ref == r)
        .unwrap_or_else(|| panic!("no accepted asset {r}"))
}

fn point(d: &AssetDetails) -> (f64, f64) {
    match d.geometry {
        Geometry::Point(p) => (p.x(), p.y()),
        ref g => panic!("not a point: {g:?}"),
    }
}

fn attrs(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn date(s: &str) -> Option<time::Date> {
    Some(crate::domain::asset::parse_date(s).unwrap())
}

/// Reads a file from the shared data folder, or says why the test is skipped.
fn shared(path: &str) -> Option<Vec<u8>> {
    let full = format!("{SHARED}{path}");
    match std::fs::read(&full) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            // Under CI (as `.ci/run` sets it) missing data fails instead of passing as a skip.
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(!ci, "{full} is required under CI: {e}");
            println!("skipped: cannot read {full}: {e}");
            None
        }
    }
}

#[test]
fn csv_fixture_gives_exact_lines_and_reasons() {
    let rows = parse_csv(ASSETS_CSV, &Mapping::default()).unwrap();
    assert_eq!(
        summary(&rows),
        vec![
            ok(2, "LP-001"),
            ok(3, "LP-002"),
            // Its quoted notes run over lines 4 and 5.
            ok(4, "CC-001"),
            err(
                6,
                &format!("unknown kind \"lamppost\"; expected one of {KINDS}")
            ),
            err(7, "no ref (column \"ref\" is empty)"),
            err(8, "no geometry (columns \"lon\" and \"lat\" are empty)"),
            err(
                9,
                "coordinates out of range: latitude 91.5 is outside -90..90"
            ),
            err(10, "height_m: expected a number, got \"tall\""),
            err(11, "duplicate ref LP-001 (first seen on line 2)"),
            err(
                12,
                "listed: expected true/false, yes/no, y/n or 1/0, got \"maybe\""
            ),
            err(
                13,
                "unknown power_supply \"mains\"; expected one of none, part_night, continuous"
            ),
            ok(14, "BS-001"),
            err(
                15,
                "last_inspected: expected a YYYY-MM-DD date, got \"01/03/2024\""
            ),
            // Line 16 has only empty cells and is skipped.
            ok(17, "LP-010"),
            err(18, "the row has 2 fields but the header has 15"),
            err(19, "capacity: must be at least 1"),
        ]
    );
}

#[test]
fn csv_fixture_reads_every_field() {
    let rows = parse_csv(ASSETS_CSV, &Mapping::default()).unwrap();

    let lp1 = asset(&rows, "LP-001");
    let expected = AssetDetails {
        asset_ref: "LP-001".to_string(),
        kind: AssetKind::LampPost,
        geometry: Geometry::Point(Point::new(-2.3365, 53.4468)),
        height_m: Some(8.0),
        power_supply: PowerSupply::PartNight,
        capacity: 2,
        load_rating_kg: Some(25.5),
        last_inspected: date("2023-06-14"),
        install_year: Some(1998),
        status: AssetStatus::Available,
        listed: false,
        photo_url: Some("https://example.org/lp-001.jpg".to_string()),
        // The consumed columns are not repeated; the empty notes cell is left out.
        source_attributes: attrs(&[("street", json!("Talbot Road"))]),
    };
    assert_eq!(lp1, &expected);

    // Defaults, a kind in another case with spaces, listed "Y".
    let lp2 = asset(&rows, "LP-002");
    assert_eq!(lp2.kind, AssetKind::LampPost);
    assert_eq!(lp2.power_supply, PowerSupply::None);
    assert_eq!(lp2.capacity, 1);
    assert_eq!(lp2.status, AssetStatus::Available);
    assert!(lp2.listed);
    assert_eq!(
        (lp2.height_m, lp2.last_inspected, lp2.photo_url.as_deref()),
        (None, None, None)
    );

    let cc = asset(&rows, "CC-001");
    assert_eq!(cc.kind, AssetKind::CctvColumn);
    assert_eq!(cc.status, AssetStatus::Unavailable);
    assert_eq!(cc.power_supply, PowerSupply::Continuous);
    assert!(!cc.listed);
    assert_eq!(
        cc.source_attributes,
        attrs(&[
            ("notes", json!("Cracked base,\nreported twice")),
            ("street", json!("Trafford Wharf Road")),
        ])
    );

    // "2.0" as a whole number; a date-time keeps its date.
    let bs = asset(&rows, "BS-001");
    assert_eq!(bs.kind, AssetKind::BusShelter);
    assert_eq!(bs.capacity, 2);
    assert_eq!(bs.height_m, Some(2.6));
    assert_eq!(bs.last_inspected, date("2024-03-01"));
}

#[test]
fn geojson_fixture_gives_exact_features_and_reasons() {
    let rows = parse_geojson(ASSETS_GEOJSON, &Mapping::default()).unwrap();
    assert_eq!(
        summary(&rows),
        vec![
            ok(1, "LP-101"),
            // No ref property: the feature id.
            ok(2, "RF-1"),
            ok(3, "RF-2"),
            err(4, "no geometry"),
            err(
                5,
                &format!("unknown kind \"mast\"; expected one of {KINDS}")
            ),
            err(6, "no ref (no \"ref\" property and the feature has no id)"),
            err(7, "height_m: expected a number, got true"),
            err(
                8,
                "unsupported geometry type LineString; an asset is a Point, Polygon or MultiPolygon"
            ),
            err(
                9,
                "coordinates out of range: longitude 200.5 is outside -180..180"
            ),
            err(10, "duplicate ref LP-101 (first seen on feature 1)"),
            ok(11, "1001"),
            err(12, "not a Feature: its type is \"Point\""),
            err(
                13,
                "coordinates out of range: longitude 379000 is outside -180..180 (these look like \
                 British National Grid eastings/northings: import with crs EPSG:27700)"
            ),
            // An empty ref property falls back to the id.
            ok(14, "55"),
        ]
    );
}

#[test]
fn geojson_fixture_reads_every_field() {
    let rows = parse_geojson(ASSETS_GEOJSON, &Mapping::default()).unwrap();

    let lp = asset(&rows, "LP-101");
    assert_eq!(point(lp), (-2.3365, 53.4468));
    assert_eq!(lp.height_m, Some(8.0), "a number in a string");
    assert!(lp.listed, "\"yes\"");
    // Kept as the JSON values they came as, null included.
    assert_eq!(
        lp.source_attributes,
        attrs(&[
            ("asset_no", json!(17)),
            ("notes", Value::Null),
            ("street", json!("Talbot Road")),
        ])
    );

    let rf1 = asset(&rows, "RF-1");
    assert_eq!(rf1.kind, AssetKind::Rooftop);
    assert!(matches!(rf1.geometry, Geometry::Polygon(_)));
    assert_eq!(rf1.capacity, 3);
    assert!(rf1.listed);
    assert_eq!(
        rf1.source_attributes,
        attrs(&[("building", json!("Stretford Library"))])
    );

    let rf2 = asset(&rows, "RF-2");
    assert_eq!(rf2.kind, AssetKind::Rooftop);
    assert_eq!(rf2.power_supply, PowerSupply::Continuous);
    match &rf2.geometry {
        Geometry::MultiPolygon(mp) => assert_eq!(mp.0.len(), 2),
        g => panic!("not a multipolygon: {g:?}"),
    }
    assert!(rf2.source_attributes.is_empty());

    // A numeric ref, a whole number written 2.0, a year in a string, a
    // nested attribute, and a 3D position whose height is dropped.
    let cam = asset(&rows, "1001");
    assert_eq!(cam.kind, AssetKind::CctvColumn);
    assert_eq!(cam.capacity, 2);
    assert_eq!(cam.install_year, Some(2015));
    assert_eq!(point(cam), (-2.284777, 53.464515));
    assert_eq!(
        cam.source_attributes,
        attrs(&[("camera", json!({ "ptz": true }))])
    );
}

#[test]
fn bng_csv_comes_back_to_the_points_it_was_made_from() {
    let known = [
        ("TH-1", -2.3520922, 53.3879587),
        ("LP-201", -2.2868, 53.4568),
        ("LP-202", -2.3123, 53.4466),
    ];
    // The fixture's eastings/northings are wgs84_to_bng of the known points.
    let text = std::str::from_utf8(BNG_CSV).unwrap();
    for (r, lon, lat) in known {
        let (e, n) = crate::crs::wgs84_to_bng(lon, lat).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{r},")))
            .unwrap();
        let cells: Vec<f64> = line
            .split(',')
            .skip(1)
            .take(2)
            .map(|c| c.parse().unwrap())
            .collect();
        assert!(
            (cells[0] - e).abs() < 1e-6 && (cells[1] - n).abs() < 1e-6,
            "{r}: {line}"
        );
    }

    let mapping = Mapping {
        crs: SourceCrs::Bng,
        ref_field: Some("asset_id".to_string()),
        kind_field: Some("type".to_string()),
        ..Mapping::default()
    };
    let rows = parse_csv(BNG_CSV, &mapping).unwrap();
    for (r, lon, lat) in known {
        let (x, y) = point(asset(&rows, r));
        assert!(
            (x - lon).abs() < 1e-7 && (y - lat).abs() < 1e-7,
            "{r}: {x}, {y}"
        );
    }
    assert_eq!(asset(&rows, "TH-1").kind, AssetKind::Rooftop);
    assert_eq!(
        asset(&rows, "LP-202").kind,
        AssetKind::LampPost,
        "\"Lamp Post\""
    );
    assert_eq!(
        asset(&rows, "TH-1").source_attributes,
        attrs(&[("site", json!("Altrincham Town Hall"))])
    );
    assert_eq!(
        summary(&rows)[3..],
        [
            err(
                5,
                "coordinates out of range: easting/northing (950000, 100) outside the OSTN15 coverage"
            ),
            err(
                6,
                "coordinates out of range: easting/northing (-5, 394469.624) outside the OSTN15 coverage"
            ),
        ]
    );

    // Read as WGS84 by mistake: every row is refused, with a hint.
    let wgs84 = Mapping {
        crs: SourceCrs::Wgs84,
        ..mapping
    };
    let rows = parse_csv(BNG_CSV, &wgs84).unwrap();
    assert!(rows.iter().all(|r| r.outcome.is_err()));
    let reason = rows[0].outcome.as_ref().unwrap_err();
    assert!(reason.contains("EPSG:27700"), "{reason}");
}

#[test]
fn geojson_crs_member_names_bng() {
    let (lon, lat) = (-2.2868, 53.4568);
    let (e, n) = crate::crs::wgs84_to_bng(lon, lat).unwrap();
    let doc = json!({
        "type": "FeatureCollection",
        "crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::27700" } },
        "features": [
            { "type": "Feature", "properties": { "ref": "A", "kind": "wall" },
              "geometry": { "type": "Point", "coordinates": [e, n] } },
            { "type": "Feature", "properties": { "ref": "B", "kind": "rooftop" },
              "geometry": { "type": "Polygon", "coordinates": [[[e, n], [e + 10.0, n], [e + 10.0, n + 10.0], [e, n]]] } },
        ]
    });
    let bytes = doc.to_string().into_bytes();
    // The file's crs member wins over the mapping's default (WGS84).
    let rows = parse_geojson(&bytes, &Mapping::default()).unwrap();
    let (x, y) = point(asset(&rows, "A"));
    assert!((x - lon).abs() < 1e-7 && (y - lat).abs() < 1e-7, "{x}, {y}");
    match &asset(&rows, "B").geometry {
        Geometry::Polygon(p) => {
            let c = p.exterior().0[0];
            assert!((c.x - lon).abs() < 1e-7 && (c.y - lat).abs() < 1e-7);
            assert!(p.exterior().0[1].x > lon);
        }
        g => panic!("{g:?}"),
    }

    // Without the member, the mapping's crs applies.
    let mut plain = doc.clone();
    plain.as_object_mut().unwrap().remove("crs");
    let bytes = plain.to_string().into_bytes();
    let bng = Mapping {
        crs: SourceCrs::Bng,
        ..Mapping::default()
    };
    let (x, _) = point(asset(&parse_geojson(&bytes, &bng).unwrap(), "A"));
    assert!((x - lon).abs() < 1e-7);
    assert!(
        parse_geojson(&bytes, &Mapping::default()).unwrap()[0]
            .outcome
            .is_err()
    );

    // A CRS we cannot convert is a whole-file error.
    let mut mercator = doc;
    mercator["crs"]["properties"]["name"] = json!("urn:ogc:def:crs:EPSG::3857");
    let err = parse_geojson(mercator.to_string().as_bytes(), &Mapping::default()).unwrap_err();
    assert_eq!(
        err,
        ImportError::UnsupportedCrs {
            name: "urn:ogc:def:crs:EPSG::3857".to_string()
        }
    );
}

#[test]
fn crs_names() {
    for s in [
        "EPSG:4326",
        "epsg:4326",
        " 4326 ",
        "WGS84",
        "CRS84",
        "OGC:CRS84",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "urn:ogc:def:crs:EPSG::4326",
        "urn:ogc:def:crs:EPSG:6.6:4326",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
    ] {
        assert_eq!(s.parse::<SourceCrs>().unwrap(), SourceCrs::Wgs84, "{s}");
    }
    for s in [
        "EPSG:27700",
        "EPSG::27700",
        "27700",
        "bng",
        "urn:ogc:def:crs:EPSG::27700",
        "urn:ogc:def:crs:EPSG:8.9:27700",
        "https://www.opengis.net/def/crs/EPSG/0/27700",
    ] {
        assert_eq!(s.parse::<SourceCrs>().unwrap(), SourceCrs::Bng, "{s}");
    }
    for s in ["EPSG:3857", "OGC:4326", "EPSG:277", ""] {
        let e = s.parse::<SourceCrs>().unwrap_err();
        assert!(e.to_string().contains("EPSG:27700"), "{e}");
    }
    assert_eq!(SourceCrs::Bng.to_string(), "EPSG:27700");
    assert_eq!(SourceCrs::default().to_string(), "EPSG:4326");

    // The GeoJSON 2008 "EPSG" crs form, with a numeric code.
    let doc = r#"{"type":"FeatureCollection","crs":{"type":"EPSG","properties":{"code":27700}},
        "features":[{"type":"Feature","properties":{"ref":"A","kind":"wall"},
        "geometry":{"type":"Point","coordinates":[381053.392,395597.258]}}]}"#;
    let rows = parse_geojson(doc.as_bytes(), &Mapping::default()).unwrap();
    assert!((point(asset(&rows, "A")).0 + 2.2868).abs() < 1e-7);
}

const MAPPED_CSV: &str = "\
ASSET_ID,TYPE,X,Y,COLUMN_HEIGHT,height_m,Owner
A1,lamp_post,-2.3,53.4,9.5,3,TMBC
A2,bus_shelter,-2.31,53.41,,,
";

#[test]
fn csv_mapping_options_change_the_outcome() {
    // Without a mapping there is no ref column.
    let e = parse_csv(MAPPED_CSV.as_bytes(), &Mapping::default()).unwrap_err();
    assert!(
        matches!(e, ImportError::MissingColumn { field: "ref", .. }),
        "{e}"
    );
    assert!(e.to_string().contains("ref_field"), "{e}");

    let mut mapping = Mapping {
        ref_field: Some("ASSET_ID".to_string()),
        ..Mapping::default()
    };
    // Nor a kind column.
    let e = parse_csv(MAPPED_CSV.as_bytes(), &mapping).unwrap_err();
    assert!(
        matches!(e, ImportError::MissingColumn { field: "kind", .. }),
        "{e}"
    );

    // kind_field: each row's kind; own-named height_m column read as usual.
    mapping.kind_field = Some("TYPE".to_string());
    let rows = parse_csv(MAPPED_CSV.as_bytes(), &mapping).unwrap();
    assert_eq!(summary(&rows), vec![ok(2, "A1"), ok(3, "A2")]);
    let a1 = asset(&rows, "A1");
    assert_eq!(a1.kind, AssetKind::LampPost);
    assert_eq!(asset(&rows, "A2").kind, AssetKind::BusShelter);
    assert_eq!(a1.height_m, Some(3.0));
    assert_eq!(point(a1), (-2.3, 53.4), "x/y found as X/Y");
    assert_eq!(
        a1.source_attributes,
        attrs(&[("COLUMN_HEIGHT", json!("9.5")), ("Owner", json!("TMBC"))])
    );

    // fields: height_m from COLUMN_HEIGHT; the height_m column becomes an attribute.
    mapping
        .fields
        .insert("height_m".to_string(), "COLUMN_HEIGHT".to_string());
    let rows = parse_csv(MAPPED_CSV.as_bytes(), &mapping).unwrap();
    let a1 = asset(&rows, "A1");
    assert_eq!(a1.height_m, Some(9.5));
    assert_eq!(
        a1.source_attributes,
        attrs(&[("Owner", json!("TMBC")), ("height_m", json!("3"))])
    );

    // kind: one kind for all rows; the TYPE column is then just an attribute.
    let fixed = Mapping {
        kind: Some(AssetKind::Wall),
        kind_field: None,
        ..mapping.clone()
    };
    let rows = parse_csv(MAPPED_CSV.as_bytes(), &fixed).unwrap();
    assert!(
        rows.iter()
            .all(|r| r.outcome.as_ref().unwrap().kind == AssetKind::Wall)
    );
    assert_eq!(
        asset(&rows, "A2").source_attributes,
        attrs(&[("TYPE", json!("bus_shelter"))])
    );

    // A mapped column's wrong value is reported under both names.
    let bad = MAPPED_CSV.replace("9.5", "high");
    let rows = parse_csv(bad.as_bytes(), &mapping).unwrap();
    assert_eq!(
        rows[0].outcome,
        Err("height_m (column \"COLUMN_HEIGHT\"): expected a number, got \"high\"".to_string())
    );

    // Explicit x/y columns.
    let swapped = Mapping {
        x_field: Some("Y".to_string()),
        y_field: Some("X".to_string()),
        ..mapping.clone()
    };
    let rows = parse_csv(MAPPED_CSV.as_bytes(), &swapped).unwrap();
    assert_eq!(point(asset(&rows, "A1")), (53.4, -2.3));
}

#[test]
fn mapping_mistakes_are_whole_file_errors() {
    let base = Mapping {
        ref_field: Some("ASSET_ID".to_string()),
        kind_field: Some("TYPE".to_string()),
        ..Mapping::default()
    };
    let csv = MAPPED_CSV.as_bytes();

    let e = parse_csv(
        csv,
        &Mapping {
            ref_field: Some("NOPE".to_string()),
            ..base.clone()
        },
    )
    .unwrap_err();
    assert_eq!(
        e,
        ImportError::UnknownColumn {
            field: "ref".to_string(),
            noun: "column",
            column: "NOPE".to_string(),
            available:
                "\"ASSET_ID\", \"TYPE\", \"X\", \"Y\", \"COLUMN_HEIGHT\", \"height_m\", \"Owner\""
                    .to_string(),
        }
    );

    let mut fields = base.clone();
    fields
        .fields
        .insert("load_rating_kg".to_string(), "LOAD".to_string());
    let e = parse_csv(csv, &fields).unwrap_err();
    assert!(
        matches!(&e, ImportError::UnknownColumn { field, column, .. } if field == "load_rating_kg" && column == "LOAD"),
        "{e}"
    );

    let mut unknown_field = base.clone();
    unknown_field
        .fields
        .insert("heigth_m".to_string(), "COLUMN_HEIGHT".to_string());
    let e = parse_csv(csv, &unknown_field).unwrap_err();
    assert!(matches!(e, ImportError::Mapping(_)), "{e}");
    assert!(e.to_string().contains("\"heigth_m\""), "{e}");

    let both = Mapping {
        kind: Some(AssetKind::Wall),
        ..base.clone()
    };
    assert!(matches!(
        parse_csv(csv, &both),
        Err(ImportError::Mapping(_))
    ));

    let x = Mapping {
        x_field: Some("Easting".to_string()),
        ..base.clone()
    };
    let e = parse_csv(csv, &x).unwrap_err();
    assert!(
        matches!(&e, ImportError::UnknownColumn { field, .. } if field == "x"),
        "{e}"
    );

    // x/y options mean nothing to GeoJSON.
    assert!(matches!(
        parse_geojson(ASSETS_GEOJSON, &x),
        Err(ImportError::Mapping(_))
    ));
}

#[test]
fn geojson_mapping_options_change_the_outcome() {
    let doc = json!({
        "type": "FeatureCollection",
        "features": [
            { "type": "Feature", "id": 7, "properties": { "UNITNO": "SL-1", "UNITTYPE": "Lamp Column", "COL_HT": "10", "ward": "Gorse Hill" },
              "geometry": { "type": "Point", "coordinates": [-2.3, 53.45] } },
            { "type": "Feature", "id": 8, "properties": { "UNITNO": "SL-2", "UNITTYPE": "CCTV", "COL_HT": 12.5 },
              "geometry": { "type": "Point", "coordinates": [-2.31, 53.46] } },
        ]
    })
    .to_string();

    // No kind property at all and no kind given.
    let e = parse_geojson(doc.as_bytes(), &Mapping::default()).unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::MissingColumn {
                field: "kind",
                noun: "property",
                ..
            }
        ),
        "{e}"
    );

    // One kind for all; refs from the ids; other properties kept.
    let fixed = Mapping {
        kind: Some(AssetKind::LampPost),
        ..Mapping::default()
    };
    let rows = parse_geojson(doc.as_bytes(), &fixed).unwrap();
    assert_eq!(summary(&rows), vec![ok(1, "7"), ok(2, "8")]);
    assert_eq!(
        asset(&rows, "8").source_attributes,
        attrs(&[
            ("COL_HT", json!(12.5)),
            ("UNITNO", json!("SL-2")),
            ("UNITTYPE", json!("CCTV"))
        ])
    );

    // ref_field, fields; the id is not needed.
    let mut mapped = Mapping {
        ref_field: Some("UNITNO".to_string()),
        ..fixed
    };
    mapped
        .fields
        .insert("height_m".to_string(), "COL_HT".to_string());
    let rows = parse_geojson(doc.as_bytes(), &mapped).unwrap();
    assert_eq!(summary(&rows), vec![ok(1, "SL-1"), ok(2, "SL-2")]);
    assert_eq!(asset(&rows, "SL-1").height_m, Some(10.0));
    assert_eq!(asset(&rows, "SL-2").height_m, Some(12.5));
    assert_eq!(
        asset(&rows, "SL-1").source_attributes,
        attrs(&[
            ("UNITTYPE", json!("Lamp Column")),
            ("ward", json!("Gorse Hill"))
        ])
    );

    // kind_field: the council's own words are not our kinds.
    let by_type = Mapping {
        kind: None,
        kind_field: Some("UNITTYPE".to_string()),
        ..mapped.clone()
    };
    let rows = parse_geojson(doc.as_bytes(), &by_type).unwrap();
    assert_eq!(
        summary(&rows),
        vec![
            err(
                1,
                &format!(
                    "unknown kind \"Lamp Column\" (property \"UNITTYPE\"); expected one of {KINDS}"
                )
            ),
            err(
                2,
                &format!("unknown kind \"CCTV\" (property \"UNITTYPE\"); expected one of {KINDS}")
            ),
        ]
    );

    // A property no feature has.
    let e = parse_geojson(
        doc.as_bytes(),
        &Mapping {
            ref_field: Some("ASSET".to_string()),
            ..mapped
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the mapping takes ref from property \"ASSET\", but the file has no such property \
         (it has: \"COL_HT\", \"UNITNO\", \"UNITTYPE\", \"ward\")"
    );
}

#[test]
fn whole_file_problems() {
    let m = Mapping::default();

    let e = parse_csv(b"ref,kind,lon,lat\nA,wall,\xff,1\n", &m).unwrap_err();
    assert_eq!(
        e,
        ImportError::NotUtf8 {
            line: 2,
            offset: 24
        }
    );
    assert!(matches!(
        parse_geojson(b"\xfe\xff{}", &m),
        Err(ImportError::NotUtf8 { line: 1, offset: 0 })
    ));

    assert_eq!(parse_csv(b"", &m), Err(ImportError::NoHeader));
    assert_eq!(parse_csv(b"\n\n", &m), Err(ImportError::NoHeader));

    let e = parse_csv(b"ref,kind,lat\nA,wall,1\n", &m).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no x column: the header has none of lon, longitude, x, easting, GeoX \
         (it has: \"ref\", \"kind\", \"lat\"); name the column with x_field"
    );
    let e = parse_csv(b"ref,kind,lon,lat,ref\n", &m).unwrap_err();
    assert_eq!(
        e,
        ImportError::DuplicateColumn {
            column: "ref".to_string()
        }
    );

    let e = parse_geojson(b"{\"type\": \"FeatureCollection\", ", &m).unwrap_err();
    assert!(
        matches!(&e, ImportError::NotJson(msg) if msg.contains("line 1")),
        "{e}"
    );
    let e = parse_geojson(b"[1, 2]", &m).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not GeoJSON: the top level is an array; expected a FeatureCollection or a Feature"
    );
    let e = parse_geojson(br#"{"type": "Point", "coordinates": [0, 0]}"#, &m).unwrap_err();
    assert!(e.to_string().contains("\"Point\""), "{e}");
    let e = parse_geojson(br#"{"type": "FeatureCollection"}"#, &m).unwrap_err();
    assert!(matches!(e, ImportError::NotGeoJson(_)), "{e}");
    assert!(matches!(
        parse_areas_geojson(b"null", "name"),
        Err(ImportError::NotGeoJson(_))
    ));
}

#[test]
fn forgiving_of_real_exports() {
    // A byte-order mark, CRLF line ends, header names in other cases with
    // spaces, enumerations written as words.
    let csv = "\u{feff}REF , Kind,Longitude,Latitude,Power_Supply,Listed,Status\r\n\
               A, Traffic Signal ,-2.3,53.4,Part-Night,TRUE, UNAVAILABLE \r\n\
               B,other,-2.3,53.4,,n,\r\n";
    let rows = parse_csv(csv.as_bytes(), &Mapping::default()).unwrap();
    assert_eq!(summary(&rows), vec![ok(2, "A"), ok(3, "B")]);
    let a = asset(&rows, "A");
    assert_eq!(a.kind, AssetKind::TrafficSignal);
    assert_eq!(a.power_supply, PowerSupply::PartNight);
    assert_eq!(a.status, AssetStatus::Unavailable);
    assert!(a.listed);
    assert!(a.source_attributes.is_empty());

    // A single Feature, with a BOM; null properties; numbers as strings.
    let feature = "\u{feff}{\"type\":\"Feature\",\"id\":\"X1\",\"properties\":{\"kind\":\"wall\",\
                   \"load_rating_kg\":\" 40 \",\"listed\":0,\"capacity\":\"\",\"status\":null},\
                   \"geometry\":{\"type\":\"Point\",\"coordinates\":[-2.3,53.4]}}";
    let rows = parse_geojson(feature.as_bytes(), &Mapping::default()).unwrap();
    let x = asset(&rows, "X1");
    assert_eq!(
        (x.load_rating_kg, x.listed, x.capacity),
        (Some(40.0), false, 1)
    );
    assert_eq!(x.status, AssetStatus::Available);
}

#[test]
fn more_row_reasons() {
    let csv = "ref,kind,lon,lat,capacity,install_year,height_m\n\
               A,wall,-2.3,,,,\n\
               B,wall,east,53.4,,,\n\
               C,,-2.3,53.4,,,\n\
               D,wall,-2.3,53.4,-1,,\n\
               E,wall,-2.3,53.4,1.5,,\n\
               F,wall,-2.3,53.4,,1066,\n\
               G,wall,-2.3,53.4,,nineteen,\n\
               H,wall,-2.3,53.4,,,NaN\n\
               I,wall,-2.3,53.4,,,1500\n\
               J,wall,-2.3,53.4,1,2001,,surplus\n";
    let rows = parse_csv(csv.as_bytes(), &Mapping::default()).unwrap();
    assert_eq!(
        summary(&rows),
        vec![
            err(2, "no geometry (column \"lat\" is empty)"),
            err(3, "lon: expected a number, got \"east\""),
            err(4, "no kind (column \"kind\" is empty)"),
            err(
                5,
                "capacity: expected a whole number of 1 or more, got \"-1\""
            ),
            err(
                6,
                "capacity: expected a whole number of 1 or more, got \"1.5\""
            ),
            err(7, "install_year: must be a four-digit year"),
            err(8, "install_year: expected a year, got \"nineteen\""),
            err(9, "height_m: expected a number, got \"NaN\""),
            err(10, "height_m: must be between 0 and 1000"),
            err(11, "the row has 8 fields but the header has 7"),
        ]
    );

    let geojson = json!({ "type": "FeatureCollection", "features": [
        { "type": "Feature", "properties": { "ref": "A", "kind": "wall", "last_inspected": 20240101 },
          "geometry": { "type": "Point", "coordinates": [-2.3, 53.4] } },
        { "type": "Feature", "properties": { "ref": "B", "kind": 3 },
          "geometry": { "type": "Point", "coordinates": [-2.3, 53.4] } },
        { "type": "Feature", "properties": { "ref": "C", "kind": "wall" },
          "geometry": { "type": "Point", "coordinates": [] } },
        { "type": "Feature", "properties": { "ref": "D", "kind": "wall" },
          "geometry": { "type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.3, 53.4]]] } },
        { "type": "Feature", "properties": { "ref": "E", "kind": "wall" },
          "geometry": { "type": "Point", "coordinates": ["-2.3", "53.4"] } },
        { "type": "Feature", "properties": { "ref": true, "kind": "wall" },
          "geometry": { "type": "Point", "coordinates": [-2.3, 53.4] } },
        { "type": "Feature", "properties": [1], "geometry": null },
        "a string",
    ]})
    .to_string();
    let rows = parse_geojson(geojson.as_bytes(), &Mapping::default()).unwrap();
    assert_eq!(
        summary(&rows),
        vec![
            err(
                1,
                "last_inspected: expected a YYYY-MM-DD date, got 20240101"
            ),
            err(2, &format!("kind: expected one of {KINDS}, got 3")),
            err(3, "no geometry (empty Point)"),
            err(
                4,
                "geometry: exterior ring: a polygon ring needs at least four positions \
                 (the last repeating the first); this one has 3",
            ),
            err(
                5,
                "geometry: a position must be [x, y] numbers, got [\"-2.3\",\"53.4\"]"
            ),
            err(6, "ref: expected a string, got true"),
            err(7, "properties: expected an object, got an array"),
            err(8, "not a Feature: it is a string"),
        ]
    );
}

#[test]
fn duplicates_keep_the_first_accepted_row() {
    let csv = "ref,kind,lon,lat\n\
               A,wall,-2.3,95\n\
               A,wall,-2.3,53.4\n\
               A,wall,-2.3,53.5\n\
               \" A \",wall,-2.3,53.6\n\
               a,wall,-2.3,53.6\n";
    let rows = parse_csv(csv.as_bytes(), &Mapping::default()).unwrap();
    assert_eq!(
        summary(&rows),
        vec![
            err(
                2,
                "coordinates out of range: latitude 95 is outside -90..90"
            ),
            ok(3, "A"),
            err(4, "duplicate ref A (first seen on line 3)"),
            err(5, "duplicate ref A (first seen on line 3)"),
            ok(6, "a"),
        ]
    );
}

#[test]
fn areas_from_geojson() {
    let doc = json!({
        "type": "FeatureCollection",
        "features": [
            { "type": "Feature", "properties": { "WD23NM": "Stretford", "code": "E1" },
              "geometry": { "type": "Polygon", "coordinates": [[[-2.32, 53.44], [-2.30, 53.44], [-2.30, 53.46], [-2.32, 53.44]]] } },
            { "type": "Feature", "properties": { "WD23NM": "Sale" },
              "geometry": { "type": "MultiPolygon", "coordinates": [
                  [[[-2.32, 53.42], [-2.30, 53.42], [-2.30, 53.43], [-2.32, 53.42]]],
                  [[[-2.29, 53.42], [-2.28, 53.42], [-2.28, 53.43], [-2.29, 53.42]]]] } },
            { "type": "Feature", "properties": { "WD23NM": "" },
              "geometry": { "type": "Polygon", "coordinates": [[[-2.32, 53.44], [-2.30, 53.44], [-2.30, 53.46], [-2.32, 53.44]]] } },
            { "type": "Feature", "properties": { "WD23NM": "Point ward" },
              "geometry": { "type": "Point", "coordinates": [-2.3, 53.4] } },
            { "type": "Feature", "properties": { "WD23NM": 42 },
              "geometry": { "type": "Polygon", "coordinates": [[[-2.32, 95.0], [-2.30, 53.44], [-2.30, 53.46], [-2.32, 95.0]]] } },
            { "type": "Feature", "properties": { "WD23NM": "Gone" }, "geometry": null },
        ]
    })
    .to_string();
    let areas = parse_areas_geojson(doc.as_bytes(), "WD23NM").unwrap();
    let summary: Vec<Outcome<(String, usize)>> = areas
        .iter()
        .map(|a| {
            (
                a.line,
                a.outcome
                    .as_ref()
                    .map(|(n, mp)| (n.clone(), mp.0.len()))
                    .map_err(Clone::clone),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, Ok(("Stretford".to_string(), 1))),
            (2, Ok(("Sale".to_string(), 2))),
            (
                3,
                Err("no name (property \"WD23NM\" is missing or empty)".to_string())
            ),
            (
                4,
                Err(
                    "unsupported geometry type Point; an area is a Polygon or MultiPolygon"
                        .to_string()
                )
            ),
            (
                5,
                Err("coordinates out of range: latitude 95 is outside -90..90".to_string())
            ),
            (6, Err("no geometry".to_string())),
        ]
    );

    let e = parse_areas_geojson(doc.as_bytes(), "name").unwrap_err();
    assert!(matches!(e, ImportError::UnknownColumn { .. }), "{e}");

    // BNG areas via the crs member.
    let (e0, n0) = crate::crs::wgs84_to_bng(-2.32, 53.44).unwrap();
    let bng = json!({
        "type": "Feature",
        "crs": { "type": "name", "properties": { "name": "EPSG:27700" } },
        "properties": { "name": "Grid" },
        "geometry": { "type": "Polygon", "coordinates": [[[e0, n0], [e0 + 100.0, n0], [e0, n0 + 100.0], [e0, n0]]] }
    })
    .to_string();
    let areas = parse_areas_geojson(bng.as_bytes(), "name").unwrap();
    let (name, mp) = areas[0].outcome.as_ref().unwrap();
    assert_eq!(name, "Grid");
    let c = mp.0[0].exterior().0[0];
    assert!(
        (c.x + 2.32).abs() < 1e-7 && (c.y - 53.44).abs() < 1e-7,
        "{c:?}"
    );
}

#[test]
fn real_trafford_highway_trees_csv() {
    let Some(bytes) = shared("trafford-street-assets/trafford_highways_trees.csv") else {
        return;
    };
    let mapping = Mapping {
        kind: Some(AssetKind::LampPost),
        ref_field: Some("treeID".to_string()),
        ..Mapping::default()
    };
    let started = std::time::Instant::now();
    let rows = parse_csv(&bytes, &mapping).unwrap();
    println!("parsed {} rows in {:?}", rows.len(), started.elapsed());

    // Independently: the raw lines and their first fields (the file has no quotes).
    let text = std::str::from_utf8(&bytes).unwrap();
    let data: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut seen = HashSet::new();
    let duplicates = data
        .iter()
        .filter(|l| !seen.insert(l.split(',').next().unwrap().trim()))
        .count();
    assert_eq!(data.len(), 15_638);
    assert_eq!(rows.len(), 15_638);

    let rejected: Vec<&ParsedRow> = rows.iter().filter(|r| r.outcome.is_err()).collect();
    assert_eq!(rejected.len(), duplicates, "{:?}", rejected.first());
    for r in &rejected {
        let reason = r.outcome.as_ref().unwrap_err();
        assert!(
            reason.starts_with("duplicate ref "),
            "line {}: {reason}",
            r.line
        );
    }
    assert_eq!(rows.first().unwrap().line, 2);
    assert_eq!(rows.last().unwrap().line, 15_639);

    let first = asset(&rows, "T06522");
    assert_eq!(first.kind, AssetKind::LampPost);
    assert_eq!(point(first), (-2.36502579209833, 53.3877129525277));
    assert_eq!(
        first.source_attributes,
        attrs(&[
            ("species", json!("Tilia cordata")),
            ("street", json!("Bradgate Road")),
        ])
    );
}

#[test]
fn real_trafford_highway_trees_geojson() {
    let Some(bytes) = shared("trafford-street-assets/trafford_highways_trees.geojson") else {
        return;
    };
    let mapping = Mapping {
        kind: Some(AssetKind::LampPost),
        ref_field: Some("treeID".to_string()),
        ..Mapping::default()
    };
    let started = std::time::Instant::now();
    let rows = parse_geojson(&bytes, &mapping).unwrap();
    println!("parsed {} features in {:?}", rows.len(), started.elapsed());
    assert_eq!(rows.len(), 15_638);
    assert!(rows.iter().all(|r| r.outcome.is_ok()));
    assert_eq!(
        point(asset(&rows, "T06522")),
        (-2.36502579209833, 53.3877129525277)
    );
}

#[test]
fn real_trafford_bus_stops_take_the_geometry() {
    let Some(bytes) = shared("trafford-street-assets/trafford_bus_stops.geojson") else {
        return;
    };
    let mapping = Mapping {
        kind: Some(AssetKind::BusShelter),
        ref_field: Some("atco_code".to_string()),
        ..Mapping::default()
    };
    let rows = parse_geojson(&bytes, &mapping).unwrap();
    assert_eq!(rows.len(), 1_025);
    assert!(rows.iter().all(|r| r.outcome.is_ok()));
    // The lon/lat properties hold the borough centroid: they are attributes.
    let stop = asset(&rows, "1800SJ47601");
    assert_eq!(point(stop), (-2.317611, 53.41754));
    assert_eq!(stop.source_attributes["lon"], json!(-2.36572));
}

#[test]
fn real_trafford_land_and_buildings_csv() {
    let Some(bytes) =
        shared("trafford-council-land-buildings/trafford_land_and_building_assets.csv")
    else {
        return;
    };
    let mapping = Mapping {
        kind: Some(AssetKind::Rooftop),
        ref_field: Some("AssetCode".to_string()),
        ..Mapping::default()
    };
    let rows = parse_csv(&bytes, &mapping).unwrap();
    // PROVENANCE.md: 608 rows, 235 without coordinates (GeoX/GeoY).
    assert_eq!(rows.len(), 608);
    let rejected: Vec<&String> = rows
        .iter()
        .filter_map(|r| r.outcome.as_ref().err())
        .collect();
    assert_eq!(rejected.len(), 235);
    assert!(
        rejected
            .iter()
            .all(|e| *e == "no geometry (columns \"GeoX\" and \"GeoY\" are empty)"),
        "{rejected:?}"
    );
    let hall = asset(&rows, "TMBC0001/T0000003");
    assert_eq!(point(hall), (-2.3520922, 53.3879587));
    assert_eq!(
        hall.source_attributes["PropertyName"],
        json!("Altrincham Town Hall")
    );
    assert!(!hall.source_attributes.contains_key("GeoX"));
}

#[test]
fn real_trafford_wards() {
    let Some(bytes) = shared("trafford-boundaries/trafford_ward_2023_full_resolution.geojson")
    else {
        return;
    };
    let areas = parse_areas_geojson(&bytes, "area_name").unwrap();
    assert_eq!(areas.len(), 21);
    assert!(areas.iter().all(|a| a.outcome.is_ok()));
    let names: HashSet<&str> = areas
        .iter()
        .map(|a| a.outcome.as_ref().unwrap().0.as_str())
        .collect();
    assert_eq!(names.len(), 21);
    assert!(names.contains("Altrincham"));
}

#[test]
fn csv_lines_are_physical_lines() {
    let lines = |csv: &str| -> Vec<Outcome<String>> {
        summary(&parse_csv(csv.as_bytes(), &Mapping::default()).unwrap())
    };
    let expected = vec![ok(2, "A"), ok(4, "B"), ok(7, "C")];
    // LF, blank lines, a quoted field over two lines.
    let lf = "ref,kind,lon,lat,notes\nA,wall,-2.3,53.4,\"two\nlines\"\nB,wall,-2.3,53.4,\n\n\nC,wall,-2.3,53.4,\n";
    assert_eq!(lines(lf), expected);
    // The same with CRLF, and with old Mac CR line ends.
    assert_eq!(lines(&lf.replace('\n', "\r\n")), expected);
    assert_eq!(lines(&lf.replace('\n', "\r")), expected);
    // Whitespace-only and all-empty rows are skipped but counted.
    let gaps = "ref,kind,lon,lat\n  \n,,,\nA,wall,-2.3,53.4\n";
    assert_eq!(lines(gaps), vec![ok(4, "A")]);
}
