//! British National Grid (EPSG:27700) ⇄ WGS84 (EPSG:4326), with OSTN15 accuracy.
//!
//! # Why this module exists
//!
//! UK councils export their asset registers in British National Grid (BNG)
//! eastings and northings, because that is what their GIS and the Ordnance
//! Survey maps they license use. Streetcell stores and serves WGS84
//! longitude/latitude (GeoJSON, RFC 7946), so every imported asset passes
//! through [`bng_to_wgs84`], and every BNG answer we give back passes through
//! [`wgs84_to_bng`].
//!
//! A plain 7-parameter Helmert datum shift is only good to a few metres in
//! Great Britain, which is enough to put a lamp column on the wrong side of a
//! road. Ordnance Survey's OSTN15 transformation (a 1 km grid of shifts,
//! applied by bilinear interpolation) *defines* OSGB36/BNG relative to ETRS89,
//! so it reproduces OS's own coordinates to the millimetre. The heavy lifting
//! is done by the [`lonlat_bng`] crate, which embeds the OSTN15 grid.
//!
//! # WGS84 is treated as ETRS89
//!
//! OSTN15's input datum is ETRS89, not WGS84. ETRS89 is tied to the stable
//! part of the Eurasian plate, while current WGS84 realisations follow ITRF, so
//! the two drift apart by about 2.5 cm a year (roughly a metre by the mid
//! 2020s). For UK data at the metre level, as Ordnance Survey's guidance
//! allows for non-survey work, we take WGS84 coordinates as ETRS89 coordinates
//! with no further shift. Since the same convention is applied in both
//! directions, BNG → WGS84 → BNG round trips are exact to the millimetre.
//!
//! # Accuracy
//!
//! The module's tests check the forward direction against Ordnance Survey's
//! 40 published OSTN15 test points (`tests/data/ostn15_test_points.csv`, see
//! the `PROVENANCE.md` next to it). Eastings and northings come back rounded to
//! the millimetre, as `lonlat_bng` rounds them. Heights are not handled: all
//! conversions here are two-dimensional.
//!
//! The inverse ([`bng_to_wgs84`]) is not a closed formula in OS's method: the
//! OSTN15 shift is removed iteratively, then the Transverse Mercator projection
//! is inverted with a truncated series. `lonlat_bng` does the first part well,
//! but its inverse series is not the exact inverse of its forward series: far
//! from the 2°W central meridian the mismatch reaches several millimetres
//! (4 mm in a BNG → WGS84 → BNG round trip on St Kilda, 8.6°W). We therefore
//! refine its answer with a few Newton steps against the forward projection,
//! so that the result is the exact inverse of [`wgs84_to_bng`] (see
//! `refine_inverse_projection`).
//!
//! # Coverage
//!
//! OSTN15 is defined on the ETRS89 grid rectangle 0–700 km east, 0–1250 km
//! north. Anything outside it gives [`CrsError::OutsideCoverage`] (for
//! eastings/northings) or [`CrsError::LonLatOutsideCoverage`] (for
//! longitude/latitude). Note that the rectangle also spans parts of Ireland,
//! France and open sea: being inside it does not make a point British.
//!
//! # Why the forward direction does not call `lonlat_bng::convert_osgb36`
//!
//! `convert_osgb36(lon, lat)` is exactly "project onto the ETRS89 grid, then
//! `convert_etrs89_to_osgb36`", but its coverage check is a fixed lon/lat box
//! (8.579°W to 1.78°E, 49.922°N to 60.84°N) rather than the grid, which goes
//! wrong both ways:
//!
//! - inside the box but off the grid it does not fail: it extrapolates the
//!   edge cell's shift and returns, for example, a *negative* easting for
//!   8.5°W 49.95°N in the Atlantic;
//! - on the grid but outside the box it refuses real places: the south of the
//!   Isles of Scilly (St Agnes, Bishop Rock) and the north of Unst.
//!
//! So [`wgs84_to_bng`] projects with `grs80_national_grid` (OS's formulae,
//! bit-for-bit the crate's private forward projection; tested) and then calls
//! `lonlat_bng::convert_etrs89_to_osgb36`, which checks the grid rectangle and
//! applies the OSTN15 shift. Wherever `convert_osgb36` is inside the coverage,
//! the results are identical (tested on the OS points and a 41 × 41 lattice).

