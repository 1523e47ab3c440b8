//! Schemathesis (PyPI) generates requests from `/api` and sends them to a
//! real server holding the demo register, with the admin token, checking
//! that nothing answers 5xx and that every status, content type, header and
//! body is one the document declares (issue 15). A bounded run: a few cases
//! per operation, a fixed seed, a time limit; any failure fails the test,
//! with schemathesis's report of each.
//!
//! `.ci/run` installs schemathesis with pip; under CI a missing one fails
//! this test, elsewhere it is skipped with a note.

use std::process::Command;
use std::time::Instant;

use crate::helpers::{ADMIN, Db, TestApp, missing_prerequisite, spawn_app};

/// The checks run on every response.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// Cases per operation in the fuzzing phase.
const MAX_EXAMPLES: &str = "40";

/// Operations left out, each with its reason: none may be left out for
/// failing a check.
const EXCLUDED: [(&str, &str); 1] = [(
    "upload_attachment",
    "its body is a PDF, PNG or JPEG, which schemathesis cannot generate (tests/api/attachments.rs covers it)",
)];

async fn with_demo() -> TestApp {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    streetcell::demo::load(&app.other_process().await)
        .await
        .expect("load demo");
    app.restart().await
}

/// The `st` command, if schemathesis is installed.
fn schemathesis() -> Option<&'static str> {
    match Command::new("st").arg("--version").output() {
        Ok(out) if out.status.success() => Some("st"),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_against_the_demo() {
    let Some(st) = schemathesis() else {
        missing_prerequisite("schemathesis (pip install schemathesis)");
        return;
    };
    let app = with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("junit.xml");
    let mut args: Vec<String> = vec![
        "run".into(),
        app.url("/api"),
        "--url".into(),
        app.base.clone(),
        "--header".into(),
        format!("Authorization: Bearer {ADMIN}"),
        "--checks".into(),
        CHECKS.into(),
        "--phases".into(),
        "examples,coverage,fuzzing".into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        "--seed".into(),
        "15".into(),
        "--workers".into(),
        "2".into(),
        "--request-timeout".into(),
        "30".into(),
        "--suppress-health-check".into(),
        "all".into(),
        "--continue-on-failure".into(),
        "--report".into(),
        "junit".into(),
        "--report-junit-path".into(),
        report.display().to_string(),
        "--no-color".into(),
    ];
    for (operation, _why) in EXCLUDED {
        args.push("--exclude-operation-id".into());
        args.push(operation.into());
    }
    let started = Instant::now();
    // Its own state (`.schemathesis/`) goes to the temporary directory,
    // not the checkout.
    let cwd = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .args(&args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The summary (`Test cases:` then `N generated, N passed` on the next
    // line), for the log.
    let junit = std::fs::read_to_string(&report).unwrap_or_default();
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    let cases_line = lines
        .iter()
        .position(|l| *l == "Test cases:")
        .and_then(|i| lines.get(i + 1))
        .copied()
        .unwrap_or_default();
    eprintln!(
        "schemathesis: {:.1} s, {} operations (junit), test cases: {cases_line}",
        elapsed.as_secs_f64(),
        junit.matches("<testcase").count()
    );
    assert!(
        out.status.success(),
        "schemathesis found failures (exit {:?}):\n{stdout}\n{stderr}",
        out.status.code()
    );
    // It ran: cases were generated and sent, not skipped wholesale.
    let cases = cases_line
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(cases >= 500, "only {cases} cases:\n{stdout}");
}
