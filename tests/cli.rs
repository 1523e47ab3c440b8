//! The `streetcell` binary on a temporary SQLite file: tokens, imports, and
//! a server that stops cleanly on SIGTERM.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use streetcell::domain::access::Principal;
use streetcell::store::{Store, hash_token};

use common::{BIN, Server, http_get};

/// A temporary directory with a database URL inside it.
struct Db {
    dir: tempfile::TempDir,
    url: String,
}

fn temp_db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/streetcell.db", dir.path().display());
    Db { dir, url }
}

/// The binary with the database URL given by flag, and no settings leaking
/// in from the environment.
fn streetcell(db: &Db) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--database-url")
        .arg(&db.url)
        .env_remove("DATABASE_URL")
        .env_remove("STREETCELL_LISTEN")
        .env_remove("STREETCELL_ADMIN_TOKEN")
        .env_remove("RUST_LOG")
        .current_dir(db.dir.path());
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run streetcell")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Creates an authority through the library, as an admin tool would.
fn create_authority(db: &Db, code: &str) {
    runtime().block_on(async {
        let store = Store::connect(&db.url).await.expect("connect");
        store
            .create_authority(code, &format!("{code} council"))
            .await
            .expect("create authority");
        store.close().await;
    });
}

fn write_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).expect("write file");
    p
}

#[test]
fn token_create_prints_the_token_alone() {
    let db = temp_db();
    let out = run(streetcell(&db).args(["token", "create", "--role", "admin", "--name", "x"]));
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {stdout:?}");
    assert!(stdout.ends_with('\n'), "{stdout:?}");
    let token = lines[0];
    assert!(token.starts_with("sc_"), "{token:?}");
    assert_eq!(token, token.trim());
    assert!(token.len() >= 40, "{token:?}");
    assert!(
        token[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token:?}"
    );

    // Two tokens differ, and each is stored as the admin it was made for.
    let out2 = run(streetcell(&db).args(["token", "create", "--role", "admin", "--name", "y"]));
    assert!(out2.status.success(), "{out2:?}");
    let token2 = text(&out2.stdout).trim().to_string();
    assert_ne!(token, token2);
    runtime().block_on(async {
        let store = Store::connect(&db.url).await.expect("connect");
        for t in [token, token2.as_str()] {
            assert_eq!(
                store.principal_for_hash(&hash_token(t)).await.unwrap(),
                Some(Principal::Admin)
            );
        }
        store.close().await;
    });

    // A staff token for an authority that exists.
    create_authority(&db, "trafford");
    let out = run(streetcell(&db).args([
        "token",
        "create",
        "--role",
        "staff",
        "--authority",
        "trafford",
        "--name",
        "estates",
    ]));
    assert!(out.status.success(), "{out:?}");
    let staff = text(&out.stdout).trim().to_string();
    assert!(staff.starts_with("sc_"));
    runtime().block_on(async {
        let store = Store::connect(&db.url).await.expect("connect");
        assert_eq!(
            store.principal_for_hash(&hash_token(&staff)).await.unwrap(),
            Some(Principal::Staff {
                authority: "trafford".into()
            })
        );
        store.close().await;
    });
}

#[test]
fn token_create_refuses_a_scope_that_does_not_fit() {
    let db = temp_db();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--role", "staff", "--name", "x"],
            "a staff token needs an authority",
        ),
        (
            &["--role", "operator", "--name", "x"],
            "an operator token needs an organisation",
        ),
        (
            &["--role", "admin", "--authority", "trafford", "--name", "x"],
            "an admin token has no authority",
        ),
        (&["--role", "root", "--name", "x"], "unknown role"),
        (
            &["--role", "staff", "--authority", "nowhere", "--name", "x"],
            "nowhere",
        ),
    ];
    for (args, message) in cases {
        let out = run(streetcell(&db).args(["token", "create"]).args(args));
        assert!(!out.status.success(), "{args:?} succeeded: {out:?}");
        assert_ne!(out.status.code(), Some(0));
        assert!(
            out.stdout.is_empty(),
            "{args:?}: no token on stdout: {out:?}"
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(message),
            "{args:?}: expected {message:?} in {stderr:?}"
        );
    }
    // --name is required.
    let out = run(streetcell(&db).args(["token", "create", "--role", "admin"]));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--name"), "{out:?}");
}

