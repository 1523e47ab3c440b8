//! `spawn_app()` and friends: a real server on port 0 over a fresh database.

use std::net::SocketAddr;
use std::sync::Arc;

use streetcell::http::{AppState, Settings, app};
use streetcell::register::Register;
use streetcell::store::{Store, hash_token};

/// The bootstrap admin token every test server accepts.
pub const ADMIN: &str = "test-admin-token";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the server named by `STREETCELL_TEST_POSTGRES`.
    Postgres,
}

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Database URL (to restart on the same data).
    pub db_url: String,
    /// The loaded register (for direct checks).
    pub register: Arc<Register>,
    /// HTTP client.
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

/// Starts `cmd`, a `streetcell serve` of the built binary listening on
/// `127.0.0.1:0`, with stdout piped; waits for the line saying where it
/// listens and keeps draining stdout on a thread so the server never blocks
/// on it. The process and its base URL (`http://127.0.0.1:PORT`).
pub fn spawn_serve(cmd: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start streetcell serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines.next().expect("a line").expect("stdout");
        if let Some(rest) = line.strip_prefix("Streetcell listening on ") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

/// Whether missing prerequisites fail the run: under CI (`CI` set and not
/// `false`, as `.ci/run` does) a test that cannot run must not pass as a skip.
pub fn prerequisites_required() -> bool {
    ci_means_required(std::env::var("CI").ok().as_deref())
}

fn ci_means_required(ci: Option<&str>) -> bool {
    ci.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[test]
fn under_ci_a_missing_prerequisite_fails_the_test() {
    for (ci, required) in [
        (None, false),
        (Some(""), false),
        (Some("false"), false),
        (Some("true"), true),
        (Some("1"), true),
    ] {
        assert_eq!(ci_means_required(ci), required, "CI={ci:?}");
    }
    if prerequisites_required() {
        let missing = std::panic::catch_unwind(|| missing_prerequisite("a test prerequisite"));
        assert!(
            missing.is_err(),
            "under CI a missing prerequisite must fail"
        );
    }
}

/// Says that a test cannot run here: a note locally, a failure under CI.
pub fn missing_prerequisite(what: &str) {
    assert!(!prerequisites_required(), "{what} is required under CI");
    eprintln!("skipped: {what} is not available");
}

/// Runs a GDAL command-line tool (`ogrinfo`, `ogr2ogr`...) with `env` added,
/// or `None` (a skip; a failure under CI) when GDAL is not installed.
pub fn gdal_tool(tool: &str, args: &[&str], env: &[(&str, &str)]) -> Option<std::process::Output> {
    let mut cmd = std::process::Command::new(tool);
    cmd.args(args).envs(env.iter().copied());
    match cmd.output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            missing_prerequisite(&format!("{tool} (apt-get install gdal-bin)"));
            None
        }
        Err(e) => panic!("running {tool}: {e}"),
    }
}

/// A fresh, empty database URL for `db`, or `None` (and a note) when that
/// backend is not available here.
pub async fn fresh_database(db: Db) -> Option<(String, Option<Arc<tempfile::TempDir>>)> {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/test.db", dir.path().display());
            Some((url, Some(Arc::new(dir))))
        }
        Db::Postgres => {
            let Ok(server) = std::env::var("STREETCELL_TEST_POSTGRES") else {
                missing_prerequisite("PostgreSQL (set STREETCELL_TEST_POSTGRES)");
                return None;
            };
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!("streetcell_test_{}", rand_suffix());
            let mut conn = sqlx::AnyConnection::connect(&server)
                .await
                .expect("connect to STREETCELL_TEST_POSTGRES");
            drop_abandoned_databases(&mut conn).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
            Some((format!("{base}/{name}"), None))
        }
    }
}

/// Drops test databases left behind by earlier runs, once per process.
///
/// A test database outlives its test (nothing async runs on drop), so each
/// run would leave dozens behind. One is taken as abandoned when nobody is
/// connected to it and its name says it was made over an hour ago: a run
/// in progress, here or on another machine sharing the server, is always
/// connected to its databases or younger than that. No `FORCE`: should a
/// session arrive meanwhile, the drop fails rather than cut it off.
async fn drop_abandoned_databases(conn: &mut sqlx::AnyConnection) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<(String,)> = match sqlx::query_as(
        "SELECT d.datname::text FROM pg_database d \
         WHERE d.datname LIKE 'streetcell\\_test\\_%' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(names) => names,
        Err(e) => {
            eprintln!("could not list test databases: {e}");
            return;
        }
    };
    let now = unix_seconds();
    for (name,) in names {
        // `streetcell_test_<unix seconds>_<pid>_<nanos>`; names made before
        // the time was in them start with a process id, far below 10^9.
        let made = name
            .strip_prefix("streetcell_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|n| n.parse::<u64>().ok());
        let old = made.is_some_and(|t| t < 1_000_000_000 || now.saturating_sub(t) > 3600);
        // Only names this helper makes (letters, digits, underscores) get here.
        if old && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            let sql = format!("DROP DATABASE IF EXISTS {name}");
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
            {
                eprintln!("could not drop abandoned test database {name}: {e}");
            }
        }
    }
}

