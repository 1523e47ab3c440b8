//! `GET /api`: the OpenAPI 3.0 document of the whole HTTP API, generated
//! from the handlers' `#[utoipa::path]` annotations.
//!
//! utoipa 4 is used rather than 5+ because it writes OpenAPI 3.0.3, which is
//! what OGC API - Features' `oas30` conformance class and the media type
//! `application/vnd.oai.openapi+json;version=3.0` promise; 5+ writes 3.1.
//! The document is built once, on first request, and served from memory.
//!
//! Request and error types that exist in the code (`InvalidField`,
//! `AssetKind`, the applications' views) derive their schemas themselves;
//! the types below describe what the service writes by hand (GeoJSON
//! straight to bytes) or parses field by field, so they exist for the
//! document only.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use super::AppState;
use super::applications::views::InstallationView;
use crate::domain::asset::{AssetKind, AssetStatus, InvalidField, PowerSupply};

/// Media type of the document, as OGC API - Features asks.
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api", get(api))
        .route("/api.html", get(api_html))
}

/// The whole API description, including the OGC API - Features paths.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::ogc::OgcApiDoc::openapi());
    doc
}

/// The document as served: [`document`] plus each OGC collection's own
/// items path (`ogc::add_collection_paths`, for GDAL's page size).
pub fn document_json() -> Value {
    let mut doc = serde_json::to_value(document()).expect("an OpenAPI document always serialises");
    crate::ogc::add_collection_paths(&mut doc);
    complete_answers(&mut doc);
    doc
}

/// Whether an operation needs a token: its own `security` (or the
/// document's) names a scheme and offers no empty alternative.
pub fn needs_token(doc: &Value, operation: &Value) -> bool {
    let requirements = operation
        .get("security")
        .or_else(|| doc.get("security"))
        .and_then(Value::as_array);
    requirements.is_some_and(|r| {
        !r.is_empty()
            && r.iter()
                .all(|req| req.as_object().is_some_and(|o| !o.is_empty()))
    })
}

/// Media types the `Json` extractor reads: `application/json` and any
/// `application/*+json`.
fn json_media(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Adds the answers the server gives on every operation of a kind, which
/// the handlers' annotations leave implicit: 401 wherever a token is needed
/// (the extractors refuse before the handler runs), and where a body is
/// read, 415 for a body of another type and, for JSON bodies, 400 (not
/// JSON) and 422 (JSON of the wrong shape), as `Json`'s rejections answer.
/// Query parameters `kind`, `status` and `power_supply` of `/v1/assets`
/// get the comma-separated names they accept as a pattern.
fn complete_answers(doc: &mut Value) {
    let response =
        |name: &str| serde_json::json!({"$ref": format!("#/components/responses/{name}")});
    let snapshot = doc.clone();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let secured = needs_token(&snapshot, op);
            let body_media: Vec<String> = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default();
            if path.starts_with("/v1/assets")
                && let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut)
            {
                for p in params.iter_mut() {
                    let names: Vec<String> = match p["name"].as_str() {
                        Some("kind") => AssetKind::ALL
                            .iter()
                            .map(|k| k.as_str().to_string())
                            .collect(),
                        Some("status") => AssetStatus::ALL
                            .iter()
                            .map(|k| k.as_str().to_string())
                            .collect(),
                        Some("power_supply") => PowerSupply::ALL
                            .iter()
                            .map(|k| k.as_str().to_string())
                            .collect(),
                        _ => continue,
                    };
                    let one = format!("({})", names.join("|"));
                    p["schema"]["pattern"] = Value::String(format!("^{one}(,{one})*$"));
                }
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |code: &str, name: &str| {
                responses.entry(code).or_insert_with(|| response(name));
            };
            if secured {
                add("401", "Unauthorized");
            }
            if !body_media.is_empty() {
                add("415", "UnsupportedMediaType");
                if body_media.iter().any(|m| json_media(m)) {
                    add("400", "BadRequest");
                    add("422", "Unprocessable");
                }
            }
        }
    }
    super::openapi_strict::tighten(doc);
}

/// This document.
#[utoipa::path(get, path = "/api", tag = "service", security(()),
    responses((status = 200, description = "OpenAPI 3.0 document", body = Object,
        content_type = "application/vnd.oai.openapi+json;version=3.0")))]
