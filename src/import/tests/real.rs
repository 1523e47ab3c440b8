//! The shared Trafford exports, as published.

use super::*;

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
    assert_eq!(stop.source_attributes.get("lon").unwrap(), json!(-2.36572));
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
        hall.source_attributes.get("PropertyName").unwrap(),
        json!("Altrincham Town Hall")
    );
    assert!(hall.source_attributes.get("GeoX").is_none());
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
