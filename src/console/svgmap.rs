//! Maps drawn on the server as inline SVG from the service's own layers (the
//! asset index and the boundary layers), so a page shows its map with no
//! tiles, no map library and no internet. Pure: geometry in, markup out.
//!
//! Coordinates are projected equirectangularly about the map's middle
//! latitude (x = lon·cos φ₀, y = −lat, times 100,000: one unit is about a
//! metre), which is true to within a fraction of a percent over a council's
//! area. The SVG's `viewBox` is in those units, so the page's script can pan
//! and zoom by changing it; polygons are thinned to about a thousandth of
//! the view (a pixel or so) to keep pages small.

use std::fmt::Write;

use geo::{BoundingRect, InteriorPoint, MultiPolygon};

/// Units per degree.
const SCALE: f64 = 100_000.0;

/// A point of interest on the map (an application's site).
#[derive(Debug, Clone)]
pub struct Marker {
    /// Short text drawn in the dot (the site's number).
    pub label: String,
    /// Where clicking it goes (the site's facts on the page).
    pub href: String,
    /// What it is, for the tooltip and screen readers.
    pub title: String,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
}

/// A named polygon of a boundary layer.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its outline, WGS84.
    pub geometry: &'a MultiPolygon<f64>,
}

/// A projection about latitude `lat0` (degrees).
#[derive(Debug, Clone, Copy)]
struct Proj {
    k: f64,
}

impl Proj {
    fn new(lat0: f64) -> Proj {
        Proj {
            k: lat0.to_radians().cos().max(0.01),
        }
    }
    fn xy(self, lon: f64, lat: f64) -> (f64, f64) {
        (lon * self.k * SCALE, -lat * SCALE)
    }
}

/// A view box `[x, y, w, h]` in projected units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl View {
    /// The box around projected points, padded by a quarter on each side,
    /// at least `min_span` across, widened to `aspect` (width / height).
    fn around(points: &[(f64, f64)], min_span: f64, aspect: f64) -> View {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in points {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if points.is_empty() {
            (x0, y0, x1, y1) = (0.0, 0.0, 0.0, 0.0);
        }
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let mut w = ((x1 - x0) * 1.5).max(min_span);
        let mut h = ((y1 - y0) * 1.5).max(min_span / aspect);
        if w / h < aspect {
            w = h * aspect;
        } else {
            h = w / aspect;
        }
        View {
            x: cx - w / 2.0,
            y: cy - h / 2.0,
            w,
            h,
        }
    }

    fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x && x <= self.x + self.w && y >= self.y && y <= self.y + self.h
    }
}

/// Escapes text for SVG/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// SVG path data of a multipolygon, dropping vertices closer than `tol` to
/// the last one kept (rings keep at least their first three points).
fn path_data(proj: Proj, mp: &MultiPolygon<f64>, tol: f64) -> String {
    let mut d = String::new();
    let mut ring = |ls: &geo::LineString<f64>| {
        let mut last: Option<(f64, f64)> = None;
        let mut kept = 0;
        let n = ls.0.len();
        for (i, c) in ls.0.iter().enumerate() {
            let p = proj.xy(c.x, c.y);
            let far = last.is_none_or(|l| (p.0 - l.0).abs() + (p.1 - l.1).abs() >= tol);
            if far || kept < 3 || i + 1 == n {
                let _ = write!(
                    d,
                    "{}{:.1} {:.1}",
                    if last.is_none() { "M" } else { "L" },
                    p.0,
                    p.1
                );
                last = Some(p);
                kept += 1;
            }
        }
        d.push('Z');
    };
    for poly in &mp.0 {
        ring(poly.exterior());
        poly.interiors().iter().for_each(&mut ring);
    }
    d
}

fn hatch_defs(out: &mut String, size: f64) {
    let _ = write!(
        out,
        "<defs><pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"{s:.1}\" height=\"{s:.1}\" \
         patternTransform=\"rotate(45)\"><rect width=\"{s:.1}\" height=\"{s:.1}\" fill=\"#fff3e0\" fill-opacity=\"0.55\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"{s:.1}\" stroke=\"#8a4b00\" stroke-width=\"{w:.1}\" stroke-opacity=\"0.6\"/></pattern></defs>",
        s = size,
        w = size / 4.0
    );
}

