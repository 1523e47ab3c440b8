//! Shared by the import targets: the first input byte chooses the mapping,
//! so one corpus reaches the defaults, BNG coordinates, a fixed kind and
//! renamed columns.

use std::collections::BTreeMap;

use streetcell::domain::asset::AssetKind;
use streetcell::import::{Mapping, ParsedRow, SourceCrs};

/// Bit 0: BNG. Bit 1: every row a lamp post (no kind column). Bit 2: the
/// columns of `tests/data/import/bng.csv` (`asset_id`, `type`, `easting`,
/// `northing`). Bit 3: `height_m` read from `h`. Bit 4: x/y named (CSV only;
/// GeoJSON refuses them, which is a path too).
pub fn mapping(selector: u8) -> Mapping {
    let mut m = Mapping::default();
    if selector & 1 != 0 {
        m.crs = SourceCrs::Bng;
    }
    if selector & 2 != 0 {
        m.kind = Some(AssetKind::LampPost);
    }
    if selector & 4 != 0 {
        m.ref_field = Some("asset_id".into());
        if m.kind.is_none() {
            m.kind_field = Some("type".into());
        }
    }
    if selector & 8 != 0 {
        m.fields = BTreeMap::from([("height_m".to_string(), "h".to_string())]);
    }
    if selector & 16 != 0 {
        m.x_field = Some("easting".into());
        m.y_field = Some("northing".into());
    }
    m
}

/// What an accepted row promises: it passes the domain's own validation
/// (coordinates in range, ref non-empty...), and rows come in file order.
pub fn check_rows(rows: &[ParsedRow]) {
    let mut last = 0;
    for row in rows {
        assert!(
            row.line > last,
            "row lines not increasing: {} after {last}",
            row.line
        );
        last = row.line;
        if let Ok(details) = &row.outcome {
            if let Err(e) = details.validate() {
                panic!(
                    "line {} accepted but invalid: {e:?} in {details:?}",
                    row.line
                );
            }
        }
    }
}
