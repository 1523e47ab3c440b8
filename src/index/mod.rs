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

pub mod areas;
pub mod geodesy;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use geo::{BoundingRect, Geometry, Intersects, Point, Rect};
use rstar::{
    AABB, Envelope, ParentNode, RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams,
};

use crate::domain::asset::{Asset, AssetDetails, AssetKind, AssetStatus, PowerSupply};
use crate::domain::criteria::Criteria;
use crate::geojson_io::write_asset_feature;
use geodesy::{ChordToArc, ecef_box, ecef_envelope, geometry_distance, grow};

/// An asset with the geometry facts queries need, computed once on write.
#[derive(Debug)]
pub struct Located {
    /// The asset.
    pub asset: Asset,
    /// Its lon/lat bounding rectangle.
    pub bbox: Rect<f64>,
    envelope: AABB<[f64; 3]>,
    key: u8,
    /// The asset as a GeoJSON Feature in CRS84, encoded the first time a
    /// page needs it. A `Located` never changes (a write makes a new one),
    /// so the bytes never go stale; the assets people look at are encoded
    /// once rather than on every request.
    geojson: OnceLock<Box<[u8]>>,
}

impl Located {
    /// Computes the envelopes of `asset`.
    pub fn new(asset: Asset) -> Located {
        let facts = Facts::of(&asset);
        Located::with_facts(asset, facts)
    }

    fn with_facts(mut asset: Asset, facts: Facts) -> Located {
        // Orienting rings moves no vertex, so the facts still hold.
        orient_rings(&mut asset.details.geometry);
        Located {
            asset,
            bbox: facts.bbox,
            envelope: facts.envelope,
            key: facts.key,
            geojson: OnceLock::new(),
        }
    }

    /// The asset as a GeoJSON Feature (CRS84), encoded once and kept.
    pub fn geojson(&self) -> &[u8] {
        self.geojson.get_or_init(|| {
            let mut out = Vec::with_capacity(512);
            write_asset_feature(&mut out, &self.asset, &|c| c, |_| {});
            out.into_boxed_slice()
        })
    }

    /// The kept GeoJSON Feature, if a page has needed it yet.
    pub fn geojson_if_encoded(&self) -> Option<&[u8]> {
        self.geojson.get().map(|b| &b[..])
    }

    /// The asset's id.
    pub fn id(&self) -> &str {
        &self.asset.id
    }