async fn api() -> impl IntoResponse {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    let body = BODY.get_or_init(|| {
        serde_json::to_vec(&document_json()).expect("an OpenAPI document always serialises")
    });
    ([(header::CONTENT_TYPE, OPENAPI_JSON)], body.as_slice())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Streetcell",
        description = "Council street assets (lamp posts, CCTV columns, rooftops...) as 5G \
                       small-cell sites: the asset register, spatial search, fee schedules and \
                       quotes, and OGC API - Features for GIS tools.\n\n\
                       Errors are RFC 9457 `application/problem+json`. Send a bearer token \
                       (`Authorization: Bearer ...`) unless the server runs with `--public-read` \
                       (reads only).",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        super::healthz,
        super::health::readyz,
        super::metrics::metrics,
        super::admin::list_authorities,
        super::admin::create_authority,
        super::admin::create_organisation,
        super::admin::create_token,
        super::admin::list_organisations,
        super::admin::list_tokens,
        super::admin::revoke_token,
        super::assets::list,
        super::assets::nearest,
        super::assets::search,
        super::assets::fetch,
        super::assets::replace,
        super::assets::patch,
        super::assets::remove,
        super::assets::create,
        super::imports::import_assets,
        super::imports::import_areas,
        super::imports::list_areas,
        super::fees::current,
        super::fees::publish,
        super::fees::history,
        super::fees::quote,
        super::applications::submit,
        super::applications::list,
        super::applications::fetch,
        super::applications::review,
        super::applications::decide,
        super::applications::respond,
        super::applications::withdraw,
        super::applications::install,
        super::applications::terminate,
        super::applications::events,
        super::applications::attachments::upload,
        super::applications::attachments::list,
        super::applications::attachments::download,
        super::ledger::ledger,
        super::ledger::subsidy,
        super::ledger::settings,
        super::ledger::set_settings,
        api,
        api_html,
        super::map::page,
        super::site_searches::create,
        super::site_searches::list,
        super::site_searches::fetch,
    ),
    components(responses(BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, UnsupportedMediaType, PayloadTooLarge, TooManyRequests), schemas(
        Problem,
        InvalidField,
        AssetFeatureCollection,
        AssetFeature,
        AssetProperties,
        AssetInput,
        AssetInputProperties,
        AssetKind,
        AssetStatus,
        PowerSupply,
        SearchRequest,
        ImportReport,
        Rejection,
        super::health::Ready,
        Authority,
        AuthorityList,
        super::admin::NewAuthority,
        super::admin::NewOrganisation,
        Organisation,
        super::admin::NewToken,
        Token,
        OrganisationList,
        super::admin::TokenView,
        super::admin::TokenList,
        QuoteBody,
        AreaFeatureCollection,
        super::openapi_strict::FeeScheduleInput,
        super::openapi_strict::FeeApplicationFee,
        super::openapi_strict::FeeStructuralSurvey,
        super::openapi_strict::AssetPatch,
        super::openapi_strict::OgcFeaturePage,
        super::openapi_strict::OgcFeature,
        super::openapi_strict::AreaFeaturePage,
        super::openapi_strict::AreaFeature,
        super::openapi_strict::AreaProperties,
        crate::domain::application::ApplicationRequest,
        crate::domain::application::EquipmentRequest,
        crate::domain::application::ContactRequest,
        crate::domain::application::Equipment,
        crate::domain::application::Contact,
        crate::domain::application::DecisionRequest,
        crate::domain::application::ResponseRequest,
        crate::domain::application::ReasonRequest,
        crate::domain::application::ApplicationSettings,
        crate::domain::application::Event,
        crate::domain::application::Actor,
        crate::domain::installation::InstallationRequest,
        crate::domain::installation::EmergencyContactRequest,
        crate::domain::installation::SiteEquipmentRequest,
        crate::domain::installation::EmergencyContact,
        crate::domain::ledger::Ledger,
        crate::domain::ledger::Revenue,
        crate::domain::ledger::WardLine,
        crate::domain::ledger::KindLine,
        crate::domain::ledger::OperatorLine,
        crate::domain::ledger::SubsidySummary,
        crate::domain::ledger::SubsidyYear,
        crate::domain::ledger::WardSubsidy,
        super::applications::views::ApplicationView,
        super::applications::views::ApplicationList,
        super::applications::views::SiteView,
        super::applications::views::ClockView,
        super::applications::views::AgreementView,
        super::applications::views::AgreementYearView,
        super::applications::views::InstallationView,
        super::applications::views::EventList,
        super::applications::views::AttachmentView,
        super::applications::views::AttachmentList,
        super::applications::views::Link,
        crate::domain::matching::SiteSearchRequest,
        crate::domain::matching::request::NearRequest,
        crate::domain::matching::request::CorridorRequest,
        crate::domain::matching::request::WeightsRequest,
        crate::domain::matching::RejectedBy,
        crate::domain::matching::ScoreParts,
        super::site_searches::SiteSearchResult,
        super::site_searches::SiteSearchSummary,
        super::site_searches::SiteFeature,
        super::site_searches::SiteProperties,
        super::site_searches::SiteSearchList,
        super::site_searches::SiteSearchListItem,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "assets", description = "The asset register: list, nearest, search and edits"),
        (name = "imports", description = "Bulk import of assets and boundary layers"),
        (name = "fees", description = "Published fee schedules and itemised quotes"),
        (name = "applications", description = "Applications for sites: decisions on a clock, agreements, installations, documents and the audit trail"),
        (name = "ledger", description = "Charges due, the connectivity subsidy fund, and each council's application periods"),
        (name = "site-searches", description = "Operators' requests matched to sites: hard constraints, spacing and coverage selection, priced"),
        (name = "admin", description = "Authorities, organisations and tokens"),
        (name = "ogc", description = "OGC API - Features (Parts 1 and 2) for GIS clients"),
        (name = "service", description = "Health and this document"),
    )
)]
struct ApiDoc;

