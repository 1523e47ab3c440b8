//! CSV bodies for spreadsheets: one row per feature, the geometry as WKT in
//! the first column, named `WKT` (the name GDAL's CSV driver and QGIS take
//! as geometry without being told), then the layout's columns. Quoting is
//! the `csv` crate's (RFC 4180); nulls are empty cells.

use geo::Geometry;
use wkt::ToWkt;

use super::{Cell, Feature, Layout, in_crs, planar};

/// Appends the rows of `features` to `out`, after the header row when
/// `first`.
pub fn rows<F: Feature>(layout: &Layout, features: &[F], first: bool, out: &mut Vec<u8>) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(std::mem::take(out));
    let result = (|| -> csv::Result<()> {
        if first {
            w.write_field("WKT")?;
            for c in layout.columns {
                w.write_field(c.name)?;
            }
            w.write_record(None::<&[u8]>)?;
        }
        let crs = planar(layout.crs);
        let mut cells = Vec::with_capacity(layout.columns.len());
        let mut number = itoa::Buffer::new();
        let mut real = ryu::Buffer::new();
        for f in features {
            let stored = f.geometry();
            w.write_field(wkt(&in_crs(&stored, crs)))?;
            cells.clear();
            f.cells(&mut cells);
            for cell in &cells {
                match cell {
                    Cell::Null => w.write_field("")?,
                    Cell::Text(s) => w.write_field(s.as_bytes())?,
                    Cell::Int(n) => w.write_field(number.format(*n))?,
                    Cell::Real(x) if x.is_finite() => w.write_field(real.format_finite(*x))?,
                    Cell::Real(_) => w.write_field("")?,
                    Cell::Bool(b) => w.write_field(if *b { "true" } else { "false" })?,
                }
            }
            w.write_record(None::<&[u8]>)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        // Writing into memory cannot fail; a body cut short is what the
        // client would see.
        tracing::error!(error = %e, "CSV rows not written");
    }
    match w.into_inner() {
        Ok(buf) => *out = buf,
        Err(e) => tracing::error!(error = %e, "CSV rows not written"),
    }
}

fn wkt(g: &Geometry<f64>) -> String {
    g.wkt_string()
}

#[cfg(test)]
mod tests {
    //! CSV read back with the `csv` crate, its WKT with the `wkt` crate.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use geo::{Point, polygon};
    use wkt::TryFromWkt;

    use super::*;
    use crate::domain::asset::{
        Asset, AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply,
    };
    use crate::index::Located;
    use crate::ogc::crs::Crs;
    use crate::ogc::formats::{ASSET_COLUMNS, Encoder, Format, Geometries};

    fn asset(n: usize, geometry: Geometry<f64>, note: &str) -> Arc<Located> {
        let mut attrs = BTreeMap::new();
        attrs.insert("NOTE".to_string(), serde_json::json!(note));
        Arc::new(Located::new(Asset {
            id: format!("riverside-{n}"),
            authority: "riverside".into(),
            details: AssetDetails {
                asset_ref: format!("R{n}"),
                kind: AssetKind::CctvColumn,
                geometry,
                height_m: Some(10.25),
                power_supply: PowerSupply::Continuous,
                capacity: 3,
                load_rating_kg: None,
                last_inspected: None,
                install_year: None,
                status: AssetStatus::Unavailable,
                listed: false,
                photo_url: None,
                source_attributes: attrs.into(),
            },
            placement: Placement::default(),
            occupancy: Default::default(),
            revision: 1,
        }))
    }

    #[test]
    fn rows_parse_back_with_their_wkt_and_quoted_text() {
        let square = polygon![(x: -2.3, y: 53.4), (x: -2.29, y: 53.4), (x: -2.29, y: 53.41), (x: -2.3, y: 53.4)];
        let features = vec![
            asset(1, Geometry::Point(Point::new(-2.35, 53.45)), "plain"),
            asset(
                2,
                Geometry::Polygon(square.clone()),
                "a \"quoted\", comma\nand a line",
            ),
        ];
        let layout = Layout {
            name: "assets",
            title: "Street assets",
            geometries: Geometries::Mixed,
            columns: &ASSET_COLUMNS,
            crs: Crs::Crs84,
        };
        let mut e = Encoder::new(Format::Csv, layout, 2, None);
        let mut out = Vec::new();
        e.chunk(&features[..1], &mut out);
        e.chunk(&features[1..], &mut out);
        let mut r = csv::Reader::from_reader(&out[..]);
        let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(head[0], "WKT");
        assert_eq!(&head[1..], ASSET_COLUMNS.map(|c| c.name.to_string()));
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let field = |row: &csv::StringRecord, name: &str| {
            row[head.iter().position(|h| h == name).unwrap()].to_string()
        };
        for (row, f) in rows.iter().zip(&features) {
            let g = Geometry::<f64>::try_from_wkt_str(&row[0]).unwrap();
            assert_eq!(g, f.asset.details.geometry);
            assert_eq!(field(row, "id"), f.asset.id);
            assert_eq!(field(row, "height_m"), "10.25");
            assert_eq!(field(row, "capacity"), "3");
            assert_eq!(field(row, "status"), "unavailable");
            assert_eq!(field(row, "listed"), "false");
            assert_eq!(field(row, "install_year"), "");
            let attrs: serde_json::Value =
                serde_json::from_str(&field(row, "source_attributes")).unwrap();
            assert_eq!(
                attrs["NOTE"],
                f.asset.details.source_attributes.get("NOTE").unwrap(),
                "text survives quoting"
            );
        }
    }
}