#[test]
fn import_json_reports_inserted_updated_and_rejected_lines() {
    let db = temp_db();
    create_authority(&db, "trafford");
    let csv = "ref,kind,lon,lat,street\n\
               LP-1,lamp_post,-2.3365,53.4468,Talbot Road\n\
               LP-2,lamp_post,-2.3370,95,Talbot Road\n\
               LP-3,bus_shelter,-2.3450,53.4488,Chester Road\n";
    let file = write_file(db.dir.path(), "assets.csv", csv);
    let import = |db: &Db| {
        run(streetcell(db)
            .args(["import", "--authority", "trafford"])
            .arg(&file)
            .arg("--json"))
    };

    // A rejected row: the report is printed, and the exit status is 2.
    let out = import(&db);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout:?}");
    let report: Value = serde_json::from_str(stdout.trim()).expect("JSON report");
    assert_eq!(report["inserted"], 2, "{report}");
    assert_eq!(report["updated"], 0, "{report}");
    // The default mode, which keeps what a re-import leaves out.
    assert_eq!(report["mode"], "merge", "{report}");
    let rejected = report["rejected"].as_array().expect("rejected[]");
    assert_eq!(rejected.len(), 1, "{report}");
    assert_eq!(rejected[0]["line"], 3, "{report}");
    let reason = rejected[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("latitude 95"), "{reason}");
    // Exactly these members (in any order: serde_json keeps document order
    // since cql2 turns on its preserve_order feature).
    let mut members: Vec<_> = report.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(
        members,
        vec![
            "absent_kept",
            "cleared_fields",
            "inserted",
            "mode",
            "rejected",
            "rejected_by_reason",
            "rejected_total",
            "removed",
            "retired",
            "updated"
        ]
    );

    // Again: the same refs are updated, not duplicated.
    let out = import(&db);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let report: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON report");
    assert_eq!(
        report,
        json!({"inserted": 0, "updated": 2, "rejected_total": 1,
            "rejected": [{"line": 3, "reason": reason}],
            "rejected_by_reason": {"coordinates out of range": 1},
            "mode": "merge", "cleared_fields": {}, "removed": 0, "retired": 0, "absent_kept": 0})
    );

    runtime().block_on(async {
        let store = Store::connect(&db.url).await.expect("connect");
        let mut refs: Vec<String> = store
            .all_assets()
            .await
            .unwrap()
            .into_iter()
            .map(|a| {
                assert_eq!(a.authority, "trafford");
                a.details.asset_ref
            })
            .collect();
        refs.sort();
        assert_eq!(refs, ["LP-1", "LP-3"]);
        store.close().await;
    });

    // Without --json: a human summary, one line per rejected row.
    let out = run(streetcell(&db)
        .args(["import", "--authority", "trafford"])
        .arg(&file));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("0 inserted, 2 updated, 1 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: "), "{stdout}");
}

