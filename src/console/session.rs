//! Signing in and out of the console, the session behind every page, and
//! the CSRF check on every form.
//!
//! A pasted token is checked exactly as a bearer token is (`http::auth`),
//! then exchanged for a random session id in an HttpOnly, SameSite=Strict
//! cookie (Secure when the request came over HTTPS, as a proxy in front
//! reports with `X-Forwarded-Proto` or `Forwarded`) that expires with the
//! session. The database keeps only the id's hash, the token's hash and the
//! session's CSRF token; expiry is decided in the query that reads it. Each
//! request resolves the token's hash through the same rule as the API, so a
//! session is worth exactly what its token is worth.
//!
//! Sessions slide: a request on a session whose expiry would move by five
//! minutes or more moves it to eight hours ahead (never past 24 hours from
//! sign-in) and sends the cookie again with the new lifetime
//! ([`renew_cookie`] adds it to the response).
//!
//! CSRF: every POST form carries the session's token in a hidden `csrf`
//! field, checked by [`Posted`] before the handler runs. The sign-in form,
//! which has no session yet, is protected the double-submit way: a random
//! value in a short-lived cookie and in the form must agree.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use std::sync::{Arc, Mutex};

use super::{Chrome, ConsoleError, render};
use crate::domain::access::Principal;
use crate::http::auth::principal_for_token_hash;
use crate::http::{ApiError, AppState};
use crate::store::hash_token;

/// The session cookie.
pub const SESSION_COOKIE: &str = "sc_session";
/// The sign-in form's double-submit cookie.
pub const SIGN_IN_COOKIE: &str = "sc_sign_in";
/// How long a session lasts unused: a working day. Each use moves its
/// expiry this far ahead again (sliding sessions), up to [`SESSION_MAX_SECONDS`].
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// The longest a session lasts however much it is used: then its user
/// signs in again.
pub const SESSION_MAX_SECONDS: i64 = 24 * 3600;
/// A session's expiry is moved (a database write and a fresh cookie) only
/// when it would move by at least this much, so busy pages write rarely.
const RENEW_STEP: i64 = 300;
/// How long a sign-in form stays usable.
const SIGN_IN_SECONDS: i64 = 1800;
/// Largest form body the console reads.
const MAX_FORM: usize = 256 * 1024;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", axum::routing::post(sign_out))
}

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// 256 random bits, URL-safe.
fn random_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Did the request reach us over HTTPS (a TLS-terminating proxy says so)?
fn over_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        });
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("proto=https"));
    forwarded_proto || forwarded
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/console, Secure
/// over HTTPS; `max_age` 0 deletes it.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if over_https(headers) { "; Secure" } else { "" };
    let expires = if max_age > 0 {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(max_age);
        let fmt = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        at.format(&fmt)
            .map(|s| format!("; Expires={s}"))
            .unwrap_or_default()
    } else {
        "; Expires=Thu, 01 Jan 1970 00:00:00 GMT".to_string()
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; Max-Age={max_age}{expires}; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A signed-in user of the console.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who it is, as the API would see its token.
    pub principal: Principal,
    /// The token every form of this session carries.
    pub csrf: String,
    session_hash: String,
}

impl Session {
    /// The page chrome for this user.
    pub fn chrome(&self, current: &str) -> Chrome {
        Chrome::signed_in(&self.principal, &self.csrf, current)
    }
}

/// Where a page that needs a session sends a visitor without one.
fn to_sign_in(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| safe_next(p))
        .unwrap_or("/console");
    let target = format!(
        "/console/sign-in?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let mut r = Redirect::to(&target).into_response();
    if cookie(&parts.headers, SESSION_COOKIE).is_some() {
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&parts.headers, SESSION_COOKIE, "", 0),
        );
    }
    r
}

/// Only pages of the console are followed after sign-in (no open redirect).
fn safe_next(p: &str) -> bool {
    (p == "/console" || p.starts_with("/console/") || p.starts_with("/console?"))
        && !p.contains("//")
        && !p.contains('\\')
}

