//! Reads council exports (GeoJSON, CSV) into validated assets and boundary polygons.
//!
//! Pure parsing: bytes in, values out. The store does the upserts.
//!
//! - [`parse_csv`] and [`parse_geojson`] give one [`ParsedRow`] per data row or
//!   feature: validated [`AssetDetails`], or the reason the row was refused.
//!   [`csv_rows`] and [`geojson_rows`] give the same rows one at a time, so
//!   an import holds the file's bytes and one batch of assets, not every
//!   parsed row (the GeoJSON reader keeps each feature as a borrowed slice of
//!   the text and parses it when its turn comes).
//! - [`parse_areas_geojson`] reads a boundary layer (wards, fee zones,
//!   conservation areas) into named multipolygons.
//! - [`Mapping`] says where the asset's fields are in the source.
//!
//! A problem with the whole file (not UTF-8, not JSON, no CSV header, a
//! mapping naming a column the file does not have...) is an [`ImportError`].
//! A bad row never stops the good ones: it comes back with its line and reason.
//!
//! # How rows are read
//!
//! - The asset's own fields ([`FIELD_NAMES`]) are taken from columns or
//!   properties of those names, or of the names given in [`Mapping::fields`].
//!   Names match exactly, or else ignoring ASCII case and surrounding spaces.
//! - Every other column or property is kept in `source_attributes` under its
//!   original name: CSV cells as strings (empty cells left out), GeoJSON
//!   values as they came. Columns consumed as fields, and x/y, are not repeated.
//! - Empty cells, blank strings and JSON `null` count as absent. Absent fields
//!   take their defaults: power supply `none`, capacity 1, status
//!   `available`, not listed.
//! - Numbers may be written as strings (`"8.0"`), whole numbers as `2.0`;
//!   `listed` accepts true/false, yes/no, y/n, 1/0; kinds and other
//!   enumerations ignore case and surrounding spaces, and read `-` or a space
//!   as `_` (`"Lamp Post"` is `lamp_post`); `last_inspected` is a
//!   `YYYY-MM-DD` date, optionally followed by a time, which is ignored.
//! - A row whose cells are all empty is skipped (spreadsheets leave them).
//!   A CSV column with an empty header is named `column_N` (N from 1).
//! - Refs are trimmed; a ref seen again later in the same file is refused
//!   ("duplicate ref X (first seen on line N)"): the first row accepted with
//!   that ref is kept.

mod csv;
mod fields;
mod geojson;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use geo::Coord;

use crate::domain::asset::{AssetDetails, AssetKind};
use crate::domain::reimport::Given;

pub use self::csv::{CsvRows, csv_rows, parse_csv};
pub use self::geojson::{GeoJsonRows, geojson_rows, parse_areas_geojson, parse_geojson};

use self::fields::OwnField;

/// The asset fields an import can fill besides ref, kind and geometry: the
/// keys [`Mapping::fields`] accepts, and the default source column names.
pub const FIELD_NAMES: [&str; 9] = crate::domain::reimport::FIELDS;

/// Most columns a CSV file may have: exports run to a few hundred; every
/// column is kept per row as a source attribute, so a file of 100,000
/// columns would make each row a 100,000-entry map.
pub const MAX_COLUMNS: usize = 1_000;

/// CSV columns tried, in order, for x when [`Mapping::x_field`] is not given.
pub const DEFAULT_X_FIELDS: [&str; 5] = ["lon", "longitude", "x", "easting", "GeoX"];

/// CSV columns tried, in order, for y when [`Mapping::y_field`] is not given.
pub const DEFAULT_Y_FIELDS: [&str; 5] = ["lat", "latitude", "y", "northing", "GeoY"];

/// The coordinate reference system of the source coordinates.
///
/// Parses `EPSG:4326`, `EPSG:27700`, the OGC URNs and URLs
/// (`urn:ogc:def:crs:EPSG::27700`, `urn:ogc:def:crs:OGC:1.3:CRS84`,
/// `http://www.opengis.net/def/crs/EPSG/0/27700`), bare codes (`27700`) and
/// the aliases `WGS84`, `CRS84` and `BNG`, ignoring case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SourceCrs {
    /// WGS84 longitude/latitude, longitude first (EPSG:4326 as GeoJSON and
    /// GIS exports write it, or OGC CRS84).
    #[default]
    Wgs84,
    /// British National Grid eastings/northings in metres (EPSG:27700);
    /// converted to WGS84 on import.
    Bng,
}

