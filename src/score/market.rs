//! Reading the market data file on the host, for scoring: the long layout
//! (`date`, `symbol`, fields) into dates × symbols price matrices.
//!
//! The host reads the file itself; nothing the container saw or said is
//! used. Decoded matrices are cached per process by path, size and
//! modification time, so a batch of runs over one file decodes it once.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::PriceSpec;

/// Prices as dates × symbols, column-major (`values[col * rows + row]`),
/// NaN where the file has no row.
#[derive(Debug, Clone, PartialEq)]
pub struct Market {
    pub dates: Vec<i32>,
    pub symbols: Vec<String>,
    pub close: Vec<f64>,
    pub open: Option<Vec<f64>>,
    pub adj_close: Option<Vec<f64>>,
}

impl Market {
    pub fn rows(&self) -> usize {
        self.dates.len()
    }
}

type CacheKey = Vec<(PathBuf, u64, Option<SystemTime>, String)>;

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<Market>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<Market>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Load (or reuse) the price matrices of a dataset: a long-layout Parquet
/// file, or a directory of tables whose price columns the alias table names
/// (`price:收盤價`, `etl:adj_close`, ... see [`super::price_spec`]).
pub fn load(path: &Path) -> Result<Arc<Market>, String> {
    let spec = super::price_spec(path)?;
    load_spec(&spec)
}

/// Load the price matrices the spec names.
pub fn load_spec(spec: &PriceSpec) -> Result<Arc<Market>, String> {
    let mut key: CacheKey = Vec::new();
    for (name, col) in [("close", Some(&spec.close)), ("open", spec.open.as_ref()), ("adj", spec.adj_close.as_ref())] {
        if let Some(c) = col {
            let meta = std::fs::metadata(&c.file).map_err(|e| format!("cannot open `{}`: {e}", c.file.display()))?;
            key.push((c.file.clone(), meta.len(), meta.modified().ok(), format!("{name}={}", c.column)));
        }
    }
    if let Some(m) = cache().lock().map_err(|_| "cache poisoned".to_string())?.get(&key) {
        return Ok(Arc::clone(m));
    }
    let market = Arc::new(build(spec)?);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, Arc::clone(&market));
    }
    Ok(market)
}

enum Col {
    Dates(Vec<Option<i32>>),
    Strings(Vec<Option<String>>),
    Numbers(Vec<Option<f64>>),
}

/// A long table's `date`, `symbol` and the asked-for numeric columns, row by row.
struct Long {
    dates: Vec<i32>,
    symbols: Vec<String>,
    values: Vec<Vec<Option<f64>>>,
}

fn read_long(file: &Path, names: &[&str]) -> Result<Long, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let md = reader.metadata();
    let schema = md.file_metadata().schema_descr();
    let index = |name: &str| (0..schema.num_columns()).find(|&i| schema.column(i).name() == name);
    let date_i = index("date").ok_or("no `date` column")?;
    let symbol_i = index("symbol").ok_or("no `symbol` column")?;
    let mut field_ix = Vec::with_capacity(names.len());
    for n in names {
        field_ix.push(index(n).ok_or_else(|| format!("no `{n}` column"))?);
    }
    let mut dates: Vec<Option<i32>> = Vec::new();
    let mut symbols: Vec<Option<String>> = Vec::new();
    let mut fields: Vec<Vec<Option<f64>>> = vec![Vec::new(); names.len()];
    for rg in 0..md.num_row_groups() {
        let group = reader.get_row_group(rg).map_err(|e| e.to_string())?;
        let n = usize::try_from(group.metadata().num_rows()).map_err(|_| "negative row count")?;
        let mut wanted = vec![date_i, symbol_i];
        wanted.extend(&field_ix);
        for (k, i) in wanted.into_iter().enumerate() {
            let col = schema.column(i);
            let r = group.get_column_reader(i).map_err(|e| e.to_string())?;
            let decoded = read_column(r, n, col.physical_type(), col.logical_type_ref(), col.name())?;
            match (k, decoded) {
                (0, Col::Dates(v)) => dates.extend(v),
                (0, Col::Strings(v)) => {
                    dates.extend(v.into_iter().map(|s| s.and_then(|s| crate::dates::parse_iso_date(&s))))
                }
                (1, Col::Strings(v)) => symbols.extend(v),
                (k, Col::Numbers(v)) if k >= 2 => fields[k - 2].extend(v),
                (_, _) => return Err(format!("column `{}` has the wrong type", col.name())),
            }
        }
    }
    if dates.iter().any(Option::is_none) {
        return Err("some `date` values are missing or not dates".into());
    }
    if symbols.iter().any(Option::is_none) {
        return Err("some `symbol` values are missing".into());
    }
    Ok(Long {
        dates: dates.into_iter().flatten().collect(),
        symbols: symbols.into_iter().flatten().collect(),
        values: fields,
    })
}

