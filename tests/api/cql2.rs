//! OGC API - Features Part 3: `filter` in CQL2 text on the items endpoints.
//!
//! Over the Trafford demo (17,108 assets loaded, 21 wards). Every expected answer
//! is computed here by brute force over all features fetched without a
//! filter: attributes from their JSON properties, spatial tests with geo on
//! the GeoJSON geometries, never through the service's filter code.

use std::collections::BTreeSet;

use geo::{Coord, Geometry, Intersects, MapCoords, Rect};
use serde_json::{Map, Value};
use streetcell::crs::wgs84_to_bng;
use streetcell::geojson_io::parse_geometry;

use crate::helpers::{ADMIN, TestApp, problem};
use crate::on_both_databases;

/// A feature as fetched without a filter.
struct Feat {
    id: String,
    p: Map<String, Value>,
    g: Geometry<f64>,
}

impl Feat {
    fn str(&self, k: &str) -> Option<&str> {
        self.p[k].as_str()
    }
    fn num(&self, k: &str) -> Option<f64> {
        self.p[k].as_f64()
    }
    fn is(&self, k: &str) -> bool {
        self.p[k].as_bool().expect("boolean property")
    }
}

async fn load_demo(app: &TestApp) {
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("demo loads");
    app.register.catch_up().await.expect("catch up");
}

async fn get(app: &TestApp, url: &str, query: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(url)
        .query(query)
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("request")
}