use lonlat_bng::TransformError;

/// Why a coordinate could not be converted.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum CrsError {
    /// An input coordinate was NaN or infinite.
    #[error("coordinate ({0}, {1}) is not a finite number")]
    NotFinite(f64, f64),
    /// The longitude/latitude lies outside the area OSTN15 covers.
    #[error("longitude/latitude ({lon}, {lat}) outside the OSTN15 coverage")]
    LonLatOutsideCoverage {
        /// Longitude in degrees.
        lon: f64,
        /// Latitude in degrees.
        lat: f64,
    },
    /// The easting/northing lies outside the area OSTN15 covers.
    #[error("easting/northing ({easting}, {northing}) outside the OSTN15 coverage")]
    OutsideCoverage {
        /// Easting in metres.
        easting: f64,
        /// Northing in metres.
        northing: f64,
    },
    /// The iterative removal of the OSTN15 shift did not settle. This should
    /// not happen inside the coverage; it is reported rather than guessed.
    #[error("OSTN15 inverse did not converge for easting/northing ({easting}, {northing})")]
    NonConvergent {
        /// Easting in metres.
        easting: f64,
        /// Northing in metres.
        northing: f64,
    },
}

/// Largest ETRS89 grid easting of the OSTN15 grid, in metres.
const MAX_EASTING: f64 = 700_000.0;
/// Largest ETRS89 grid northing of the OSTN15 grid, in metres.
const MAX_NORTHING: f64 = 1_250_000.0;

/// Longitude/latitude envelope (degrees) of the OSTN15 grid rectangle, whose
/// image spans about 9.39°W to 3.55°E and 49.77°N to 61.13°N. Points outside
/// it are rejected before projecting: the projection series is only meant for
/// a few degrees either side of 2°W and could fold far-away points onto the
/// grid.
const ENVELOPE_LON: (f64, f64) = (-10.0, 4.0);
const ENVELOPE_LAT: (f64, f64) = (49.0, 62.0);

/// Converts WGS84 longitude/latitude (degrees, taken as ETRS89) to British
/// National Grid easting/northing (metres, rounded to the millimetre) using
/// OSTN15.
///
/// Argument and result order is x then y, as in GeoJSON: `(lon, lat)` in,
/// `(easting, northing)` out.
///
/// # Errors
///
/// [`CrsError::NotFinite`] for NaN/infinite input and
/// [`CrsError::LonLatOutsideCoverage`] outside the OSTN15 grid.
pub fn wgs84_to_bng(lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(CrsError::NotFinite(lon, lat));
    }
    let outside = CrsError::LonLatOutsideCoverage { lon, lat };
    if !(ENVELOPE_LON.0..=ENVELOPE_LON.1).contains(&lon)
        || !(ENVELOPE_LAT.0..=ENVELOPE_LAT.1).contains(&lat)
    {
        return Err(outside);
    }
    // ETRS89 grid coordinates, unrounded; see the module docs for why this is
    // not `lonlat_bng::convert_osgb36`.
    let (e, n) = grs80_national_grid(lon.to_radians(), lat.to_radians());
    // Rejects anything off the 0-700 km x 0-1250 km grid, then adds the
    // bilinearly interpolated OSTN15 shift and rounds to the millimetre.
    lonlat_bng::convert_etrs89_to_osgb36(e, n).map_err(|_| outside)
}

