//! Imports: parsed rows written in batches, one transaction each, with a
//! bounded report of the rows refused.
//!
//! Rows are pulled from the parser a batch at a time, so an import holds a
//! few batches of parsed assets (and, over HTTP, rows waiting to be shown in
//! the index), never the whole file's parsed at once. The report keeps the first
//! [`REJECTIONS_LISTED`] rejections in full and counts every rejection by
//! reason (the reason up to its first `:` or `(`, so values such as refs and
//! coordinates do not make every count its own): a file of a million bad
//! rows answers with a few kilobytes.

use std::collections::{BTreeMap, HashSet};

use super::Register;
use crate::domain::asset::{AssetDetails, asset_id};
use crate::domain::reimport::{Given, ImportMode};
use crate::import::ParsedRow;
use crate::store::{
    Backend, Imported, ImportedBatch, Store, StoreResult, StoredAsset, UpsertOutcome,
};

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
    /// `merge` or `replace` (see [`ImportMode`]).
    pub mode: &'static str,
    /// For each field (and `source_attributes.KEY`), how many existing
    /// assets lost a stored value the file left out (replace mode).
    pub cleared_fields: BTreeMap<String, usize>,
    /// Assets of the authority the file did not list, deleted (replace).
    pub removed: usize,
    /// Assets the file did not list that live applications or installations
    /// hold: kept, made `unavailable` (replace).
    pub retired: usize,
    /// Assets the file did not list, kept because rows were rejected or
    /// none was accepted (replace): a refused row may be one of them.
    pub absent_kept: usize,
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

