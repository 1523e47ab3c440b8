//! FlatGeobuf bodies through the `flatgeobuf` crate.
//!
//! The crate's `FgbWriter` writes a whole file at once (it keeps features
//! in a temporary file to sort them for the spatial index). A streamed
//! body cannot carry an index (it comes before the features and needs all
//! of them), and the format without one is the header followed by the
//! features, each a size-prefixed flatbuffer that refers to columns by
//! number only. So the header is built here with the crate's schema types
//! (`Header`, `Column`, `Crs`), declaring the whole body's feature count
//! and envelope, and each chunk of features is written by an index-less
//! `FgbWriter` declaring the same columns, of whose output the features
//! are kept and its own header dropped. Every feature byte is the crate's.

use flatbuffers::FlatBufferBuilder;
use flatgeobuf::{
    Column as FgbColumn, ColumnArgs, ColumnType, Crs as FgbCrsTable, CrsArgs, FgbWriter,
    FgbWriterOptions, GeometryType, Header, HeaderArgs,
};
use geo::{Geometry, Rect};
use geozero::{ColumnValue, GeomProcessor, GeozeroGeometry, PropertyProcessor};

use super::{Cell, Feature, Geometries, Kind, Layout, in_crs};
use crate::ogc::crs::Crs;

/// The file's first eight bytes: `fgb`, the format version, `fgb`, 0.
const MAGIC: [u8; 8] = [b'f', b'g', b'b', flatgeobuf::VERSION, b'f', b'g', b'b', 0];

fn column_type(kind: Kind) -> ColumnType {
    match kind {
        Kind::Text => ColumnType::String,
        Kind::Integer => ColumnType::Int,
        Kind::Long => ColumnType::Long,
        Kind::Real => ColumnType::Double,
        Kind::Bool => ColumnType::Bool,
        Kind::Json => ColumnType::Json,
    }
}

fn geometry_type(g: Geometries) -> GeometryType {
    match g {
        Geometries::Mixed => GeometryType::Unknown,
        Geometries::Points => GeometryType::Point,
        Geometries::MultiPolygons => GeometryType::MultiPolygon,
    }
}

/// The EPSG code of the CRS features are written in.
fn epsg(crs: Crs) -> i32 {
    match crs {
        Crs::Bng => 27700,
        Crs::Crs84 | Crs::LatLon => 4326,
    }
}

/// The magic bytes and the header: `count` features, their lon/lat
/// `envelope` (written only for lon/lat bodies), no index.
pub fn header(layout: &Layout, count: u64, envelope: Option<Rect<f64>>, out: &mut Vec<u8>) {
    let mut fbb = FlatBufferBuilder::new();
    let name = fbb.create_string(layout.name);
    let title = fbb.create_string(layout.title);
    let columns: Vec<_> = layout
        .columns
        .iter()
        .map(|c| {
            let name = fbb.create_string(c.name);
            FgbColumn::create(
                &mut fbb,
                &ColumnArgs {
                    name: Some(name),
                    type_: column_type(c.kind),
                    nullable: c.nullable,
                    ..Default::default()
                },
            )
        })
        .collect();
    let columns = fbb.create_vector(&columns);
    let envelope = envelope
        .filter(|_| layout.crs == Crs::Crs84)
        .map(|e| fbb.create_vector(&[e.min().x, e.min().y, e.max().x, e.max().y]));
    let crs = FgbCrsTable::create(
        &mut fbb,
        &CrsArgs {
            code: epsg(layout.crs),
            ..Default::default()
        },
    );
    let header = Header::create(
        &mut fbb,
        &HeaderArgs {
            name: Some(name),
            title: Some(title),
            envelope,
            geometry_type: geometry_type(layout.geometries),
            columns: Some(columns),
            features_count: count,
            index_node_size: 0,
            crs: Some(crs),
            ..Default::default()
        },
    );
    fbb.finish_size_prefixed(header, None);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(fbb.finished_data());
}

/// A borrowed geometry for the crate's writer.
struct Geo<'a>(&'a Geometry<f64>);