/// The grid is the close table's dates × symbols; columns of other tables
/// (an `etl:adj_close`) are placed on it by (date, symbol), rows the grid
/// lacks ignored.
fn build(spec: &PriceSpec) -> Result<Market, String> {
    let close_file = &spec.close.file;
    let same = |c: &Option<super::Column>| c.as_ref().filter(|c| &c.file == close_file).map(|c| c.column.clone());
    let mut names = vec![spec.close.column.clone()];
    let open_here = same(&spec.open);
    let adj_here = same(&spec.adj_close);
    names.extend(open_here.iter().cloned());
    names.extend(adj_here.iter().cloned());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let long = read_long(close_file, &refs).map_err(|e| format!("`{}`: {e}", close_file.display()))?;
    let all_dates: BTreeSet<i32> = long.dates.iter().copied().collect();
    let all_symbols: BTreeSet<&str> = long.symbols.iter().map(String::as_str).collect();
    let date_ix: HashMap<i32, usize> = all_dates.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let sym_ix: HashMap<&str, usize> = all_symbols.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let (rows, cols) = (all_dates.len(), all_symbols.len());
    let slots = |l: &Long| -> Result<Vec<Option<usize>>, String> {
        let mut seen = vec![false; rows * cols];
        let mut out = Vec::with_capacity(l.dates.len());
        for (d, s) in l.dates.iter().zip(&l.symbols) {
            let slot = match (date_ix.get(d), sym_ix.get(s.as_str())) {
                (Some(r), Some(c)) => c * rows + r,
                _ => {
                    out.push(None);
                    continue;
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(format!("duplicate row for date {} and symbol `{s}`", crate::position::iso_date(*d)));
            }
            out.push(Some(slot));
        }
        Ok(out)
    };
    let matrix = |slots: &[Option<usize>], values: &[Option<f64>]| -> Vec<f64> {
        let mut m = vec![f64::NAN; rows * cols];
        for (slot, v) in slots.iter().zip(values) {
            if let Some(slot) = slot {
                m[*slot] = v.unwrap_or(f64::NAN);
            }
        }
        m
    };
    let here = slots(&long)?;
    let close = matrix(&here, &long.values[0]);
    let mut k = 1;
    let mut from_here = |present: bool| {
        if present {
            k += 1;
            Some(matrix(&here, &long.values[k - 1]))
        } else {
            None
        }
    };
    let mut open = from_here(open_here.is_some());
    let mut adj_close = from_here(adj_here.is_some());
    for (col, target) in [(&spec.open, &mut open), (&spec.adj_close, &mut adj_close)] {
        if let Some(c) = col.as_ref().filter(|c| &c.file != close_file) {
            let other = read_long(&c.file, &[c.column.as_str()]).map_err(|e| format!("`{}`: {e}", c.file.display()))?;
            let s = slots(&other)?;
            *target = Some(matrix(&s, &other.values[0]));
        }
    }
    Ok(Market {
        dates: all_dates.into_iter().collect(),
        symbols: all_symbols.into_iter().map(str::to_string).collect(),
        close,
        open,
        adj_close,
    })
}

fn read_column(
    r: ColumnReader,
    n: usize,
    physical: Physical,
    logical: Option<&LogicalType>,
    name: &str,
) -> Result<Col, String> {
    let mut defs: Vec<i16> = Vec::with_capacity(n);
    macro_rules! dense {
        ($reader:expr) => {{
            let mut r = $reader;
            let mut v = Vec::with_capacity(n);
            r.read_records(n, Some(&mut defs), None, &mut v).map_err(|e| format!("column `{name}`: {e}"))?;
            v
        }};
    }
    let col = match (r, physical) {
        (ColumnReader::Int32ColumnReader(r), Physical::INT32) => {
            let v: Vec<i32> = dense!(r);
            if matches!(logical, Some(LogicalType::Date)) {
                Col::Dates(spread(&defs, v, n))
            } else {
                Col::Numbers(spread(&defs, v.into_iter().map(f64::from).collect(), n))
            }
        }
        (ColumnReader::Int64ColumnReader(r), Physical::INT64) => {
            let v: Vec<i64> = dense!(r);
            match logical {
                Some(LogicalType::Timestamp(ts)) => {
                    let per_day: i64 = match ts.unit {
                        TimeUnit::MILLIS => 86_400_000,
                        TimeUnit::MICROS => 86_400_000_000,
                        TimeUnit::NANOS => 86_400_000_000_000,
                    };
                    Col::Dates(spread(&defs, v.into_iter().map(|t| t.div_euclid(per_day) as i32).collect(), n))
                }
                _ => Col::Numbers(spread(&defs, v.into_iter().map(|x| x as f64).collect(), n)),
            }
        }
        (ColumnReader::DoubleColumnReader(r), _) => {
            let v: Vec<f64> = dense!(r);
            Col::Numbers(spread(&defs, v, n))
        }
        (ColumnReader::FloatColumnReader(r), _) => {
            let v: Vec<f32> = dense!(r);
            Col::Numbers(spread(&defs, v.into_iter().map(f64::from).collect(), n))
        }
        (ColumnReader::BoolColumnReader(r), _) => {
            let v: Vec<bool> = dense!(r);
            Col::Numbers(spread(&defs, v.into_iter().map(|b| if b { 1.0 } else { 0.0 }).collect(), n))
        }
        (ColumnReader::ByteArrayColumnReader(r), _) => {
            let v: Vec<parquet::data_type::ByteArray> = dense!(r);
            let s = v.into_iter().map(|b| String::from_utf8_lossy(b.data()).into_owned()).collect();
            Col::Strings(spread(&defs, s, n))
        }
        (_, other) => return Err(format!("column `{name}` has unsupported type {other}")),
    };
    Ok(col)
}

/// Dense values and definition levels → one `Option` per row.
fn spread<T>(defs: &[i16], dense: Vec<T>, n: usize) -> Vec<Option<T>> {
    if defs.is_empty() {
        return dense.into_iter().map(Some).collect();
    }
    let mut it = dense.into_iter();
    defs.iter().take(n).map(|d| if *d > 0 { it.next() } else { None }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_missing_prices_are_refused() {
        use crate::sample::{write_table, Table};
        let dir = tempfile::tempdir().expect("tmp");
        let dup = dir.path().join("dup.parquet");
        let t = Table {
            dates: vec![1, 1],
            symbols: vec!["A".into(), "A".into()],
            fields: vec![("close".into(), vec![Some(1.0), Some(2.0)])],
        };
        write_table(&dup, &t).expect("write");
        assert!(load(&dup).expect_err("dup").contains("duplicate row"));
        let nop = dir.path().join("noprice.parquet");
        let t = Table { dates: vec![1], symbols: vec!["A".into()], fields: vec![("volume".into(), vec![Some(1.0)])] };
        write_table(&nop, &t).expect("write");
        assert!(load(&nop).expect_err("no prices").contains("no prices"));
    }

    #[test]
    fn the_example_market_decodes() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/market.parquet");
        let m = load(&path).expect("decodes");
        assert_eq!(m.rows(), 520);
        assert_eq!(m.symbols.len(), 40);
        assert!(m.open.is_some() && m.adj_close.is_none());
        assert!(m.close.iter().all(|v| v.is_finite() && *v > 0.0));
        assert_eq!(crate::position::iso_date(m.dates[0]), "2022-01-03");
        // cached: the same Arc comes back
        let again = load(&path).expect("cached");
        assert!(Arc::ptr_eq(&m, &again));
    }
}
