//! The console in a real browser: headless Chromium driven over WebDriver.
//! A staff member signs in by pasting a token, finds the application in the
//! review queue, opens it, sees its sites on the map over the wards and
//! conservation areas, and approves it by keyboard; the JSON API then shows
//! it approved. A resident opens the council's subsidy page without
//! signing in. Every page passes an accessibility check in the browser
//! (language, title, one `h1` and no skipped heading levels, a label for
//! every control, a name for every link and button, unique ids, WCAG AA
//! text contrast), then axe-core's WCAG 2.x A and AA rules (`axe.rs`), and
//! forms are reachable with the Tab key, with a visible focus. Screenshots go to `target/screenshots/` for people to look at.

use serde_json::{Value, json};

use crate::application_helpers::{fetch, form, review, scene, submit, today};
use crate::helpers::{Db, TestApp, spawn_app};
use crate::webdriver::Browser;

/// The accessibility checks run in the page; returns the problems found.
const A11Y: &str = r#"
const problems = [];
if (!document.documentElement.lang) problems.push('no lang on <html>');
if (!document.title.trim()) problems.push('no <title>');
const h1s = document.querySelectorAll('h1');
if (h1s.length !== 1) problems.push(h1s.length + ' h1 elements');
let last = 0;
document.querySelectorAll('h1,h2,h3,h4,h5,h6').forEach(h => {
  const level = +h.tagName[1];
  if (level > last + 1) problems.push('heading level skips to ' + h.tagName + ' "' + h.textContent.trim() + '"');
  last = level;
});
document.querySelectorAll('input,select,textarea').forEach(el => {
  if (el.type === 'hidden') return;
  const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
  if (!(byFor || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
    problems.push('control without a label: ' + el.outerHTML.slice(0, 90));
});
document.querySelectorAll('button,a[href]').forEach(el => {
  const t = el.querySelector('title');
  const name = (el.textContent || '').trim() || el.getAttribute('aria-label') || (t && t.textContent);
  if (!name) problems.push('link or button without a name: ' + el.outerHTML.slice(0, 90));
});
const ids = new Set();
document.querySelectorAll('[id]').forEach(e => { if (ids.has(e.id)) problems.push('duplicate id ' + e.id); ids.add(e.id); });
function rgb(c) { return (c.match(/[\d.]+/g) || [255, 255, 255]).map(Number); }
function lum(c) {
  const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {
  for (; el && el.nodeType === 1; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor, v = rgb(c);
    if (v.length < 4 || v[3] > 0.5) return c;
  }
  return 'rgb(255, 255, 255)';
}
document.querySelectorAll('body *').forEach(el => {
  if (el.closest('svg') || ['SCRIPT', 'STYLE'].includes(el.tagName)) return;
  if (!Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) return;
  const cs = getComputedStyle(el), box = el.getBoundingClientRect();
  if (cs.visibility === 'hidden' || cs.display === 'none' || box.width === 0 || box.right < 0) return;
  const a = lum(cs.color), b = lum(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(cs.fontSize), large = size >= 24 || (+cs.fontWeight >= 700 && size >= 18.66);
  if (ratio < (large ? 3 : 4.5))
    problems.push('contrast ' + ratio.toFixed(2) + ' for ' + el.tagName + ' "' + el.textContent.trim().slice(0, 40) + '"');
});
return problems;
"#;

/// Tags every visible control of the page's forms and starts recording
/// which receive focus; returns how many there are.
const KEYBOARD_SETUP: &str = r#"
window.__reached = new Set();
const controls = Array.from(document.querySelectorAll('main form input, main form select, main form textarea, main form button'))
  .filter(el => el.type !== 'hidden' && el.getBoundingClientRect().width > 0);
// A group of radio buttons is one stop of the Tab key (arrows move within it).
const groups = {};
let stops = 0;
controls.forEach(el => {
  if (el.type === 'radio' && el.name) {
    if (!(el.name in groups)) groups[el.name] = stops++;
    el.dataset.kb = groups[el.name];
  } else el.dataset.kb = stops++;
});
document.addEventListener('focusin', e => {
  if (e.target.dataset && e.target.dataset.kb !== undefined) {
    window.__reached.add(e.target.dataset.kb);
    const cs = getComputedStyle(e.target);
    if (cs.outlineStyle === 'none' || parseFloat(cs.outlineWidth) === 0) window.__unfocused = (window.__unfocused || []).concat([e.target.outerHTML.slice(0, 80)]);
  }
});
document.activeElement && document.activeElement.blur();
window.scrollTo(0, 0);
return stops;
"#;

pub(crate) async fn accessible(b: &Browser, page: &str) {
    let problems = b.exec(A11Y).await;
    assert_eq!(
        problems,
        json!([]),
        "accessibility problems on the {page} page"
    );
    crate::axe::check(b, page).await;
}

/// Tabs through the page and checks every form control was reached, with a
/// visible focus ring.
pub(crate) async fn keyboard_reaches_every_form(b: &Browser, page: &str) {
    let n = b.exec(KEYBOARD_SETUP).await.as_u64().unwrap_or(0);
    assert!(n > 0, "no form controls on the {page} page");
    b.tab(150).await;
    let reached = b
        .exec("return window.__reached.size")
        .await
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        reached, n,
        "Tab reached {reached} of {n} controls on the {page} page"
    );
    let unfocused = b.exec("return window.__unfocused || []").await;
    assert_eq!(unfocused, json!([]), "focus not visible on the {page} page");
}

/// Council `trafford` with its real wards and conservation areas (the demo
/// data), three lamp posts in Altrincham town centre, and acme's
/// application for them, under review.
pub(crate) async fn altrincham(app: &TestApp) -> (crate::application_helpers::Scene, String) {
    let s = scene(app, "trafford", true).await;
    for (layer, file) in [
        ("ward", "wards.geojson"),
        ("conservation_area", "conservation_areas.geojson"),
    ] {
        let body = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data/demo")
                .join(file),
        )
        .expect("demo boundary layer");
        let r = app
            .client
            .post(app.url(&format!("/v1/authorities/trafford/areas?layer={layer}")))
            .bearer_auth(&s.staff)
            .header("content-type", "application/geo+json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{layer}");
    }
    // Trafford's own terms (pounds), in effect since April 2026.
    let schedule: Value =
        serde_json::from_str(include_str!("../../data/demo/fee_schedule.json")).unwrap();
    let (st, b) = app
        .json(
            reqwest::Method::PUT,
            "/v1/authorities/trafford/fee-schedule",
            Some(&s.staff),
            &schedule,
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let sites = [
        (
            "SL-T05704",
            -2.3505818,
            53.3867135,
            8.0,
            45.0,
            "2019-07-09",
            1989,
        ),
        (
            "SL-T05712",
            -2.3490643,
            53.3905295,
            6.0,
            20.0,
            "2026-09-09",
            2006,
        ),
        (
            "SL-T05801",
            -2.3538,
            53.3881,
            10.0,
            50.0,
            "2023-01-24",
            2016,
        ),
    ];
    let mut ids = Vec::new();
    for (r, lon, lat, h, load, inspected, year) in sites {
        let (st, b) = app
            .json(
                reqwest::Method::POST,
                "/v1/authorities/trafford/assets",
                Some(&s.staff),
                &json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"ref": r, "kind": "lamp_post", "capacity": 2, "height_m": h,
                        "load_rating_kg": load, "last_inspected": inspected, "install_year": year,
                        "power_supply": "continuous",
                        "photo_url": format!("https://photos.example.net/{r}.jpg")}}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let (st, b) = submit(app, &s.acme, &form(&ids, today(), 10)).await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(review(app, &s.staff, &id).await.0, 200);
    (s, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_approve_in_a_real_browser_and_residents_see_the_subsidy() {
    let Some(b) = Browser::start(1280, 1000).await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let (s, id) = altrincham(&app).await;

    // Sign in: the queue sends us to the sign-in page and back.
    b.goto(&app.url("/console/queue")).await;
    assert!(b.url().await.contains("/console/sign-in?next="));
    accessible(&b, "sign-in").await;
    keyboard_reaches_every_form(&b, "sign-in").await;
    b.screenshot("sign-in").await;
    let token = b.find("#token").await;
    b.type_into(&token, &s.staff).await;
    let submit_button = b.find("main form button[type=submit]").await;
    b.click_to_load(&submit_button).await;
    assert!(
        b.url().await.ends_with("/console/queue"),
        "{}",
        b.url().await
    );

    // The queue lists the application with its clock.
    let h1 = b
        .exec("return document.querySelector('h1').textContent")
        .await;
    assert_eq!(h1, "Review queue");
    let row = b
        .exec(&format!(
            "const a = document.querySelector('a[href=\"/console/applications/{id}\"]'); \
             return a && a.closest('tr').textContent.replace(/\\s+/g, ' ').trim()"
        ))
        .await;
    let row = row.as_str().expect("the application's row").to_string();
    assert!(
        row.contains("acme") && row.contains("Under review") && row.contains("56 days left"),
        "{row}"
    );
    accessible(&b, "queue").await;
    keyboard_reaches_every_form(&b, "queue").await;
    b.screenshot("queue").await;

    // The application: its three sites on the map over the wards and the
    // conservation areas around them.
    let link = b
        .find(&format!("a[href=\"/console/applications/{id}\"]"))
        .await;
    b.click_to_load(&link).await;
    assert!(
        b.url()
            .await
            .ends_with(&format!("/console/applications/{id}"))
    );
    let counts: Value = b
        .exec(
            "return {sites: document.querySelectorAll('.map svg .site-dot').length, \
             wards: document.querySelectorAll('.map svg path.ward').length, \
             conservation: document.querySelectorAll('.map svg path.conservation').length, \
             drawn: document.querySelector('.map svg').getBoundingClientRect().height}",
        )
        .await;
    assert_eq!(counts["sites"], 3, "{counts}");
    assert!(counts["wards"].as_u64().unwrap() >= 1, "{counts}");
    assert!(counts["conservation"].as_u64().unwrap() >= 1, "{counts}");
    assert!(counts["drawn"].as_f64().unwrap() > 200.0, "{counts}");
    // Each dot links to its site's facts.
    let facts = b
        .exec("return document.querySelector('#site-1').textContent.replace(/\\s+/g, ' ')")
        .await;
    let facts = facts.as_str().unwrap();
    assert!(
        facts.contains("8 m") && facts.contains("45 kg") && facts.contains("9 Jul 2019"),
        "{facts}"
    );
    accessible(&b, "application").await;
    keyboard_reaches_every_form(&b, "application").await;
    b.resize(1280, 3000).await;
    b.screenshot("application").await;
    // On a tablet the page reflows to one column and the map still shows.
    b.resize(820, 1180).await;
    let wide = b
        .exec("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(wide, true, "no sideways scrolling at tablet width");
    b.screenshot("application-tablet").await;
    b.resize(1280, 1000).await;

    // Approve: the button is reached by keyboard and pressed.
    let approve = b.find("#act-approve").await;
    b.click_to_load(&approve).await;
    let notice = b
        .exec("const n = document.querySelector('[role=status]'); return n && n.textContent.trim()")
        .await;
    assert_eq!(notice, "Approved. The concession agreement is made.");
    b.screenshot("approved").await;
    let (_, now) = fetch(&app, &s.staff, &id).await;
    assert_eq!(now["status"], "approved", "{now}");

    // The other staff pages: ledger (with its charts), fee schedule, asset
    // register.
    for (path, name) in [
        ("/console/ledger", "ledger"),
        ("/console/fees", "fees"),
        ("/console/assets", "assets"),
    ] {
        b.resize(1280, 1000).await;
        b.goto(&app.url(path)).await;
        assert!(b.url().await.ends_with(path), "{name}");
        accessible(&b, name).await;
        keyboard_reaches_every_form(&b, name).await;
        b.resize(1280, 1800).await;
        b.screenshot(name).await;
    }
    let bars = b
        .exec("return document.querySelectorAll('svg.chart rect.bar').length")
        .await;
    assert!(
        bars.as_u64().unwrap_or(0) == 0,
        "the asset page has no chart"
    );
    b.goto(&app.url("/console/ledger")).await;
    let bars = b
        .exec("return document.querySelectorAll('svg.chart rect.bar').length")
        .await;
    assert!(bars.as_u64().unwrap() >= 2, "ledger bars: {bars}");
    b.resize(1280, 1000).await;

    // Sign out; the operator signs in and sees its application approved.
    let out = b.find("header form button[type=submit]").await;
    b.click_to_load(&out).await;
    assert!(
        b.url().await.ends_with("/console/sign-in"),
        "{}",
        b.url().await
    );
    let token = b.find("#token").await;
    b.type_into(&token, &s.acme).await;
    let go = b.find("main form button[type=submit]").await;
    b.click_to_load(&go).await;
    assert!(
        b.url().await.ends_with("/console/applications"),
        "{}",
        b.url().await
    );
    let row = b
        .exec(&format!(
            "const a = document.querySelector('a[href=\"/console/applications/{id}\"]'); \
             return a && a.closest('tr').textContent.replace(/\\s+/g, ' ').trim()"
        ))
        .await;
    assert!(row.as_str().unwrap_or("").contains("Approved"), "{row}");
    accessible(&b, "operator's applications").await;
    b.screenshot("operator-applications").await;

    // A resident, never signed in, opens the council's subsidy page.
    b.clear_cookies().await;
    b.goto(&app.url("/console/public/trafford/subsidy")).await;
    assert!(b.url().await.ends_with("/console/public/trafford/subsidy"));
    let wards = b
        .exec("return document.querySelectorAll('svg.choropleth path').length")
        .await;
    assert_eq!(wards, 21, "Trafford's 21 wards on the map");
    let shown = b.exec("return document.body.textContent").await;
    assert!(
        !shown.as_str().unwrap().contains("acme"),
        "no operator named"
    );
    accessible(&b, "subsidy").await;
    b.resize(1280, 2200).await;
    b.screenshot("subsidy").await;

    // The checks themselves find problems where there are some.
    b.goto(
        "data:text/html,<html><head><title>t</title></head><body><h1>a</h1><h3>b</h3>\
            <input id=x><button></button><p style='color:%23bbb'>faint</p></body></html>",
    )
    .await;
    let found = b.exec(A11Y).await.to_string();
    for problem in [
        "no lang",
        "heading level skips",
        "without a label",
        "without a name",
        "contrast",
    ] {
        assert!(found.contains(problem), "{problem} not found in {found}");
    }
    b.quit().await;
}
