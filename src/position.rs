//! The position a strategy returned: decoded from the Parquet payload the
//! harness sent, re-validated, and summarised by shape and content hash.
//!
//! The payload comes from a process the strategy controls, so nothing about
//! it is assumed: the schema is checked column by column (first `date` as
//! DATE, then one DOUBLE or BOOLEAN column per symbol), dates must be strictly
//! increasing, and any failure is an `invalid_output` message, never a panic.
//!
//! The hash is over a canonical encoding (symbols, dates, values as f64 bits,
//! NaN canonicalised), so it identifies the position's content independent of
//! how pyarrow laid out the file.

use bytes::Bytes;
use parquet::basic::{LogicalType, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

impl Position {
    pub fn decode(payload: Vec<u8>) -> Result<Position, String> {
        let reader =
            SerializedFileReader::new(Bytes::from(payload)).map_err(|e| format!("unreadable position: {e}"))?;
        let md = reader.metadata();
        let schema = md.file_metadata().schema_descr();
        let ncols = schema.num_columns();
        if ncols == 0 {
            return Err("the position has no columns".into());
        }
        let date_col = schema.column(0);
        if date_col.name() != "date"
            || date_col.physical_type() != Physical::INT32
            || !matches!(date_col.logical_type_ref(), Some(LogicalType::Date))
        {
            return Err("the position's first column must be `date` (DATE)".into());
        }
        let mut dtype = None;
        let mut symbols = Vec::with_capacity(ncols - 1);
        for i in 1..ncols {
            let c = schema.column(i);
            if c.path().parts().len() != 1 {
                return Err(format!("nested position column `{}`", c.path()));
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
        let rows = usize::try_from(md.file_metadata().num_rows()).map_err(|_| "negative row count".to_string())?;
        let mut dates: Vec<i32> = Vec::with_capacity(rows);
        let mut values = vec![f64::NAN; rows * symbols.len()];
        let mut offset = 0usize;
        for rg in 0..md.num_row_groups() {
            let group = reader.get_row_group(rg).map_err(|e| format!("unreadable position: {e}"))?;
            let n = usize::try_from(group.metadata().num_rows()).map_err(|_| "negative row count".to_string())?;
            if offset + n > rows {
                return Err("row groups disagree with the row count".into());
            }
            for col in 0..ncols {
                let reader = group.get_column_reader(col).map_err(|e| format!("unreadable position: {e}"))?;
                if col == 0 {
                    let d = read_dates(reader, n)?;
                    dates.extend(d);
                } else {
                    let start = (col - 1) * rows + offset;
                    read_values(reader, n, &mut values[start..start + n])?;
                }
            }
            offset += n;
        }
        if offset != rows {
            return Err("row groups disagree with the row count".into());
        }
        if dates.windows(2).any(|w| w[0] >= w[1]) {
            return Err("the position's dates are not strictly increasing".into());
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = symbols.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(format!("duplicate symbol column `{dup}`"));
        }
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

fn read_dates(reader: ColumnReader, n: usize) -> Result<Vec<i32>, String> {
    let ColumnReader::Int32ColumnReader(mut r) = reader else {
        return Err("the `date` column is not INT32".into());
    };
    let mut values = Vec::with_capacity(n);
    let mut defs = Vec::with_capacity(n);
    let (records, _, _) =
        r.read_records(n, Some(&mut defs), None, &mut values).map_err(|e| format!("unreadable dates: {e}"))?;
    if records != n || values.len() != n {
        return Err("the `date` column has missing values".into());
    }
    Ok(values)
}

/// Read `out.len()` values; nulls become NaN, booleans 1.0 / 0.0.
fn read_values(reader: ColumnReader, n: usize, out: &mut [f64]) -> Result<(), String> {
    let mut defs: Vec<i16> = Vec::with_capacity(n);
    let dense: Vec<f64> = match reader {
        ColumnReader::DoubleColumnReader(mut r) => {
            let mut v = Vec::with_capacity(n);
            r.read_records(n, Some(&mut defs), None, &mut v).map_err(|e| format!("unreadable values: {e}"))?;
            v
        }
        ColumnReader::BoolColumnReader(mut r) => {
            let mut v = Vec::with_capacity(n);
            r.read_records(n, Some(&mut defs), None, &mut v).map_err(|e| format!("unreadable values: {e}"))?;
            v.into_iter().map(|b| if b { 1.0 } else { 0.0 }).collect()
        }
        _ => return Err("unexpected column type".into()),
    };
    // Required columns have no definition levels: every slot holds a value.
    if defs.is_empty() {
        if dense.len() != n {
            return Err("a column is shorter than the date column".into());
        }
        out.copy_from_slice(&dense);
        return Ok(());
    }
    if defs.len() != n {
        return Err("a column is shorter than the date column".into());
    }
    let mut it = dense.into_iter();
    for (slot, def) in out.iter_mut().zip(defs) {
        *slot = if def > 0 { it.next().ok_or("inconsistent null levels")? } else { f64::NAN };
    }
    Ok(())
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (proleptic Gregorian).
pub fn iso_date(days: i32) -> String {
    let (y, m, d) = crate::score::civil(days);
    format!("{y:04}-{m:02}-{d:02}")
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
        let mut w =
            SerializedFileWriter::new(&mut buf, schema, Arc::new(WriterProperties::builder().build())).expect("writer");
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
