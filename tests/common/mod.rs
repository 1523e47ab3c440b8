//! What the tests of the built binary share (`cli.rs`, `readme_examples.rs`,
//! `walkthrough.rs`): the repository path, a server process killed on drop
//! whose stdout is read line by line on a thread (so a silent server cannot
//! hang a test), and a plain HTTP/1.1 GET.
//!
//! Each of those test crates compiles this module on its own and uses only
//! part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The built `streetcell` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_streetcell");

/// The repository (where README.md and `data/` are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A running `streetcell serve`, killed on drop so a failed test leaves none
/// behind.
pub struct Server {
    pub child: Child,
    /// Where it listens (`127.0.0.1:PORT`).
    pub addr: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `cmd` (a `streetcell ... serve ...` command, without
    /// `--listen`) on a free port and waits up to `wait` for its first line,
    /// which says where it listens. Its stdout is piped; stdin is closed.
    pub fn start(mut cmd: Command, wait: Duration) -> Server {
        let mut child = cmd
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("STREETCELL_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            lines,
        };
        let first = server.next_line(wait);
        server.addr = first
            .strip_prefix("Streetcell listening on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        server
    }

    /// The server's next line of stdout, waiting up to `wait`.
    pub fn next_line(&self, wait: Duration) -> String {
        self.lines
            .recv_timeout(wait)
            .expect("the server prints its next line in time")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain HTTP/1.1 GET with extra header lines; the status and the body.
pub fn http_get(addr: &str, path: &str, headers: &[String]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read response");
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {resp:?}"));
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Under CI (`CI` set, not `false`/`0`) a missing tool fails the test;
/// elsewhere the test says it skipped.
pub fn missing_prerequisite(what: &str) {
    let ci = std::env::var("CI").unwrap_or_default();
    assert!(
        ci.is_empty() || ci == "false" || ci == "0",
        "{what} is required under CI"
    );
    eprintln!("skipped: {what} is not available");
}