    /// The facts it was indexed by, for rebuilding a layer.
    fn facts(&self) -> Facts {
        Facts {
            bbox: self.bbox,
            envelope: self.envelope,
            key: self.key,
            point: matches!(self.asset.details.geometry, Geometry::Point(_)),
        }
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

/// What the index derives from an asset's own fields. Computed apart from
/// [`Located`] so that a bulk load can work it out on one core while the
/// other sorts the ids.
#[derive(Debug, Clone, Copy)]
struct Facts {
    bbox: Rect<f64>,
    envelope: AABB<[f64; 3]>,
    key: u8,
    point: bool,
}

impl Facts {
    fn of(asset: &Asset) -> Facts {
        let g = &asset.details.geometry;
        Facts {
            bbox: g
                .bounding_rect()
                .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0))),
            envelope: ecef_envelope(g),
            key: key_of(&asset.details),
            point: matches!(g, Geometry::Point(_)),
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

/// An asset's filter key: kind, status and power supply in one byte
/// (7 × 2 × 3 values, all below 64), so a set of keys is one `u64`.
fn key_of(d: &AssetDetails) -> u8 {
    key(d.kind, d.status, d.power_supply)
}

fn key(kind: AssetKind, status: AssetStatus, power: PowerSupply) -> u8 {
    (kind as u8) << 3 | (status as u8) << 2 | power as u8
}

/// A set of filter keys, one bit per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeySet(u64);

impl KeySet {
    const ALL: KeySet = KeySet(u64::MAX);

    /// The keys of the assets whose kind, status and power supply meet
    /// `criteria`.
    fn of(criteria: &Criteria) -> KeySet {
        fn allows<T: PartialEq>(list: &Option<Vec<T>>, v: T) -> bool {
            list.as_ref().is_none_or(|l| l.contains(&v))
        }
        let mut bits = 0u64;
        for k in AssetKind::ALL {
            for s in AssetStatus::ALL {
                for p in PowerSupply::ALL {
                    if allows(&criteria.kinds, k)
                        && allows(&criteria.statuses, s)
                        && allows(&criteria.power_supplies, p)
                    {
                        bits |= 1 << key(k, s, p);
                    }
                }
            }
        }
        KeySet(bits)
    }

    fn contains(self, key: u8) -> bool {
        self.0 >> key & 1 == 1
    }
}

/// A filter over assets, applied after the spatial test.
pub trait AssetFilter: Fn(&Asset) -> bool {}
impl<F: Fn(&Asset) -> bool> AssetFilter for F {}

/// A filter in two parts: a test of the entry's key, which never reads the
/// asset, then (unless the key decides alone) the caller's full test.
struct Filter<F> {
    keys: KeySet,
    keys_decide: bool,
    rest: F,
}

impl<F: AssetFilter> Filter<F> {
    /// A caller's closure, with no key test.
    fn any(rest: F) -> Filter<F> {
        Filter {
            keys: KeySet::ALL,
            keys_decide: false,
            rest,
        }
    }

    /// Does the asset in `slot` of `layer`, with `key`, pass?
    #[inline]
    fn passes(&self, key: u8, layer: &Layer, slot: u32) -> bool {
        self.keys.contains(key)
            && (self.keys_decide || (self.rest)(&layer.slots[slot as usize].asset))
    }
}

/// `criteria` as a filter: kind, status and power supply by key; authority
/// and ward (if given) by reading the asset.
fn criteria_filter(criteria: &Criteria) -> Filter<impl AssetFilter + '_> {
    Filter {
        keys: KeySet::of(criteria),
        keys_decide: criteria.authority.is_none() && criteria.ward.is_none(),
        rest: move |a: &Asset| criteria.matches(a),
    }
}

/// R-tree node sizes. rstar's default (at most 6 children) makes a 1M-entry
/// tree 8 levels deep; wider nodes make it shallower, which both bulk-loads
/// faster (fewer partitioning passes) and is walked with fewer pointer
/// chases. Measured in BENCHMARKS.md.
struct NodeSize;

impl RTreeParams for NodeSize {
    const MIN_SIZE: usize = 5;
    const MAX_SIZE: usize = 12;
    const REINSERTION_COUNT: usize = 3;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

type Tree<T> = RTree<T, NodeSize>;

/// A point asset in the tree: its Earth-centred position, and its lon/lat
/// so that a bbox query decides on the entry alone without reading the
/// asset (a cache miss per candidate). The lon/lat costs no memory: a leaf
/// takes the size of rstar's node enum (72 bytes) whatever it holds up to
/// that.
///
/// `repr(C)` keeps what nearest-neighbour search reads (position, slot,
/// key) in the entry's first 29 bytes, as before the lon/lat was added.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct PointEntry {
    pos: [f64; 3],
    slot: u32,
    key: u8,
    lonlat: [f64; 2],
}

/// Any other asset in the tree: an Earth-centred box around it.
#[derive(Debug, Clone, Copy)]
struct ShapeEntry {
    envelope: AABB<[f64; 3]>,
    slot: u32,
    key: u8,
}

impl RTreeObject for PointEntry {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.pos)
    }
}

