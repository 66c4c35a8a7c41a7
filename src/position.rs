//! The position a strategy returned: decoded from the Parquet payload the
//! harness sent, re-validated, and summarised by shape and content hash.
//!
//! The payload comes from a process the strategy controls, so nothing about
//! it is assumed, and that includes the file's own metadata: a footer is a
//! claim, not a fact. The order is therefore fixed:
//!
//! 1. Scan the footer's Thrift ourselves ([`FooterScan`]: its length against
//!    the column bound, every list and string against the bytes left, no
//!    lists of booleans, a flat schema whose `num_children` add up), then
//!    let the Parquet crate parse it.
//! 2. Validate every claim in it against [`Bounds`] (rows, columns, rows ×
//!    columns, row groups adding up) and against what the harness writes
//!    (flat `date` DATE column then DOUBLE or BOOLEAN columns; uncompressed;
//!    PLAIN values, RLE/bit-packed levels; no dictionary; chunk byte ranges
//!    inside the payload). A footer claiming 2^62 rows is refused here,
//!    before a single byte is allocated for it.
//! 3. Allocate exactly the validated matrix, then decode each column chunk
//!    page by page through [`OwnPages`]: this module parses each page
//!    header itself (the crate's Thrift reader can be stalled by a few
//!    bytes) and refuses one that disagrees with the validated metadata
//!    (dictionary pages, other encodings, more values than the chunk's
//!    rows) before the third-party value decoder sees the page; values are
//!    read in fixed-size batches into reused buffers.
//!
//! Why refuse dictionaries and compression outright instead of bounding
//! them: the harness writes neither (`use_dictionary=False`,
//! `compression="none"`), so any file that has them did not come from the
//! harness; and both are where a small file turns into a large allocation
//! (an 84 KB dictionary-encoded file decoding to gigabytes; a page header
//! claiming a 2 GB uncompressed size that the reader pre-allocates).
//!
//! Values: NaN (what pandas uses for "no position" and what the harness
//! writes for missing weights) and nulls mean "no position". Infinite weights,
//! and rows whose absolute weights add up to more than `f64` can hold, are
//! refused: scoring would otherwise turn them into cash without a word.
//!
//! Dates: the `date` column must be a Parquet DATE (days, no time zone). The
//! host never converts a zone: the harness turns each timestamp into its own
//! wall-clock calendar date, and a file carrying TIMESTAMPs instead is refused.
//!
//! Last resorts: [`Position::decode_within`] runs the decoder on a worker
//! thread under `catch_unwind` and [`DECODE_DEADLINE`], so a panic or a
//! stall inside the Parquet crate on bytes the checks above did not foresee
//! becomes `invalid_output` instead of exit 101 or a hung CLI. That is not
//! the fix (the validation is); the fuzz target calls
//! [`Position::decode_unguarded`] so such cases are found, not hidden.
//!
//! The hash is over a canonical encoding (symbols, dates, values as f64 bits,
//! NaN canonicalised), so it identifies the position's content independent of
//! how pyarrow laid out the file.

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, LogicalType, Type as Physical};
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::column::reader::{get_column_reader, ColumnReader};
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    Bool,
    Float,
}

/// A dates × symbols matrix, column-major (`values[col * rows + row]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub dates: Vec<i32>,
    pub symbols: Vec<String>,
    pub values: Vec<f64>,
    pub dtype: Dtype,
}

/// What the result reports about the position.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PositionSummary {
    pub rows: usize,
    pub columns: usize,
    pub dtype: Dtype,
    pub start: Option<String>,
    pub end: Option<String>,
    pub sha256: String,
}

/// How large a position may be, checked against the file's metadata before
/// anything is allocated for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Rows (dates).
    pub max_rows: usize,
    /// Symbol columns (the `date` column not counted).
    pub max_columns: usize,
    /// Rows × symbol columns: the decoded matrix is 8 bytes per cell.
    pub max_cells: usize,
}

impl Default for Bounds {
    /// Without market data: 131,072 rows (over 350 years of calendar days),
    /// 16,384 symbols (twice any exchange's listings), and 2^25 cells (256 MiB decoded, the size of the
    /// largest payload the host accepts). A 3,700-day × 2,000-symbol
    /// position (7.4 M cells) fits with room to spare.
    fn default() -> Self {
        Bounds { max_rows: 1 << 17, max_columns: 1 << 14, max_cells: 1 << 25 }
    }
}

/// Footer bytes allowed per column, and in all besides: pyarrow's footer
/// holds about 80 bytes per column plus twice the column's name. The
/// footer is parsed into structures about 20 times its size (a column
/// chunk is ~25 bytes of Thrift and ~450 bytes decoded), so its length is
/// checked against the column bound before the reader parses it.
const FOOTER_PER_COLUMN: usize = 512;
const FOOTER_BASE: usize = 64 << 10;

/// Position rows a market allows beyond one per calendar day of its span:
/// two years, for positions indexed on a calendar wider than the data
/// (e.g. month ends around the first and last trading day).
const ROW_SLACK: usize = 2 * 366;
/// Symbol columns a market allows beyond its own symbols: a strategy's
/// universe may name a few the data lacks (scoring drops them with a warning).
const COLUMN_SLACK: usize = 256;

impl Bounds {
    /// What a position scored against this market can reasonably hold: one
    /// row per calendar day the market spans (every daily, weekly or monthly
    /// index of the data fits) plus [`ROW_SLACK`], its symbols plus
    /// [`COLUMN_SLACK`], and never more than [`Bounds::default`].
    pub fn for_market(dates: &[i32], symbols: usize) -> Bounds {
        let d = Bounds::default();
        let span = match (dates.first(), dates.last()) {
            (Some(a), Some(b)) => usize::try_from(i64::from(*b) - i64::from(*a) + 1).unwrap_or(0),
            _ => 0,
        };
        let max_rows = span.max(dates.len()).saturating_add(ROW_SLACK).min(d.max_rows);
        let max_columns = symbols.saturating_add(COLUMN_SLACK).min(d.max_columns);
        Bounds { max_rows, max_columns, max_cells: max_rows.saturating_mul(max_columns).min(d.max_cells) }
    }
}

/// Records decoded per call into the third-party reader: its buffers and
/// ours stay this small whatever a page header claims.
const BATCH: usize = 8192;

impl Position {
    /// Decode with [`Bounds::default`]: for callers that have no market
    /// data at hand. [`Position::decode_within`] with
    /// [`Bounds::for_market`] is tighter.
    pub fn decode(payload: Vec<u8>) -> Result<Position, String> {
        Position::decode_within(payload, &Bounds::default())
    }

    /// Validate the file against `bounds` and the harness's layout, then
    /// decode it, on a worker thread bounded by [`DECODE_DEADLINE`]. Never
    /// panics and never stalls: see the module docs for the last resorts
    /// (`catch_unwind` and the deadline) around the third-party decoder.
    pub fn decode_within(payload: Vec<u8>, bounds: &Bounds) -> Result<Position, String> {
        decode_with_deadline(payload, bounds, DECODE_DEADLINE)
    }

