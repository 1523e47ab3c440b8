//! The in-memory spatial index of every asset.
//!
//! Readers take an immutable [`Snapshot`] (one atomic pointer load) and query
//! it without locks; writers build the next snapshot and swap it in. A
//! snapshot is a large bulk-loaded *base* layer plus a small *delta* layer
//! holding what changed since. A write rebuilds only the delta (cheap while
//! small); when the delta outgrows a fraction of the base, the writer folds
//! it into a new base. Readers never wait for either: they keep using the
//! snapshot they hold until they drop it.
//!
//! Each layer has two rstar R-trees: one of points (street furniture, the
//! vast majority) and one of the envelopes of everything else (rooftops,
//! walls). Their entries hold a slot number and a one-byte key (kind,
//! status, power supply), never the asset. The assets live in each layer's
//! id-sorted slot vector, so slot order is id order and paging is stable
//! without sorting strings; the key lets the common filters be decided
//! without reading the asset.
//!
//! Positions are Earth-centred (see [`geodesy`]), so nearest-neighbour
//! order is geodesic order and distances come out in metres.
//!
//! Layout: `located.rs` (an indexed asset, its one-byte key and filters),
//! `layer.rs` (one layer's R-trees and id-sorted slots), `snapshot.rs`
//! (queries over base and delta: pages, bbox, nearest, intersecting), and
//! here the live [`AssetIndex`] that writers swap snapshots into.

pub mod areas;
pub mod geodesy;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use geo::{BoundingRect, Coord, Geometry, Intersects, Point, Rect};
use rstar::{
    AABB, Envelope, ParentNode, RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams,
};

use crate::domain::asset::{Asset, AssetDetails, AssetKind, AssetStatus, PowerSupply};
use crate::domain::criteria::Criteria;
use crate::geojson_io::write_asset_feature;
use geodesy::{ChordToArc, ecef_box, ecef_envelope, geometry_distance, grow};
mod cursor;
mod layer;
mod located;
mod snapshot;

pub use cursor::Cursor;
use layer::*;
use located::*;
pub use located::{AssetFilter, FeatureCache, Located, orient_rings};
pub use snapshot::Snapshot;
use snapshot::*;

/// The live index: the current snapshot and the writers' lock.
///
/// The writers' lock is a std `Mutex`, not a tokio one: it is held only for
/// in-memory work with no `.await` inside, and writers run on blocking
/// threads (`spawn_blocking`) when a rebuild may be long.
pub struct AssetIndex {
    current: ArcSwap<Snapshot>,
    writer: Mutex<()>,
}

/// Below this many changes the delta is never folded into the base.
const MIN_DELTA: usize = 4096;

/// Base layers at least this big are dropped on a thread of their own.
const RETIRE_IN_BACKGROUND: usize = 50_000;

impl AssetIndex {
    /// Bulk-loads an index over `assets`. If an id repeats, the last copy
    /// in `assets` is kept.
    pub fn build(assets: Vec<Asset>) -> AssetIndex {
        AssetIndex {
            current: ArcSwap::from_pointee(Snapshot::from_base(base_from(assets))),
            writer: Mutex::new(()),
        }
    }

    /// The current snapshot. Cheap: one atomic load and a reference count.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Publishes new versions of `upserts` and removes `deletes` (ids).
    pub fn apply(&self, upserts: Vec<Asset>, deletes: Vec<String>) {
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.current.load_full();
        let mut changes = old.changes.clone();
        for a in upserts {
            let id = a.id.clone();
            changes.insert(id, Change(Some(Arc::new(Located::new(a)))));
        }
        for id in deletes {
            let in_base = old.base.find(&id).is_some();
            if in_base {
                changes.insert(id, Change(None));
            } else {
                changes.remove(&id);
            }
        }
        // Each write rebuilds the delta, so its cost grows with the delta;
        // folding (a full bulk load) resets it. Folding at a fixed, modest
        // size keeps single writes in the low milliseconds.
        if changes.len() > MIN_DELTA.max(old.base.slots.len() / 256) {
            self.current.store(Arc::new(fold(&old.base, &changes)));
            retire(old);
        } else {
            let next = with_changes(Arc::clone(&old.base), changes);
            self.current.store(Arc::new(next));
        }
    }

    /// Replaces everything (used after boundary layers change placements).
    pub fn replace_all(&self, assets: Vec<Asset>) {
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let old = self
            .current
            .swap(Arc::new(Snapshot::from_base(base_from(assets))));
        retire(old);
    }
}

/// Lets go of a replaced snapshot. Dropping a large base layer (a million
/// `Arc`s, each freeing an asset's strings) takes a fraction of a second to
/// seconds, and whoever drops the last reference pays: that could be a
/// request thread finishing with an old snapshot. So a big base is handed
/// to a thread that waits until it holds the last reference and drops it
/// there.
fn retire(old: Arc<Snapshot>) {
    let base = Arc::clone(&old.base);
    drop(old);
    if base.slots.len() < RETIRE_IN_BACKGROUND {
        return;
    }
    let dropper = move || {
        let mut base = base;
        loop {
            match Arc::try_unwrap(base) {
                Ok(layer) => return drop(layer),
                Err(shared) => base = shared,
            }
            // Readers hold snapshots for one request; poll gently.
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Should no thread start, the closure (and the layer) drops right here.
    let _ = std::thread::Builder::new()
        .name("index-retire".into())
        .spawn(dropper);
}

/// Inputs smaller than this are bulk-loaded on the calling thread alone.
const PARALLEL_FROM: usize = 20_000;

/// Runs `a` and `b`, on two threads when `parallel`.
fn both<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        (a.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), b)
    })
}

