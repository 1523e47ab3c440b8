//! The start-up snapshot's file: every asset as the index holds it
//! (placement and occupancy included), with a header naming the database
//! and the change-feed position it reflects. Deciding whether a snapshot may
//! be trusted is `warm_start.rs`'s job; this file only writes and reads.
//!
//! Layout: an 8-byte magic, the format version (u32, little-endian), the
//! body's length (u64) and its CRC-32 (u32), then the body: the
//! [`Header`] in `postcard` (a compact serde format), then blocks of up to
//! [`BLOCK`] assets in id order, each block its record count (u32), its
//! length in bytes (u64) and one `postcard` [`Record`] per asset. Blocks
//! let a reader decode on every core. The file is written beside its final
//! name and renamed over it, so a reader sees the old file or the new one,
//! whole.
//!
//! Enumerations are stored by their names (as in the database), not by
//! variant number, so reordering an enum cannot silently change what a
//! snapshot means; source attributes are stored as JSON text, since
//! `postcard` cannot carry a `serde_json::Value`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

use crate::domain::asset::{Asset, AssetDetails, Names, Occupancy, Placement, SourceAttributes};
use crate::geojson_io::{geometry_json, parse_geometry_text};

const MAGIC: &[u8; 8] = b"STRCSNAP";
/// Bump on any change to [`Header`], [`Record`] or [`Geom`].
const FORMAT: u32 = 1;
const PREFIX: usize = 8 + 4 + 8 + 4;
/// Assets per block.
const BLOCK: u32 = 8_192;

/// What the snapshot reflects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Header {
    /// `database_identity` of the database written from.
    pub database: String,
    /// Its newest migration.
    pub schema_version: i64,
    /// The program that wrote it (`CARGO_PKG_VERSION`).
    pub program: String,
    /// The change-feed cursor the assets reflect, as `(txid, seq)`.
    pub cursor: (i64, i64),
    /// The last feed row at or before the cursor, `(txid, seq, asset id)`.
    pub anchor: Option<(i64, i64, String)>,
    /// Boundary-layer replacements the placements reflect.
    pub seen_areas: i64,
    /// How many records follow.
    pub assets: u64,
}

/// One asset. Strings borrow from the asset when writing and from the file
/// when reading (the format is the same as for owned strings).
#[derive(Serialize, Deserialize)]
struct Record<'a> {
    id: &'a str,
    authority: &'a str,
    asset_ref: &'a str,
    kind: &'a str,
    geometry: Geom,
    height_m: Option<f64>,
    power_supply: &'a str,
    capacity: u32,
    load_rating_kg: Option<f64>,
    /// Julian day.
    last_inspected: Option<i32>,
    install_year: Option<i32>,
    status: &'a str,
    listed: bool,
    photo_url: Option<&'a str>,
    /// JSON object text as `SourceAttributes` keeps it; empty for none.
    source_attributes: &'a str,
    ward: Option<&'a str>,
    fee_zone: Option<&'a str>,
    in_conservation_area: bool,
    in_use: u32,
    installed: u32,
    revision: i64,
}

type Xy = [f64; 2];

/// A geometry; shapes assets do not have go as GeoJSON text.
#[derive(Serialize, Deserialize)]
enum Geom {
    Point(Xy),
    LineString(Vec<Xy>),
    /// Exterior ring first.
    Polygon(Vec<Vec<Xy>>),
    MultiPoint(Vec<Xy>),
    MultiLineString(Vec<Vec<Xy>>),
    MultiPolygon(Vec<Vec<Vec<Xy>>>),
    GeoJson(String),
}

fn xy(c: &Coord<f64>) -> Xy {
    [c.x, c.y]
}

fn line(l: &LineString<f64>) -> Vec<Xy> {
    l.0.iter().map(xy).collect()
}

fn rings(p: &Polygon<f64>) -> Vec<Vec<Xy>> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(line)
        .collect()
}

fn to_line(v: Vec<Xy>) -> LineString<f64> {
    LineString(v.into_iter().map(|[x, y]| Coord { x, y }).collect())
}

fn to_polygon(v: Vec<Vec<Xy>>) -> Polygon<f64> {
    let mut rings = v.into_iter().map(to_line);
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Polygon::new(exterior, rings.collect())
}

impl Geom {
    fn of(g: &Geometry<f64>) -> Geom {
        match g {
            Geometry::Point(p) => Geom::Point(xy(&p.0)),
            Geometry::LineString(l) => Geom::LineString(line(l)),
            Geometry::Polygon(p) => Geom::Polygon(rings(p)),
            Geometry::MultiPoint(m) => Geom::MultiPoint(m.0.iter().map(|p| xy(&p.0)).collect()),
            Geometry::MultiLineString(m) => Geom::MultiLineString(m.0.iter().map(line).collect()),
            Geometry::MultiPolygon(m) => Geom::MultiPolygon(m.0.iter().map(rings).collect()),
            other => Geom::GeoJson(geometry_json(other)),
        }
    }

