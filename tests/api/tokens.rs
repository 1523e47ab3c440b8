//! Token management: listing (never the secret), revocation that takes
//! effect at once in this process's token cache and, through the register's
//! catch-up, on another replica; expiry; last use written at most once a
//! minute; organisations listed for the admin.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, TestApp, start};
use crate::on_both_databases;

async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    app.json(Method::POST, "/v1/tokens", Some(ADMIN), &body)
        .await
}

async fn delete(app: &TestApp, id: i64, token: &str) -> u16 {
    app.client
        .delete(app.url(&format!("/v1/tokens/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn ids(list: &Value) -> Vec<i64> {
    list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// Issues a staff token for `authority`, returning (secret, id).
async fn staff(app: &TestApp, authority: &str, name: &str) -> (String, i64) {
    let (s, b) = create(
        app,
        json!({"role": "staff", "authority": authority, "name": name}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    (
        b["token"].as_str().unwrap().to_string(),
        b["id"].as_i64().unwrap(),
    )
}

/// Asserts a 401 problem whose detail says `why`.
async fn refused(app: &TestApp, token: &str, why: &str) {
    let resp = app
        .client
        .get(app.url("/v1/tokens"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let body = crate::helpers::problem(resp, 401).await;
    assert!(
        body["detail"].as_str().unwrap().contains(why),
        "expected {why:?}: {body}"
    );
}

on_both_databases!(list_and_revoke, |app: TestApp| async move {
    app.authority("north").await;
    app.authority("south").await;
    let (a, a_id) = staff(&app, "north", "estates a").await;
    let (b, b_id) = staff(&app, "north", "estates b").await;
    let (_, south_id) = staff(&app, "south", "estates s").await;
    let operator = app.organisation("vodafone").await;

    // The admin sees every token; nothing in the list is a secret.
    let (s, all) = app.get("/v1/tokens", Some(ADMIN)).await;
    assert_eq!(s, 200, "{all}");
    for id in [a_id, b_id, south_id] {
        assert!(ids(&all).contains(&id), "{all}");
    }
    let text = all.to_string();
    for secret in [&a, &b, &operator] {
        assert!(!text.contains(secret.as_str()), "a secret is listed");
        assert!(!text.contains(&streetcell::store::hash_token(secret)));
    }
    let first = &all["tokens"][0];
    assert_eq!(first["status"], "active", "{all}");
    assert!(first.get("token").is_none() && first.get("token_hash").is_none());

    // Staff see their own council's tokens only (the helper issued one
    // more when it made the council).
    let (s, north) = app.get("/v1/tokens", Some(&a)).await;
    assert_eq!(s, 200, "{north}");
    let got = ids(&north);
    assert!(got.contains(&a_id) && got.contains(&b_id), "{north}");
    assert!(!got.contains(&south_id), "{north}");
    for t in north["tokens"].as_array().unwrap() {
        assert_eq!(t["authority"], "north", "{north}");
    }

    // Another party's token does not exist for them.
    assert_eq!(delete(&app, b_id, &operator).await, 404);
    assert_eq!(delete(&app, south_id, &a).await, 404);
    assert_eq!(delete(&app, 999_999, ADMIN).await, 404);

    // `b` is in the token cache now; revoking it takes effect at once.
    assert_eq!(app.get("/v1/tokens", Some(&b)).await.0, 200);
    assert_eq!(delete(&app, b_id, &a).await, 204);
    refused(&app, &b, "revoked").await;
    // Revoking again changes nothing; the list says so.
    assert_eq!(delete(&app, b_id, ADMIN).await, 204);
    let (_, all) = app.get("/v1/tokens", Some(ADMIN)).await;
    let listed = all["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == b_id)
        .unwrap();
    assert_eq!(listed["status"], "revoked", "{all}");
    assert!(listed["revoked_at"].is_string());
    // The other token of that council still works.
    assert_eq!(app.get("/v1/tokens", Some(&a)).await.0, 200);

    // Organisations are listed for the admin only.
    let (s, orgs) = app.get("/v1/organisations", Some(ADMIN)).await;
    assert_eq!(s, 200, "{orgs}");
    assert_eq!(orgs["organisations"][0]["slug"], "vodafone");
    assert_eq!(app.get("/v1/organisations", Some(&a)).await.0, 403);
});

on_both_databases!(expiry_and_bad_requests, |app: TestApp| async move {
    app.authority("north").await;
    // Every invalid field at once.
    let (s, b) = create(
        &app,
        json!({"role": "boss", "name": " ", "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["role", "expires_at", "name"], "{b}");
    let (s, b) = create(
        &app,
        json!({"role": "staff", "authority": "north", "name": "x", "expires_at": "next week"}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "expires_at");

    // A token expiring in two seconds works, is cached, then stops.
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (s, b) = create(
        &app,
        json!({"role": "staff", "authority": "north", "name": "temp", "expires_at": at}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert!(b["expires_at"].is_string(), "{b}");
    let temp = b["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/v1/tokens", Some(&temp)).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    refused(&app, &temp, "expired").await;
    let (_, all) = app.get("/v1/tokens", Some(ADMIN)).await;
    let listed = all["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "temp")
        .unwrap();
    assert_eq!(listed["status"], "expired", "{all}");
});

on_both_databases!(
    last_use_is_recorded_once_a_minute,
    |app: TestApp| async move {
        app.authority("north").await;
        let (a, a_id) = staff(&app, "north", "estates").await;
        let last_used = || async {
            let (_, all) = app.get("/v1/tokens", Some(ADMIN)).await;
            all["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == a_id)
                .unwrap()["last_used_at"]
                .clone()
        };
        assert_eq!(last_used().await, Value::Null);
        assert_eq!(app.get("/v1/tokens", Some(&a)).await.0, 200);
        // Written off the request path: wait for it.
        let mut first = Value::Null;
        for _ in 0..50 {
            first = last_used().await;
            if first.is_string() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(first.is_string(), "last_used_at never written");
        // Used again within the minute: not written again.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(app.get("/v1/tokens", Some(&a)).await.0, 200);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(last_used().await, first);
    }
);

// A revocation by another process (the CLI, another replica) reaches this
// server's cache through the catch-up the server runs every second.
on_both_databases!(
    revocation_reaches_other_processes,
    |app: TestApp| async move {
        app.authority("north").await;
        let (a, a_id) = staff(&app, "north", "a").await;
        let (b, b_id) = staff(&app, "north", "b").await;
        assert_eq!(app.get("/v1/tokens", Some(&a)).await.0, 200);

        // The CLI revokes `a` in its own process: until the catch-up the cache
        // still trusts it (which is what the catch-up is for)...
        let other = app.other_process().await;
        assert!(other.revoke_token(a_id).await.unwrap());
        assert_eq!(app.get("/v1/tokens", Some(&a)).await.0, 200);
        // ...and after the next one it is refused.
        app.register.catch_up().await.unwrap();
        refused(&app, &a, "revoked").await;
        other.close().await;

        // A second replica over the same database, with `b` in its cache.
        let replica = start(app.db_url.clone(), None, false).await;
        assert_eq!(replica.get("/v1/tokens", Some(&b)).await.0, 200);
        assert_eq!(delete(&app, b_id, ADMIN).await, 204);
        refused(&app, &b, "revoked").await;
        replica.register.catch_up().await.unwrap();
        refused(&replica, &b, "revoked").await;
    }
);
