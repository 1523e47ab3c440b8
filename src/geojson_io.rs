//! GeoJSON in and out, written by hand on the way out.
//!
//! Responses write features straight into a byte buffer (no
//! `serde_json::Value` tree per feature): that is what keeps a page of
//! thousands of features in the microsecond range. Reading goes through the
//! `geojson` crate, where validation matters more than speed.

use geo::{Coord, Geometry, LineString, Polygon};

use crate::domain::asset::{Asset, InvalidField, format_date};
use crate::index::Located;

/// Parses a GeoJSON geometry object (RFC 7946) into a `geo` geometry,
/// valid by [`crate::domain::geometry`]'s rules; errors name `field`.
pub fn parse_geometry(
    value: &serde_json::Value,
    field: &str,
) -> Result<Geometry<f64>, InvalidField> {
    let g: geojson::Geometry = serde_json::from_value(value.clone())
        .map_err(|e| InvalidField::new(field, format!("not a GeoJSON geometry: {e}")))?;
    crate::domain::geometry::from_geojson(&g.value).map_err(|e| InvalidField::new(field, e))
}

/// Parses stored geometry text (written by [`geometry_json`]).
pub fn parse_geometry_text(text: &str) -> Result<Geometry<f64>, String> {
    let g: geojson::Geometry = text.parse().map_err(|e| format!("{e}"))?;
    Geometry::try_from(&g.value).map_err(|e| format!("{e}"))
}

/// A geometry as GeoJSON text.
pub fn geometry_json(g: &Geometry<f64>) -> String {
    let mut out = Vec::with_capacity(64);
    write_geometry(&mut out, g, &|c| c);
    String::from_utf8(out).expect("ASCII")
}

/// Appends a number the way JSON wants it (shortest round-trip form).
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut b = ryu::Buffer::new();
        out.extend_from_slice(b.format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Appends an integer.
pub fn write_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Appends a JSON string literal with escaping.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Plain text needs no escaping: copy it straight through.
    // Branch-free per byte so the scan vectorises.
    let plain = s.bytes().fold(true, |ok, b| {
        ok & (b >= 0x20) & (b != b'"') & (b != b'\\') & (b < 0x7f)
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    }
}

fn write_coord(out: &mut Vec<u8>, c: Coord<f64>) {
    out.push(b'[');
    write_f64(out, c.x);
    out.push(b',');
    write_f64(out, c.y);
    out.push(b']');
}

fn write_ring(out: &mut Vec<u8>, ring: &LineString<f64>, map: &dyn Fn(Coord<f64>) -> Coord<f64>) {
    out.push(b'[');
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_coord(out, map(*c));
    }
    out.push(b']');
}

fn write_polygon_rings(
    out: &mut Vec<u8>,
    p: &Polygon<f64>,
    map: &dyn Fn(Coord<f64>) -> Coord<f64>,
) {
    out.push(b'[');
    write_ring(out, p.exterior(), map);
    for r in p.interiors() {
        out.push(b',');
        write_ring(out, r, map);
    }
    out.push(b']');
}

