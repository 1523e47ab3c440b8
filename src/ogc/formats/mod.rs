//! The feature collections in bulk formats beside GeoJSON: FlatGeobuf
//! ([`fgb`]), GeoJSON text sequences (RFC 8142: each feature preceded by
//! the record separator and ended by a line feed) and CSV with WKT geometry
//! ([`table`]). Whole-collection downloads (`downloads`) and items pages
//! (`f=` or `Accept`) share the encoders here.
//!
//! Every format carries the same columns: an asset's own fields and
//! placement as typed columns (the `source_attributes` object as JSON
//! text), an area's authority, layer and name. Bodies are written a chunk
//! of features at a time as the client reads ([`stream`]), so a download of
//! the whole register holds one chunk, never the file.

pub mod fgb;
pub mod table;

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use geo::{Geometry, MapCoords, Rect};

use super::crs::Crs;
use super::items::{as_multi_polygon, write_area_feature, write_feature};
use crate::domain::area::Area;
use crate::domain::asset::format_date;
use crate::index::{Located, areas::AreaIndex};

/// A representation of features a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A GeoJSON FeatureCollection page (the default).
    GeoJson,
    /// The same body labelled `application/json` (`f=json`).
    Json,
    /// FlatGeobuf, without a spatial index (a stream cannot carry one).
    FlatGeobuf,
    /// RFC 8142 GeoJSON text sequence.
    GeoJsonSeq,
    /// CSV with the geometry as WKT in the first column, `WKT`.
    Csv,
}

/// Media types of the bulk formats.
pub const FLATGEOBUF: &str = "application/flatgeobuf";
pub const GEOJSON_SEQ: &str = "application/geo+json-seq";
pub const CSV: &str = "text/csv; charset=utf-8";

impl Format {
    /// The formats of whole-collection downloads.
    pub const BULK: [Format; 3] = [Format::FlatGeobuf, Format::GeoJsonSeq, Format::Csv];

    /// The `Content-Type` of a body in this format.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::GeoJson => super::GEOJSON,
            Format::Json => super::JSON,
            Format::FlatGeobuf => FLATGEOBUF,
            Format::GeoJsonSeq => GEOJSON_SEQ,
            Format::Csv => CSV,
        }
    }

    /// The value of `f` that asks for it.
    pub fn f(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Json => "json",
            Format::FlatGeobuf => "fgb",
            Format::GeoJsonSeq => "geojsonseq",
            Format::Csv => "csv",
        }
    }

    /// The file extension of a download, the one GDAL recognises the
    /// format by (`.geojsons` is its name for RS-separated sequences).
    pub fn extension(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Json => "json",
            Format::FlatGeobuf => "fgb",
            Format::GeoJsonSeq => "geojsons",
            Format::Csv => "csv",
        }
    }

    /// A title for links.
    pub fn title(self) -> &'static str {
        match self {
            Format::GeoJson => "GeoJSON",
            Format::Json => "JSON",
            Format::FlatGeobuf => "FlatGeobuf",
            Format::GeoJsonSeq => "GeoJSON text sequence (RFC 8142)",
            Format::Csv => "CSV with WKT geometry",
        }
    }

    /// The format `f` names (the names GDAL and other services use too).
    pub fn from_f(v: &str) -> Option<Format> {
        Some(match v {
            "geojson" => Format::GeoJson,
            "json" => Format::Json,
            "fgb" | "flatgeobuf" => Format::FlatGeobuf,
            "geojsonseq" | "geojsons" | "jsonseq" => Format::GeoJsonSeq,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    /// The bulk format a download's file extension names.
    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::BULK.into_iter().find(|f| f.extension() == ext)
    }

    /// Whether this is one of the bulk formats (not a GeoJSON page).
    pub fn is_bulk(self) -> bool {
        Format::BULK.contains(&self)
    }

    /// The format an `Accept` header prefers, when it names one of the bulk
    /// formats above any GeoJSON type; `None` leaves the default (GeoJSON),
    /// so GIS clients and browsers that ask for JSON or anything get what
    /// they always did.
    pub fn from_accept(headers: &HeaderMap) -> Option<Format> {
        let mut best: Option<(f32, Format)> = None;
        let accept = headers.get_all(header::ACCEPT);
        for range in accept.iter().filter_map(|v| v.to_str().ok()) {
            for item in range.split(',') {
                let mut parts = item.split(';').map(str::trim);
                let media = parts.next().unwrap_or("").to_ascii_lowercase();
                let q = parts
                    .filter_map(|p| p.strip_prefix("q="))
                    .find_map(|v| v.parse::<f32>().ok())
                    .unwrap_or(1.0);
                let format = match media.as_str() {
                    FLATGEOBUF => Format::FlatGeobuf,
                    GEOJSON_SEQ => Format::GeoJsonSeq,
                    "text/csv" => Format::Csv,
                    "application/geo+json" | "application/json" => Format::GeoJson,
                    _ => continue,
                };
                if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                    best = Some((q, format));
                }
            }
        }
        best.map(|(_, f)| f).filter(|f| f.is_bulk())
    }
}

