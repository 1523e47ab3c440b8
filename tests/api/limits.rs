//! Issue 15, defects 4-7: what one request may cost. Rejection reports are
//! bounded, oversized bodies are refused before they are read, every error
//! is problem+json, slow and idle connections are closed, tokens over their
//! rate get 429, and pathological files are refused.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use streetcell::http::limits::Limits;
use streetcell::http::{AppState, Settings};
use streetcell::store::hash_token;

use crate::helpers::{ADMIN, Db, TestApp, fresh_database, problem};
use crate::on_both_databases;

/// Writes `head` (a request's head, and perhaps part of a body) on a fresh
/// connection and reads what the server answers until it closes or `wait`
/// passes (a bound on a hung server, not a measurement).
pub async fn raw_exchange(base: &str, head: &[u8], wait: Duration) -> Option<String> {
    let addr = base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    conn.write_all(head).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    // A whole problem document has arrived.
                    if got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

on_both_databases!(
    a_file_of_bad_rows_answers_a_short_report_with_counts,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        // 5,000 rows out of range, 1,000 duplicates of one good row, 1 good.
        let mut csv = String::from("ref,kind,lon,lat\nGOOD,lamp_post,-2.3,53.4\n");
        for i in 0..5_000 {
            csv.push_str(&format!("B{i},lamp_post,{},53.4\n", 200 + i));
        }
        for _ in 0..1_000 {
            csv.push_str("GOOD,lamp_post,-2.3,53.4\n");
        }
        let (s, report) = app
            .post_bytes(
                "/v1/authorities/alpha/imports",
                Some(&staff),
                "text/csv",
                csv.into_bytes(),
            )
            .await;
        assert_eq!(s, 200, "{report}");
        assert_eq!(report["inserted"], 1, "{report}");
        assert_eq!(report["rejected_total"], 6_000, "{report}");
        let listed = report["rejected"].as_array().expect("rejected[]");
        assert_eq!(listed.len(), 100, "only the first rows are listed");
        assert_eq!(listed[0]["line"], 3, "{}", listed[0]);
        assert_eq!(listed[99]["line"], 102, "{}", listed[99]);
        let by_reason = report["rejected_by_reason"]
            .as_object()
            .expect("rejected_by_reason");
        assert_eq!(by_reason["coordinates out of range"], 5_000, "{report}");
        assert_eq!(by_reason["duplicate ref"], 1_000, "{report}");
        let sum: u64 = by_reason.values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(sum, 6_000);
        // Kilobytes, not the megabyte a full list of 6,000 reasons would take.
        assert!(
            report.to_string().len() < 20_000,
            "{}",
            report.to_string().len()
        );
    }
);

on_both_databases!(
    a_body_announced_over_the_import_limit_is_refused_before_it_is_read,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        let limit = streetcell::http::MAX_IMPORT_BODY;
        for path in [
            "/v1/authorities/alpha/imports",
            "/v1/authorities/alpha/areas?layer=ward",
        ] {
            // Only the head is sent: a server that waited for the body
            // would never answer.
            let head = format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {staff}\r\n\
                 content-type: text/csv\r\ncontent-length: {}\r\n\r\nref,kind",
                limit + 1
            );
            let answer = raw_exchange(&app.base, head.as_bytes(), Duration::from_secs(30))
                .await
                .unwrap_or_else(|| panic!("{path}: no answer while the body was unsent"));
            assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
            assert!(
                answer
                    .to_ascii_lowercase()
                    .contains("application/problem+json"),
                "{answer}"
            );
            let body: Value =
                serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).expect("JSON");
            assert_eq!(body["status"], 413, "{body}");
        }
        // Exactly at the limit is not refused for its size (it is cut short
        // here, so the server waits for the rest: no answer is right).
        let head = format!(
            "POST /v1/authorities/alpha/imports HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {staff}\r\n\
             content-type: text/csv\r\ncontent-length: {limit}\r\n\r\nref,kind"
        );
        let answer = raw_exchange(&app.base, head.as_bytes(), Duration::from_millis(500)).await;
        assert!(
            answer.as_deref().is_none_or(|a| !a.contains(" 413 ")),
            "{answer:?}"
        );
        // The server is fine afterwards.
        let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
);

