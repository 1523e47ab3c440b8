//! CSV exports: one asset per row, a point from x/y columns.

use std::collections::BTreeMap;

use geo::{Geometry, Point};
use serde_json::Value;

use super::fields::{OwnField, OwnValues, Raw, Source};
use super::{
    DEFAULT_X_FIELDS, DEFAULT_Y_FIELDS, FirstSeen, ImportError, KindFrom, MAX_COLUMNS, Mapping,
    ParsedRow, Plan, SourceCrs, Wanted, find_name, name_list, position, utf8_text,
};
use crate::domain::asset::{AssetDetails, AssetKind};
use crate::domain::reimport::Given;

const NOUN: &str = "column";

/// Reads a CSV export (comma-separated, header row first, UTF-8) into one
/// [`ParsedRow`] per data row, each with the physical line it starts on.
///
/// Each row is a point at the x/y columns ([`Mapping::x_field`],
/// [`Mapping::y_field`] or the defaults), in [`Mapping::crs`]. Rows whose
/// cells are all empty are skipped. See the [module docs](super) for how
/// fields are read.
///
/// # Errors
///
/// Whole-file problems only: not UTF-8, no header row, a repeated column
/// name, no x/y column, no ref or kind column, or a mapping naming a column
/// the header lacks.
pub fn parse_csv(bytes: &[u8], mapping: &Mapping) -> Result<Vec<ParsedRow>, ImportError> {
    Ok(csv_rows(bytes, mapping)?.collect())
}

/// [`parse_csv`] one row at a time: the header is read and checked here
/// (whole-file errors), each data row when the iterator reaches it.
pub fn csv_rows<'t>(bytes: &'t [u8], mapping: &Mapping) -> Result<CsvRows<'t>, ImportError> {
    let text = utf8_text(bytes)?;
    let plan = Plan::new(mapping)?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(csv_error)?;
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(ImportError::NoHeader);
    }
    if header.len() > MAX_COLUMNS {
        return Err(ImportError::TooManyColumns {
            columns: header.len(),
            max: MAX_COLUMNS,
        });
    }
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if h.trim().is_empty() {
                format!("column_{}", i + 1)
            } else {
                h.to_string()
            }
        })
        .collect();
    let columns = Columns::resolve(header, &plan, mapping)?;
    Ok(CsvRows {
        reader,
        columns,
        crs: mapping.crs,
        lines: LineCounter::new(text.as_bytes()),
        record: ::csv::StringRecord::new(),
        first_seen: FirstSeen::new("line"),
        failed: false,
    })
}

/// The data rows of a CSV file, read as they are asked for.
pub struct CsvRows<'t> {
    reader: ::csv::Reader<&'t [u8]>,
    columns: Columns,
    crs: SourceCrs,
    lines: LineCounter<'t>,
    record: ::csv::StringRecord,
    first_seen: FirstSeen,
    /// The reader failed; nothing more is read.
    failed: bool,
}

impl Iterator for CsvRows<'_> {
    type Item = ParsedRow;

    fn next(&mut self) -> Option<ParsedRow> {
        if self.failed {
            return None;
        }
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return None,
                // The text is known UTF-8 and rows may be ragged, so the
                // reader has nothing left to fail on; should it fail, the
                // rest of the file is one refused row rather than a panic.
                Err(e) => {
                    self.failed = true;
                    let line = e.position().map_or(0, |p| p.line());
                    return Some(ParsedRow {
                        line,
                        outcome: Err(format!("unreadable CSV from here on: {e}")),
                        given: Given::NONE,
                    });
                }
            }
            if self.record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            let line = self.lines.line_of_record_at(
                self.record
                    .position()
                    .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX)),
            );
            let (outcome, given) = match self.columns.row(&self.record, self.crs) {
                Ok((details, given)) => (Ok(details), given),
                Err(e) => (Err(e), Given::NONE),
            };
            let mut row = ParsedRow {
                line,
                outcome,
                given,
            };
            self.first_seen.check(&mut row);
            return Some(row);
        }
    }
}

/// Physical line numbers of records.
///
/// `csv::Position::line()` is not the line a record starts on: after a CRLF
/// line end, or blank lines, it gives an earlier line (the reader counts a
/// record from the end of the previous one). Its byte offset has the same
/// start, so this skips line ends from there and counts the line breaks
/// (`\r\n`, `\n` or a lone `\r`, as the reader accepts) before the record.
struct LineCounter<'t> {
    text: &'t [u8],
    /// Offset up to which breaks are counted.
    pos: usize,
    /// Line at `pos`.
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t [u8]) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The line of the record whose reading started at byte `offset`
    /// (offsets must not decrease).
    fn line_of_record_at(&mut self, offset: usize) -> u64 {
        let start = offset
            + self.text[offset.min(self.text.len())..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        let start = start.min(self.text.len());
        if start >= self.pos {
            for i in self.pos..start {
                match self.text[i] {
                    b'\n' => self.line += 1,
                    b'\r' if self.text.get(i + 1) != Some(&b'\n') => self.line += 1,
                    _ => {}
                }
            }
            self.pos = start;
        }
        self.line
    }
}