/// Converts British National Grid easting/northing (metres) to WGS84
/// longitude/latitude (degrees, as ETRS89) using OSTN15.
///
/// Result order is x then y, as in GeoJSON: `(lon, lat)`. The result is the
/// exact inverse of [`wgs84_to_bng`]: converting it back gives the input to
/// within the millimetre rounding of the forward direction.
///
/// # Errors
///
/// [`CrsError::NotFinite`] for NaN/infinite input,
/// [`CrsError::OutsideCoverage`] outside the OSTN15 grid and
/// [`CrsError::NonConvergent`] if the shift removal does not settle.
pub fn bng_to_wgs84(easting: f64, northing: f64) -> Result<(f64, f64), CrsError> {
    if !easting.is_finite() || !northing.is_finite() {
        return Err(CrsError::NotFinite(easting, northing));
    }
    let outside = CrsError::OutsideCoverage { easting, northing };
    // lonlat_bng truncates negative values towards cell 0 instead of
    // rejecting them, so check the grid rectangle here.
    if !(0.0..=MAX_EASTING).contains(&easting) || !(0.0..=MAX_NORTHING).contains(&northing) {
        return Err(outside);
    }
    let map_err = |err: TransformError| match err {
        TransformError::NonConvergent { .. } => CrsError::NonConvergent { easting, northing },
        _ => outside,
    };
    // OSGB36 → ETRS89 grid coordinates: OS's iterative removal of the OSTN15
    // shift (to 0.1 mm), unrounded.
    let (etrs_e, etrs_n) =
        lonlat_bng::convert_osgb36_to_etrs89(easting, northing).map_err(map_err)?;
    // ETRS89 grid → lon/lat: the crate's inverse series, then our refinement.
    let first_guess = lonlat_bng::convert_etrs89_to_ll(etrs_e, etrs_n).map_err(map_err)?;
    Ok(refine_inverse_projection(etrs_e, etrs_n, first_guess))
}

/// Improves an inverse Transverse Mercator result by Newton's method against
/// the forward projection.
///
/// `lonlat_bng::convert_etrs89_to_ll` evaluates OS's truncated inverse series,
/// which is not the exact inverse of the truncated forward series used by
/// `convert_osgb36`: the difference is under a millimetre near 2°W but several
/// millimetres on St Kilda (OS test point TP31: 5.7e-8 degrees from OS's
/// published latitude/longitude, against 7.4e-9 after refinement). Since OS
/// defines the forward direction, we solve `forward(lon, lat) = (e, n)` for
/// `(lon, lat)` starting from the crate's answer. The crate's public forward
/// functions round to the millimetre, which would stall Newton's method at
/// ±0.5 mm, so we use the unrounded `grs80_national_grid` (the same OS
/// formulae in the same order). The Jacobian is taken once by central
/// differences; two iterations reach the micrometre, and we allow four.
/// (Without this step the BNG → WGS84 → BNG round trip misses by 4 mm at TP31;
/// with it, it is exact to the millimetre at all 40 OS points.)
fn refine_inverse_projection(e: f64, n: f64, (lon_deg, lat_deg): (f64, f64)) -> (f64, f64) {
    const TOLERANCE_M: f64 = 1e-6;
    const MAX_ITERATIONS: usize = 4;
    // ~0.6 m on the ground: small enough for the series to be linear, large
    // enough for the difference to keep ~9 significant digits.
    const STEP_RAD: f64 = 1e-7;

    let (mut lam, mut phi) = (lon_deg.to_radians(), lat_deg.to_radians());
    let (e_lp, n_lp) = grs80_national_grid(lam + STEP_RAD, phi);
    let (e_lm, n_lm) = grs80_national_grid(lam - STEP_RAD, phi);
    let (e_pp, n_pp) = grs80_national_grid(lam, phi + STEP_RAD);
    let (e_pm, n_pm) = grs80_national_grid(lam, phi - STEP_RAD);
    let (de_dlam, dn_dlam) = (
        (e_lp - e_lm) / (2.0 * STEP_RAD),
        (n_lp - n_lm) / (2.0 * STEP_RAD),
    );
    let (de_dphi, dn_dphi) = (
        (e_pp - e_pm) / (2.0 * STEP_RAD),
        (n_pp - n_pm) / (2.0 * STEP_RAD),
    );
    let det = de_dlam * dn_dphi - de_dphi * dn_dlam;
    if !det.is_finite() || det == 0.0 {
        return (lon_deg, lat_deg);
    }
    for _ in 0..MAX_ITERATIONS {
        let (fe, fnn) = grs80_national_grid(lam, phi);
        let (re, rn) = (e - fe, n - fnn);
        if re.abs() < TOLERANCE_M && rn.abs() < TOLERANCE_M {
            break;
        }
        lam += (dn_dphi * re - de_dphi * rn) / det;
        phi += (de_dlam * rn - dn_dlam * re) / det;
    }
    (lam.to_degrees(), phi.to_degrees())
}