/// More rows than one CLI batch (50,000), parsed as they are written: every
/// good row lands once, every bad one is in the `--rejections` file with its
/// line, and the report counts them all.
#[test]
fn a_file_of_several_batches_lands_whole_with_every_rejection_listed() {
    let db = temp_db();
    create_authority(&db, "trafford");
    let n = 120_001;
    let mut csv = String::from("ref,kind,lon,lat\n");
    let mut bad_lines = Vec::new();
    for i in 0..n {
        // Line i + 2; every 1,000th row has a latitude out of range.
        if i % 1000 == 7 {
            csv.push_str(&format!("R{i},lamp_post,-2.3,95\n"));
            bad_lines.push(i + 2);
        } else {
            let lon = -2.5 + (i as f64) * 1e-6;
            csv.push_str(&format!("R{i},lamp_post,{lon:.6},53.4\n"));
        }
    }
    let file = write_file(db.dir.path(), "big.csv", &csv);
    let rejections = db.dir.path().join("rejections.csv");
    let out = run(streetcell(&db)
        .args([
            "import",
            "--authority",
            "trafford",
            "--json",
            "--rejections",
        ])
        .arg(&rejections)
        .arg(&file));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let report: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON report");
    assert_eq!(report["inserted"], n - bad_lines.len(), "{report}");
    assert_eq!(report["rejected_total"], bad_lines.len(), "{report}");
    let listed = std::fs::read_to_string(&rejections).expect("rejections file");
    let lines: Vec<usize> = listed
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines, bad_lines, "every rejected line, in file order");
    runtime().block_on(async {
        let store = Store::connect(&db.url).await.expect("connect");
        let assets = store.all_assets().await.unwrap();
        assert_eq!(assets.len(), n - bad_lines.len());
        let refs: std::collections::HashSet<String> =
            assets.into_iter().map(|a| a.details.asset_ref).collect();
        assert!(refs.contains("R0") && refs.contains(&format!("R{}", n - 1)));
        assert!(!refs.contains("R7"));
        store.close().await;
    });
}

#[test]
fn import_refuses_unknown_authorities_and_files() {
    let db = temp_db();
    let file = write_file(
        db.dir.path(),
        "a.csv",
        "ref,kind,lon,lat\nX,lamp_post,-2.3,53.4\n",
    );
    let out = run(streetcell(&db)
        .args(["import", "--authority", "nowhere", "--json"])
        .arg(&file));
    assert!(!out.status.success(), "{out:?}");
    assert!(text(&out.stderr).contains("nowhere"), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");

    create_authority(&db, "trafford");
    let txt = write_file(db.dir.path(), "a.txt", "ref,kind,lon,lat\n");
    let out = run(streetcell(&db)
        .args(["import", "--authority", "trafford"])
        .arg(&txt));
    assert!(!out.status.success(), "{out:?}");
    assert!(text(&out.stderr).contains(".csv"), "{out:?}");

    let out = run(streetcell(&db)
        .args(["import", "--authority", "trafford"])
        .arg(db.dir.path().join("missing.csv")));
    assert!(!out.status.success(), "{out:?}");
    assert!(text(&out.stderr).contains("missing.csv"), "{out:?}");

    // A mapping the file does not fit is a whole-file error.
    let out = run(streetcell(&db)
        .args(["import", "--authority", "trafford", "--x-field", "east"])
        .arg(&file));
    assert!(!out.status.success(), "{out:?}");
    assert!(text(&out.stderr).contains("east"), "{out:?}");
}

/// A GET with the token, if any, as a bearer header.
fn get(addr: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let headers: Vec<String> = token
        .map(|t| format!("Authorization: Bearer {t}"))
        .into_iter()
        .collect();
    http_get(addr, path, &headers)
}

#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let db = temp_db();
    // A token made by the CLI before the server starts is honoured by it.
    let out = run(streetcell(&db).args(["token", "create", "--role", "admin", "--name", "ops"]));
    assert!(out.status.success(), "{out:?}");
    let token = text(&out.stdout).trim().to_string();

    let mut cmd = streetcell(&db);
    cmd.arg("serve").stderr(Stdio::piped());
    let mut server = Server::start(cmd, Duration::from_secs(30));
    let pid = server.child.id();
    let addr = server.addr.clone();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_ne!(addr, "127.0.0.1:0");

    let (status, body) = get(&addr, "/healthz", None);
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).expect("healthz JSON");
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["assets"], 0, "{health}");
    let (status, body) = get(&addr, "/v1/assets", Some(&token));
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(&addr, "/v1/assets", None);
    assert_eq!(status, 401);

    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());

    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut e) = server.child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(
        status.success(),
        "exit status {status:?} after SIGTERM; stderr: {stderr}"
    );
    // The port is released.
    assert!(
        TcpStream::connect(&addr).is_err(),
        "{addr} still accepts connections"
    );
}

