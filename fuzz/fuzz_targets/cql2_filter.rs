//! The CQL2 filter compiler on arbitrary text: `ogc::filter::compile` (what
//! `/collections/{id}/items?filter=` calls) may refuse a filter with a
//! `FilterError` (a 400), but must not panic or overflow the stack; a
//! compiled filter is then evaluated on a sample record, which must not
//! panic either. The first byte chooses the collection (assets or areas)
//! and the `filter-crs`.
#![no_main]

use geo::{Geometry, LineString, MultiPolygon, Point, Polygon};
use libfuzzer_sys::fuzz_target;
use streetcell::domain::area::{Area, AreaLayer};
use streetcell::domain::asset::{
    Asset, AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply,
};
use streetcell::ogc::crs::Crs;
use streetcell::ogc::filter::{AREAS, ASSETS, compile};

fn lamp() -> Asset {
    Asset {
        id: "a-1".into(),
        authority: "trafford".into(),
        details: AssetDetails {
            asset_ref: "LP-1".into(),
            kind: AssetKind::LampPost,
            geometry: Geometry::Point(Point::new(-2.35, 53.39)),
            height_m: Some(8.0),
            power_supply: PowerSupply::PartNight,
            capacity: 2,
            load_rating_kg: None,
            last_inspected: Some(time::macros::date!(2024 - 03 - 15)),
            install_year: Some(1998),
            status: AssetStatus::Available,
            listed: false,
            photo_url: None,
            source_attributes: Default::default(),
        },
        placement: Placement {
            ward: Some("Bowdon".into()),
            fee_zone: None,
            in_conservation_area: true,
        },
        occupancy: Default::default(),
        revision: 1,
    }
}

fn ward() -> Area {
    let ring = LineString::from(vec![
        (-2.4, 53.3),
        (-2.3, 53.3),
        (-2.3, 53.4),
        (-2.4, 53.4),
        (-2.4, 53.3),
    ]);
    Area {
        id: 1,
        authority: "trafford".into(),
        layer: AreaLayer::Ward,
        name: "Bowdon".into(),
        geometry: MultiPolygon(vec![Polygon::new(ring, vec![])]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let crs = match selector % 3 {
        0 => Crs::Crs84,
        1 => Crs::LatLon,
        _ => Crs::Bng,
    };
    if selector & 0x80 == 0 {
        if let Ok(filter) = compile(text, crs, &ASSETS) {
            let _ = filter.matches(&lamp());
            let _ = filter.rects();
        }
    } else if let Ok(filter) = compile(text, crs, &AREAS) {
        let _ = filter.matches(&ward());
        let _ = filter.rects();
    }
});
