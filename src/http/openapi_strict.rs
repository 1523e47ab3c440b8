//! What `/api` says request bodies and parameters accept, beyond what
//! utoipa derives from the types: [`tighten`] runs on the generated
//! document (from `openapi::complete_answers`).
//!
//! - `additionalProperties: false` on the document-only schemas of bodies
//!   whose server types refuse unknown members (`#[serde(deny_unknown_fields)]`
//!   or the fee schedule's own member check): utoipa writes it by itself for
//!   the types that carry the serde attribute.
//! - Enumerations of the closed sets (roles, decisions, application states,
//!   import modes, boundary layers, currencies...), taken from the domain's
//!   own lists, and formats and patterns for dates, money and rates.
//! - The statuses every operation of a kind can answer: 429 (rate limit,
//!   all but the probes), 413 where a body is read, 400 where query
//!   parameters are parsed.
//!
//! `tests/api/openapi_strict.rs` checks the server against each of these.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::domain::access::Role;
use crate::domain::application::ApplicationStatus;
use crate::domain::asset::{AssetKind, PowerSupply};
use crate::domain::fees::CURRENCIES;

/// Money as a request writes it: a decimal string of whole pennies.
pub const MONEY_PATTERN: &str = r"^[0-9]+(\.[0-9]{1,2})?$";
/// A rate or multiplier: a non-negative decimal string.
pub const RATE_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";

/// Schemas written for the document only (the server parses these bodies
/// field by field) whose bodies the server refuses with an unknown member.
const CLOSED_DOCUMENT_SCHEMAS: [&str; 8] = [
    "SearchRequest",
    "AssetInput",
    "AssetInputProperties",
    "AssetPatch",
    "QuoteBody",
    "FeeScheduleInput",
    "FeeApplicationFee",
    "FeeStructuralSurvey",
];

/// Probes and scrapes: never rate-limited (`http::limits::guard`).
const UNTHROTTLED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Value {
    Value::Array(all.iter().map(|&v| Value::String(name(v).into())).collect())
}

/// The application states, as the server writes and filters them.
fn application_states() -> Value {
    names(&ApplicationStatus::ALL, ApplicationStatus::as_str)
}

/// Keywords added to `components.schemas.<schema>.properties.<property>`.
fn property_rules() -> Vec<(&'static str, &'static str, Value)> {
    let date = json!({"format": "date"});
    let kinds = names(&AssetKind::ALL, AssetKind::as_str);
    let powers = names(&PowerSupply::ALL, PowerSupply::as_str);
    vec![
        (
            "NewToken",
            "role",
            json!({"enum": names(&[Role::Admin, Role::Staff, Role::Operator], Role::as_str)}),
        ),
        ("NewToken", "expires_at", json!({"format": "date-time"})),
        ("ApplicationRequest", "start", date.clone()),
        ("ApplicationRequest", "install_by", date.clone()),
        (
            "DecisionRequest",
            "decision",
            json!({"enum": ["approve", "reject", "request_info"]}),
        ),
        ("InstallationRequest", "installed_on", date.clone()),
        ("SiteSearchRequest", "start", date.clone()),
        (
            "SiteSearchRequest",
            "kinds",
            json!({"items": {"enum": kinds}}),
        ),
        (
            "SiteSearchRequest",
            "power_supply",
            json!({"items": {"enum": powers}}),
        ),
        ("QuoteBody", "start", date.clone()),
        (
            "QuoteBody",
            "discount_rate",
            json!({"pattern": RATE_PATTERN}),
        ),
        ("AssetInputProperties", "last_inspected", date.clone()),
        ("AssetProperties", "last_inspected", date.clone()),
        (
            "ApplicationView",
            "status",
            json!({"enum": application_states()}),
        ),
        (
            "AreaProperties",
            "layer",
            json!({"enum": ["ward", "fee_zone", "conservation_area"]}),
        ),
        ("FeeScheduleInput", "currency", json!({"enum": CURRENCIES})),
        ("FeeScheduleInput", "effective_from", date),
        (
            "FeeScheduleInput",
            "annual_rent",
            money_by(&AssetKind::ALL.map(AssetKind::as_str), true),
        ),
        (
            "FeeScheduleInput",
            "power_annual",
            money_by(&PowerSupply::ALL.map(PowerSupply::as_str), false),
        ),
        (
            "FeeScheduleInput",
            "zone_multipliers",
            json!({"additionalProperties": {"type": "string", "pattern": RATE_PATTERN}}),
        ),
    ]
    .into_iter()
    .chain(
        [
            ("FeeScheduleInput", "shared_site_discount"),
            ("FeeScheduleInput", "new_pole_fee"),
            ("FeeScheduleInput", "service_charge_annual"),
            ("FeeApplicationFee", "base"),
            ("FeeApplicationFee", "per_additional_site"),
            ("FeeStructuralSurvey", "fee"),
        ]
        .map(|(s, p)| (s, p, json!({"pattern": MONEY_PATTERN}))),
    )
    .chain(
        [
            ("FeeScheduleInput", "annual_indexation"),
            ("FeeScheduleInput", "subsidy_share"),
        ]
        .map(|(s, p)| (s, p, json!({"pattern": RATE_PATTERN}))),
    )
    .collect()
}