/// A server run through `streetcell::http::serve::serve` (the accept loop
/// with connection limits), as `streetcell serve` runs it.
pub struct Limited {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The register behind it.
    pub register: std::sync::Arc<streetcell::register::Register>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

impl Limited {
    /// A fresh SQLite database served with `limits`.
    pub async fn start(limits: Limits) -> Limited {
        let (url, dir) = fresh_database(Db::Sqlite).await.expect("sqlite");
        let store = streetcell::store::Store::connect(&url).await.expect("db");
        let register = std::sync::Arc::new(
            streetcell::register::Register::load(store)
                .await
                .expect("load"),
        );
        let settings = Settings {
            admin_token_hash: Some(hash_token(ADMIN)),
            limits,
            ..Settings::default()
        };
        let state = AppState::new(std::sync::Arc::clone(&register), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(streetcell::http::serve::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Limited {
            base,
            register,
            stop: Some(stop),
            done: Some(done),
            _dir: dir,
        }
    }

    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signals shutdown and waits for the server to return.
    pub async fn shutdown(&mut self) -> std::io::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.done.take().expect("running").await.expect("join")
    }
}

/// Generous limits except those given.
pub fn limits() -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(60),
        body_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(60),
        ..Limits::default()
    }
}

/// Reads until the server closes the connection (`true`) or `wait` passes.
async fn closed_by_server(conn: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(wait, async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_connection_is_closed() {
    let server = Limited::start(Limits {
        header_read_timeout: Duration::from_secs(1),
        ..limits()
    })
    .await;
    let mut conn = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // One header line every 200 ms, for up to 20 s: the head never ends.
    let trickle = async {
        for i in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if conn
                .write_all(format!("x-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                return true;
            }
        }
        false
    };
    let cut_off = trickle.await;
    assert!(
        cut_off || closed_by_server(&mut conn, Duration::from_secs(1)).await,
        "a head trickled for 20 s was still being read"
    );
    // An idle connection that never sends a byte is closed as well.
    let mut idle = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    assert!(closed_by_server(&mut idle, Duration::from_secs(20)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_times_out_with_a_408_problem() {
    let server = Limited::start(Limits {
        body_timeout: Duration::from_secs(1),
        ..limits()
    })
    .await;
    let staff = staff_token(&server.base, "alpha").await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    conn.write_all(
        format!(
            "POST /v1/authorities/alpha/imports HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {staff}\r\n\
             content-type: text/csv\r\ncontent-length: 1000\r\n\r\nref,kind,lon,lat\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (mut rd, mut wr) = conn.into_split();
    // A byte every 300 ms: 1,000 bytes would take 5 minutes.
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if wr.write_all(b"A").await.is_err() {
                break;
            }
        }
    });
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    trickle.abort();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("did not arrive in time"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let server = Limited::start(Limits {
        rate_per_second: 1,
        rate_burst: 3,
        ..limits()
    })
    .await;
    let client = reqwest::Client::new();
    // The admin token makes the tokens, so it is the one throttled first:
    // make them before it runs out.
    let staff = staff_token(&server.base, "alpha").await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..10 {
        let resp = client
            .get(server.url("/v1/authorities"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            problem(resp, 429).await;
        }
    }
    // Ten requests in well under the 7 s a burst of 3 at 1/s would need.
    assert!(statuses[..3].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    // Someone else is not affected, and probes are never throttled.
    let other = client
        .get(server.url("/v1/authorities"))
        .bearer_auth("another-token")
        .send()
        .await
        .unwrap();
    assert_ne!(other.status(), 429, "another caller has its own bucket");
    for _ in 0..10 {
        let h = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(h.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_through_an_idle_connection_flood() {
    let server = Limited::start(Limits {
        header_read_timeout: Duration::from_secs(2),
        max_connections: 20,
        ..limits()
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_string();
    // Twice the cap in connections that send nothing.
    let mut flood = Vec::new();
    for _ in 0..40 {
        flood.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Those over the cap are told so at once, as problem+json.
    let mut refused = 0;
    for conn in flood.iter_mut() {
        let mut buf = vec![0u8; 2048];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(200), conn.read(&mut buf)).await
        {
            let text = String::from_utf8_lossy(&buf[..n]);
            if n > 0 {
                assert!(text.starts_with("HTTP/1.1 503"), "{text}");
                assert!(text.contains("application/problem+json"), "{text}");
                assert!(
                    text.to_ascii_lowercase().contains("retry-after: 1"),
                    "{text}"
                );
                refused += 1;
            }
        }
    }
    assert!(refused >= 15, "{refused} of 40 told the server is full");
    // The idle ones are closed, and /healthz answers (at worst once they are).
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..60 {
        if let Ok(r) = client.get(server.url("/healthz")).send().await
            && r.status() == 200
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(healthy, "/healthz never answered through the flood");
    for conn in flood.iter_mut() {
        assert!(closed_by_server(conn, Duration::from_secs(20)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_a_request_in_flight() {
    let mut server = Limited::start(limits()).await;
    let staff = staff_token(&server.base, "alpha").await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let body = "ref,kind,lon,lat\nA-1,lamp_post,-2.3,53.4\n";
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    conn.write_all(
        format!(
            "POST /v1/authorities/alpha/imports HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {staff}\r\n\
             content-type: text/csv\r\ncontent-length: {}\r\n\r\n{}",
            body.len(),
            &body[..10]
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Shut down while the request is half sent...
    let stop = server.stop.take().unwrap();
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...new connections are no longer accepted...
    assert!(
        reqwest::get(server.url("/healthz")).await.is_err(),
        "the listener is closed"
    );
    // ...and the request in flight completes.
    conn.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"inserted\":1"), "{text}");
    server.shutdown().await.expect("served to the end");
    assert_eq!(server.register.assets().snapshot().len(), 1);
}

/// Creates authority `code` with the admin token; returns a staff token.
async fn staff_token(base: &str, code: &str) -> String {
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/v1/authorities"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"code": code, "name": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(format!("{base}/v1/tokens"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"role": "staff", "authority": code, "name": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    b["token"].as_str().unwrap().to_string()
}

on_both_databases!(
    a_file_of_too_many_columns_is_refused_naming_the_limit,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        let n = 100_000;
        let mut header = String::from("ref,kind,lon,lat");
        let mut row = String::from("A-1,lamp_post,-2.3,53.4");
        for i in 4..n {
            header.push_str(&format!(",c{i}"));
            row.push_str(",v");
        }
        let csv = format!("{header}\n{row}\n");
        let resp = app
            .client
            .post(app.url("/v1/authorities/alpha/imports"))
            .bearer_auth(&staff)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        let p = problem(resp, 422).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("100000 columns"), "{p}");
        assert!(
            detail.contains(&streetcell::import::MAX_COLUMNS.to_string()),
            "{p}"
        );
        // A header at the limit is read, and a repeated name in it found.
        let m = streetcell::import::MAX_COLUMNS;
        let mut header = String::from("ref,kind,lon,lat");
        for i in 4..m - 1 {
            header.push_str(&format!(",c{i}"));
        }
        header.push_str(",c4");
        let resp = app
            .client
            .post(app.url("/v1/authorities/alpha/imports"))
            .bearer_auth(&staff)
            .header("content-type", "text/csv")
            .body(format!("{header}\n"))
            .send()
            .await
            .unwrap();
        let p = problem(resp, 422).await;
        assert!(
            p["detail"].as_str().unwrap().contains("\"c4\" twice"),
            "{p}"
        );
    }
);

on_both_databases!(
    a_geometry_of_too_many_positions_is_refused_naming_the_limit,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        let max = streetcell::domain::geometry::MAX_POSITIONS;
        // A circle of max + 1 distinct positions (closed: one more).
        let n = max + 1;
        let ring: Vec<[f64; 2]> = (0..=n)
            .map(|i| {
                let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                [-2.3 + 0.01 * a.cos(), 53.4 + 0.01 * a.sin()]
            })
            .collect();
        let small: Vec<[f64; 2]> = vec![[-2.3, 53.4], [-2.29, 53.4], [-2.29, 53.41], [-2.3, 53.4]];
        let layer = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "Huge"},
             "geometry": {"type": "Polygon", "coordinates": [ring]}},
            {"type": "Feature", "properties": {"name": "Small"},
             "geometry": {"type": "Polygon", "coordinates": [small]}},
        ]});
        let (s, b) = app
            .post_bytes(
                "/v1/authorities/alpha/areas?layer=ward",
                Some(&staff),
                "application/geo+json",
                serde_json::to_vec(&layer).unwrap(),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["loaded"], 1, "{b}");
        let why = b["rejected"][0]["reason"].as_str().unwrap();
        assert!(why.contains(&format!("{} positions", n + 1)), "{why}");
        assert!(why.contains(&max.to_string()), "{why}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_that_are_not_utf8_answer_problem_json() {
    let Some(app) = crate::helpers::spawn_app(Db::Sqlite).await else {
        return;
    };
    for path in [
        "/v1/assets/%FF%FE",
        "/v1/authorities/%C3%28/areas",
        "/collections/%FF/items",
        "/v1/applications/%FF",
    ] {
        let head = format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ADMIN}\r\nconnection: close\r\n\r\n"
        );
        let answer = raw_exchange(&app.base, head.as_bytes(), Duration::from_secs(20))
            .await
            .expect("an answer");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
        assert!(
            head.starts_with("HTTP/1.1 400") || head.starts_with("HTTP/1.1 404"),
            "{path}: {answer}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{path}: {answer}"
        );
        let p: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
    }
}
