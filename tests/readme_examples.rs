//! Every shell example in README.md, run as written against the built
//! binary's `serve --demo` on a free port, with real `bash` and `curl`.
//!
//! The README's ```` ```sh ```` blocks are read in order and run in one bash
//! session (so a variable set in one example is there for the next, as in a
//! reader's terminal), with only these changes:
//!
//! - `http://127.0.0.1:8080` becomes the test server's address;
//! - a placeholder assignment `NAME=<...>` gets its value: a token printed at
//!   start-up (`<... operator ... token ...>`, `<... staff ... token ...>`), or
//!   `<the "id" answered>`, the `id` of the previous curl's answer; any other
//!   placeholder fails the test, so a new one must be taught here;
//! - `curl` is a shell function that runs the real curl and fails the script
//!   on a status of 400 or more, unless the comment line just before the
//!   command says `# expect NNN`, when the status must be exactly that;
//! - lines starting with `cargo` are the build (`cargo run --release --
//!   serve --demo` is what this test starts itself, from the line's own
//!   arguments; `cargo test` is this suite).
//!
//! The blocks between `<!-- cli-examples:... -->` and `<!-- walkthrough:...
//! -->` markers run against their own databases in `tests/walkthrough.rs`;
//! this test checks that every other block is one it runs. GDAL's block needs
//! `ogrinfo` and `ogr2ogr` (under CI their absence fails the test).

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, Server, missing_prerequisite, repo};

/// One ```` ```sh ```` block of the README.
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
    /// Inside a `<!-- NAME:start -->` ... `<!-- NAME:end -->` pair: run by
    /// `tests/walkthrough.rs`.
    marked: Option<String>,
}

fn sh_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut marked: Option<String> = None;
    let mut current: Option<Block> = None;
    for (i, line) in readme.lines().enumerate() {
        let t = line.trim();
        if let Some(b) = current.as_mut() {
            if t.starts_with("```") {
                blocks.push(current.take().unwrap());
            } else {
                b.text.push_str(line);
                b.text.push('\n');
            }
            continue;
        }
        if let Some(name) = t
            .strip_prefix("<!-- ")
            .and_then(|r| r.strip_suffix(":start -->"))
        {
            marked = Some(name.to_string());
        } else if t.starts_with("<!-- ") && t.ends_with(":end -->") {
            marked = None;
        } else if t == "```sh" || t == "```bash" || t == "```shell" {
            current = Some(Block {
                line: i + 1,
                text: String::new(),
                marked: marked.clone(),
            });
        }
    }
    assert!(current.is_none(), "README.md has an unclosed code block");
    blocks
}

/// The tokens `serve --demo` printed, by role.
struct Tokens {
    staff: String,
    operator: String,
}

/// The value a placeholder `<text>` stands for, as shell text.
fn placeholder(text: &str, tokens: &Tokens) -> String {
    let t = text.to_ascii_lowercase();
    if t.contains("token") && t.contains("operator") {
        tokens.operator.clone()
    } else if t.contains("token") && t.contains("staff") {
        tokens.staff.clone()
    } else if text == "the \"id\" answered" {
        // The answers are compact JSON objects whose first member is `id`.
        "$(grep -o '\"id\":\"[^\"]*\"' \"$STREETCELL_OUT/last\" | head -n 1 | cut -d '\"' -f 4)"
            .to_string()
    } else {
        panic!("README.md placeholder <{text}> is not one tests/readme_examples.rs knows")
    }
}

