//! An immutable snapshot (base and delta layers) and every query over it: pages, boxes, nearest neighbours, intersections.

use super::*;

/// A change recorded in the delta: the new version, or `None` for deleted.
#[derive(Debug, Clone)]
pub(super) struct Change(pub(super) Option<Arc<Located>>);

/// An immutable, consistent view of every asset.
#[derive(Debug)]
pub struct Snapshot {
    pub(super) base: Arc<Layer>,
    /// Changes since `base` was built, by asset id.
    pub(super) changes: HashMap<String, Change>,
    /// The live assets among `changes`, as a small layer of their own.
    pub(super) delta: Layer,
    /// Bit per base slot: set when `changes` overrides that slot.
    pub(super) shadowed: Vec<u64>,
}

impl Snapshot {
    pub(super) fn from_base(base: Layer) -> Snapshot {
        let words = base.slots.len().div_ceil(64);
        Snapshot {
            base: Arc::new(base),
            changes: HashMap::new(),
            delta: Layer::empty(),
            shadowed: vec![0; words],
        }
    }

    pub(super) fn base_live(&self, slot: u32) -> bool {
        self.shadowed[slot as usize / 64] & (1 << (slot % 64)) == 0
    }

    pub(super) fn layer(&self, delta: bool) -> &Layer {
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

    /// One page (`offset`, `limit`) of the assets in `rects` (everywhere
    /// when `None`) that meet `criteria` and, when given, `extra` (tests the
    /// tree entries cannot decide), with how many match in all. The plan is
    /// the cheapest that answers: with nothing to filter, a slice of the
    /// id-sorted slots (no collecting of the whole register per page); with
    /// only boxes and criteria, decided on the tree entries; otherwise every
    /// candidate read and tested.
    pub fn select_page(
        &self,
        rects: Option<&[Rect<f64>]>,
        criteria: &Criteria,
        extra: Option<impl AssetFilter>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<&Arc<Located>>) {
        let hits = match extra {
            None if rects.is_none() && criteria.is_empty() => {
                return (self.len(), self.page(offset, limit));
            }
            None => self.query_matching(rects, criteria),
            Some(extra) => self.query(rects, |a: &Asset| criteria.matches(a) && extra(a)),
        };
        let matched = hits.len();
        (matched, hits.into_iter().skip(offset).take(limit).collect())
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

    pub(super) fn query_with(
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

    pub(super) fn layer_query(
        &self,
        layer: &Layer,
        rects: Option<&[Rect<f64>]>,
        is_base: bool,
        filter: &Filter<impl AssetFilter>,
    ) -> Vec<u32> {
        let live = |slot: u32| !is_base || self.base_live(slot);
        let Some(rects) = rects else {
            return (0..layer.slots.len() as u32)
                .filter(|&s| live(s) && filter.passes(layer.slots[s as usize].key(), layer, s))
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

    pub(super) fn nearest_with<F: AssetFilter>(
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
    pub(super) fn hit_order(&self, a: &Hit, b: &Hit) -> Ordering {
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

    pub(super) fn intersecting_with(
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
            layer.locate(&search, |slot, key, point| {
                if (is_base && !self.base_live(slot)) || !filter.passes(key, layer, slot) {
                    return;
                }
                let d = if buffer_m <= 0.0 {
                    // A point asset is tested as a coordinate, the entry's
                    // own: geo's geometry-against-geometry dispatch costs
                    // several times the ring test itself, and reading the
                    // asset is a cache miss; area searches test thousands.
                    let hit = match point {
                        Some([x, y]) => geometry.intersects(&Coord { x, y }),
                        None => layer.slots[slot as usize]
                            .asset
                            .details
                            .geometry
                            .intersects(geometry),
                    };
                    if hit {
                        0.0
                    } else {
                        return;
                    }
                } else {
                    geometry_distance(&layer.slots[slot as usize].asset.details.geometry, geometry)
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
pub(super) struct Hit {
    pub(super) distance: f64,
    pub(super) delta: bool,
    pub(super) slot: u32,
}

/// One nearest-neighbour search in progress.
pub(super) struct Nearest<'s, F> {
    pub(super) snap: &'s Snapshot,
    pub(super) filter: &'s Filter<F>,
    pub(super) p: Point<f64>,
    /// `p`, Earth-centred.
    pub(super) q: [f64; 3],
    pub(super) arc: ChordToArc,
    pub(super) max: f64,
    pub(super) k: usize,
    /// Whether `best` is kept sorted and cut to `k` as hits arrive.
    pub(super) ranked: bool,
    pub(super) best: Vec<Hit>,
    /// Squared chord beyond which nothing can enter `best` (with a hair of
    /// slack, so a tie at exactly the k-th distance is still compared).
    pub(super) limit_2: f64,
    /// Children still to open, as (squared chord, child index) runs, one
    /// run per node on the current path.
    pub(super) pending: Vec<(f64, u32)>,
}

impl<F: AssetFilter> Nearest<'_, F> {
    pub(super) fn set_limit(&mut self, metres: f64) {
        self.limit_2 = metres * metres * (1.0 + 1e-9);
    }

    pub(super) fn visit<E: Indexed>(&mut self, node: &ParentNode<E>, delta: bool) {
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
    pub(super) fn consider<E: Indexed>(&mut self, e: &E, d2: f64, delta: bool) {
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
pub(super) fn merge_by_id<'a>(
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

pub(super) fn merge_pairs_by_id<'a>(
    a: Vec<(&'a Arc<Located>, f64)>,
    b: Vec<(&'a Arc<Located>, f64)>,
) -> Vec<(&'a Arc<Located>, f64)> {
    // Each list is in id order already: with no pending changes (the state
    // after start-up or a fold) there is nothing to merge.
    if b.is_empty() {
        return a;
    }
    let mut out: Vec<_> = a.into_iter().chain(b).collect();
    out.sort_by(|x, y| x.0.id().cmp(y.0.id()));
    out
}