/// Every feature matching `query` on `collection`, walking `next` links
/// with pages of `limit`: ids in order, and the `numberMatched` that every
/// page reported (which must agree).
async fn walk(
    app: &TestApp,
    collection: &str,
    query: &[(&str, &str)],
    limit: usize,
) -> (Vec<Value>, usize) {
    let limit = limit.to_string();
    let mut q = query.to_vec();
    q.push(("limit", &limit));
    let mut resp = get(
        app,
        &app.url(&format!("/collections/{collection}/items")),
        &q,
    )
    .await;
    let mut features = Vec::new();
    let mut matched = None;
    loop {
        let url = resp.url().to_string();
        if resp.status() != 200 {
            panic!("{url}: {} {}", resp.status(), resp.text().await.unwrap());
        }
        let body: Value = resp.json().await.expect("JSON");
        let n = body["numberMatched"].as_u64().expect("numberMatched") as usize;
        assert_eq!(*matched.get_or_insert(n), n, "{url}: numberMatched changed");
        let page = body["features"].as_array().expect("features");
        assert_eq!(body["numberReturned"], page.len(), "{url}");
        features.extend(page.iter().cloned());
        let next = body["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str());
        match next {
            Some(href) => {
                if let Some((_, f)) = query.iter().find(|(k, _)| *k == "filter") {
                    let carried = reqwest::Url::parse(href)
                        .unwrap()
                        .query_pairs()
                        .any(|(k, v)| k == "filter" && v == *f);
                    assert!(carried, "next link {href} lost the filter");
                }
                resp = get(app, href, &[]).await;
            }
            None => break,
        }
    }
    (features, matched.unwrap_or(0))
}

fn id_of(f: &Value) -> String {
    match &f["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn everything(app: &TestApp, collection: &str) -> Vec<Feat> {
    let (all, matched) = walk(app, collection, &[], 10_000).await;
    assert_eq!(all.len(), matched);
    all.iter()
        .map(|f| Feat {
            id: id_of(f),
            p: f["properties"].as_object().expect("properties").clone(),
            g: parse_geometry(&f["geometry"], "geometry").expect("geometry"),
        })
        .collect()
}

/// Checks one filter against its brute-force answer; returns the count.
async fn check(
    app: &TestApp,
    collection: &str,
    all: &[Feat],
    query: &[(&str, &str)],
    expect: &dyn Fn(&Feat) -> bool,
) -> usize {
    let want: Vec<&str> = all
        .iter()
        .filter(|f| expect(f))
        .map(|f| f.id.as_str())
        .collect();
    let (got, matched) = walk(app, collection, query, 10_000).await;
    let got: Vec<String> = got.iter().map(id_of).collect();
    assert_eq!(matched, want.len(), "{query:?}: numberMatched");
    assert_eq!(got, want, "{query:?}: ids");
    want.len()
}

const TRIANGLE: &str = "POLYGON((-2.36 53.38, -2.33 53.38, -2.35 53.40, -2.36 53.38))";

fn wkt_triangle() -> Geometry<f64> {
    Geometry::Polygon(geo::Polygon::new(
        geo::LineString::from(vec![
            (-2.36, 53.38),
            (-2.33, 53.38),
            (-2.35, 53.40),
            (-2.36, 53.38),
        ]),
        vec![],
    ))
}

on_both_databases!(asset_filters_match_brute_force, |app: TestApp| async move {
    load_demo(&app).await;
    let all = everything(&app, "assets").await;
    assert_eq!(all.len(), 17_108);
    let triangle = wkt_triangle();
    // A square with a square hole: features in the hole are out.
    let holed = Geometry::Polygon(geo::Polygon::new(
        Rect::new((-2.36, 53.38), (-2.32, 53.42))
            .to_polygon()
            .exterior()
            .clone(),
        vec![
            Rect::new((-2.35, 53.39), (-2.33, 53.41))
                .to_polygon()
                .exterior()
                .clone(),
        ],
    ));
    let holed_wkt = "POLYGON((-2.36 53.38, -2.32 53.38, -2.32 53.42, -2.36 53.42, -2.36 53.38), \
                         (-2.35 53.39, -2.33 53.39, -2.33 53.41, -2.35 53.41, -2.35 53.39))";
    let bbox = Rect::new((-2.30, 53.44), (-2.27, 53.46));
    let in_box = |f: &Feat| f.g.intersects(&bbox);
    let or_spatial = format!("S_INTERSECTS(geometry, {TRIANGLE}) OR kind = 'rooftop'");
    let tri = format!("S_INTERSECTS(geometry, {TRIANGLE})");
    let tri_and = format!("{tri} AND height_m >= 8 AND status = 'available'");
    let holed_f = format!("S_INTERSECTS(geometry, {holed_wkt})");
    type Case<'a> = (String, Box<dyn Fn(&Feat) -> bool + 'a>);
    let cases: Vec<Case<'_>> = vec![
        (
            "height_m >= 8 AND kind = 'lamp_post'".into(),
            Box::new(|f| {
                f.num("height_m").is_some_and(|h| h >= 8.0) && f.str("kind") == Some("lamp_post")
            }),
        ),
        (
            "NOT (status = 'available')".into(),
            Box::new(|f| f.str("status") != Some("available")),
        ),
        (
            "ward LIKE 'B%'".into(),
            Box::new(|f| f.str("ward").is_some_and(|w| w.starts_with('B'))),
        ),
        (
            "ward LIKE '%on' AND NOT ward LIKE 'B_wdon'".into(),
            Box::new(|f| {
                f.str("ward")
                    .is_some_and(|w| w.ends_with("on") && w != "Bowdon")
            }),
        ),
        (
            "kind IN ('cctv_column','bus_shelter')".into(),
            Box::new(|f| matches!(f.str("kind"), Some("cctv_column" | "bus_shelter"))),
        ),
        (
            "photo_url IS NULL".into(),
            Box::new(|f| f.p["photo_url"].is_null()),
        ),
        (
            "ward IS NOT NULL".into(),
            Box::new(|f| !f.p["ward"].is_null()),
        ),
        (
            "last_inspected < DATE('2020-01-01') AND install_year BETWEEN 1990 AND 2005".into(),
            Box::new(|f| {
                f.str("last_inspected").is_some_and(|d| d < "2020-01-01")
                    && f.num("install_year")
                        .is_some_and(|y| (1990.0..=2005.0).contains(&y))
            }),
        ),
        (
            "listed = true OR (in_conservation_area AND capacity > 1)".into(),
            Box::new(|f| {
                f.is("listed") || (f.is("in_conservation_area") && f.num("capacity").unwrap() > 1.0)
            }),
        ),
        (
            "power_supply <> 'none' AND load_rating_kg < 40".into(),
            Box::new(|f| {
                f.str("power_supply") != Some("none")
                    && f.num("load_rating_kg").is_some_and(|l| l < 40.0)
            }),
        ),
        (tri.clone(), Box::new(|f| f.g.intersects(&triangle))),
        (
            tri_and.clone(),
            Box::new(|f| {
                f.g.intersects(&triangle)
                    && f.num("height_m").is_some_and(|h| h >= 8.0)
                    && f.str("status") == Some("available")
            }),
        ),
        (holed_f.clone(), Box::new(|f| f.g.intersects(&holed))),
        (
            "S_INTERSECTS(geometry, BBOX(-2.30, 53.44, -2.27, 53.46))".into(),
            Box::new(in_box),
        ),
        (
            or_spatial.clone(),
            Box::new(|f| f.g.intersects(&triangle) || f.str("kind") == Some("rooftop")),
        ),
        (
            format!("NOT {tri} AND kind = 'cctv_column'"),
            Box::new(|f| !f.g.intersects(&triangle) && f.str("kind") == Some("cctv_column")),
        ),
    ];
    for (filter, expect) in &cases {
        let n = check(&app, "assets", &all, &[("filter", filter)], expect.as_ref()).await;
        assert!(
            n > 0 || filter.contains("NOT"),
            "{filter}: the demo should match something"
        );
    }

    // The leisure centre LC-1 (a MultiPolygon) lies in the triangle.
    let lc1 = all.iter().find(|f| f.str("ref") == Some("LC-1")).unwrap();
    assert!(matches!(lc1.g, Geometry::MultiPolygon(_)) && lc1.g.intersects(&triangle));

    // With the plain parameters and bbox: a bbox smaller than the
    // filter's polygon, and one larger that cuts through it (so both the
    // index's choice and the per-candidate test of the other one count).
    let small = Rect::new((-2.35, 53.385), (-2.34, 53.39));
    let big = Rect::new((-2.345, 53.30), (-2.20, 53.50));
    for (b, r) in [
        ("-2.35,53.385,-2.34,53.39", small),
        ("-2.345,53.30,-2.20,53.50", big),
    ] {
        check(
            &app,
            "assets",
            &all,
            &[("bbox", b), ("kind", "lamp_post"), ("filter", &tri)],
            &|f| {
                f.g.intersects(&r)
                    && f.str("kind") == Some("lamp_post")
                    && f.g.intersects(&triangle)
            },
        )
        .await;
    }

    // filter-crs: the triangle in lat/lon order, and a BNG box.
    let swapped = "POLYGON((53.38 -2.36, 53.38 -2.33, 53.40 -2.35, 53.38 -2.36))";
    check(
        &app,
        "assets",
        &all,
        &[
            ("filter", &format!("S_INTERSECTS(geometry, {swapped})")),
            ("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/4326"),
        ],
        &|f| f.g.intersects(&triangle),
    )
    .await;
    let (e, n) = wgs84_to_bng(-2.35, 53.39).unwrap();
    let grid = Rect::new((e - 800.0, n - 600.0), (e + 800.0, n + 600.0));
    let bng_box = format!(
        "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))",
        e - 800.0,
        n - 600.0,
        e + 800.0,
        n + 600.0
    );
    let found = check(
        &app,
        "assets",
        &all,
        &[("filter", &bng_box), ("filter-crs", "[EPSG:27700]")],
        &|f| {
            f.g.try_map_coords(|c| wgs84_to_bng(c.x, c.y).map(|(x, y)| Coord { x, y }))
                .is_ok_and(|g| g.intersects(&grid))
        },
    )
    .await;
    assert!(found > 10, "{found}");

    // Paging with a filter walks every match exactly once.
    let filter = "kind IN ('cctv_column','bus_shelter') AND status = 'available'";
    let (paged, matched) = walk(&app, "assets", &[("filter", filter)], 97).await;
    let ids: Vec<String> = paged.iter().map(id_of).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    let want: Vec<&str> = all
        .iter()
        .filter(|f| {
            matches!(f.str("kind"), Some("cctv_column" | "bus_shelter"))
                && f.str("status") == Some("available")
        })
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(matched, want.len());
    assert_eq!(unique.len(), ids.len(), "no feature twice");
    assert_eq!(ids, want);
    assert!(want.len() > 97 * 5, "several pages: {}", want.len());
});