/// The map of an application's sites over the council's wards and
/// conservation areas near them. `title` names it for screen readers.
pub fn site_map(
    title: &str,
    markers: &[Marker],
    wards: &[Shape<'_>],
    conservation: &[Shape<'_>],
) -> String {
    let lat0 = if markers.is_empty() {
        wards
            .first()
            .and_then(|w| w.geometry.bounding_rect())
            .map_or(53.4, |r| r.center().y)
    } else {
        markers.iter().map(|m| m.lat).sum::<f64>() / markers.len() as f64
    };
    let proj = Proj::new(lat0);
    let points: Vec<(f64, f64)> = markers.iter().map(|m| proj.xy(m.lon, m.lat)).collect();
    let view = View::around(&points, 900.0, 4.0 / 3.0);
    let tol = view.w / 1000.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"{:.1} {:.1} {:.1} {:.1}\" role=\"group\" \
         aria-label=\"{}\" font-size=\"{:.1}\"><title>{}</title>",
        view.x,
        view.y,
        view.w,
        view.h,
        esc(title),
        view.w / 45.0,
        esc(title)
    );
    hatch_defs(&mut out, view.w / 90.0);
    out.push_str("<g class=\"layer-conservation\">");
    for c in conservation {
        let _ = write!(
            out,
            "<path class=\"conservation\" fill-rule=\"evenodd\" d=\"{}\"><title>Conservation area: {}</title></path>",
            path_data(proj, c.geometry, tol),
            esc(c.name)
        );
    }
    out.push_str("</g><g class=\"layer-wards\">");
    for w in wards {
        let _ = write!(
            out,
            "<path class=\"ward\" d=\"{}\"><title>Ward: {}</title></path>",
            path_data(proj, w.geometry, tol),
            esc(w.name)
        );
    }
    for w in wards {
        if let Some(p) = w.geometry.interior_point() {
            let xy = proj.xy(p.x(), p.y());
            if view.contains(xy) {
                let _ = write!(
                    out,
                    "<text class=\"ward-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    xy.0,
                    xy.1,
                    esc(w.name)
                );
            }
        }
    }
    out.push_str("</g><g class=\"layer-sites\">");
    let r = view.w / 55.0;
    for (m, (x, y)) in markers.iter().zip(&points) {
        let _ = write!(
            out,
            "<a href=\"{}\" aria-label=\"{}\"><title>{}</title><circle class=\"site-dot\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\"/>\
             <text class=\"site-label\" x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{:.1}\">{}</text></a>",
            esc(&m.href),
            esc(&m.title),
            esc(&m.title),
            r * 1.1,
            esc(&m.label)
        );
    }
    out.push_str("</g></svg>");
    out
}

/// What the site finder's map shows: the search region, the chosen sites
/// and the region they cover, over the wards for context.
#[derive(Debug, Clone, Default)]
pub struct FinderLayers<'a> {
    /// Wards for context (and to pick from).
    pub wards: Vec<Shape<'a>>,
    /// The search area (a drawn or typed polygon, a box, a ward).
    pub area: Option<MultiPolygon<f64>>,
    /// A corridor: its line and full width in metres.
    pub corridor: Option<(geo::MultiLineString<f64>, f64)>,
    /// The union of the chosen sites' discs.
    pub coverage: Option<MultiPolygon<f64>>,
    /// The chosen sites, labelled by rank.
    pub markers: Vec<Marker>,
}

