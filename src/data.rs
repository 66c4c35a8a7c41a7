//! Checking the market data on the host, before any container starts.
//!
//! A bad `--data` argument should cost milliseconds and say what is wrong, not
//! a container start and a Python traceback. `--data` is one long-layout
//! Parquet file, or a directory of them (`TABLE.parquet`, served as
//! `TABLE:COL`). Here the footers are checked (`date`, `symbol`, numeric
//! fields); the scorer then decodes the price table (duplicates, dates).

use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::basic::{LogicalType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::error::InputError;

#[derive(Debug, Clone)]
pub struct DataInfo {
    /// Absolute, canonical path: what gets bind-mounted.
    pub path: PathBuf,
    pub rows: i64,
    pub fields: Vec<String>,
}

pub fn inspect(path: &Path) -> Result<DataInfo, InputError> {
    let err = |message: String| InputError::Data { path: path.to_path_buf(), message };
    let canonical = std::fs::canonicalize(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let meta = std::fs::metadata(&canonical).map_err(|e| err(format!("cannot open: {e}")))?;
    if meta.is_dir() {
        return inspect_dir(&canonical).map_err(err);
    }
    inspect_file(&canonical).map_err(|e| match e {
        InputError::Data { message, .. } => err(message),
        other => other,
    })
}

/// A directory of tables: each `*.parquet` must pass [`inspect_file`]; one
/// must hold prices (see [`price_table`]).
fn inspect_dir(dir: &Path) -> Result<DataInfo, String> {
    let tables = crate::score::tables_in(dir)?;
    if tables.is_empty() {
        return Err("is a directory without `.parquet` tables".into());
    }
    let mut fields = Vec::new();
    let mut rows = 0;
    for (name, file) in &tables {
        let info = inspect_file(file).map_err(|e| format!("table `{name}`: {e}"))?;
        rows += info.rows;
        fields.extend(info.fields.iter().map(|f| format!("{name}:{f}")));
    }
    price_table(dir)?;
    Ok(DataInfo { path: dir.to_path_buf(), rows, fields })
}

/// The file prices come from: the file itself, or in a directory the table
/// whose close the alias table finds (`price:close`, `price:收盤價`, ..., else
/// `etl:adj_close`; see [`crate::score::price_spec`]).
pub fn price_table(path: &Path) -> Result<PathBuf, String> {
    crate::score::price_spec(path).map(|s| s.close.file)
}

fn inspect_file(canonical: &Path) -> Result<DataInfo, InputError> {
    let err = |message: String| InputError::Data { path: canonical.to_path_buf(), message };
    let meta = std::fs::metadata(canonical).map_err(|e| err(format!("cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(err("is not a regular file".into()));
    }
    let file = File::open(canonical).map_err(|e| err(format!("cannot open: {e}")))?;
    check_magic(&file, meta.len()).map_err(err)?;
    let reader = SerializedFileReader::new(file).map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
    let md = reader.metadata().file_metadata();
    let schema = md.schema_descr();
    let mut has_date = false;
    let mut has_symbol = false;
    let mut fields = Vec::new();
    for col in schema.columns() {
        if col.path().parts().len() != 1 {
            return Err(err(format!("nested column `{}` is not supported; use flat columns", col.path())));
        }
        let name = col.name();
        let logical = col.logical_type_ref();
        match name {
            "date" => has_date = true,
            "symbol" => {
                if col.physical_type() != Physical::BYTE_ARRAY {
                    return Err(err("column `symbol` must hold strings".into()));
                }
                has_symbol = true;
            }
            _ => {
                let numeric = matches!(
                    col.physical_type(),
                    Physical::BOOLEAN | Physical::INT32 | Physical::INT64 | Physical::FLOAT | Physical::DOUBLE
                ) && !matches!(logical, Some(LogicalType::Date) | Some(LogicalType::Timestamp(_)));
                if !numeric {
                    return Err(err(format!("column `{name}` is not numeric or boolean")));
                }
                fields.push(name.to_string());
            }
        }
    }
    let missing: Vec<&str> =
        [("date", has_date), ("symbol", has_symbol)].iter().filter(|(_, ok)| !ok).map(|(n, _)| *n).collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "missing column(s) {}: the long layout needs `date`, `symbol` and field columns",
            missing.join(", ")
        )));
    }
    if fields.is_empty() {
        return Err(err("has no numeric field columns (such as `close`)".into()));
    }
    Ok(DataInfo { path: canonical.to_path_buf(), rows: md.num_rows(), fields })
}

