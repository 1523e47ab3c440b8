//! Issue 15: kill -9 under mixed writes loses no acknowledged write. The
//! real binary serves a fresh database while writers PATCH attributes,
//! import CSV batches and create assets; it is killed with SIGKILL at a
//! random moment, restarted, and every write that was answered 2xx must be
//! there. Three kills per database.

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ADMIN, Db, fresh_database, spawn_serve};

const BIN: &str = env!("CARGO_BIN_EXE_streetcell");

/// The server process and its address.
struct Server {
    child: Child,
    base: String,
}

fn start(url: &str) -> Server {
    let (child, base) = spawn_serve(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
            .env("STREETCELL_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "error")
            .stderr(Stdio::null()),
    );
    Server { child, base }
}

/// What the writers had acknowledged.
#[derive(Default)]
struct Acked {
    refs: HashSet<String>,
    keys: Vec<(String, String)>,
}

async fn crash_round(url: &str, round: usize, ids: &[String], acked: Arc<Mutex<Acked>>) {
    let server = start(url);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let mut writers = Vec::new();
    for w in 0..3usize {
        let (client, base, acked, ids) =
            (client.clone(), base.clone(), acked.clone(), ids.to_vec());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let result = match w {
                    0 => {
                        let id = &ids[i % ids.len()];
                        let key = format!("r{round}_{i}");
                        client
                            .patch(format!("{base}/v1/assets/{id}"))
                            .bearer_auth(ADMIN)
                            .header("content-type", "application/merge-patch+json")
                            .body(
                                json!({"properties": {"source_attributes": {&key: i}}}).to_string(),
                            )
                            .send()
                            .await
                            .map(|r| (r.status().is_success(), vec![(id.clone(), key)], vec![]))
                    }
                    1 => {
                        let refs: Vec<String> =
                            (0..5).map(|j| format!("B{round}-{i}-{j}")).collect();
                        let mut csv = String::from("ref,kind,lon,lat\n");
                        for (j, r) in refs.iter().enumerate() {
                            csv.push_str(&format!(
                                "{r},lamp_post,{},53.4\n",
                                -2.3 + j as f64 * 0.001
                            ));
                        }
                        client
                            .post(format!("{base}/v1/authorities/alpha/imports"))
                            .bearer_auth(ADMIN)
                            .header("content-type", "text/csv")
                            .body(csv)
                            .send()
                            .await
                            .map(|r| (r.status().is_success(), vec![], refs))
                    }
                    _ => {
                        let r = format!("C{round}-{i}");
                        client
                            .post(format!("{base}/v1/authorities/alpha/assets"))
                            .bearer_auth(ADMIN)
                            .json(&json!({"type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [-2.31, 53.41]},
                                "properties": {"ref": r, "kind": "lamp_post"}}))
                            .send()
                            .await
                            .map(|resp| (resp.status().is_success(), vec![], vec![r]))
                    }
                };
                match result {
                    Ok((true, keys, refs)) => {
                        let mut a = acked.lock().unwrap();
                        a.keys.extend(keys);
                        a.refs.extend(refs);
                    }
                    Ok((false, ..)) => {}
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    let wait = 400 + rand::random::<u64>() % 1200;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let mut child = server.child;
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    child.wait().expect("reaped");
    for w in writers {
        let _ = w.await;
    }
}

async fn all_assets(base: &str) -> BTreeMap<String, Value> {
    let b: Value = reqwest::Client::new()
        .get(format!("{base}/v1/assets?limit=10000"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    b["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["ref"].as_str().unwrap().to_string(),
                f.clone(),
            )
        })
        .collect()
}

async fn kill_nine(db: Db) {
    let Some((url, _dir)) = fresh_database(db).await else {
        return;
    };
    // Set up on a first run.
    let mut server = start(&url);
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/v1/authorities", server.base))
        .bearer_auth(ADMIN)
        .json(&json!({"code": "alpha", "name": "Alpha"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut csv = String::from("ref,kind,lon,lat\n");
    for i in 0..40 {
        csv.push_str(&format!(
            "S{i},lamp_post,{},53.45\n",
            -2.4 + f64::from(i) * 0.001
        ));
    }
    let r = client
        .post(format!("{}/v1/authorities/alpha/imports", server.base))
        .bearer_auth(ADMIN)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = all_assets(&server.base)
        .await
        .values()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..3 {
        crash_round(&url, round, &ids, acked.clone()).await;
    }
    let mut server = start(&url);
    let assets = all_assets(&server.base).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let acked = acked.lock().unwrap();
    assert!(
        !acked.refs.is_empty() && !acked.keys.is_empty(),
        "the writers got nothing done"
    );
    let missing: Vec<&String> = acked
        .refs
        .iter()
        .filter(|r| !assets.contains_key(*r))
        .collect();
    assert!(
        missing.is_empty(),
        "{db:?}: acknowledged assets lost: {missing:?}"
    );
    let by_id: BTreeMap<&str, &Value> = assets
        .values()
        .map(|f| (f["id"].as_str().unwrap(), f))
        .collect();
    let lost: Vec<&(String, String)> = acked
        .keys
        .iter()
        .filter(|(id, key)| by_id[id.as_str()]["properties"]["source_attributes"][key].is_null())
        .collect();
    assert!(
        lost.is_empty(),
        "{db:?}: acknowledged PATCHes lost: {lost:?}"
    );
    eprintln!(
        "{db:?}: 3 kills, {} acknowledged new assets and {} acknowledged PATCHes all present",
        acked.refs.len(),
        acked.keys.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_under_mixed_writes_loses_no_acknowledged_write_sqlite() {
    kill_nine(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_under_mixed_writes_loses_no_acknowledged_write_postgres() {
    kill_nine(Db::Postgres).await;
}