impl SourceCrs {
    /// The EPSG code: 4326 or 27700.
    pub fn epsg(self) -> u32 {
        match self {
            SourceCrs::Wgs84 => 4326,
            SourceCrs::Bng => 27700,
        }
    }

    /// Recognises a CRS from its authority (`EPSG`, `OGC`, or none) and code.
    fn from_parts(authority: &str, code: &str) -> Option<SourceCrs> {
        let authority = authority.to_ascii_lowercase();
        let code = code.to_ascii_lowercase();
        match (authority.as_str(), code.as_str()) {
            ("epsg" | "", "4326") | ("ogc" | "", "crs84") | ("", "wgs84") => Some(SourceCrs::Wgs84),
            ("epsg" | "", "27700") | ("", "bng") => Some(SourceCrs::Bng),
            _ => None,
        }
    }
}

impl FromStr for SourceCrs {
    type Err = ImportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let lower = name.to_ascii_lowercase();
        let (authority, code) = if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:") {
            // urn:ogc:def:crs:EPSG::27700, urn:ogc:def:crs:EPSG:6.6:27700, urn:ogc:def:crs:OGC:1.3:CRS84
            let mut parts = rest.split(':');
            let authority = parts.next().unwrap_or("");
            (authority, parts.next_back().unwrap_or(""))
        } else if let Some(rest) = lower
            .strip_prefix("http://www.opengis.net/def/crs/")
            .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/"))
        {
            // http://www.opengis.net/def/crs/EPSG/0/27700
            let mut parts = rest.split('/');
            let authority = parts.next().unwrap_or("");
            (authority, parts.next_back().unwrap_or(""))
        } else if let Some((authority, code)) = lower.split_once(':') {
            // EPSG:27700, EPSG::27700, OGC:CRS84
            (authority, code.trim_start_matches(':'))
        } else {
            ("", lower.as_str())
        };
        SourceCrs::from_parts(authority, code).ok_or_else(|| ImportError::UnsupportedCrs {
            name: name.to_string(),
        })
    }
}

impl fmt::Display for SourceCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EPSG:{}", self.epsg())
    }
}

/// Where an asset's fields are in the source (from CLI flags or HTTP query
/// parameters). `Mapping::default()` reads columns named after the fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// One kind for every row; then no kind column is read. Not together
    /// with `kind_field`.
    pub kind: Option<AssetKind>,
    /// Column or property holding each row's kind (default `kind`).
    pub kind_field: Option<String>,
    /// Column or property holding the council's asset ref (default `ref`).
    /// In GeoJSON a feature without it falls back to the feature `id`.
    pub ref_field: Option<String>,
    /// CSV only: the x column (longitude or easting). Default: the first of
    /// [`DEFAULT_X_FIELDS`] in the header.
    pub x_field: Option<String>,
    /// CSV only: the y column (latitude or northing). Default: the first of
    /// [`DEFAULT_Y_FIELDS`] in the header.
    pub y_field: Option<String>,
    /// CRS of the coordinates. A GeoJSON file's own `crs` member overrides it.
    pub crs: SourceCrs,
    /// Our field name (one of [`FIELD_NAMES`]) → source column or property,
    /// e.g. `"height_m" → "COLUMN_HEIGHT"`.
    pub fields: BTreeMap<String, String>,
}

/// One data row or feature of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRow {
    /// CSV: the physical line the row starts on (the header is line 1).
    /// GeoJSON: the 1-based feature number.
    pub line: u64,
    /// The validated asset, or why the row was refused.
    pub outcome: Result<AssetDetails, String>,
    /// Which of [`FIELD_NAMES`] the row gave a value for (a re-import in
    /// merge mode keeps the stored values of the others).
    pub given: Given,
}

/// One feature of a boundary-layer import.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedArea {
    /// The 1-based feature number.
    pub line: u64,
    /// The area's name and shape in WGS84 (a Polygon becomes a one-polygon
    /// MultiPolygon), or why the feature was refused.
    pub outcome: Result<(String, geo::MultiPolygon<f64>), String>,
}