    fn into_geometry(self) -> Result<Geometry<f64>, String> {
        Ok(match self {
            Geom::Point([x, y]) => Point::new(x, y).into(),
            Geom::LineString(v) => to_line(v).into(),
            Geom::Polygon(v) => to_polygon(v).into(),
            Geom::MultiPoint(v) => {
                MultiPoint(v.into_iter().map(|[x, y]| Point::new(x, y)).collect()).into()
            }
            Geom::MultiLineString(v) => {
                MultiLineString(v.into_iter().map(to_line).collect()).into()
            }
            Geom::MultiPolygon(v) => MultiPolygon(v.into_iter().map(to_polygon).collect()).into(),
            Geom::GeoJson(text) => parse_geometry_text(&text)?,
        })
    }
}

impl<'a> Record<'a> {
    fn of(a: &'a Asset) -> Record<'a> {
        let d = &a.details;
        Record {
            id: &a.id,
            authority: &a.authority,
            asset_ref: &d.asset_ref,
            kind: d.kind.as_str(),
            geometry: Geom::of(&d.geometry),
            height_m: d.height_m,
            power_supply: d.power_supply.as_str(),
            capacity: d.capacity,
            load_rating_kg: d.load_rating_kg,
            last_inspected: d.last_inspected.map(|d| d.to_julian_day()),
            install_year: d.install_year,
            status: d.status.as_str(),
            listed: d.listed,
            photo_url: d.photo_url.as_deref(),
            source_attributes: if d.source_attributes.is_empty() {
                ""
            } else {
                d.source_attributes.as_json()
            },
            ward: a.placement.ward.as_deref(),
            fee_zone: a.placement.fee_zone.as_deref(),
            in_conservation_area: a.placement.in_conservation_area,
            in_use: a.occupancy.in_use,
            installed: a.occupancy.installed,
            revision: a.revision,
        }
    }

    fn into_asset(self, names: &mut Names) -> Result<Asset, String> {
        let id = self.id.to_owned();
        let bad = |what: &str, e: String| format!("asset {id}: {what}: {e}");
        let name = |what: &str, v: &str| format!("asset {id}: {what} {v:?}");
        // Text this program wrote: checked to be an object, not re-encoded.
        let source_attributes = SourceAttributes::from_kept_text(self.source_attributes.to_owned())
            .map_err(|e| bad("source_attributes", e.to_string()))?;
        let last_inspected = match self.last_inspected {
            Some(day) => Some(
                time::Date::from_julian_day(day)
                    .map_err(|e| bad("last_inspected", e.to_string()))?,
            ),
            None => None,
        };
        let details = AssetDetails {
            asset_ref: self.asset_ref.to_owned(),
            kind: self.kind.parse().map_err(|_| name("kind", self.kind))?,
            geometry: self
                .geometry
                .into_geometry()
                .map_err(|e| bad("geometry", e))?,
            height_m: self.height_m,
            power_supply: self
                .power_supply
                .parse()
                .map_err(|_| name("power_supply", self.power_supply))?,
            capacity: self.capacity,
            load_rating_kg: self.load_rating_kg,
            last_inspected,
            install_year: self.install_year,
            status: self
                .status
                .parse()
                .map_err(|_| name("status", self.status))?,
            listed: self.listed,
            photo_url: self.photo_url.map(|u| u.into()),
            source_attributes,
        };
        Ok(Asset {
            id,
            authority: names.intern(self.authority),
            details,
            placement: Placement {
                ward: self.ward.map(|w| names.intern(w)),
                fee_zone: self.fee_zone.map(|z| names.intern(z)),
                in_conservation_area: self.in_conservation_area,
            },
            occupancy: Occupancy {
                in_use: self.in_use,
                installed: self.installed,
            },
            revision: self.revision,
        })
    }
}

/// Sums and counts what passes through it.
struct Summing<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn postcard_io(e: postcard::Error) -> io::Error {
    io::Error::other(e)
}

/// Writes `header` and `assets` (in id order, `header.assets` of them,
/// each reached through `asset`) to `path`, atomically: a temporary file
/// beside it, synced, then renamed.
pub(super) fn write<T>(
    path: &Path,
    header: &Header,
    assets: impl Iterator<Item = T>,
    asset: fn(&T) -> &Asset,
) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(&[0; PREFIX])?;
        let mut body = Summing {
            inner: BufWriter::with_capacity(1 << 20, file),
            crc: crc32fast::Hasher::new(),
            len: 0,
        };
        postcard::to_io(header, &mut body).map_err(postcard_io)?;
        let mut written = 0u64;
        let mut block = Vec::with_capacity(1 << 20);
        let mut in_block = 0u32;
        let flush = |body: &mut Summing<_>, block: &mut Vec<u8>, n: &mut u32| {
            if *n > 0 {
                body.write_all(&n.to_le_bytes())?;
                body.write_all(&(block.len() as u64).to_le_bytes())?;
                body.write_all(block)?;
                block.clear();
                *n = 0;
            }
            io::Result::Ok(())
        };
        for item in assets {
            block = postcard::to_extend(&Record::of(asset(&item)), block).map_err(postcard_io)?;
            written += 1;
            in_block += 1;
            if in_block == BLOCK {
                flush(&mut body, &mut block, &mut in_block)?;
            }
        }
        flush(&mut body, &mut block, &mut in_block)?;
        if written != header.assets {
            return Err(io::Error::other(format!(
                "{written} assets written, the header says {}",
                header.assets
            )));
        }
        let Summing { inner, crc, len } = body;
        let mut file = inner.into_inner().map_err(io::IntoInnerError::into_error)?;
        let crc = crc.finalize();
        let mut prefix = Vec::with_capacity(PREFIX);
        prefix.extend_from_slice(MAGIC);
        prefix.extend_from_slice(&FORMAT.to_le_bytes());
        prefix.extend_from_slice(&len.to_le_bytes());
        prefix.extend_from_slice(&crc.to_le_bytes());
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&prefix)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename itself must survive a crash too.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// A snapshot read whole and checked: its header, and the records still
/// to decode.
pub(super) struct SnapshotFile {
    pub header: Header,
    bytes: Vec<u8>,
    /// Where the records start in `bytes`.
    records: usize,
}

