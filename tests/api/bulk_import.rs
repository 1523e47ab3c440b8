//! PostgreSQL imports go in by `COPY` (`store/pg_import.rs`); this checks
//! they store exactly what the multi-row `INSERT` path stores, through
//! inserts, a merge and a replace over stored rows, with values that are
//! syntax in `COPY`'s text format (tabs, line breaks, backslashes, `\N`).
//! The HTTP tests (edits, bng, register, errors) run the `COPY` path on
//! PostgreSQL too, with their rejections and modes.

use streetcell::domain::reimport::ImportMode;
use streetcell::import::{Mapping, parse_csv};
use streetcell::store::{Imported, Store};

use crate::helpers::{Db, fresh_database};

/// Every field an import fills, and values `COPY` must escape.
const FIRST: &str = "ref,kind,lon,lat,height_m,power_supply,status,install_year,last_inspected,photo_url,listed,load_rating_kg,capacity,note\n\
A1,lamp_post,-2.35,53.39,8,part_night,available,1990,2024-03-01,https://x.example/a.jpg,yes,12.5,2,plain\n\
\"B\\2\",cctv_column,-2.351,53.391,,continuous,unavailable,,,\\N,,,,\"tab\there\"\n\
\"C\t3\",bus_shelter,-2.352,53.392,0.1,none,available,2024,,,no,0.30000000000000004,,\"line\nbreak, \\\\ back\r\"\n\
D4,lamp_post,-2.35312345678,53.39398765432,12,part_night,available,,,,,,,\"quote \"\" é ✓ \\N\"\n";

/// Fewer columns: a merge keeps what is left out, a replace clears it.
const SECOND: &str = "ref,kind,lon,lat,status,other\n\
A1,lamp_post,-2.36,53.38,unavailable,x\n\
\"C\t3\",bus_shelter,-2.352,53.392,available,\"y\\z\"\n\
E5,traffic_signal,-2.37,53.37,available,\n";

fn rows(
    csv: &str,
) -> Vec<(
    streetcell::domain::asset::AssetDetails,
    streetcell::domain::reimport::Given,
)> {
    parse_csv(csv.as_bytes(), &Mapping::default())
        .expect("parse")
        .into_iter()
        .map(|r| (r.outcome.expect("a good row"), r.given))
        .collect()
}

/// Every stored column but the time stamps, row by row in id order, and
/// the change feed's asset ids in order.
async fn contents(store_url: &str) -> (Vec<String>, Vec<String>) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(store_url)
        .await
        .expect("connect");
    let assets: Vec<(String,)> = sqlx::query_as(
        "SELECT concat_ws('|', id, authority, ref, kind, geometry, \
         coalesce(height_m::text, 'NULL'), power_supply, capacity, \
         coalesce(load_rating_kg::text, 'NULL'), coalesce(last_inspected, 'NULL'), \
         coalesce(install_year::text, 'NULL'), status, listed, coalesce(photo_url, 'NULL'), \
         source_attributes, in_use, installed, revision, (created_at <= updated_at)::text) \
         FROM assets ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .expect("assets");
    let changes: Vec<(String,)> = sqlx::query_as("SELECT asset_id FROM asset_changes ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .expect("changes");
    (
        assets.into_iter().map(|r| r.0).collect(),
        changes.into_iter().map(|r| r.0).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_imports_store_what_statement_imports_store() {
    let Some((copy_url, _)) = fresh_database(Db::Postgres).await else {
        return;
    };
    let Some((statements_url, _)) = fresh_database(Db::Postgres).await else {
        return;
    };
    let copy = Store::connect(&copy_url).await.expect("connect");
    let statements = Store::connect(&statements_url).await.expect("connect");
    for s in [&copy, &statements] {
        s.create_authority("t", "Test").await.expect("authority");
    }
    let steps = [
        (FIRST, ImportMode::Merge),
        (SECOND, ImportMode::Merge),
        (FIRST, ImportMode::Replace),
        (SECOND, ImportMode::Replace),
    ];
    let mut first = Vec::new();
    for (i, (csv, mode)) in steps.into_iter().enumerate() {
        let by_copy: Vec<Imported> = copy
            .import_assets("t", rows(csv), mode)
            .await
            .expect("copy import")
            .rows;
        let by_statements = statements
            .import_assets_by_statements("t", rows(csv), mode)
            .await
            .expect("statement import")
            .rows;
        assert_eq!(by_copy, by_statements, "step {i}: what the import reports");
        let (copied, copied_feed) = contents(&copy_url).await;
        let (stated, stated_feed) = contents(&statements_url).await;
        assert_eq!(copied, stated, "step {i}: stored rows");
        assert_eq!(copied_feed, stated_feed, "step {i}: change feed");
        if i == 0 {
            first = copied;
        }
    }
    // An independent look at the escaped values: read back as written.
    let all = first.join("\n");
    assert_eq!(first.len(), 4, "{all}");
    assert!(all.contains("|B\\2|"), "{all}");
    assert!(all.contains("|C\t3|"), "{all}");
    assert!(all.contains("|\\N|"), "the text \\N is not NULL: {all}");
    assert!(all.contains("|0.30000000000000004|"), "{all}");
    assert!(all.contains(r#""line\nbreak, \\\\ back\r""#), "{all}");
    assert!(all.contains(r#""quote \" é ✓ \\N""#), "{all}");
    // The replace steps cleared what the second file leaves out.
    let (last, feed) = contents(&copy_url).await;
    assert_eq!(feed.len(), 4 + 3 + 4 + 3);
    let a1 = last.iter().find(|r| r.contains("|A1|")).expect("A1");
    assert!(
        a1.contains("|NULL|none|1|NULL|NULL|NULL|unavailable|0|NULL|{\"other\":\"x\"}|"),
        "{a1}"
    );
}
