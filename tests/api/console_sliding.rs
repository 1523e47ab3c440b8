//! Sliding console sessions: a session used near its expiry is moved to
//! eight hours ahead and its cookie sent again with the new lifetime, but
//! never past 24 hours from signing in; signing out still deletes the
//! cookie.

use crate::console_helpers::Visitor;
use crate::helpers::TestApp;
use crate::on_both_databases;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn connect(app: &TestApp) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&app.db_url)
        .await
        .expect("connect to the test database")
}

/// Sets every session's opening and expiry times.
async fn set_times(app: &TestApp, created_at: i64, expires_at: i64) {
    sqlx::query("UPDATE console_sessions SET created_at = $1, expires_at = $2")
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut connect(app).await)
        .await
        .expect("set session times");
}

/// The one session's expiry.
async fn expiry(app: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT expires_at FROM console_sessions")
        .fetch_one(&mut connect(app).await)
        .await
        .expect("one session")
        .get::<i64, _>(0)
}

/// `Max-Age` of a `Set-Cookie` value.
fn max_age(cookie: &str) -> i64 {
    cookie
        .split(';')
        .find_map(|p| p.trim().strip_prefix("Max-Age="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Max-Age in {cookie}"))
}

on_both_databases!(
    sessions_slide_on_use_up_to_a_cap,
    |app: TestApp| async move {
        let staff = app.authority("north").await;
        let v = Visitor::signed_in(&app, &staff).await;

        // Fresh: a page does not move the expiry or send the cookie again.
        let page = v.get("/console/queue").await;
        assert_eq!(page.status, 200);
        assert_eq!(page.cookie("sc_session"), None);

        // Used after seven hours and 59 minutes: eight hours from now again.
        let t = now();
        set_times(&app, t - 7 * 3600 - 59 * 60, t + 60).await;
        let page = v.get("/console/queue").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let cookie = page.cookie("sc_session").expect("the cookie sent again");
        assert!((max_age(&cookie) - 8 * 3600).abs() <= 5, "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let until = expiry(&app).await;
        assert!((until - (t + 8 * 3600)).abs() <= 5, "{until} vs {t}");
        // Ten minutes before the 24-hour cap: it slides to the cap, no further.
        let t = now();
        set_times(&app, t - 24 * 3600 + 600, t + 30).await;
        let page = v.get("/console/queue").await;
        assert_eq!(page.status, 200);
        let cookie = page.cookie("sc_session").expect("the cookie sent again");
        assert!((max_age(&cookie) - 600).abs() <= 5, "{cookie}");
        assert!((expiry(&app).await - (t + 600)).abs() <= 5);
        // Past the cap: signed out.
        set_times(&app, t - 25 * 3600, t - 1).await;
        let page = v.get("/console/queue").await;
        assert_eq!(page.status, 303);
        assert!(page.location().starts_with("/console/sign-in"));

        // Signing out deletes the cookie even when the request would slide it.
        let v = Visitor::signed_in(&app, &staff).await;
        let csrf = v.get("/console/queue").await.csrf();
        let t = now();
        set_times(&app, t - 3600, t + 60).await;
        let out = v.post("/console/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        let cookies: Vec<String> = out
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with("sc_session="))
            .collect();
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        assert_eq!(max_age(&cookies[0]), 0);
    }
);
