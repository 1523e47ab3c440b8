//! The change-feed rows this process's own imports wrote, which
//! [`Register::catch_up`](super::Register::catch_up) passes over.
//!
//! An HTTP import publishes the rows it writes itself, from what it wrote,
//! a growing chunk at a time (`imports.rs`). Re-reading those rows from the
//! database when `catch_up` meets them in the feed would double the work of
//! a large import, so each batch's feed keys are noted here as soon as its
//! transaction commits, and `catch_up` skips them. Three things keep the
//! index right meanwhile:
//!
//! - Rows the import wrote but has not published yet may be changed by
//!   others before it does (a PATCH, an application taking capacity, a
//!   delete). Every other publication while an import runs notes its ids
//!   (`touched`); the import reads those back from the database instead of
//!   publishing its own copy.
//! - An import that ends before publishing everything (its request was
//!   dropped, a batch failed) leaves its written ids as orphans, which the
//!   next `catch_up` reads back.
//! - A batch that commits after its import ended is not noted at all, so
//!   `catch_up` reads it from the feed like anyone else's.
//!
//! Keys are forgotten once the feed's cursor passes them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use crate::store::{ChangeCursor, ImportedBatch};

/// See the module docs.
#[derive(Debug, Default)]
pub(super) struct OwnChanges(Mutex<Own>);

#[derive(Debug, Default)]
struct Own {
    /// Feed keys of rows imports here wrote, not yet passed by the cursor.
    keys: BTreeSet<ChangeCursor>,
    /// Imports running: for each, the ids written and not yet published,
    /// in the order written.
    imports: HashMap<u64, Vec<String>>,
    next_import: u64,
    /// Ids other publications wrote while imports ran.
    touched: HashSet<String>,
    /// Ids imports wrote and never published.
    orphans: Vec<String>,
    /// Where `catch_up`'s cursor stands: keys at or before it are not kept.
    passed: ChangeCursor,
}

impl OwnChanges {
    fn lock(&self) -> std::sync::MutexGuard<'_, Own> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True when no import is running and none left rows unpublished: the
    /// index then holds every change the feed's cursor has passed.
    pub(super) fn is_idle(&self) -> bool {
        let own = self.lock();
        own.imports.is_empty() && own.orphans.is_empty()
    }

    /// Starts an import; returns its number.
    pub(super) fn begin_import(&self) -> u64 {
        let mut own = self.lock();
        own.next_import += 1;
        let import = own.next_import;
        own.imports.insert(import, Vec::new());
        import
    }

    /// Notes a batch `import` has committed (nothing once it has ended).
    pub(super) fn written(&self, import: u64, batch: &ImportedBatch) {
        let mut own = self.lock();
        let own = &mut *own;
        if let Some(pending) = own.imports.get_mut(&import) {
            let passed = own.passed;
            own.keys
                .extend(batch.changes.iter().copied().filter(|k| *k > passed));
            pending.extend(batch.rows.iter().map(|w| w.written.id.clone()));
        }
    }

    /// `import` publishes `ids` (the oldest it has pending, in order):
    /// returns those another publication touched since imports began.
    pub(super) fn published(&self, import: u64, ids: &[&str]) -> HashSet<String> {
        let mut own = self.lock();
        if let Some(pending) = own.imports.get_mut(&import) {
            let n = ids.len().min(pending.len());
            pending.drain(..n);
        }
        ids.iter()
            .filter(|id| own.touched.contains(**id))
            .map(|id| id.to_string())
            .collect()
    }

    /// Ends `import`: whatever it did not publish becomes an orphan.
    pub(super) fn end_import(&self, import: u64) {
        let mut own = self.lock();
        if let Some(pending) = own.imports.remove(&import) {
            own.orphans.extend(pending);
        }
        if own.imports.is_empty() {
            own.touched = HashSet::new();
        }
    }

    /// Notes ids another publication writes, while imports run.
    pub(super) fn touch<'a>(&self, ids: impl Iterator<Item = &'a String>) {
        let mut own = self.lock();
        if !own.imports.is_empty() {
            let ids: Vec<String> = ids.cloned().collect();
            own.touched.extend(ids);
        }
    }

    /// The orphans, to read back.
    pub(super) fn take_orphans(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().orphans)
    }

    /// Orphans that could not be read back, for the next try.
    pub(super) fn return_orphans(&self, ids: Vec<String>) {
        self.lock().orphans.extend(ids);
    }

    /// The ids of `rows` (one read of the feed) that imports here did not
    /// write, sorted and without repeats; forgets keys at or before `next`,
    /// where the cursor now stands.
    pub(super) fn foreign_ids(
        &self,
        rows: &[(ChangeCursor, String)],
        next: ChangeCursor,
    ) -> Vec<String> {
        let mut own = self.lock();
        let mut ids: Vec<String> = rows
            .iter()
            .filter(|(key, _)| !own.keys.contains(key))
            .map(|(_, id)| id.clone())
            .collect();
        let mut later = own.keys.split_off(&next);
        later.remove(&next);
        own.keys = later;
        own.passed = own.passed.max(next);
        ids.sort();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_dropped_before_publishing_leaves_orphans_and_touches_are_kept_while_imports_run() {
        let own = OwnChanges::default();
        own.touch(["x".to_string()].iter());
        let a = own.begin_import();
        own.touch(["t".to_string()].iter());
        let batch = ImportedBatch {
            rows: Vec::new(),
            changes: Vec::new(),
        };
        own.written(a, &batch);
        own.lock()
            .imports
            .get_mut(&a)
            .unwrap()
            .extend(["p".into(), "t".into(), "q".into()]);
        let touched = own.published(a, &["p", "t"]);
        assert_eq!(
            touched,
            HashSet::from(["t".to_string()]),
            "x was touched before"
        );
        own.end_import(a);
        assert_eq!(own.take_orphans(), vec!["q".to_string()]);
        assert!(own.lock().touched.is_empty());
        // A batch of an import that has ended is not noted.
        own.written(a, &batch);
        assert!(own.lock().imports.is_empty());
    }
}
