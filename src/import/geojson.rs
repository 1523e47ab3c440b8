//! GeoJSON exports: a FeatureCollection (or one Feature) of assets or areas.
//!
//! Read with `serde_json` directly: a feature with a bad geometry or
//! property is refused on its own instead of failing the whole file.

use std::collections::{BTreeMap, HashMap};

use geo::{Coord, Geometry, MultiPolygon, Point, Polygon};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::fields::{OwnValues, Raw, Source, json_kind, shorten};
use super::{
    FirstSeen, ImportError, KindFrom, Mapping, ParsedArea, ParsedRow, Plan, SourceCrs, find_name,
    name_list, position, utf8_text,
};
use crate::domain::asset::{AssetDetails, validate_geometry};
use crate::domain::reimport::Given;

const NOUN: &str = "property";

/// A JSON object.
type Object = Map<String, Value>;

/// Reads a GeoJSON FeatureCollection (or a single Feature) into one
/// [`ParsedRow`] per feature, numbered from 1.
///
/// Geometries may be Point, Polygon or MultiPolygon. Coordinates are in the
/// CRS the file's `crs` member names (GeoJSON 2008; council GIS exports still
/// write it, e.g. `urn:ogc:def:crs:EPSG::27700`), else in [`Mapping::crs`].
/// The ref comes from the ref property, or else from the feature `id`. See
/// the [module docs](super) for how fields are read.
///
/// # Errors
///
/// Whole-file problems only: not UTF-8, not JSON, not a FeatureCollection or
/// Feature, an unsupported `crs`, x/y options given (they are CSV only), or
/// a mapping naming a property no feature has.
pub fn parse_geojson(bytes: &[u8], mapping: &Mapping) -> Result<Vec<ParsedRow>, ImportError> {
    Ok(geojson_rows(bytes, mapping)?.collect())
}

/// [`parse_geojson`] one feature at a time: the file is checked here
/// (syntax, shape, CRS, mapping), each feature parsed into an asset when the
/// iterator reaches it. Until then a feature is a slice of the text, so a
/// large file costs its bytes plus a few words per feature.
pub fn geojson_rows<'t>(
    bytes: &'t [u8],
    mapping: &Mapping,
) -> Result<GeoJsonRows<'t>, ImportError> {
    if mapping.x_field.is_some() || mapping.y_field.is_some() {
        return Err(ImportError::Mapping(
            "x_field and y_field apply to CSV only: GeoJSON positions come from each \
             feature's geometry"
                .to_string(),
        ));
    }
    let plan = Plan::new(mapping)?;
    let doc = load(bytes)?;
    let crs = doc.crs.unwrap_or(mapping.crs);
    let features = &doc.features;

    if !features.is_empty() {
        for (field, wanted) in plan.explicit() {
            if !any_has(features, &wanted.name) {
                return Err(ImportError::UnknownColumn {
                    field: field.to_string(),
                    noun: NOUN,
                    column: wanted.name.clone(),
                    available: property_names(features),
                });
            }
        }
        if let KindFrom::Column(w) = &plan.kind
            && !w.explicit
            && !any_has(features, &w.name)
        {
            return Err(ImportError::MissingColumn {
                field: "kind",
                noun: NOUN,
                column: w.name.clone(),
                available: property_names(features),
                hint: "give one kind for every feature, or name the kind property with kind_field",
            });
        }
    }
    Ok(GeoJsonRows {
        features: doc.features.into_iter().enumerate(),
        plan,
        crs,
        first_seen: FirstSeen::new("feature"),
    })
}

/// The features of a GeoJSON file, read as they are asked for.
pub struct GeoJsonRows<'t> {
    features: std::iter::Enumerate<std::vec::IntoIter<&'t RawValue>>,
    plan: Plan,
    crs: SourceCrs,
    first_seen: FirstSeen,
}

impl Iterator for GeoJsonRows<'_> {
    type Item = ParsedRow;

    fn next(&mut self) -> Option<ParsedRow> {
        let (i, raw) = self.features.next()?;
        let (outcome, given) = match parse_raw(raw).and_then(|f| asset(&f, &self.plan, self.crs)) {
            Ok((details, given)) => (Ok(details), given),
            Err(e) => (Err(e), Given::NONE),
        };
        let mut row = ParsedRow {
            line: i as u64 + 1,
            outcome,
            given,
        };
        self.first_seen.check(&mut row);
        Some(row)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.features.size_hint()
    }
}

/// One feature's text as a JSON value (the whole file was checked as JSON
/// already, so this fails only on numbers `serde_json` cannot hold).
fn parse_raw(raw: &RawValue) -> Result<Value, String> {
    serde_json::from_str(raw.get()).map_err(|e| format!("not JSON: {e}"))
}