    /// [`Position::decode_within`] without the `catch_unwind`: for the fuzz
    /// target, so that a panic is a finding rather than hidden.
    #[doc(hidden)]
    pub fn decode_unguarded(payload: Vec<u8>, bounds: &Bounds) -> Result<Position, String> {
        let size = payload.len() as u64;
        check_footer_length(&payload, bounds)?;
        check_schema_shape(&payload, bounds)?;
        let bytes = Bytes::from(payload);
        let reader = SerializedFileReader::new(bytes.clone()).map_err(|e| format!("unreadable position: {e}"))?;
        let md = reader.metadata();
        let schema = md.file_metadata().schema_descr();
        let ncols = schema.num_columns();
        if ncols == 0 {
            return Err("the position has no columns".into());
        }
        if ncols - 1 > bounds.max_columns {
            return Err(format!(
                "the position has {} symbol columns, more than the {} the market data allows",
                ncols - 1,
                bounds.max_columns
            ));
        }
        let date_col = schema.column(0);
        if date_col.name() != "date"
            || date_col.physical_type() != Physical::INT32
            || !matches!(date_col.logical_type_ref(), Some(LogicalType::Date))
        {
            return Err("the position's first column must be `date` (DATE, a calendar day without time zone)".into());
        }
        let mut dtype = None;
        let mut symbols = Vec::with_capacity(ncols - 1);
        for i in 0..ncols {
            let c = schema.column(i);
            if c.path().parts().len() != 1 || c.max_rep_level() != 0 || c.max_def_level() > 1 {
                return Err(format!("nested or repeated position column `{}`", c.path()));
            }
            if i == 0 {
                continue;
            }
            let t = match c.physical_type() {
                Physical::DOUBLE => Dtype::Float,
                Physical::BOOLEAN => Dtype::Bool,
                other => return Err(format!("position column `{}` has type {other}, not DOUBLE or BOOLEAN", c.name())),
            };
            if dtype.is_some_and(|d| d != t) {
                return Err("the position mixes boolean and numeric columns".into());
            }
            dtype = Some(t);
            symbols.push(c.name().to_string());
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = symbols.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(format!("duplicate symbol column `{dup}`"));
        }

        // Every claim of the footer, checked before allocating for it.
        let claimed = md.file_metadata().num_rows();
        let rows = usize::try_from(claimed).map_err(|_| format!("the position claims {claimed} rows"))?;
        if rows > bounds.max_rows {
            return Err(format!(
                "the position claims {rows} rows, more than the {} the market data allows",
                bounds.max_rows
            ));
        }
        let cells = rows.checked_mul(symbols.len()).filter(|c| *c <= bounds.max_cells).ok_or_else(|| {
            format!(
                "the position claims {rows} rows x {} symbols, more than the {} cells the host decodes",
                symbols.len(),
                bounds.max_cells
            )
        })?;
        let mut total = 0usize;
        for (rg, group) in md.row_groups().iter().enumerate() {
            let n = usize::try_from(group.num_rows())
                .map_err(|_| format!("row group {rg} claims {} rows", group.num_rows()))?;
            total = total.checked_add(n).filter(|t| *t <= rows).ok_or("row groups disagree with the row count")?;
            if group.columns().len() != ncols {
                return Err(format!("row group {rg} has {} column chunks for {ncols} columns", group.columns().len()));
            }
            for (i, chunk) in group.columns().iter().enumerate() {
                check_chunk(chunk, n, size).map_err(|why| format!("column `{}`: {why}", schema.column(i).name()))?;
            }
        }
        if total != rows {
            return Err("row groups disagree with the row count".into());
        }

        let mut dates: Vec<i32> = Vec::with_capacity(rows);
        let mut values = vec![f64::NAN; cells];
        let mut offset = 0usize;
        for rg in 0..md.num_row_groups() {
            let group = md.row_group(rg);
            // Checked above: non-negative and within `rows`.
            let n = usize::try_from(group.num_rows()).map_err(|_| "negative row count".to_string())?;
            for col in 0..ncols {
                // Checked above (check_chunk): inside the file.
                let chunk = group.column(col);
                let start = usize::try_from(chunk.data_page_offset()).map_err(|_| "bad chunk offset".to_string())?;
                let len = usize::try_from(chunk.compressed_size()).map_err(|_| "bad chunk size".to_string())?;
                let descr = schema.column(col);
                let pages = OwnPages {
                    data: bytes.clone(),
                    pos: start,
                    end: start + len,
                    left: n,
                    max_def: descr.max_def_level(),
                };
                let reader = get_column_reader(descr, Box::new(pages));
                if col == 0 {
                    read_dates(reader, n, &mut dates)?;
                } else {
                    let start = (col - 1) * rows + offset;
                    read_values(reader, &mut values[start..start + n])?;
                }
            }
            offset += n;
        }
        if dates.len() != rows {
            return Err("the `date` column disagrees with the row count".into());
        }
        if dates.windows(2).any(|w| w[0] >= w[1]) {
            return Err("the position's dates are not strictly increasing".into());
        }
        check_weights(&dates, &symbols, &values)?;
        Ok(Position { dates, symbols, values, dtype: dtype.unwrap_or(Dtype::Float) })
    }

    pub fn summary(&self) -> PositionSummary {
        PositionSummary {
            rows: self.dates.len(),
            columns: self.symbols.len(),
            dtype: self.dtype,
            start: self.dates.first().map(|d| iso_date(*d)),
            end: self.dates.last().map(|d| iso_date(*d)),
            sha256: self.hash(),
        }
    }

    fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"finsandbox-position-v1\0");
        h.update((self.symbols.len() as u64).to_le_bytes());
        for s in &self.symbols {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        h.update((self.dates.len() as u64).to_le_bytes());
        for d in &self.dates {
            h.update(d.to_le_bytes());
        }
        for v in &self.values {
            let bits = if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() };
            h.update(bits.to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The footer's length (the 4 bytes before the closing magic) against
/// [`FOOTER_PER_COLUMN`] per allowed column: a footer is parsed whole, so
/// this is the one claim checked before the reader sees it. Anything
/// shorter than a footer is left to the reader's own error.
fn check_footer_length(payload: &[u8], bounds: &Bounds) -> Result<(), String> {
    let Some(len) = payload.len().checked_sub(8).and_then(|at| payload.get(at..at + 4)) else {
        return Ok(());
    };
    let footer = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let cap = bounds.max_columns.saturating_add(1).saturating_mul(FOOTER_PER_COLUMN).saturating_add(FOOTER_BASE);
    if footer > cap {
        return Err(format!(
            "unreadable position: its metadata claims {footer} bytes, more than the {cap} its {} columns at most allow",
            bounds.max_columns + 1
        ));
    }
    Ok(())
}

/// The schema's shape, read from the footer's Thrift by [`FooterScan`]
/// before the reader parses it: the reader trusts each element's
/// `num_children` (it reserves that many slots: 2^31 claimed children is a
/// 16 GiB allocation from a 128-byte file) and recurses once per nesting
/// level (a deep schema overflows the stack, which nothing can catch). A
/// position is flat, so the one shape accepted is a root whose children are
/// all the other elements, each a leaf with a type.
fn check_schema_shape(payload: &[u8], bounds: &Bounds) -> Result<(), String> {
    let bad = |why: &str| format!("unreadable position: {why}");
    let n = payload.len();
    let Some(len) = n.checked_sub(8).and_then(|at| payload.get(at..at + 4)) else {
        return Err(bad("too short for a Parquet file"));
    };
    let footer = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let start = (n - 8).checked_sub(footer).ok_or_else(|| bad("the footer is longer than the file"))?;
    let footer = &payload[start..n - 8];
    // Every field the position's footer may have, with the wire type the
    // format gives it: the crate reads a known field as its declared type
    // whatever the wire says, so a mismatch would put it out of step with
    // this scan (that is how a schema claiming 10 GB of children got past a
    // scan that only looked at well-typed fields).
    let mut typed = FooterScan { buf: footer, pos: 0, refuse_bool_lists: true };
    typed.strict(FILE_METADATA, 0).map_err(|e| bad(&e))?;
    let elements = FooterScan { buf: footer, pos: 0, refuse_bool_lists: true }.schema().map_err(|e| bad(&e))?;
    let (root, leaves) = elements.split_first().ok_or_else(|| bad("an empty schema"))?;
    if leaves.len() > bounds.max_columns + 1 {
        return Err(format!(
            "the position has {} symbol columns, more than the {} the market data allows",
            leaves.len() - 1,
            bounds.max_columns
        ));
    }
    if root.num_children != Some(leaves.len() as i64) {
        return Err(
            "nested or inconsistent position schema (a position is flat: a date and one column per symbol)".into()
        );
    }
    if leaves.iter().any(|e| !e.typed || !matches!(e.num_children, None | Some(0))) {
        return Err("nested position columns (a position is flat: a date and one column per symbol)".into());
    }
    Ok(())
}

/// A field's wire type in the Thrift compact protocol, and for structs and
/// lists what they hold.
#[derive(Clone, Copy)]
enum Wire {
    Bool,
    I16,
    I32,
    I64,
    Binary,
    List(&'static Wire),
    Struct(&'static [(i64, Wire)]),
}

impl Wire {
    fn code_matches(self, code: u8) -> bool {
        match self {
            Wire::Bool => matches!(code, 1 | 2),
            Wire::I16 => code == 4,
            Wire::I32 => code == 5,
            Wire::I64 => code == 6,
            Wire::Binary => code == 8,
            Wire::List(_) => code == 9,
            Wire::Struct(_) => code == 12,
        }
    }
}

/// The footer fields a position written by pyarrow or the parquet crate
/// has (parquet.thrift). Anything else (encryption, geospatial statistics,
/// logical types other than DATE, unknown fields) is refused, so the
/// crate's reader never has to skip or guess.
const EMPTY: Wire = Wire::Struct(&[]);
const LOGICAL_TYPE: Wire = Wire::Struct(&[(6, EMPTY)]);
const SCHEMA_ELEMENT: Wire = Wire::Struct(&[
    (1, Wire::I32),
    (2, Wire::I32),
    (3, Wire::I32),
    (4, Wire::Binary),
    (5, Wire::I32),
    (6, Wire::I32),
    (7, Wire::I32),
    (8, Wire::I32),
    (9, Wire::I32),
    (10, LOGICAL_TYPE),
]);
const KEY_VALUE: Wire = Wire::Struct(&[(1, Wire::Binary), (2, Wire::Binary)]);
const STATISTICS: Wire = Wire::Struct(&[
    (1, Wire::Binary),
    (2, Wire::Binary),
    (3, Wire::I64),
    (4, Wire::I64),
    (5, Wire::Binary),
    (6, Wire::Binary),
    (7, Wire::Bool),
    (8, Wire::Bool),
    (9, Wire::I64),
]);
const ENCODING_STATS: Wire = Wire::Struct(&[(1, Wire::I32), (2, Wire::I32), (3, Wire::I32)]);
const SIZE_STATISTICS: Wire = Wire::Struct(&[(1, Wire::I64), (2, Wire::List(&Wire::I64)), (3, Wire::List(&Wire::I64))]);
const COLUMN_METADATA: Wire = Wire::Struct(&[
    (1, Wire::I32),
    (2, Wire::List(&Wire::I32)),
    (3, Wire::List(&Wire::Binary)),
    (4, Wire::I32),
    (5, Wire::I64),
    (6, Wire::I64),
    (7, Wire::I64),
    (8, Wire::List(&KEY_VALUE)),
    (9, Wire::I64),
    (10, Wire::I64),
    (11, Wire::I64),
    (12, STATISTICS),
    (13, Wire::List(&ENCODING_STATS)),
    (14, Wire::I64),
    (15, Wire::I32),
    (16, SIZE_STATISTICS),
]);
const COLUMN_CHUNK: Wire = Wire::Struct(&[
    (1, Wire::Binary),
    (2, Wire::I64),
    (3, COLUMN_METADATA),
    (4, Wire::I64),
    (5, Wire::I32),
    (6, Wire::I64),
    (7, Wire::I32),
]);
const SORTING_COLUMN: Wire = Wire::Struct(&[(1, Wire::I32), (2, Wire::Bool), (3, Wire::Bool)]);
const ROW_GROUP: Wire = Wire::Struct(&[
    (1, Wire::List(&COLUMN_CHUNK)),
    (2, Wire::I64),
    (3, Wire::I64),
    (4, Wire::List(&SORTING_COLUMN)),
    (5, Wire::I64),
    (6, Wire::I64),
    (7, Wire::I16),
]);
/// Type-defined order, or IEEE 754 total order (written for floats by newer writers).
const COLUMN_ORDER: Wire = Wire::Struct(&[(1, EMPTY), (2, EMPTY)]);
const FILE_METADATA: Wire = Wire::Struct(&[
    (1, Wire::I32),
    (2, Wire::List(&SCHEMA_ELEMENT)),
    (3, Wire::I64),
    (4, Wire::List(&ROW_GROUP)),
    (5, Wire::List(&KEY_VALUE)),
    (6, Wire::Binary),
    (7, Wire::List(&COLUMN_ORDER)),
]);

/// What [`FooterScan`] keeps of one schema element.
struct SchemaShape {
    typed: bool,
    num_children: Option<i64>,
}

/// A reader of the Thrift compact protocol that keeps nothing but the
/// schema's shape and allocates nothing a length field claims: every
/// length is checked against the bytes left, and nesting is capped.
struct FooterScan<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Refuse lists, sets and maps of booleans: no footer has them, and the
    /// Parquet crate's reader (which parses the footer after this scan)
    /// skips their elements without consuming input, so it would loop for
    /// each claimed element and read the bytes after out of step with this
    /// scan.
    refuse_bool_lists: bool,
}

/// What a page header says, as far as a position needs it.
struct PageHeaderLite {
    kind: i64,
    uncompressed: i64,
    compressed: i64,
    /// Data page v1: values, value encoding, definition and repetition level encodings.
    data: Option<(i64, i64, i64, i64)>,
}

const THRIFT_MAX_DEPTH: u32 = 32;

impl FooterScan<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.buf.get(self.pos).ok_or("the footer ends early")?;
        self.pos += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("an overlong varint in the footer".into())
    }
    fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    fn skip_bytes(&mut self, n: u64) -> Result<(), String> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err("a footer field is longer than the footer".into());
        }
        self.pos += n as usize;
        Ok(())
    }
    /// A field header: `None` at the struct's end.
    fn field(&mut self, last: &mut i64) -> Result<Option<(i64, u8)>, String> {
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let delta = i64::from(b >> 4);
        *last = if delta == 0 { self.zigzag()? } else { *last + delta };
        Ok(Some((*last, b & 0x0f)))
    }
    /// A list or set header: element type and size (at most one element per byte left).
    fn list(&mut self) -> Result<(u8, u64), String> {
        let b = self.byte()?;
        let size = if b >> 4 == 15 { self.varint()? } else { u64::from(b >> 4) };
        if size > (self.buf.len() - self.pos) as u64 {
            return Err("a footer list claims more elements than bytes".into());
        }
        Ok((b & 0x0f, size))
    }
    fn skip(&mut self, ty: u8, depth: u32, in_list: bool) -> Result<(), String> {
        if depth > THRIFT_MAX_DEPTH {
            return Err("the footer nests too deeply".into());
        }
        match ty {
            // Booleans: in the field header in a struct, one byte in a list.
            1 | 2 => {
                if in_list {
                    self.byte()?;
                }
                Ok(())
            }
            3 => self.byte().map(drop),
            4..=6 => self.varint().map(drop),
            7 => self.skip_bytes(8),
            8 => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            9 | 10 => {
                let (elem, size) = self.list()?;
                if self.refuse_bool_lists && matches!(elem, 1 | 2) {
                    return Err("a list of booleans in the footer".into());
                }
                for _ in 0..size {
                    self.skip(elem, depth + 1, true)?;
                }
                Ok(())
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                if size > (self.buf.len() - self.pos) as u64 {
                    return Err("a footer map claims more entries than bytes".into());
                }
                let kinds = self.byte()?;
                if self.refuse_bool_lists && (matches!(kinds >> 4, 1 | 2) || matches!(kinds & 0x0f, 1 | 2)) {
                    return Err("a map of booleans in the footer".into());
                }
                for _ in 0..size {
                    self.skip(kinds >> 4, depth + 1, true)?;
                    self.skip(kinds & 0x0f, depth + 1, true)?;
                }
                Ok(())
            }
            12 => {
                let mut last = 0;
                while let Some((_, t)) = self.field(&mut last)? {
                    self.skip(t, depth + 1, false)?;
                }
                Ok(())
            }
            other => Err(format!("an unknown Thrift type {other} in the footer")),
        }
    }
    /// A value of type `w`: known fields only, each with its wire type.
    fn strict(&mut self, w: Wire, depth: u32) -> Result<(), String> {
        if depth > THRIFT_MAX_DEPTH {
            return Err("the footer nests too deeply".into());
        }
        match w {
            Wire::Bool => Ok(()), // in the field header (no lists of booleans here)
            Wire::I16 | Wire::I32 | Wire::I64 => self.varint().map(drop),
            Wire::Binary => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            Wire::List(elem) => {
                let (code, size) = self.list()?;
                if size > 0 && (matches!(elem, Wire::Bool) || !elem.code_matches(code)) {
                    return Err("a footer list of the wrong type".into());
                }
                for _ in 0..size {
                    self.strict(*elem, depth + 1)?;
                }
                Ok(())
            }
            Wire::Struct(fields) => {
                let mut last = 0;
                while let Some((id, code)) = self.field(&mut last)? {
                    let Some((_, want)) = fields.iter().find(|(f, _)| *f == id) else {
                        return Err(format!("a footer field ({id}) that positions do not have"));
                    };
                    if !want.code_matches(code) {
                        return Err(format!("a footer field ({id}) of the wrong type"));
                    }
                    self.strict(*want, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// FileMetaData field 2: the schema elements' shapes.
    fn schema(mut self) -> Result<Vec<SchemaShape>, String> {
        let mut schema = None;
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            if id != 2 || ty != 9 {
                self.skip(ty, 1, false)?;
                continue;
            }
            if schema.is_some() {
                return Err("the footer has two schemas".into());
            }
            let (elem, size) = self.list()?;
            if elem != 12 {
                return Err("the footer's schema is not a list of elements".into());
            }
            // `size` is at most the bytes left (checked in `list`).
            let mut out = Vec::with_capacity(size as usize);
            for _ in 0..size {
                let mut shape = SchemaShape { typed: false, num_children: None };
                let mut last = 0;
                while let Some((id, ty)) = self.field(&mut last)? {
                    match (id, ty) {
                        (1, 5) => {
                            self.zigzag()?;
                            shape.typed = true;
                        }
                        (5, 5) => shape.num_children = Some(self.zigzag()?),
                        _ => self.skip(ty, 2, false)?,
                    }
                }
                out.push(shape);
            }
            schema = Some(out);
        }
        // The whole footer was scanned: every list and string fits, and no
        // list of booleans is left for the crate's reader to stall on.
        schema.ok_or_else(|| "the footer has no schema".into())
    }

    /// One page header; every field the position needs must have the type
    /// the format gives it, the rest are skipped by this scan.
    fn page_header(&mut self) -> Result<PageHeaderLite, String> {
        let mut h = PageHeaderLite { kind: -1, uncompressed: -1, compressed: -1, data: None };
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            match (id, ty) {
                (1, 5) => h.kind = self.zigzag()?,
                (2, 5) => h.uncompressed = self.zigzag()?,
                (3, 5) => h.compressed = self.zigzag()?,
                (5, 12) => {
                    let mut d = (-1, -1, -1, -1);
                    let mut last = 0;
                    while let Some((id, ty)) = self.field(&mut last)? {
                        match (id, ty) {
                            (1, 5) => d.0 = self.zigzag()?,
                            (2, 5) => d.1 = self.zigzag()?,
                            (3, 5) => d.2 = self.zigzag()?,
                            (4, 5) => d.3 = self.zigzag()?,
                            (1..=4, _) => return Err("a page header field of the wrong type".into()),
                            _ => self.skip(ty, 2, false)?,
                        }
                    }
                    if d.0 < 0 || d.1 < 0 || d.2 < 0 || d.3 < 0 {
                        return Err("a data page header without its required fields".into());
                    }
                    h.data = Some(d);
                }
                (1..=3 | 5, _) => return Err("a page header field of the wrong type".into()),
                _ => self.skip(ty, 1, false)?,
            }
        }
        if h.kind < 0 || h.uncompressed < 0 || h.compressed < 0 {
            return Err("a page header without its required fields".into());
        }
        Ok(h)
    }
}

/// How long a position may take to decode: a 256 MiB position decodes in
/// about a second. Past this the file was built to stall the reader (the
/// Parquet crate's Thrift reader loops once per claimed element of a list
/// of booleans without consuming input: 2^31 iterations from 5 bytes).
pub const DECODE_DEADLINE: Duration = Duration::from_secs(30);

/// The last resorts, both around code that is not ours: a panic becomes an
/// error (`catch_unwind`), and a decode that outlives `deadline` is
/// abandoned (its thread finishes or dies with the process; the CLI exits
/// right after the verdict). Neither is the fix, the checks before the
/// reader are; they keep a missed case from becoming exit 101 or a hang.
fn decode_with_deadline(payload: Vec<u8>, bounds: &Bounds, deadline: Duration) -> Result<Position, String> {
    let bounds = *bounds;
    guarded(deadline, move || Position::decode_unguarded(payload, &bounds))
}

/// Run `work` on its own thread: a panic becomes an error, and a result
/// later than `deadline` is given up on.
fn guarded<T: Send + 'static>(
    deadline: Duration,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::sync_channel(1);
    let run = move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| {
            Err("unreadable position: the Parquet reader failed on the file (malformed beyond what the checks cover)"
                .into())
        });
        let _ = tx.send(r);
    };
    std::thread::Builder::new()
        .name("position-decode".into())
        .spawn(run)
        .map_err(|e| format!("cannot start the position decoder: {e}"))?;
    match rx.recv_timeout(deadline) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "unreadable position: decoding took longer than {} s (a file built to stall the Parquet reader)",
            deadline.as_secs_f64()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("unreadable position: the decoder stopped".into()),
    }
}

