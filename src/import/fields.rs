//! One source value (a CSV cell or a GeoJSON property) read as a typed field.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::Value;

use crate::domain::asset::SourceAttributes;
use crate::domain::asset::{
    AssetDetails, AssetKind, AssetStatus, PowerSupply, UnknownVariant, parse_date,
};
use crate::domain::reimport::Given;

/// An asset field an import can fill besides ref, kind and geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OwnField {
    HeightM,
    PowerSupply,
    Capacity,
    LoadRatingKg,
    LastInspected,
    InstallYear,
    Status,
    Listed,
    PhotoUrl,
}

impl OwnField {
    pub(super) const ALL: [OwnField; 9] = [
        OwnField::HeightM,
        OwnField::PowerSupply,
        OwnField::Capacity,
        OwnField::LoadRatingKg,
        OwnField::LastInspected,
        OwnField::InstallYear,
        OwnField::Status,
        OwnField::Listed,
        OwnField::PhotoUrl,
    ];

    /// The field's name, as in [`super::FIELD_NAMES`].
    pub(super) fn name(self) -> &'static str {
        super::FIELD_NAMES[self as usize]
    }

    pub(super) fn from_name(name: &str) -> Option<OwnField> {
        OwnField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A raw source value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Raw<'a> {
    /// A CSV cell.
    Text(&'a str),
    /// A GeoJSON property or member.
    Json(&'a Value),
}

impl<'a> Raw<'a> {
    /// The text of a CSV cell or JSON string.
    fn text(self) -> Option<&'a str> {
        match self {
            Raw::Text(s) => Some(s),
            Raw::Json(Value::String(s)) => Some(s),
            Raw::Json(_) => None,
        }
    }

    /// Empty or blank text, or JSON null.
    pub(super) fn is_absent(self) -> bool {
        match self {
            Raw::Json(Value::Null) => true,
            _ => self.text().is_some_and(|s| s.trim().is_empty()),
        }
    }

    /// The value as shown in an error message.
    fn describe(self) -> String {
        let shown = match self {
            Raw::Text(s) => format!("{s:?}"),
            Raw::Json(v) => v.to_string(),
        };
        shorten(shown, 60)
    }
}

/// `s` cut to at most `max` characters, marking the cut.
pub(super) fn shorten(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

/// What kind of JSON value `v` is, for messages.
pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A source value with what it is for and where it came from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Source<'a> {
    /// Our field name (`height_m`, `ref`...).
    pub field: &'a str,
    /// The source column or property name.
    pub column: &'a str,
    /// `column` or `property`.
    pub noun: &'static str,
    pub raw: Raw<'a>,
}

/// Largest integer an f64 holds exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

impl<'a> Source<'a> {
    /// `height_m`, or `height_m (column "COLUMN_HEIGHT")` when mapped.
    fn label(&self) -> String {
        if self.field == self.column {
            self.field.to_string()
        } else {
            format!("{} ({} {:?})", self.field, self.noun, self.column)
        }
    }

    /// The reason for a value of the wrong type.
    fn wrong(&self, expected: &str) -> String {
        format!(
            "{}: expected {expected}, got {}",
            self.label(),
            self.raw.describe()
        )
    }

    /// A number, also written as a string.
    pub(super) fn number(&self) -> Result<Option<f64>, String> {
        if self.raw.is_absent() {
            return Ok(None);
        }
        let n = match self.raw {
            Raw::Json(Value::Number(n)) => n.as_f64(),
            raw => raw.text().and_then(|s| s.trim().parse::<f64>().ok()),
        };
        match n {
            Some(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(self.wrong("a number")),
        }
    }

    /// A whole number (`2`, `"2"`, `2.0`).
    fn whole(&self, expected: &str) -> Result<Option<i64>, String> {
        match self.number() {
            Ok(Some(n)) if n.fract() == 0.0 && n.abs() <= MAX_EXACT => Ok(Some(n as i64)),
            Ok(None) => Ok(None),
            _ => Err(self.wrong(expected)),
        }
    }

    /// Trimmed text; only strings in JSON.
    pub(super) fn text(&self) -> Result<Option<&'a str>, String> {
        if self.raw.is_absent() {
            return Ok(None);
        }
        match self.raw.text() {
            Some(s) => Ok(Some(s.trim())),
            None => Err(self.wrong("a string")),
        }
    }

    /// An identifier (a ref or a name): trimmed text, or a JSON number.
    pub(super) fn ident(&self) -> Result<Option<String>, String> {
        match self.raw {
            Raw::Json(Value::Number(n)) => Ok(Some(match n.as_f64() {
                Some(f)
                    if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() <= MAX_EXACT =>
                {
                    (f as i64).to_string()
                }
                _ => n.to_string(),
            })),
            _ => self.text().map(|s| s.map(str::to_string)),
        }
    }

    /// true/false, yes/no, y/n, 1/0 (any case), or a JSON boolean.
    pub(super) fn boolean(&self) -> Result<Option<bool>, String> {
        if self.raw.is_absent() {
            return Ok(None);
        }
        let b = match self.raw {
            Raw::Json(Value::Bool(b)) => Some(*b),
            Raw::Json(Value::Number(n)) => match n.as_f64() {
                Some(1.0) => Some(true),
                Some(0.0) => Some(false),
                _ => None,
            },
            raw => match raw.text().map(|s| s.trim().to_ascii_lowercase()).as_deref() {
                Some("true" | "yes" | "y" | "1") => Some(true),
                Some("false" | "no" | "n" | "0") => Some(false),
                _ => None,
            },
        };
        b.map(Some)
            .ok_or_else(|| self.wrong("true/false, yes/no, y/n or 1/0"))
    }

    /// A `YYYY-MM-DD` date, optionally followed by `T` or a space and a time.
    pub(super) fn date(&self) -> Result<Option<time::Date>, String> {
        let expected = "a YYYY-MM-DD date";
        let Some(s) = self.text().map_err(|_| self.wrong(expected))? else {
            return Ok(None);
        };
        let day = match s.as_bytes().get(10) {
            Some(b'T' | b't' | b' ') => &s[..10],
            _ => s,
        };
        parse_date(day).map(Some).map_err(|_| self.wrong(expected))
    }

    /// A variant of an enumeration, by name (any case; `-` or space read as `_`).
    pub(super) fn variant<T>(&self) -> Result<Option<T>, String>
    where
        T: FromStr<Err = UnknownVariant>,
    {
        if self.raw.is_absent() {
            return Ok(None);
        }
        let Some(s) = self.raw.text() else {
            // Parse nothing, only to learn the expected names.
            let e = T::from_str("")
                .err()
                .map(|e| e.expected)
                .unwrap_or_default();
            return Err(self.wrong(&format!("one of {e}")));
        };
        let s = s.trim();
        T::from_str(&s.replace([' ', '-'], "_"))
            .map(Some)
            .map_err(|e| {
                let mapped = if self.field == self.column {
                    String::new()
                } else {
                    format!(" ({} {:?})", self.noun, self.column)
                };
                format!(
                    "unknown {} {s:?}{mapped}; expected one of {}",
                    e.what, e.expected
                )
            })
    }
}

/// The asset's own fields, read from their sources, defaults applied.
pub(super) struct OwnValues {
    height_m: Option<f64>,
    power_supply: PowerSupply,
    capacity: u32,
    load_rating_kg: Option<f64>,
    last_inspected: Option<time::Date>,
    install_year: Option<i32>,
    status: AssetStatus,
    listed: bool,
    photo_url: Option<String>,
    /// The fields the row gave a value for.
    given: Given,
}

impl OwnValues {
    /// Reads every field present through `get`, which gives the source of
    /// a field if the row has one.
    pub(super) fn read<'a>(
        mut get: impl FnMut(OwnField) -> Option<Source<'a>>,
    ) -> Result<OwnValues, String> {
        let mut given = Given::NONE;
        let mut get = |f: OwnField| {
            let s = get(f);
            if s.is_some_and(|s| !s.raw.is_absent()) {
                given.set(f as usize);
            }
            s
        };
        let height_m = get(OwnField::HeightM)
            .map(|s| s.number())
            .transpose()?
            .flatten();
        let power_supply = get(OwnField::PowerSupply)
            .map(|s| s.variant())
            .transpose()?
            .flatten()
            .unwrap_or(PowerSupply::None);
        let capacity = match get(OwnField::Capacity) {
            Some(s) => match s.whole("a whole number of 1 or more")? {
                Some(n) => u32::try_from(n).map_err(|_| s.wrong("a whole number of 1 or more"))?,
                None => 1,
            },
            None => 1,
        };
        let load_rating_kg = get(OwnField::LoadRatingKg)
            .map(|s| s.number())
            .transpose()?
            .flatten();
        let last_inspected = get(OwnField::LastInspected)
            .map(|s| s.date())
            .transpose()?
            .flatten();
        let install_year = match get(OwnField::InstallYear) {
            Some(s) => match s.whole("a year")? {
                Some(n) => Some(i32::try_from(n).map_err(|_| s.wrong("a year"))?),
                None => None,
            },
            None => None,
        };
        let status = get(OwnField::Status)
            .map(|s| s.variant())
            .transpose()?
            .flatten()
            .unwrap_or(AssetStatus::Available);
        let listed = get(OwnField::Listed)
            .map(|s| s.boolean())
            .transpose()?
            .flatten()
            .unwrap_or(false);
        let photo_url = get(OwnField::PhotoUrl)
            .map(|s| s.text())
            .transpose()?
            .flatten()
            .map(str::to_string);
        Ok(OwnValues {
            height_m,
            power_supply,
            capacity,
            load_rating_kg,
            last_inspected,
            install_year,
            status,
            listed,
            photo_url,
            given,
        })
    }

    /// Assembles and validates the asset.
    pub(super) fn finish(
        self,
        asset_ref: String,
        kind: AssetKind,
        geometry: geo::Geometry<f64>,
        source_attributes: BTreeMap<String, Value>,
    ) -> Result<(AssetDetails, Given), String> {
        let details = AssetDetails {
            asset_ref,
            kind,
            geometry,
            height_m: self.height_m,
            power_supply: self.power_supply,
            capacity: self.capacity,
            load_rating_kg: self.load_rating_kg,
            last_inspected: self.last_inspected,
            install_year: self.install_year,
            status: self.status,
            listed: self.listed,
            photo_url: self.photo_url.map(String::into_boxed_str),
            source_attributes: SourceAttributes::from_map(&source_attributes),
        };
        details.validate().map_err(|e| e.to_string())?;
        Ok((details, self.given))
    }
}
