//! Field-mapping options change the outcome; mapping mistakes are whole-file errors.

use super::*;

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