/// The site finder's map. The `svg` carries its projection
/// (`data-k`, `data-scale`: x = lon·k·scale, y = −lat·scale) so the page's
/// script can turn a click into a longitude and latitude for drawing; the
/// empty `g.drawing` is where it draws.
pub fn finder_map(title: &str, layers: &FinderLayers<'_>) -> String {
    let mut corners: Vec<(f64, f64)> = Vec::new();
    let mut lonlat: Vec<(f64, f64)> = layers.markers.iter().map(|m| (m.lon, m.lat)).collect();
    fn add_rect(lonlat: &mut Vec<(f64, f64)>, r: Option<geo::Rect<f64>>) {
        if let Some(r) = r {
            lonlat.push((r.min().x, r.min().y));
            lonlat.push((r.max().x, r.max().y));
        }
    }
    add_rect(
        &mut lonlat,
        layers.area.as_ref().and_then(|a| a.bounding_rect()),
    );
    add_rect(
        &mut lonlat,
        layers.corridor.as_ref().and_then(|c| c.0.bounding_rect()),
    );
    add_rect(
        &mut lonlat,
        layers.coverage.as_ref().and_then(|c| c.bounding_rect()),
    );
    let searched = !lonlat.is_empty();
    if !searched {
        for w in &layers.wards {
            add_rect(&mut lonlat, w.geometry.bounding_rect());
        }
    }
    let lat0 = if lonlat.is_empty() {
        53.4
    } else {
        lonlat.iter().map(|p| p.1).sum::<f64>() / lonlat.len() as f64
    };
    let proj = Proj::new(lat0);
    corners.extend(lonlat.iter().map(|&(x, y)| proj.xy(x, y)));
    if corners.is_empty() {
        corners.push(proj.xy(-2.35, 53.4));
    }
    let mut view = View::around(&corners, 900.0, 4.0 / 3.0);
    if !searched {
        // The wards' extent is the whole picture: less padding.
        let shrink = 1.0 / 1.5 * 1.1;
        view = View {
            x: view.x + view.w * (1.0 - shrink) / 2.0,
            y: view.y + view.h * (1.0 - shrink) / 2.0,
            w: view.w * shrink,
            h: view.h * shrink,
        };
    }
    let tol = view.w / 1000.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"finder-map\" viewBox=\"{:.1} {:.1} {:.1} {:.1}\" \
         role=\"group\" aria-label=\"{}\" font-size=\"{:.1}\" data-k=\"{}\" data-scale=\"{SCALE}\"><title>{}</title>",
        view.x,
        view.y,
        view.w,
        view.h,
        esc(title),
        view.w / 60.0,
        proj.k,
        esc(title)
    );
    out.push_str("<g class=\"layer-wards\">");
    for w in &layers.wards {
        let _ = write!(
            out,
            "<path class=\"ward\" d=\"{}\"><title>Ward: {}</title></path>",
            path_data(proj, w.geometry, tol),
            esc(w.name)
        );
    }
    for w in &layers.wards {
        if let Some(p) = w.geometry.interior_point() {
            let xy = proj.xy(p.x(), p.y());
            if view.contains(xy) {
                let _ = write!(
                    out,
                    "<text class=\"ward-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    xy.0,
                    xy.1,
                    esc(w.name)
                );
            }
        }
    }
    out.push_str("</g>");
    if let Some(c) = &layers.coverage {
        let _ = write!(
            out,
            "<path class=\"coverage\" fill-rule=\"nonzero\" d=\"{}\"><title>Covered region</title></path>",
            path_data(proj, c, tol / 4.0)
        );
    }
    if let Some(a) = &layers.area {
        let _ = write!(
            out,
            "<path class=\"search-area\" fill-rule=\"evenodd\" d=\"{}\"><title>Search area</title></path>",
            path_data(proj, a, tol)
        );
    }
    if let Some((lines, width)) = &layers.corridor {
        for l in &lines.0 {
            let pts: Vec<String> =
                l.0.iter()
                    .map(|c| {
                        let (x, y) = proj.xy(c.x, c.y);
                        format!("{x:.1},{y:.1}")
                    })
                    .collect();
            // One unit is about a metre, so the stroke is the corridor.
            let _ = write!(
                out,
                "<polyline class=\"corridor\" stroke-width=\"{width:.1}\" points=\"{}\"><title>Search corridor, {width} m wide</title></polyline>\
                 <polyline class=\"corridor-line\" points=\"{}\"/>",
                pts.join(" "),
                pts.join(" ")
            );
        }
    }
    out.push_str("<g class=\"drawing\"></g><g class=\"layer-sites\">");
    let r = view.w / 70.0;
    for m in &layers.markers {
        let (x, y) = proj.xy(m.lon, m.lat);
        let _ = write!(
            out,
            "<a href=\"{}\" aria-label=\"{}\"><title>{}</title><circle class=\"site-dot\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\"/>\
             <text class=\"site-label\" x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{:.1}\">{}</text></a>",
            esc(&m.href),
            esc(&m.title),
            esc(&m.title),
            r * 1.1,
            esc(&m.label)
        );
    }
    out.push_str("</g></svg>");
    out
}

/// One area of a choropleth with its value.
#[derive(Debug, Clone)]
pub struct Region<'a> {
    /// The area.
    pub shape: Shape<'a>,
    /// Its value (0 where nothing was paid).
    pub value: f64,
    /// The value as people read it (`£1,234.00`).
    pub text: String,
    /// Where clicking it goes.
    pub href: String,
}

/// Fill colours of the classes, lightest first (a sequential blue scale
/// whose darkest classes carry white text legibly).
pub const CLASS_COLOURS: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
/// Fill of areas with nothing.
pub const NONE_COLOUR: &str = "#eeeeee";

/// The class (0..5) of `value` among equal intervals up to `max`, or `None`
/// for nothing.
pub fn class_of(value: f64, max: f64) -> Option<usize> {
    if value <= 0.0 || max <= 0.0 {
        return None;
    }
    let n = CLASS_COLOURS.len();
    Some((((value / max) * n as f64).ceil() as usize).clamp(1, n) - 1)
}