/// Declares the bearer token scheme every operation uses.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `streetcell token create` or `POST /v1/tokens`",
                    ))
                    .build(),
            ),
        );
    }
}

/// An RFC 9457 problem details document: every error the service returns.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    /// Always `about:blank`: the HTTP status says what kind of problem.
    #[schema(example = "about:blank")]
    r#type: String,
    /// The status's reason phrase.
    #[schema(example = "Unprocessable Entity")]
    title: String,
    /// HTTP status code.
    #[schema(example = 422)]
    status: u16,
    /// What was wrong, for a person.
    detail: String,
    /// For validation errors: each offending field.
    errors: Option<Vec<InvalidField>>,
    /// For a refused state change (409): the status the application is in.
    current_status: Option<String>,
    /// For a refused application (409): every asset without free capacity.
    assets: Option<Vec<String>>,
}

/// Assets as GeoJSON (RFC 7946), with paging counts.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct AssetFeatureCollection {
    /// `FeatureCollection`.
    #[schema(example = "FeatureCollection")]
    r#type: String,
    /// How many assets matched the query in all.
    numberMatched: usize,
    /// How many are in this page.
    numberReturned: usize,
    /// The page.
    features: Vec<AssetFeature>,
    /// `next` (and `prev`) page links, when there are more.
    links: Option<Vec<Value>>,
}

/// One asset as a GeoJSON Feature.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetFeature {
    /// `Feature`.
    #[schema(example = "Feature")]
    r#type: String,
    /// Stable asset id (authority and a hash of its ref).
    id: String,
    /// Point, Polygon or MultiPolygon, WGS84 longitude/latitude.
    geometry: Value,
    /// The asset's fields and derived placement.
    properties: AssetProperties,
}

/// Properties of an asset feature.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetProperties {
    /// Owning authority's code.
    #[schema(example = "trafford")]
    authority: String,
    /// The council's own asset number.
    r#ref: String,
    kind: AssetKind,
    status: AssetStatus,
    height_m: Option<f64>,
    power_supply: PowerSupply,
    /// Attachments the asset can take.
    capacity: u32,
    /// Units not held by applications or installations.
    free_capacity: u32,
    /// Another operator's equipment is already on it.
    shared: bool,
    load_rating_kg: Option<f64>,
    /// ISO 8601 date.
    last_inspected: Option<String>,
    install_year: Option<i32>,
    listed: bool,
    photo_url: Option<String>,
    /// Ward containing the asset (derived).
    ward: Option<String>,
    /// Fee zone containing the asset (derived).
    fee_zone: Option<String>,
    /// Inside a conservation area (derived).
    in_conservation_area: bool,
    /// Columns of the source file that are not asset fields, as they came.
    source_attributes: BTreeMap<String, Value>,
    /// Nearest and search only: geodesic metres from the query.
    distance_m: Option<f64>,
    /// Nearest and search only: this year's fee under the schedule in effect, two decimals.
    annual_fee: Option<String>,
    /// Nearest and search only: ISO 4217 currency of `annual_fee`.
    currency: Option<String>,
    /// `GET /v1/assets/{id}` for staff of its council and admin, when
    /// equipment is on it: what, whose, and the 24-hour contact.
    attachments_in_use: Option<Vec<InstallationView>>,
}