/// A block made runnable: the address swapped, placeholders filled,
/// `# expect NNN` comments turned into the curl function's expectation,
/// `cargo` lines dropped.
fn runnable(block: &str, addr: &str, tokens: &Tokens) -> String {
    let mut out = String::new();
    for line in block.lines() {
        let line = line.replace("http://127.0.0.1:8080", &format!("http://{addr}"));
        let t = line.trim_start();
        if t.starts_with("cargo ") {
            continue;
        }
        if let Some(rest) = t.strip_prefix("# expect ") {
            let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(code.len(), 3, "`# expect NNN` needs a status: {line}");
            out.push_str(&format!("STREETCELL_EXPECT={code}\n"));
            continue;
        }
        // `NAME=<...>` assignments, possibly several joined by `;`.
        if t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && t.contains("=<")
            && !t.contains("<<")
        {
            let mut assigned = Vec::new();
            for part in t.split(';') {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                let (name, value) = part.split_once('=').expect("NAME=<...>");
                let text = value
                    .strip_prefix('<')
                    .and_then(|v| v.strip_suffix('>'))
                    .unwrap_or_else(|| panic!("not a placeholder assignment: {line}"));
                assigned.push(format!("{name}={}", placeholder(text, tokens)));
            }
            out.push_str(&assigned.join("; "));
            out.push('\n');
            continue;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The shell around the blocks: strict mode and the checking `curl`.
const PRELUDE: &str = r#"set -euo pipefail
STREETCELL_EXPECT=
streetcell_n=0
curl() {
  streetcell_n=$((streetcell_n + 1))
  local want=$STREETCELL_EXPECT status
  STREETCELL_EXPECT=
  status=$(command curl -sS -o "$STREETCELL_OUT/body.$streetcell_n" -w '%{http_code}' "$@") \
    || { echo "curl #$streetcell_n did not run: curl $*" >&2; return 1; }
  cp "$STREETCELL_OUT/body.$streetcell_n" "$STREETCELL_OUT/last"
  echo "$status curl $*" >> "$STREETCELL_OUT/log"
  cat "$STREETCELL_OUT/body.$streetcell_n"; echo
  if [ -n "$want" ]; then
    [ "$status" = "$want" ] && return 0
    echo "curl #$streetcell_n answered $status, the README says $want: curl $*" >&2
  else
    [ "$status" -lt 400 ] && return 0
    echo "curl #$streetcell_n answered $status: curl $*" >&2
  fi
  cat "$STREETCELL_OUT/body.$streetcell_n" >&2
  return 1
}
"#;

/// Starts `streetcell ARGS` in `dir` on a free port; the server and the
/// demo tokens it printed.
fn serve(args: &[&str], dir: &std::path::Path) -> (Server, Tokens) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("STREETCELL_ADMIN_TOKEN")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .stderr(Stdio::null());
    let wait = Duration::from_secs(120);
    let server = Server::start(cmd, wait);
    let (mut staff, mut operator) = (None, None);
    while staff.is_none() || operator.is_none() {
        let line = server.next_line(wait);
        let token = line.split_whitespace().last().unwrap_or("").to_string();
        if line.trim_start().starts_with("staff") {
            staff = Some(token);
        } else if line.trim_start().starts_with("operator") {
            operator = Some(token);
        }
    }
    let tokens = Tokens {
        staff: staff.unwrap(),
        operator: operator.unwrap(),
    };
    (server, tokens)
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A small but complete PDF: the README's `calcs.pdf` is "any PDF".
const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[test]
fn every_readme_example_runs_against_serve_demo() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let blocks = sh_blocks(&readme);
    // The start-up command, from the README's own line.
    let start = blocks
        .iter()
        .flat_map(|b| b.text.lines())
        .find_map(|l| l.trim().strip_prefix("cargo run --release -- "))
        .expect("README.md shows `cargo run --release -- serve ...`");
    let args: Vec<&str> = start
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(args, ["serve", "--demo"], "{start}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("calcs.pdf"), PDF).unwrap();
    // Examples run from the checkout name `data/example/...`.
    std::os::unix::fs::symlink(repo().join("data"), dir.path().join("data")).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (server, tokens) = serve(&args, dir.path());
    let addr = server.addr.clone();

    let gdal = on_path("ogrinfo") && on_path("ogr2ogr");
    let mut script = String::from(PRELUDE);
    let mut ran = 0;
    for b in &blocks {
        if let Some(name) = &b.marked {
            assert!(
                ["cli-examples", "walkthrough"].contains(&name.as_str()),
                "README.md line {}: block marked {name:?}, which no test runs",
                b.line
            );
            continue;
        }
        if b.text.contains("ogr2ogr") && !gdal {
            missing_prerequisite("GDAL (ogrinfo, ogr2ogr) for the README's GDAL example");
            continue;
        }
        script.push_str(&format!("\n# README.md line {}\n", b.line));
        script.push_str(&runnable(&b.text, &addr, &tokens));
        ran += 1;
    }
    assert!(ran >= 4, "expected the README's curl examples, ran {ran}");
    // Where the script's files go (GDAL's outputs, calcs.pdf) and the log.
    std::fs::write(out.join("script.sh"), &script).unwrap();
    let run = Command::new("bash")
        .arg(out.join("script.sh"))
        .env("STREETCELL_OUT", &out)
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let log = std::fs::read_to_string(out.join("log")).unwrap_or_default();
    assert!(
        run.status.success(),
        "the README's examples failed ({:?}).\nstderr:\n{}\nrequests (status, command):\n{}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr),
        log
    );
    eprintln!("{log}");
    // Every curl example ran: one log line per curl command in the blocks
    // run (heredoc bodies and comments hold no `curl `).
    let curls: usize = script
        .lines()
        .filter(|l| l.trim_start().starts_with("curl "))
        .count();
    // (A request's line may run on: a `-d` body can span lines.)
    let requests = log
        .lines()
        .filter(|l| {
            l.len() > 9 && l[..3].bytes().all(|b| b.is_ascii_digit()) && &l[3..9] == " curl "
        })
        .count();
    assert_eq!(requests, curls, "{log}");
}

#[test]
fn the_readme_block_reader_sees_markers_and_fences() {
    let readme = "# x\n```sh\ncurl a\n```\n<!-- w:start -->\n```sh\nstreetcell b\n```\n<!-- w:end -->\n```\nnot sh\n```\n```sh\ncurl c\n```\n";
    let blocks = sh_blocks(readme);
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0].text, "curl a\n");
    assert_eq!(blocks[0].marked, None);
    assert_eq!(blocks[1].marked.as_deref(), Some("w"));
    assert_eq!(blocks[2].text, "curl c\n");
    assert_eq!(blocks[2].line, 13);
    let tokens = Tokens {
        staff: "S".into(),
        operator: "O".into(),
    };
    let r = runnable(
        "OP=<operator token>; ST=<staff (x) token>\n# expect 422: no\ncurl http://127.0.0.1:8080/a\ncargo test\n",
        "127.0.0.1:9",
        &tokens,
    );
    assert_eq!(
        r,
        "OP=O; ST=S\nSTREETCELL_EXPECT=422\ncurl http://127.0.0.1:9/a\n"
    );
}