/// Forward Transverse Mercator projection of ETRS89 longitude/latitude
/// (radians) onto the National Grid projection on the GRS80 ellipsoid,
/// giving unrounded ETRS89 grid easting/northing in metres.
///
/// These are OS's formulae (*A guide to coordinate systems in Great Britain*,
/// annex C; *Transformations and OSGM15 user guide*, annex B), evaluated in
/// the same order as `lonlat_bng`'s internal forward projection so that the
/// two agree to the last bit; `lonlat_bng` keeps its unrounded version private.
fn grs80_national_grid(lam: f64, phi: f64) -> (f64, f64) {
    const A: f64 = 6_378_137.000; // GRS80 semi-major axis
    const B: f64 = 6_356_752.314_1; // GRS80 semi-minor axis
    const F0: f64 = 0.999_601_271_7; // scale factor on the central meridian
    const E0: f64 = 400_000.0; // false easting
    const N0: f64 = -100_000.0; // false northing
    let phi0 = 49.0_f64.to_radians(); // latitude of true origin
    let lam0 = (-2.0_f64).to_radians(); // longitude of true origin

    let e2 = (A.powi(2) - B.powi(2)) / A.powi(2);
    let n = (A - B) / (A + B);
    let sp2 = phi.sin().powi(2);
    let nu = A * F0 * (1. - e2 * sp2).powf(-0.5);
    let rho = A * F0 * (1. - e2) * (1. - e2 * sp2).powf(-1.5);
    let eta2 = nu / rho - 1.;

    // Meridional arc (C3 / B6).
    let (p_plus, p_minus) = (phi + phi0, phi - phi0);
    let n3 = n * n * n;
    let m = B
        * F0
        * ((1. + n * (1. + 5. / 4. * n * (1. + n))) * p_minus
            - 3. * n * (1. + n * (1. + 7. / 8. * n)) * p_minus.sin() * p_plus.cos()
            + (15. / 8. * n * (n * (1. + n))) * (2. * p_minus).sin() * (2. * p_plus).cos()
            - 35. / 24. * n3 * (3. * p_minus).sin() * (3. * p_plus).cos());

    let (cp, sp, tp) = (phi.cos(), phi.sin(), phi.tan());
    let tp2 = tp.powi(2);
    let tp4 = tp.powi(4);
    let i = m + N0;
    let ii = (sp * 0.5) * (nu * cp);
    let iii = (sp / 24.) * nu * cp.powi(3) * eta2.mul_add(9.0, 5.0 - tp2);
    let iiia = (sp / 720.) * nu * cp.powi(5) * tp2.mul_add(-58.0, 61.0 + tp4);
    let iv = nu * cp;
    let v = nu / 6. * cp.powi(3) * (nu / rho - tp2);
    let vi = nu / 120.
        * cp.powi(5)
        * (tp2 * eta2).mul_add(-58.0, eta2.mul_add(14.0, tp2.mul_add(-18.0, 5.0 + tp4)));

    let l = lam - lam0;
    let north = i + ii * l.powi(2) + iii * l.powi(4) + iiia * l.powi(6);
    let east = l.mul_add(iv, E0) + v * l.powi(3) + vi * l.powi(5);
    (east, north)
}