fn unix_seconds() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// `<unix seconds>_<pid>_<nanos>`: unique per test, and dated for the
/// clean-up above.
fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{}_{}_{nanos}", unix_seconds(), std::process::id())
}

/// Starts the service on a fresh database, or `None` when `db` is not
/// available here.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    let (url, dir) = fresh_database(db).await?;
    Some(start(url, dir, false).await)
}

/// Starts the service over an existing database URL.
pub async fn start(url: String, dir: Option<Arc<tempfile::TempDir>>, public_read: bool) -> TestApp {
    let store = Store::connect(&url).await.expect("database");
    let register = Register::load(store).await.expect("load register");
    serve_register(url, dir, public_read, register).await
}

/// Serves `register` (loaded over `url` however the test chose).
pub async fn serve_register(
    url: String,
    dir: Option<Arc<tempfile::TempDir>>,
    public_read: bool,
    register: Register,
) -> TestApp {
    let register = Arc::new(register);
    let settings = Settings {
        public_read,
        admin_token_hash: Some(hash_token(ADMIN)),
        ..Settings::default()
    };
    let state = AppState::new(Arc::clone(&register), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let server = tokio::spawn(async move {
        axum::serve(listener, app(state)).await.expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        db_url: url,
        register,
        client: reqwest::Client::new(),
        server,
        _dir: dir,
    }
}

impl TestApp {
    /// Stops this server and starts another over the same database.
    pub async fn restart(self) -> TestApp {
        self.server.abort();
        let _ = self.server.await;
        self.register.close().await;
        start(self.db_url.clone(), self._dir.clone(), false).await
    }

    /// A second connection to this server's database, standing for another
    /// process (a CLI import, another replica) writing beside the server.
    pub async fn other_process(&self) -> Store {
        Store::connect(&self.db_url)
            .await
            .expect("connect a second process")
    }

    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET with a token; returns status and JSON body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        send(req).await
    }

    /// Sends `body` as JSON with `method`; returns status and JSON body.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        send(req).await
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        send(req).await
    }

    /// Creates an authority, returning a staff token for it.
    pub async fn authority(&self, code: &str) -> String {
        let (s, b) = self
            .json(
                reqwest::Method::POST,
                "/v1/authorities",
                Some(ADMIN),
                &serde_json::json!({"code": code, "name": format!("{code} council")}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        self.token("staff", Some(code), None).await
    }

    /// Creates an organisation, returning an operator token for it.
    pub async fn organisation(&self, slug: &str) -> String {
        let (s, b) = self
            .json(
                reqwest::Method::POST,
                "/v1/organisations",
                Some(ADMIN),
                &serde_json::json!({"slug": slug, "name": slug}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        self.token("operator", None, Some(slug)).await
    }

    /// Issues a token through the API.
    pub async fn token(
        &self,
        role: &str,
        authority: Option<&str>,
        organisation: Option<&str>,
    ) -> String {
        let (s, b) = self
            .json(
                reqwest::Method::POST,
                "/v1/tokens",
                Some(ADMIN),
                &serde_json::json!({"role": role, "authority": authority, "organisation": organisation, "name": "test"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["token"].as_str().expect("token").to_string()
    }
}

async fn send(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        })
    };
    (status, body)
}

/// Path to a file of the shared Trafford open data, if this checkout has it.
pub fn shared_data(rel: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        missing_prerequisite(&format!("the shared data file {}", p.display()));
        None
    }
}

/// Declares a test that runs once per database backend.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Asserts `resp` is an RFC 9457 problem+json document with `status` and a
/// non-empty `title` and `detail`, and returns it.
pub async fn problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    let got = resp.status().as_u16();
    let url = resp.url().clone();
    let ct = content_type(&resp);
    let text = resp.text().await.expect("body");
    assert_eq!(got, status, "{url}: {text}");
    assert!(
        ct.starts_with("application/problem+json"),
        "{url}: content type {ct:?} for {text}"
    );
    let body: serde_json::Value = serde_json::from_str(&text).expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body
}

/// A response's `Content-Type`, or "" when absent.
pub fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}