/// Appends a geometry object, passing every coordinate through `map` (for
/// output in another CRS or axis order).
pub fn write_geometry(
    out: &mut Vec<u8>,
    g: &Geometry<f64>,
    map: &dyn Fn(Coord<f64>) -> Coord<f64>,
) {
    match g {
        Geometry::Point(p) => {
            out.extend_from_slice(br#"{"type":"Point","coordinates":"#);
            write_coord(out, map(p.0));
        }
        Geometry::MultiPoint(mp) => {
            out.extend_from_slice(br#"{"type":"MultiPoint","coordinates":["#);
            for (i, p) in mp.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_coord(out, map(p.0));
            }
            out.push(b']');
        }
        Geometry::LineString(ls) => {
            out.extend_from_slice(br#"{"type":"LineString","coordinates":"#);
            write_ring(out, ls, map);
        }
        Geometry::MultiLineString(m) => {
            out.extend_from_slice(br#"{"type":"MultiLineString","coordinates":["#);
            for (i, ls) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_ring(out, ls, map);
            }
            out.push(b']');
        }
        Geometry::Polygon(p) => {
            out.extend_from_slice(br#"{"type":"Polygon","coordinates":"#);
            write_polygon_rings(out, p, map);
        }
        Geometry::MultiPolygon(m) => {
            out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
            for (i, p) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_polygon_rings(out, p, map);
            }
            out.push(b']');
        }
        Geometry::Line(l) => {
            return write_geometry(out, &Geometry::LineString(LineString::from(*l)), map);
        }
        Geometry::Rect(r) => return write_geometry(out, &Geometry::Polygon(r.to_polygon()), map),
        Geometry::Triangle(t) => {
            return write_geometry(out, &Geometry::Polygon(t.to_polygon()), map);
        }
        Geometry::GeometryCollection(gc) => {
            out.extend_from_slice(br#"{"type":"GeometryCollection","geometries":["#);
            for (i, g) in gc.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_geometry(out, g, map);
            }
            out.push(b']');
        }
    }
    out.push(b'}');
}

/// Writes one asset as a GeoJSON Feature. `extra` appends more properties
/// (each starting with a comma), e.g. `distance_m`.
pub fn write_asset_feature(
    out: &mut Vec<u8>,
    asset: &Asset,
    map: &dyn Fn(Coord<f64>) -> Coord<f64>,
    extra: impl FnOnce(&mut Vec<u8>),
) {
    let d = &asset.details;
    let p = &asset.placement;
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    write_str(out, &asset.id);
    out.extend_from_slice(br#","geometry":"#);
    write_geometry(out, &d.geometry, map);
    out.extend_from_slice(br#","properties":{"authority":"#);
    write_str(out, &asset.authority);
    out.extend_from_slice(br#","ref":"#);
    write_str(out, &d.asset_ref);
    out.extend_from_slice(br#","kind":""#);
    out.extend_from_slice(d.kind.as_str().as_bytes());
    out.extend_from_slice(br#"","status":""#);
    out.extend_from_slice(d.status.as_str().as_bytes());
    out.extend_from_slice(br#"","height_m":"#);
    opt_f64(out, d.height_m);
    out.extend_from_slice(br#","power_supply":""#);
    out.extend_from_slice(d.power_supply.as_str().as_bytes());
    out.extend_from_slice(br#"","capacity":"#);
    write_int(out, d.capacity);
    // Occupancy, kept by applications: what is left to apply for, and
    // whether another operator's equipment is already on it.
    out.extend_from_slice(br#","free_capacity":"#);
    write_int(out, asset.free_capacity());
    out.extend_from_slice(br#","shared":"#);
    out.extend_from_slice(if asset.is_shared() { b"true" } else { b"false" });
    out.extend_from_slice(br#","load_rating_kg":"#);
    opt_f64(out, d.load_rating_kg);
    out.extend_from_slice(br#","last_inspected":"#);
    match d.last_inspected {
        Some(date) => write_str(out, &format_date(date)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","install_year":"#);
    match d.install_year {
        Some(y) => write_int(out, y),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","photo_url":"#);
    opt_str(out, d.photo_url.as_deref());
    out.extend_from_slice(br#","ward":"#);
    opt_str(out, p.ward.as_deref());
    out.extend_from_slice(br#","fee_zone":"#);
    opt_str(out, p.fee_zone.as_deref());
    out.extend_from_slice(br#","in_conservation_area":"#);
    out.extend_from_slice(if p.in_conservation_area {
        b"true"
    } else {
        b"false"
    });
    out.extend_from_slice(br#","listed":"#);
    out.extend_from_slice(if d.listed { b"true" } else { b"false" });
    out.extend_from_slice(br#","source_attributes":"#);
    out.extend_from_slice(d.source_attributes.as_json().as_bytes());
    extra(out);
    out.extend_from_slice(b"}}");
}

/// Writes a located asset as a GeoJSON Feature in CRS84 from its kept
/// encoding (made and kept now if no page has needed it before and the
/// process's `FeatureCache` has room; otherwise encoded afresh), with `extra`
/// properties (each starting with a comma) spliced in before the closing
/// braces. Same bytes as [`write_asset_feature`] with no coordinate map.
pub fn write_located(out: &mut Vec<u8>, l: &Located, extra: impl FnOnce(&mut Vec<u8>)) {
    match l.geojson() {
        Some(feature) => {
            // Every encoding ends with the `}}` closing properties and feature.
            out.extend_from_slice(&feature[..feature.len() - 2]);
            extra(out);
            out.extend_from_slice(b"}}");
        }
        // The process keeps no more bytes: encode afresh.
        None => write_asset_feature(out, &l.asset, &|c| c, extra),
    }
}

/// Writes a located asset as a GeoJSON Feature in CRS84 with no extra
/// properties: its kept encoding when there is one; otherwise a fresh one,
/// kept for next time when `keep` (pages people look at) and not when
/// bulk reads pass by (so an export does not double the memory).
pub fn write_located_page_feature(out: &mut Vec<u8>, l: &Located, keep: bool) {
    match l.geojson_if_encoded() {
        Some(bytes) => out.extend_from_slice(bytes),
        None if keep => write_located(out, l, |_| {}),
        None => write_asset_feature(out, &l.asset, &|c| c, |_| {}),
    }
}

fn opt_f64(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(v) => write_f64(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends a link object (`href`, `rel`, `type` and, if given, `title`),
/// as collections list them on every page.
pub fn write_link(out: &mut Vec<u8>, href: &str, rel: &str, media_type: &str, title: Option<&str>) {
    out.extend_from_slice(br#"{"href":"#);
    write_str(out, href);
    out.extend_from_slice(br#","rel":"#);
    write_str(out, rel);
    out.extend_from_slice(br#","type":"#);
    write_str(out, media_type);
    if let Some(title) = title {
        out.extend_from_slice(br#","title":"#);
        write_str(out, title);
    }
    out.push(b'}');
}

/// Writes `{"type":"FeatureCollection",` + members + `"features":[`; the
/// caller writes the features and then [`end_collection`].
pub fn begin_collection(out: &mut Vec<u8>, members: &[(&str, &dyn erased::Member)]) {
    out.extend_from_slice(br#"{"type":"FeatureCollection","#);
    for (name, value) in members {
        write_str(out, name);
        out.push(b':');
        value.write(out);
        out.push(b',');
    }
    out.extend_from_slice(br#""features":["#);
}

/// Closes what [`begin_collection`] opened.
pub fn end_collection(out: &mut Vec<u8>) {
    out.extend_from_slice(b"]}");
}

/// Values that can stand as collection members.
pub mod erased {
    /// A value written as JSON.
    pub trait Member {
        /// Appends the value.
        fn write(&self, out: &mut Vec<u8>);
    }
    impl Member for usize {
        fn write(&self, out: &mut Vec<u8>) {
            super::write_int(out, *self);
        }
    }
    impl Member for &str {
        fn write(&self, out: &mut Vec<u8>) {
            super::write_str(out, self);
        }
    }
    /// JSON already written out.
    pub struct Raw<'a>(pub &'a [u8]);
    impl Member for Raw<'_> {
        fn write(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(self.0);
        }
    }
    impl Member for serde_json::Value {
        fn write(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(&mut *out, self).expect("writing to a Vec");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn geometry_text_round_trips() {
        let g = Geometry::Polygon(
            polygon![(x: -2.1, y: 53.5), (x: -2.0, y: 53.5), (x: -2.0, y: 53.6), (x: -2.1, y: 53.5)],
        );
        let text = geometry_json(&g);
        assert_eq!(
            text,
            r#"{"type":"Polygon","coordinates":[[[-2.1,53.5],[-2.0,53.5],[-2.0,53.6],[-2.1,53.5]]]}"#
        );
        assert_eq!(parse_geometry_text(&text).unwrap(), g);
    }

    #[test]
    fn strings_are_escaped_only_when_needed() {
        let mut out = Vec::new();
        write_str(&mut out, "Sale \"Central\"\n");
        write_str(&mut out, "Old Trafford");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""Sale \"Central\"\n""Old Trafford""#
        );
    }

    /// An asset whose every field needs care: escapes, non-ASCII, a hole,
    /// and source attributes of every JSON type.
    fn awkward_asset() -> Asset {
        use crate::domain::asset::{
            AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply, SourceAttributes,
        };
        let attrs = serde_json::json!({
            "column_type": "Steel \"heritage\"\n", "street": "Chester Road — A56",
            "columns": 3, "height": 7.25, "lit": true, "note": null,
            "tags": ["a", 1], "owner": {"name": "TfGM"}
        });
        let source_attributes = SourceAttributes::from_json(&attrs.to_string()).unwrap();
        Asset {
            id: "tr/\"x\"".into(),
            authority: "trafford".into(),
            details: AssetDetails {
                asset_ref: "ROOF-1".into(),
                kind: AssetKind::Rooftop,
                geometry: Geometry::Polygon(polygon!(
                    exterior: [(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)],
                    interiors: [[(x: 0.5, y: 0.2), (x: 0.6, y: 0.2), (x: 0.6, y: 0.3), (x: 0.5, y: 0.2)]],
                )),
                height_m: Some(12.5),
                power_supply: PowerSupply::Continuous,
                capacity: 3,
                load_rating_kg: None,
                last_inspected: None,
                install_year: Some(1999),
                status: AssetStatus::Available,
                listed: true,
                photo_url: Some("https://example.org/p?a=1&b=\u{e9}".into()),
                source_attributes,
            },
            placement: Placement::default(),
            occupancy: Default::default(),
            revision: 1,
        }
    }

    #[test]
    fn kept_encoding_equals_a_fresh_one_with_and_without_extras() {
        let asset = awkward_asset();
        let l = Located::new(asset);
        let extra = |out: &mut Vec<u8>| out.extend_from_slice(br#","distance_m":1.5"#);
        let mut fresh = Vec::new();
        write_asset_feature(&mut fresh, &l.asset, &|c| c, extra);
        assert!(
            l.geojson_if_encoded().is_none(),
            "nothing is kept before a page needs it"
        );
        // First use encodes and keeps; the second copies what was kept.
        for _ in 0..2 {
            let mut kept = Vec::new();
            write_located(&mut kept, &l, extra);
            assert_eq!(
                String::from_utf8(kept).unwrap(),
                String::from_utf8(fresh.clone()).unwrap()
            );
        }
        let mut plain = Vec::new();
        write_asset_feature(&mut plain, &l.asset, &|c| c, |_| {});
        assert_eq!(l.geojson_if_encoded(), Some(&plain[..]));
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(
            v["properties"]["source_attributes"]["owner"]["name"],
            "TfGM"
        );
        assert_eq!(
            v["properties"]["source_attributes"],
            serde_json::to_value(l.asset.details.source_attributes.to_map()).unwrap()
        );
        assert_eq!(v["id"], "tr/\"x\"");
    }

    #[test]
    fn bulk_pages_keep_no_encoding_and_write_the_same_bytes() {
        let l = Located::new(awkward_asset());
        let mut fresh = Vec::new();
        write_asset_feature(&mut fresh, &l.asset, &|c| c, |_| {});
        let mut bulk = Vec::new();
        write_located_page_feature(&mut bulk, &l, false);
        assert_eq!(bulk, fresh);
        assert!(
            l.geojson_if_encoded().is_none(),
            "a bulk read kept an encoding"
        );
        let mut page = Vec::new();
        write_located_page_feature(&mut page, &l, true);
        assert_eq!(page, fresh);
        assert_eq!(l.geojson_if_encoded(), Some(&fresh[..]));
        // Once kept, a bulk read copies it.
        let mut again = Vec::new();
        write_located_page_feature(&mut again, &l, false);
        assert_eq!(again, fresh);
    }
}
