//! Polygon validity in about n log n: `geo`'s own checks, in its order and
//! with its error values, except that a ring's self-intersection test
//! (every segment against every other, minutes for a 20,000-position ward)
//! looks only at segment pairs whose boxes meet, found with an R-tree; and
//! the polygons of a multipolygon are related only when their boxes meet.
//! Segments or polygons whose boxes do not meet cannot intersect, so the
//! answers are the same.
//!
//! A few shapes make almost every pair of segments' boxes meet (long spikes
//! that all pass near one point); past a budget of pairs such a geometry is
//! refused as too complex rather than checked for minutes.

use geo::algorithm::validation::{GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{
    BoundingRect, CoordsIter, HasDimensions, Intersects, Line, LineString, MultiPolygon, Polygon,
    PreparedGeometry, Relate, RemoveRepeatedPoints,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// Why a polygon is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// What `geo` would say.
    Polygon(InvalidPolygon),
    /// What `geo` would say of a multipolygon.
    MultiPolygon(InvalidMultiPolygon),
    /// Too many overlapping segment boxes to check in reasonable time.
    TooComplex,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Polygon(e) => write!(f, "{e}"),
            Invalid::MultiPolygon(e) => write!(f, "{e}"),
            Invalid::TooComplex => f.write_str(
                "the geometry's segments overlap too much to be checked; simplify it first",
            ),
        }
    }
}

/// Segment pairs whose boxes meet that a check may test: generous for any
/// real boundary (a few per segment), far below geo's n² for large ones.
fn budget(segments: usize) -> usize {
    64 * segments + 1_000_000
}

fn rect(l: &Line<f64>) -> ([f64; 2], [f64; 2]) {
    (
        [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
        [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
    )
}

/// geo's `linestring_has_self_intersection`: two different segments meet,
/// other than where one ends and the other starts. The test is symmetric,
/// so each pair is tested once.
pub fn ring_self_intersects(ring: &LineString<f64>) -> Result<bool, Invalid> {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    if lines.len() < 2 {
        return Ok(false);
    }
    let tree = RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (lo, hi) = rect(l);
                GeomWithData::new(Rectangle::from_corners(lo, hi), i)
            })
            .collect(),
    );
    let mut tested = 0usize;
    let limit = budget(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let (lo, hi) = rect(l);
        for other in tree.locate_in_envelope_intersecting(&AABB::from_corners(lo, hi)) {
            let j = other.data;
            if j <= i {
                continue;
            }
            tested += 1;
            if tested > limit {
                return Err(Invalid::TooComplex);
            }
            let o = &lines[j];
            if l.intersects(o) && l.start != o.end && l.end != o.start {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// geo's polygon validation, in its order, with the fast ring test.
pub fn validate_polygon(p: &Polygon<f64>) -> Result<(), Invalid> {
    let bad = |e| Err(Invalid::Polygon(e));
    if p.is_empty() {
        return Ok(());
    }
    for (idx, ring) in std::iter::once(p.exterior())
        .chain(p.interiors())
        .enumerate()
    {
        if ring.is_empty() {
            continue;
        }
        let role = if idx == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(idx - 1)
        };
        if ring.remove_repeated_points().0.len() < 4 {
            return bad(InvalidPolygon::TooFewPointsInRing(role));
        }
        if ring_self_intersects(ring)? {
            return bad(InvalidPolygon::SelfIntersection(role));
        }
        if let Some(i) = ring
            .0
            .iter()
            .position(|c| !c.x.is_finite() || !c.y.is_finite())
        {
            return bad(InvalidPolygon::NonFiniteCoord(
                role,
                geo::algorithm::validation::CoordIndex(i),
            ));
        }
    }
    if !p.interiors().iter().any(|r| !r.is_empty()) {
        return Ok(());
    }
    let exterior = Polygon::new(p.exterior().clone(), vec![]);
    let exterior = PreparedGeometry::from(&exterior);
    for (i1, interior_1) in p.interiors().iter().enumerate() {
        if interior_1.is_empty() {
            continue;
        }
        let role_1 = RingRole::Interior(i1);
        let poly_1 = Polygon::new(interior_1.clone(), vec![]);
        let prepared_1 = PreparedGeometry::from(&poly_1);
        let m = exterior.relate(&prepared_1);
        if !m.is_contains() {
            return bad(InvalidPolygon::InteriorRingNotContainedInExteriorRing(
                role_1,
            ));
        }
        if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return bad(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                role_1,
            ));
        }
        let box_1 = poly_1.bounding_rect();
        for (i2, interior_2) in p.interiors().iter().enumerate().skip(i1 + 1) {
            if interior_2.is_empty() {
                continue;
            }
            let poly_2 = Polygon::new(interior_2.clone(), vec![]);
            // Rings whose boxes do not meet share no point.
            if let (Some(a), Some(b)) = (box_1, poly_2.bounding_rect())
                && !a.intersects(&b)
            {
                continue;
            }
            let m = prepared_1.relate(&poly_2);
            let role_2 = RingRole::Interior(i2);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return bad(InvalidPolygon::IntersectingRingsOnAnArea(role_1, role_2));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return bad(InvalidPolygon::IntersectingRingsOnALine(role_1, role_2));
            }
        }
    }
    Ok(())
}