/// The feature cache's budget (`--feature-cache-mb`) bounds the GeoJSON the
/// server keeps, as `/metrics` reports it, and changes no answer: a server
/// that keeps nothing serves the same features as one that keeps them.
#[test]
fn the_feature_cache_budget_bounds_what_is_kept_and_changes_no_answer() {
    let db = temp_db();
    create_authority(&db, "trafford");
    // 3,000 lamp posts on a grid near Stretford, each with a source attribute.
    let mut csv = String::from("ref,kind,lon,lat,height_m,street\n");
    for i in 0..3000 {
        let (x, y) = (f64::from(i % 60), f64::from(i / 60));
        csv.push_str(&format!(
            "LP-{i:04},lamp_post,{:.6},{:.6},{},\"Road \"\"{i}\"\"\"\n",
            -2.32 + x * 0.0005,
            53.44 + y * 0.0005,
            5 + i % 8
        ));
    }
    let file = write_file(db.dir.path(), "lamps.csv", &csv);
    let out = run(streetcell(&db)
        .args(["import", "--authority", "trafford"])
        .arg(&file));
    assert!(out.status.success(), "{out:?}");

    let start = |mb: &str| {
        let mut cmd = streetcell(&db);
        cmd.args([
            "serve",
            "--public-read",
            "--no-snapshot",
            "--feature-cache-mb",
            mb,
        ])
        .env("STREETCELL_RATE_LIMIT", "0");
        Server::start(cmd, Duration::from_secs(30))
    };
    let kept = |s: &Server| -> (u64, u64) {
        let (status, body) = get(&s.addr, "/metrics", None);
        assert_eq!(status, 200, "{body}");
        let gauge = |name: &str| {
            body.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("no {name} in\n{body}"))
                .parse::<u64>()
                .unwrap()
        };
        (
            gauge("streetcell_feature_cache_bytes"),
            gauge("streetcell_feature_cache_budget_bytes"),
        )
    };
    let features = |s: &Server, path: &str| -> Value {
        let (status, body) = get(&s.addr, path, None);
        assert_eq!(status, 200, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["features"].clone()
    };
    let none = start("0");
    let some = start("1");
    assert_eq!(kept(&none), (0, 0));
    assert_eq!(kept(&some), (0, 1 << 20));
    let paths = [
        "/collections/assets/items?limit=1000",
        "/collections/assets/items?limit=1000&offset=1000",
        "/collections/assets/items?limit=1000&offset=2000",
        "/collections/assets/items?bbox=-2.32,53.44,-2.31,53.45&limit=500",
        "/v1/assets/nearest?lon=-2.31&lat=53.45&k=25",
        "/v1/assets?limit=100",
    ];
    // Twice: the second pass is served from whatever the first kept.
    for _ in 0..2 {
        for path in paths {
            let want = features(&none, path);
            assert!(!want.as_array().unwrap().is_empty(), "{path}");
            assert_eq!(features(&some, path), want, "{path}");
        }
    }
    assert_eq!(kept(&none).0, 0, "a budget of 0 keeps nothing");
    let (bytes, budget) = kept(&some);
    // 3,000 features of ~500 bytes would be ~1.5 MB: the budget stops them,
    // a racing reader at most one feature over.
    assert!(bytes > budget / 2, "kept {bytes} of {budget}");
    assert!(
        bytes <= budget + 2048,
        "kept {bytes}, over the budget {budget}"
    );
}
