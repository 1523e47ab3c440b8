//! Documents attached to applications: types judged from the bytes, the
//! size limit, storage in the database, and who may read them.

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::application_helpers::*;
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    documents_are_judged_by_their_bytes_and_kept_for_the_parties,
    |app: TestApp| async move {
        let sc = scene(&app, "trafford", true).await;
        let a = lamp_post(&app, &sc.staff, "trafford", "D-1", 1).await;
        let (s, b) = submit(&app, &sc.acme, &form(&[a], today(), 3)).await;
        assert_eq!(s, 201, "{b}");
        let id = b["id"].as_str().unwrap().to_string();

        let (s, doc) = attach(&app, &sc.acme, &id, "calcs.pdf", "application/pdf", pdf()).await;
        assert_eq!(s, 201, "{doc}");
        assert_eq!(doc["content_type"], "application/pdf");
        assert_eq!(doc["size_bytes"], pdf().len());
        let (s, photo) = attach(&app, &sc.acme, &id, "site.png", "image/png", png()).await;
        assert_eq!(s, 201, "{photo}");

        // A lying content type is refused, however the bytes are labelled.
        for (name, declared, bytes) in [
            ("calcs.png", "image/png", pdf()),
            ("photo.pdf", "application/pdf", png()),
            (
                "page.pdf",
                "application/pdf",
                b"<html><script>alert(1)</script></html>".to_vec(),
            ),
            (
                "x.jpg",
                "image/jpeg",
                b"\xff\xd8\xff\xe0 cut short".to_vec(),
            ),
            ("page.html", "text/html", b"<html></html>".to_vec()),
            ("empty.pdf", "application/pdf", Vec::new()),
        ] {
            let (s, b) = attach(&app, &sc.acme, &id, name, declared, bytes).await;
            assert_eq!(s, 415, "{name}: {b}");
        }
        let (s, b) = attach(
            &app,
            &sc.acme,
            &id,
            "..%2Fsecret.pdf",
            "application/pdf",
            pdf(),
        )
        .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "filename");

        // Over the limit (20 MB by default): refused as soon as it is
        // announced, or as soon as a body without a length passes it.
        let path = format!("/v1/applications/{id}/attachments?filename=big.pdf");
        let limit = 20 * 1024 * 1024;
        let announced = raw_post(
            &app,
            &sc.acme,
            &path,
            &format!("Content-Length: {}", limit + 1),
            Vec::new(),
        )
        .await;
        assert_eq!(announced, 413);
        let mut chunked = format!("{:x}\r\n", limit + 1).into_bytes();
        chunked.extend(std::iter::repeat_n(b'%', limit + 1));
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let streamed = raw_post(&app, &sc.acme, &path, "Transfer-Encoding: chunked", chunked).await;
        assert_eq!(streamed, 413);
        let (_, list) = attachments(&app, &sc.acme, &id).await;
        assert_eq!(list["attachments"].as_array().unwrap().len(), 2);

        // Listed and downloaded byte for byte by the applicant and the council.
        for token in [&sc.acme, &sc.staff] {
            let (s, list) = attachments(&app, token, &id).await;
            assert_eq!(s, 200, "{list}");
            let names: Vec<&str> = list["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["filename"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["calcs.pdf", "site.png"]);
            let (s, ct, bytes) = get_bytes(&app, Some(token), doc["href"].as_str().unwrap()).await;
            assert_eq!(s, 200);
            assert_eq!(ct, "application/pdf");
            assert_eq!(bytes, pdf());
        }
        let resp = app
            .client
            .get(app.url(photo["href"].as_str().unwrap()))
            .bearer_auth(&sc.staff)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            resp.headers()["content-disposition"],
            "attachment; filename=\"site.png\""
        );
        assert_eq!(resp.bytes().await.unwrap().to_vec(), png());

        // Kept in the database: still there after a restart.
        let app = app.restart().await;
        let (s, _, bytes) = get_bytes(&app, Some(&sc.acme), doc["href"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert_eq!(bytes, pdf());

        // Each one is in the audit trail.
        let (_, ev) = events(&app, &sc.staff, &id).await;
        let attached: Vec<&str> = ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "attach")
            .map(|e| e["detail"]["filename"].as_str().unwrap())
            .collect();
        assert_eq!(attached, ["calcs.pdf", "site.png"]);

        // Decided applications take no more documents.
        let (s, _) = withdraw(&app, &sc.acme, &id).await;
        assert_eq!(s, 200);
        let (s, b) = attach(&app, &sc.acme, &id, "late.pdf", "application/pdf", pdf()).await;
        assert_eq!(s, 409, "{b}");
        assert_eq!(b["current_status"], "withdrawn");
        assert_eq!(b["status"], json!(409));
    }
);

/// POSTs a PDF upload over a bare connection with the given length header
/// and body bytes, and returns the response status. The body is written
/// while the response is read, and a server that answers before the body
/// ends may close the connection under the writer: that is expected.
async fn raw_post(app: &TestApp, token: &str, path: &str, length: &str, body: Vec<u8>) -> u16 {
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/pdf\r\n{length}\r\nConnection: close\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        if wr.write_all(head.as_bytes()).await.is_ok() {
            let _ = wr.write_all(&body).await;
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(std::time::Duration::from_secs(30), rd.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    writer.abort();
    let line = String::from_utf8_lossy(&got);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {line:?}"))
}
