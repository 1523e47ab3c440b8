//! One layer per collection: assets (thinned below zoom 12) from the snapshot, boundary areas from a per-index cache.

use super::*;

/// Below this zoom a tile spans 10 km or more and a map can show no more
/// than one point per pixel, so points are thinned to one per
/// [`THIN_CELL`]-unit square (a pixel of a 256-pixel tile): a client such as
/// QGIS zoomed out over a register of a million assets gets a tile it can
/// draw, not every asset. `/map` shows assets from this zoom on, where
/// every asset is in its tile.
pub const THIN_BELOW_ZOOM: u8 = 12;
/// Side of a thinning cell in tile units.
pub const THIN_CELL: i32 = 16;
/// Cells per side of the buffered tile.
pub(super) const THIN_SIDE: usize = ((EXTENT as i32 + 2 * BUFFER as i32) / THIN_CELL + 1) as usize;

/// Which thinning cells of a tile already hold a point.
pub(super) struct Cells(Vec<u64>);

impl Cells {
    pub(super) fn new() -> Cells {
        Cells(vec![0; (THIN_SIDE * THIN_SIDE).div_ceil(64)])
    }

    /// Marks the cell of `p` (in the buffered tile); false if it was taken.
    pub(super) fn take(&mut self, p: [i32; 2]) -> bool {
        let cell = |v: i32| ((v + BUFFER as i32) / THIN_CELL) as usize;
        let i = cell(p[1]) * THIN_SIDE + cell(p[0]);
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let free = self.0[word] & bit == 0;
        self.0[word] |= bit;
        free
    }
}

/// Writes the geometry of an asset in tile `t` into `geom` and returns its
/// `Feature.type`, or `None` (writing nothing) when none of it is in the
/// buffered tile, or when it is a point in a cell of `thin` already taken.
pub(super) fn asset_geometry(
    asset: &Asset,
    t: TileId,
    geom: &mut GeomWriter,
    thin: Option<&mut Cells>,
) -> Option<u32> {
    let to_tile = |c: Coord<f64>| t.to_tile(world(c.x, c.y));
    match &asset.details.geometry {
        Geometry::Point(p) => {
            let q = to_tile(p.0);
            if !in_buffered_tile(q) {
                return None;
            }
            // Within the buffered tile, so the casts are exact.
            let q = [q[0].round() as i32, q[1].round() as i32];
            if thin.is_some_and(|cells| !cells.take(q)) {
                return None;
            }
            geom.point(q);
            Some(POINT)
        }
        Geometry::Polygon(p) => polygon_geometry(&tile_polygons([p], &to_tile), geom),
        Geometry::MultiPolygon(m) => polygon_geometry(&tile_polygons(&m.0, &to_tile), geom),
        // Validation admits no other geometry for assets.
        _ => None,
    }
}

pub(super) fn polygon_geometry(rings: &[Vec<[i32; 2]>], geom: &mut GeomWriter) -> Option<u32> {
    if rings.is_empty() {
        return None;
    }
    for r in rings {
        geom.ring(r);
    }
    Some(POLYGON)
}

/// Property keys of the `assets` layer, in the order features list them.
pub(super) const ASSET_KEYS: &[&str] = &[
    "id",
    "kind",
    "status",
    "authority",
    "ref",
    "height_m",
    "power_supply",
    "ward",
    "in_conservation_area",
    "listed",
];

/// The `assets` tile `t` of a snapshot as MVT bytes, one layer named
/// `layer`, or `None` when no asset falls in the buffered tile. Below
/// [`THIN_BELOW_ZOOM`] points are thinned to one per pixel.
pub fn assets_tile(snap: &Snapshot, layer: &str, t: TileId) -> Option<Vec<u8>> {
    let mut out = LayerWriter::new(layer, ASSET_KEYS);
    let bounds = t.lonlat_bounds();
    let mut cells = (t.z < THIN_BELOW_ZOOM).then(Cells::new);
    // In id order, so the point kept in a thinned cell is the lowest id.
    for l in snap.query(Some(std::slice::from_ref(&bounds)), |_| true) {
        let a = &l.asset;
        let Some(kind) = asset_geometry(a, t, &mut out.geom, cells.as_mut()) else {
            continue;
        };
        let d = &a.details;
        out.tag(0, Val::Str(&a.id));
        out.tag(1, Val::Str(d.kind.as_str()));
        out.tag(2, Val::Str(d.status.as_str()));
        out.tag(3, Val::Str(&a.authority));
        out.tag(4, Val::Str(&d.asset_ref));
        if let Some(h) = d.height_m {
            out.tag(5, Val::Double(h));
        }
        out.tag(6, Val::Str(d.power_supply.as_str()));
        if let Some(w) = &a.placement.ward {
            out.tag(7, Val::Str(w));
        }
        out.tag(8, Val::Bool(a.placement.in_conservation_area));
        out.tag(9, Val::Bool(d.listed));
        out.finish_feature(feature_id(&a.id), kind);
    }
    out.into_tile()
}

