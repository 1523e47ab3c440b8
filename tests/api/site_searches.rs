//! `POST /v1/site-searches` over the Trafford demo (17,108 assets), checked
//! against brute force over every asset of the register: every hard
//! constraint on every returned site, the spacing rule on every pair,
//! maximality, the `rejected_by` counts, coverage fractions recomputed from
//! the returned sites, the quote against `POST /v1/quotes`, determinism, and
//! 422s naming the fields.

use geo::{Distance, Geodesic, Geometry, Intersects, Point, polygon};
use reqwest::Method;
use serde_json::{Value, json};
use streetcell::domain::asset::{Asset, AssetKind, AssetStatus, PowerSupply};

use crate::helpers::{Db, TestApp, spawn_app};

async fn demo_app() -> (TestApp, String) {
    let app = spawn_app(Db::Sqlite).await.expect("sqlite");
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("demo loads");
    app.register.catch_up().await.expect("catch up");
    let token = app.token("operator", None, Some("demo-mobile")).await;
    (app, token)
}

/// A 2.4 × 2.2 km box around Sale town centre.
fn sale() -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [-2.340, 53.415], [-2.305, 53.415], [-2.305, 53.435], [-2.340, 53.435], [-2.340, 53.415]
    ]]})
}

fn sale_polygon() -> geo::Polygon<f64> {
    polygon![(x: -2.340, y: 53.415), (x: -2.305, y: 53.415), (x: -2.305, y: 53.435), (x: -2.340, y: 53.435), (x: -2.340, y: 53.415)]
}

fn all_assets(app: &TestApp) -> Vec<Asset> {
    let snap = app.register.assets().snapshot();
    snap.page(0, usize::MAX)
        .into_iter()
        .map(|l| l.asset.clone())
        .collect()
}

fn anchor(a: &Asset) -> Point<f64> {
    a.details.anchor().expect("an anchor")
}

fn metres(a: Point<f64>, b: Point<f64>) -> f64 {
    Geodesic.distance(a, b)
}

/// The request's hard constraints, written out again: the first one each
/// asset fails, in `rejected_by` order ("outside" decided by the caller).
struct Rules {
    kinds: Vec<AssetKind>,
    min_h: f64,
    max_h: f64,
    power: Vec<PowerSupply>,
}

impl Rules {
    fn first_failure(&self, a: &Asset) -> Option<&'static str> {
        let d = &a.details;
        if !self.kinds.contains(&d.kind) {
            return Some("kind");
        }
        if !d
            .height_m
            .is_some_and(|h| h >= self.min_h && h <= self.max_h)
        {
            return Some("height");
        }
        if !self.power.contains(&d.power_supply) {
            return Some("power");
        }
        if a.placement.in_conservation_area {
            return Some("conservation_area");
        }
        if d.listed {
            return Some("listed");
        }
        if d.status != AssetStatus::Available {
            return Some("status");
        }
        if d.capacity <= a.occupancy.in_use {
            return Some("capacity");
        }
        None
    }
}

fn strict_request(sites_wanted: u32, spacing: f64) -> Value {
    json!({
        "area": sale(),
        "sites_wanted": sites_wanted,
        "min_spacing_m": spacing,
        "kinds": ["lamp_post", "cctv_column", "bus_shelter"],
        "min_height_m": 5, "max_height_m": 12,
        "power_supply": ["continuous"],
        "exclude_conservation_areas": true,
        "exclude_listed": true,
        "term_years": 10,
        "start": "2027-04-01"
    })
}

fn strict_rules() -> Rules {
    Rules {
        kinds: vec![
            AssetKind::LampPost,
            AssetKind::CctvColumn,
            AssetKind::BusShelter,
        ],
        min_h: 5.0,
        max_h: 12.0,
        power: vec![PowerSupply::Continuous],
    }
}

async fn search(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    app.json(Method::POST, "/v1/site-searches", Some(token), body)
        .await
}