fn csv_error(e: ::csv::Error) -> ImportError {
    ImportError::Csv {
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

/// Where each field is in the header.
struct Columns {
    /// Header names, trimmed.
    names: Vec<String>,
    /// Header names as written (keys of `source_attributes`).
    original: Vec<String>,
    ref_col: usize,
    kind: Result<usize, AssetKind>,
    x: usize,
    y: usize,
    own: Vec<(OwnField, usize)>,
    /// Columns read as fields (or x/y), so not kept as attributes.
    consumed: Vec<bool>,
}

impl Columns {
    fn resolve(header: Vec<String>, plan: &Plan, mapping: &Mapping) -> Result<Self, ImportError> {
        let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
        // One pass with a set: comparing each name with all before it took
        // 21 s on a 100,000-column header.
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        if let Some(dup) = names.iter().find(|n| !seen.insert(**n)) {
            return Err(ImportError::DuplicateColumn {
                column: dup.to_string(),
            });
        }
        let available = || name_list(names.iter().copied());
        let find = |wanted: &str| find_name(names.iter().copied(), wanted);
        let column = |field: &str, w: &Wanted| match find(&w.name) {
            Some(i) => Ok(Some(i)),
            None if w.explicit => Err(ImportError::UnknownColumn {
                field: field.to_string(),
                noun: NOUN,
                column: w.name.clone(),
                available: available(),
            }),
            None => Ok(None),
        };

        let ref_col = column("ref", &plan.ref_col)?.ok_or_else(|| ImportError::MissingColumn {
            field: "ref",
            noun: NOUN,
            column: plan.ref_col.name.clone(),
            available: available(),
            hint: "name the column holding each asset's reference with ref_field",
        })?;
        let kind = match &plan.kind {
            KindFrom::Fixed(k) => Err(*k),
            KindFrom::Column(w) => Ok(column("kind", w)?.ok_or_else(|| {
                ImportError::MissingColumn {
                    field: "kind",
                    noun: NOUN,
                    column: w.name.clone(),
                    available: available(),
                    hint: "give one kind for every row, or name the kind column with kind_field",
                }
            })?),
        };
        let coordinate = |axis: &'static str, given: &Option<String>, defaults: &[&str]| match given
        {
            Some(name) => find(name).ok_or_else(|| ImportError::UnknownColumn {
                field: axis.to_string(),
                noun: NOUN,
                column: name.clone(),
                available: available(),
            }),
            None => defaults.iter().find_map(|d| find(d)).ok_or_else(|| {
                ImportError::MissingCoordinateColumn {
                    axis,
                    tried: defaults.join(", "),
                    available: available(),
                }
            }),
        };
        let x = coordinate("x", &mapping.x_field, &DEFAULT_X_FIELDS)?;
        let y = coordinate("y", &mapping.y_field, &DEFAULT_Y_FIELDS)?;
        if x == y {
            return Err(ImportError::Mapping(format!(
                "x and y are both read from column {:?}",
                names[x]
            )));
        }
        let mut own = Vec::new();
        for (f, w) in &plan.own {
            if let Some(i) = column(f.name(), w)? {
                own.push((*f, i));
            }
        }

        let mut consumed = vec![false; names.len()];
        let used = [Some(ref_col), kind.ok(), Some(x), Some(y)];
        for i in used
            .into_iter()
            .flatten()
            .chain(own.iter().map(|&(_, i)| i))
        {
            consumed[i] = true;
        }
        let names = names.into_iter().map(str::to_string).collect();
        Ok(Columns {
            names,
            original: header,
            ref_col,
            kind,
            x,
            y,
            own,
            consumed,
        })
    }

    fn source<'r>(
        &'r self,
        record: &'r ::csv::StringRecord,
        field: &'r str,
        i: usize,
    ) -> Source<'r> {
        Source {
            field,
            column: &self.names[i],
            noun: NOUN,
            raw: Raw::Text(record.get(i).unwrap_or("")),
        }
    }

    /// Reads one data row.
    fn row(
        &self,
        record: &::csv::StringRecord,
        crs: SourceCrs,
    ) -> Result<(AssetDetails, Given), String> {
        let width = self.names.len();
        if record.len() < width
            || (record.len() > width && record.iter().skip(width).any(|c| !c.trim().is_empty()))
        {
            return Err(format!(
                "the row has {} fields but the header has {width}",
                record.len()
            ));
        }
        let asset_ref = self
            .source(record, "ref", self.ref_col)
            .ident()?
            .ok_or_else(|| format!("no ref (column {:?} is empty)", self.names[self.ref_col]))?;
        let kind = match self.kind {
            Err(fixed) => fixed,
            Ok(i) => self
                .source(record, "kind", i)
                .variant()?
                .ok_or_else(|| format!("no kind (column {:?} is empty)", self.names[i]))?,
        };
        let geometry = self.point(record, crs)?;
        let own = OwnValues::read(|f| {
            self.own
                .iter()
                .find(|&&(g, _)| g == f)
                .map(|&(_, i)| self.source(record, f.name(), i))
        })?;
        let attributes: BTreeMap<String, Value> = record
            .iter()
            .enumerate()
            .take(width)
            .filter(|&(i, cell)| !self.consumed[i] && !cell.trim().is_empty())
            .map(|(i, cell)| (self.original[i].clone(), Value::String(cell.to_string())))
            .collect();
        own.finish(asset_ref, kind, geometry, attributes)
    }

    fn point(&self, record: &::csv::StringRecord, crs: SourceCrs) -> Result<Geometry<f64>, String> {
        let (xs, ys) = (
            self.source(record, &self.names[self.x], self.x),
            self.source(record, &self.names[self.y], self.y),
        );
        match (xs.raw.is_absent(), ys.raw.is_absent()) {
            (true, true) => {
                return Err(format!(
                    "no geometry (columns {:?} and {:?} are empty)",
                    xs.column, ys.column
                ));
            }
            (true, false) | (false, true) => {
                let empty = if xs.raw.is_absent() {
                    xs.column
                } else {
                    ys.column
                };
                return Err(format!("no geometry (column {empty:?} is empty)"));
            }
            (false, false) => {}
        }
        let x = xs.number()?.unwrap_or_default();
        let y = ys.number()?.unwrap_or_default();
        Ok(Geometry::Point(Point(position(crs, x, y)?)))
    }
}