on_both_databases!(ward_filters_match_brute_force, |app: TestApp| async move {
    load_demo(&app).await;
    let all = everything(&app, "wards").await;
    assert_eq!(all.len(), 21);
    let p = geo::Point::new(-2.35, 53.39);
    let line = Geometry::LineString(geo::LineString::from(vec![(-2.40, 53.40), (-2.30, 53.44)]));
    let n = check(&app, "wards", &all, &[("filter", "name LIKE 'B%'")], &|f| {
        f.str("name").unwrap().starts_with('B')
    })
    .await;
    assert_eq!(n, 4, "Bowdon, Broadheath, Brooklands, Bucklow-St Martins");
    let n = check(
        &app,
        "wards",
        &all,
        &[("filter", "S_INTERSECTS(geometry, POINT(-2.35 53.39))")],
        &|f| f.g.intersects(&p),
    )
    .await;
    assert_eq!(n, 1, "a point lies in one ward");
    let n = check(
        &app,
        "wards",
        &all,
        &[(
            "filter",
            "name = 'Bowdon' OR S_INTERSECTS(geometry, LINESTRING(-2.40 53.40, -2.30 53.44))",
        )],
        &|f| f.str("name") == Some("Bowdon") || f.g.intersects(&line),
    )
    .await;
    assert!(n > 2, "{n}");
    check(
        &app,
        "fee-zones",
        &everything(&app, "fee-zones").await,
        &[("filter", "name = 'central' AND authority = 'trafford'")],
        &|f| f.str("name") == Some("central"),
    )
    .await;
});

