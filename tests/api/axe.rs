//! axe-core, Deque's accessibility engine, run in the page over WebDriver:
//! every rule tagged WCAG 2.0, 2.1 or 2.2 at level A or AA must pass.
//!
//! axe-core comes from the npm registry by npm, installed into
//! `target/axe` (`.ci/run` does it; a test finding it missing runs the same
//! `npm install` once), never copied into the repository. Where it cannot
//! be had the check is skipped, saying so, except under CI, where it fails
//! (`missing_prerequisite`).

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::helpers::missing_prerequisite;
use crate::webdriver::Browser;

/// The rules' tags checked.
const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

fn installed() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/axe/node_modules/axe-core/axe.min.js")
}

/// The axe-core script, installing it with npm first if need be.
fn source() -> Option<&'static str> {
    static SOURCE: OnceLock<Option<String>> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            if !installed().exists() {
                let prefix = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe");
                let ran = std::process::Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&prefix)
                    .arg("axe-core@4")
                    .output();
                if let Ok(out) = &ran
                    && !out.status.success()
                {
                    eprintln!(
                        "npm install axe-core failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            std::fs::read_to_string(installed()).ok()
        })
        .as_deref()
}

/// Runs axe-core on the page open in `b`; fails naming every violation.
pub async fn check(b: &Browser, page: &str) {
    if let Some(violations) = violations(b, page).await {
        assert_eq!(
            violations,
            Value::Array(Vec::new()),
            "axe-core found WCAG A/AA violations on the {page} page"
        );
    }
}

/// axe-core's WCAG A/AA violations on the page open in `b` (rule, impact,
/// help, the first five elements), or `None` where axe-core cannot be had
/// (outside CI).
pub async fn violations(b: &Browser, page: &str) -> Option<Value> {
    let Some(axe) = source() else {
        missing_prerequisite(
            "axe-core (npm install --prefix target/axe axe-core; needs npm and the npm registry)",
        );
        return None;
    };
    let loaded = b
        .exec(&format!(
            "if (!window.axe) {{ {axe}\n }} return typeof window.axe"
        ))
        .await;
    assert_eq!(loaded, "object", "axe-core did not load on the {page} page");
    let script = format!(
        "const done = arguments[arguments.length - 1];
         axe.run(document, {{runOnly: {{type: 'tag', values: {tags}}}, resultTypes: ['violations']}})
           .then(r => done(r.violations.map(v => ({{rule: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}}))))
           .catch(e => done([{{rule: 'axe failed', help: String(e)}}]));",
        tags = json!(TAGS)
    );
    Some(b.exec_async(&script).await)
}
