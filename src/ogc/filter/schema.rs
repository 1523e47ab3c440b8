//! Queryables: the fields of each collection a filter may name, with their types.

use super::*;

/// The JSON Schema type of a queryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Text.
    String,
    /// A decimal number.
    Number,
    /// A whole number (compared as a number).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A calendar date, `YYYY-MM-DD` or `DATE('YYYY-MM-DD')` in a filter.
    Date,
}

/// A property's value, read from a feature without copying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    /// Absent.
    Null,
    /// Text.
    Str(&'a str),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A date.
    Date(time::Date),
}

/// One property a filter may name, as the queryables publish it.
pub struct Queryable<T> {
    /// Name in filters and in the feature's `properties`.
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// Its type.
    pub ty: Type,
    /// The closed list of values, when there is one.
    pub values: Option<fn() -> Vec<&'static str>>,
    /// Reads it from a feature.
    pub get: fn(&T) -> Val<'_>,
}

/// A feature's geometry as the spatial test sees it.
#[derive(Debug, Clone, Copy)]
pub enum Geom<'a> {
    /// Any geometry (assets).
    Any(&'a Geometry<f64>),
    /// A multipolygon (boundary areas).
    Multi(&'a geo::MultiPolygon<f64>),
}

/// What the filters of one collection may name: its queryables and the
/// geometry property (always `geometry`).
pub struct Schema<T: 'static> {
    /// The non-spatial queryables.
    pub properties: &'static [Queryable<T>],
    /// The JSON Schema `format` of its geometry.
    pub geometry_format: &'static str,
    /// Reads the geometry from a feature.
    pub geometry: fn(&T) -> Geom<'_>,
}

/// The name of every collection's geometry queryable.
pub const GEOMETRY: &str = "geometry";

impl<T> Schema<T> {
    /// The queryables as JSON Schema `properties` (geometry included).
    pub fn json_properties(&self) -> Value {
        let mut props = Map::new();
        for q in self.properties {
            let mut p = json!({"title": q.title});
            match q.ty {
                Type::String => p["type"] = json!("string"),
                Type::Number => p["type"] = json!("number"),
                Type::Integer => p["type"] = json!("integer"),
                Type::Boolean => p["type"] = json!("boolean"),
                Type::Date => {
                    p["type"] = json!("string");
                    p["format"] = json!("date");
                }
            }
            if let Some(values) = q.values {
                p["enum"] = json!(values());
            }
            props.insert(q.name.to_string(), p);
        }
        props.insert(
            GEOMETRY.to_string(),
            json!({"title": "Geometry", "format": self.geometry_format,
                   "x-ogc-role": "primary-geometry"}),
        );
        Value::Object(props)
    }

    pub(super) fn find(&self, name: &str) -> Option<&'static Queryable<T>> {
        self.properties.iter().find(|q| q.name == name)
    }

    pub(super) fn names(&self) -> String {
        let mut all: Vec<&str> = self.properties.iter().map(|q| q.name).collect();
        all.push(GEOMETRY);
        all.join(", ")
    }
}

pub(super) fn opt_num(v: Option<f64>) -> Val<'static> {
    v.map_or(Val::Null, Val::Num)
}

pub(super) fn opt_str(v: Option<&str>) -> Val<'_> {
    v.map_or(Val::Null, Val::Str)
}

/// The queryables of the `assets` collection.
pub static ASSETS: Schema<Asset> = Schema {
    properties: &[
        Queryable {
            name: "authority",
            title: "Owning authority's code",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.authority),
        },
        Queryable {
            name: "ref",
            title: "The council's asset number",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.details.asset_ref),
        },
        Queryable {
            name: "kind",
            title: "Kind of asset",
            ty: Type::String,
            values: Some(|| AssetKind::ALL.map(AssetKind::as_str).to_vec()),
            get: |a| Val::Str(a.details.kind.as_str()),
        },
        Queryable {
            name: "status",
            title: "Availability",
            ty: Type::String,
            values: Some(|| AssetStatus::ALL.map(AssetStatus::as_str).to_vec()),
            get: |a| Val::Str(a.details.status.as_str()),
        },
        Queryable {
            name: "height_m",
            title: "Height above ground (m)",
            ty: Type::Number,
            values: None,
            get: |a| opt_num(a.details.height_m),
        },
        Queryable {
            name: "power_supply",
            title: "Power available at the asset",
            ty: Type::String,
            values: Some(|| PowerSupply::ALL.map(PowerSupply::as_str).to_vec()),
            get: |a| Val::Str(a.details.power_supply.as_str()),
        },
        Queryable {
            name: "capacity",
            title: "Attachments it can take",
            ty: Type::Integer,
            values: None,
            get: |a| Val::Num(f64::from(a.details.capacity)),
        },
        Queryable {
            name: "load_rating_kg",
            title: "Structural load rating for attachments (kg)",
            ty: Type::Number,
            values: None,
            get: |a| opt_num(a.details.load_rating_kg),
        },
        Queryable {
            name: "last_inspected",
            title: "Date of the last structural inspection",
            ty: Type::Date,
            values: None,
            get: |a| a.details.last_inspected.map_or(Val::Null, Val::Date),
        },
        Queryable {
            name: "install_year",
            title: "Year of installation",
            ty: Type::Integer,
            values: None,
            get: |a| opt_num(a.details.install_year.map(f64::from)),
        },
        Queryable {
            name: "photo_url",
            title: "A photograph",
            ty: Type::String,
            values: None,
            get: |a| opt_str(a.details.photo_url.as_deref()),
        },
        Queryable {
            name: "ward",
            title: "Ward the asset stands in",
            ty: Type::String,
            values: None,
            get: |a| opt_str(a.placement.ward.as_deref()),
        },
        Queryable {
            name: "fee_zone",
            title: "Fee zone the asset stands in",
            ty: Type::String,
            values: None,
            get: |a| opt_str(a.placement.fee_zone.as_deref()),
        },
        Queryable {
            name: "in_conservation_area",
            title: "Inside a conservation area",
            ty: Type::Boolean,
            values: None,
            get: |a| Val::Bool(a.placement.in_conservation_area),
        },
        Queryable {
            name: "listed",
            title: "Listed building (or on one)",
            ty: Type::Boolean,
            values: None,
            get: |a| Val::Bool(a.details.listed),
        },
    ],
    geometry_format: "geometry-any",
    geometry: |a| Geom::Any(&a.details.geometry),
};

/// The queryables of the boundary-layer collections.
pub static AREAS: Schema<Area> = Schema {
    properties: &[
        Queryable {
            name: "authority",
            title: "Owning authority's code",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.authority),
        },
        Queryable {
            name: "name",
            title: "Name of the area",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.name),
        },
    ],
    geometry_format: "geometry-multipolygon",
    geometry: |a| Geom::Multi(&a.geometry),
};
