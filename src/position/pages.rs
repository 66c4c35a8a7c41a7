//! Column chunks and their pages, read by our own page reader and handed
//! to the Parquet crate's value decoders only once every header and level
//! run has been checked: a page header is as much a claim as the footer.

use super::*;

/// One column chunk's metadata against what the harness writes and the
/// payload holds. `rows` is its row group's validated row count.
/// (BIT_PACKED is deprecated but still what older writers list for levels.)
#[allow(deprecated)]
pub(super) fn check_chunk(
    chunk: &parquet::file::metadata::ColumnChunkMetaData,
    rows: usize,
    size: u64,
) -> Result<(), String> {
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
pub(super) struct OwnPages {
    pub(super) data: Bytes,
    pub(super) pos: usize,
    pub(super) end: usize,
    /// Values (levels) the chunk may still hold: its row group's rows.
    pub(super) left: usize,
    /// 1 for an optional column (its pages start with definition levels), else 0.
    pub(super) max_def: i16,
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
pub(super) fn read_dates(reader: ColumnReader, n: usize, out: &mut Vec<i32>) -> Result<(), String> {
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
pub(super) fn read_values(reader: ColumnReader, out: &mut [f64]) -> Result<(), String> {
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