/// An object of money amounts keyed by `keys` (all required or not), no others.
fn money_by(keys: &[&str], required: bool) -> Value {
    let props: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| {
            (
                k.to_string(),
                json!({"type": "string", "pattern": MONEY_PATTERN}),
            )
        })
        .collect();
    let mut v = json!({"properties": props, "additionalProperties": false});
    if required {
        v["required"] = json!(keys);
    }
    v
}

/// Keywords added to the schema of the query parameter `name` of the
/// operations on paths starting with `prefix`.
fn parameter_rules() -> Vec<(&'static str, &'static str, Value)> {
    let layers = json!({"enum": ["ward", "fee_zone", "conservation_area"]});
    vec![
        (
            "/v1/applications",
            "status",
            json!({"enum": application_states()}),
        ),
        ("/v1/authorities/{code}/areas", "layer", layers),
        (
            "/v1/authorities/{code}/imports",
            "kind",
            json!({"enum": names(&AssetKind::ALL, AssetKind::as_str)}),
        ),
        (
            "/v1/authorities/{code}/imports",
            "crs",
            json!({"enum": ["EPSG:4326", "EPSG:27700"]}),
        ),
        (
            "/v1/authorities/{code}/ledger",
            "format",
            json!({"enum": ["json", "csv"]}),
        ),
        (
            "/v1/authorities/{code}/ledger",
            "currency",
            json!({"enum": CURRENCIES}),
        ),
        (
            "/v1/authorities/{code}/subsidy",
            "currency",
            json!({"enum": CURRENCIES}),
        ),
    ]
}

fn merge(target: &mut Value, keywords: &Value) {
    if let (Some(t), Some(k)) = (target.as_object_mut(), keywords.as_object()) {
        for (key, value) in k {
            t.insert(key.clone(), value.clone());
        }
    }
}

/// Adds the closed members, enumerations, formats and statuses above.
pub fn tighten(doc: &mut Value) {
    let response =
        |name: &str| serde_json::json!({"$ref": format!("#/components/responses/{name}")});
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in CLOSED_DOCUMENT_SCHEMAS {
            if let Some(s) = schemas.get_mut(name) {
                s["additionalProperties"] = Value::Bool(false);
            }
        }
        for (schema, property, keywords) in property_rules() {
            if let Some(p) = schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
            {
                merge(p, &keywords);
            }
        }
        // A patch's `properties` are the asset's own fields, each optional
        // and nullable (null clears it); no others.
        if let Some(fields) = schemas
            .get("AssetInputProperties")
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
        {
            let nullable: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(k, v)| {
                    let mut v = v.clone();
                    if v.get("$ref").is_some() {
                        v = json!({"allOf": [v]});
                    }
                    v["nullable"] = Value::Bool(true);
                    (k.clone(), v)
                })
                .collect();
            if let Some(p) = schemas.get_mut("AssetPatch") {
                p["properties"]["properties"] = json!({
                    "type": "object",
                    "description": "The fields to change (`null` clears one)",
                    "properties": nullable,
                    "additionalProperties": false,
                    "nullable": true,
                });
            }
        }
    }
    let rules = parameter_rules();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let mut has_query = false;
            for p in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if p["in"] != "query" {
                    continue;
                }
                has_query = true;
                for (prefix, name, keywords) in &rules {
                    if path == prefix && p["name"] == *name {
                        merge(&mut p["schema"], keywords);
                    }
                }
            }
            let reads_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |code: &str, name: &str| {
                responses.entry(code).or_insert_with(|| response(name));
            };
            if !UNTHROTTLED.contains(&path.as_str()) {
                add("429", "TooManyRequests");
            }
            if reads_body {
                add("413", "PayloadTooLarge");
            }
            if has_query {
                add("400", "BadRequest");
            }
        }
    }
}