/// What a column holds, mapped to each format's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Long,
    Real,
    Bool,
    /// A JSON object as text.
    Json,
}

/// One attribute column.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

const fn col(name: &'static str, kind: Kind, nullable: bool) -> Column {
    Column {
        name,
        kind,
        nullable,
    }
}

/// The columns of the asset collections, in the order of
/// [`Feature::cells`] (the GeoJSON properties' order, with `id` first).
pub const ASSET_COLUMNS: [Column; 19] = [
    col("id", Kind::Text, false),
    col("authority", Kind::Text, false),
    col("ref", Kind::Text, false),
    col("kind", Kind::Text, false),
    col("status", Kind::Text, false),
    col("height_m", Kind::Real, true),
    col("power_supply", Kind::Text, false),
    col("capacity", Kind::Integer, false),
    col("free_capacity", Kind::Integer, false),
    col("shared", Kind::Bool, false),
    col("load_rating_kg", Kind::Real, true),
    col("last_inspected", Kind::Text, true),
    col("install_year", Kind::Integer, true),
    col("photo_url", Kind::Text, true),
    col("ward", Kind::Text, true),
    col("fee_zone", Kind::Text, true),
    col("in_conservation_area", Kind::Bool, false),
    col("listed", Kind::Bool, false),
    col("source_attributes", Kind::Json, false),
];

/// The columns of the boundary collections.
pub const AREA_COLUMNS: [Column; 4] = [
    col("id", Kind::Long, false),
    col("authority", Kind::Text, false),
    col("layer", Kind::Text, false),
    col("name", Kind::Text, false),
];

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    Real(f64),
    Bool(bool),
}

fn text(s: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(s))
}

fn opt_text(s: Option<&str>) -> Cell<'_> {
    s.map_or(Cell::Null, text)
}

/// The geometry types a collection declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometries {
    /// Points and polygons together (the `assets` collection).
    Mixed,
    Points,
    MultiPolygons,
}

/// What a body is: its name, the geometry type and columns of its rows,
/// and the CRS it is written in.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub name: &'static str,
    pub title: &'static str,
    pub geometries: Geometries,
    pub columns: &'static [Column],
    pub crs: Crs,
}

/// A row of a bulk body: an asset or a boundary area.
pub trait Feature {
    /// Its geometry, stored (lon/lat).
    fn geometry(&self) -> Cow<'_, Geometry<f64>>;
    /// Its values in the layout's column order.
    fn cells<'a>(&'a self, out: &mut Vec<Cell<'a>>);
    /// Its GeoJSON Feature in `crs`.
    fn write_geojson(&self, out: &mut Vec<u8>, crs: Crs);
}

impl Feature for Arc<Located> {
    fn geometry(&self) -> Cow<'_, Geometry<f64>> {
        Cow::Borrowed(&self.asset.details.geometry)
    }

    fn cells<'a>(&'a self, out: &mut Vec<Cell<'a>>) {
        let a = &self.asset;
        let d = &a.details;
        let p = &a.placement;
        out.extend([
            text(&a.id),
            text(&a.authority),
            text(&d.asset_ref),
            text(d.kind.as_str()),
            text(d.status.as_str()),
            d.height_m.map_or(Cell::Null, Cell::Real),
            text(d.power_supply.as_str()),
            Cell::Int(d.capacity.into()),
            Cell::Int(a.free_capacity().into()),
            Cell::Bool(a.is_shared()),
            d.load_rating_kg.map_or(Cell::Null, Cell::Real),
            d.last_inspected
                .map_or(Cell::Null, |t| Cell::Text(format_date(t).into())),
            d.install_year.map_or(Cell::Null, |y| Cell::Int(y.into())),
            opt_text(d.photo_url.as_deref()),
            opt_text(p.ward.as_deref()),
            opt_text(p.fee_zone.as_deref()),
            Cell::Bool(p.in_conservation_area),
            Cell::Bool(d.listed),
            Cell::Text(d.source_attributes.as_json().into()),
        ]);
    }

    fn write_geojson(&self, out: &mut Vec<u8>, crs: Crs) {
        // A bulk body keeps no encodings of its own (like large pages).
        write_feature(out, self, crs, false);
    }
}

/// An area of the boundary index, by position (the index is held, so the
/// body owns what it streams).
pub struct AreaRow {
    pub index: Arc<AreaIndex>,
    pub at: usize,
}