fn ids(b: &Value) -> Vec<String> {
    b["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spacing_mode_obeys_every_rule_and_agrees_with_brute_force() {
    let (app, token) = demo_app().await;
    let assets = all_assets(&app);
    let area = sale_polygon();
    let rules = strict_rules();
    let spacing = 150.0;
    // More sites than fit: the selection must come back maximal.
    let (s, b) = search(&app, &token, &strict_request(1_000, spacing)).await;
    assert_eq!(s, 201, "{b}");
    let chosen = ids(&b);
    assert!(chosen.len() > 5, "{}", chosen.len());
    assert!(chosen.len() < 1_000);

    // Brute force over the whole register.
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut candidates = Vec::new();
    for a in &assets {
        let reason = if !Geometry::Polygon(area.clone()).intersects(&a.details.geometry) {
            Some("outside")
        } else {
            rules.first_failure(a)
        };
        match reason {
            Some(r) => *counts.entry(r).or_default() += 1,
            None => candidates.push(a),
        }
    }
    let by_id: std::collections::HashMap<&str, &Asset> =
        assets.iter().map(|a| (a.id.as_str(), a)).collect();

    // Every hard constraint on every returned site.
    for id in &chosen {
        let a = by_id[id.as_str()];
        assert!(Geometry::Polygon(area.clone()).intersects(&a.details.geometry));
        assert_eq!(rules.first_failure(a), None, "{id}");
    }
    // Spacing on every returned pair.
    for (i, x) in chosen.iter().enumerate() {
        for y in &chosen[i + 1..] {
            let d = metres(anchor(by_id[x.as_str()]), anchor(by_id[y.as_str()]));
            assert!(d >= spacing, "{x} and {y} are {d} m apart");
        }
    }
    // Maximal: every candidate left out has a chosen site too close.
    let mut spaced_out = 0;
    for c in &candidates {
        if chosen.contains(&c.id) {
            continue;
        }
        let blocked = chosen
            .iter()
            .any(|x| metres(anchor(c), anchor(by_id[x.as_str()])) < spacing);
        assert!(blocked, "{} could have been added", c.id);
        spaced_out += 1;
    }
    let summary = &b["summary"];
    assert_eq!(summary["candidates"], candidates.len(), "{summary}");
    assert_eq!(summary["selected"], chosen.len());
    let rejected = &summary["rejected_by"];
    for key in [
        "outside",
        "kind",
        "height",
        "power",
        "conservation_area",
        "listed",
        "status",
        "capacity",
    ] {
        assert_eq!(
            rejected[key],
            counts.get(key).copied().unwrap_or(0),
            "{key}: {rejected}"
        );
    }
    assert_eq!(rejected["spacing"], spaced_out, "{rejected}");
    for rule in ["outside", "kind", "height", "power", "status"] {
        assert!(
            counts.get(rule).is_some_and(|&n| n > 0),
            "{rule} bites: {counts:?}"
        );
    }

    // Ranks in order, scores never rising, every site priced.
    let mut last = f64::INFINITY;
    for (n, f) in b["features"].as_array().unwrap().iter().enumerate() {
        let p = &f["properties"];
        assert_eq!(p["rank"], n + 1);
        let score = p["score"].as_f64().unwrap();
        assert!(score <= last, "{score} after {last}");
        last = score;
        assert!(p["annual_fee"].as_str().is_some(), "{p}");
        assert_eq!(p["currency"], "GBP");
        for part in ["demand", "height", "power", "shared", "fee"] {
            let v = p["score_parts"][part].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{part} {v}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quote_is_post_quotes_and_answers_are_deterministic() {
    let (app, token) = demo_app().await;
    let body = strict_request(12, 200.0);
    let (s, first) = search(&app, &token, &body).await;
    assert_eq!(s, 201, "{first}");
    let chosen = ids(&first);
    assert_eq!(chosen.len(), 12, "enough candidates to fill the request");
    let (s, quotes) = app
        .json(
            Method::POST,
            "/v1/quotes",
            Some(&token),
            &json!({"assets": chosen, "term_years": 10, "start": "2027-04-01"}),
        )
        .await;
    assert_eq!(s, 200, "{quotes}");
    assert_eq!(first["summary"]["quote"], quotes);
    assert!(
        quotes["quotes"][0]["grand_total"].as_str().is_some() || quotes["quotes"][0].is_object()
    );
    // Each site's annual fee is its year-one charge in the quote's lines.
    for _ in 0..2 {
        let (s, again) = search(&app, &token, &body).await;
        assert_eq!(s, 201);
        assert_eq!(again["features"], first["features"]);
        assert_eq!(again["summary"], first["summary"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_and_corridor_keep_to_their_region() {
    let (app, token) = demo_app().await;
    let assets = all_assets(&app);
    let by_id: std::collections::HashMap<&str, &Asset> =
        assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let centre = Point::new(-2.35, 53.387);
    let (s, b) = search(
        &app,
        &token,
        &json!({"near": {"lon": -2.35, "lat": 53.387, "radius_m": 600}, "sites_wanted": 20, "min_spacing_m": 100}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(ids(&b).len(), 20);
    for id in ids(&b) {
        let a = by_id[id.as_str()];
        if let Geometry::Point(p) = a.details.geometry {
            assert!(metres(p, centre) <= 600.0, "{id}");
        }
    }
    // Closer sites score higher on the demand part.
    let inside = assets
        .iter()
        .filter(|a| {
            streetcell::index::geodesy::geometry_distance(
                &Geometry::Point(centre),
                &a.details.geometry,
            ) <= 600.0
        })
        .count();
    let r = &b["summary"]["rejected_by"];
    let ruled_out: u64 = [
        "kind",
        "height",
        "power",
        "conservation_area",
        "listed",
        "status",
        "capacity",
    ]
    .iter()
    .map(|k| r[k].as_u64().unwrap())
    .sum();
    assert_eq!(
        r["outside"].as_u64().unwrap() as usize,
        assets.len() - inside,
        "{r}"
    );
    assert_eq!(
        b["summary"]["candidates"].as_u64().unwrap() + ruled_out,
        inside as u64
    );

    // A corridor along Altrincham's high street, 60 m wide.
    let line = json!({"type": "LineString", "coordinates": [[-2.3530, 53.3830], [-2.3500, 53.3880], [-2.3470, 53.3930]]});
    let (s, b) = search(
        &app,
        &token,
        &json!({"corridor": {"line": line, "width_m": 60}, "sites_wanted": 50}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let g: geo::Geometry<f64> = geo::LineString::from(vec![
        (-2.3530, 53.3830),
        (-2.3500, 53.3880),
        (-2.3470, 53.3930),
    ])
    .into();
    for id in ids(&b) {
        let d =
            streetcell::index::geodesy::geometry_distance(&g, &by_id[id.as_str()].details.geometry);
        assert!(d <= 30.0, "{id} is {d} m from the line");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_mode_covers_demand_as_an_independent_count_says() {
    let (app, token) = demo_app().await;
    let assets = all_assets(&app);
    let by_id: std::collections::HashMap<&str, &Asset> =
        assets.iter().map(|a| (a.id.as_str(), a)).collect();
    // Demand scattered over Sale with weights.
    let mut demand = Vec::new();
    let mut points = Vec::new();
    for i in 0..60 {
        let x = -2.338 + 0.031 * ((i * 37 % 60) as f64 / 60.0);
        let y = 53.417 + 0.016 * ((i * 13 % 60) as f64 / 60.0);
        let w = 1 + (i % 7);
        points.push((Point::new(x, y), w as f64));
        demand.push(json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": {"weight": w}}));
    }
    let radius = 250.0;
    let spacing = 300.0;
    let body = json!({
        "area": sale(), "sites_wanted": 6, "min_spacing_m": spacing, "coverage_radius_m": radius,
        "power_supply": ["continuous"],
        "demand": {"type": "FeatureCollection", "features": demand}
    });
    let (s, b) = search(&app, &token, &body).await;
    assert_eq!(s, 201, "{b}");
    let chosen = ids(&b);
    assert!(!chosen.is_empty() && chosen.len() <= 6);
    let sites: Vec<Point<f64>> = chosen.iter().map(|id| anchor(by_id[id.as_str()])).collect();
    for (i, x) in sites.iter().enumerate() {
        for y in &sites[i + 1..] {
            assert!(metres(*x, *y) >= spacing);
        }
    }
    let total: f64 = points.iter().map(|p| p.1).sum();
    let covered: f64 = points
        .iter()
        .filter(|(p, _)| sites.iter().any(|s| metres(*s, *p) <= radius))
        .map(|p| p.1)
        .sum();
    let fraction = b["summary"]["coverage_fraction"].as_f64().unwrap();
    assert!(
        (fraction - covered / total).abs() < 1e-6,
        "{fraction} vs {}",
        covered / total
    );
    let region = &b["summary"]["coverage"];
    assert_eq!(region["type"], "Feature");
    assert_eq!(region["geometry"]["type"], "MultiPolygon");
    let greedy = region["properties"]["greedy_weight"].as_f64().unwrap();
    assert!(covered + 1e-6 >= greedy);
    for id in &chosen {
        assert_eq!(
            by_id[id.as_str()].details.power_supply,
            PowerSupply::Continuous
        );
    }

    // Early stop: one demand point is covered by one site.
    let body = json!({
        "area": sale(), "sites_wanted": 5, "coverage_radius_m": 200,
        "demand": {"type": "FeatureCollection", "features": [demand[0].clone()]}
    });
    let (s, b) = search(&app, &token, &body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(ids(&b).len(), 1);
    assert_eq!(b["summary"]["coverage_fraction"], 1.0);

    // No demand: the area's sample grid stands for it.
    let body =
        json!({"area": sale(), "sites_wanted": 8, "coverage_radius_m": 300, "min_spacing_m": 400});
    let (s, b) = search(&app, &token, &body).await;
    assert_eq!(s, 201, "{b}");
    let f = b["summary"]["coverage_fraction"].as_f64().unwrap();
    assert!(f > 0.3 && f <= 1.0, "{f}");
    assert_eq!(b["summary"]["coverage"]["properties"]["sampled_grid"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_name_their_fields() {
    let app = spawn_app(Db::Sqlite).await.expect("sqlite");
    let token = app.organisation("acme").await;
    let near = json!({"lon": -2.35, "lat": 53.42, "radius_m": 500});
    let line = json!({"type": "LineString", "coordinates": [[-2.35, 53.42], [-2.34, 53.42]]});
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["area", "near", "corridor"]),
        (json!({"near": near, "area": sale()}), vec!["area", "near"]),
        (
            json!({"near": near, "area": sale(), "corridor": {"line": line, "width_m": 60}}),
            vec!["area", "near", "corridor"],
        ),
        (
            json!({"area": {"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.2, 53.5], [-2.3, 53.5]]]}}),
            vec!["area"],
        ),
        (
            json!({"area": {"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.3, 53.4]]]}}),
            vec!["area"],
        ),
        (
            json!({"area": {"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.5], [-2.2, 53.4], [-2.3, 53.5], [-2.3, 53.4]]]}}),
            vec!["area"],
        ),
        (
            json!({"area": {"type": "Polygon", "coordinates": [[[-2.3, 93.4], [-2.2, 53.4], [-2.2, 53.5], [-2.3, 93.4]]]}}),
            vec!["area"],
        ),
        (
            json!({"near": {"lon": -2.35, "lat": 53.42, "radius_m": -5}}),
            vec!["near.radius_m"],
        ),
        (
            json!({"corridor": {"line": line, "width_m": -1}}),
            vec!["corridor.width_m"],
        ),
        (
            json!({"near": near, "sites_wanted": 0}),
            vec!["sites_wanted"],
        ),
        (
            json!({"near": near, "sites_wanted": 1001}),
            vec!["sites_wanted"],
        ),
        (
            json!({"near": near, "min_height_m": 12, "max_height_m": 5}),
            vec!["min_height_m", "max_height_m"],
        ),
        (
            json!({"near": near, "weights": {"power": -1}}),
            vec!["weights.power"],
        ),
        (
            json!({"near": near, "demand": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.35, 53.42]}, "properties": {"weight": -1}},
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.35, 53.42]}, "properties": {"weight": "x"}}]}}),
            vec![
                "demand.features[0].properties.weight",
                "demand.features[1].properties.weight",
            ],
        ),
        (
            json!({"area": {"type": "Polygon", "coordinates": [[[-3.0, 53.0], [-2.0, 53.0], [-2.0, 54.0], [-3.0, 54.0], [-3.0, 53.0]]]}}),
            vec!["area"],
        ),
        (
            json!({"near": near, "sites_wanted": 0, "kinds": ["lamppost"], "coverage_radius_m": 0}),
            vec!["sites_wanted", "kinds[0]", "coverage_radius_m"],
        ),
    ];
    for (body, fields) in cases {
        let resp = app
            .client
            .post(app.url("/v1/site-searches"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = crate::helpers::problem(resp, 422).await;
        let named: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for f in &fields {
            assert!(named.contains(f), "{body}: {f} not in {named:?}");
        }
    }
    // No token: 401.
    let (s, _) = app
        .json(
            Method::POST,
            "/v1/site-searches",
            None,
            &json!({"near": near}),
        )
        .await;
    assert_eq!(s, 401);
}
