//! 3. CCTV cameras land in the ward the publisher names.

use super::*;

async fn cctv_wards(app: TestApp) {
    let Some((cctv_bytes, cctv)) = shared_file(CCTV) else {
        return;
    };
    let Some((wards, _)) = shared_file(WARDS) else {
        return;
    };
    let Some((conservation, _)) = shared_file(CONSERVATION) else {
        return;
    };
    let token = trafford(&app).await;

    let (s, b) = app
        .post_bytes(
            &format!("/v1/authorities/{AUTHORITY}/areas?layer=ward&name_field=area_name"),
            Some(&token),
            GEOJSON,
            wards,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["loaded"], 21, "{b}");
    assert_eq!(b["rejected"], json!([]), "{b}");

    let report = import(&app, &token, "cctv_column", "camera_id", cctv_bytes).await;
    assert_eq!(report["inserted"], 163, "{report}");
    assert_eq!(report["rejected"], json!([]), "{report}");

    let expected: BTreeMap<String, String> = cctv["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                ref_text(&p["camera_id"]),
                p["area_name"].as_str().expect("area_name").to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 163);

    let assets = all_assets(&app, &token).await;
    assert_eq!(assets.len(), 163);
    let placed: BTreeMap<String, Option<String>> = assets
        .iter()
        .map(|f| {
            (
                ref_of(f).to_string(),
                f["properties"]["ward"].as_str().map(str::to_string),
            )
        })
        .collect();
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(r, ward)| placed.get(*r) != Some(&Some((*ward).clone())))
        .map(|(r, ward)| format!("{r}: publisher {ward:?}, register {:?}", placed.get(r)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of 163 cameras in the wrong ward: {wrong:#?}",
        wrong.len()
    );
    assert!(
        assets
            .iter()
            .all(|f| f["properties"]["in_conservation_area"] == false)
    );

    // Following `next` links, 50 at a time, visits each camera once; each
    // page links back with `prev` to the one before.
    let link = |page: &Value, rel: &str| {
        page["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == rel)
            .map(|l| l["href"].as_str().expect("href").to_string())
    };
    let mut walked = Vec::new();
    let mut href = Some("/v1/assets?limit=50".to_string());
    let mut previous: Option<String> = None;
    while let Some(h) = href {
        let page = get_ok(&app, &token, &h).await;
        assert_eq!(link(&page, "self").as_deref(), Some(h.as_str()));
        let back = link(&page, "prev");
        match &previous {
            None => assert_eq!(back, None, "first page has no prev"),
            Some(p) => assert_eq!(
                get_ok(&app, &token, back.as_deref().expect("prev")).await["features"],
                get_ok(&app, &token, p).await["features"],
                "prev of {h} is not {p}"
            ),
        }
        walked.extend(features(&page).iter().map(|f| ref_of(f).to_string()));
        previous = Some(h);
        href = link(&page, "next");
    }
    assert_eq!(walked.len(), 163, "4 pages of 50, 50, 50, 13");
    let walked: BTreeSet<String> = walked.into_iter().collect();
    assert_eq!(walked, expected.keys().cloned().collect::<BTreeSet<_>>());

    let (s, b) = app
        .post_bytes(
            &format!(
                "/v1/authorities/{AUTHORITY}/areas?layer=conservation_area&name_field=site_name"
            ),
            Some(&token),
            GEOJSON,
            conservation,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["loaded"], 21, "{b}");
    let assets = all_assets(&app, &token).await;
    let inside: Vec<&str> = assets
        .iter()
        .filter(|f| f["properties"]["in_conservation_area"] == true)
        .map(ref_of)
        .collect();
    assert_eq!(
        inside.len(),
        12,
        "PROVENANCE puts 12 cameras in conservation areas: {inside:?}"
    );
    // Loading another layer leaves the wards as they were.
    for f in &assets {
        assert_eq!(
            f["properties"]["ward"].as_str(),
            Some(expected[ref_of(f)].as_str())
        );
    }
}

on_both_databases!(cctv_cameras_land_in_the_publishers_wards, cctv_wards);