#[cfg(test)]
mod tests {
    //! Checks against Ordnance Survey's published OSTN15 test points
    //! (`tests/data/ostn15_test_points.csv`; provenance in the `.PROVENANCE.md`
    //! beside it). Run with `--nocapture` to see the worst-case errors.

    use super::*;

    const TEST_POINTS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ostn15_test_points.csv"
    ));
    /// OS publishes TP01..TP40.
    const EXPECTED_ROWS: usize = 40;
    /// Forward tolerance: OS's values are given to the millimetre.
    const FORWARD_TOLERANCE_M: f64 = 0.01;
    /// BNG → WGS84 → BNG tolerance.
    const ROUND_TRIP_TOLERANCE_M: f64 = 0.001;

    struct TestPoint {
        id: String,
        lat: f64,
        lon: f64,
        /// `None` where OS gives no result for the point.
        published: Option<(f64, f64)>,
    }

    fn test_points() -> Vec<TestPoint> {
        let mut lines = TEST_POINTS.lines();
        assert_eq!(
            lines.next(),
            Some("point_id,etrs89_lat,etrs89_lon,osgb36_easting,osgb36_northing"),
            "unexpected header"
        );
        let parse = |field: &str, line: &str| -> f64 {
            field
                .parse()
                .unwrap_or_else(|e| panic!("bad number {field:?} in {line:?}: {e}"))
        };
        lines
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let fields: Vec<&str> = line.split(',').map(str::trim).collect();
                assert_eq!(fields.len(), 5, "wrong field count in {line:?}");
                let published = match (fields[3], fields[4]) {
                    ("", "") => None,
                    (e, n) if !e.is_empty() && !n.is_empty() => {
                        Some((parse(e, line), parse(n, line)))
                    }
                    _ => {
                        panic!("easting and northing must both be present or both empty: {line:?}")
                    }
                };
                TestPoint {
                    id: fields[0].to_owned(),
                    lat: parse(fields[1], line),
                    lon: parse(fields[2], line),
                    published,
                }
            })
            .collect()
    }

    /// The published points, after checking the file is the complete OS set.
    fn published_points() -> Vec<(String, f64, f64, f64, f64)> {
        let points = test_points();
        assert_eq!(points.len(), EXPECTED_ROWS, "expected TP01..TP40");
        for (i, p) in points.iter().enumerate() {
            assert_eq!(p.id, format!("TP{:02}", i + 1), "rows out of order");
        }
        let published: Vec<_> = points
            .iter()
            .filter_map(|p| p.published.map(|(e, n)| (p.id.clone(), p.lon, p.lat, e, n)))
            .collect();
        assert!(
            !published.is_empty(),
            "no published results in the test file"
        );
        published
    }

    #[test]
    fn forward_matches_every_published_os_test_point() {
        let published = published_points();
        let mut checked = 0;
        let mut worst = (0.0_f64, String::new());
        for (id, lon, lat, os_e, os_n) in &published {
            let (e, n) = wgs84_to_bng(*lon, *lat).unwrap_or_else(|err| panic!("{id}: {err}"));
            let (de, dn) = ((e - os_e).abs(), (n - os_n).abs());
            assert!(
                de <= FORWARD_TOLERANCE_M && dn <= FORWARD_TOLERANCE_M,
                "{id}: got ({e:.3}, {n:.3}), OS publishes ({os_e:.3}, {os_n:.3})"
            );
            if de.max(dn) >= worst.0 {
                worst = (de.max(dn), id.clone());
            }
            checked += 1;
        }
        eprintln!(
            "forward: {checked} OS points checked, worst per-axis error {:.4} m ({})",
            worst.0, worst.1
        );
        assert_eq!(checked, published.len());
    }

    #[test]
    fn points_without_a_published_result_are_rejected() {
        // OS publishes a result for all 40 OSTN15 test points, so this loop is
        // currently empty; it guards the file if rows without a result appear.
        for p in test_points().iter().filter(|p| p.published.is_none()) {
            assert!(
                wgs84_to_bng(p.lon, p.lat).is_err(),
                "{}: OS gives no result but we converted it",
                p.id
            );
        }
    }

    #[test]
    fn round_trip_bng_wgs84_bng_on_published_points() {
        let published = published_points();
        let mut checked = 0;
        let mut worst = (0.0_f64, String::new());
        for (id, _, _, os_e, os_n) in &published {
            let (lon, lat) = bng_to_wgs84(*os_e, *os_n).unwrap_or_else(|err| panic!("{id}: {err}"));
            let (e, n) = wgs84_to_bng(lon, lat).unwrap_or_else(|err| panic!("{id}: {err}"));
            let (de, dn) = ((e - os_e).abs(), (n - os_n).abs());
            // `+ 1e-9`: both sides are millimetre values held in binary f64.
            assert!(
                de <= ROUND_TRIP_TOLERANCE_M + 1e-9 && dn <= ROUND_TRIP_TOLERANCE_M + 1e-9,
                "{id}: ({os_e:.3}, {os_n:.3}) came back as ({e:.3}, {n:.3})"
            );
            if de.max(dn) >= worst.0 {
                worst = (de.max(dn), id.clone());
            }
            checked += 1;
        }
        eprintln!(
            "round trip: {checked} OS points checked, worst per-axis error {:.4} m ({})",
            worst.0, worst.1
        );
        assert_eq!(checked, published.len());
    }

    #[test]
    fn inverse_recovers_published_latitude_and_longitude() {
        // OS's eastings/northings are rounded to the millimetre, so the best
        // possible inverse is ~1e-8 degrees from OS's latitude/longitude.
        let published = published_points();
        let mut worst = (0.0_f64, String::new());
        let mut worst_unrefined = (0.0_f64, String::new());
        for (id, os_lon, os_lat, e, n) in &published {
            let (lon, lat) = bng_to_wgs84(*e, *n).unwrap();
            let err = (lon - os_lon).abs().max((lat - os_lat).abs());
            assert!(
                err < 2e-8,
                "{id}: ({lon}, {lat}) vs OS ({os_lon}, {os_lat})"
            );
            if err > worst.0 {
                worst = (err, id.clone());
            }
            let (raw_lon, raw_lat) = lonlat_bng::convert_osgb36_to_ll(*e, *n).unwrap();
            let raw = (raw_lon - os_lon).abs().max((raw_lat - os_lat).abs());
            if raw > worst_unrefined.0 {
                worst_unrefined = (raw, id.clone());
            }
        }
        eprintln!(
            "inverse vs OS lat/lon: worst {:.2e} deg ({}); lonlat_bng alone {:.2e} deg ({})",
            worst.0, worst.1, worst_unrefined.0, worst_unrefined.1
        );
    }

    #[test]
    fn round_trip_wgs84_bng_wgs84_within_1e8_degrees() {
        let published = published_points();
        for (id, lon, lat, _, _) in &published {
            let (e, n) = wgs84_to_bng(*lon, *lat).unwrap();
            let (lon2, lat2) = bng_to_wgs84(e, n).unwrap();
            // The forward result is rounded to the millimetre: ≤ 0.5 mm per
            // axis is ≤ 4.5e-9 degrees of latitude, ≤ 9e-9 of longitude at 60°N.
            assert!(
                (lon2 - lon).abs() < 1e-8 && (lat2 - lat).abs() < 1e-8,
                "{id}: ({lon}, {lat}) came back as ({lon2}, {lat2})"
            );
        }
    }

    #[test]
    fn forward_equals_lonlat_bng_convert_osgb36_wherever_that_is_on_the_grid() {
        // `wgs84_to_bng` relies on `grs80_national_grid` being bit-for-bit the
        // crate's private forward projection (also used by the refinement in
        // `bng_to_wgs84`). Compare over the OS points and a lattice over GB.
        let mut samples: Vec<(f64, f64)> = published_points()
            .iter()
            .map(|(_, lon, lat, _, _)| (*lon, *lat))
            .collect();
        for i in 0..=40 {
            for j in 0..=40 {
                let lon = -8.5 + 10.2 * f64::from(i) / 40.0;
                let lat = 49.95 + 10.85 * f64::from(j) / 40.0;
                samples.push((lon, lat));
            }
        }
        let (mut equal, mut off_grid) = (0, 0);
        for (lon, lat) in samples {
            let Ok(theirs) = lonlat_bng::convert_osgb36(lon, lat) else {
                continue;
            };
            match wgs84_to_bng(lon, lat) {
                Ok(ours) => {
                    assert_eq!(ours, theirs, "({lon}, {lat})");
                    equal += 1;
                }
                Err(_) => {
                    // Only where the crate extrapolated off the grid.
                    let (e, n) = grs80_national_grid(lon.to_radians(), lat.to_radians());
                    assert!(
                        !(0.0..=MAX_EASTING).contains(&e) || !(0.0..=MAX_NORTHING).contains(&n),
                        "({lon}, {lat}) rejected although on the grid at ({e}, {n})"
                    );
                    off_grid += 1;
                }
            }
        }
        eprintln!("forward vs convert_osgb36: {equal} equal, {off_grid} off-grid rejected");
        assert!(equal > 1000, "only {equal} samples compared");
    }

    #[test]
    fn rejects_points_west_of_the_grid_that_lonlat_bng_extrapolates() {
        // In the Atlantic, 66 km west of the grid's edge: the crate returns a
        // negative easting from an extrapolated shift.
        let (lon, lat) = (-8.5, 49.95);
        let (e, _) = lonlat_bng::convert_osgb36(lon, lat).expect("crate behaviour changed?");
        assert!(e < 0.0);
        assert!(matches!(
            wgs84_to_bng(lon, lat),
            Err(CrsError::LonLatOutsideCoverage { .. })
        ));
    }

    #[test]
    fn converts_points_outside_lonlat_bngs_box_but_inside_ostn15() {
        // St Agnes (Isles of Scilly), Bishop Rock lighthouse, Muckle Flugga (Unst).
        for (lon, lat) in [(-6.345, 49.892), (-6.4455, 49.8723), (-0.8856, 60.8556)] {
            assert!(
                lonlat_bng::convert_osgb36(lon, lat).is_err(),
                "crate box changed?"
            );
            let (e, n) = wgs84_to_bng(lon, lat).unwrap();
            let (lon2, lat2) = bng_to_wgs84(e, n).unwrap();
            assert!((lon2 - lon).abs() < 1e-8 && (lat2 - lat).abs() < 1e-8);
        }
    }

    #[test]
    fn rejects_non_finite_and_out_of_coverage_input() {
        assert!(matches!(
            wgs84_to_bng(f64::NAN, 52.0),
            Err(CrsError::NotFinite(..))
        ));
        assert!(matches!(
            wgs84_to_bng(-1.0, f64::INFINITY),
            Err(CrsError::NotFinite(..))
        ));
        assert!(matches!(
            bng_to_wgs84(f64::NAN, 1.0),
            Err(CrsError::NotFinite(..))
        ));
        // Paris, New York, Null Island, south of the grid in the Channel.
        for (lon, lat) in [(2.35, 48.85), (-74.0, 40.7), (0.0, 0.0), (-2.0, 49.5)] {
            assert!(
                matches!(
                    wgs84_to_bng(lon, lat),
                    Err(CrsError::LonLatOutsideCoverage { .. })
                ),
                "({lon}, {lat})"
            );
        }
        for (e, n) in [
            (-500.0, 5000.0),
            (5000.0, -500.0),
            (700_001.0, 5000.0),
            (100_000.0, 1_250_001.0),
        ] {
            assert!(
                matches!(bng_to_wgs84(e, n), Err(CrsError::OutsideCoverage { .. })),
                "({e}, {n})"
            );
        }
        let message = bng_to_wgs84(-1.0, 0.0).unwrap_err().to_string();
        assert!(message.contains("outside the OSTN15 coverage"), "{message}");
    }
}