impl RTreeObject for ShapeEntry {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// What the nearest-neighbour walk needs of an entry.
trait Indexed: RTreeObject<Envelope = AABB<[f64; 3]>> {
    /// Whether the entry is a point, whose chord is the exact chord to the
    /// asset (for a shape it is only a lower bound).
    const POINT: bool;
    fn slot(&self) -> u32;
    fn key(&self) -> u8;
    /// Squared chord from `q` to the entry (to its box, for shapes).
    fn distance_2(&self, q: &[f64; 3]) -> f64;
    /// Does the entry's envelope meet `search`?
    fn meets(&self, search: &AABB<[f64; 3]>) -> bool;
}

impl Indexed for PointEntry {
    const POINT: bool = true;
    fn slot(&self) -> u32 {
        self.slot
    }
    fn key(&self) -> u8 {
        self.key
    }
    #[inline]
    fn distance_2(&self, q: &[f64; 3]) -> f64 {
        let d = [self.pos[0] - q[0], self.pos[1] - q[1], self.pos[2] - q[2]];
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    }
    #[inline]
    fn meets(&self, search: &AABB<[f64; 3]>) -> bool {
        search.contains_point(&self.pos)
    }
}

impl Indexed for ShapeEntry {
    const POINT: bool = false;
    fn slot(&self) -> u32 {
        self.slot
    }
    fn key(&self) -> u8 {
        self.key
    }
    #[inline]
    fn distance_2(&self, q: &[f64; 3]) -> f64 {
        box_distance_2(&self.envelope, q)
    }
    #[inline]
    fn meets(&self, search: &AABB<[f64; 3]>) -> bool {
        self.envelope.intersects(search)
    }
}

/// Squared distance from `q` to the nearest point of a box (0 inside).
#[inline]
fn box_distance_2(b: &AABB<[f64; 3]>, q: &[f64; 3]) -> f64 {
    let (lo, hi) = (b.lower(), b.upper());
    let mut sum = 0.0;
    for i in 0..3 {
        let d = (lo[i] - q[i]).max(q[i] - hi[i]).max(0.0);
        sum += d * d;
    }
    sum
}

/// Two R-trees over an id-sorted set of assets.
#[derive(Debug)]
struct Layer {
    points: Tree<PointEntry>,
    shapes: Tree<ShapeEntry>,
    slots: Vec<Arc<Located>>,
}

/// Collects tree entries, then bulk-loads the two trees.
#[derive(Default)]
struct Entries {
    points: Vec<PointEntry>,
    shapes: Vec<ShapeEntry>,
}

impl Entries {
    fn with_capacity(n: usize) -> Entries {
        Entries {
            points: Vec::with_capacity(n),
            shapes: Vec::new(),
        }
    }

    fn push(&mut self, slot: usize, f: &Facts) {
        let slot = u32::try_from(slot).expect("fewer than 2^32 assets");
        let key = f.key;
        if f.point {
            self.points.push(PointEntry {
                pos: f.envelope.lower(),
                lonlat: [f.bbox.min().x, f.bbox.min().y],
                slot,
                key,
            });
        } else {
            self.shapes.push(ShapeEntry {
                envelope: f.envelope,
                slot,
                key,
            });
        }
    }

    fn load(self) -> (Tree<PointEntry>, Tree<ShapeEntry>) {
        (
            RTree::bulk_load_with_params(self.points),
            RTree::bulk_load_with_params(self.shapes),
        )
    }
}

impl Layer {
    fn empty() -> Layer {
        Layer {
            points: RTree::new_with_params(),
            shapes: RTree::new_with_params(),
            slots: Vec::new(),
        }
    }

    /// Bulk-loads a layer; `slots` must be sorted by id with no repeats.
    fn build(slots: Vec<Arc<Located>>) -> Layer {
        debug_assert!(slots.windows(2).all(|w| w[0].id() < w[1].id()));
        let mut entries = Entries::with_capacity(slots.len());
        for (i, l) in slots.iter().enumerate() {
            entries.push(i, &l.facts());
        }
        let (points, shapes) = entries.load();
        Layer {
            points,
            shapes,
            slots,
        }
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.slots.binary_search_by(|l| l.id().cmp(id)).ok()
    }

