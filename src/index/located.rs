//! An indexed asset with the place the index put it, its one-byte key (kind, status, power) and the filters decided from it, and the budget of the GeoJSON indexed assets keep.

use once_cell::race::OnceBox;

use super::*;

/// An asset with the geometry facts queries need, computed once on write.
#[derive(Debug)]
pub struct Located {
    /// The asset.
    pub asset: Asset,
    /// Where the index put it: a point's Earth-centred position (its lon/lat
    /// is the geometry's), or a shape's two boxes, apart so that points,
    /// nearly every asset, carry 24 bytes rather than 80.
    pub(super) place: Place,
    /// The asset as a GeoJSON Feature in CRS84, encoded the first time a
    /// page needs it while the process's [`FeatureCache`] has room. A
    /// `Located` never changes (a write makes a new one), so the bytes
    /// never go stale; the assets people look at are encoded once rather
    /// than on every request.
    pub(super) geojson: OnceBox<Box<[u8]>>,
}

/// What the index derived from an asset's geometry, as [`Located`] keeps it.
#[derive(Debug)]
pub(super) enum Place {
    /// A point's Earth-centred position.
    Point([f64; 3]),
    /// Any other shape's lon/lat bounding rectangle and Earth-centred box.
    Shape(Box<(Rect<f64>, AABB<[f64; 3]>)>),
}

/// How many bytes of GeoJSON every [`Located`] in the process keeps, and
/// the most they may keep. First come, first kept: once the budget is
/// spent, pages encode the other assets afresh (same bytes, more CPU);
/// an asset's bytes return to the budget when a write or deletion drops
/// it. A budget rather than a cache per asset keeps memory flat whatever
/// the register's size and however much of it clients walk.
#[derive(Debug)]
pub struct FeatureCache {
    kept: AtomicUsize,
    budget: AtomicUsize,
    /// The size of the last feature that did not fit: until that much is
    /// free, readers encode straight into their page rather than encoding
    /// first to find out (with the budget a few hundred bytes short, every
    /// feature would otherwise be encoded twice). Read against `kept`, so
    /// it clears itself as bytes come back.
    refused: AtomicUsize,
}

impl FeatureCache {
    /// The budget unless configured: a council's whole register many times
    /// over (~540 bytes per point asset), and most of a million-asset one,
    /// whose bbox pages are then as fast as with every feature kept
    /// (BENCHMARKS.md). Lower it where memory matters more than throughput.
    pub const DEFAULT_BUDGET: usize = 512 << 20;

    pub(super) const fn new(budget: usize) -> FeatureCache {
        FeatureCache {
            kept: AtomicUsize::new(0),
            budget: AtomicUsize::new(budget),
            refused: AtomicUsize::new(0),
        }
    }

    /// The one the index uses.
    pub fn process() -> &'static FeatureCache {
        &PROCESS_FEATURES
    }

    /// Sets the budget (bytes already kept stay until their assets go).
    pub fn set_budget(&self, bytes: usize) {
        self.budget.store(bytes, AtomicOrdering::Relaxed);
        self.refused.store(0, AtomicOrdering::Relaxed);
    }

    /// The last feature refused would still not fit (nor would anything,
    /// with the budget spent).
    pub(super) fn is_full(&self) -> bool {
        self.kept() + self.refused.load(AtomicOrdering::Relaxed).max(1) > self.budget()
    }

    /// Bytes kept now.
    pub fn kept(&self) -> usize {
        self.kept.load(AtomicOrdering::Relaxed)
    }

    /// The budget.
    pub fn budget(&self) -> usize {
        self.budget.load(AtomicOrdering::Relaxed)
    }

    /// Takes `n` bytes from the budget if they fit. Racing callers may
    /// overshoot by one feature each, never more.
    fn take(&self, n: usize) -> bool {
        if self.kept() + n > self.budget() {
            self.refused.store(n, AtomicOrdering::Relaxed);
            return false;
        }
        self.kept.fetch_add(n, AtomicOrdering::Relaxed);
        true
    }

    fn give_back(&self, n: usize) {
        self.kept.fetch_sub(n, AtomicOrdering::Relaxed);
    }
}

