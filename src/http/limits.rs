//! What one request may cost: the body size judged from `Content-Length`
//! before any byte is read, a deadline for the body and for the whole
//! exchange, a rate per token, and a bound on large responses in flight.
//!
//! Connection-level limits (header-read and idle timeouts, stalled writes,
//! the connection cap, graceful shutdown) are in [`super::serve`]; the
//! numbers for both are [`Limits`], set from the command line.

use std::collections::HashMap;
use std::future::Future as _;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ApiError, AppState};

/// The numbers: request and connection limits (README, "Limits").
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time for a client to send a request's head; also how long an idle
    /// keep-alive connection is kept waiting for its next request.
    pub header_read_timeout: Duration,
    /// Time for a whole request body to arrive, from the first byte read.
    pub body_timeout: Duration,
    /// Time for the server to produce a response (body reading included).
    pub request_timeout: Duration,
    /// A response write that makes no progress this long (the client does
    /// not read) closes the connection.
    pub write_stall_timeout: Duration,
    /// Connections served at once; the next is answered 503 and closed.
    pub max_connections: usize,
    /// Large responses (pages over 1,000 features) being built or sent at
    /// once; more wait for a turn, up to `request_timeout`.
    pub max_large_responses: usize,
    /// Requests a second each token (or, without one, each address) may
    /// make on average; 0 turns the rate limit off.
    pub rate_per_second: u32,
    /// Requests a token may make at once above its rate.
    pub rate_burst: u32,
    /// On shutdown, time given to requests in flight to finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(300),
            write_stall_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_large_responses: 64,
            rate_per_second: 10_000,
            rate_burst: 20_000,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Page sizes above this are large responses.
pub const LARGE_PAGE: usize = 1000;

/// The detail of a 408 for a body that did not arrive in time.
pub const BODY_TIMEOUT_DETAIL: &str = "the request body did not arrive in time";

/// Run-time state behind the limits: rate buckets and large-response turns.
pub struct Guards {
    limits: Limits,
    rate: RateLimiter,
    large: Arc<Semaphore>,
}

impl Guards {
    /// Fresh state for `limits`.
    pub fn new(limits: &Limits) -> Guards {
        Guards {
            limits: limits.clone(),
            rate: RateLimiter::new(limits.rate_per_second, limits.rate_burst),
            large: Arc::new(Semaphore::new(limits.max_large_responses.max(1))),
        }
    }
}

/// The `Content-Length` a request announces, if any and well-formed.
pub fn content_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Middleware: 413 for a body announced over `LIMIT` bytes, before reading
/// it, so a client cannot make the server buffer up to the limit only to be
/// told it is too large. (A chunked body is still cut at the limit while it
/// is read.)
pub async fn refuse_announced_over<const LIMIT: usize>(req: Request, next: Next) -> Response {
    match content_length(&req) {
        Some(n) if n > LIMIT as u64 => ApiError::PayloadTooLarge(LIMIT).into_response(),
        _ => next.run(req).await,
    }
}

/// Middleware over every route: the rate limit, the body deadline, a turn
/// for large pages, and the deadline for the whole exchange.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let guards = &state.guards;
    let path = req.uri().path();
    // Probes and scrapes are never throttled.
    let probe = matches!(path, "/healthz" | "/readyz" | "/metrics");
    if !probe && let Err(retry_after) = guards.rate.check(rate_key(&guards.rate, &req)) {
        return ApiError::TooManyRequests {
            retry_after,
            rate: guards.limits.rate_per_second,
            burst: guards.limits.rate_burst,
        }
        .into_response();
    }
    let limits = &guards.limits;
    let deadline = tokio::time::Instant::now() + limits.request_timeout;
    let large = asks_for_large_page(&req);
    let req = req.map(|b| Body::new(DeadlineBody::new(b, limits.body_timeout)));
    let run = async {
        let permit = if large {
            Arc::clone(&guards.large).acquire_owned().await.ok()
        } else {
            None
        };
        let resp = next.run(req).await;
        match permit {
            // The turn is held until the body is sent or dropped.
            Some(p) => resp.map(|b| {
                Body::new(PermitBody {
                    inner: b,
                    _permit: p,
                })
            }),
            None => resp,
        }
    };
    match tokio::time::timeout_at(deadline, run).await {
        Ok(resp) => resp,
        Err(_) => ApiError::RequestTimeout(format!(
            "the server did not complete the request within {} s",
            limits.request_timeout.as_secs_f64()
        ))
        .into_response(),
    }
}