impl AreaRow {
    fn area(&self) -> &Area {
        &self.index.areas()[self.at]
    }
}

impl Feature for AreaRow {
    fn geometry(&self) -> Cow<'_, Geometry<f64>> {
        Cow::Owned(Geometry::MultiPolygon(self.area().geometry.clone()))
    }

    fn cells<'a>(&'a self, out: &mut Vec<Cell<'a>>) {
        let a = self.area();
        out.extend([
            Cell::Int(a.id),
            text(&a.authority),
            text(a.layer.as_str()),
            text(&a.name),
        ]);
    }

    fn write_geojson(&self, out: &mut Vec<u8>, crs: Crs) {
        write_area_feature(out, self.area(), crs);
    }
}

/// An asset as its collection shows it: in `assets-polygons` a Polygon is a
/// MultiPolygon of one.
pub fn promoted(l: Arc<Located>, geometries: Geometries) -> Arc<Located> {
    if geometries == Geometries::MultiPolygons {
        as_multi_polygon(&l)
    } else {
        l
    }
}

/// The CRS FlatGeobuf and CSV bodies are written in: x is always easting
/// or longitude there (as GIS files store it), so EPSG:4326 asked for is
/// written in CRS84's order.
pub fn planar(crs: Crs) -> Crs {
    match crs {
        Crs::LatLon => Crs::Crs84,
        other => other,
    }
}

/// `g` in the output CRS (borrowed when that is the stored one).
pub fn in_crs(g: &Geometry<f64>, crs: Crs) -> Cow<'_, Geometry<f64>> {
    match crs {
        Crs::Crs84 => Cow::Borrowed(g),
        _ => Cow::Owned(g.map_coords(|c| crs.output(c))),
    }
}

/// Writes features of one layout in one format, chunk by chunk.
pub struct Encoder {
    format: Format,
    layout: Layout,
    /// The FlatGeobuf header's feature count and envelope.
    count: u64,
    envelope: Option<Rect<f64>>,
    started: bool,
}

impl Encoder {
    /// An encoder for `count` features (FlatGeobuf declares the count and
    /// the lon/lat `envelope` in its header).
    pub fn new(format: Format, layout: Layout, count: u64, envelope: Option<Rect<f64>>) -> Encoder {
        Encoder {
            format,
            layout,
            count,
            envelope,
            started: false,
        }
    }

    /// Appends `features` to `out`, after the body's head if this is the
    /// first chunk.
    pub fn chunk<F: Feature>(&mut self, features: &[F], out: &mut Vec<u8>) {
        let first = !self.started;
        self.started = true;
        match self.format {
            Format::FlatGeobuf => {
                if first {
                    fgb::header(&self.layout, self.count, self.envelope, out);
                }
                fgb::features(&self.layout, features, out);
            }
            Format::Csv => table::rows(&self.layout, features, first, out),
            Format::GeoJsonSeq => {
                for f in features {
                    // RFC 8142: RS, the JSON text, LF.
                    out.push(0x1e);
                    f.write_geojson(out, self.layout.crs);
                    out.push(b'\n');
                }
            }
            Format::GeoJson | Format::Json => {
                unreachable!("GeoJSON pages are written by items")
            }
        }
    }

    /// Whatever a body with no features at all still needs (a header).
    fn empty<F: Feature>(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.chunk::<F>(&[], out);
        }
    }
}

/// Features per chunk of a streamed body: for points, some 200 KB of
/// FlatGeobuf and about a millisecond of encoding, so a download never
/// holds a worker thread for long nor more than a chunk in memory.
pub const CHUNK: usize = 1024;

/// A body writing `features` through `encoder` as the client reads it.
pub fn stream<F, I>(mut encoder: Encoder, features: I) -> Body
where
    F: Feature + Send + 'static,
    I: Iterator<Item = F> + Send + 'static,
{
    let mut features = features.fuse();
    let mut done = false;
    let mut chunk: Vec<F> = Vec::with_capacity(CHUNK);
    let chunks = std::iter::from_fn(move || {
        if done {
            return None;
        }
        chunk.clear();
        chunk.extend(features.by_ref().take(CHUNK));
        let mut out = Vec::with_capacity(256 * CHUNK);
        if chunk.is_empty() {
            done = true;
            encoder.empty::<F>(&mut out);
            if out.is_empty() {
                return None;
            }
        } else {
            encoder.chunk(&chunk, &mut out);
        }
        Some(Ok::<_, Infallible>(Bytes::from(out)))
    });
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// The union of two boxes.
pub fn union(a: Option<Rect<f64>>, b: Rect<f64>) -> Option<Rect<f64>> {
    Some(match a {
        None => b,
        Some(a) => super::union(a, b),
    })
}
