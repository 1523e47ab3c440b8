//! A walk over every live asset of one snapshot in id order that owns the
//! snapshot, so a bulk download can stream the whole register from it a
//! chunk at a time without collecting the assets (or references to them)
//! first.

use super::*;

/// Every live asset of a snapshot, in id order: the base layer's slots not
/// shadowed by a change, merged with the delta layer's. Holding the
/// snapshot keeps it alive until the walk ends (a download in flight pins
/// the index it started on, which is what makes the file consistent).
pub struct Cursor {
    snap: Arc<Snapshot>,
    base: usize,
    delta: usize,
}

impl Cursor {
    /// A walk from the first asset of `snap`.
    pub fn new(snap: Arc<Snapshot>) -> Cursor {
        Cursor {
            snap,
            base: 0,
            delta: 0,
        }
    }

    /// The snapshot walked.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snap
    }
}

impl Iterator for Cursor {
    type Item = Arc<Located>;

    fn next(&mut self) -> Option<Arc<Located>> {
        let s = &*self.snap;
        while self.base < s.base.slots.len() && !s.base_live(self.base as u32) {
            self.base += 1;
        }
        let from_base = match (s.base.slots.get(self.base), s.delta.slots.get(self.delta)) {
            (Some(x), Some(y)) => x.id() < y.id(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let next = if from_base {
            self.base += 1;
            &s.base.slots[self.base - 1]
        } else {
            self.delta += 1;
            &s.delta.slots[self.delta - 1]
        };
        Some(Arc::clone(next))
    }
}
