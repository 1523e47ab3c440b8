//! Part 2: output CRS and bbox CRS.
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_crs_epsg_4326_and_27700() {
    let (app, known) = app_with_data().await;
    let by_id = |id: &str| known.iter().find(|k| k.id == id).unwrap();

    let (s, h, b) = get(
        &app,
        &format!("/collections/assets/items?limit=1000&crs={EPSG_4326}"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_4326}>"));
    for f in b["features"].as_array().unwrap() {
        let k = by_id(f["id"].as_str().unwrap());
        assert_eq!(f["geometry"]["coordinates"], json!([k.lat, k.lon]));
    }

    let (s, h, b) = get(
        &app,
        &format!("/collections/assets/items?limit=1000&crs={EPSG_27700}"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(content_type(&h), "application/geo+json");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_27700}>"));
    assert_eq!(b["numberReturned"], known.len());
    for f in b["features"].as_array().unwrap() {
        let k = by_id(f["id"].as_str().unwrap());
        let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
        let c = &f["geometry"]["coordinates"];
        assert!((c[0].as_f64().unwrap() - e).abs() <= 0.001, "{c} vs {e}");
        assert!((c[1].as_f64().unwrap() - n).abs() <= 0.001, "{c} vs {n}");
    }

    let k = &known[3];
    let (s, h, f) = get(
        &app,
        &format!("/collections/assets/items/{}?crs={EPSG_27700}", k.id),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_27700}>"));
    let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
    assert!((f["geometry"]["coordinates"][0].as_f64().unwrap() - e).abs() <= 0.001);
    assert!((f["geometry"]["coordinates"][1].as_f64().unwrap() - n).abs() <= 0.001);

    // Area polygons convert too (first ring vertex).
    let (_, _, w) = get(
        &app,
        &format!("/collections/wards/items?name=West&crs={EPSG_27700}"),
    )
    .await;
    let v = &w["features"][0]["geometry"]["coordinates"][0][0][0];
    let (e, n) = wgs84_to_bng(-2.42, 53.39).unwrap();
    assert!((v[0].as_f64().unwrap() - e).abs() <= 0.001, "{v}");
    assert!((v[1].as_f64().unwrap() - n).abs() <= 0.001, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bbox_in_other_crs_selects_the_same_features() {
    let (app, known) = app_with_data().await;
    // The lon/lat box (-2.385, 53.405) - (-2.355, 53.435) has its edges half
    // way between grid points (≥ 300 m from any point). Its BNG counterpart
    // takes eastings from the west/east edge midpoints and northings from the
    // south/north ones; grid convergence here moves edges by tens of metres
    // at most, so both boxes hold the same 9 points.
    let (w, _) = wgs84_to_bng(-2.385, 53.42).unwrap();
    let (east, _) = wgs84_to_bng(-2.355, 53.42).unwrap();
    let (_, south) = wgs84_to_bng(-2.37, 53.405).unwrap();
    let (_, north) = wgs84_to_bng(-2.37, 53.435).unwrap();
    let in_box =
        |k: &&Known| (-2.385..=-2.355).contains(&k.lon) && (53.405..=53.435).contains(&k.lat);
    let mut expect: Vec<String> = known.iter().filter(in_box).map(|k| k.id.clone()).collect();
    expect.sort();
    assert_eq!(expect.len(), 9);
    // The same set, decided in BNG from the stored coordinates.
    let mut in_bng: Vec<String> = known
        .iter()
        .filter(|k| {
            let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
            (w..=east).contains(&e) && (south..=north).contains(&n)
        })
        .map(|k| k.id.clone())
        .collect();
    in_bng.sort();
    assert_eq!(in_bng, expect);

    let (s, _, lonlat) = get(
        &app,
        "/collections/assets/items?bbox=-2.385,53.405,-2.355,53.435",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&lonlat), expect);
    let (s, _, latlon) = get(
        &app,
        &format!("/collections/assets/items?bbox=53.405,-2.385,53.435,-2.355&bbox-crs={EPSG_4326}"),
    )
    .await;
    assert_eq!(s, 200, "{latlon}");
    assert_eq!(ids(&latlon), expect);
    let (s, h, bng) = get(
        &app,
        &format!(
            "/collections/assets/items?bbox={w},{south},{east},{north}&bbox-crs={EPSG_27700}&crs={EPSG_27700}"
        ),
    )
    .await;
    assert_eq!(s, 200, "{bng}");
    assert_eq!(h.get("content-crs").unwrap(), &format!("<{EPSG_27700}>"));
    assert_eq!(ids(&bng), expect);
    assert_eq!(bng["numberMatched"], 9);

    // Exact in BNG: a box 1 m around one point holds only that point, even
    // though its lon/lat envelope is padded.
    let k = &known[12];
    let (e, n) = wgs84_to_bng(k.lon, k.lat).unwrap();
    let (_, _, one) = get(
        &app,
        &format!(
            "/collections/assets/items?bbox={},{},{},{}&bbox-crs={EPSG_27700}",
            e - 1.0,
            n - 1.0,
            e + 1.0,
            n + 1.0
        ),
    )
    .await;
    assert_eq!(ids(&one), vec![k.id.clone()]);
    // A BNG box just east of the point (5 m away) does not hold it.
    let (_, _, none) = get(
        &app,
        &format!(
            "/collections/assets/items?bbox={},{},{},{}&bbox-crs={EPSG_27700}",
            e + 5.0,
            n - 1.0,
            e + 10.0,
            n + 1.0
        ),
    )
    .await;
    assert_eq!(none["numberMatched"], 0, "{none}");
}
