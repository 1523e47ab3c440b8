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
//! The R-trees hold slot numbers and envelopes only; the assets themselves
//! live in each layer's id-sorted slot vector, so slot order is id order
//! and paging is stable without sorting strings.
//!
//! Positions are Earth-centred (see [`geodesy`]), so nearest-neighbour
//! order is geodesic order and distances come out in metres.

pub mod areas;
pub mod geodesy;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use geo::{BoundingRect, Geometry, Intersects, Point, Rect};
use rstar::{AABB, PointDistance, RTree, RTreeObject};

use crate::domain::asset::Asset;
use geodesy::{ecef, ecef_box, ecef_envelope, geometry_distance, grow};

/// An asset with the geometry facts queries need, computed once on write.
#[derive(Debug)]
pub struct Located {
    /// The asset.
    pub asset: Asset,
    /// Its lon/lat bounding rectangle.
    pub bbox: Rect<f64>,
    envelope: AABB<[f64; 3]>,
}

impl Located {
    /// Computes the envelopes of `asset`.
    pub fn new(mut asset: Asset) -> Located {
        orient_rings(&mut asset.details.geometry);
        let g = &asset.details.geometry;
        let bbox = g
            .bounding_rect()
            .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)));
        let envelope = ecef_envelope(g);
        Located {
            asset,
            bbox,
            envelope,
        }
    }

    /// The asset's id.
    pub fn id(&self) -> &str {
        &self.asset.id
    }

    /// Exact test: does the asset touch the lon/lat rectangle?
    fn intersects_rect(&self, rect: &Rect<f64>) -> bool {
        if !self.bbox.intersects(rect) {
            return false;
        }
        match &self.asset.details.geometry {
            Geometry::Point(_) => true, // its bbox is the point itself
            g => g.intersects(rect),
        }
    }

    /// Geodesic distance in metres from `p` to the asset.
    fn distance_to(&self, p: Point<f64>) -> f64 {
        match &self.asset.details.geometry {
            Geometry::Point(q) => geodesy::point_distance(p, *q),
            g => geometry_distance(&Geometry::Point(p), g),
        }
    }
}

/// Puts polygon rings in RFC 7946's right-hand-rule order (exterior
/// counter-clockwise, holes clockwise), once on write, so every response
/// follows it whatever order the council's export used.
pub fn orient_rings(g: &mut Geometry<f64>) {
    use geo::orient::{Direction, Orient};
    match g {
        Geometry::Polygon(p) => *p = p.orient(Direction::Default),
        Geometry::MultiPolygon(m) => *m = m.orient(Direction::Default),
        _ => {}
    }
}

/// What the R-tree stores: a slot number and an envelope, never the asset.
#[derive(Debug, Clone)]
struct Entry {
    slot: u32,
    envelope: AABB<[f64; 3]>,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for Entry {
    /// Squared chord distance to the envelope: a lower bound of the squared
    /// geodesic distance to the asset (exact for points).
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.envelope.distance_2(point)
    }
}

/// An R-tree over an id-sorted set of assets.
#[derive(Debug)]
struct Layer {
    tree: RTree<Entry>,
    slots: Vec<Arc<Located>>,
}

impl Layer {
    fn empty() -> Layer {
        Layer {
            tree: RTree::new(),
            slots: Vec::new(),
        }
    }

    /// Bulk-loads a layer; `slots` must be sorted by id with no repeats.
    fn build(slots: Vec<Arc<Located>>) -> Layer {
        debug_assert!(slots.windows(2).all(|w| w[0].id() < w[1].id()));
        let entries = slots
            .iter()
            .enumerate()
            .map(|(i, l)| Entry {
                slot: i as u32,
                envelope: l.envelope,
            })
            .collect();
        Layer {
            tree: RTree::bulk_load(entries),
            slots,
        }
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.slots.binary_search_by(|l| l.id().cmp(id)).ok()
    }
}

/// A change recorded in the delta: the new version, or `None` for deleted.
#[derive(Debug, Clone)]
struct Change(Option<Arc<Located>>);

/// An immutable, consistent view of every asset.
#[derive(Debug)]
pub struct Snapshot {
    base: Arc<Layer>,
    /// Changes since `base` was built, by asset id.
    changes: HashMap<String, Change>,
    /// The live assets among `changes`, as a small layer of their own.
    delta: Layer,
    /// Bit per base slot: set when `changes` overrides that slot.
    shadowed: Vec<u64>,
}

/// A filter over assets, applied after the spatial test.
pub trait AssetFilter: Fn(&Asset) -> bool {}
impl<F: Fn(&Asset) -> bool> AssetFilter for F {}

