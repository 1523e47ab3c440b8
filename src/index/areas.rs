//! Boundary layers indexed for point-in-polygon placement.
//!
//! Each asset's ward, fee zone and conservation-area flag are derived from
//! the polygons of its own authority. Boundary layers change rarely (a new
//! ward map every few years), so the whole index is rebuilt on change and
//! swapped in; lookups are lock-free.

use std::collections::HashMap;

use geo::{BoundingRect, Intersects, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::domain::area::{Area, AreaLayer};
use crate::domain::asset::{AssetDetails, Placement};

type Slot = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Every authority's boundary polygons, indexed per (authority, layer).
#[derive(Debug, Default)]
pub struct AreaIndex {
    areas: Vec<Area>,
    /// Each area's name, shared by the placements of every asset in it.
    names: Vec<std::sync::Arc<str>>,
    trees: HashMap<(String, AreaLayer), RTree<Slot>>,
}

impl AreaIndex {
    /// Indexes `areas`. When polygons of one layer overlap, the one listed
    /// first (lowest id) wins, so placement is deterministic.
    pub fn build(mut areas: Vec<Area>) -> AreaIndex {
        areas.sort_by_key(|a| a.id);
        for a in &mut areas {
            use geo::orient::{Direction, Orient};
            a.geometry = a.geometry.orient(Direction::Default);
        }
        let names = areas.iter().map(|a| a.name.as_str().into()).collect();
        let mut grouped: HashMap<(String, AreaLayer), Vec<Slot>> = HashMap::new();
        for (i, a) in areas.iter().enumerate() {
            let Some(r) = a.geometry.bounding_rect() else {
                continue;
            };
            let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            grouped
                .entry((a.authority.clone(), a.layer))
                .or_default()
                .push(GeomWithData::new(rect, i));
        }
        let trees = grouped
            .into_iter()
            .map(|(k, v)| (k, RTree::bulk_load(v)))
            .collect();
        AreaIndex {
            areas,
            names,
            trees,
        }
    }

    /// All areas, ordered by id.
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// The first area of `layer` containing `p` (boundary included).
    pub fn locate(&self, authority: &str, layer: AreaLayer, p: Point<f64>) -> Option<&Area> {
        self.locate_slot(authority, layer, p)
            .map(|i| &self.areas[i])
    }

    fn locate_slot(&self, authority: &str, layer: AreaLayer, p: Point<f64>) -> Option<usize> {
        let tree = self.trees.get(&(authority.to_string(), layer))?;
        tree.locate_all_at_point(&[p.x(), p.y()])
            .map(|s| s.data)
            .filter(|&i| self.areas[i].geometry.intersects(&p))
            .min()
    }

    /// Where an asset of `authority` falls, from its anchor point.
    pub fn place(&self, authority: &str, details: &AssetDetails) -> Placement {
        let Some(p) = details.anchor() else {
            return Placement::default();
        };
        let name = |layer| {
            self.locate_slot(authority, layer, p)
                .map(|i| std::sync::Arc::clone(&self.names[i]))
        };
        Placement {
            ward: name(AreaLayer::Ward),
            fee_zone: name(AreaLayer::FeeZone),
            in_conservation_area: self
                .locate_slot(authority, AreaLayer::ConservationArea, p)
                .is_some(),
        }
    }

    /// Areas of one authority's layer whose bounding boxes touch `env`.
    pub fn in_envelope(
        &self,
        authority: &str,
        layer: AreaLayer,
        env: AABB<[f64; 2]>,
    ) -> impl Iterator<Item = &Area> {
        self.trees
            .get(&(authority.to_string(), layer))
            .into_iter()
            .flat_map(move |t| t.locate_in_envelope_intersecting(&env))
            .map(|s| &self.areas[s.data])
    }
}
