//! The GeoJSON importers (assets and boundary layers) on arbitrary bytes:
//! they may refuse the file or features, but must not panic; every accepted
//! asset must be valid and every accepted area finite.
#![no_main]

mod common;

use geo::CoordsIter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    if selector & 0x80 != 0 {
        let name = if selector & 1 != 0 { "name" } else { "ref" };
        if let Ok(areas) = streetcell::import::parse_areas_geojson(body, name) {
            for area in areas {
                if let Ok((_, shape)) = area.outcome {
                    for c in shape.coords_iter() {
                        assert!(c.x.is_finite() && c.y.is_finite(), "area coordinate {c:?}");
                    }
                }
            }
        }
        return;
    }
    let mapping = common::mapping(selector);
    if let Ok(rows) = streetcell::import::parse_geojson(body, &mapping) {
        common::check_rows(&rows);
    }
});