/// Where the [`Session`] extractor leaves a renewed session cookie for
/// [`renew_cookie`] to send.
#[derive(Clone, Default)]
pub struct Renewal(Arc<Mutex<Option<HeaderValue>>>);

/// Middleware of the console's routes: sends the session cookie again when
/// the request slid the session's expiry (unless the handler set the cookie
/// itself, as signing out does).
pub async fn renew_cookie(mut req: Request, next: axum::middleware::Next) -> Response {
    let renewal = Renewal::default();
    req.extensions_mut().insert(renewal.clone());
    let mut r = next.run(req).await;
    let renewed = renewal.0.lock().ok().and_then(|mut c| c.take());
    if let Some(c) = renewed {
        let prefix = format!("{SESSION_COOKIE}=");
        let already = r
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(prefix.as_bytes()));
        if !already {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    r
}

/// The expiry a session used at `at` slides to, if it moves by at least
/// [`RENEW_STEP`].
fn slid(at: i64, created_at: i64, expires_at: i64) -> Option<i64> {
    let wanted = (at + SESSION_SECONDS).min(created_at + SESSION_MAX_SECONDS);
    (wanted - expires_at >= RENEW_STEP).then_some(wanted)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(to_sign_in(parts));
        };
        let session_hash = hash_token(&id);
        let stored = state
            .register
            .session(&session_hash, now())
            .await
            .map_err(|e| ConsoleError::from(ApiError::from(e)).into_response())?;
        let Some(stored) = stored else {
            return Err(to_sign_in(parts));
        };
        let at = now();
        let (created_at, expires_at) = (stored.created_at, stored.expires_at);
        match principal_for_token_hash(state, stored.token_hash).await {
            Ok(principal) => {
                if let Some(until) = slid(at, created_at, expires_at) {
                    state
                        .register
                        .extend_session(&session_hash, at, until)
                        .await
                        .map_err(|e| ConsoleError::from(ApiError::from(e)).into_response())?;
                    if let Some(r) = parts.extensions.get::<Renewal>()
                        && let Ok(mut slot) = r.0.lock()
                    {
                        *slot = Some(set_cookie(&parts.headers, SESSION_COOKIE, &id, until - at));
                    }
                }
                Ok(Session {
                    principal,
                    csrf: stored.csrf_token,
                    session_hash,
                })
            }
            Err(ApiError::Unauthorized) => Err(to_sign_in(parts)),
            Err(e) => Err(ConsoleError::from(e).into_response()),
        }
    }
}

/// Checks a form's `csrf` field against the session's token (for forms
/// read by hand, such as file uploads; [`Posted`] does it for the rest).
pub fn check_csrf(session: &Session, sent: Option<&str>) -> Result<(), ConsoleError> {
    if sent.is_some_and(|t| same_secret(t.trim(), &session.csrf)) {
        Ok(())
    } else {
        Err(ConsoleError::csrf())
    }
}

/// A form posted by a signed-in user, its CSRF token checked: the only way
/// a console handler receives a form, so none works without its token.
pub struct Posted<T> {
    /// Who posted it.
    pub session: Session,
    /// The form's fields.
    pub form: T,
}

impl<T: serde::de::DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| ConsoleError::bad_form("the form is too large").into_response())?;
        let sent = csrf_field(&bytes);
        if !sent.is_some_and(|t| same_secret(&t, &session.csrf)) {
            return Err(ConsoleError::csrf().into_response());
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::extract::Form(form) = axum::extract::Form::<T>::from_request(req, state)
            .await
            .map_err(|e| ConsoleError::bad_form(&e.body_text()).into_response())?;
        Ok(Posted { session, form })
    }
}

/// The `csrf` field of a URL-encoded body.
fn csrf_field(body: &Bytes) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    nonce: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
}

fn sign_in_form(
    headers: &HeaderMap,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let nonce = random_id();
    let page = SignInPage {
        chrome: Chrome::public("sign-in"),
        nonce: nonce.clone(),
        next: if safe_next(next) {
            next.to_string()
        } else {
            "/console".into()
        },
        error,
    };
    let mut r = (status, render(&page)).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, SIGN_IN_COOKIE, &nonce, SIGN_IN_SECONDS),
    );
    r
}