/// What keeping `bytes` costs: the bytes and the box the cell points to.
fn kept_cost(bytes: &[u8]) -> usize {
    bytes.len() + size_of::<Box<[u8]>>()
}

static PROCESS_FEATURES: FeatureCache = FeatureCache::new(FeatureCache::DEFAULT_BUDGET);

impl Drop for Located {
    fn drop(&mut self) {
        if let Some(bytes) = self.geojson.get() {
            FeatureCache::process().give_back(kept_cost(bytes));
        }
    }
}

impl Located {
    /// Computes the envelopes of `asset`.
    pub fn new(asset: Asset) -> Located {
        let facts = Facts::of(&asset);
        Located::with_facts(asset, facts)
    }

    pub(super) fn with_facts(mut asset: Asset, facts: Facts) -> Located {
        // Orienting rings moves no vertex, so the facts still hold.
        orient_rings(&mut asset.details.geometry);
        let place = if facts.point {
            Place::Point(facts.envelope.lower())
        } else {
            Place::Shape(Box::new((facts.bbox, facts.envelope)))
        };
        Located {
            asset,
            place,
            geojson: OnceBox::new(),
        }
    }

    /// The asset as a GeoJSON Feature (CRS84): the kept bytes, encoded and
    /// kept now if the process's [`FeatureCache`] has room; `None` when it
    /// has none (the caller encodes afresh).
    pub fn geojson(&self) -> Option<&[u8]> {
        let cache = FeatureCache::process();
        if let Some(bytes) = self.geojson.get() {
            return Some(bytes);
        }
        if cache.is_full() {
            return None; // no encoding only to throw it away
        }
        let mut out = Vec::with_capacity(512);
        write_asset_feature(&mut out, &self.asset, &|c| c, |_| {});
        if !cache.take(kept_cost(&out)) {
            return None;
        }
        if let Err(lost) = self.geojson.set(Box::new(out.into_boxed_slice())) {
            // Another reader kept the same bytes first.
            cache.give_back(kept_cost(&lost));
        }
        self.geojson.get().map(|b| &b[..])
    }

    /// The kept GeoJSON Feature, if a page has needed it yet.
    pub fn geojson_if_encoded(&self) -> Option<&[u8]> {
        self.geojson.get().map(|b| &b[..])
    }

    /// The Earth-centred position of a point asset, as the index keeps it
    /// (`None` for other geometries): what a caller measuring from the
    /// point would otherwise work out again with four sines and cosines.
    pub fn point_ecef(&self) -> Option<[f64; 3]> {
        match &self.place {
            Place::Point(p) => Some(*p),
            Place::Shape(_) => None,
        }
    }

    /// Its lon/lat bounding rectangle.
    pub fn bbox(&self) -> Rect<f64> {
        match &self.place {
            Place::Shape(s) => s.0,
            Place::Point(_) => bbox_of(&self.asset.details.geometry),
        }
    }

    /// Its filter key (derived, not kept: three field reads, and a byte
    /// more would put every `Located` in the allocator's next size class).
    pub(super) fn key(&self) -> u8 {
        key_of(&self.asset.details)
    }

    /// The asset's id.
    pub fn id(&self) -> &str {
        &self.asset.id
    }

    /// The facts it was indexed by, for rebuilding a layer.
    pub(super) fn facts(&self) -> Facts {
        let (bbox, envelope) = match &self.place {
            Place::Point(p) => (self.bbox(), AABB::from_point(*p)),
            Place::Shape(s) => **s,
        };
        Facts {
            bbox,
            envelope,
            key: self.key(),
            point: matches!(self.place, Place::Point(_)),
        }
    }

    /// Exact test: does the asset touch the lon/lat rectangle?
    pub(super) fn intersects_rect(&self, rect: &Rect<f64>) -> bool {
        match (&self.place, &self.asset.details.geometry) {
            (Place::Shape(s), g) => s.0.intersects(rect) && g.intersects(rect),
            (Place::Point(_), g) => g.intersects(rect),
        }
    }

