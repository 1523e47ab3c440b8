//! Capacity is decided by the database: however many operators apply for
//! the same asset at once, no more than its capacity are accepted.

use std::sync::Arc;

use serde_json::Value;

use crate::application_helpers::*;
use crate::helpers::{ADMIN, TestApp};
use crate::on_both_databases;

/// Sends `n` applications for `assets` at once, alternating two operators,
/// and returns each answer.
async fn race(
    app: &Arc<TestApp>,
    tokens: [String; 2],
    assets: Vec<String>,
    n: usize,
) -> Vec<(u16, Value)> {
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let app = Arc::clone(app);
        let token = tokens[i % 2].clone();
        let body = form(&assets, today(), 1);
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            submit(&app, &token, &body).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

on_both_databases!(
    a_hundred_simultaneous_applications_for_one_unit_accept_exactly_one,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let col = lamp_post(&app, &sc.staff, "trafford", "RACE-1", 1).await;
        let app = Arc::new(app);
        let answers = race(
            &app,
            [sc.acme.clone(), sc.beta.clone()],
            vec![col.clone()],
            100,
        )
        .await;

        let accepted: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 201)
            .map(|(_, b)| b)
            .collect();
        let refused: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 409)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(accepted.len(), 1, "{answers:?}");
        assert_eq!(refused.len(), 99, "{answers:?}");
        for b in &refused {
            assert_eq!(b["assets"], serde_json::json!([col.clone()]), "{b}");
        }
        // Nothing lost, nothing extra: the one accepted is stored, with its
        // one event, and the asset's one unit is held by it.
        let winner = accepted[0]["id"].as_str().unwrap();
        let (_, all) = list(&app, ADMIN, "?limit=500").await;
        assert_eq!(all["number_matched"], 1, "{all}");
        assert_eq!(all["applications"][0]["id"], winner);
        let (_, ev) = events(&app, ADMIN, winner).await;
        assert_eq!(ev["events"].as_array().unwrap().len(), 1);
        assert_eq!(free_capacity(&app, &col).await, 0);

        // Released, the unit goes to exactly one of the next hundred.
        let (s, _) = withdraw(
            &app,
            if accepted[0]["organisation"] == "acme" {
                &sc.acme
            } else {
                &sc.beta
            },
            winner,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(free_capacity(&app, &col).await, 1);
        let again = race(
            &app,
            [sc.acme.clone(), sc.beta.clone()],
            vec![col.clone()],
            100,
        )
        .await;
        assert_eq!(again.iter().filter(|(s, _)| *s == 201).count(), 1);
        assert_eq!(again.iter().filter(|(s, _)| *s == 409).count(), 99);
    }
);

on_both_databases!(
    overlapping_applications_for_several_assets_never_overfill_any,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        // Three assets of capacity 2; forty applications each naming two of
        // them, in both orders, so transactions lock shared rows.
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(lamp_post(&app, &sc.staff, "trafford", &format!("O-{i}"), 2).await);
        }
        let app = Arc::new(app);
        let pairs = [
            vec![ids[0].clone(), ids[1].clone()],
            vec![ids[1].clone(), ids[0].clone()],
            vec![ids[1].clone(), ids[2].clone()],
            vec![ids[2].clone(), ids[0].clone()],
        ];
        let mut tasks = Vec::new();
        for i in 0..40 {
            let app = Arc::clone(&app);
            let token = if i % 2 == 0 {
                sc.acme.clone()
            } else {
                sc.beta.clone()
            };
            let body = form(&pairs[i % 4], today(), 1);
            tasks.push(tokio::spawn(
                async move { submit(&app, &token, &body).await },
            ));
        }
        let mut held = std::collections::BTreeMap::<String, i64>::new();
        let mut accepted = 0;
        for t in tasks {
            let (s, b) = t.await.unwrap();
            match s {
                201 => {
                    accepted += 1;
                    for a in b["assets"].as_array().unwrap() {
                        *held.entry(a.as_str().unwrap().to_string()).or_default() += 1;
                    }
                }
                409 => assert!(!b["assets"].as_array().unwrap().is_empty(), "{b}"),
                other => panic!("{other}: {b}"),
            }
        }
        // No asset above its capacity; what the answers say is what the
        // database holds.
        assert!(accepted >= 1);
        for id in &ids {
            let n = held.get(id).copied().unwrap_or(0);
            assert!(n <= 2, "{id} held {n} times");
            assert_eq!(free_capacity(&app, id).await, 2 - n, "{id}");
        }
        let (_, all) = list(&app, ADMIN, "?limit=500").await;
        assert_eq!(all["number_matched"], accepted);
    }
);

// An asset whose capacity is held cannot be deleted (the same ref added
// again would forget the holds); once the hold is released it can.
on_both_databases!(a_held_asset_cannot_be_deleted, |app: TestApp| async move {
    let sc = scene(&app, "springfield", true).await;
    let col = lamp_post(&app, &sc.staff, "springfield", "LP-HELD", 1).await;
    let (s, b) = submit(
        &app,
        &sc.acme,
        &form(std::slice::from_ref(&col), today(), 1),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let application = b["id"].as_str().unwrap().to_string();
    let path = format!("/v1/assets/{col}");
    let (s, b) = app
        .json(
            reqwest::Method::DELETE,
            &path,
            Some(&sc.staff),
            &Value::Null,
        )
        .await;
    assert_eq!(s, 409, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("held"), "{b}");
    assert_eq!(free_capacity(&app, &col).await, 0, "the hold survives");
    let (s, _) = withdraw(&app, &sc.acme, &application).await;
    assert_eq!(s, 200);
    let (s, b) = app
        .json(
            reqwest::Method::DELETE,
            &path,
            Some(&sc.staff),
            &Value::Null,
        )
        .await;
    assert_eq!(s, 204, "{b}");
});
