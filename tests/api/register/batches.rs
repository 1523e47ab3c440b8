//! An import through the register in many batches: each batch written while
//! the next is parsed and the one before is published, so the index must
//! end holding exactly what the database holds, progress must count every
//! row once, and rejections must keep their file lines. Real imports use
//! batches of 5,000 or 50,000 rows; small batches take a few hundred rows
//! through the same overlap.

use streetcell::domain::reimport::ImportMode;
use streetcell::import::parse_csv;
use streetcell::register::{ImportTarget, import_rows_in_batches};

use super::*;

const ROWS: usize = 300;
const BATCH: usize = 16;

/// A CSV of `ROWS` rows (refs `B-000`…); every 37th row and the last 20
/// (more than a batch, so a whole batch is refused) have a longitude out of
/// range. Heights are `h + i`. The refused rows' file lines.
fn file(h: usize) -> (Vec<u8>, Vec<u64>) {
    let mut csv = String::from("ref,kind,lon,lat,height_m\n");
    let mut bad = Vec::new();
    for i in 0..ROWS {
        let lon = if i % 37 == 5 || i >= ROWS - 20 {
            // Line 1 is the header.
            bad.push(i as u64 + 2);
            999.0
        } else {
            -2.40 + (i % 20) as f64 * 0.004
        };
        let lat = 53.40 + (i / 20) as f64 * 0.003;
        csv.push_str(&format!("B-{i:03},lamp_post,{lon},{lat},{}\n", h + i));
    }
    (csv.into_bytes(), bad)
}

/// Imports `csv` through the register in batches of [`BATCH`], checking
/// progress moved forward and ended at every row.
async fn import_in_batches(
    app: &TestApp,
    csv: &[u8],
    mode: ImportMode,
) -> streetcell::register::ImportReport {
    let rows = parse_csv(csv, &Default::default()).expect("parse");
    let seen = std::sync::Mutex::new(Vec::new());
    let report = import_rows_in_batches(
        ImportTarget::Register(&app.register),
        AUTHORITY,
        mode,
        rows,
        BATCH,
        &|done| seen.lock().unwrap().push(done),
    )
    .await
    .expect("import");
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "progress went back: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&ROWS), "progress: {seen:?}");
    assert!(seen.len() >= ROWS / BATCH, "one report per batch: {seen:?}");
    report
}

/// Heights by ref, from the register as served.
fn heights(assets: &[Value]) -> BTreeMap<String, f64> {
    assets
        .iter()
        .map(|a| {
            (
                ref_of(a).to_string(),
                a["properties"]["height_m"].as_f64().expect("height"),
            )
        })
        .collect()
}

async fn many_batches(app: TestApp) {
    let token = trafford(&app).await;
    let (csv, bad) = file(100);
    let good = ROWS - bad.len();

    let report = import_in_batches(&app, &csv, ImportMode::Merge).await;
    assert_eq!(report.inserted, good, "{report:?}");
    assert_eq!(report.updated, 0, "{report:?}");
    assert_eq!(report.rejected_total, bad.len(), "{report:?}");
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, bad, "rejected lines");
    // Published by the import itself: no catch-up ran.
    let listed = all_assets(&app, &token).await;
    let want: BTreeMap<String, f64> = (0..ROWS)
        .filter(|i| !bad.contains(&(*i as u64 + 2)))
        .map(|i| (format!("B-{i:03}"), (100 + i) as f64))
        .collect();
    assert_eq!(heights(&listed), want);

    // Again with new heights, replacing the register with the first half of
    // the file: the second half is removed, the first updated.
    let (csv, _) = file(500);
    let half: Vec<u8> = {
        let text = String::from_utf8(csv).unwrap();
        let keep: Vec<&str> = text.lines().take(1 + ROWS / 2).collect();
        format!("{}\n", keep.join("\n")).into_bytes()
    };
    let rows = parse_csv(&half, &Default::default()).expect("parse");
    let report = import_rows_in_batches(
        ImportTarget::Register(&app.register),
        AUTHORITY,
        ImportMode::Replace,
        rows.into_iter().filter(|r| r.outcome.is_ok()),
        BATCH,
        &|_| {},
    )
    .await
    .expect("replace");
    let kept: BTreeMap<String, f64> = (0..ROWS / 2)
        .filter(|i| !bad.contains(&(*i as u64 + 2)))
        .map(|i| (format!("B-{i:03}"), (500 + i) as f64))
        .collect();
    assert_eq!(report.updated, kept.len(), "{report:?}");
    assert_eq!(report.inserted, 0, "{report:?}");
    assert_eq!(report.removed, good - kept.len(), "{report:?}");
    let listed = all_assets(&app, &token).await;
    assert_eq!(heights(&listed), kept);

    // The index holds what the database holds.
    let app = app.restart().await;
    assert_eq!(all_assets(&app, &token).await, listed);
}

on_both_databases!(
    an_import_in_many_batches_publishes_every_row_once,
    many_batches
);