/// Whether the request asks for a page over [`LARGE_PAGE`] features, or a
/// whole-collection download (`/collections/{id}/download/...`).
fn asks_for_large_page(req: &Request) -> bool {
    let path = req.uri().path();
    if path.starts_with("/collections/") && path.contains("/download/") {
        return true;
    }
    req.uri().query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes())
            .any(|(k, v)| k == "limit" && v.trim().parse::<usize>().is_ok_and(|n| n > LARGE_PAGE))
    })
}

/// Who a request counts against: its bearer token (hashed; the token is not
/// kept), else the peer address.
fn rate_key(rate: &RateLimiter, req: &Request) -> u64 {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    match token {
        Some(t) => rate.hasher.hash_one((0u8, t)),
        None => {
            let ip = req
                .extensions()
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            rate.hasher.hash_one((1u8, ip))
        }
    }
}

/// Token buckets per caller.
struct RateLimiter {
    rate: f64,
    burst: f64,
    hasher: RandomState,
    buckets: Mutex<HashMap<u64, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Callers remembered before idle ones are forgotten.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            hasher: RandomState::new(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says after how many whole
    /// seconds one will be there.
    fn check(&self, key: u64) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: u64, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&key) {
            // Forget callers whose bucket has refilled: they lose nothing.
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * self.rate;
        b.tokens = (b.tokens + refill).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// The error a body gives when its deadline passes.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(BODY_TIMEOUT_DETAIL)
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether a body error (anywhere in its chain of sources) is a body
/// deadline passing.
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<BodyTimedOut>() || e.to_string().contains(BODY_TIMEOUT_DETAIL) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// A request body that fails with [`BodyTimedOut`] once its deadline passes
/// (the clock starts at the first read, so it does not count time the
/// request waited for a handler).
struct DeadlineBody {
    inner: Body,
    limit: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl DeadlineBody {
    fn new(inner: Body, limit: Duration) -> DeadlineBody {
        DeadlineBody {
            inner,
            limit,
            sleep: None,
        }
    }
}

impl axum::body::HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let limit = self.limit;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A response body holding a large-response turn until it is done.
struct PermitBody {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl axum::body::HttpBody for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let r = RateLimiter::new(2, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(r.check_at(7, t0), Ok(()));
        }
        assert_eq!(r.check_at(7, t0), Err(1));
        // Another caller has its own bucket.
        assert_eq!(r.check_at(8, t0), Ok(()));
        // Half a second at 2/s refills one request.
        assert_eq!(r.check_at(7, t0 + Duration::from_millis(500)), Ok(()));
        assert_eq!(r.check_at(7, t0 + Duration::from_millis(500)), Err(1));
    }

    #[test]
    fn retry_after_counts_whole_seconds_to_the_next_request() {
        let r = RateLimiter::new(1, 1);
        let t0 = Instant::now();
        assert_eq!(r.check_at(1, t0), Ok(()));
        assert_eq!(r.check_at(1, t0), Err(1));
        let r = RateLimiter {
            rate: 0.25,
            ..RateLimiter::new(1, 1)
        };
        assert_eq!(r.check_at(1, t0), Ok(()));
        assert_eq!(r.check_at(1, t0), Err(4));
    }

    #[test]
    fn large_pages_are_told_by_their_limit() {
        let req = |q: &str| Request::builder().uri(q).body(Body::empty()).unwrap();
        assert!(asks_for_large_page(&req("/v1/assets?limit=1001")));
        assert!(!asks_for_large_page(&req("/v1/assets?limit=1000")));
        assert!(!asks_for_large_page(&req("/v1/assets?limit=x")));
        assert!(!asks_for_large_page(&req("/v1/assets")));
        assert!(asks_for_large_page(&req(
            "/collections/assets/download/assets.fgb"
        )));
    }
}