impl ImportReport {
    /// Counts the values one written row cleared.
    fn count_cleared(&mut self, imported: &Imported) {
        for field in &imported.cleared {
            let key = if self.cleared_fields.len() < REASONS_COUNTED
                || self.cleared_fields.contains_key(field)
            {
                field.as_str()
            } else {
                "other"
            };
            *self.cleared_fields.entry(key.to_string()).or_default() += 1;
        }
        match imported.written.outcome {
            UpsertOutcome::Inserted => self.inserted += 1,
            UpsertOutcome::Updated => self.updated += 1,
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

/// Rows written per transaction by the CLI, and over HTTP on PostgreSQL.
/// Ids are hashes, so every batch touches pages all over the id index and
/// each commit writes those pages out again: fewer, larger transactions
/// write far less (see BENCHMARKS.md).
pub const IMPORT_BATCH: usize = 50_000;

/// Rows written per transaction over HTTP on SQLite, which has one writer
/// for the whole database: a batch holds every other write (a PATCH, an
/// application) for as long as it takes, so it is kept to about a tenth of
/// a second (see BENCHMARKS.md for the trade against import time).
pub const SHARED_SQLITE_IMPORT_BATCH: usize = 5_000;

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
    import_rows_with(target, authority, ImportMode::default(), rows, progress).await
}

/// [`import_rows`] in a given [`ImportMode`]: `Replace` also removes the
/// authority's assets the file does not list, once every row is written,
/// unless a row was rejected or none was accepted (then it counts them as
/// `absent_kept`). Replace keeps the ids of the file's rows (tens of bytes
/// each) to know which assets the file listed.
pub async fn import_rows_with<I>(
    target: ImportTarget<'_>,
    authority: &str,
    mode: ImportMode,
    rows: I,
    progress: &(dyn Fn(usize) + Sync),
) -> StoreResult<ImportReport>
where
    I: IntoIterator<Item = ParsedRow>,
    I::IntoIter: Send,
{
    let batch = match target {
        ImportTarget::Register(r) if r.store.backend() == Backend::Sqlite => {
            SHARED_SQLITE_IMPORT_BATCH
        }
        _ => IMPORT_BATCH,
    };
    import_rows_in_batches(target, authority, mode, rows, batch, progress).await
}

/// [`import_rows_with`] in batches of `batch_rows` good rows: public so
/// tests can take a file through many batches without a file of 100,000
/// rows.
///
/// Three things overlap: while batch `k` is written by its own task, this
/// one parses batch `k + 1`; once `k` is written, `k + 1` starts writing at
/// once and this task publishes `k` to the index (over HTTP) and parses
/// `k + 2`. Batches are still written one after another, in file order, and
/// published in that order. (On a current-thread runtime they take turns.)
#[doc(hidden)]
pub async fn import_rows_in_batches<I>(
    target: ImportTarget<'_>,
    authority: &str,
    mode: ImportMode,
    rows: I,
    batch_rows: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> StoreResult<ImportReport>
where
    I: IntoIterator<Item = ParsedRow>,
    I::IntoIter: Send,
{
    let mut report = ImportReport {
        mode: mode.as_str(),
        ..ImportReport::default()
    };
    let batch_rows = batch_rows.max(1);
    let store = match target {
        ImportTarget::Register(r) => &r.store,
        ImportTarget::Store(s) => s,
    };
    // Over HTTP the register publishes what this import writes (see
    // `own_changes.rs`); the guard hands anything left unpublished to
    // `catch_up` should this future be dropped.
    let mut publishing = match target {
        ImportTarget::Register(r) => Some(Deferred {
            register: r,
            import: r.own.begin_import(),
            pending: Vec::new(),
            published: 0,
            first: batch_rows,
        }),
        ImportTarget::Store(_) => None,
    };
    let mut listed: HashSet<String> = HashSet::new();
    let mut rows = rows.into_iter();
    let mut done = 0;
    // The batch being written, and how many rows it stands for.
    let mut writing: Option<(WriteTask, usize)> = None;
    loop {
        let (batch, seen) = next_batch(&mut rows, &mut report, batch_rows);
        // The previous batch's rows, written (a failed write ends the
        // import here, before the next batch starts).
        let written = match writing.take() {
            Some((task, seen)) => Some((finish(task).await?, seen)),
            None => None,
        };
        if mode == ImportMode::Replace {
            listed.extend(batch.iter().map(|(d, _)| asset_id(authority, &d.asset_ref)));
        }
        if !batch.is_empty() {
            let (store, authority) = (store.clone(), authority.to_string());
            let own = publishing
                .as_ref()
                .map(|p| (p.register.own.clone(), p.import));
            let task = tokio::spawn(async move {
                let written = store.import_assets(&authority, batch, mode).await?;
                // At once, before this process's next `catch_up` can read
                // the feed: those rows are this import's to publish.
                if let Some((own, import)) = own {
                    own.written(import, &written);
                }
                Ok(written)
            });
            writing = Some((task, seen));
        }
        if let Some((written, seen)) = written {
            if let Err(e) = complete(written, &mut report, &mut publishing, authority).await {
                // No write goes on after the import has answered: the batch
                // in flight ends first (its rows, unpublished, are read
                // back by `catch_up` once this import's guard drops).
                if let Some((task, _)) = writing.take() {
                    let _ = finish(task).await;
                }
                return Err(e);
            }
            done += seen;
            progress(done);
        }
        if seen == 0 {
            break;
        }
        if writing.is_none() {
            // Every row of this batch was refused: nothing to write.
            done += seen;
            progress(done);
        }
    }
    if let Some(p) = &mut publishing {
        p.flush().await?;
    }
    if mode == ImportMode::Replace {
        if report.rejected_total > 0 || listed.is_empty() {
            report.absent_kept = store.count_unlisted(authority, &listed).await?;
        } else {
            let gone = match target {
                ImportTarget::Register(r) => r.remove_unlisted(authority, &listed).await?,
                ImportTarget::Store(s) => s.remove_unlisted(authority, &listed).await?,
            };
            report.removed = gone.removed.len();
            report.retired = gone.retired.len();
        }
    }
    Ok(report)
}

/// Counts what a written batch did and passes it on for publication.
async fn complete(
    written: ImportedBatch,
    report: &mut ImportReport,
    publishing: &mut Option<Deferred<'_>>,
    authority: &str,
) -> StoreResult<()> {
    for w in &written.rows {
        report.count_cleared(w);
    }
    if let Some(p) = publishing {
        p.add(authority, written.rows).await?;
    }
    Ok(())
}

/// One batch being written by its own task.
type WriteTask = tokio::task::JoinHandle<StoreResult<ImportedBatch>>;

/// The rows a write task wrote; its panic goes on in the caller.
async fn finish(task: WriteTask) -> StoreResult<ImportedBatch> {
    match task.await {
        Ok(written) => written,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled: the runtime is shutting down.
        Err(_) => Err(sqlx::Error::WorkerCrashed.into()),
    }
}

/// An HTTP import's rows, written and waiting to be published.
///
/// Publishing folds the index's delta into its base once the delta passes
/// 4,096 changes, a bulk load of the whole register; publishing every
/// 1,000-row batch made a 1M-row import rebuild the index some 250 times.
/// So rows are published when those waiting reach the number published so
/// far (at least one batch): a handful of folds whatever the file's size,
/// and the first rows show after the first batch.
struct Deferred<'a> {
    register: &'a Register,
    import: u64,
    pending: Vec<(String, Imported)>,
    published: usize,
    /// Rows per batch: the least published at once.
    first: usize,
}

impl Deferred<'_> {
    async fn add(&mut self, authority: &str, rows: Vec<Imported>) -> StoreResult<()> {
        self.pending
            .extend(rows.into_iter().map(|w| (authority.to_string(), w)));
        if self.pending.len() >= self.published.max(self.first) {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> StoreResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        self.published += rows.len();
        self.register.publish_imported(self.import, rows).await
    }
}

impl Drop for Deferred<'_> {
    fn drop(&mut self) {
        self.register.own.end_import(self.import);
    }
}

impl Register {
    /// Publishes rows an import wrote, as stored, unless another
    /// publication touched them since the import began: those are read
    /// back from the database (they may have changed after the import
    /// wrote them).
    async fn publish_imported(
        &self,
        import: u64,
        rows: Vec<(String, Imported)>,
    ) -> StoreResult<()> {
        let _publishing = self.publishing.lock().await;
        let ids: Vec<&str> = rows.iter().map(|(_, w)| w.written.id.as_str()).collect();
        let touched = self.own.published(import, &ids);
        let stored = rows
            .into_iter()
            .filter(|(_, w)| !touched.contains(&w.written.id))
            .map(|(authority, w)| StoredAsset {
                id: w.written.id,
                authority,
                details: w.details,
                occupancy: w.written.occupancy,
                revision: w.written.revision,
            })
            .collect();
        // The rows as written first: should reading the touched ones back
        // fail, those go to `catch_up` as orphans rather than being lost
        // (`published` has already taken them off the import's list).
        self.apply_index(stored, Vec::new());
        if !touched.is_empty() {
            let touched: Vec<String> = touched.into_iter().collect();
            if let Err(e) = self.refresh_locked(&touched).await {
                self.own.return_orphans(touched);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes the authority's assets not in `listed` (see
    /// [`Store::remove_unlisted`]) and refreshes them in the index.
    pub async fn remove_unlisted(
        &self,
        authority: &str,
        listed: &HashSet<String>,
    ) -> StoreResult<crate::store::Unlisted> {
        let gone = self.store.remove_unlisted(authority, listed).await?;
        let ids: Vec<String> = gone.removed.iter().chain(&gone.retired).cloned().collect();
        self.refresh_assets(&ids).await?;
        Ok(gone)
    }
}

/// Up to `size` good rows (recording bad ones on the way), and how many
/// rows were read.
fn next_batch(
    rows: &mut (impl Iterator<Item = ParsedRow> + Send),
    report: &mut ImportReport,
    size: usize,
) -> (Vec<(AssetDetails, Given)>, usize) {
    let mut pull = || {
        let mut good = Vec::with_capacity(size.min(64));
        let mut seen = 0;
        for row in rows.by_ref() {
            seen += 1;
            match row.outcome {
                Ok(details) => {
                    good.push((details, row.given));
                    if good.len() == size {
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