impl GeozeroGeometry for Geo<'_> {
    fn process_geom<P: GeomProcessor>(&self, processor: &mut P) -> geozero::error::Result<()> {
        geozero::geo_types::process_geom(self.0, processor)
    }
}

/// Appends `features` (their flatbuffers, no header) to `out`.
pub fn features<F: Feature>(layout: &Layout, features: &[F], out: &mut Vec<u8>) {
    if features.is_empty() {
        return;
    }
    let crs = super::planar(layout.crs);
    let options = FgbWriterOptions {
        write_index: false,
        // A mixed collection declares no type and tags each geometry.
        detect_type: false,
        promote_to_multi: layout.geometries == Geometries::MultiPolygons,
        ..Default::default()
    };
    let written = (|| -> Result<Vec<u8>, String> {
        let mut w =
            FgbWriter::create_with_options(layout.name, geometry_type(layout.geometries), options)
                .map_err(|e| e.to_string())?;
        for c in layout.columns {
            w.add_column(c.name, column_type(c.kind), |_, col| {
                col.nullable = c.nullable;
            });
        }
        let mut cells = Vec::with_capacity(layout.columns.len());
        for f in features {
            cells.clear();
            f.cells(&mut cells);
            let stored = f.geometry();
            let g = in_crs(&stored, crs);
            w.add_feature_geom(Geo(&g), |fw| {
                for (i, (cell, c)) in cells.iter().zip(layout.columns).enumerate() {
                    let v = match cell {
                        Cell::Null => continue,
                        Cell::Text(s) if c.kind == Kind::Json => ColumnValue::Json(s),
                        Cell::Text(s) => ColumnValue::String(s),
                        Cell::Int(n) if c.kind == Kind::Long => ColumnValue::Long(*n),
                        Cell::Int(n) => ColumnValue::Int(i32::try_from(*n).unwrap_or(i32::MAX)),
                        Cell::Real(x) => ColumnValue::Double(*x),
                        Cell::Bool(b) => ColumnValue::Bool(*b),
                    };
                    // Writing into the feature's buffer cannot fail.
                    let _ = fw.property(i, c.name, &v);
                }
            })
            .map_err(|e| e.to_string())?;
        }
        let mut file = Vec::with_capacity(256 * features.len());
        w.write(&mut file).map_err(|e| e.to_string())?;
        Ok(file)
    })();
    match written.as_deref().map(features_of) {
        Ok(Some(bytes)) => out.extend_from_slice(bytes),
        // Nothing here can fail but the temporary file the writer opens;
        // a body cut short is what the client then sees.
        Ok(None) => tracing::error!("FlatGeobuf writer produced no features"),
        Err(e) => tracing::error!(error = %e, "FlatGeobuf chunk not written"),
    }
}

/// The features of an index-less FlatGeobuf file: what follows the magic
/// bytes and the size-prefixed header.
fn features_of(file: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(file.get(8..12)?.try_into().ok()?) as usize;
    file.get(12 + len..)
}

#[cfg(test)]
mod tests {
    //! Bodies read back with the crate's own reader.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};
    use geo::{Point, polygon};
    use geozero::ToGeo;

    use super::*;
    use crate::domain::asset::{
        Asset, AssetDetails, AssetKind, AssetStatus, Placement, PowerSupply,
    };
    use crate::index::Located;
    use crate::ogc::formats::{ASSET_COLUMNS, Encoder, Format};

    fn asset(n: usize, geometry: Geometry<f64>) -> Arc<Located> {
        let mut attrs = BTreeMap::new();
        attrs.insert("STREET".to_string(), serde_json::json!("Chester Road"));
        Arc::new(Located::new(Asset {
            id: format!("trafford-{n:04}"),
            authority: "trafford".into(),
            details: AssetDetails {
                asset_ref: format!("LC{n}"),
                kind: AssetKind::LampPost,
                geometry,
                height_m: n.is_multiple_of(2).then_some(8.5 + n as f64),
                power_supply: PowerSupply::PartNight,
                capacity: 2,
                load_rating_kg: None,
                last_inspected: Some(time::macros::date!(2025 - 03 - 01)),
                install_year: Some(1990),
                status: AssetStatus::Available,
                listed: n == 1,
                photo_url: None,
                source_attributes: attrs.into(),
            },
            placement: Placement {
                ward: Some("Stretford".into()),
                fee_zone: None,
                in_conservation_area: false,
            },
            occupancy: Default::default(),
            revision: 1,
        }))
    }

