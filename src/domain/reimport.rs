//! Re-importing a register: how a row of a file meets the asset already
//! stored under its ref.
//!
//! A council's export may carry fewer columns than the last one (a partial
//! update, or a system that dropped a field), so a re-import must say what
//! a field the file leaves out means:
//!
//! - [`ImportMode::Merge`] (the default): the file updates what it says; a
//!   field a row leaves out keeps its stored value, and source attributes
//!   the row lacks are kept.
//! - [`ImportMode::Replace`]: the file is the council's whole register; each
//!   row is the asset entire, so a field it leaves out is cleared to its
//!   default, and every cleared value is counted so the report can say so.
//!   (Removing the assets the file does not list is the register's part.)
//!
//! "Leaves out" is the importer's notion of absent: no such column or
//! property, an empty cell, a blank string or JSON `null` ([`Given`]).

use std::str::FromStr;

use super::asset::AssetDetails;

/// What a re-import does with fields and assets the file leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ImportMode {
    /// Fields a row leaves out keep their stored values; no asset is removed.
    #[default]
    Merge,
    /// The file is the whole register: fields left out are cleared, assets
    /// left out are removed (or retired).
    Replace,
}

impl ImportMode {
    /// `merge` or `replace`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::Merge => "merge",
            ImportMode::Replace => "replace",
        }
    }
}

impl FromStr for ImportMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "merge" => Ok(ImportMode::Merge),
            "replace" => Ok(ImportMode::Replace),
            _ => Err(format!(
                "unknown import mode {s:?}; expected merge or replace"
            )),
        }
    }
}

/// The asset's own fields an import can fill besides ref, kind and
/// geometry, in a fixed order (the bits of [`Given`]).
pub const FIELDS: [&str; 9] = [
    "height_m",
    "power_supply",
    "capacity",
    "load_rating_kg",
    "last_inspected",
    "install_year",
    "status",
    "listed",
    "photo_url",
];

/// Which of [`FIELDS`] a row gave a value for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Given(u16);

impl Given {
    /// Every field given (a whole Feature, as `PUT` sends).
    pub const ALL: Given = Given((1 << FIELDS.len()) - 1);
    /// No field given.
    pub const NONE: Given = Given(0);

    /// Marks field `i` (an index into [`FIELDS`]) as given.
    pub fn set(&mut self, i: usize) {
        self.0 |= 1 << i;
    }

    /// Whether field `i` was given.
    pub fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// The set with the named fields given (names not in [`FIELDS`] are
    /// ignored).
    pub fn of(names: &[&str]) -> Given {
        let mut g = Given::NONE;
        for (i, f) in FIELDS.iter().enumerate() {
            if names.contains(f) {
                g.set(i);
            }
        }
        g
    }
}

/// The asset to store for `row` when `stored` already holds its ref, and
/// the values the write clears: names from [`FIELDS`], and
/// `source_attributes.KEY` for each source attribute dropped.
pub fn reconcile(
    stored: &AssetDetails,
    mut row: AssetDetails,
    given: Given,
    mode: ImportMode,
) -> (AssetDetails, Vec<String>) {
    let mut cleared = Vec::new();
    // Field i of `row` left out: keep the stored value (merge) or note the
    // stored value lost when it differs from the default the row carries.
    macro_rules! field {
        ($i:expr, $name:ident) => {
            if !given.has($i) {
                match mode {
                    ImportMode::Merge => row.$name = stored.$name.clone(),
                    ImportMode::Replace => {
                        if row.$name != stored.$name {
                            cleared.push(FIELDS[$i].to_string());
                        }
                    }
                }
            }
        };
    }
    field!(0, height_m);
    field!(1, power_supply);
    field!(2, capacity);
    field!(3, load_rating_kg);
    field!(4, last_inspected);
    field!(5, install_year);
    field!(6, status);
    field!(7, listed);
    field!(8, photo_url);
    match mode {
        ImportMode::Merge => {
            if !stored.source_attributes.is_empty() {
                let mut attributes = stored.source_attributes.to_map();
                attributes.append(&mut row.source_attributes.to_map());
                row.source_attributes = attributes.into();
            }
        }
        ImportMode::Replace => {
            let kept = row.source_attributes.to_map();
            for key in stored.source_attributes.to_map().keys() {
                if !kept.contains_key(key) {
                    cleared.push(format!("source_attributes.{key}"));
                }
            }
        }
    }
    (row, cleared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::asset::{AssetKind, AssetStatus, PowerSupply};

    fn stored() -> AssetDetails {
        AssetDetails {
            asset_ref: "LP1".into(),
            kind: AssetKind::LampPost,
            geometry: geo::Geometry::Point(geo::Point::new(-2.3, 53.4)),
            height_m: Some(8.0),
            power_supply: PowerSupply::Continuous,
            capacity: 2,
            load_rating_kg: Some(40.0),
            last_inspected: None,
            install_year: Some(2010),
            status: AssetStatus::Unavailable,
            listed: true,
            photo_url: Some("p.jpg".into()),
            source_attributes: [("STREET", "High St"), ("OWNER", "TBC")].into(),
        }
    }

    /// A row of a file holding only ref, kind, position, height and STREET.
    fn row() -> AssetDetails {
        AssetDetails {
            height_m: Some(9.0),
            power_supply: PowerSupply::None,
            capacity: 1,
            load_rating_kg: None,
            install_year: None,
            status: AssetStatus::Available,
            listed: false,
            photo_url: None,
            source_attributes: [("STREET", "Low St")].into(),
            ..stored()
        }
    }

    #[test]
    fn merge_keeps_what_the_row_leaves_out() {
        let (d, cleared) = reconcile(
            &stored(),
            row(),
            Given::of(&["height_m"]),
            ImportMode::Merge,
        );
        assert!(cleared.is_empty(), "{cleared:?}");
        assert_eq!(
            d,
            AssetDetails {
                height_m: Some(9.0),
                source_attributes: [("STREET", "Low St"), ("OWNER", "TBC")].into(),
                ..stored()
            }
        );
    }

    #[test]
    fn replace_clears_and_names_each_value_lost() {
        let (d, cleared) = reconcile(
            &stored(),
            row(),
            Given::of(&["height_m"]),
            ImportMode::Replace,
        );
        assert_eq!(d, row());
        // last_inspected was empty already: nothing lost there.
        assert_eq!(
            cleared,
            [
                "power_supply",
                "capacity",
                "load_rating_kg",
                "install_year",
                "status",
                "listed",
                "photo_url",
                "source_attributes.OWNER"
            ]
        );
    }

    #[test]
    fn a_given_field_is_written_in_either_mode() {
        for mode in [ImportMode::Merge, ImportMode::Replace] {
            let (d, cleared) = reconcile(&stored(), row(), Given::ALL, mode);
            assert_eq!(d.capacity, 1);
            assert_eq!(d.photo_url, None);
            assert!(
                !cleared.iter().any(|c| !c.starts_with("source_")),
                "{cleared:?}"
            );
        }
    }

    #[test]
    fn modes_parse_by_name() {
        assert_eq!("Replace".parse(), Ok(ImportMode::Replace));
        assert_eq!("merge".parse(), Ok(ImportMode::Merge));
        assert!("upsert".parse::<ImportMode>().is_err());
    }
}
