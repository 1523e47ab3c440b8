//! Geometry validity: the one set of rules every geometry input passes.
//!
//! RFC 7946 asks for linear rings that are closed and have four or more
//! positions; OGC Simple Features asks for rings that do not cross
//! themselves and holes that lie inside their shell. Search areas, polygon
//! assets, boundary layers, CQL2 geometry literals and every later geometry
//! input are checked here, so they cannot disagree.
//!
//! Closure is checked on the positions as written, before a `geo` polygon
//! is built (`geo::Polygon::new` closes rings silently, which would turn an
//! unclosed triangle into a valid one). Everything else is checked on the
//! built geometry, with `geo`'s [`Validation`] doing the topology.

use geo::{Coord, CoordsIter, Geometry, LineString, Polygon, Validation};

/// Most positions one geometry may have. Ward and conservation-area
/// boundaries run to tens of thousands; past this a file is almost always a
/// survey-grade line that should be simplified before upload, and checking
/// it would take seconds of work per request.
pub const MAX_POSITIONS: usize = 100_000;

/// The refusal of a geometry of `n` positions.
pub fn too_many_positions(n: usize) -> String {
    format!(
        "the geometry has {n} positions; at most {MAX_POSITIONS} are accepted \
         (simplify it first)"
    )
}

/// Checks a geometry's size before any work on it.
pub fn check_size(geometry: &Geometry<f64>) -> Result<(), String> {
    let n = geometry.coords_count();
    if n > MAX_POSITIONS {
        return Err(too_many_positions(n));
    }
    Ok(())
}

/// Checks a polygon ring exactly as written: closed, four or more positions.
pub fn check_ring(ring: &[Coord<f64>]) -> Result<(), String> {
    if ring.len() < 4 {
        return Err(format!(
            "a polygon ring needs at least four positions (the last repeating the first); this one has {}",
            ring.len()
        ));
    }
    if ring.first() != ring.last() {
        return Err(
            "a polygon ring must be closed: its last position must repeat its first".into(),
        );
    }
    Ok(())
}

/// Checks a line exactly as written: two or more distinct positions.
pub fn check_line(line: &[Coord<f64>]) -> Result<(), String> {
    match line.first() {
        Some(first) if line.iter().any(|c| c != first) => Ok(()),
        _ => Err("a LineString needs at least two distinct positions".into()),
    }
}

/// Builds a polygon from rings as written, checking each with [`check_ring`].
/// `rings[0]` is the shell; the rest are holes.
pub fn polygon(rings: Vec<Vec<Coord<f64>>>) -> Result<Polygon<f64>, String> {
    let n: usize = rings.iter().map(Vec::len).sum();
    if n > MAX_POSITIONS {
        return Err(too_many_positions(n));
    }
    let mut rings = rings.into_iter();
    let Some(shell) = rings.next() else {
        return Err("a polygon needs at least one ring".into());
    };
    check_ring(&shell).map_err(|e| format!("exterior ring: {e}"))?;
    let holes = rings
        .enumerate()
        .map(|(i, r)| {
            check_ring(&r).map_err(|e| format!("interior ring {i}: {e}"))?;
            Ok(LineString(r))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Polygon::new(LineString(shell), holes))
}

/// Checks every coordinate is a finite longitude in ±180 and latitude in ±90.
pub fn check_coordinates(geometry: &Geometry<f64>) -> Result<(), String> {
    for c in geometry.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err("coordinates must be finite numbers".into());
        }
        if !(-180.0..=180.0).contains(&c.x) {
            return Err(format!("longitude {} is outside -180..180", c.x));
        }
        if !(-90.0..=90.0).contains(&c.y) {
            return Err(format!("latitude {} is outside -90..90", c.y));
        }
    }
    Ok(())
}

