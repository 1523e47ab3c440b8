//! Imports: parsed rows written in batches, one transaction each, with a
//! bounded report of the rows refused.
//!
//! Rows are pulled from the parser a batch at a time, so an import holds one
//! batch of parsed assets, never the whole file's. The report keeps the first
//! [`REJECTIONS_LISTED`] rejections in full and counts every rejection by
//! reason (the reason up to its first `:` or `(`, so values such as refs and
//! coordinates do not make every count its own): a file of a million bad
//! rows answers with a few kilobytes.

use std::collections::BTreeMap;

use super::Register;
use crate::domain::asset::AssetDetails;
use crate::import::ParsedRow;
use crate::store::{Store, StoreResult, UpsertOutcome};

/// Rejections listed in full in a report; the rest are counted.
pub const REJECTIONS_LISTED: usize = 100;
/// Distinct reasons counted; rarer ones beyond this are counted as `other`.
pub const REASONS_COUNTED: usize = 64;
/// Longest reason kept, in bytes (a reason quoting a huge cell is cut).
const REASON_MAX: usize = 500;

/// One row an import refused, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// CSV line number, or 1-based feature number in GeoJSON.
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// What an import did: the JSON both the CLI (`--json`) and HTTP answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// New assets.
    pub inserted: usize,
    /// Existing assets (same authority and ref) replaced.
    pub updated: usize,
    /// How many rows were refused in all.
    pub rejected_total: usize,
    /// The first [`REJECTIONS_LISTED`] rows refused, in file order.
    pub rejected: Vec<Rejection>,
    /// Every refused row counted by the kind of reason (the reason up to its
    /// first `:` or `(`).
    pub rejected_by_reason: BTreeMap<String, usize>,
}

impl ImportReport {
    /// Records one refused row: listed while the list is short, always
    /// counted.
    pub fn reject(&mut self, line: u64, mut reason: String) {
        self.rejected_total += 1;
        let class = reason_class(&reason);
        let class = if self.rejected_by_reason.len() < REASONS_COUNTED
            || self.rejected_by_reason.contains_key(class)
        {
            class
        } else {
            "other"
        };
        match self.rejected_by_reason.get_mut(class) {
            Some(n) => *n += 1,
            None => {
                self.rejected_by_reason.insert(class.to_string(), 1);
            }
        }
        if self.rejected.len() < REJECTIONS_LISTED {
            truncate(&mut reason, REASON_MAX);
            self.rejected.push(Rejection { line, reason });
        }
    }
}

/// The kind of a reason: its text up to the first `:` or `(`, trimmed
/// (`coordinates out of range: longitude 200 ...` → `coordinates out of
/// range`); a duplicate ref is `duplicate ref` whatever the ref.
pub fn reason_class(reason: &str) -> &str {
    if reason.starts_with("duplicate ref ") {
        return "duplicate ref";
    }
    let end = reason.find([':', '(']).unwrap_or(reason.len());
    let mut class = reason[..end].trim();
    if class.is_empty() {
        class = reason.trim();
    }
    let mut cut = class.len().min(80);
    while !class.is_char_boundary(cut) {
        cut -= 1;
    }
    &class[..cut]
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
}

/// Where imported rows are written.
pub enum ImportTarget<'a> {
    /// A running service: database and index.
    Register(&'a Register),
    /// The database alone (the CLI); a running server picks the rows up
    /// from the change log.
    Store(&'a Store),
}

/// Rows written per transaction: big enough to amortise commits, small
/// enough that one bad batch or a crash loses little work.
pub const IMPORT_BATCH: usize = 1000;

/// Writes the good rows of a parsed file in batches, one transaction each,
/// and reports the bad ones. `progress` is told how many rows are done.
///
/// `rows` is pulled one batch at a time (on a multi-threaded runtime inside
/// `block_in_place`, since parsing is CPU work), so a streaming parser keeps
/// memory to one batch.
pub async fn import_rows<I>(
    target: ImportTarget<'_>,
    authority: &str,
    rows: I,
    progress: &(dyn Fn(usize) + Sync),
) -> StoreResult<ImportReport>
where
    I: IntoIterator<Item = ParsedRow>,
    I::IntoIter: Send,
{
    let mut report = ImportReport::default();
    let mut rows = rows.into_iter();
    let mut done = 0;
    loop {
        let (batch, seen) = next_batch(&mut rows, &mut report);
        if seen == 0 {
            break;
        }
        if !batch.is_empty() {
            match target {
                ImportTarget::Register(r) => {
                    let s = r.upsert(authority, batch).await?;
                    report.inserted += s.inserted;
                    report.updated += s.updated;
                }
                ImportTarget::Store(s) => {
                    for w in s.upsert_assets(authority, &batch).await? {
                        match w.outcome {
                            UpsertOutcome::Inserted => report.inserted += 1,
                            UpsertOutcome::Updated => report.updated += 1,
                        }
                    }
                }
            }
        }
        done += seen;
        progress(done);
    }
    Ok(report)
}

/// Up to [`IMPORT_BATCH`] good rows (recording bad ones on the way), and
/// how many rows were read.
fn next_batch(
    rows: &mut (impl Iterator<Item = ParsedRow> + Send),
    report: &mut ImportReport,
) -> (Vec<AssetDetails>, usize) {
    let mut pull = || {
        let mut good = Vec::with_capacity(IMPORT_BATCH.min(64));
        let mut seen = 0;
        for row in rows.by_ref() {
            seen += 1;
            match row.outcome {
                Ok(details) => {
                    good.push(details);
                    if good.len() == IMPORT_BATCH {
                        break;
                    }
                }
                Err(reason) => report.reject(row.line, reason),
            }
        }
        (good, seen)
    };
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(pull),
        _ => pull(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_rejections_keep_a_short_list_and_exact_counts() {
        let mut r = ImportReport::default();
        for i in 0..1_000_000u64 {
            let reason = if i % 4 == 0 {
                format!("duplicate ref R{i} (first seen on line 2)")
            } else {
                format!("coordinates out of range: longitude {i} is outside -180..180")
            };
            r.reject(i + 2, reason);
        }
        assert_eq!(r.rejected_total, 1_000_000);
        assert_eq!(r.rejected.len(), REJECTIONS_LISTED);
        assert_eq!(r.rejected[0].line, 2);
        assert_eq!(r.rejected_by_reason["duplicate ref"], 250_000);
        assert_eq!(r.rejected_by_reason["coordinates out of range"], 750_000);
    }

    #[test]
    fn distinct_reasons_beyond_the_cap_are_other() {
        let mut r = ImportReport::default();
        for i in 0..(REASONS_COUNTED + 10) {
            r.reject(1, format!("reason {i}"));
        }
        assert_eq!(r.rejected_by_reason.len(), REASONS_COUNTED + 1);
        assert_eq!(r.rejected_by_reason["other"], 10);
        assert_eq!(
            r.rejected_by_reason.values().sum::<usize>(),
            REASONS_COUNTED + 10
        );
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let mut r = ImportReport::default();
        r.reject(1, "é".repeat(1000));
        assert!(r.rejected[0].reason.len() <= REASON_MAX + '…'.len_utf8());
    }
}