/// A choropleth of `regions` (a council's wards), each filled by the class
/// of its value and linking to its row of the page's table.
pub fn choropleth(title: &str, regions: &[Region<'_>]) -> String {
    let mut corners = Vec::new();
    let lat0 = regions
        .iter()
        .filter_map(|r| r.shape.geometry.bounding_rect())
        .map(|b| b.center().y)
        .next()
        .unwrap_or(53.4);
    let proj = Proj::new(lat0);
    for r in regions {
        if let Some(b) = r.shape.geometry.bounding_rect() {
            corners.push(proj.xy(b.min().x, b.min().y));
            corners.push(proj.xy(b.max().x, b.max().y));
        }
    }
    // The bounding box is already the extent: undo `around`'s padding.
    let mut view = View::around(&corners, 900.0, 1.0);
    let shrink = 1.0 / 1.5 * 1.08;
    view = View {
        x: view.x + view.w * (1.0 - shrink) / 2.0,
        y: view.y + view.h * (1.0 - shrink) / 2.0,
        w: view.w * shrink,
        h: view.h * shrink,
    };
    let tol = view.w / 1000.0;
    let max = regions.iter().map(|r| r.value).fold(0.0, f64::max);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"choropleth\" viewBox=\"{:.1} {:.1} {:.1} {:.1}\" \
         role=\"group\" aria-label=\"{}\" font-size=\"{:.1}\"><title>{}</title>",
        view.x,
        view.y,
        view.w,
        view.h,
        esc(title),
        view.w / 50.0,
        esc(title)
    );
    for r in regions {
        let fill = class_of(r.value, max).map_or(NONE_COLOUR, |c| CLASS_COLOURS[c]);
        let _ = write!(
            out,
            "<a href=\"{}\" aria-label=\"{}: {}\"><title>{}: {}</title><path fill=\"{fill}\" fill-rule=\"evenodd\" d=\"{}\"/></a>",
            esc(&r.href),
            esc(r.shape.name),
            esc(&r.text),
            esc(r.shape.name),
            esc(&r.text),
            path_data(proj, r.shape.geometry, tol)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, polygon};

    fn square(x: f64, y: f64, d: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + d, y: y), (x: x + d, y: y + d), (x: x, y: y + d), (x: x, y: y)
        ]])
    }

    #[test]
    fn the_view_holds_every_site_with_a_margin() {
        let proj = Proj::new(53.4);
        let pts = [proj.xy(-2.35, 53.39), proj.xy(-2.30, 53.40)];
        let v = View::around(&pts, 900.0, 4.0 / 3.0);
        for p in pts {
            assert!(v.contains(p));
        }
        assert!((v.w / v.h - 4.0 / 3.0).abs() < 1e-9);
        // 0.05° of longitude at 53.4° is 0.05·cos(53.4°)·1e5 ≈ 2,983 units; the
        // view is half as wide again.
        assert!((v.w - 2983.0 * 1.5).abs() < 10.0, "{}", v.w);
        // One site: the minimum span.
        let one = View::around(&pts[..1], 900.0, 1.0);
        assert_eq!((one.w, one.h), (900.0, 900.0));
    }

    #[test]
    fn names_are_escaped_and_sites_link_to_their_facts() {
        let w = square(-2.36, 53.38, 0.02);
        let svg = site_map(
            "Sites of <app>",
            &[Marker {
                label: "1".into(),
                href: "#site-a".into(),
                title: "Lamp post \"A\"".into(),
                lon: -2.35,
                lat: 53.39,
            }],
            &[Shape {
                name: "Altrincham & Bowdon",
                geometry: &w,
            }],
            &[],
        );
        assert!(svg.contains("Sites of &lt;app&gt;"));
        assert!(svg.contains("Altrincham &amp; Bowdon"));
        assert!(svg.contains("<a href=\"#site-a\" aria-label=\"Lamp post &quot;A&quot;\">"));
        assert!(!svg.contains("<app>"));
    }

    #[test]
    fn classes_split_the_range_evenly() {
        assert_eq!(class_of(0.0, 100.0), None);
        assert_eq!(class_of(1.0, 100.0), Some(0));
        assert_eq!(class_of(20.0, 100.0), Some(0));
        assert_eq!(class_of(20.01, 100.0), Some(1));
        assert_eq!(class_of(100.0, 100.0), Some(4));
    }

    #[test]
    fn thinning_keeps_rings_closed_and_drawable() {
        let proj = Proj::new(53.4);
        let d = path_data(proj, &square(-2.0, 53.0, 0.000_001), 1000.0);
        assert!(d.starts_with('M') && d.ends_with('Z'));
        assert!(d.matches('L').count() >= 2, "{d}");
    }
}