/// One column chunk's metadata against what the harness writes and the
/// payload holds. `rows` is its row group's validated row count.
/// (BIT_PACKED is deprecated but still what older writers list for levels.)
#[allow(deprecated)]
fn check_chunk(chunk: &parquet::file::metadata::ColumnChunkMetaData, rows: usize, size: u64) -> Result<(), String> {
    if chunk.compression() != Compression::UNCOMPRESSED {
        return Err(format!("compressed with {} (the harness writes uncompressed positions)", chunk.compression()));
    }
    if chunk.dictionary_page_offset().is_some() {
        return Err("dictionary-encoded (the harness writes plain values)".into());
    }
    if let Some(bad) = chunk.encodings().find(|e| !matches!(e, Encoding::PLAIN | Encoding::RLE | Encoding::BIT_PACKED))
    {
        return Err(format!("encoded as {bad} (the harness writes plain values)"));
    }
    let (start, len) = (chunk.data_page_offset(), chunk.compressed_size());
    let end = u64::try_from(start).ok().zip(u64::try_from(len).ok()).and_then(|(s, l)| s.checked_add(l));
    if end.is_none_or(|e| e > size) {
        return Err(format!("its bytes ({start} + {len}) lie outside the {size}-byte file"));
    }
    if usize::try_from(chunk.num_values()).ok() != Some(rows) {
        return Err(format!("{} values in a row group of {rows} rows", chunk.num_values()));
    }
    Ok(())
}

/// The pages of one column chunk, read by this module rather than the
/// Parquet crate: a page header is as much a claim as the footer, and the
/// crate's Thrift reader can be made to loop for seconds per five bytes of
/// header. Each header is parsed by [`FooterScan`] (lengths checked against
/// the bytes left), checked against the validated metadata (a data page v1,
/// uncompressed, plain values, at most the row group's rows), and only then
/// handed to the crate's value decoder as a ready page.
struct OwnPages {
    data: Bytes,
    pos: usize,
    end: usize,
    /// Values (levels) the chunk may still hold: its row group's rows.
    left: usize,
    /// 1 for an optional column (its pages start with definition levels), else 0.
    max_def: i16,
}

impl OwnPages {
    fn next_page(&mut self) -> Result<Option<Page>, String> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let mut scan = FooterScan { buf: &self.data[self.pos..self.end], pos: 0, refuse_bool_lists: false };
        let h = scan.page_header()?;
        let body = self.pos + scan.pos;
        let body_end = usize::try_from(h.compressed)
            .ok()
            .and_then(|c| body.checked_add(c))
            .filter(|e| *e <= self.end)
            .ok_or("a page longer than its column chunk")?;
        if h.compressed != h.uncompressed {
            return Err("a compressed page (the harness writes uncompressed positions)".into());
        }
        let (num_values, encoding, def_levels, rep_levels) = match (h.kind, h.data) {
            (0, Some(d)) => d,
            (2, _) => return Err("a dictionary page (the harness writes plain values)".into()),
            (3, _) => return Err("a data page v2 (the harness writes v1 pages)".into()),
            _ => return Err("a page that is not a data page".into()),
        };
        let encoding = plain_encoding(encoding).ok_or_else(|| format!("a page encoded as {encoding}"))?;
        if encoding != Encoding::PLAIN {
            return Err(format!("a page encoded as {encoding} (the harness writes plain values)"));
        }
        let def = level_encoding(def_levels).ok_or("a page with unsupported level encoding")?;
        let rep = level_encoding(rep_levels).ok_or("a page with unsupported level encoding")?;
        if self.max_def > 0 {
            if def != Encoding::RLE {
                return Err("a page with bit-packed levels (the harness writes RLE levels)".into());
            }
            check_rle_levels(&self.data[body..body_end])?;
        }
        let n = usize::try_from(num_values).map_err(|_| "a page with a negative value count".to_string())?;
        self.left = self.left.checked_sub(n).ok_or("a page with more values than its row group has rows")?;
        self.pos = body_end;
        Ok(Some(Page::DataPage {
            buf: self.data.slice(body..body_end),
            num_values: n as u32,
            encoding,
            def_level_encoding: def,
            rep_level_encoding: rep,
            statistics: None,
        }))
    }
}

/// Definition levels of a v1 page (a 4-byte length, then RLE/bit-packed
/// runs at bit width 1), walked before the crate's decoder reads them: its
/// run-header reader panics on a varint longer than 10 bytes (found by the
/// fuzzer). A run header here is a u32 (at most 5 varint bytes), and every
/// run must fit in the levels' length.
fn check_rle_levels(page: &[u8]) -> Result<(), String> {
    let cut = || "definition levels cut short".to_string();
    let len = page.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize).ok_or_else(cut)?;
    let runs = page.get(4..).and_then(|r| r.get(..len)).ok_or_else(cut)?;
    let mut pos = 0usize;
    while pos < runs.len() {
        let mut header = 0u64;
        for i in 0.. {
            if i == 5 {
                return Err("an overlong run header in the definition levels".into());
            }
            let b = *runs.get(pos).ok_or_else(cut)?;
            pos += 1;
            header |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        // Bit-packed: groups of 8 levels, one byte each at width 1; RLE: one value byte.
        let bytes = if header & 1 == 1 { header >> 1 } else { 1 };
        pos = usize::try_from(bytes)
            .ok()
            .and_then(|b| pos.checked_add(b))
            .filter(|p| *p <= runs.len())
            .ok_or_else(cut)?;
    }
    Ok(())
}

/// Value encodings by their Parquet numbers, of those a position may use.
fn plain_encoding(e: i64) -> Option<Encoding> {
    match e {
        0 => Some(Encoding::PLAIN),
        3 => Some(Encoding::RLE),
        _ => None,
    }
}

/// Level encodings (BIT_PACKED is deprecated but what old writers use).
#[allow(deprecated)]
fn level_encoding(e: i64) -> Option<Encoding> {
    match e {
        3 => Some(Encoding::RLE),
        4 => Some(Encoding::BIT_PACKED),
        _ => None,
    }
}