impl SnapshotFile {
    /// Checks the magic, version, length and checksum, and decodes the
    /// header. The error says why the file cannot be used.
    pub fn parse(bytes: Vec<u8>) -> Result<SnapshotFile, String> {
        if bytes.len() < PREFIX || &bytes[..8] != MAGIC {
            return Err("not a Streetcell snapshot".into());
        }
        let word = |at: usize, n: usize| -> u64 {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&bytes[at..at + n]);
            u64::from_le_bytes(b)
        };
        let format = word(8, 4);
        if format != u64::from(FORMAT) {
            return Err(format!("format {format}, this program reads {FORMAT}"));
        }
        let len = word(12, 8);
        if len != (bytes.len() - PREFIX) as u64 {
            return Err(format!(
                "truncated or padded: the body should be {len} bytes, it is {}",
                bytes.len() - PREFIX
            ));
        }
        let crc = word(20, 4) as u32;
        if crc32fast::hash(&bytes[PREFIX..]) != crc {
            return Err("checksum mismatch".into());
        }
        let (header, rest) = postcard::take_from_bytes::<Header>(&bytes[PREFIX..])
            .map_err(|e| format!("header: {e}"))?;
        let records = bytes.len() - rest.len();
        Ok(SnapshotFile {
            header,
            bytes,
            records,
        })
    }

    /// Decodes every asset, a share of the blocks on each core.
    pub fn assets(&self) -> Result<Vec<Asset>, String> {
        let mut blocks = Vec::new();
        let mut rest = &self.bytes[self.records..];
        let mut total = 0u64;
        while !rest.is_empty() {
            if rest.len() < 12 {
                return Err("a block is cut short".into());
            }
            let n = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
            let len = u64::from_le_bytes(rest[4..12].try_into().expect("8 bytes"));
            let len = usize::try_from(len)
                .ok()
                .filter(|&l| l <= rest.len() - 12)
                .ok_or("a block is longer than the file")?;
            blocks.push((n, &rest[12..12 + len]));
            rest = &rest[12 + len..];
            total += u64::from(n);
        }
        if total != self.header.assets {
            return Err(format!(
                "{total} assets in the blocks, the header says {}",
                self.header.assets
            ));
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = blocks.len().div_ceil(threads).max(1);
        let parts: Vec<Result<Vec<Asset>, String>> = std::thread::scope(|s| {
            let running: Vec<_> = blocks
                .chunks(per)
                .map(|group| s.spawn(move || decode_blocks(group)))
                .collect();
            running
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err("a decoder panicked".into()))
                })
                .collect()
        });
        let mut parts = parts.into_iter();
        let mut assets = parts.next().transpose()?.unwrap_or_default();
        assets.reserve(
            usize::try_from(total)
                .unwrap_or(0)
                .saturating_sub(assets.len()),
        );
        for part in parts {
            assets.extend(part?);
        }
        Ok(assets)
    }
}