/// Reads a boundary layer: one [`ParsedArea`] per feature, numbered from 1,
/// named by the `name_field` property (a string, or a number written as
/// text). A Polygon becomes a one-polygon MultiPolygon; other geometries are
/// refused. Coordinates are WGS84 unless the file's `crs` member names
/// EPSG:27700.
///
/// # Errors
///
/// Whole-file problems only: not UTF-8, not JSON, not a FeatureCollection or
/// Feature, an unsupported `crs`, or no feature having `name_field`.
pub fn parse_areas_geojson(bytes: &[u8], name_field: &str) -> Result<Vec<ParsedArea>, ImportError> {
    if name_field.trim().is_empty() {
        return Err(ImportError::Mapping(
            "the name property must not be empty".to_string(),
        ));
    }
    let doc = load(bytes)?;
    let crs = doc.crs.unwrap_or_default();
    let features = &doc.features;
    if !features.is_empty() && !any_has(features, name_field) {
        return Err(ImportError::UnknownColumn {
            field: "name".to_string(),
            noun: NOUN,
            column: name_field.to_string(),
            available: property_names(features),
        });
    }
    Ok(features
        .iter()
        .enumerate()
        .map(|(i, raw)| ParsedArea {
            line: i as u64 + 1,
            outcome: parse_raw(raw).and_then(|f| area(&f, name_field, crs)),
        })
        .collect())
}

/// A GeoJSON file's features (as slices of its text) and its CRS.
struct Doc<'t> {
    features: Vec<&'t RawValue>,
    crs: Option<SourceCrs>,
}

/// Checks the whole text is JSON and finds the features without building
/// values for them: the top level is read as members of raw text, and only
/// `type` and `crs` are parsed.
fn load(bytes: &[u8]) -> Result<Doc<'_>, ImportError> {
    let text = utf8_text(bytes)?;
    let top: &RawValue =
        serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let expected = "expected a FeatureCollection or a Feature";
    if raw_kind(top) != "an object" {
        return Err(ImportError::NotGeoJson(format!(
            "the top level is {}; {expected}",
            raw_kind(top)
        )));
    }
    let members: HashMap<String, &RawValue> =
        serde_json::from_str(top.get()).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let member = |name: &str| -> Option<Value> {
        members
            .get(name)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    };
    let features = match member("type") {
        Some(Value::String(t)) if t == "FeatureCollection" => match members.get("features") {
            Some(raw) if raw_kind(raw) == "an array" => {
                serde_json::from_str(raw.get()).map_err(|e| ImportError::NotJson(e.to_string()))?
            }
            Some(raw) => {
                return Err(ImportError::NotGeoJson(format!(
                    "\"features\" is {}; a FeatureCollection needs an array of features",
                    raw_kind(raw)
                )));
            }
            None => {
                return Err(ImportError::NotGeoJson(
                    "the FeatureCollection has no \"features\" array".to_string(),
                ));
            }
        },
        Some(Value::String(t)) if t == "Feature" => vec![top],
        Some(Value::String(t)) => {
            return Err(ImportError::NotGeoJson(format!(
                "the top level is a {t:?} object; {expected}"
            )));
        }
        _ => {
            return Err(ImportError::NotGeoJson(format!(
                "the top-level object has no \"type\"; {expected}"
            )));
        }
    };
    let crs = file_crs(member("crs"))?;
    Ok(Doc { features, crs })
}

/// What a raw JSON value is, from its first character (for messages).
fn raw_kind(raw: &RawValue) -> &'static str {
    match raw.get().trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The CRS named by the file's `crs` member, if it has one.
fn file_crs(crs: Option<Value>) -> Result<Option<SourceCrs>, ImportError> {
    let Some(crs) = crs else {
        return Ok(None);
    };
    if crs.is_null() {
        return Ok(None);
    }
    let props = crs.get("properties");
    // {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    if let Some(name) = props.and_then(|p| p.get("name")).and_then(Value::as_str) {
        return name.parse().map(Some);
    }
    // GeoJSON 2008 draft: {"type": "EPSG", "properties": {"code": 27700}}
    match props.and_then(|p| p.get("code")) {
        Some(Value::Number(code)) => format!("EPSG:{code}").parse().map(Some),
        Some(Value::String(code)) => format!("EPSG:{code}").parse().map(Some),
        _ => Err(ImportError::UnsupportedCrs {
            name: crs.to_string(),
        }),
    }
}

/// A feature's properties alone (its geometry is skipped, not built).
fn raw_properties(raw: &RawValue) -> Option<Object> {
    #[derive(serde::Deserialize)]
    struct Only {
        properties: Option<Value>,
    }
    match serde_json::from_str::<Only>(raw.get()) {
        Ok(Only {
            properties: Some(Value::Object(p)),
        }) => Some(p),
        _ => None,
    }
}