/// An area's world-coordinate envelope and its position in `AreaIndex::areas`.
pub(super) type AreaSlot = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Boundary polygons prepared for tiling: projected to world coordinates
/// once, with an R-tree per layer over every authority's areas.
pub(super) struct AreaTiles {
    /// The area index these were built from.
    pub(super) source: Arc<AreaIndex>,
    pub(super) trees: HashMap<AreaLayer, RTree<AreaSlot>>,
    /// Per area (same order as `AreaIndex::areas`), its world geometry.
    pub(super) world: Vec<MultiPolygon<f64>>,
}

impl AreaTiles {
    pub(super) fn build(index: &Arc<AreaIndex>) -> AreaTiles {
        let project = |ring: &LineString<f64>| -> LineString<f64> {
            ring.0
                .iter()
                .map(|c| {
                    let w = world(c.x, c.y);
                    Coord { x: w[0], y: w[1] }
                })
                .collect()
        };
        let world_geoms: Vec<MultiPolygon<f64>> = index
            .areas()
            .iter()
            .map(|a| {
                a.geometry
                    .0
                    .iter()
                    .map(|p| {
                        Polygon::new(
                            project(p.exterior()),
                            p.interiors().iter().map(project).collect(),
                        )
                    })
                    .collect()
            })
            .collect();
        let mut grouped: HashMap<AreaLayer, Vec<_>> = HashMap::new();
        for (i, (a, g)) in index.areas().iter().zip(&world_geoms).enumerate() {
            if let Some(r) = g.bounding_rect() {
                let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                grouped
                    .entry(a.layer)
                    .or_default()
                    .push(GeomWithData::new(rect, i));
            }
        }
        AreaTiles {
            source: Arc::clone(index),
            trees: grouped
                .into_iter()
                .map(|(k, v)| (k, RTree::bulk_load(v)))
                .collect(),
            world: world_geoms,
        }
    }
}

/// The prepared boundaries of the newest area index seen.
pub(super) static AREA_TILES: Mutex<Option<Arc<AreaTiles>>> = Mutex::new(None);

pub(super) fn area_tiles(index: &Arc<AreaIndex>) -> Arc<AreaTiles> {
    if let Ok(cache) = AREA_TILES.lock()
        && let Some(t) = cache.as_ref()
        && Arc::ptr_eq(&t.source, index)
    {
        return Arc::clone(t);
    }
    let built = Arc::new(AreaTiles::build(index));
    if let Ok(mut cache) = AREA_TILES.lock() {
        *cache = Some(Arc::clone(&built));
    }
    built
}

/// The tile `t` of one boundary layer as MVT bytes, one layer named
/// `name`, or `None` when no area of the layer reaches the buffered tile.
pub fn areas_tile(
    index: &Arc<AreaIndex>,
    layer: AreaLayer,
    name: &str,
    t: TileId,
) -> Option<Vec<u8>> {
    let prepared = area_tiles(index);
    let tree = prepared.trees.get(&layer)?;
    let mut out = LayerWriter::new(name, AREA_KEYS);
    let [x0, y0, x1, y1] = t.world_bounds();
    let env = AABB::from_corners([x0, y0], [x1, y1]);
    let mut hits: Vec<usize> = tree
        .locate_in_envelope_intersecting(&env)
        .map(|s| s.data)
        .collect();
    hits.sort_unstable();
    let to_tile = |c: Coord<f64>| t.to_tile([c.x, c.y]);
    for i in hits {
        let rings = tile_polygons(&prepared.world[i].0, &to_tile);
        let Some(kind) = polygon_geometry(&rings, &mut out.geom) else {
            continue;
        };
        let a = &prepared.source.areas()[i];
        out.tag(0, Val::Str(&a.name));
        out.tag(1, Val::Str(&a.authority));
        out.finish_feature(u64::try_from(a.id).unwrap_or_default(), kind);
    }
    out.into_tile()
}

/// Property keys of the boundary layers.
pub(super) const AREA_KEYS: &[&str] = &["name", "authority"];