/// A problem with a whole file or with the mapping; nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not UTF-8 text.
    #[error(
        "the file is not UTF-8 text: invalid byte at line {line} (byte offset {offset}); \
         re-export it as UTF-8"
    )]
    NotUtf8 {
        /// Line of the first invalid byte (1-based).
        line: u64,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The text is not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not a GeoJSON FeatureCollection or Feature.
    #[error("not GeoJSON: {0}")]
    NotGeoJson(String),
    /// A CSV file without a header row (an empty file).
    #[error("the CSV file has no header row: the first line must name the columns")]
    NoHeader,
    /// The CSV could not be read at all.
    #[error("unreadable CSV at line {line}: {message}")]
    Csv {
        /// Line where reading failed.
        line: u64,
        /// What the CSV reader reported.
        message: String,
    },
    /// The CSV header has more columns than [`MAX_COLUMNS`].
    #[error("the CSV header has {columns} columns; at most {max} are accepted")]
    TooManyColumns {
        /// Columns in the header.
        columns: usize,
        /// The limit.
        max: usize,
    },
    /// Two CSV columns share a name, so rows cannot be read unambiguously.
    #[error("the CSV header names column {column:?} twice; rename one of them")]
    DuplicateColumn {
        /// The repeated name.
        column: String,
    },
    /// No CSV column for x or y, and none given.
    #[error(
        "no {axis} column: the header has none of {tried} (it has: {available}); \
         name the column with {axis}_field"
    )]
    MissingCoordinateColumn {
        /// `x` or `y`.
        axis: &'static str,
        /// The default names tried.
        tried: String,
        /// The header's columns.
        available: String,
    },
    /// The file has no column for a required field under its default name.
    #[error("no {field} {noun}: the file has no {noun} {column:?} (it has: {available}); {hint}")]
    MissingColumn {
        /// The field (`ref` or `kind`).
        field: &'static str,
        /// `column` (CSV) or `property` (GeoJSON).
        noun: &'static str,
        /// The name looked for.
        column: String,
        /// The columns or properties the file has.
        available: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The mapping names a column or property the file does not have.
    #[error(
        "the mapping takes {field} from {noun} {column:?}, but the file has no such {noun} \
         (it has: {available})"
    )]
    UnknownColumn {
        /// The field being mapped (`ref`, `kind`, `x`, `height_m`, area `name`...).
        field: String,
        /// `column` (CSV) or `property` (GeoJSON).
        noun: &'static str,
        /// The name given in the mapping.
        column: String,
        /// The columns or properties the file has.
        available: String,
    },
    /// The mapping itself is inconsistent or names an unknown field.
    #[error("invalid mapping: {0}")]
    Mapping(String),
    /// A CRS other than WGS84 or British National Grid.
    #[error(
        "unsupported CRS {name:?}: expected EPSG:4326 (WGS84 longitude/latitude) \
         or EPSG:27700 (British National Grid)"
    )]
    UnsupportedCrs {
        /// The CRS as named.
        name: String,
    },
}

/// Checks the bytes are UTF-8 and drops a leading byte-order mark.
fn utf8_text(bytes: &[u8]) -> Result<&str, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        ImportError::NotUtf8 { line, offset }
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// A source name the mapping asks for, and whether it was asked for
/// explicitly (then its absence is an error) or is a default.
#[derive(Debug, Clone)]
struct Wanted {
    name: String,
    explicit: bool,
}

impl Wanted {
    fn new(given: Option<&String>, default: &str, option: &str) -> Result<Wanted, ImportError> {
        match given {
            Some(name) if name.trim().is_empty() => {
                Err(ImportError::Mapping(format!("{option} must not be empty")))
            }
            Some(name) => Ok(Wanted {
                name: name.trim().to_string(),
                explicit: true,
            }),
            None => Ok(Wanted {
                name: default.to_string(),
                explicit: false,
            }),
        }
    }
}

/// Where each row's kind comes from.
#[derive(Debug, Clone)]
enum KindFrom {
    Fixed(AssetKind),
    Column(Wanted),
}

/// A [`Mapping`] checked and resolved to source names.
#[derive(Debug, Clone)]
struct Plan {
    kind: KindFrom,
    ref_col: Wanted,
    own: Vec<(OwnField, Wanted)>,
}

