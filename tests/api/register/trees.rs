//! 1 and 2. The highway trees: import at scale, then nearest, bbox and
//! polygon search against brute force.

use super::*;

async fn trees_import_and_queries(app: TestApp) {
    let Some((bytes, file)) = shared_file(TREES) else {
        return;
    };
    let token = trafford(&app).await;

    // Independent count: distinct treeIDs as read here.
    let features_in_file = file["features"].as_array().expect("features").len();
    let distinct: HashSet<String> = file["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| ref_text(&f["properties"]["treeID"]))
        .collect();
    assert_eq!(features_in_file, 15_638, "PROVENANCE gives 15,638 trees");
    assert_eq!(
        distinct.len(),
        features_in_file,
        "every tree has its own treeID"
    );
    let n = distinct.len();

    let started = Instant::now();
    let first = import(&app, &token, "lamp_post", "treeID", bytes.clone()).await;
    eprintln!("first import of {n} trees: {:?}", started.elapsed());
    assert_eq!(first["inserted"], n, "{first}");
    assert_eq!(first["updated"], 0, "{first}");
    assert_eq!(first["rejected"], json!([]), "{first}");

    let started = Instant::now();
    let again = import(&app, &token, "lamp_post", "treeID", bytes).await;
    eprintln!("re-import: {:?}", started.elapsed());
    assert_eq!(again["inserted"], 0, "{again}");
    assert_eq!(again["updated"], n, "{again}");
    assert_eq!(again["rejected"], json!([]), "{again}");
    assert_eq!(count(&app, &token).await, n as u64);

    let listed = all_assets(&app, &token).await;
    let listed_refs: HashSet<String> = listed.iter().map(|f| ref_of(f).to_string()).collect();
    assert_eq!(
        listed_refs, distinct,
        "the register holds exactly the file's trees"
    );
    let ids: HashSet<&str> = listed
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), n, "ids are unique");

    let cases = tokio::task::block_in_place(|| TREE_CASES.as_ref()).expect("trees file read");
    let sites = &cases.sites;
    let started = Instant::now();

    for &(q, k) in &cases.nearest {
        let answer = nearest(&app, &token, q.x(), q.y(), k).await;
        check_nearest(&answer, sites, q, k);
    }

    for b in &cases.boxes {
        let bbox = format!("{},{},{},{}", b[0], b[1], b[2], b[3]);
        let answer = get_ok(&app, &token, &format!("/v1/assets?bbox={bbox}&limit=10000")).await;
        let expected = in_box(sites, *b);
        assert!(expected.len() < 10_000, "box {bbox} too big for one page");
        assert_eq!(answer["numberMatched"], expected.len(), "bbox {bbox}");
        assert_eq!(ref_set(&answer), expected, "bbox {bbox}");
    }
    let nonempty = cases
        .boxes
        .iter()
        .filter(|b| !in_box(sites, **b).is_empty())
        .count();
    assert!(nonempty >= 18, "most boxes hold trees ({nonempty})");

    for (i, case) in cases.polygons.iter().enumerate() {
        let geometry = json!({"type": "Polygon", "coordinates": case.rings});
        for buffer in [0.0, BUFFER_M] {
            let (s, answer) = app
                .json(
                    Method::POST,
                    "/v1/assets/search",
                    Some(&token),
                    &json!({"geometry": geometry, "buffer_m": buffer}),
                )
                .await;
            assert_eq!(s, 200, "search: {answer}");
            let what = format!("polygon {i} buffer {buffer} ({geometry})");
            if buffer == 0.0 {
                check_search(&answer, &case.within, &case.within_unsure, &what);
            } else {
                let expected: BTreeSet<String> = case.buffered.keys().cloned().collect();
                check_search(&answer, &expected, &case.buffered_unsure, &what);
                for f in features(&answer) {
                    let Some(want) = case.buffered.get(ref_of(f)) else {
                        continue;
                    };
                    let got = f["properties"]["distance_m"].as_f64().expect("distance_m");
                    assert!(
                        (got - want).abs() <= 0.02,
                        "{what}: {} reported {got} m from the polygon, brute force {want} m",
                        ref_of(f)
                    );
                }
            }
        }
    }
    let hits: usize = cases.polygons.iter().map(|c| c.within.len()).sum();
    let buffered: usize = cases.polygons.iter().map(|c| c.buffered.len()).sum();
    assert!(
        hits > 100 && buffered > hits,
        "the polygons cover trees ({hits} inside, {buffered} with buffer)"
    );
    eprintln!(
        "{} nearest, {} bbox, {} polygon queries ({hits} trees inside, {buffered} \
         within 100 m) checked in {:?}",
        cases.nearest.len(),
        cases.boxes.len(),
        2 * cases.polygons.len(),
        started.elapsed()
    );
}

on_both_databases!(
    trees_import_and_queries_match_brute_force,
    trees_import_and_queries
);