/// An asset as a client writes it (derived properties are ignored).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetInput {
    /// `Feature` (optional).
    r#type: Option<String>,
    /// Ignored: the id is derived from the authority and `ref`.
    id: Option<Value>,
    /// Point, Polygon or MultiPolygon in WGS84.
    geometry: Value,
    properties: AssetInputProperties,
}

/// The asset's own fields.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetInputProperties {
    /// The council's asset number; cannot change once written.
    r#ref: String,
    kind: AssetKind,
    height_m: Option<f64>,
    /// Default `none`.
    power_supply: Option<PowerSupply>,
    /// Default 1.
    capacity: Option<u32>,
    load_rating_kg: Option<f64>,
    /// ISO 8601 date.
    last_inspected: Option<String>,
    install_year: Option<i32>,
    /// Default `available`.
    status: Option<AssetStatus>,
    listed: Option<bool>,
    photo_url: Option<String>,
    source_attributes: Option<BTreeMap<String, Value>>,
    /// Derived, as `GET` writes it: ignored.
    authority: Option<Value>,
    /// Derived: ignored.
    ward: Option<Value>,
    /// Derived: ignored.
    fee_zone: Option<Value>,
    /// Derived: ignored.
    in_conservation_area: Option<Value>,
    /// Derived: ignored.
    distance_m: Option<Value>,
    /// Kept by applications: ignored.
    free_capacity: Option<Value>,
    /// Kept by applications: ignored.
    shared: Option<Value>,
    /// Kept by installations: ignored.
    attachments_in_use: Option<Value>,
}

/// Body of `POST /v1/assets/search`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SearchRequest {
    /// Any GeoJSON geometry in WGS84.
    geometry: Value,
    /// Grow the geometry by this many metres (geodesic). Default 0.
    buffer_m: Option<f64>,
    /// Comma-separated kinds.
    kind: Option<String>,
    status: Option<String>,
    power_supply: Option<String>,
    authority: Option<String>,
}

/// What an import did.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportReport {
    inserted: usize,
    updated: usize,
    /// How many rows were refused in all.
    rejected_total: usize,
    /// The first 100 rows refused, in file order.
    rejected: Vec<Rejection>,
    /// Every refused row counted by the kind of reason (the reason up to its
    /// first `:` or `(`; `duplicate ref` for repeated refs).
    rejected_by_reason: std::collections::BTreeMap<String, usize>,
    /// The import mode used.
    #[schema(inline)]
    mode: ImportModeName,
    /// For each field (or `source_attributes.KEY`), how many existing assets
    /// lost a stored value the file left out (replace mode).
    cleared_fields: std::collections::BTreeMap<String, usize>,
    /// Assets the file did not list, deleted (replace mode).
    removed: usize,
    /// Assets the file did not list but live applications or installations
    /// hold: kept and made `unavailable` (replace mode).
    retired: usize,
    /// Assets the file did not list, kept because rows were rejected or
    /// none was accepted (replace mode).
    absent_kept: usize,
}

/// `merge`: fields a row leaves out keep their values; `replace`: the file
/// is the whole register (fields left out are cleared, assets left out removed).
#[derive(ToSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ImportModeName {
    Merge,
    Replace,
}

/// A refused row.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Rejection {
    /// CSV line, or 1-based feature number in GeoJSON.
    line: usize,
    reason: String,
}

/// A council using this deployment.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Authority {
    #[schema(example = "trafford")]
    code: String,
    #[schema(example = "Trafford Council")]
    name: String,
}

/// The authorities.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuthorityList {
    authorities: Vec<Authority>,
}

/// An operator or neutral host.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Organisation {
    slug: String,
    name: String,
}

/// The organisations.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OrganisationList {
    organisations: Vec<Organisation>,
}

/// A new bearer token; shown once, stored only as a hash.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Token {
    token: String,
    /// Its number, for listing and revoking it.
    id: i64,
    /// When it stops working; null: never.
    expires_at: Option<String>,
}

/// Body of `POST /v1/quotes`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct QuoteBody {
    /// Asset ids to price.
    assets: Vec<String>,
    /// Concession length in years.
    term_years: u32,
    /// First day of year 1, ISO 8601.
    start: String,
    /// Optional discount rate (decimal fraction) for a net present value.
    discount_rate: Option<String>,
}

/// Boundary polygons of one layer as GeoJSON.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AreaFeatureCollection {
    /// `FeatureCollection`.
    r#type: String,
    /// Features with `name`, `layer` and `authority` properties.
    features: Vec<Value>,
}

