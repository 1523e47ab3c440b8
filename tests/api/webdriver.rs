//! A small W3C WebDriver client over reqwest, enough to drive Debian's
//! headless Chromium through `chromedriver`: open pages, find elements,
//! type, click, press keys, run a script, take screenshots.
//!
//! Where chromedriver is missing the browser tests are skipped, saying so,
//! except under CI (`CI` set), where they fail: `.ci/run` installs it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    session: String,
}

fn find_program(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {n}")])
            .output()
            .ok()?;
        let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
        (found.status.success() && !path.is_empty()).then_some(path)
    })
}

impl Browser {
    /// Starts chromedriver and a headless Chromium of `width`×`height`, or
    /// `None` (skipped) where they are not installed and this is not CI.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let driver = find_program(&["chromedriver"]);
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            let why = "chromium and chromedriver are not installed \
                       (apt-get install chromium chromium-driver)";
            if std::env::var_os("CI").is_some() {
                panic!("the browser test cannot run under CI: {why}");
            }
            eprintln!("skipped the browser test: {why}");
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("address").port()
        };
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut browser = Browser {
            driver: child,
            http,
            base,
            session: String::new(),
        };
        assert!(ready, "chromedriver did not start");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--force-device-scale-factor=1", format!("--window-size={width},{height}"),
                         "--lang=en-GB"]
            }
        }}});
        let v = browser.call("POST", "/session", caps).await;
        browser.session = v["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_string();
        Some(browser)
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m.clone(), url.clone());
        if m != reqwest::Method::GET && m != reqwest::Method::DELETE {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("WebDriver request");
        let status = resp.status();
        let v: Value = resp.json().await.expect("WebDriver answer");
        assert!(status.is_success(), "{method} {path}: {v}");
        v["value"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url})).await;
    }

    /// The page's URL now.
    pub async fn url(&self) -> String {
        self.call("GET", "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first element matching `css`.
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().expect("element").to_string()
    }

    /// Clicks an element.
    pub async fn click(&self, el: &str) {
        self.call("POST", &format!("/element/{el}/click"), json!({}))
            .await;
    }

    /// Types `text` into an element.
    pub async fn type_into(&self, el: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub async fn exec(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Presses Tab `n` times, as a keyboard user moving through the page.
    pub async fn tab(&self, n: usize) {
        let mut actions = Vec::new();
        for _ in 0..n {
            actions.push(json!({"type": "keyDown", "value": "\u{E004}"}));
            actions.push(json!({"type": "keyUp", "value": "\u{E004}"}));
        }
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Deletes every cookie (a visitor who never signed in).
    pub async fn clear_cookies(&self) {
        self.call("DELETE", "/cookie", Value::Null).await;
    }

    /// Resizes the window (taller for a full-page screenshot).
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// Saves a PNG of the window as `target/screenshots/{name}.png` and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        use base64::Engine;
        let v = self.call("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 PNG"))
            .expect("PNG");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Browser {
    /// Ends the browser session (closing Chromium), then the driver.
    pub async fn quit(self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the browser with its driver (our own child process only).
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Runs `script` (a function body whose last argument is the callback
    /// to call with the result) in the page and returns what it passed.
    pub async fn exec_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Moves the mouse to viewport position (`x`, `y`) and clicks there.
    pub async fn click_at(&self, x: i64, y: i64) {
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse",
                "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "origin": "viewport", "x": x, "y": y, "duration": 0},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0}]}]}),
        )
        .await;
        self.call("DELETE", "/actions", Value::Null).await;
    }
}

impl Browser {
    /// Clicks an element that loads a new page (a link, a form's submit
    /// button) and waits until that page has loaded: WebDriver's click may
    /// return before the navigation it starts has finished, most of all on
    /// a busy machine.
    pub async fn click_to_load(&self, el: &str) {
        self.exec("window.__streetcell_old_page = true; return 0")
            .await;
        self.click(el).await;
        let url = format!("{}/session/{}/execute/sync", self.base, self.session);
        let probe = json!({"script": "return !window.__streetcell_old_page && document.readyState === 'complete'",
            "args": []});
        for _ in 0..300 {
            // While the old page unloads, the script may fail: try again.
            if let Ok(r) = self.http.post(&url).json(&probe).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"] == json!(true)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no new page loaded within 30 s of the click");
    }
}