/// Whether any feature has the property `name`.
fn any_has(features: &[&RawValue], name: &str) -> bool {
    features
        .iter()
        .filter_map(|f| raw_properties(f))
        .any(|p| find_key(&p, name).is_some())
}

/// Every property name any feature has, for messages.
fn property_names(features: &[&RawValue]) -> String {
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for p in features.iter().filter_map(|f| raw_properties(f)) {
        names.extend(p.into_iter().map(|(k, _)| k));
    }
    name_list(names.iter().map(String::as_str))
}

/// Finds a property by name (exactly, or else ignoring case and spaces).
fn find_key<'m>(props: &'m Object, wanted: &str) -> Option<(&'m str, &'m Value)> {
    if let Some((k, v)) = props.get_key_value(wanted) {
        return Some((k, v));
    }
    let i = find_name(props.keys().map(String::as_str), wanted)?;
    props.iter().nth(i).map(|(k, v)| (k.as_str(), v))
}

/// A feature's object and properties, or why it is not a feature.
fn feature_parts(feature: &Value) -> Result<(&Object, Option<&Object>), String> {
    let Some(obj) = feature.as_object() else {
        return Err(format!("not a Feature: it is {}", json_kind(feature)));
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == "Feature" => {}
        Some(Value::String(t)) => return Err(format!("not a Feature: its type is {t:?}")),
        _ => return Err("not a Feature: it has no \"type\"".to_string()),
    }
    match obj.get("properties") {
        None | Some(Value::Null) => Ok((obj, None)),
        Some(Value::Object(p)) => Ok((obj, Some(p))),
        Some(other) => Err(format!(
            "properties: expected an object, got {}",
            json_kind(other)
        )),
    }
}

/// Reads one feature as an asset.
fn asset(feature: &Value, plan: &Plan, crs: SourceCrs) -> Result<(AssetDetails, Given), String> {
    let (obj, props) = feature_parts(feature)?;
    let mut consumed: Vec<&str> = Vec::with_capacity(12);
    let mut prop = |field: &'static str, name: &str| {
        let (key, value) = find_key(props?, name)?;
        consumed.push(key);
        Some(Source {
            field,
            column: key,
            noun: NOUN,
            raw: Raw::Json(value),
        })
    };

    let ref_prop = prop("ref", &plan.ref_col.name);
    let from_prop = ref_prop.map(|s| s.ident()).transpose()?.flatten();
    let asset_ref = match from_prop {
        Some(r) => r,
        None => {
            let id = obj.get("id").map(|id| Source {
                field: "id",
                column: "id",
                noun: "member",
                raw: Raw::Json(id),
            });
            match id.map(|s| s.ident()).transpose()?.flatten() {
                Some(r) => r,
                None => {
                    let why = match ref_prop {
                        Some(s) => format!("property {:?} is empty", s.column),
                        None => format!("no {:?} property", plan.ref_col.name),
                    };
                    return Err(format!("no ref ({why} and the feature has no id)"));
                }
            }
        }
    };

    let kind = match &plan.kind {
        KindFrom::Fixed(k) => *k,
        KindFrom::Column(w) => {
            let source = prop("kind", &w.name);
            match source.map(|s| s.variant()).transpose()?.flatten() {
                Some(k) => k,
                None => {
                    let why = match source {
                        Some(s) => format!("property {:?} is empty", s.column),
                        None => format!("no {:?} property", w.name),
                    };
                    return Err(format!("no kind ({why})"));
                }
            }
        }
    };

    let geometry = geometry(obj.get("geometry"), crs, Target::Asset)?;
    let own = OwnValues::read(|f| {
        let name = &plan.own.iter().find(|(g, _)| *g == f)?.1.name;
        prop(f.name(), name)
    })?;
    let attributes: BTreeMap<String, Value> = props
        .into_iter()
        .flatten()
        .filter(|(k, _)| !consumed.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    own.finish(asset_ref, kind, geometry, attributes)
}

/// Reads one feature as a named area.
fn area(
    feature: &Value,
    name_field: &str,
    crs: SourceCrs,
) -> Result<(String, MultiPolygon<f64>), String> {
    let (obj, props) = feature_parts(feature)?;
    let source = props
        .and_then(|p| find_key(p, name_field))
        .map(|(key, value)| Source {
            field: "name",
            column: key,
            noun: NOUN,
            raw: Raw::Json(value),
        });
    let Some(name) = source.map(|s| s.ident()).transpose()?.flatten() else {
        return Err(format!(
            "no name (property {name_field:?} is missing or empty)"
        ));
    };
    let shape = geometry(obj.get("geometry"), crs, Target::Area)?;
    validate_geometry(&shape).map_err(|e| e.to_string())?;
    let shape = match shape {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        _ => unreachable!("geometry() gives only polygons for areas"),
    };
    Ok((name, shape))
}