impl Iterator for OwnPages {
    type Item = parquet::errors::Result<Page>;
    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl PageReader for OwnPages {
    fn get_next_page(&mut self) -> parquet::errors::Result<Option<Page>> {
        self.next_page().map_err(|why| ParquetError::General(format!("unreadable position: {why}")))
    }
    fn peek_next_page(&mut self) -> parquet::errors::Result<Option<PageMetadata>> {
        Err(ParquetError::General("peeking pages is not used for positions".into()))
    }
    fn skip_next_page(&mut self) -> parquet::errors::Result<()> {
        Err(ParquetError::General("skipping pages is not used for positions".into()))
    }
}

/// Append the `n` dates of one row group to `out`, in batches.
fn read_dates(reader: ColumnReader, n: usize, out: &mut Vec<i32>) -> Result<(), String> {
    let ColumnReader::Int32ColumnReader(mut r) = reader else {
        return Err("the `date` column is not INT32".into());
    };
    let mut defs: Vec<i16> = Vec::with_capacity(BATCH.min(n));
    let mut buf: Vec<i32> = Vec::with_capacity(BATCH.min(n));
    let mut done = 0;
    while done < n {
        defs.clear();
        buf.clear();
        let want = BATCH.min(n - done);
        let (records, _, _) =
            r.read_records(want, Some(&mut defs), None, &mut buf).map_err(|e| format!("unreadable dates: {e}"))?;
        if records == 0 || records > want || buf.len() != records {
            return Err("the `date` column has missing values".into());
        }
        out.extend_from_slice(&buf);
        done += records;
    }
    Ok(())
}

/// Fill `out` from one column chunk, in batches; nulls become NaN,
/// booleans 1.0 / 0.0.
fn read_values(reader: ColumnReader, out: &mut [f64]) -> Result<(), String> {
    let n = out.len();
    let mut defs: Vec<i16> = Vec::with_capacity(BATCH.min(n));
    let mut floats: Vec<f64> = Vec::with_capacity(BATCH.min(n));
    let mut bools: Vec<bool> = Vec::new();
    let mut reader = reader;
    let mut done = 0;
    while done < n {
        defs.clear();
        floats.clear();
        let want = BATCH.min(n - done);
        let records = match &mut reader {
            ColumnReader::DoubleColumnReader(r) => {
                r.read_records(want, Some(&mut defs), None, &mut floats)
                    .map_err(|e| format!("unreadable values: {e}"))?
                    .0
            }
            ColumnReader::BoolColumnReader(r) => {
                bools.clear();
                let got = r
                    .read_records(want, Some(&mut defs), None, &mut bools)
                    .map_err(|e| format!("unreadable values: {e}"))?
                    .0;
                floats.extend(bools.iter().map(|b| if *b { 1.0 } else { 0.0 }));
                got
            }
            _ => return Err("unexpected column type".into()),
        };
        if records == 0 || records > want {
            return Err("a column is shorter than the date column".into());
        }
        let slots = &mut out[done..done + records];
        // Required columns have no definition levels: every slot holds a value.
        if defs.is_empty() {
            if floats.len() != records {
                return Err("a column is shorter than the date column".into());
            }
            slots.copy_from_slice(&floats);
        } else {
            if defs.len() != records {
                return Err("a column is shorter than the date column".into());
            }
            let mut it = floats.iter();
            for (slot, def) in slots.iter_mut().zip(&defs) {
                *slot = if *def > 0 { *it.next().ok_or("inconsistent null levels")? } else { f64::NAN };
            }
            if it.next().is_some() {
                return Err("inconsistent null levels".into());
            }
        }
        done += records;
    }
    Ok(())
}

/// NaN means "no position"; an infinite weight, or a row whose absolute
/// weights overflow when added (scoring scales a row by its gross), has no
/// meaning and would silently become cash.
fn check_weights(dates: &[i32], symbols: &[String], values: &[f64]) -> Result<(), String> {
    let rows = dates.len();
    if let Some(i) = values.iter().position(|v| v.is_infinite()) {
        let (col, row) = (i / rows.max(1), i % rows.max(1));
        return Err(format!(
            "the position's weight for `{}` on {} is {}: weights must be finite (NaN means no position)",
            symbols.get(col).map(String::as_str).unwrap_or("?"),
            dates.get(row).map(|d| iso_date(*d)).unwrap_or_default(),
            values[i]
        ));
    }
    let mut gross = vec![0.0f64; rows];
    for column in values.chunks(rows.max(1)) {
        for (g, v) in gross.iter_mut().zip(column) {
            if !v.is_nan() {
                *g += v.abs();
            }
        }
    }
    for (date, g) in dates.iter().zip(&gross) {
        if !g.is_finite() {
            return Err(format!(
                "the position's weights on {} add up to more than a float can hold: scale them (weights are fractions of equity)",
                iso_date(*date)
            ));
        }
    }
    Ok(())
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (proleptic Gregorian).
pub fn iso_date(days: i32) -> String {
    let (y, m, d) = crate::dates::civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[doc(hidden)]
pub mod craft {
    //! A minimal Parquet writer with every field under the caller's control,
    //! for tests and fuzz seeds: it writes the files no honest writer would
    //! (a footer claiming 2^62 rows, a dictionary page expanding 1 value to
    //! millions, pages that contradict their metadata). Thrift compact
    //! protocol, by hand: a few dozen lines, and no field is ever "fixed up".

    /// Physical types, encodings, codecs and page types by their Parquet
    /// numbers.
    pub const BOOLEAN: i32 = 0;
    pub const INT32: i32 = 1;
    pub const INT64: i32 = 2;
    pub const DOUBLE: i32 = 5;
    pub const BYTE_ARRAY: i32 = 6;
    pub const PLAIN: i32 = 0;
    pub const RLE: i32 = 3;
    pub const BIT_PACKED: i32 = 4;
    pub const RLE_DICTIONARY: i32 = 8;
    pub const UNCOMPRESSED: i32 = 0;
    pub const SNAPPY: i32 = 1;

    /// One page: a data page (v1) or a dictionary page.
    #[derive(Debug, Clone)]
    pub struct Page {
        pub dictionary: bool,
        pub num_values: i32,
        pub encoding: i32,
        pub body: Vec<u8>,
        /// Claimed uncompressed size; `None`: the body's length.
        pub uncompressed: Option<i32>,
        /// Raw bytes appended to the page header before its stop byte
        /// (fields the reader does not know).
        pub extra_header: Vec<u8>,
    }

    impl Page {
        pub fn data(num_values: i32, encoding: i32, body: Vec<u8>) -> Page {
            Page { dictionary: false, num_values, encoding, body, uncompressed: None, extra_header: Vec::new() }
        }
        pub fn dictionary(num_values: i32, body: Vec<u8>) -> Page {
            Page { dictionary: true, num_values, encoding: PLAIN, body, uncompressed: None, extra_header: Vec::new() }
        }
    }

    #[derive(Debug, Clone)]
    pub struct Column {
        pub name: String,
        pub physical: i32,
        pub optional: bool,
        /// Annotate as DATE (logical and converted type).
        pub date: bool,
        /// Annotate as TIMESTAMP(MILLIS, adjusted to UTC) instead.
        pub timestamp: bool,
        pub pages: Vec<Page>,
        pub codec: i32,
        /// Encodings listed in the metadata.
        pub encodings: Vec<i32>,
        /// Claimed number of values; `None`: the row count.
        pub num_values: Option<i64>,
        /// Leave a leading dictionary page out of the metadata: the chunk
        /// then claims to start with a data page.
        pub hide_dictionary: bool,
    }

    impl Column {
        pub fn new(name: &str, physical: i32, pages: Vec<Page>) -> Column {
            Column {
                name: name.into(),
                physical,
                optional: false,
                date: false,
                timestamp: false,
                pages,
                codec: UNCOMPRESSED,
                encodings: vec![PLAIN, RLE],
                num_values: None,
                hide_dictionary: false,
            }
        }
        /// A required DATE column of plain days.
        pub fn dates(days: &[i32]) -> Column {
            let mut c = Column::new("date", INT32, vec![Page::data(days.len() as i32, PLAIN, plain_i32(days))]);
            c.date = true;
            c
        }
        /// A required DOUBLE column of plain values.
        pub fn doubles(name: &str, v: &[f64]) -> Column {
            Column::new(name, DOUBLE, vec![Page::data(v.len() as i32, PLAIN, plain_f64(v))])
        }
    }

    /// One row group holding every column; `num_rows` is claimed in both
    /// the footer and the row group.
    #[derive(Debug, Clone)]
    pub struct File {
        pub columns: Vec<Column>,
        pub num_rows: i64,
        /// The row group's claim; `None`: `num_rows`.
        pub group_rows: Option<i64>,
    }

    pub fn plain_i32(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    pub fn plain_f64(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// An RLE run: `count` repetitions of `value` at `bit_width` bits
    /// (at most 8), as the hybrid RLE encoding writes it.
    pub fn rle_run(count: u64, value: u8, bit_width: u8) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, count << 1);
        if bit_width > 0 {
            out.push(value);
        }
        out
    }

    /// A dictionary-indices body: bit width, then one RLE run of index 0.
    pub fn dictionary_indices(count: u64) -> Vec<u8> {
        let mut out = vec![1u8];
        out.extend(rle_run(count, 0, 1));
        out
    }

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// Thrift compact protocol, writing side only.
    struct W {
        out: Vec<u8>,
        last: Vec<i16>,
    }

    impl W {
        fn new() -> W {
            W { out: Vec::new(), last: vec![0] }
        }
        fn field(&mut self, id: i16, ty: u8) {
            let last = self.last.last_mut().map(|l| std::mem::replace(l, id)).unwrap_or(0);
            let delta = id - last;
            if (1..=15).contains(&delta) {
                self.out.push(((delta as u8) << 4) | ty);
            } else {
                self.out.push(ty);
                varint(&mut self.out, ((id << 1) ^ (id >> 15)) as u16 as u64);
            }
        }
        fn i32(&mut self, id: i16, v: i32) {
            self.field(id, 5);
            varint(&mut self.out, ((v << 1) ^ (v >> 31)) as u32 as u64);
        }
        fn i64(&mut self, id: i16, v: i64) {
            self.field(id, 6);
            varint(&mut self.out, ((v << 1) ^ (v >> 63)) as u64);
        }
        fn bin(&mut self, id: i16, v: &[u8]) {
            self.field(id, 8);
            varint(&mut self.out, v.len() as u64);
            self.out.extend_from_slice(v);
        }
        fn list(&mut self, id: i16, elem: u8, n: usize) {
            self.field(id, 9);
            if n < 15 {
                self.out.push(((n as u8) << 4) | elem);
            } else {
                self.out.push(0xf0 | elem);
                varint(&mut self.out, n as u64);
            }
        }
        fn raw_i32(&mut self, v: i32) {
            varint(&mut self.out, ((v << 1) ^ (v >> 31)) as u32 as u64);
        }
        fn begin(&mut self, id: Option<i16>) {
            if let Some(id) = id {
                self.field(id, 12);
            }
            self.last.push(0);
        }
        fn end(&mut self) {
            self.out.push(0);
            self.last.pop();
        }
    }

    fn page_header(p: &Page) -> Vec<u8> {
        let mut w = W::new();
        w.i32(1, if p.dictionary { 2 } else { 0 });
        w.i32(2, p.uncompressed.unwrap_or(p.body.len() as i32));
        w.i32(3, p.body.len() as i32);
        if p.dictionary {
            w.begin(Some(7));
            w.i32(1, p.num_values);
            w.i32(2, p.encoding);
            w.end();
        } else {
            w.begin(Some(5));
            w.i32(1, p.num_values);
            w.i32(2, p.encoding);
            w.i32(3, RLE);
            w.i32(4, RLE);
            w.end();
        }
        w.out.extend_from_slice(&p.extra_header);
        w.out.push(0);
        w.out
    }

    /// The file's bytes.
    pub fn write(f: &File) -> Vec<u8> {
        let mut out = b"PAR1".to_vec();
        let mut chunks = Vec::new(); // (dictionary offset, data offset, size)
        for c in &f.columns {
            let start = out.len() as i64;
            let mut data = None;
            for p in &c.pages {
                if !p.dictionary && data.is_none() {
                    data = Some(out.len() as i64);
                }
                out.extend(page_header(p));
                out.extend_from_slice(&p.body);
            }
            let has_dict = c.pages.first().is_some_and(|p| p.dictionary);
            if has_dict && c.hide_dictionary {
                chunks.push((None, start, out.len() as i64 - start));
            } else {
                chunks.push((has_dict.then_some(start), data.unwrap_or(start), out.len() as i64 - start));
            }
        }
        let mut w = W::new();
        w.i32(1, 1);
        w.list(2, 12, f.columns.len() + 1);
        w.begin(None);
        w.bin(4, b"schema");
        w.i32(5, f.columns.len() as i32);
        w.end();
        for c in &f.columns {
            w.begin(None);
            w.i32(1, c.physical);
            w.i32(3, i32::from(c.optional));
            w.bin(4, c.name.as_bytes());
            if c.date {
                w.i32(6, 6);
                w.begin(Some(10));
                w.begin(Some(6));
                w.end();
                w.end();
            } else if c.timestamp {
                w.i32(6, 9);
                w.begin(Some(10));
                w.begin(Some(8));
                w.field(1, 1); // isAdjustedToUTC = true
                w.begin(Some(2));
                w.begin(Some(1)); // MILLIS
                w.end();
                w.end();
                w.end();
                w.end();
            }
            w.end();
        }
        w.i64(3, f.num_rows);
        w.list(4, 12, 1);
        w.begin(None);
        w.list(1, 12, f.columns.len());
        for (c, (dict, data, size)) in f.columns.iter().zip(&chunks) {
            w.begin(None);
            w.i64(2, *data);
            w.begin(Some(3));
            w.i32(1, c.physical);
            w.list(2, 5, c.encodings.len());
            for e in &c.encodings {
                w.raw_i32(*e);
            }
            w.list(3, 8, 1);
            varint(&mut w.out, c.name.len() as u64);
            w.out.extend_from_slice(c.name.as_bytes());
            w.i32(4, c.codec);
            w.i64(5, c.num_values.unwrap_or(f.group_rows.unwrap_or(f.num_rows)));
            w.i64(6, *size);
            w.i64(7, *size);
            w.i64(9, *data);
            if let Some(d) = dict {
                w.i64(11, *d);
            }
            w.end();
            w.end();
        }
        let total: i64 = chunks.iter().map(|c| c.2).sum();
        w.i64(2, total);
        w.i64(3, f.group_rows.unwrap_or(f.num_rows));
        w.end();
        w.out.push(0);
        let footer = w.out;
        out.extend_from_slice(&footer);
        out.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        out.extend_from_slice(b"PAR1");
        out
    }
}

#[cfg(test)]
pub mod testutil {
    //! Writing small position files the way the harness does, for tests.
    use std::sync::Arc;

    use parquet::data_type::{BoolType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    pub enum Col<'a> {
        F(&'a str, Vec<Option<f64>>),
        B(&'a str, Vec<bool>),
    }

    pub fn write(dates: &[i32], cols: &[Col]) -> Vec<u8> {
        let mut schema = String::from("message position { required int32 date (DATE);");
        for c in cols {
            match c {
                Col::F(n, _) => schema.push_str(&format!(" optional double {n};")),
                Col::B(n, _) => schema.push_str(&format!(" required boolean {n};")),
            }
        }
        schema.push('}');
        let schema = Arc::new(parse_message_type(&schema).expect("schema"));
        let mut buf = Vec::new();
        let mut w = SerializedFileWriter::new(
            &mut buf,
            schema,
            Arc::new(WriterProperties::builder().set_dictionary_enabled(false).build()),
        )
        .expect("writer");
        let mut rg = w.next_row_group().expect("rg");
        let mut i = 0;
        while let Some(mut col) = rg.next_column().expect("col") {
            if i == 0 {
                col.typed::<Int32Type>().write_batch(dates, None, None).expect("dates");
            } else {
                match &cols[i - 1] {
                    Col::F(_, v) => {
                        let defs: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                        let vals: Vec<f64> = v.iter().flatten().copied().collect();
                        col.typed::<DoubleType>().write_batch(&vals, Some(&defs), None).expect("values");
                    }
                    Col::B(_, v) => {
                        col.typed::<BoolType>().write_batch(v, None, None).expect("values");
                    }
                }
            }
            col.close().expect("close col");
            i += 1;
        }
        rg.close().expect("close rg");
        w.close().expect("close");
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{write, Col};
    use super::*;

    #[test]
    fn decodes_floats_with_nulls_as_nan() {
        let bytes =
            write(&[19000, 19001], &[Col::F("AAA", vec![Some(0.5), None]), Col::F("BBB", vec![None, Some(1.0)])]);
        let p = Position::decode(bytes).expect("valid");
        assert_eq!(p.symbols, ["AAA", "BBB"]);
        assert_eq!(p.dates, [19000, 19001]);
        assert_eq!(p.values[0], 0.5);
        assert!(p.values[1].is_nan());
        assert!(p.values[2].is_nan());
        assert_eq!(p.values[3], 1.0);
        assert_eq!(p.dtype, Dtype::Float);
    }

    #[test]
    fn decodes_booleans() {
        let bytes = write(&[19000, 19001, 19002], &[Col::B("A", vec![true, false, true])]);
        let p = Position::decode(bytes).expect("valid");
        assert_eq!(p.values, [1.0, 0.0, 1.0]);
        assert_eq!(p.dtype, Dtype::Bool);
        let s = p.summary();
        assert_eq!((s.rows, s.columns), (3, 1));
        assert_eq!(s.start.as_deref(), Some("2022-01-08"));
    }

    #[test]
    fn hash_depends_on_content() {
        let a = Position::decode(write(&[1, 2], &[Col::F("A", vec![Some(1.0), Some(0.0)])])).expect("a");
        let b = Position::decode(write(&[1, 2], &[Col::F("A", vec![Some(1.0), Some(0.5)])])).expect("b");
        let c = Position::decode(write(&[1, 2], &[Col::F("B", vec![Some(1.0), Some(0.0)])])).expect("c");
        assert_ne!(a.summary().sha256, b.summary().sha256);
        assert_ne!(a.summary().sha256, c.summary().sha256);
        assert_eq!(a.summary().sha256, a.clone().summary().sha256);
        assert_eq!(a.summary().sha256.len(), 64);
    }

    #[test]
    fn unsorted_dates_are_rejected() {
        let err = Position::decode(write(&[5, 3], &[Col::F("A", vec![Some(1.0), Some(0.0)])])).expect_err("unsorted");
        assert!(err.contains("strictly increasing"), "{err}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Position::decode(b"PAR1garbagePAR1".to_vec()).is_err());
        assert!(Position::decode(Vec::new()).is_err());
        let good = write(&[1, 2], &[Col::F("A", vec![Some(1.0), Some(0.0)])]);
        for cut in 0..good.len() {
            let _ = Position::decode(good[..cut].to_vec());
        }
        // flipping bytes must not panic either
        for i in (0..good.len()).step_by(7) {
            let mut g = good.clone();
            g[i] ^= 0x5a;
            let _ = Position::decode(g);
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(19_723), "2024-01-01");
        assert_eq!(iso_date(-1), "1969-12-31");
        assert_eq!(iso_date(11_016), "2000-02-29");
    }
}

#[cfg(test)]
mod hostile {
    //! Files no honest writer produces, built with [`super::craft`]: each
    //! must be refused with a clear message, before anything is allocated
    //! for what it claims, and without a panic.
    use super::craft::{self, Column, File, Page};
    use super::*;

    fn decode(bytes: Vec<u8>) -> Result<Position, String> {
        // Unguarded: a panic must fail the test, not be caught.
        Position::decode_unguarded(bytes, &Bounds::default())
    }

    fn valid() -> File {
        File {
            columns: vec![Column::dates(&[19000, 19001, 19002]), Column::doubles("AAA", &[0.5, f64::NAN, 1.0])],
            num_rows: 3,
            group_rows: None,
        }
    }

    #[test]
    fn the_crafted_writer_writes_what_the_decoder_reads() {
        // Without this, the hostile variants below could fail for the wrong reason.
        let p = decode(craft::write(&valid())).expect("a crafted valid file decodes");
        assert_eq!(p.dates, [19000, 19001, 19002]);
        assert_eq!(p.symbols, ["AAA"]);
        assert_eq!(p.values[0], 0.5);
        assert!(p.values[1].is_nan());
        assert_eq!(p.values[2], 1.0);
    }

    #[test]
    fn a_footer_claiming_2_pow_62_rows_is_refused_before_allocating() {
        let mut f = valid();
        f.num_rows = 1 << 62;
        let err = decode(craft::write(&f)).expect_err("2^62 rows");
        assert!(err.contains("claims 4611686018427387904 rows"), "{err}");
    }

    #[test]
    fn a_footer_claiming_2_pow_40_rows_is_refused_before_allocating() {
        let mut f = valid();
        f.num_rows = 1 << 40;
        f.group_rows = Some(1 << 40);
        let err = decode(craft::write(&f)).expect_err("2^40 rows");
        assert!(err.contains("rows, more than"), "{err}");
    }

    #[test]
    fn negative_and_disagreeing_row_counts_are_refused() {
        for (file_rows, group_rows) in [(-1, None), (3, Some(-5)), (3, Some(2)), (3, Some(4)), (2, Some(3))] {
            let mut f = valid();
            f.num_rows = file_rows;
            f.group_rows = group_rows;
            assert!(decode(craft::write(&f)).is_err(), "{file_rows} / {group_rows:?}");
        }
    }

    #[test]
    fn rows_times_columns_over_the_cell_cap_is_refused() {
        // 60,000 rows (within the row bound) x 600 columns: 36 M cells > 2^25.
        let rows = 60_000;
        let days: Vec<i32> = (0..rows).collect();
        let mut columns = vec![Column::dates(&days)];
        for i in 0..600 {
            // One page that claims every row but holds none: never read.
            columns.push(Column::new(&format!("S{i}"), craft::DOUBLE, vec![Page::data(rows, craft::PLAIN, vec![])]));
        }
        let f = File { columns, num_rows: i64::from(rows), group_rows: None };
        let err = decode(craft::write(&f)).expect_err("too many cells");
        assert!(err.contains("cells"), "{err}");
    }

    #[test]
    fn a_footer_larger_than_the_columns_allow_is_refused_before_parsing() {
        // 20,000 columns with 400-byte names: a 17 MB footer that the reader
        // would turn into hundreds of MB of metadata.
        let long = "S".repeat(400);
        let mut columns = vec![Column::dates(&[1])];
        for i in 0..20_000 {
            columns.push(Column::new(&format!("{long}{i}"), craft::DOUBLE, vec![]));
        }
        let bytes = craft::write(&File { columns, num_rows: 1, group_rows: None });
        let err = decode(bytes).expect_err("footer");
        assert!(err.contains("metadata claims") && err.contains("bytes"), "{err}");
        // Within the cap the column count is what refuses it.
        let mut columns = vec![Column::dates(&[1])];
        for i in 0..17_000 {
            columns.push(Column::new(&format!("S{i}"), craft::DOUBLE, vec![]));
        }
        let err = decode(craft::write(&File { columns, num_rows: 1, group_rows: None })).expect_err("columns");
        assert!(err.contains("17000 symbol columns"), "{err}");
    }

    /// Found by the fuzzer: a 128-byte file whose root claims 1.3 G
    /// children made the reader reserve 10 GB.
    #[test]
    fn schema_elements_claiming_children_that_do_not_exist_are_refused() {
        let seed = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/oom-schema-num-children"),
        )
        .expect("corpus file");
        let err = decode(seed).expect_err("oom seed");
        assert!(err.contains("schema") || err.contains("footer") || err.contains("unreadable"), "{err}");
    }

    /// Found by the fuzzer: `num_children` sent with another wire type,
    /// which the crate reads as an i32 anyway.
    #[test]
    fn footer_fields_with_the_wrong_wire_type_are_refused() {
        let seed = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/oom-schema-field-wire-type"),
        )
        .expect("corpus file");
        assert!(decode(seed).is_err());
        // The crafted footer with field 3 (num_rows, i64) sent as a binary.
        let good = craft::write(&valid());
        let n = good.len();
        let footer_len = u32::from_le_bytes([good[n - 8], good[n - 7], good[n - 6], good[n - 5]]) as usize;
        let footer = &good[n - 8 - footer_len..n - 8];
        let mut scan = FooterScan { buf: footer, pos: 0, refuse_bool_lists: true };
        scan.strict(FILE_METADATA, 0).expect("the crafted footer is well typed");
        let mut bad = good.clone();
        let at = n - 8 - footer_len;
        let i = (at..n - 8).find(|&i| bad[i] == 0x16 && bad[i + 1] == 0x06).expect("num_rows field header");
        bad[i] = 0x18; // delta 1, binary: the value 6 now reads as a 3-byte string length
        let err = decode(bad).expect_err("wrong type");
        assert!(err.contains("wrong type") || err.contains("footer"), "{err}");
    }

    /// Found by the fuzzer: a run header in the definition levels longer
    /// than 10 bytes panicked the crate's RLE decoder.
    #[test]
    fn definition_levels_are_walked_before_the_crate_reads_them() {
        let seed = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/crash-rle-overlong-varint"),
        )
        .expect("corpus file");
        assert!(decode(seed).is_err());
        let mut f = valid();
        f.columns[1].optional = true;
        let levels = |runs: &[u8]| {
            let mut body = (runs.len() as u32).to_le_bytes().to_vec();
            body.extend_from_slice(runs);
            body.extend(craft::plain_f64(&[0.25, 0.5, 0.75]));
            body
        };
        f.columns[1].pages = vec![Page::data(3, craft::PLAIN, levels(&craft::rle_run(3, 1, 1)))];
        let p = decode(craft::write(&f)).expect("well-formed levels");
        assert_eq!(p.values, [0.25, 0.5, 0.75]);
        for bad in [vec![0xff; 12], vec![0x86], vec![0x07], vec![0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01]] {
            f.columns[1].pages = vec![Page::data(3, craft::PLAIN, levels(&bad))];
            let err = decode(craft::write(&f)).expect_err("bad levels");
            assert!(err.contains("definition levels"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_footer_scan_reads_real_footers_and_refuses_nesting() {
        let good = super::testutil::write(&[1, 2], &[super::testutil::Col::B("A", vec![true, false])]);
        check_schema_shape(&good, &Bounds::default()).expect("parquet-rs footer");
        let pyarrow =
            std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/pyarrow-float"))
                .expect("corpus file");
        check_schema_shape(&pyarrow, &Bounds::default()).expect("pyarrow footer");
        // A nested schema: root -> group(1 child) -> leaf.
        let schema = parquet::schema::parser::parse_message_type(
            "message m { required int32 date (DATE); required group g { required double x; } }",
        )
        .expect("schema");
        let mut buf = Vec::new();
        let w =
            parquet::file::writer::SerializedFileWriter::new(&mut buf, std::sync::Arc::new(schema), Default::default())
                .expect("writer");
        w.close().expect("close");
        let err = decode(buf).expect_err("nested");
        assert!(err.contains("flat"), "{err}");
    }

    /// A page header with unknown fields, each a list of 2^31 booleans in 5
    /// bytes: the Parquet crate's skip loops once per element without
    /// consuming input (about a second each). Many of them stall it for
    /// minutes; the checked decoder refuses such a header itself, and the
    /// deadline catches what a check would miss.
    fn stalling_file(lists: usize) -> Vec<u8> {
        let mut f = valid();
        let mut header_tail = Vec::new();
        for _ in 0..lists {
            // Field id 100 (long form), type list; list header: size 15+ of bool-true, varint 2^31-1.
            header_tail.extend([0x09, 0xc8, 0x01, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07]);
        }
        f.columns[0].pages[0].extra_header = header_tail;
        craft::write(&f)
    }

    #[test]
    fn a_page_header_built_to_stall_the_reader_is_refused() {
        let err = decode(stalling_file(200)).expect_err("stall");
        assert!(err.contains("unreadable") || err.contains("header"), "{err}");
    }

    #[test]
    fn the_last_resorts_turn_a_stall_or_a_panic_into_an_error() {
        // No known file stalls or panics the checked decoder; these check
        // the wrapper itself with work that does.
        let stall = guarded::<()>(Duration::from_millis(100), || loop {
            std::thread::park();
        });
        assert!(stall.as_ref().is_err_and(|e| e.contains("longer than")), "{stall:?}");
        let panic = guarded::<()>(Duration::from_secs(600), || panic!("a bug in a dependency"));
        assert!(panic.as_ref().is_err_and(|e| e.contains("failed on the file")), "{panic:?}");
        assert_eq!(guarded(Duration::from_secs(600), || Ok(7)), Ok(7));
        // And the real entry point goes through it.
        assert!(decode_with_deadline(stalling_file(10), &Bounds::default(), Duration::from_secs(600)).is_err());
    }

    #[test]
    fn bounds_from_the_market_are_tighter() {
        let f = valid();
        let b = Bounds::for_market(&[19000, 19001], 1);
        assert!(Position::decode_within(craft::write(&f), &b).is_ok());
        let tiny = Bounds { max_rows: 2, max_columns: 1, max_cells: 2 };
        let err = Position::decode_within(craft::write(&f), &tiny).expect_err("3 rows > 2");
        assert!(err.contains("3 rows"), "{err}");
        let b = Bounds::for_market(&(0..1000).collect::<Vec<_>>(), 50);
        assert_eq!((b.max_rows, b.max_columns), (1000 + ROW_SLACK, 50 + COLUMN_SLACK));
        assert_eq!(Bounds::for_market(&[], 0).max_rows, ROW_SLACK);
        assert_eq!(Bounds::for_market(&[i32::MIN, i32::MAX], usize::MAX), Bounds::default());
    }

    /// The red team's 84 KB file: one dictionary value, indices as one RLE
    /// run per column. Within the row and cell bounds, so only the
    /// encoding check stops it.
    fn dictionary_bomb(rows: i32, columns: usize) -> File {
        let days: Vec<i32> = (0..rows).collect();
        let mut cols = vec![Column::dates(&days)];
        for i in 0..columns {
            let mut c = Column::new(
                &format!("S{i}"),
                craft::DOUBLE,
                vec![
                    Page::dictionary(1, craft::plain_f64(&[1.0])),
                    Page::data(rows, craft::RLE_DICTIONARY, craft::dictionary_indices(rows as u64)),
                ],
            );
            c.encodings = vec![craft::PLAIN, craft::RLE, craft::RLE_DICTIONARY];
            cols.push(c);
        }
        File { columns: cols, num_rows: i64::from(rows), group_rows: None }
    }

    #[test]
    fn a_dictionary_bomb_is_refused() {
        let bytes = craft::write(&dictionary_bomb(100_000, 40));
        // 4 M cells (32 MB decoded) from a file of mostly plain dates.
        assert!(bytes.len() < 410_000, "{}", bytes.len());
        let err = decode(bytes).expect_err("dictionary");
        assert!(err.contains("dictionary"), "{err}");
        // The same pages with the metadata hiding them: the page check stops it.
        let mut f = dictionary_bomb(1000, 2);
        for c in &mut f.columns[1..] {
            c.encodings = vec![craft::PLAIN];
            c.hide_dictionary = true;
        }
        let err = decode(craft::write(&f)).expect_err("dictionary");
        assert!(err.contains("a dictionary page"), "{err}");
    }

    #[test]
    fn pages_that_contradict_the_metadata_are_refused() {
        // A data page claiming more values than its row group has rows.
        let mut f = valid();
        f.columns[1].pages[0].num_values = 1 << 30;
        let err = decode(craft::write(&f)).expect_err("page values");
        assert!(err.contains("more values"), "{err}");
        // A dictionary-encoded data page with no dictionary listed anywhere.
        let mut f = valid();
        f.columns[1].pages = vec![Page::data(3, craft::RLE_DICTIONARY, craft::dictionary_indices(3))];
        let err = decode(craft::write(&f)).expect_err("encoding");
        assert!(err.contains("encoded as"), "{err}");
        // Metadata values disagreeing with the rows.
        let mut f = valid();
        f.columns[1].num_values = Some(1 << 40);
        assert!(decode(craft::write(&f)).is_err());
    }

    #[test]
    fn compressed_chunks_are_refused_before_the_reader_preallocates() {
        // A snappy chunk whose page claims a 2 GB uncompressed size: the
        // reader would reserve it before decompressing a byte.
        let mut f = valid();
        f.columns[1].codec = craft::SNAPPY;
        f.columns[1].pages[0].uncompressed = Some(i32::MAX);
        let err = decode(craft::write(&f)).expect_err("compressed");
        assert!(err.contains("compressed"), "{err}");
    }

    #[test]
    fn wrong_types_are_refused() {
        for (physical, what) in [(craft::INT64, "INT64"), (craft::BYTE_ARRAY, "BYTE_ARRAY"), (craft::INT32, "INT32")] {
            let mut f = valid();
            f.columns[1].physical = physical;
            let err = decode(craft::write(&f)).expect_err(what);
            assert!(err.contains(what), "{err}");
        }
        // A time-zone-aware timestamp where the date must be: never converted.
        let mut f = valid();
        f.columns[0].date = false;
        f.columns[0].timestamp = true;
        f.columns[0].physical = craft::INT64;
        let err = decode(craft::write(&f)).expect_err("timestamp");
        // Refused by the footer scan (no logical type but DATE) or the schema check.
        assert!(err.contains("DATE") || err.contains("footer field (8)"), "{err}");
        // An INT32 date column without the DATE annotation.
        let mut f = valid();
        f.columns[0].date = false;
        assert!(decode(craft::write(&f)).is_err());
    }

    #[test]
    fn every_prefix_and_many_corruptions_are_errors_not_panics() {
        let files = [craft::write(&valid()), craft::write(&dictionary_bomb(50, 2)), {
            super::testutil::write(&[1, 2, 3], &[super::testutil::Col::F("A", vec![Some(1.0), None, Some(0.5)])])
        }];
        for good in files {
            for cut in 0..good.len() {
                let _ = decode(good[..cut].to_vec());
            }
            let mut rng = 0x9e37_79b9_7f4a_7c15u64;
            for _ in 0..3000 {
                let mut g = good.clone();
                for _ in 0..3 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let i = (rng % g.len() as u64) as usize;
                    g[i] = (rng >> 32) as u8;
                }
                let _ = decode(g);
            }
        }
    }

    #[test]
    fn infinite_weights_are_refused_with_the_symbol_and_date() {
        let f = File {
            columns: vec![Column::dates(&[19000, 19001]), Column::doubles("AAA", &[0.5, f64::INFINITY])],
            num_rows: 2,
            group_rows: None,
        };
        let err = decode(craft::write(&f)).expect_err("inf");
        assert!(err.contains("`AAA`") && err.contains("2022-01-09") && err.contains("finite"), "{err}");
        let f = File {
            columns: vec![Column::dates(&[19000]), Column::doubles("AAA", &[f64::NEG_INFINITY])],
            num_rows: 1,
            group_rows: None,
        };
        assert!(decode(craft::write(&f)).is_err());
    }

    #[test]
    fn weights_whose_sum_overflows_are_refused_but_nan_is_no_position() {
        let f = File {
            columns: vec![
                Column::dates(&[19000, 19001]),
                Column::doubles("A", &[1e308, 0.5]),
                Column::doubles("B", &[1e308, f64::NAN]),
            ],
            num_rows: 2,
            group_rows: None,
        };
        let err = decode(craft::write(&f)).expect_err("overflow");
        assert!(err.contains("2022-01-08") && err.contains("float"), "{err}");
        let f = File {
            columns: vec![Column::dates(&[19000]), Column::doubles("A", &[f64::NAN]), Column::doubles("B", &[1e308])],
            num_rows: 1,
            group_rows: None,
        };
        assert!(decode(craft::write(&f)).is_ok());
    }
}
