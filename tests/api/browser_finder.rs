//! The site finder in a real browser (headless Chromium over WebDriver): an
//! operator signs in, draws the search area on the console's own map, runs
//! the search, sees the ranked sites on the map and in the table, applies
//! for them, and the application appears in the staff's review queue when
//! staff sign in. Each page passes the accessibility checks (our own and
//! axe-core's WCAG A/AA rules); the asset edit page, the councils' list and
//! an error page are checked here too, so every console page is. The site
//! finder's screenshot goes to `target/screenshots/site-finder.png`.

use serde_json::Value;

use crate::browser::{accessible, altrincham, keyboard_reaches_every_form};
use crate::helpers::{Db, spawn_app};
use crate::webdriver::Browser;

/// Signs in through the form the browser is on.
async fn sign_in(b: &Browser, token: &str) {
    let field = b.find("#token").await;
    b.type_into(&field, token).await;
    let go = b.find("main form button[type=submit]").await;
    b.click_to_load(&go).await;
}

/// Clicks the map at the screen positions of these longitudes and
/// latitudes (read from the map's own projection).
async fn click_points(b: &Browser, points: &[(f64, f64)]) {
    let list: Vec<[f64; 2]> = points.iter().map(|p| [p.0, p.1]).collect();
    let pixels = b
        .exec(&format!(
            "const svg = document.querySelector('.finder svg');
             svg.scrollIntoView({{block: 'center'}});
             const k = +svg.dataset.k, s = +svg.dataset.scale, m = svg.getScreenCTM();
             return {}.map(([lon, lat]) => {{ const p = svg.createSVGPoint(); p.x = lon * k * s;
               p.y = -lat * s; const q = p.matrixTransform(m); return [Math.round(q.x), Math.round(q.y)]; }});",
            serde_json::json!(list)
        ))
        .await;
    for c in pixels.as_array().unwrap() {
        b.click_at(c[0].as_i64().unwrap(), c[1].as_i64().unwrap())
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_draws_a_search_applies_and_staff_see_it_queued() {
    let Some(b) = Browser::start(1280, 1000).await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let (s, earlier) = altrincham(&app).await;

    b.goto(&app.url("/console/finder")).await;
    assert!(b.url().await.contains("/console/sign-in?next="));
    sign_in(&b, &s.acme).await;
    assert!(
        b.url().await.ends_with("/console/finder"),
        "{}",
        b.url().await
    );
    let wards = b
        .exec("return document.querySelectorAll('.finder svg path.ward').length")
        .await;
    assert_eq!(wards, 21, "Trafford's wards to draw on");
    accessible(&b, "site finder").await;
    keyboard_reaches_every_form(&b, "site finder").await;

    // A polygon and a street corridor drawn by clicking their points on
    // the map and finishing: their fields are filled in and chosen.
    for (mode, field, points) in [
        (
            "polygon",
            "polygon",
            vec![(-2.3565, 53.3835), (-2.3455, 53.3835), (-2.35, 53.3935)],
        ),
        (
            "corridor",
            "line",
            vec![(-2.3565, 53.3835), (-2.3455, 53.3935)],
        ),
    ] {
        let draw = b.find(&format!("#draw-{mode}")).await;
        b.click(&draw).await;
        click_points(&b, &points).await;
        let finish = b.find("#draw-finish").await;
        b.click(&finish).await;
        let drawn = b
            .exec(&format!(
                "return {{text: document.getElementById('{field}').value,
                          place: document.getElementById('place-{mode}').checked}}"
            ))
            .await;
        assert_eq!(drawn["place"], true, "{drawn}");
        let numbers: Vec<f64> = drawn["text"]
            .as_str()
            .unwrap()
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(numbers.len(), points.len() * 2, "{drawn}");
        for (got, want) in numbers.chunks(2).zip(&points) {
            assert!(
                (got[0] - want.0).abs() < 6e-4 && (got[1] - want.1).abs() < 6e-4,
                "{drawn}"
            );
        }
    }

    // Draw a rectangle round Altrincham town centre: two clicks on the map
    // at the screen positions of its corners.
    let draw = b.find("#draw-bbox").await;
    b.click(&draw).await;
    click_points(&b, &[(-2.3565, 53.3835), (-2.3455, 53.3935)]).await;
    let drawn = b
        .exec(
            "return {bbox: document.getElementById('bbox').value,
                     place: document.getElementById('place-bbox').checked,
                     status: document.querySelector('.draw-status').textContent}",
        )
        .await;
    assert_eq!(drawn["place"], true, "{drawn}");
    let bbox: Vec<f64> = drawn["bbox"]
        .as_str()
        .unwrap()
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    // A pixel of this map is about 20 m: the corners land within 0.0006°.
    for (got, want) in bbox.iter().zip([-2.3565, 53.3835, -2.3455, 53.3935]) {
        assert!((got - want).abs() < 6e-4, "{drawn}");
    }

    // Constraints: lamp posts, each covering 200 m.
    let kind = b.find("#kind-lamp_post").await;
    b.click(&kind).await;
    let radius = b.find("#coverage_radius_m").await;
    b.type_into(&radius, "200").await;
    let find = b.find("#find").await;
    b.click_to_load(&find).await;
    let url = b.url().await;
    assert!(url.contains("/console/finder/searches/search"), "{url}");
    let shown: Value = b
        .exec(
            "return {dots: document.querySelectorAll('.finder svg .site-dot').length,
                     rows: document.querySelectorAll('table.ranked tbody tr[id^=rank-]').length,
                     coverage: document.querySelectorAll('.finder svg path.coverage').length,
                     area: document.querySelectorAll('.finder svg path.search-area').length,
                     reasons: document.querySelectorAll('table.rejected tbody tr').length,
                     first: document.querySelector('#rank-1').textContent.replace(/\\s+/g, ' ')}",
        )
        .await;
    assert_eq!(shown["dots"], 3, "{shown}");
    assert_eq!(shown["rows"], 3, "{shown}");
    assert_eq!(shown["coverage"], 1, "{shown}");
    assert_eq!(shown["area"], 1, "{shown}");
    assert_eq!(shown["reasons"], 9, "{shown}");
    assert!(
        shown["first"].as_str().unwrap().contains('£'),
        "fees: {shown}"
    );
    accessible(&b, "site finder results").await;
    keyboard_reaches_every_form(&b, "site finder results").await;
    b.resize(1280, 2600).await;
    b.exec("window.scrollTo(0, 0); return 0").await;
    b.screenshot("site-finder").await;
    // On a tablet the page reflows: no sideways scrolling.
    b.resize(820, 1180).await;
    let fits = b
        .exec("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(fits, true, "no sideways scrolling at tablet width");
    b.screenshot("site-finder-tablet").await;
    b.resize(1280, 1000).await;

    // Apply: the form is filled in but for the contact and social value.
    for (field, text) in [
        ("#a-name", "Ada Planner"),
        ("#a-email", "ada@example.net"),
        ("#a-phone", "+44 161 555 0100"),
        ("#a-social", "Indoor coverage for Altrincham's high street."),
    ] {
        let el = b.find(field).await;
        b.type_into(&el, text).await;
    }
    let apply = b.find("#apply").await;
    b.click_to_load(&apply).await;
    let url = b.url().await;
    assert!(url.ends_with("?done=submit"), "{url}");
    let id = url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches("?done=submit")
        .to_string();
    assert_ne!(id, earlier);
    let notice = b
        .exec("const n = document.querySelector('[role=status]'); return n && n.textContent.trim()")
        .await;
    assert_eq!(
        notice,
        "Submitted. The sites are held while the council decides."
    );
    accessible(&b, "submitted application").await;

    // Staff sign in and find it in the queue.
    let out = b.find("header form button[type=submit]").await;
    b.click_to_load(&out).await;
    b.goto(&app.url("/console/queue")).await;
    sign_in(&b, &s.staff).await;
    assert!(b.url().await.ends_with("/console/queue"));
    let row = b
        .exec(&format!(
            "const a = document.querySelector('a[href=\"/console/applications/{id}\"]'); \
             return a && a.closest('tr').textContent.replace(/\\s+/g, ' ').trim()"
        ))
        .await;
    let row = row.as_str().expect("the new application in the queue");
    assert!(row.contains("acme") && row.contains("Submitted"), "{row}");

    // The pages the other browser test does not open.
    let asset = b
        .exec("return document.querySelector('a[href^=\"/console/applications/\"]') && 1")
        .await;
    assert_eq!(asset, 1);
    b.goto(&app.url("/console/assets")).await;
    let edit = b
        .exec("return document.querySelector('main a[href^=\"/console/assets/\"]').getAttribute('href')")
        .await;
    b.goto(&app.url(edit.as_str().unwrap())).await;
    accessible(&b, "asset edit").await;
    keyboard_reaches_every_form(&b, "asset edit").await;
    b.goto(&app.url("/console/finder")).await;
    accessible(&b, "staff site finder").await;
    b.goto(&app.url("/console/applications/app_missing")).await;
    accessible(&b, "not found").await;
    b.clear_cookies().await;
    b.goto(&app.url("/console/public")).await;
    accessible(&b, "councils").await;

    // axe-core finds violations where there are some: an unlabelled field,
    // faint text, an image without a text alternative.
    b.goto(
        "data:text/html,<html lang=en><head><title>t</title></head><body><main><h1>a</h1>\
         <input id=x><p style='color:%23bbb'>faint</p><img src='data:,'></main></body></html>",
    )
    .await;
    if let Some(found) = crate::axe::violations(&b, "bad").await {
        let rules: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["rule"].as_str())
            .collect();
        for rule in ["label", "color-contrast", "image-alt"] {
            assert!(rules.contains(&rule), "{rule} not found in {found}");
        }
    }
    b.quit().await;
}
