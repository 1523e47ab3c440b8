//! `GET /readyz`: whether this replica should be sent traffic. Ready means
//! the database answers, the index is loaded and has caught up with the
//! database's change feed, and the server is not shutting down. (`/healthz`
//! is liveness: the process answers.)

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::{ApiError, ApiResult, AppState};

/// The index counts as caught up when it last caught up this recently (the
/// server follows the feed every second); older than this, `/readyz`
/// catches up itself before answering.
pub const FRESH: Duration = Duration::from_secs(5);
/// Longest a probe waits for the database or for catching up.
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/readyz", get(readyz))
}

/// The answer of a ready replica.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Assets in the index.
    pub assets: usize,
    /// Seconds since the index last caught up with the change feed.
    pub change_feed_lag_s: f64,
}

/// Readiness: the database answers, the index is loaded and caught up with
/// the change feed, and the server is not draining for shutdown.
#[utoipa::path(get, path = "/readyz", tag = "service", security(()),
    responses((status = 200, description = "Ready for traffic", body = Ready),
        (status = 503, description = "Not ready: the database does not answer, the index is behind, or the server is shutting down", body = Problem, content_type = "application/problem+json")))]
async fn readyz(State(state): State<AppState>) -> ApiResult<axum::Json<Ready>> {
    if state.metrics.draining() {
        return Err(ApiError::Unavailable("the server is shutting down".into()));
    }
    match tokio::time::timeout(PROBE_WAIT, state.register.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            return Err(ApiError::Unavailable("the database does not answer".into()));
        }
        Err(_) => {
            return Err(ApiError::Unavailable(
                "the database did not answer in time".into(),
            ));
        }
    }
    let fresh = state.register.since_caught_up().is_some_and(|d| d <= FRESH);
    if !fresh {
        match tokio::time::timeout(PROBE_WAIT, state.register.catch_up()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: catching up failed");
                return Err(ApiError::Unavailable(
                    "the index cannot follow the database's change feed".into(),
                ));
            }
            Err(_) => {
                return Err(ApiError::Unavailable(
                    "the index is catching up with the database".into(),
                ));
            }
        }
    }
    Ok(axum::Json(Ready {
        status: "ready",
        assets: state.register.assets().snapshot().len(),
        change_feed_lag_s: state
            .register
            .since_caught_up()
            .map_or(0.0, |d| d.as_secs_f64()),
    }))
}
