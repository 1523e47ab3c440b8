//! British National Grid input and the CRS names we recognise.

use super::*;

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
