//! Spatial terms: geometry literals, their envelopes, and literals in British National Grid.

use super::*;

/// A spatial literal, ready to test features against.
#[derive(Debug)]
pub(super) struct Spatial {
    /// The literal, in lon/lat, or in British National Grid when `bng`.
    pub(super) shape: Geometry<f64>,
    pub(super) bng: bool,
    /// Lon/lat rectangles covering the shape (for the index).
    pub(super) rects: Vec<Rect<f64>>,
}

impl Spatial {
    pub(super) fn test(&self, g: Geom<'_>) -> bool {
        if self.bng {
            return match g {
                Geom::Any(Geometry::Point(p)) => wgs84_to_bng(p.x(), p.y())
                    .is_ok_and(|(e, n)| self.shape.intersects(&Coord { x: e, y: n })),
                Geom::Any(g) => to_bng(g).is_some_and(|b| b.intersects(&self.shape)),
                Geom::Multi(m) => to_bng(&Geometry::MultiPolygon(m.clone()))
                    .is_some_and(|b| b.intersects(&self.shape)),
            };
        }
        match g {
            // Most assets are points: a rectangle test rules most out cheaply.
            Geom::Any(Geometry::Point(p)) => {
                self.rects.iter().any(|r| r.intersects(p)) && self.shape.intersects(p)
            }
            Geom::Any(g) => g.intersects(&self.shape),
            Geom::Multi(m) => m.intersects(&self.shape),
        }
    }
}

pub(super) fn to_bng(g: &Geometry<f64>) -> Option<Geometry<f64>> {
    g.try_map_coords(|c| wgs84_to_bng(c.x, c.y).map(|(x, y)| Coord { x, y }))
        .ok()
}

/// Margin around a converted EPSG:27700 envelope, in degrees (about 10 m).
pub(super) const PAD_DEG: f64 = 1e-4;
/// Spacing of the samples taken along EPSG:27700 edges, in metres: grid
/// lines curve in lon/lat, so vertices alone could under-cover the shape.
pub(super) const SAMPLE_M: f64 = 500.0;

/// The lon/lat envelope of a British National Grid geometry, from its
/// vertices and points sampled along its edges, padded.
pub(super) fn bng_envelope(shape: &Geometry<f64>) -> Result<Option<Rect<f64>>, FilterError> {
    let mut lon = (f64::INFINITY, f64::NEG_INFINITY);
    let mut lat = (f64::INFINITY, f64::NEG_INFINITY);
    let mut add = |e: f64, n: f64| -> Result<(), FilterError> {
        let (x, y) = bng_to_wgs84(e, n).map_err(|err| {
            bad(format!(
                "the geometry is not within EPSG:27700 coverage ({e}, {n}): {err}"
            ))
        })?;
        lon = (lon.0.min(x), lon.1.max(x));
        lat = (lat.0.min(y), lat.1.max(y));
        Ok(())
    };
    for c in shape.coords_iter() {
        add(c.x, c.y)?;
    }
    let mut lines = Vec::new();
    edges(shape, &mut lines);
    for line in lines {
        let steps = ((line.dx().hypot(line.dy()) / SAMPLE_M).ceil() as usize).min(10_000);
        for i in 1..steps {
            let t = i as f64 / steps as f64;
            add(line.start.x + t * line.dx(), line.start.y + t * line.dy())?;
        }
    }
    if !lon.0.is_finite() {
        return Ok(None);
    }
    Ok(Some(Rect::new(
        Coord {
            x: (lon.0 - PAD_DEG).max(-180.0),
            y: (lat.0 - PAD_DEG).max(-90.0),
        },
        Coord {
            x: (lon.1 + PAD_DEG).min(180.0),
            y: (lat.1 + PAD_DEG).min(90.0),
        },
    )))
}

/// Refuses literals that break [`crate::domain::geometry`]'s rules. The
/// WKT text is read once more for its rings as written, since the
/// conversion to `geo` closes them silently.
pub(super) fn check_shape(e: &cql2::Expr, g: &Geometry<f64>) -> Result<(), FilterError> {
    use crate::domain::geometry::{check_ring, check_topology};
    pub(super) fn rings(w: &wkt::Wkt<f64>, out: &mut Vec<Vec<Coord<f64>>>) {
        let ring = |l: &wkt::types::LineString<f64>| {
            l.coords()
                .iter()
                .map(|c| Coord { x: c.x, y: c.y })
                .collect()
        };
        match w {
            wkt::Wkt::Polygon(p) => out.extend(p.rings().iter().map(ring)),
            wkt::Wkt::MultiPolygon(m) => {
                out.extend(m.polygons().iter().flat_map(|p| p.rings().iter().map(ring)))
            }
            wkt::Wkt::GeometryCollection(c) => c.geometries().iter().for_each(|g| rings(g, out)),
            _ => {}
        }
    }
    if let cql2::Expr::Geometry(cql2::Geometry::Wkt(text)) = e
        && let Ok(w) = text.parse::<wkt::Wkt<f64>>()
    {
        let mut all = Vec::new();
        rings(&w, &mut all);
        for r in all.iter().filter(|r| !r.is_empty()) {
            check_ring(r).map_err(bad)?;
        }
    }
    check_topology(g).map_err(bad)
}

/// Every straight edge of a geometry.
pub(super) fn edges(g: &Geometry<f64>, out: &mut Vec<geo::Line<f64>>) {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => {}
        Geometry::Line(l) => out.push(*l),
        Geometry::LineString(l) => out.extend(l.lines()),
        Geometry::Polygon(p) => out.extend(p.lines_iter()),
        Geometry::MultiLineString(m) => out.extend(m.lines_iter()),
        Geometry::MultiPolygon(m) => out.extend(m.lines_iter()),
        Geometry::Rect(r) => out.extend(r.to_polygon().lines_iter()),
        Geometry::Triangle(t) => out.extend(t.to_polygon().lines_iter()),
        Geometry::GeometryCollection(c) => c.iter().for_each(|g| edges(g, out)),
    }
}