    fn layout(geometries: Geometries) -> Layout {
        Layout {
            name: "assets",
            title: "Street assets",
            geometries,
            columns: &ASSET_COLUMNS,
            crs: Crs::Crs84,
        }
    }

    /// Encodes `features` in chunks of `per`, as a streamed body would.
    fn body(layout: Layout, features: &[Arc<Located>], per: usize) -> Vec<u8> {
        let mut e = Encoder::new(Format::FlatGeobuf, layout, features.len() as u64, None);
        let mut out = Vec::new();
        for chunk in features.chunks(per) {
            e.chunk(chunk, &mut out);
        }
        out
    }

    #[test]
    fn chunks_read_back_as_one_file_with_typed_columns() {
        let square = polygon![(x: -2.3, y: 53.4), (x: -2.29, y: 53.4), (x: -2.29, y: 53.41), (x: -2.3, y: 53.41), (x: -2.3, y: 53.4)];
        let features: Vec<_> = (0..10)
            .map(|n| {
                if n == 7 {
                    asset(n, Geometry::Polygon(square.clone()))
                } else {
                    asset(
                        n,
                        Geometry::Point(Point::new(-2.3 + n as f64 / 100.0, 53.4)),
                    )
                }
            })
            .collect();
        let bytes = body(layout(Geometries::Mixed), &features, 3);
        let reader = FgbReader::open(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(reader.header().features_count(), 10);
        assert_eq!(reader.header().geometry_type(), GeometryType::Unknown);
        let columns: Vec<String> = reader
            .header()
            .columns()
            .unwrap()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(columns, ASSET_COLUMNS.map(|c| c.name.to_string()));
        let mut read = reader.select_all_seq().unwrap();
        let mut n = 0;
        while let Some(f) = read.next().unwrap() {
            let want = &features[n].asset;
            let props = f.properties().unwrap();
            assert_eq!(props["id"], want.id);
            assert_eq!(props["ref"], want.details.asset_ref);
            assert_eq!(props["power_supply"], "part_night");
            assert_eq!(f.property::<i32>("capacity").ok(), Some(2));
            assert_eq!(f.property::<f64>("height_m").ok(), want.details.height_m);
            assert_eq!(f.property::<bool>("listed").ok(), Some(n == 1));
            assert_eq!(props["last_inspected"], "2025-03-01");
            assert_eq!(props.get("photo_url"), None, "a null is no value");
            assert_eq!(props["source_attributes"], r#"{"STREET":"Chester Road"}"#);
            assert_eq!(f.to_geo().unwrap(), want.details.geometry);
            n += 1;
        }
        assert_eq!(n, 10);
    }

    #[test]
    fn a_polygon_collection_reads_as_multipolygons() {
        let square =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let features = vec![asset(1, Geometry::Polygon(square.clone()))];
        let bytes = body(layout(Geometries::MultiPolygons), &features, 10);
        let reader = FgbReader::open(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(reader.header().geometry_type(), GeometryType::MultiPolygon);
        let mut read = reader.select_all_seq().unwrap();
        let f = read.next().unwrap().unwrap();
        assert_eq!(
            f.to_geo().unwrap(),
            Geometry::MultiPolygon(geo::MultiPolygon(vec![square]))
        );
    }

    #[test]
    fn an_empty_body_is_a_header_with_no_features() {
        let mut out = Vec::new();
        let mut e = Encoder::new(Format::FlatGeobuf, layout(Geometries::Points), 0, None);
        e.empty::<Arc<Located>>(&mut out);
        let reader = FgbReader::open(std::io::Cursor::new(&out)).unwrap();
        assert_eq!(reader.header().features_count(), 0);
        assert!(reader.select_all_seq().unwrap().next().unwrap().is_none());
    }
}