    /// Entries (slot, key, and lon/lat for a point) whose envelopes meet
    /// `search`.
    fn locate(&self, search: &AABB<[f64; 3]>, mut each: impl FnMut(u32, u8, Option<[f64; 2]>)) {
        if self.points.size() > 0 {
            walk(self.points.root(), search, &mut |e: &PointEntry| {
                each(e.slot, e.key, Some(e.lonlat));
            });
        }
        if self.shapes.size() > 0 {
            walk(self.shapes.root(), search, &mut |e: &ShapeEntry| {
                each(e.slot, e.key, None);
            });
        }
    }
}

/// Calls `each` for every entry under `node` whose envelope meets `search`.
/// The same answer as rstar's `locate_in_envelope_intersecting`, walked
/// recursively: no iterator state or stack to allocate per query, and a
/// point is tested as a point rather than as a degenerate box.
fn walk<E: Indexed>(node: &ParentNode<E>, search: &AABB<[f64; 3]>, each: &mut impl FnMut(&E)) {
    for child in node.children() {
        match child {
            RTreeNode::Leaf(e) => {
                if e.meets(search) {
                    each(e);
                }
            }
            RTreeNode::Parent(p) => {
                if p.envelope().intersects(search) {
                    walk(p, search, each);
                }
            }
        }
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

    fn layer(&self, delta: bool) -> &Layer {
        if delta { &self.delta } else { &self.base }
    }

    /// Number of live assets.
    pub fn len(&self) -> usize {
        let shadowed: usize = self.shadowed.iter().map(|w| w.count_ones() as usize).sum();
        self.base.slots.len() - shadowed + self.delta.slots.len()
    }

    /// `limit` live assets in id order after skipping `offset`: an
    /// unfiltered listing page without collecting the whole register. With
    /// no pending changes (the state after start-up or a fold) it is a slice
    /// of the id-sorted base; otherwise base and delta are merged lazily.
    pub fn page(&self, offset: usize, limit: usize) -> Vec<&Arc<Located>> {
        let nothing_pending = self.delta.slots.is_empty() && self.shadowed.iter().all(|w| *w == 0);
        if nothing_pending {
            let from = offset.min(self.base.slots.len());
            let to = from.saturating_add(limit).min(self.base.slots.len());
            return self.base.slots[from..to].iter().collect();
        }
        let mut base = (0..self.base.slots.len() as u32)
            .filter(|&s| self.base_live(s))
            .map(|s| &self.base.slots[s as usize])
            .peekable();
        let mut delta = self.delta.slots.iter().peekable();
        std::iter::from_fn(|| {
            let from_base = match (base.peek(), delta.peek()) {
                (Some(x), Some(y)) => x.id() < y.id(),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return None,
            };
            if from_base { base.next() } else { delta.next() }
        })
        .skip(offset)
        .take(limit)
        .collect()
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
        self.query_with(rects, &Filter::any(filter))
    }

    /// [`Snapshot::query`] with `criteria` as the filter; kind, status and
    /// power supply are tested without reading the assets.
    pub fn query_matching(
        &self,
        rects: Option<&[Rect<f64>]>,
        criteria: &Criteria,
    ) -> Vec<&Arc<Located>> {
        self.query_with(rects, &criteria_filter(criteria))
    }

    fn query_with(
        &self,
        rects: Option<&[Rect<f64>]>,
        filter: &Filter<impl AssetFilter>,
    ) -> Vec<&Arc<Located>> {
        let from_base = self.layer_query(&self.base, rects, true, filter);
        let from_delta = self.layer_query(&self.delta, rects, false, filter);
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
        filter: &Filter<impl AssetFilter>,
    ) -> Vec<u32> {
        let live = |slot: u32| !is_base || self.base_live(slot);
        let Some(rects) = rects else {
            return (0..layer.slots.len() as u32)
                .filter(|&s| live(s) && filter.passes(layer.slots[s as usize].key, layer, s))
                .collect();
        };
        let mut hits = Vec::new();
        for rect in rects {
            let (lo, hi) = (rect.min(), rect.max());
            layer.locate(&ecef_box(*rect), |slot, key, point| {
                // The Earth-centred box holds more than the lon/lat one:
                // test the entry's own position (points) first, which
                // reads no asset.
                let inside = match point {
                    Some([x, y]) => lo.x <= x && x <= hi.x && lo.y <= y && y <= hi.y,
                    None => layer.slots[slot as usize].intersects_rect(rect),
                };
                if inside && live(slot) && filter.passes(key, layer, slot) {
                    hits.push(slot);
                }
            });
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
    ///
    /// The walk is depth-first branch and bound over the trees' nodes:
    /// children are opened nearest box first, and a subtree is skipped once
    /// its chord distance passes the k-th best geodesic distance found (a
    /// chord never exceeds the geodesic), so only a few leaves are read.
    pub fn nearest(
        &self,
        p: Point<f64>,
        k: usize,
        max_distance_m: Option<f64>,
        filter: impl AssetFilter,
    ) -> Vec<(&Arc<Located>, f64)> {
        self.nearest_with(p, k, max_distance_m, &Filter::any(filter))
    }

    /// [`Snapshot::nearest`] with `criteria` as the filter; kind, status and
    /// power supply are tested without reading the assets.
    pub fn nearest_matching(
        &self,
        p: Point<f64>,
        k: usize,
        max_distance_m: Option<f64>,
        criteria: &Criteria,
    ) -> Vec<(&Arc<Located>, f64)> {
        self.nearest_with(p, k, max_distance_m, &criteria_filter(criteria))
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

    fn nearest_with<F: AssetFilter>(
        &self,
        p: Point<f64>,
        k: usize,
        max_distance_m: Option<f64>,
        filter: &Filter<F>,
    ) -> Vec<(&Arc<Located>, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let max = max_distance_m.unwrap_or(f64::INFINITY);
        let mut search = Nearest {
            snap: self,
            filter,
            p,
            q: geodesy::ecef(p.x(), p.y()),
            arc: ChordToArc::at(p.y()),
            max,
            k,
            // Up to this many, keep the best sorted as they come and prune
            // by the k-th; beyond it (a radius search), collect and sort once.
            ranked: k <= 1024,
            best: Vec::with_capacity(k.min(1024) + 1),
            limit_2: f64::INFINITY,
            pending: Vec::with_capacity(4 * NodeSize::MAX_SIZE),
        };
        search.set_limit(max);
        for delta in [false, true] {
            let layer = self.layer(delta);
            if layer.points.size() > 0 {
                search.visit(layer.points.root(), delta);
            }
            if layer.shapes.size() > 0 {
                search.visit(layer.shapes.root(), delta);
            }
        }
        let mut best = search.best;
        if !search.ranked {
            best.sort_unstable_by(|a, b| self.hit_order(a, b));
            best.truncate(k);
        }
        best.into_iter()
            .map(|h| (&self.layer(h.delta).slots[h.slot as usize], h.distance))
            .collect()
    }

    /// Distance, then id. Slots are in id order within a layer, so only a
    /// tie between the base and the delta reads the assets.
    fn hit_order(&self, a: &Hit, b: &Hit) -> Ordering {
        a.distance.total_cmp(&b.distance).then_with(|| {
            if a.delta == b.delta {
                a.slot.cmp(&b.slot)
            } else {
                let id = |h: &Hit| self.layer(h.delta).slots[h.slot as usize].id();
                id(a).cmp(id(b))
            }
        })
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
        self.intersecting_with(geometry, buffer_m, &Filter::any(filter))
    }

    /// [`Snapshot::intersecting`] with `criteria` as the filter; kind,
    /// status and power supply are tested without reading the assets.
    pub fn intersecting_matching(
        &self,
        geometry: &Geometry<f64>,
        buffer_m: f64,
        criteria: &Criteria,
    ) -> Vec<(&Arc<Located>, f64)> {
        self.intersecting_with(geometry, buffer_m, &criteria_filter(criteria))
    }

    fn intersecting_with(
        &self,
        geometry: &Geometry<f64>,
        buffer_m: f64,
        filter: &Filter<impl AssetFilter>,
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
            layer.locate(&search, |slot, key, _| {
                if (is_base && !self.base_live(slot)) || !filter.passes(key, layer, slot) {
                    return;
                }
                let g = &layer.slots[slot as usize].asset.details.geometry;
                let d = if buffer_m <= 0.0 {
                    if g.intersects(geometry) {
                        0.0
                    } else {
                        return;
                    }
                } else {
                    geometry_distance(g, geometry)
                };
                if d <= buffer_m.max(0.0) {
                    hits.push((slot, d));
                }
            });
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

/// A nearest-neighbour candidate: its distance and where it lives.
#[derive(Debug, Clone, Copy)]
struct Hit {
    distance: f64,
    delta: bool,
    slot: u32,
}

/// One nearest-neighbour search in progress.
struct Nearest<'s, F> {
    snap: &'s Snapshot,
    filter: &'s Filter<F>,
    p: Point<f64>,
    /// `p`, Earth-centred.
    q: [f64; 3],
    arc: ChordToArc,
    max: f64,
    k: usize,
    /// Whether `best` is kept sorted and cut to `k` as hits arrive.
    ranked: bool,
    best: Vec<Hit>,
    /// Squared chord beyond which nothing can enter `best` (with a hair of
    /// slack, so a tie at exactly the k-th distance is still compared).
    limit_2: f64,
    /// Children still to open, as (squared chord, child index) runs, one
    /// run per node on the current path.
    pending: Vec<(f64, u32)>,
}

impl<F: AssetFilter> Nearest<'_, F> {
    fn set_limit(&mut self, metres: f64) {
        self.limit_2 = metres * metres * (1.0 + 1e-9);
    }

    fn visit<E: Indexed>(&mut self, node: &ParentNode<E>, delta: bool) {
        let start = self.pending.len();
        let children = node.children();
        for (i, child) in children.iter().enumerate() {
            let d2 = match child {
                RTreeNode::Leaf(e) => e.distance_2(&self.q),
                RTreeNode::Parent(n) => box_distance_2(&n.envelope(), &self.q),
            };
            if d2 <= self.limit_2 {
                self.pending.push((d2, i as u32));
            }
        }
        let end = self.pending.len();
        // Nearest first, entries and subtrees alike: the limit tightens as
        // soon as possible, and entries past it are never filtered (which
        // may read the asset) or measured.
        self.pending[start..end].sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        for j in start..end {
            let (d2, i) = self.pending[j];
            // The limit only shrinks, and the run is sorted: stop at the
            // first child that can no longer hold a winner.
            if d2 > self.limit_2 {
                break;
            }
            match &children[i as usize] {
                RTreeNode::Leaf(e) => self.consider(e, d2, delta),
                RTreeNode::Parent(n) => self.visit(n, delta),
            }
        }
        self.pending.truncate(start);
    }

    #[inline]
    fn consider<E: Indexed>(&mut self, e: &E, d2: f64, delta: bool) {
        let slot = e.slot();
        let layer = self.snap.layer(delta);
        if (!delta && !self.snap.base_live(slot)) || !self.filter.passes(e.key(), layer, slot) {
            return;
        }
        let chord = d2.sqrt();
        let distance = if E::POINT && chord < geodesy::SHORT_CHORD_M {
            // For a point the tree's distance is the exact chord.
            self.arc.metres(chord)
        } else {
            layer.slots[slot as usize].distance_to(self.p)
        };
        if distance > self.max {
            return;
        }
        let hit = Hit {
            distance,
            delta,
            slot,
        };
        if !self.ranked {
            self.best.push(hit);
            return;
        }
        if self.best.len() == self.k {
            let last = self.best[self.k - 1];
            if self.snap.hit_order(&hit, &last) != Ordering::Less {
                return;
            }
            self.best.pop();
        }
        let at = self
            .best
            .partition_point(|b| self.snap.hit_order(b, &hit) == Ordering::Less);
        self.best.insert(at, hit);
        if self.best.len() == self.k {
            let kth = self.best[self.k - 1].distance;
            self.set_limit(kth.min(self.max));
        }
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
