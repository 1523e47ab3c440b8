//! Helpers for the console tests: a cookie-keeping client that does not
//! follow redirects (so each 303 is seen), sign-in, form posts, and reading
//! the CSRF token out of a page as a browser's form would carry it.

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

use crate::helpers::TestApp;

/// A browser-like client of the console: keeps cookies, shows redirects.
pub struct Visitor {
    /// The client (its own cookie jar).
    pub client: reqwest::Client,
    base: String,
}

/// What a page answered.
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
}

impl Page {
    /// `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// The `Set-Cookie` for cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value of the first hidden `csrf` field of the page.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf").expect("a csrf field on the page")
    }
}

/// The value of the first `<input ... name="{name}" value="...">`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

impl Visitor {
    /// A new visitor with an empty cookie jar.
    pub fn new(app: &TestApp) -> Visitor {
        Visitor {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }

    async fn page(resp: reqwest::Response) -> Page {
        Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.expect("body"),
        }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Page {
        Self::page(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// POST a URL-encoded form.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Signs in with `token` through the sign-in page; returns the answer
    /// to the form (a 303 to the console on success).
    pub async fn sign_in(&self, token: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/console/sign-in",
            &[("token", token), ("csrf", &csrf), ("next", "/console")],
        )
        .await
    }

    /// Signs in and checks it worked.
    pub async fn signed_in(app: &TestApp, token: &str) -> Visitor {
        let v = Visitor::new(app);
        let done = v.sign_in(token).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location(), "/console");
        v
    }
}

/// Moves every console session of the app's database past its expiry, as
/// if eight hours had gone by (the server decides expiry in its query).
pub async fn expire_sessions(app: &TestApp) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.db_url)
        .await
        .expect("connect to the test database");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    sqlx::query("UPDATE console_sessions SET created_at = $1, expires_at = $2")
        .bind(now - 9 * 3600)
        .bind(now - 3600)
        .execute(&mut conn)
        .await
        .expect("expire sessions");
}

/// One part of a multipart form: a name, and for a file its name and type.
pub struct Part<'a> {
    /// Field name.
    pub name: &'a str,
    /// `(filename, content type)` for a file.
    pub file: Option<(&'a str, &'a str)>,
    /// The value.
    pub body: &'a [u8],
}

/// A `multipart/form-data` body as a browser sends it: (content type, bytes).
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----streetcell-test-boundary-7MA4YWxkTrZu0gW";
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p.file {
            Some((filename, ct)) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{filename}\"\r\n\
                     Content-Type: {ct}\r\n\r\n",
                    p.name
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                    p.name
                )
                .as_bytes(),
            ),
        }
        out.extend_from_slice(p.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

impl Visitor {
    /// POSTs a multipart form.
    pub async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> Page {
        let (ct, body) = multipart(parts);
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .expect("POST multipart"),
        )
        .await
    }
}

/// `12345.60` → `12,345.60`, written independently of the console's own.
pub fn grouped(amount: &str) -> String {
    let (whole, pence) = amount.split_once('.').unwrap();
    let digits: Vec<char> = whole.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c);
    }
    format!("{out}.{pence}")
}