async fn sign_in_page(
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<SignInQuery>,
) -> Response {
    sign_in_form(
        &headers,
        q.next.as_deref().unwrap_or("/console"),
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct SignInForm {
    token: Option<String>,
    csrf: Option<String>,
    next: Option<String>,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::extract::Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form = match form {
        Ok(axum::extract::Form(f)) => f,
        Err(e) => return ConsoleError::bad_form(&e.body_text()).into_response(),
    };
    let next = form.next.as_deref().unwrap_or("/console");
    let nonce_ok = match (cookie(&headers, SIGN_IN_COOKIE), form.csrf.as_deref()) {
        (Some(c), Some(f)) => same_secret(c, f),
        _ => false,
    };
    if !nonce_ok {
        return ConsoleError::csrf().into_response();
    }
    let token = form.token.as_deref().map(str::trim).unwrap_or("");
    if token.is_empty() {
        return sign_in_form(
            &headers,
            next,
            Some("Paste your token to sign in.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let token_hash = hash_token(token);
    match principal_for_token_hash(&state, token_hash.clone()).await {
        Ok(_) => {}
        Err(ApiError::Unauthorized) => {
            return sign_in_form(
                &headers,
                next,
                Some("That token is not valid. Check you copied all of it.".into()),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return ConsoleError::from(e).into_response(),
    }
    let id = random_id();
    let csrf = random_id();
    let at = now();
    if let Err(e) = state
        .register
        .open_session(
            &hash_token(&id),
            &token_hash,
            &csrf,
            at,
            at + SESSION_SECONDS,
        )
        .await
    {
        return ConsoleError::from(ApiError::from(e)).into_response();
    }
    let target = if safe_next(next) { next } else { "/console" };
    let mut r = Redirect::to(target).into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, &id, SESSION_SECONDS),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&headers, SIGN_IN_COOKIE, "", 0),
    );
    r
}

#[derive(Deserialize)]
struct Empty {}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    posted: Posted<Empty>,
) -> Response {
    if let Err(e) = state
        .register
        .close_session(&posted.session.session_hash)
        .await
    {
        return ConsoleError::from(ApiError::from(e)).into_response();
    }
    let mut r = Redirect::to("/console/sign-in").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", 0),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("sc_session_x=1; sc_session=abc; other=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn secure_only_over_https() {
        let mut h = HeaderMap::new();
        let plain = set_cookie(&h, "a", "b", 60);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(plain.contains("Max-Age=60") && plain.contains("Expires="));
        assert!(!plain.contains("Secure"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            set_cookie(&h, "a", "b", 60)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::FORWARDED,
            HeaderValue::from_static("for=1.2.3.4;proto=https"),
        );
        assert!(
            set_cookie(&h, "a", "b", 60)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn only_console_pages_are_followed_after_sign_in() {
        assert!(safe_next("/console/applications/app_1"));
        assert!(safe_next("/console?x=1"));
        assert!(!safe_next("https://evil.example/console/"));
        assert!(!safe_next("//evil.example/console/"));
        assert!(!safe_next("/console//evil.example"));
        assert!(!safe_next("/v1/assets"));
    }

    #[test]
    fn sessions_slide_in_steps_up_to_the_cap() {
        let t0 = 1_000_000;
        // Just signed in: nothing to move.
        assert_eq!(slid(t0 + 60, t0, t0 + SESSION_SECONDS), None);
        // An hour later: eight hours from now.
        assert_eq!(
            slid(t0 + 3600, t0, t0 + SESSION_SECONDS),
            Some(t0 + 3600 + SESSION_SECONDS)
        );
        // Near the cap: the cap, then no further.
        let late = t0 + SESSION_MAX_SECONDS - 3600;
        assert_eq!(slid(late, t0, late - 60), Some(t0 + SESSION_MAX_SECONDS));
        assert_eq!(slid(late + 10, t0, t0 + SESSION_MAX_SECONDS), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