/// A two-row market (`date`, `symbol`, `close`): enough for the self-test's
/// canary, which needs a valid data file but no real data.
pub fn write_minimal(path: &Path) -> Result<(), String> {
    let day = crate::score::days_from_civil(2024, 1, 2);
    let table = crate::sample::Table {
        dates: vec![day, day + 1],
        symbols: vec!["CANARY".into(), "CANARY".into()],
        fields: vec![("close".into(), vec![Some(1.0), Some(1.0)])],
    };
    crate::sample::write_table(path, &table)
}

/// Parquet files start and end with `PAR1`; checking first gives a clearer
/// message than the footer parser's for a CSV or a truncated download.
fn check_magic(file: &File, len: u64) -> Result<(), String> {
    use std::os::unix::fs::FileExt;
    if len < 12 {
        return Err(format!("is {len} bytes: too small to be a Parquet file"));
    }
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    file.read_exact_at(&mut head, 0).map_err(|e| format!("cannot read: {e}"))?;
    file.read_exact_at(&mut tail, len - 4).map_err(|e| format!("cannot read: {e}"))?;
    if &head != b"PAR1" || &tail != b"PAR1" {
        return Err("is not a Parquet file (no `PAR1` magic); convert CSV with pandas' `to_parquet`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/market.parquet")
    }

    #[test]
    fn the_example_market_passes() {
        let info = inspect(&example()).expect("example is valid");
        assert_eq!(info.rows, 20_800);
        assert_eq!(info.fields, ["open", "high", "low", "close", "volume"]);
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = inspect(Path::new("/nonexistent/market.parquet")).expect_err("missing");
        assert!(err.to_string().contains("cannot open"), "{err}");
    }

    #[test]
    fn csv_is_not_parquet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("prices.parquet");
        std::fs::write(&p, "date,symbol,close\n2024-01-02,A,1.0\n").expect("write");
        let err = inspect(&p).expect_err("csv");
        assert!(err.to_string().contains("not a Parquet file"), "{err}");
    }

    #[test]
    fn truncated_parquet_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = std::fs::read(example()).expect("read example");
        for cut in [16usize, 1000, bytes.len() / 2, bytes.len() - 5] {
            let p = dir.path().join(format!("cut{cut}.parquet"));
            let mut v = bytes[..cut].to_vec();
            v.extend_from_slice(b"PAR1");
            std::fs::write(&p, v).expect("write");
            assert!(inspect(&p).is_err(), "cut at {cut} accepted");
        }
    }

    #[test]
    fn the_minimal_market_is_valid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("m.parquet");
        write_minimal(&p).expect("written");
        let info = inspect(&p).expect("valid");
        assert_eq!((info.rows, info.fields.as_slice()), (2, &["close".to_string()][..]));
    }

    #[test]
    fn empty_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = inspect(dir.path()).expect_err("dir");
        assert!(err.to_string().contains("directory without"), "{err}");
    }

    #[test]
    fn directory_tables_serve_table_colon_field_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(example(), dir.path().join("price.parquet")).expect("copy");
        write_minimal(&dir.path().join("extra.parquet")).expect("write");
        let info = inspect(dir.path()).expect("valid");
        assert!(info.fields.contains(&"price:close".to_string()) && info.fields.contains(&"extra:close".to_string()));
        assert_eq!(price_table(dir.path()).expect("price"), dir.path().join("price.parquet"));
    }
}
