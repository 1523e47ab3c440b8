//! The HTTP API: one module per resource, each with its own `router()`.
//!
//! [`app`] assembles them into one `Router` over an [`AppState`], so tests
//! drive the whole service without a network listener.

pub mod admin;
pub mod applications;
pub mod assets;
pub mod auth;
pub mod conditional;
pub mod error;
pub mod fees;
pub mod health;
pub mod home;
pub mod imports;
pub mod ledger;
pub mod limits;
pub mod map;
pub mod metrics;
pub mod openapi;
pub mod openapi_strict;
pub mod params;
pub mod serve;
pub mod site_searches;

use std::sync::Arc;
use tower_http::compression::Predicate as _;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, body::Bytes};
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use crate::register::Register;
pub use error::{ApiError, ApiResult};

/// Largest JSON body accepted (imports have their own, larger limit).
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Largest import body accepted.
pub const MAX_IMPORT_BODY: usize = 256 * 1024 * 1024;

/// Settings that shape request handling.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Read asset data without a token.
    pub public_read: bool,
    /// Hash of the bootstrap admin token (`STREETCELL_ADMIN_TOKEN`).
    pub admin_token_hash: Option<String>,
    /// Largest document attached to an application, in bytes.
    pub max_attachment_bytes: usize,
    /// Timeouts, connection cap, rate limit (`limits.rs`, `serve.rs`).
    pub limits: limits::Limits,
    /// Limits on site searches (largest search region).
    pub site_search_limits: crate::domain::matching::Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_read: false,
            admin_token_hash: None,
            max_attachment_bytes: crate::domain::attachment::DEFAULT_MAX_BYTES,
            limits: limits::Limits::default(),
            site_search_limits: crate::domain::matching::Limits::default(),
        }
    }
}

/// Shared state of every handler: one reference count to clone, since
/// every extractor and middleware clones it on every request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
    /// Database and indexes.
    pub register: Arc<Register>,
    /// Request-handling settings.
    pub settings: Arc<Settings>,
    /// Token look-ups recently answered.
    pub tokens: Arc<auth::TokenCache>,
    /// Rate buckets and large-response turns.
    pub guards: Arc<limits::Guards>,
    /// Counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// State over a loaded register.
    pub fn new(register: Arc<Register>, settings: Settings) -> AppState {
        AppState(Arc::new(Shared {
            register,
            guards: Arc::new(limits::Guards::new(&settings.limits)),
            settings: Arc::new(settings),
            tokens: Arc::new(auth::TokenCache::default()),
            metrics: Arc::new(metrics::Metrics::default()),
        }))
    }
}

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(admin::router())
        .merge(assets::router())
        .merge(imports::router())
        .merge(fees::router())
        .merge(applications::router())
        .merge(ledger::router())
        .merge(map::router())
        .merge(health::router())
        .merge(metrics::router())
        .merge(site_searches::router())
        .merge(openapi::router())
        .merge(crate::ogc::router())
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(error::catch_panics))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // gzip or br when the client accepts it (a z12 demo tile: 538 KB raw).
        // Not FlatGeobuf: binary coordinates shrink little, and gzip would
        // cost a bulk download more CPU than encoding it (BENCHMARKS.md).
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(
                tower_http::compression::predicate::DefaultPredicate::new().and(
                    tower_http::compression::predicate::NotForContentType::const_new(
                        crate::ogc::formats::FLATGEOBUF,
                    ),
                ),
            ),
        )
        .layer(TraceLayer::new_for_http())
        .layer(from_fn_with_state(state.clone(), limits::guard))
        .layer(from_fn(error::problem_json_everywhere))
        .layer(from_fn_with_state(state.clone(), metrics::observe))
        .with_state(state)
}

/// Liveness: the process answers and the database does (`/readyz` says
/// whether to send it traffic).
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "Up; the body says how many assets are indexed"),
        (status = 500, description = "The database does not answer", body = Problem)))]
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> ApiResult<Response> {
    state.register.ping().await?;
    let n = state.register.assets().snapshot().len();
    Ok(axum::Json(serde_json::json!({"status": "ok", "assets": n})).into_response())
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// `Json` whose rejections are problem+json.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "expected a JSON body with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await?;
        // Syntax first: a body that is not JSON is a 400 even when a closed
        // type would have stopped at an unknown member before the bad byte.
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
            return Err(ApiError::BadRequest(format!(
                "Failed to parse the request body as JSON: {e}"
            )));
        }
        let axum::Json(v) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Json(v))
    }
}

/// `Query` whose rejections are problem+json.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(v))
    }
}

/// A response body already encoded, with its media type.
pub struct Encoded {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
}

impl Encoded {
    /// A 200 GeoJSON body.
    pub fn geojson(body: Vec<u8>) -> Encoded {
        Encoded {
            status: StatusCode::OK,
            content_type: "application/geo+json",
            body: body.into(),
        }
    }
}

impl IntoResponse for Encoded {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        r
    }
}