impl Plan {
    fn new(mapping: &Mapping) -> Result<Plan, ImportError> {
        if let Some(unknown) = mapping
            .fields
            .keys()
            .find(|k| OwnField::from_name(k).is_none())
        {
            let hint = match unknown.as_str() {
                "ref" => "; name the ref column with ref_field",
                "kind" => "; name the kind column with kind_field",
                _ => "",
            };
            return Err(ImportError::Mapping(format!(
                "unknown field {unknown:?} in fields: expected one of {}{hint}",
                FIELD_NAMES.join(", ")
            )));
        }
        let kind = match (mapping.kind, &mapping.kind_field) {
            (Some(_), Some(_)) => {
                return Err(ImportError::Mapping(
                    "give either one kind for every row or the kind column (kind_field), not both"
                        .to_string(),
                ));
            }
            (Some(k), None) => KindFrom::Fixed(k),
            (None, given) => KindFrom::Column(Wanted::new(given.as_ref(), "kind", "kind_field")?),
        };
        let ref_col = Wanted::new(mapping.ref_field.as_ref(), "ref", "ref_field")?;
        let own = OwnField::ALL
            .into_iter()
            .map(|f| {
                let option = format!("fields[{:?}]", f.name());
                Wanted::new(mapping.fields.get(f.name()), f.name(), &option).map(|w| (f, w))
            })
            .collect::<Result<_, _>>()?;
        Ok(Plan { kind, ref_col, own })
    }

    /// Every explicitly named source, with the field it is for.
    fn explicit(&self) -> Vec<(&str, &Wanted)> {
        let mut out = Vec::new();
        if self.ref_col.explicit {
            out.push(("ref", &self.ref_col));
        }
        if let KindFrom::Column(w) = &self.kind
            && w.explicit
        {
            out.push(("kind", w));
        }
        out.extend(
            self.own
                .iter()
                .filter(|(_, w)| w.explicit)
                .map(|(f, w)| (f.name(), w)),
        );
        out
    }
}

/// Finds `wanted` among `names`: an exact match, or else the first that
/// matches ignoring ASCII case and surrounding spaces.
fn find_name<'n>(names: impl Iterator<Item = &'n str> + Clone, wanted: &str) -> Option<usize> {
    names.clone().position(|n| n == wanted).or_else(|| {
        let wanted = wanted.trim();
        names
            .into_iter()
            .position(|n| n.trim().eq_ignore_ascii_case(wanted))
    })
}

/// A list of names for an error message, shortened when long.
fn name_list<'n>(names: impl Iterator<Item = &'n str>) -> String {
    const MAX: usize = 40;
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        return "nothing".to_string();
    }
    let mut out = names
        .iter()
        .take(MAX)
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX {
        out.push_str(&format!(" and {} more", names.len() - MAX));
    }
    out
}

/// Reads one source position (x, y in `crs`) as a WGS84 lon/lat coordinate.
fn position(crs: SourceCrs, x: f64, y: f64) -> Result<Coord<f64>, String> {
    match crs {
        SourceCrs::Wgs84 => {
            let bng_hint = || {
                if (1_000.0..=700_000.0).contains(&x) && (1_000.0..=1_300_000.0).contains(&y) {
                    " (these look like British National Grid eastings/northings: \
                     import with crs EPSG:27700)"
                } else {
                    ""
                }
            };
            if !x.is_finite() || !y.is_finite() {
                Err("coordinates out of range: they must be finite numbers".to_string())
            } else if !(-180.0..=180.0).contains(&x) {
                Err(format!(
                    "coordinates out of range: longitude {x} is outside -180..180{}",
                    bng_hint()
                ))
            } else if !(-90.0..=90.0).contains(&y) {
                Err(format!(
                    "coordinates out of range: latitude {y} is outside -90..90{}",
                    bng_hint()
                ))
            } else {
                Ok(Coord { x, y })
            }
        }
        SourceCrs::Bng => {
            let (lon, lat) = crate::crs::bng_to_wgs84(x, y)
                .map_err(|e| format!("coordinates out of range: {e}"))?;
            Ok(Coord { x: lon, y: lat })
        }
    }
}

/// Refuses, row by row in file order, every accepted row whose ref an
/// earlier accepted row already has (so a streaming parser can apply it as
/// it goes: it keeps one entry per distinct ref, not the rows).
struct FirstSeen {
    refs: HashMap<String, u64>,
    noun: &'static str,
}

impl FirstSeen {
    fn new(noun: &'static str) -> Self {
        FirstSeen {
            refs: HashMap::new(),
            noun,
        }
    }

    fn check(&mut self, row: &mut ParsedRow) {
        let Ok(details) = &row.outcome else { return };
        if let Some(first) = self.refs.get(&details.asset_ref) {
            row.outcome = Err(format!(
                "duplicate ref {} (first seen on {} {first})",
                details.asset_ref, self.noun
            ));
        } else {
            self.refs.insert(details.asset_ref.clone(), row.line);
        }
    }
}

#[cfg(test)]
mod tests;
