//! Whole-file problems, row reasons, duplicates and boundary layers.

use super::*;

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
