//! One layer of the index: R-trees of points and of shape envelopes over an id-sorted slot vector.

use super::*;

/// R-tree node sizes. rstar's default (at most 6 children) makes a 1M-entry
/// tree 8 levels deep; wider nodes make it shallower, which both bulk-loads
/// faster (fewer partitioning passes) and is walked with fewer pointer
/// chases. Measured in BENCHMARKS.md.
pub(super) struct NodeSize;

impl RTreeParams for NodeSize {
    const MIN_SIZE: usize = 5;
    const MAX_SIZE: usize = 12;
    const REINSERTION_COUNT: usize = 3;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

pub(super) type Tree<T> = RTree<T, NodeSize>;

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
pub(super) struct PointEntry {
    pub(super) pos: [f64; 3],
    pub(super) slot: u32,
    pub(super) key: u8,
    pub(super) lonlat: [f64; 2],
}

/// Any other asset in the tree: an Earth-centred box around it.
#[derive(Debug, Clone, Copy)]
pub(super) struct ShapeEntry {
    pub(super) envelope: AABB<[f64; 3]>,
    pub(super) slot: u32,
    pub(super) key: u8,
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
pub(super) trait Indexed: RTreeObject<Envelope = AABB<[f64; 3]>> {
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
pub(super) fn box_distance_2(b: &AABB<[f64; 3]>, q: &[f64; 3]) -> f64 {
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
pub(super) struct Layer {
    pub(super) points: Tree<PointEntry>,
    pub(super) shapes: Tree<ShapeEntry>,
    pub(super) slots: Vec<Arc<Located>>,
}

/// Collects tree entries, then bulk-loads the two trees.
#[derive(Default)]
pub(super) struct Entries {
    pub(super) points: Vec<PointEntry>,
    pub(super) shapes: Vec<ShapeEntry>,
}

impl Entries {
    pub(super) fn with_capacity(n: usize) -> Entries {
        Entries {
            points: Vec::with_capacity(n),
            shapes: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, slot: usize, f: &Facts) {
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

    pub(super) fn load(self) -> (Tree<PointEntry>, Tree<ShapeEntry>) {
        (
            RTree::bulk_load_with_params(self.points),
            RTree::bulk_load_with_params(self.shapes),
        )
    }
}

impl Layer {
    pub(super) fn empty() -> Layer {
        Layer {
            points: RTree::new_with_params(),
            shapes: RTree::new_with_params(),
            slots: Vec::new(),
        }
    }

    /// Bulk-loads a layer; `slots` must be sorted by id with no repeats.
    pub(super) fn build(slots: Vec<Arc<Located>>) -> Layer {
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

    pub(super) fn find(&self, id: &str) -> Option<usize> {
        self.slots.binary_search_by(|l| l.id().cmp(id)).ok()
    }

    /// Entries (slot, key, and lon/lat for a point) whose envelopes meet
    /// `search`.
    pub(super) fn locate(
        &self,
        search: &AABB<[f64; 3]>,
        mut each: impl FnMut(u32, u8, Option<[f64; 2]>),
    ) {
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
pub(super) fn walk<E: Indexed>(
    node: &ParentNode<E>,
    search: &AABB<[f64; 3]>,
    each: &mut impl FnMut(&E),
) {
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