/// Checks a built geometry: coordinates in range, and valid in the sense
/// of OGC Simple Features (rings that do not cross themselves, holes inside
/// their shell, polygons of a multipolygon that do not overlap, lines of
/// two distinct positions, no empty parts).
pub fn validate(geometry: &Geometry<f64>) -> Result<(), String> {
    check_size(geometry)?;
    check_coordinates(geometry)?;
    check_topology(geometry)
}

/// [`validate`] without the lon/lat range check, for geometries in another
/// CRS (British National Grid literals in a CQL2 filter).
pub fn check_topology(geometry: &Geometry<f64>) -> Result<(), String> {
    if geometry
        .coords_iter()
        .any(|c| !c.x.is_finite() || !c.y.is_finite())
    {
        return Err("coordinates must be finite numbers".into());
    }
    if let Some(empty) = empty_part(geometry) {
        return Err(empty.into());
    }
    let check = || match geometry {
        // geo's ring check compares every segment with every other: a
        // 20,000-position ward took minutes. `rings` gives the same answers
        // with an R-tree of segments.
        Geometry::Polygon(p) => super::rings::validate_polygon(p).map_err(|e| e.to_string()),
        Geometry::MultiPolygon(m) => {
            super::rings::validate_multi_polygon(m).map_err(|e| e.to_string())
        }
        other => other.check_validation().map_err(|e| e.to_string()),
    };
    unpanicked(check)
}

/// The refusal of a geometry `geo` panicked on.
pub const UNPROCESSABLE: &str = "the geometry could not be checked: it is degenerate in a way the \
     geometry library cannot process (nearly coincident or collinear edges, or extreme \
     coordinates); simplify or snap it and send it again";

/// Runs a `geo` topology operation (relate, validation, boolean ops) on a
/// client's geometry, turning a panic inside the library into a refusal of
/// the geometry: those operations assert invariants that floating-point
/// input can break, and a request must not cost the connection (or, on a
/// blocking thread, the whole answer) for it.
pub fn unpanicked<T>(op: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)) {
        Ok(r) => r,
        // The panic hook has logged the library's message already.
        Err(_) => Err(UNPROCESSABLE.to_string()),
    }
}

/// Names an empty part, which `geo` treats as valid but no input should be.
fn empty_part(g: &Geometry<f64>) -> Option<&'static str> {
    match g {
        Geometry::MultiPoint(m) if m.0.is_empty() => Some("a MultiPoint needs at least one point"),
        Geometry::LineString(l) if l.0.is_empty() => Some("a LineString needs positions"),
        Geometry::MultiLineString(m) if m.0.is_empty() || m.0.iter().any(|l| l.0.is_empty()) => {
            Some("a MultiLineString needs non-empty lines")
        }
        Geometry::Polygon(p) if p.exterior().0.is_empty() => Some("a Polygon needs a ring"),
        Geometry::MultiPolygon(m)
            if m.0.is_empty() || m.0.iter().any(|p| p.exterior().0.is_empty()) =>
        {
            Some("a MultiPolygon needs non-empty polygons")
        }
        Geometry::GeometryCollection(c) => c.0.iter().find_map(empty_part),
        _ => None,
    }
}

/// Converts a GeoJSON geometry (RFC 7946 positions, lon/lat) to a `geo`
/// geometry, checking closure as written and then [`validate`].
pub fn from_geojson(value: &geojson::GeometryValue) -> Result<Geometry<f64>, String> {
    let g = convert(value)?;
    validate(&g)?;
    Ok(g)
}