impl Snapshot {
    fn from_base(base: Layer) -> Snapshot {
        let words = base.slots.len().div_ceil(64);
        Snapshot {
            base: Arc::new(base),
            changes: HashMap::new(),
            delta: Layer::empty(),
            shadowed: vec![0; words],
        }
    }

    fn base_live(&self, slot: u32) -> bool {
        self.shadowed[slot as usize / 64] & (1 << (slot % 64)) == 0
    }

    /// Number of live assets.
    pub fn len(&self) -> usize {
        let shadowed: usize = self.shadowed.iter().map(|w| w.count_ones() as usize).sum();
        self.base.slots.len() - shadowed + self.delta.slots.len()
    }

    /// Whether there are no assets at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The asset with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Located>> {
        match self.changes.get(id) {
            Some(Change(found)) => found.as_ref(),
            None => self.base.find(id).map(|i| &self.base.slots[i]),
        }
    }

    /// Every live asset touching any of `rects` (lon/lat, `min.x <= max.x`;
    /// split boxes that cross the antimeridian), or every asset when `rects`
    /// is `None`, that passes `filter`, in id order.
    pub fn query(
        &self,
        rects: Option<&[Rect<f64>]>,
        filter: impl AssetFilter,
    ) -> Vec<&Arc<Located>> {
        let from_base = self.layer_query(&self.base, rects, true, &filter);
        let from_delta = self.layer_query(&self.delta, rects, false, &filter);
        let base = from_base.into_iter().map(|s| &self.base.slots[s as usize]);
        let delta = from_delta
            .into_iter()
            .map(|s| &self.delta.slots[s as usize]);
        merge_by_id(base, delta)
    }

    fn layer_query(
        &self,
        layer: &Layer,
        rects: Option<&[Rect<f64>]>,
        is_base: bool,
        filter: &impl AssetFilter,
    ) -> Vec<u32> {
        let live = |slot: u32| !is_base || self.base_live(slot);
        let Some(rects) = rects else {
            return (0..layer.slots.len() as u32)
                .filter(|&s| live(s) && filter(&layer.slots[s as usize].asset))
                .collect();
        };
        let mut hits = Vec::new();
        for rect in rects {
            for e in layer.tree.locate_in_envelope_intersecting(&ecef_box(*rect)) {
                let l = &layer.slots[e.slot as usize];
                if live(e.slot) && l.intersects_rect(rect) && filter(&l.asset) {
                    hits.push(e.slot);
                }
            }
        }
        hits.sort_unstable();
        if rects.len() > 1 {
            hits.dedup();
        }
        hits
    }

    /// The `k` assets nearest to `p` that pass `filter`, closest first, with
    /// geodesic distances in metres, optionally no further than
    /// `max_distance_m`. Ties are broken by id, so answers are repeatable.
    pub fn nearest(
        &self,
        p: Point<f64>,
        k: usize,
        max_distance_m: Option<f64>,
        filter: impl AssetFilter,
    ) -> Vec<(&Arc<Located>, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let q = ecef(p.x(), p.y());
        let max = max_distance_m.unwrap_or(f64::INFINITY);
        let mut best: BinaryHeap<Candidate<'_>> = BinaryHeap::new();
        for (layer, is_base) in [(&*self.base, true), (&self.delta, false)] {
            for (e, d2) in layer.tree.nearest_neighbor_iter_with_distance_2(&q) {
                // Chord distance bounds geodesic distance from below, so once
                // it passes the k-th best (or the limit) nothing further can win.
                let bound = d2.sqrt();
                let kth = if best.len() == k {
                    best.peek().map_or(f64::INFINITY, |c| c.distance)
                } else {
                    f64::INFINITY
                };
                if bound > max || bound > kth {
                    break;
                }
                if is_base && !self.base_live(e.slot) {
                    continue;
                }
                let l = &layer.slots[e.slot as usize];
                if !filter(&l.asset) {
                    continue;
                }
                let distance = match &l.asset.details.geometry {
                    // For a point the tree's distance is the exact chord.
                    Geometry::Point(_) if bound < geodesy::SHORT_CHORD_M => {
                        geodesy::geodesic_from_chord(bound, p.y())
                    }
                    _ => l.distance_to(p),
                };
                if distance > max {
                    continue;
                }
                let c = Candidate {
                    distance,
                    located: l,
                };
                if best.len() < k {
                    best.push(c);
                } else if c < *best.peek().expect("heap holds k") {
                    best.pop();
                    best.push(c);
                }
            }
        }
        let mut out = best.into_sorted_vec();
        out.truncate(k);
        out.into_iter().map(|c| (c.located, c.distance)).collect()
    }

    /// Every asset within `radius_m` geodesic metres of `p`, closest first.
    pub fn within_distance(
        &self,
        p: Point<f64>,
        radius_m: f64,
        filter: impl AssetFilter,
    ) -> Vec<(&Arc<Located>, f64)> {
        self.nearest(p, usize::MAX, Some(radius_m), filter)
    }

    /// Every asset that intersects `geometry` or lies within `buffer_m`
    /// geodesic metres of it, in id order, with its distance (0 when it
    /// intersects).
    pub fn intersecting(
        &self,
        geometry: &Geometry<f64>,
        buffer_m: f64,
        filter: impl AssetFilter,
    ) -> Vec<(&Arc<Located>, f64)> {
        let Some(rect) = geometry.bounding_rect() else {
            return Vec::new();
        };
        // Chord ≤ geodesic, so growing the box by the buffer in metres keeps
        // every asset within the buffer.
        let search = grow(&ecef_box(rect), buffer_m.max(0.0));
        let mut out = Vec::new();
        for (layer, is_base) in [(&*self.base, true), (&self.delta, false)] {
            let mut hits: Vec<(u32, f64)> = Vec::new();
            for e in layer.tree.locate_in_envelope_intersecting(&search) {
                if is_base && !self.base_live(e.slot) {
                    continue;
                }
                let l = &layer.slots[e.slot as usize];
                if !filter(&l.asset) {
                    continue;
                }
                let g = &l.asset.details.geometry;
                let d = if buffer_m <= 0.0 {
                    if g.intersects(geometry) {
                        0.0
                    } else {
                        continue;
                    }
                } else {
                    geometry_distance(g, geometry)
                };
                if d <= buffer_m.max(0.0) {
                    hits.push((e.slot, d));
                }
            }
            hits.sort_unstable_by_key(|h| h.0);
            out.push(
                hits.into_iter()
                    .map(|(s, d)| (&layer.slots[s as usize], d))
                    .collect::<Vec<_>>(),
            );
        }
        let delta = out.pop().unwrap_or_default();
        let base = out.pop().unwrap_or_default();
        merge_pairs_by_id(base, delta)
    }
}