/// 400: the request is malformed (bad JSON, unknown parameter, bad number).
#[derive(ToResponse)]
#[response(
    description = "Malformed request",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct BadRequest(Problem);

/// 401: no token, or not a valid one.
#[derive(ToResponse)]
#[response(
    description = "Missing or invalid token",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct Unauthorized(Problem);

/// 403: the token is valid but may not do this.
#[derive(ToResponse)]
#[response(
    description = "Not allowed for this token",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct Forbidden(Problem);

/// 404: absent, or private to someone else.
#[derive(ToResponse)]
#[response(description = "Not found", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct NotFound(Problem);

/// 422: well-formed but invalid; `errors` names the fields.
#[derive(ToResponse)]
#[response(
    description = "Well-formed but invalid",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct Unprocessable(Problem);

/// 415: a body of a type the operation does not take.
#[derive(ToResponse)]
#[response(
    description = "The body's Content-Type is not one this operation takes",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct UnsupportedMediaType(Problem);

/// 413: the body is larger than this operation takes.
#[derive(ToResponse)]
#[response(
    description = "The body is over the size limit (judged from `Content-Length` before it is read)",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct PayloadTooLarge(Problem);

/// 429: this token (or address) sent more requests than its rate.
#[derive(ToResponse)]
#[response(
    description = "Over the rate limit; `Retry-After` says when to try again",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
#[allow(dead_code)]
pub struct TooManyRequests(Problem);

/// This document as a page a person can read.
///
/// Rendered once on the server from the same document (no script, no CDN).
#[utoipa::path(get, path = "/api.html", tag = "service", security(()),
    responses((status = 200, description = "HTML", content_type = "text/html")))]
async fn api_html() -> impl IntoResponse {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| render_html(&document_json()));
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.as_str(),
    )
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// One section per tag, one entry per operation: method, path, summary,
/// parameters and responses.
fn render_html(doc: &Value) -> String {
    use std::fmt::Write;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut h = String::new();
    let title = text(&doc["info"]["title"]);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t} API</title><style>\
         body{{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         code,.path{{font-family:ui-monospace,monospace}}\
         .op{{border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}}\
         .m{{display:inline-block;min-width:4.2rem;font-weight:700;text-transform:uppercase}}\
         .get{{color:#0a6}}.post{{color:#06c}}.put,.patch{{color:#b60}}.delete{{color:#c22}}\
         table{{border-collapse:collapse;margin:.4rem 0}}td,th{{border-top:1px solid #eee;padding:.2rem .6rem;text-align:left;vertical-align:top}}\
         </style></head><body><h1>{t} API</h1><p>{d}</p>\
         <p>Machine-readable: <a href=\"/api\">/api</a> (OpenAPI {v}).</p>",
        t = esc(&title),
        d = esc(&text(&doc["info"]["description"])).replace("\n\n", "</p><p>"),
        v = esc(&text(&doc["openapi"])),
    );
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = text(&tag["name"]);
        let _ = write!(
            h,
            "<h2 id=\"{n}\">{n}</h2><p>{d}</p>",
            n = esc(&name),
            d = esc(&text(&tag["description"]))
        );
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap_or(&empty) {
                let tagged = op["tags"].as_array().into_iter().flatten();
                if !tagged
                    .into_iter()
                    .any(|t| t == &Value::String(name.clone()))
                {
                    continue;
                }
                let _ = write!(
                    h,
                    "<div class=\"op\"><span class=\"m {m}\">{m}</span> <span class=\"path\">{p}</span>\
                     <p>{s}</p>",
                    m = esc(method),
                    p = esc(path),
                    s = esc(&text(&op["summary"])),
                );
                if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                    h.push_str("<table><tr><th>Parameter</th><th>In</th><th>Description</th></tr>");
                    for p in params {
                        let _ = write!(
                            h,
                            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(&text(&p["name"])),
                            if p["required"] == Value::Bool(true) {
                                " *"
                            } else {
                                ""
                            },
                            esc(&text(&p["in"])),
                            esc(&text(&p["description"])),
                        );
                    }
                    h.push_str("</table>");
                }
                let responses = op["responses"].as_object().unwrap_or(&empty);
                let codes: Vec<&str> = responses.keys().map(String::as_str).collect();
                let _ = write!(h, "<p>Responses: {}</p></div>", esc(&codes.join(", ")));
            }
        }
    }
    h.push_str("</body></html>");
    h
}