/// Bulk-loads a base layer. The work is split over two cores: first one
/// orders the ids while the other works out every asset's envelope and
/// key; then one bulk-loads the trees while the other moves the assets
/// into their slots.
fn base_from(assets: Vec<Asset>) -> Layer {
    let parallel = assets.len() >= PARALLEL_FROM;
    let (order, facts) = both(
        parallel,
        || id_order(&assets),
        || assets.iter().map(Facts::of).collect::<Vec<_>>(),
    );
    let order = order.as_deref();
    let ((points, shapes), slots) = both(
        parallel,
        || {
            let n = order.map_or(facts.len(), <[u32]>::len);
            let mut entries = Entries::with_capacity(n);
            for slot in 0..n {
                entries.push(slot, &facts[order.map_or(slot, |o| o[slot] as usize)]);
            }
            entries.load()
        },
        || {
            let located = assets
                .into_iter()
                .zip(&facts)
                .map(|(a, f)| Arc::new(Located::with_facts(a, *f)));
            match order {
                None => located.collect::<Vec<_>>(),
                Some(order) => {
                    let mut all: Vec<Option<Arc<Located>>> = located.map(Some).collect();
                    order
                        .iter()
                        .map(|&i| all[i as usize].take().expect("each input once"))
                        .collect()
                }
            }
        },
    );
    Layer {
        points,
        shapes,
        slots,
    }
}

/// The input positions of `assets` in id order, without repeated ids (the
/// last copy wins), or `None` when the input is already in strict id order
/// (as the store returns it).
///
/// Comparing ids directly is slow on shuffled input: each comparison reads
/// two strings scattered over the heap. So this sorts compact keys (the
/// id's first 16 bytes as a big-endian integer, which orders like the
/// bytes, then the input position) and compares whole ids only where the
/// first 16 bytes tie.
fn id_order(assets: &[Asset]) -> Option<Vec<u32>> {
    if assets.windows(2).all(|w| w[0].id < w[1].id) {
        return None;
    }
    let prefix = |id: &str| {
        let mut b = [0u8; 16];
        let n = id.len().min(16);
        b[..n].copy_from_slice(&id.as_bytes()[..n]);
        u128::from_be_bytes(b)
    };
    let mut keys: Vec<(u128, u32)> = assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let i = u32::try_from(i).expect("fewer than 2^32 assets");
            (prefix(&a.id), i)
        })
        .collect();
    keys.sort_unstable();
    let id = |k: &(u128, u32)| assets[k.1 as usize].id.as_str();
    let mut start = 0;
    while start < keys.len() {
        let run = keys[start..]
            .iter()
            .take_while(|k| k.0 == keys[start].0)
            .count();
        if run > 1 {
            keys[start..start + run].sort_unstable_by(|a, b| id(a).cmp(id(b)).then(a.1.cmp(&b.1)));
        }
        start += run;
    }
    let mut order = Vec::with_capacity(keys.len());
    for (j, k) in keys.iter().enumerate() {
        let repeated = keys
            .get(j + 1)
            .is_some_and(|n| n.0 == k.0 && id(n) == id(k));
        if !repeated {
            order.push(k.1);
        }
    }
    Some(order)
}

fn with_changes(base: Arc<Layer>, changes: HashMap<String, Change>) -> Snapshot {
    let mut shadowed = vec![0u64; base.slots.len().div_ceil(64)];
    let mut live = Vec::new();
    for (id, Change(asset)) in &changes {
        if let Some(slot) = base.find(id) {
            shadowed[slot / 64] |= 1 << (slot % 64);
        }
        if let Some(a) = asset {
            live.push(Arc::clone(a));
        }
    }
    live.sort_unstable_by(|a, b| a.id().cmp(b.id()));
    Snapshot {
        base,
        changes,
        delta: Layer::build(live),
        shadowed,
    }
}

/// Folds the changes into a fresh base layer.
fn fold(base: &Layer, changes: &HashMap<String, Change>) -> Snapshot {
    // The base's slots are in id order already: merging the sorted changes
    // into them keeps that order for the cost of sorting the changes, where
    // sorting every slot again compared ids scattered over the heap.
    let mut changed: Vec<(&str, &Change)> =
        changes.iter().map(|(id, c)| (id.as_str(), c)).collect();
    changed.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut slots: Vec<Arc<Located>> = Vec::with_capacity(base.slots.len() + changed.len());
    let mut next = changed.into_iter().peekable();
    let take = |slots: &mut Vec<Arc<Located>>, Change(c): &Change| {
        if let Some(located) = c {
            slots.push(Arc::clone(located));
        }
    };
    for located in &base.slots {
        let id = located.id();
        while let Some((_, change)) = next.next_if(|(changed, _)| *changed < id) {
            take(&mut slots, change);
        }
        match next.next_if(|(changed, _)| *changed == id) {
            Some((_, change)) => take(&mut slots, change),
            None => slots.push(Arc::clone(located)),
        }
    }
    for (_, change) in next {
        take(&mut slots, change);
    }
    Snapshot::from_base(Layer::build(slots))
}

#[cfg(test)]
mod tests;