fn convert(value: &geojson::GeometryValue) -> Result<Geometry<f64>, String> {
    use geojson::GeometryValue as V;
    Ok(match value {
        V::Point { coordinates } => Geometry::Point(position(coordinates)?.into()),
        V::MultiPoint { coordinates } => Geometry::MultiPoint(
            positions(coordinates)?
                .into_iter()
                .map(geo::Point)
                .collect(),
        ),
        V::LineString { coordinates } => Geometry::LineString(line(coordinates)?),
        V::MultiLineString { coordinates } => Geometry::MultiLineString(geo::MultiLineString(
            coordinates
                .iter()
                .enumerate()
                .map(|(i, l)| line(l).map_err(|e| format!("line {i}: {e}")))
                .collect::<Result<_, _>>()?,
        )),
        V::Polygon { coordinates } => Geometry::Polygon(rings(coordinates)?),
        V::MultiPolygon { coordinates } => Geometry::MultiPolygon(geo::MultiPolygon(
            coordinates
                .iter()
                .enumerate()
                .map(|(i, p)| rings(p).map_err(|e| format!("polygon {i}: {e}")))
                .collect::<Result<_, _>>()?,
        )),
        V::GeometryCollection { geometries } => Geometry::GeometryCollection(
            geometries
                .iter()
                .enumerate()
                .map(|(i, g)| convert(&g.value).map_err(|e| format!("geometry {i}: {e}")))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn position(p: &geojson::Position) -> Result<Coord<f64>, String> {
    match p.as_slice() {
        [x, y, ..] => Ok(Coord { x: *x, y: *y }),
        _ => Err("every position needs a longitude and a latitude".into()),
    }
}

fn positions(ps: &[geojson::Position]) -> Result<Vec<Coord<f64>>, String> {
    ps.iter().map(position).collect()
}

fn line(ps: &[geojson::Position]) -> Result<LineString<f64>, String> {
    let coords = positions(ps)?;
    check_line(&coords)?;
    Ok(LineString(coords))
}

fn rings(rs: &[Vec<geojson::Position>]) -> Result<Polygon<f64>, String> {
    polygon(rs.iter().map(|r| positions(r)).collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Geometry<f64>, String> {
        let g: geojson::Geometry = serde_json::from_value(v).expect("GeoJSON");
        from_geojson(&g.value)
    }

    fn square() -> serde_json::Value {
        json!([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    }

    #[test]
    fn a_panic_in_the_geometry_library_is_a_refusal() {
        let r: Result<(), String> = unpanicked(|| panic!("assertion failed: edge already exists"));
        assert_eq!(r, Err(UNPROCESSABLE.to_string()));
        assert_eq!(unpanicked(|| Ok::<_, String>(7)), Ok(7));
    }

    #[test]
    fn a_closed_simple_ring_is_valid() {
        assert!(parse(json!({"type": "Polygon", "coordinates": [square()]})).is_ok());
    }

    #[test]
    fn the_issue_examples_are_refused_with_a_reason() {
        let cases = [
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}),
                "at least four positions",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
                "closed",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
                "self-intersection",
            ),
            (
                json!({"type": "LineString", "coordinates": [[0, 0]]}),
                "two distinct positions",
            ),
            (
                json!({"type": "LineString", "coordinates": [[0, 0], [0, 0]]}),
                "two distinct positions",
            ),
            (
                json!({"type": "Point", "coordinates": [200, 0]}),
                "longitude 200",
            ),
            (
                json!({"type": "Point", "coordinates": [0, -91]}),
                "latitude -91",
            ),
            (
                json!({"type": "MultiPolygon", "coordinates": []}),
                "non-empty polygons",
            ),
        ];
        for (g, why) in cases {
            let e = parse(g.clone()).expect_err(&g.to_string());
            assert!(e.contains(why), "{g}: {e:?} should say {why:?}");
        }
    }

    #[test]
    fn a_hole_must_lie_inside_its_shell() {
        let outside = json!([[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]);
        let e = parse(json!({"type": "Polygon", "coordinates": [square(), outside]})).unwrap_err();
        assert!(e.contains("interior ring"), "{e}");
        let inside = json!([[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]);
        assert!(parse(json!({"type": "Polygon", "coordinates": [square(), inside]})).is_ok());
    }

    #[test]
    fn overlapping_polygons_of_a_multipolygon_are_refused() {
        let shifted = json!([[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 0.5]]);
        let e = parse(json!({"type": "MultiPolygon", "coordinates": [[square()], [shifted]]}))
            .unwrap_err();
        assert!(!e.is_empty());
    }
}