/// Merges two id-sorted runs into one.
fn merge_by_id<'a>(
    a: impl Iterator<Item = &'a Arc<Located>>,
    b: impl Iterator<Item = &'a Arc<Located>>,
) -> Vec<&'a Arc<Located>> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    let mut out = Vec::with_capacity(a.size_hint().0 + b.size_hint().0);
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.id() < y.id(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        out.push(if take_a { a.next() } else { b.next() }.expect("peeked"));
    }
}

fn merge_pairs_by_id<'a>(
    a: Vec<(&'a Arc<Located>, f64)>,
    b: Vec<(&'a Arc<Located>, f64)>,
) -> Vec<(&'a Arc<Located>, f64)> {
    let mut out: Vec<_> = a.into_iter().chain(b).collect();
    out.sort_by(|x, y| x.0.id().cmp(y.0.id()));
    out
}

/// A nearest-neighbour candidate; orders by distance, then id.
struct Candidate<'a> {
    distance: f64,
    located: &'a Arc<Located>,
}

impl PartialEq for Candidate<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate<'_> {}
impl PartialOrd for Candidate<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then_with(|| self.located.id().cmp(other.located.id()))
    }
}

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

impl AssetIndex {
    /// Bulk-loads an index over `assets`.
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
        let next = if changes.len() > MIN_DELTA.max(old.base.slots.len() / 256) {
            fold(&old.base, &changes)
        } else {
            with_changes(Arc::clone(&old.base), changes)
        };
        self.current.store(Arc::new(next));
    }

    /// Replaces everything (used after boundary layers change placements).
    pub fn replace_all(&self, assets: Vec<Asset>) {
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.current
            .store(Arc::new(Snapshot::from_base(base_from(assets))));
    }
}

fn base_from(assets: Vec<Asset>) -> Layer {
    let mut slots: Vec<Arc<Located>> = assets
        .into_iter()
        .map(|a| Arc::new(Located::new(a)))
        .collect();
    slots.sort_unstable_by(|a, b| a.id().cmp(b.id()));
    slots.dedup_by(|a, b| a.id() == b.id());
    Layer::build(slots)
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
    let mut slots: Vec<Arc<Located>> = base
        .slots
        .iter()
        .filter(|l| !changes.contains_key(l.id()))
        .cloned()
        .collect();
    slots.extend(changes.values().filter_map(|Change(a)| a.clone()));
    slots.sort_unstable_by(|a, b| a.id().cmp(b.id()));
    Snapshot::from_base(Layer::build(slots))
}

#[cfg(test)]
mod tests;
