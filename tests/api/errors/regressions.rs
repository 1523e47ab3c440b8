//! Regressions: inputs that once made the server answer 500.

use super::*;

// Known failure on PostgreSQL until fixed in src/store (reported): sqlx-core
// 0.9.0's Any driver binds a NULL f64 as a NULL *f32* (FLOAT4), and the
// statement is cached per connection with that parameter type; a later
// non-null f64 on the same pooled connection is then refused by PostgreSQL
// ("incorrect binary data format in bind parameter 6"), a 500.
on_both_databases!(
    writes_after_imports_without_heights_never_500,
    |app: TestApp| async move {
        let staff = app.authority("alpha").await;
        // Several imports without heights, so several pooled connections
        // run the upsert with a NULL height first.
        for i in 0..8 {
            let csv = format!("ref,kind,lon,lat\nN-{i},lamp_post,-2.3{i},53.4\n");
            let resp = send_raw(
                &app,
                Method::POST,
                "/v1/authorities/alpha/imports",
                Some(&staff),
                "text/csv",
                csv.into_bytes(),
            )
            .await;
            assert_eq!(resp.status().as_u16(), 200, "import {i}");
        }
        // Then writes that do give a height (and a load rating).
        let mut failures = Vec::new();
        for i in 0..8 {
            let mut f = feature(&format!("H-{i}"), "lamp_post", point(-2.35, 53.41));
            f["properties"]["height_m"] = json!(6.5);
            f["properties"]["load_rating_kg"] = json!(20.0);
            let resp = send_json(
                &app,
                Method::POST,
                "/v1/authorities/alpha/assets",
                &staff,
                &f,
            )
            .await;
            let status = resp.status().as_u16();
            if status != 201 {
                failures.push(format!(
                    "create H-{i}: {status} {}",
                    resp.text().await.unwrap_or_default()
                ));
            }
            let id = asset_id("alpha", &format!("N-{i}"));
            let resp = send_json(
                &app,
                Method::PATCH,
                &format!("/v1/assets/{id}"),
                &staff,
                &json!({"properties": {"height_m": 9.25}}),
            )
            .await;
            let status = resp.status().as_u16();
            if status != 200 {
                failures.push(format!(
                    "patch N-{i}: {status} {}",
                    resp.text().await.unwrap_or_default()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let (_, b) = app.get("/v1/assets?limit=100", Some(&staff)).await;
        assert_eq!(b["numberMatched"], 16, "{b}");
    }
);

// `limit=0` was accepted and its `next` link pointed back at the same page.
on_both_databases!(a_zero_page_size_is_refused, |app: TestApp| async move {
    let (staff, _) = one_asset(&app).await;
    let resp = app
        .client
        .get(app.url("/v1/assets?limit=0"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    invalid(resp, "limit").await;
    for path in [
        "/collections/assets/items?limit=0",
        "/collections/applications/items?limit=0",
    ] {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        problem(resp, 400).await;
    }
    let (s, b) = app.get("/v1/assets?limit=1", Some(&staff)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["numberReturned"], 1, "{b}");
});
