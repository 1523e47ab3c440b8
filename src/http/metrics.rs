//! `GET /metrics` in the Prometheus text format (0.0.4), and the request
//! log: every request gets an id (the client's `x-request-id` when it sends
//! a sensible one), returned as `x-request-id` and carried by every log line
//! of the request.
//!
//! Counted here: requests by route (the route pattern, so ids in paths do
//! not make new series), method and status, with a latency histogram per
//! route and method; open and refused connections; imported rows. Read at
//! scrape time: assets in the index and the change-feed lag (seconds since
//! the index last caught up with the database).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tracing::Instrument;

use super::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters and gauges of one server.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String), RouteStats>>,
    open_connections: AtomicI64,
    refused_connections: AtomicU64,
    imported: [AtomicU64; 3],
    draining: AtomicBool,
    next_id: AtomicU64,
}

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Decrements the open-connection gauge when the connection ends.
pub struct OpenConnection<'m>(&'m Metrics);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A connection is being served until the guard drops.
    pub fn connection_opened(&self) -> OpenConnection<'_> {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self)
    }

    /// A connection over the cap was turned away.
    pub fn connection_refused(&self) {
        self.refused_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Connections being served now.
    pub fn open_connections(&self) -> i64 {
        self.open_connections.load(Ordering::Relaxed)
    }

    /// Rows an import inserted, updated and rejected.
    pub fn imported(&self, inserted: usize, updated: usize, rejected: usize) {
        for (c, n) in self.imported.iter().zip([inserted, updated, rejected]) {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// The server is shutting down: `/readyz` answers 503 from now on.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether the server is shutting down.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let stats = match requests.get_mut(&(route.to_string(), method.to_string())) {
            Some(s) => s,
            None => requests
                .entry((route.to_string(), method.to_string()))
                .or_default(),
        };
        *stats.by_status.entry(status).or_default() += 1;
        for (b, le) in stats.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= le {
                *b += 1;
            }
        }
        stats.count += 1;
        stats.sum += seconds;
    }

    /// A fresh request id: process-unique, short, and not guessable across
    /// restarts (a random prefix).
    fn request_id(&self) -> String {
        use std::sync::OnceLock;
        static PREFIX: OnceLock<u32> = OnceLock::new();
        let prefix = PREFIX.get_or_init(rand::random::<u32>);
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{prefix:08x}-{n:x}")
    }

    /// The Prometheus text exposition.
    pub fn render(
        &self,
        index_assets: usize,
        feed_lag_seconds: Option<f64>,
        (kept, budget): (usize, usize),
    ) -> String {
        let mut out = String::with_capacity(4096);
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP streetcell_http_requests_total Requests answered, by route pattern, method and status.\n\
             # TYPE streetcell_http_requests_total counter\n",
        );
        for ((route, method), s) in requests.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "streetcell_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP streetcell_http_request_duration_seconds Time to the response head, by route pattern and method.\n\
             # TYPE streetcell_http_request_duration_seconds histogram\n",
        );
        for ((route, method), s) in requests.iter() {
            let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
            for (n, le) in s.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "streetcell_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "streetcell_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 streetcell_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 streetcell_http_request_duration_seconds_count{{{labels}}} {}",
                s.count, s.sum, s.count
            );
        }
        drop(requests);
        let _ = writeln!(
            out,
            "# HELP streetcell_open_connections HTTP connections being served.\n\
             # TYPE streetcell_open_connections gauge\n\
             streetcell_open_connections {}\n\
             # HELP streetcell_refused_connections_total Connections answered 503 at the connection cap.\n\
             # TYPE streetcell_refused_connections_total counter\n\
             streetcell_refused_connections_total {}\n\
             # HELP streetcell_index_assets Assets in the spatial index.\n\
             # TYPE streetcell_index_assets gauge\n\
             streetcell_index_assets {index_assets}\n\
             # HELP streetcell_feature_cache_bytes GeoJSON features kept encoded between requests.\n\
             # TYPE streetcell_feature_cache_bytes gauge\n\
             streetcell_feature_cache_bytes {kept}\n\
             # HELP streetcell_feature_cache_budget_bytes The most that may be kept (--feature-cache-mb).\n\
             # TYPE streetcell_feature_cache_budget_bytes gauge\n\
             streetcell_feature_cache_budget_bytes {budget}",
            self.open_connections(),
            self.refused_connections.load(Ordering::Relaxed),
        );
        out.push_str(
            "# HELP streetcell_change_feed_lag_seconds Seconds since the index last caught up with the database's change feed.\n\
             # TYPE streetcell_change_feed_lag_seconds gauge\n",
        );
        if let Some(lag) = feed_lag_seconds {
            let _ = writeln!(out, "streetcell_change_feed_lag_seconds {lag}");
        }
        out.push_str(
            "# HELP streetcell_import_rows_total Rows of HTTP imports, by outcome.\n\
             # TYPE streetcell_import_rows_total counter\n",
        );
        for (c, outcome) in self
            .imported
            .iter()
            .zip(["inserted", "updated", "rejected"])
        {
            let _ = writeln!(
                out,
                "streetcell_import_rows_total{{outcome=\"{outcome}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Prometheus metrics (text format 0.0.4). Unauthenticated, like the
/// probes: it names routes and counts, no data.
#[utoipa::path(get, path = "/metrics", tag = "service", security(()),
    responses((status = 200, description = "Prometheus text exposition: requests by route and status with latency histograms, open connections, index size, change-feed lag, imported rows", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let n = state.register.assets().snapshot().len();
    let lag = state.register.since_caught_up().map(|d| d.as_secs_f64());
    let cache = crate::index::FeatureCache::process();
    let body = state.metrics.render(n, lag, (cache.kept(), cache.budget()));
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Middleware: request id, one log line per request, and the counts.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| state.metrics.request_id());
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert("x-request-id", value.clone());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut resp = next.run(req).instrument(span.clone()).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    state.metrics.observe(&route, &method, status, seconds);
    // Failures and slow answers at info, the rest at debug, so a busy
    // server's log is its problems (RUST_LOG=streetcell::access=debug for
    // every request).
    span.in_scope(|| {
        if status >= 400 || seconds >= 1.0 {
            tracing::info!(target: "streetcell::access", status, latency_ms = seconds * 1000.0, "answered");
        } else {
            tracing::debug!(target: "streetcell::access", status, latency_ms = seconds * 1000.0, "answered");
        }
    });
    resp.headers_mut().insert("x-request-id", value);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_by_route_and_status_with_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("/v1/assets/{id}", "GET", 200, 0.003);
        m.observe("/v1/assets/{id}", "GET", 404, 0.2);
        m.imported(3, 1, 2);
        let _c = m.connection_opened();
        let text = m.render(42, Some(0.5), (470, 1 << 20));
        for line in [
            "streetcell_http_requests_total{route=\"/v1/assets/{id}\",method=\"GET\",status=\"200\"} 1",
            "streetcell_http_requests_total{route=\"/v1/assets/{id}\",method=\"GET\",status=\"404\"} 1",
            "streetcell_http_request_duration_seconds_bucket{route=\"/v1/assets/{id}\",method=\"GET\",le=\"0.001\"} 0",
            "streetcell_http_request_duration_seconds_bucket{route=\"/v1/assets/{id}\",method=\"GET\",le=\"0.005\"} 1",
            "streetcell_http_request_duration_seconds_bucket{route=\"/v1/assets/{id}\",method=\"GET\",le=\"0.25\"} 2",
            "streetcell_http_request_duration_seconds_bucket{route=\"/v1/assets/{id}\",method=\"GET\",le=\"+Inf\"} 2",
            "streetcell_http_request_duration_seconds_count{route=\"/v1/assets/{id}\",method=\"GET\"} 2",
            "streetcell_open_connections 1",
            "streetcell_index_assets 42",
            "streetcell_feature_cache_bytes 470",
            "streetcell_feature_cache_budget_bytes 1048576",
            "streetcell_change_feed_lag_seconds 0.5",
            "streetcell_import_rows_total{outcome=\"rejected\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        drop(_c);
        assert!(
            m.render(0, None, (0, 0))
                .contains("streetcell_open_connections 0\n")
        );
    }
}