/// geo's multipolygon validation: each polygon, then each pair of polygons
/// whose boxes meet must not overlap or share a line.
pub fn validate_multi_polygon(m: &MultiPolygon<f64>) -> Result<(), Invalid> {
    let boxes: Vec<_> = m.0.iter().map(|p| p.bounding_rect()).collect();
    let tree = RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|b| {
                    GeomWithData::new(
                        Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                        i,
                    )
                })
            })
            .collect(),
    );
    let mut tested = 0usize;
    let limit = budget(m.coords_count());
    for (i, polygon) in m.0.iter().enumerate() {
        validate_polygon(polygon).map_err(|e| match e {
            Invalid::Polygon(e) => {
                Invalid::MultiPolygon(InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e))
            }
            other => other,
        })?;
        let Some(b) = boxes[i] else { continue };
        let mut near: Vec<usize> = tree
            .locate_in_envelope_intersecting(&AABB::from_corners(
                [b.min().x, b.min().y],
                [b.max().x, b.max().y],
            ))
            .map(|g| g.data)
            .filter(|&j| j > i)
            .collect();
        // In index order, as geo reports the first offending pair.
        near.sort_unstable();
        for j in near {
            tested += 1;
            if tested > limit {
                return Err(Invalid::TooComplex);
            }
            let im = polygon.relate(&m.0[j]);
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(Invalid::MultiPolygon(
                    InvalidMultiPolygon::ElementsOverlaps(GeometryIndex(i), GeometryIndex(j)),
                ));
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(Invalid::MultiPolygon(
                    InvalidMultiPolygon::ElementsTouchOnALine(GeometryIndex(i), GeometryIndex(j)),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use geo::{Coord, Validation, coord, polygon};
    use proptest::prelude::*;

    use super::*;

    fn circle(n: usize, cx: f64, cy: f64, r: f64) -> LineString<f64> {
        LineString(
            (0..=n)
                .map(|i| {
                    let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                    Coord {
                        x: cx + r * a.cos(),
                        y: cy + r * a.sin(),
                    }
                })
                .collect(),
        )
    }

    /// The same answer as geo's own validation, on random small polygons
    /// (most of them self-intersecting) with random holes.
    #[test]
    fn agrees_with_geo_on_random_polygons() {
        let coords = prop::collection::vec((0i8..6, 0i8..6), 3..9);
        let holes = prop::collection::vec(prop::collection::vec((0i8..6, 0i8..6), 3..5), 0..3);
        proptest!(ProptestConfig::with_cases(3000), |(shell in coords, holes in holes)| {
            let ring = |pts: &Vec<(i8, i8)>| {
                let mut r: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| coord! { x: f64::from(x), y: f64::from(y) }).collect();
                r.push(r[0]);
                LineString(r)
            };
            let p = Polygon::new(ring(&shell), holes.iter().map(ring).collect());
            // geo's relate panics on some invalid inputs; those cases say
            // nothing about agreement.
            let quiet = |f: &dyn Fn() -> Result<(), String>| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
            };
            let geos = quiet(&|| p.check_validation().map_err(|e| e.to_string()));
            if let Some(geos) = geos {
                let ours = validate_polygon(&p).map_err(|e| e.to_string());
                prop_assert_eq!(ours, geos);
            }
            let m = MultiPolygon(vec![p.clone(), Polygon::new(ring(&shell), vec![])]);
            let geos = quiet(&|| m.check_validation().map_err(|e| e.to_string()));
            if let Some(geos) = geos {
                let ours = validate_multi_polygon(&m).map_err(|e| e.to_string());
                prop_assert_eq!(ours, geos);
            }
        });
    }

    #[test]
    fn a_large_simple_ring_is_valid_and_a_crossed_one_is_not() {
        let p = Polygon::new(
            circle(100_000, 0.0, 0.0, 1.0),
            vec![circle(1000, 0.0, 0.0, 0.5)],
        );
        assert_eq!(validate_polygon(&p), Ok(()));
        let mut ring = circle(100_000, 0.0, 0.0, 1.0);
        ring.0.swap(10, 50_000);
        let p = Polygon::new(ring, vec![]);
        assert_eq!(
            validate_polygon(&p),
            Err(Invalid::Polygon(InvalidPolygon::SelfIntersection(
                RingRole::Exterior
            )))
        );
    }

    #[test]
    fn many_small_polygons_are_related_only_with_their_neighbours() {
        let squares: Vec<Polygon<f64>> = (0..20_000)
            .map(|i| {
                let (x, y) = (f64::from(i % 200) * 2.0, f64::from(i / 200) * 2.0);
                polygon![(x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y)]
            })
            .collect();
        assert_eq!(validate_multi_polygon(&MultiPolygon(squares)), Ok(()));
    }
}
