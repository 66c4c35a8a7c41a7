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
        let (symbols, dtype) = read_schema(md.file_metadata().schema_descr(), bounds)?;
        // Every claim of the footer, checked before allocating for it.
        let (rows, cells) = check_claims(md, bounds, symbols.len(), size)?;
        let (dates, values) = read_columns(md, &bytes, rows, cells)?;
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

/// The flat schema a position has: `date` (DATE) then one DOUBLE or
/// BOOLEAN column per symbol, unique, no nesting.
fn read_schema(
    schema: &parquet::schema::types::SchemaDescriptor,
    bounds: &Bounds,
) -> Result<(Vec<String>, Option<Dtype>), String> {
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
    Ok((symbols, dtype))
}

/// Rows, row groups and column chunks, against the bounds and the file's
/// size: (rows, cells).
fn check_claims(
    md: &parquet::file::metadata::ParquetMetaData,
    bounds: &Bounds,
    nsymbols: usize,
    size: u64,
) -> Result<(usize, usize), String> {
    let schema = md.file_metadata().schema_descr();
    let ncols = schema.num_columns();
    let claimed = md.file_metadata().num_rows();
    let rows = usize::try_from(claimed).map_err(|_| format!("the position claims {claimed} rows"))?;
    if rows > bounds.max_rows {
        return Err(format!(
            "the position claims {rows} rows, more than the {} the market data allows",
            bounds.max_rows
        ));
    }
    let cells = rows.checked_mul(nsymbols).filter(|c| *c <= bounds.max_cells).ok_or_else(|| {
        format!(
            "the position claims {rows} rows x {} symbols, more than the {} cells the host decodes",
            nsymbols, bounds.max_cells
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
    Ok((rows, cells))
}

/// The dates and the values (column-major), read page by page through our
/// own page reader.
fn read_columns(
    md: &parquet::file::metadata::ParquetMetaData,
    bytes: &Bytes,
    rows: usize,
    cells: usize,
) -> Result<(Vec<i32>, Vec<f64>), String> {
    let schema = md.file_metadata().schema_descr();
    let ncols = schema.num_columns();
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
            let pages =
                OwnPages { data: bytes.clone(), pos: start, end: start + len, left: n, max_def: descr.max_def_level() };
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
    Ok((dates, values))
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
pub mod craft;
mod footer;
mod pages;
#[cfg(test)]
use footer::FILE_METADATA;
use footer::{check_footer_length, check_schema_shape, FooterScan};
use pages::{check_chunk, read_dates, read_values, OwnPages};
#[cfg(test)]
mod hostile;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub mod testutil;