/// What a geometry is for: assets may be points, areas may not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Asset,
    Area,
}

/// Reads a GeoJSON geometry object, converting positions to WGS84.
fn geometry(g: Option<&Value>, crs: SourceCrs, target: Target) -> Result<Geometry<f64>, String> {
    let g = match g {
        None | Some(Value::Null) => return Err("no geometry".to_string()),
        Some(Value::Object(g)) => g,
        Some(other) => {
            return Err(format!(
                "geometry: expected an object, got {}",
                json_kind(other)
            ));
        }
    };
    let Some(t) = g.get("type").and_then(Value::as_str) else {
        return Err("geometry: it has no \"type\"".to_string());
    };
    let supported = matches!(
        (target, t),
        (Target::Asset, "Point") | (_, "Polygon" | "MultiPolygon")
    );
    if !supported {
        let what = match target {
            Target::Asset => "an asset is a Point, Polygon or MultiPolygon",
            Target::Area => "an area is a Polygon or MultiPolygon",
        };
        return Err(format!("unsupported geometry type {t}; {what}"));
    }
    let coordinates = match g.get("coordinates") {
        Some(Value::Array(c)) if c.is_empty() => {
            return Err(format!("no geometry (empty {t})"));
        }
        Some(Value::Array(c)) => c,
        None | Some(Value::Null) => return Err(format!("no geometry ({t} without coordinates)")),
        Some(other) => {
            return Err(format!(
                "geometry: {t} coordinates must be an array, got {}",
                json_kind(other)
            ));
        }
    };
    // Counted before any position is converted: a two-million-vertex
    // boundary is refused in a pass over the array, not after minutes of
    // validation.
    let n = count_positions(t, coordinates);
    if n > crate::domain::geometry::MAX_POSITIONS {
        return Err(format!(
            "geometry: {}",
            crate::domain::geometry::too_many_positions(n)
        ));
    }
    let position = |p: &Value| read_position(p, crs);
    match t {
        "Point" => Ok(Geometry::Point(Point(read_position_array(
            coordinates,
            crs,
        )?))),
        "Polygon" => Ok(Geometry::Polygon(polygon(coordinates, &position)?)),
        _ => {
            let polygons = coordinates
                .iter()
                .map(|p| match p {
                    Value::Array(rings) if !rings.is_empty() => polygon(rings, &position),
                    _ => Err("geometry: each polygon of a MultiPolygon must be a non-empty array of rings"
                        .to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Geometry::MultiPolygon(MultiPolygon(polygons)))
        }
    }
}

/// Positions in a Point, Polygon or MultiPolygon's coordinates (what is not
/// an array of the right depth counts nothing; it is refused later).
fn count_positions(t: &str, coordinates: &[Value]) -> usize {
    let rings = |polygon: &Value| -> usize {
        polygon.as_array().map_or(0, |rings| {
            rings.iter().map(|r| r.as_array().map_or(0, Vec::len)).sum()
        })
    };
    match t {
        "Point" => 1,
        "Polygon" => coordinates
            .iter()
            .map(|r| r.as_array().map_or(0, Vec::len))
            .sum(),
        _ => coordinates.iter().map(rings).sum(),
    }
}

/// Reads rings as written: closure is checked before `geo` would close
/// them silently.
fn polygon(
    rings: &[Value],
    position: &impl Fn(&Value) -> Result<Coord<f64>, String>,
) -> Result<Polygon<f64>, String> {
    let rings = rings
        .iter()
        .map(|ring| match ring {
            Value::Array(ps) => ps.iter().map(position).collect::<Result<Vec<_>, _>>(),
            other => Err(format!(
                "geometry: a polygon ring must be an array of positions, got {}",
                json_kind(other)
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    crate::domain::geometry::polygon(rings).map_err(|e| format!("geometry: {e}"))
}

fn read_position(p: &Value, crs: SourceCrs) -> Result<Coord<f64>, String> {
    match p {
        Value::Array(a) => read_position_array(a, crs),
        other => Err(format!(
            "geometry: a position must be an array of numbers, got {}",
            json_kind(other)
        )),
    }
}

fn read_position_array(a: &[Value], crs: SourceCrs) -> Result<Coord<f64>, String> {
    match (
        a.first().and_then(Value::as_f64),
        a.get(1).and_then(Value::as_f64),
    ) {
        (Some(x), Some(y)) => position(crs, x, y),
        _ => Err(format!(
            "geometry: a position must be [x, y] numbers, got {}",
            shorten(Value::Array(a.to_vec()).to_string(), 60)
        )),
    }
}