/// Body of `PUT /v1/authorities/{code}/fee-schedule`: one version of a
/// council's charges (docs/fees.md). Money is a decimal string of whole
/// pennies (`"270.00"`), never a JSON number; rates are decimal strings.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FeeScheduleInput {
    /// ISO 4217 code.
    #[schema(example = "GBP")]
    currency: String,
    /// First day this version applies.
    #[schema(example = "2027-04-01")]
    effective_from: String,
    application_fee: FeeApplicationFee,
    /// Year-1 rent per site for every asset kind.
    annual_rent: BTreeMap<String, String>,
    /// Rent multiplier per fee zone name (default: none, multiplier 1).
    zone_multipliers: Option<BTreeMap<String, String>>,
    /// Annual charge per power supply (a supply not listed costs nothing).
    power_annual: Option<BTreeMap<String, String>>,
    structural_survey: Option<FeeStructuralSurvey>,
    /// Off a shared site's year-1 charge (default 0).
    shared_site_discount: Option<String>,
    /// Yearly uplift as a fraction, 0 to 1 (default 0).
    annual_indexation: Option<String>,
    /// Share of rent paid into the subsidy fund, 0 to 1 (default 0).
    subsidy_share: Option<String>,
    /// One-off fee per new structure (FCC style).
    new_pole_fee: Option<String>,
    /// Annual service charge per site (Glasgow style).
    service_charge_annual: Option<String>,
    /// Written by `GET`; ignored here.
    authority: Option<String>,
    /// Written by `GET`; ignored here (use `If-Match`).
    version: Option<i64>,
    /// Written by `GET`; ignored here.
    published_at: Option<String>,
}

/// The one-off application fee.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FeeApplicationFee {
    /// Fee for up to `sites_included` sites.
    base: String,
    sites_included: u32,
    /// Fee for each further site.
    per_additional_site: String,
}

/// A one-off survey fee for old structures.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FeeStructuralSurvey {
    fee: String,
    if_older_than_years: u32,
}

/// Body of `PATCH /v1/assets/{id}` (RFC 7396 JSON merge patch on the
/// Feature): `properties` members replace the stored ones (`null` clears
/// one); a `geometry` replaces it. Members of `properties` are those of
/// `AssetInputProperties`; any other member is refused with 422 naming it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetPatch {
    /// `Feature` (optional).
    r#type: Option<String>,
    /// Ignored (the path names the asset).
    id: Option<Value>,
    /// Point, Polygon or MultiPolygon in WGS84.
    geometry: Option<Value>,
    /// The fields to change.
    properties: Option<BTreeMap<String, Value>>,
}

/// A page of any OGC collection's features (`/collections/{collectionId}/items`):
/// each collection's own items path says which features it holds.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct OgcFeaturePage {
    /// `FeatureCollection`.
    r#type: String,
    numberMatched: usize,
    numberReturned: usize,
    /// When the page was written.
    timeStamp: Option<String>,
    features: Vec<OgcFeature>,
    links: Option<Vec<Value>>,
}

/// One feature of an OGC collection.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OgcFeature {
    /// `Feature`.
    r#type: String,
    /// A string (assets, applications) or an integer (boundary polygons).
    id: Value,
    geometry: Value,
    properties: BTreeMap<String, Value>,
}

/// A page of boundary polygons (`wards`, `fee-zones`, `conservation-areas`).
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct AreaFeaturePage {
    /// `FeatureCollection`.
    r#type: String,
    numberMatched: usize,
    numberReturned: usize,
    /// When the page was written.
    timeStamp: Option<String>,
    features: Vec<AreaFeature>,
    links: Option<Vec<Value>>,
}

/// One boundary polygon.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AreaFeature {
    /// `Feature`.
    r#type: String,
    /// The polygon's number.
    id: i64,
    /// Polygon or MultiPolygon.
    geometry: Value,
    properties: AreaProperties,
}

/// What a boundary polygon is.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AreaProperties {
    /// The council's code.
    authority: String,
    layer: String,
    /// The ward's, zone's or area's name.
    name: String,
}
