//! The README's command-line blocks, run line by line with the built
//! binary: the "your own data" walk-through on an empty database (ending in
//! a server and a curl request), and the "Command line" examples on a
//! database holding the demo. The lines are read from README.md, so the
//! README cannot drift from what works.
//!
//! A tiny interpreter covers what the blocks use: `export NAME=VALUE`,
//! `NAME=$(streetcell ...)`, `streetcell ...`, `streetcell serve &`, `curl -H
//! "..." 'URL'`, `$NAME` expansion, quotes and `\` continuations.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use common::{BIN, Server, http_get, repo};

/// The lines of the README block between `<!-- NAME:start -->` and
/// `<!-- NAME:end -->`, continuations joined.
fn block(name: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = format!("<!-- {name}:start -->");
    let end = format!("<!-- {name}:end -->");
    let body = readme
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once(&end))
        .unwrap_or_else(|| panic!("README.md has no {start} ... {end} block"))
        .0;
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with("```") || line.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    assert!(!lines.is_empty(), "{name} block is empty");
    lines
}

/// Splits a command line into words: single quotes literal, double quotes
/// with `$NAME` expanded, bare words expanded.
fn words(line: &str, vars: &HashMap<String, String>) -> Vec<String> {
    let expand = |s: &str| -> String {
        let mut out = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push_str(
                    vars.get(&name)
                        .unwrap_or_else(|| panic!("${name} is not set")),
                );
            } else {
                out.push(c);
            }
        }
        out
    };
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                let mut quoted = String::new();
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                    quoted.push(q);
                }
                word.push_str(&expand(&quoted));
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                let mut bare = String::from(c);
                if c == '$' {
                    // A bare `$NAME`: expand the whole name.
                    while let Some(n) = chars.clone().next() {
                        if n.is_ascii_alphanumeric() || n == '_' {
                            bare.push(n);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
                word.push_str(&expand(&bare));
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Runs `streetcell ARGS` in the repository (so `data/example/...` paths
/// resolve) with `env`; asserts success and returns stdout.
fn streetcell(args: &[String], env: &HashMap<String, String>) -> String {
    let out = Command::new(BIN)
        .args(args)
        .envs(env)
        .env_remove("STREETCELL_ADMIN_TOKEN")
        .env_remove("STREETCELL_LISTEN")
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .expect("run streetcell");
    assert!(
        out.status.success(),
        "streetcell {args:?} failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Starts `streetcell serve` on a free port.
fn serve(args: &[String], env: &HashMap<String, String>) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .envs(env)
        .current_dir(repo())
        .stderr(Stdio::null());
    Server::start(cmd, Duration::from_secs(60))
}

/// Runs a block's lines; `db` replaces the database the block names.
/// Returns the bodies of the curl requests.
fn run_block(lines: &[String], db: &Path) -> Vec<Value> {
    let url = format!("sqlite://{}", db.display());
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DATABASE_URL".into(), url.clone());
    env.insert("RUST_LOG".into(), "warn".into());
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut server: Option<Server> = None;
    let mut bodies = Vec::new();
    for line in lines {
        if let Some(assign) = line.strip_prefix("export ") {
            let (name, _) = assign.split_once('=').expect("export NAME=VALUE");
            // The block's own database file becomes the test's.
            assert_eq!(name, "DATABASE_URL", "{line}");
            continue;
        }
        if let Some((name, rest)) = line.split_once("=$(")
            && let Some(command) = rest.strip_suffix(')')
        {
            let w = words(command, &vars);
            assert_eq!(w[0], "streetcell", "{line}");
            let out = streetcell(&w[1..], &env);
            vars.insert(name.to_string(), out.trim().to_string());
            continue;
        }
        let w = words(line, &vars);
        match w[0].as_str() {
            "streetcell" if w.last().is_some_and(|l| l == "&") => {
                assert_eq!(w[1], "serve", "{line}");
                server = Some(serve(&w[1..w.len() - 1], &env));
            }
            "streetcell" => {
                streetcell(&w[1..], &env);
            }
            "curl" => {
                let addr = &server
                    .as_ref()
                    .expect("curl needs the server started above")
                    .addr;
                let mut headers = Vec::new();
                let mut target = None;
                let mut it = w[1..].iter();
                while let Some(a) = it.next() {
                    if a == "-H" {
                        headers.push(it.next().expect("header").clone());
                    } else {
                        target = Some(a.clone());
                    }
                }
                let target = target.expect("curl URL");
                let path = target
                    .strip_prefix("http://127.0.0.1:8080")
                    .unwrap_or_else(|| panic!("{target}: expected the default address"));
                let (status, body) = http_get(addr, path, &headers);
                assert_eq!(status, 200, "{line}: {body}");
                bodies.push(serde_json::from_str(&body).expect("JSON"));
            }
            other => panic!("the walk-through test does not know {other:?}: {line}"),
        }
    }
    drop(server);
    bodies
}

#[test]
fn readme_walkthrough_runs_on_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let bodies = run_block(&block("walkthrough"), &dir.path().join("council.db"));
    let [assets] = &bodies[..] else {
        panic!("expected one curl request, got {}", bodies.len())
    };
    let features = assets["features"].as_array().unwrap();
    // Eight lighting columns from the example CSV, each placed in its ward
    // and fee zone and priced by the published schedule.
    assert_eq!(features.len(), 8, "{assets}");
    for f in features {
        let p = &f["properties"];
        let r = p["ref"].as_str().unwrap();
        let (ward, zone) = if r.starts_with("SL-") {
            ("Sale Central", "central")
        } else {
            ("Stretford North", "suburban")
        };
        assert_eq!(p["ward"], ward, "{f}");
        assert_eq!(p["fee_zone"], zone, "{f}");
        assert_eq!(p["kind"], "lamp_post", "{f}");
        assert!(p["height_m"].as_f64().unwrap() >= 6.0, "{f}");
        assert!(p["annual_fee"].is_string(), "{f}");
        assert!(p["source_attributes"]["STREET"].is_string(), "{f}");
    }
}

#[test]
fn readme_command_line_examples_run_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("streetcell.db");
    // The demo's database, as `serve --demo` leaves it (three tokens issued).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = streetcell::store::Store::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            streetcell::demo::load_if_empty(&store).await.unwrap();
            store.close().await;
        });
    run_block(&block("cli-examples"), &db);
    // `token revoke 4` revoked the admin token the block made first.
    let env: HashMap<String, String> = [(
        "DATABASE_URL".to_string(),
        format!("sqlite://{}", db.display()),
    )]
    .into();
    let list: Value = serde_json::from_str(&streetcell(
        &["token".into(), "list".into(), "--json".into()],
        &env,
    ))
    .unwrap();
    let four = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == 4)
        .unwrap();
    assert_eq!(four["name"], "ops");
    assert!(four["revoked_at"].is_string(), "{four}");
}

#[test]
fn import_exits_2_when_rows_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [(
        "DATABASE_URL".to_string(),
        format!("sqlite://{}", dir.path().join("x.db").display()),
    )]
    .into();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    streetcell(&s(&["authority", "add", "north", "--name", "North"]), &env);
    let out = Command::new(BIN)
        .args([
            "import",
            "--authority",
            "north",
            "tests/data/import/assets.csv",
        ])
        .envs(&env)
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("inserted") && stdout.contains("rejected"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rows were rejected"), "{stderr}");
    // Written to a pipe, not a terminal: no colour codes.
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