    /// Geodesic distance in metres from `p` to the asset.
    pub(super) fn distance_to(&self, p: Point<f64>) -> f64 {
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
pub(super) struct Facts {
    pub(super) bbox: Rect<f64>,
    pub(super) envelope: AABB<[f64; 3]>,
    pub(super) key: u8,
    pub(super) point: bool,
}

impl Facts {
    pub(super) fn of(asset: &Asset) -> Facts {
        let g = &asset.details.geometry;
        Facts {
            bbox: bbox_of(g),
            envelope: ecef_envelope(g),
            key: key_of(&asset.details),
            point: matches!(g, Geometry::Point(_)),
        }
    }
}

/// A geometry's lon/lat bounding rectangle (a point's is the point).
fn bbox_of(g: &Geometry<f64>) -> Rect<f64> {
    g.bounding_rect()
        .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)))
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
pub(super) fn key_of(d: &AssetDetails) -> u8 {
    key(d.kind, d.status, d.power_supply)
}

pub(super) fn key(kind: AssetKind, status: AssetStatus, power: PowerSupply) -> u8 {
    (kind as u8) << 3 | (status as u8) << 2 | power as u8
}

/// A set of filter keys, one bit per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct KeySet(u64);

impl KeySet {
    const ALL: KeySet = KeySet(u64::MAX);

    /// The keys of the assets whose kind, status and power supply meet
    /// `criteria`.
    pub(super) fn of(criteria: &Criteria) -> KeySet {
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

    pub(super) fn contains(self, key: u8) -> bool {
        self.0 >> key & 1 == 1
    }
}

/// A filter over assets, applied after the spatial test.
pub trait AssetFilter: Fn(&Asset) -> bool {}
impl<F: Fn(&Asset) -> bool> AssetFilter for F {}

/// A filter in two parts: a test of the entry's key, which never reads the
/// asset, then (unless the key decides alone) the caller's full test.
pub(super) struct Filter<F> {
    pub(super) keys: KeySet,
    pub(super) keys_decide: bool,
    pub(super) rest: F,
}

impl<F: AssetFilter> Filter<F> {
    /// A caller's closure, with no key test.
    pub(super) fn any(rest: F) -> Filter<F> {
        Filter {
            keys: KeySet::ALL,
            keys_decide: false,
            rest,
        }
    }

    /// Does the asset in `slot` of `layer`, with `key`, pass?
    #[inline]
    pub(super) fn passes(&self, key: u8, layer: &Layer, slot: u32) -> bool {
        self.keys.contains(key)
            && (self.keys_decide || (self.rest)(&layer.slots[slot as usize].asset))
    }
}

/// `criteria` as a filter: kind, status and power supply by key; authority
/// and ward (if given) by reading the asset.
pub(super) fn criteria_filter(criteria: &Criteria) -> Filter<impl AssetFilter + '_> {
    Filter {
        keys: KeySet::of(criteria),
        keys_decide: criteria.authority.is_none() && criteria.ward.is_none(),
        rest: move |a: &Asset| criteria.matches(a),
    }
}

#[cfg(test)]
mod tests {
    use super::FeatureCache;

    #[test]
    fn the_feature_cache_keeps_what_fits_and_frees_what_is_given_back() {
        let cache = FeatureCache::new(1000);
        assert!(!cache.is_full());
        assert!(cache.take(600));
        assert!(!cache.take(401), "600 + 401 is over the budget");
        assert!(cache.is_full(), "what was refused would still not fit");
        cache.give_back(1);
        assert!(!cache.is_full(), "401 bytes fit beside 599");
        assert!(cache.take(300));
        assert_eq!(cache.kept(), 899);
        assert!(!cache.take(200));
        assert!(cache.is_full());
        assert!(cache.take(100), "a smaller feature still fits when offered");
        assert_eq!(cache.kept(), 999);
        cache.give_back(899);
        assert!(!cache.is_full());
        assert!(cache.take(1));
        assert_eq!(cache.kept(), 101);
        cache.set_budget(0);
        assert!(cache.is_full());
        assert!(!cache.take(1), "a lowered budget keeps nothing more");
        assert_eq!(cache.budget(), 0);
    }
}