/// Decodes consecutive blocks of records.
fn decode_blocks(blocks: &[(u32, &[u8])]) -> Result<Vec<Asset>, String> {
    let mut assets = Vec::with_capacity(blocks.iter().map(|(n, _)| *n as usize).sum());
    let mut names = Names::default();
    for &(n, mut rest) in blocks {
        for _ in 0..n {
            let (record, tail) = postcard::take_from_bytes::<Record>(rest)
                .map_err(|e| format!("asset record {}: {e}", assets.len()))?;
            rest = tail;
            assets.push(record.into_asset(&mut names)?);
        }
        if !rest.is_empty() {
            return Err(format!("{} bytes after a block's last asset", rest.len()));
        }
    }
    Ok(assets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(id: &str, geometry: Geometry<f64>) -> Asset {
        let mut source_attributes = SourceAttributes::default();
        source_attributes.insert("colour".to_string(), serde_json::json!(["green", 3]));
        Asset {
            id: id.into(),
            authority: "trafford".into(),
            details: AssetDetails {
                asset_ref: format!("REF-{id}"),
                kind: "lamp_post".parse().unwrap(),
                geometry,
                height_m: Some(8.5),
                power_supply: "continuous".parse().unwrap(),
                capacity: 2,
                load_rating_kg: None,
                last_inspected: Some(time::macros::date!(2024 - 02 - 29)),
                install_year: Some(1998),
                status: "available".parse().unwrap(),
                listed: true,
                photo_url: Some("https://example.org/p.jpg".into()),
                source_attributes,
            },
            placement: Placement {
                ward: Some("Altrincham".into()),
                fee_zone: None,
                in_conservation_area: true,
            },
            occupancy: Occupancy {
                in_use: 1,
                installed: 1,
            },
            revision: 7,
        }
    }

    fn same<'a>(a: &'a &Asset) -> &'a Asset {
        a
    }

    fn header(n: u64) -> Header {
        Header {
            database: "abc".into(),
            schema_version: 9,
            program: "0.1.0".into(),
            cursor: (0, 42),
            anchor: Some((0, 42, "a1".into())),
            seen_areas: 3,
            assets: n,
        }
    }

    fn sample() -> Vec<Asset> {
        let square = Polygon::new(
            LineString::from(vec![(0., 0.), (1., 0.), (1., 1.), (0., 0.)]),
            vec![LineString::from(vec![
                (0.2, 0.2),
                (0.4, 0.2),
                (0.4, 0.4),
                (0.2, 0.2),
            ])],
        );
        let mut bare = asset("a3", Point::new(-2.3, 53.4).into());
        bare.details.source_attributes.clear();
        bare.details.photo_url = None;
        vec![
            asset("a1", Point::new(-2.35, 53.39).into()),
            asset("a2", square.into()),
            bare,
            asset(
                "a4",
                geo::Rect::new(Coord { x: 0., y: 0. }, Coord { x: 1., y: 2. }).into(),
            ),
        ]
    }

    #[test]
    fn a_written_snapshot_reads_back_the_same_assets_and_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.snapshot");
        let assets = sample();
        write(&path, &header(4), assets.iter(), same).unwrap();
        let file = SnapshotFile::parse(fs::read(&path).unwrap()).unwrap();
        assert_eq!(file.header, header(4));
        let back = file.assets().unwrap();
        // A rectangle comes back as the polygon GeoJSON writes for it.
        assert_eq!(back[..3], assets[..3]);
        assert_eq!(
            back[3].details.geometry,
            parse_geometry_text(&geometry_json(&assets[3].details.geometry)).unwrap()
        );
        // No temporary file is left beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn many_blocks_decode_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.snapshot");
        let n = 2 * BLOCK as usize + 17;
        let assets: Vec<Asset> = (0..n)
            .map(|i| {
                asset(
                    &format!("a{i:06}"),
                    Point::new(-2.0 - i as f64 * 1e-6, 53.0).into(),
                )
            })
            .collect();
        write(&path, &header(n as u64), assets.iter(), same).unwrap();
        let back = SnapshotFile::parse(fs::read(&path).unwrap())
            .unwrap()
            .assets()
            .unwrap();
        assert_eq!(back, assets);
    }

    #[test]
    fn a_damaged_snapshot_is_refused_whatever_byte_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.snapshot");
        write(&path, &header(4), sample().iter(), same).unwrap();
        let good = fs::read(&path).unwrap();
        for at in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert!(SnapshotFile::parse(bad).is_err(), "byte {at} flipped");
        }
        for len in [0, 10, PREFIX, good.len() - 1] {
            assert!(
                SnapshotFile::parse(good[..len].to_vec()).is_err(),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn a_count_that_does_not_match_the_records_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.snapshot");
        assert!(write(&path, &header(5), sample().iter(), same).is_err());
        assert!(!path.exists());
    }
}