on_both_databases!(
    invalid_filters_are_400_problems_that_say_where,
    |app: TestApp| async move {
        load_demo(&app).await;
        let items = app.url("/collections/assets/items");
        // Query parameters, and what the problem's detail must mention.
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a [&'a str]);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![("filter", "kind = 'lamp_post' AND")],
                &["syntax error", "column 23"],
            ),
            (vec![("filter", "height_m >> 3")], &["column 11"]),
            (
                vec![("filter", "colour = 'red'")],
                &["\"colour\"", "column 1", "kind", "height_m", "geometry"],
            ),
            (
                vec![("filter", "height_m = 'tall'")],
                &["height_m", "a number", "a string"],
            ),
            (
                vec![("filter", "capacity LIKE '1%'")],
                &["capacity", "LIKE"],
            ),
            (
                vec![("filter", "kind = 'lampost'")],
                &["'lampost'", "lamp_post"],
            ),
            (
                vec![("filter", "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))")],
                &["polygon ring needs at least four positions"],
            ),
            (
                vec![
                    ("filter", "kind = 'lamp_post'"),
                    ("filter-lang", "cql2-json"),
                ],
                &["cql2-json"],
            ),
            (
                vec![
                    ("filter", "kind = 'lamp_post'"),
                    ("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/3857"),
                ],
                &["filter-crs"],
            ),
            (vec![("filter-lang", "cql2-text")], &["needs a filter"]),
            (
                vec![
                    ("filter", "kind = 'lamp_post'"),
                    ("filter", "kind = 'rooftop'"),
                ],
                &["more than once"],
            ),
        ];
        for (query, needles) in cases {
            let body = problem(get(&app, &items, &query).await, 400).await;
            let detail = body["detail"].as_str().unwrap();
            for needle in needles {
                assert!(
                    detail.contains(needle),
                    "{query:?}: {needle:?} not in {detail:?}"
                );
            }
        }
        let body = problem(
            get(
                &app,
                &app.url("/collections/wards/items"),
                &[("filter", "kind = 'lamp_post'")],
            )
            .await,
            400,
        )
        .await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("\"kind\"") && detail.contains("authority, name, geometry"),
            "{detail}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queryables_are_what_filters_accept_and_conformance_says_so() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await else {
        return;
    };
    load_demo(&app).await;
    let (s, conf) = app.get("/conformance", Some(ADMIN)).await;
    assert_eq!(s, 200);
    let classes = conf["conformsTo"].as_array().unwrap();
    for c in [
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    ] {
        assert!(classes.iter().any(|v| v == c), "{c} missing");
    }
    for collection in ["assets", "wards", "conservation-areas"] {
        let (s, q) = app
            .get(
                &format!("/collections/{collection}/queryables"),
                Some(ADMIN),
            )
            .await;
        assert_eq!(s, 200);
        let props = q["properties"].as_object().unwrap();
        assert_eq!(props["geometry"]["x-ogc-role"], "primary-geometry");
        assert!(
            props["geometry"]["format"]
                .as_str()
                .unwrap()
                .starts_with("geometry-")
        );
        let total = app
            .get(
                &format!("/collections/{collection}/items?limit=1"),
                Some(ADMIN),
            )
            .await
            .1["numberMatched"]
            .as_u64()
            .unwrap();
        for (name, schema) in props {
            let filter = if name == "geometry" {
                "S_INTERSECTS(geometry, BBOX(-180, -90, 180, 90))".to_string()
            } else {
                format!("{name} IS NULL OR {name} IS NOT NULL")
            };
            let resp = get(
                &app,
                &app.url(&format!("/collections/{collection}/items")),
                &[("filter", &filter), ("limit", "1")],
            )
            .await;
            assert_eq!(resp.status(), 200, "{collection}: {filter}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["numberMatched"], total, "{collection}: {filter}");
            // A value of the wrong type is refused for every typed queryable.
            let wrong = match schema["type"].as_str() {
                Some("number" | "integer" | "boolean") => Some(format!("{name} = 'text'")),
                Some("string") => Some(format!("{name} = 1")),
                _ => None,
            };
            if let Some(wrong) = wrong {
                let resp = get(
                    &app,
                    &app.url(&format!("/collections/{collection}/items")),
                    &[("filter", &wrong)],
                )
                .await;
                let body = problem(resp, 400).await;
                assert!(
                    body["detail"].as_str().unwrap().contains(name.as_str()),
                    "{wrong}: {body}"
                );
            }
        }
    }
}
