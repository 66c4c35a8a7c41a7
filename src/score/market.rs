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

type CacheKey = (PathBuf, u64, Option<SystemTime>);

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<Market>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<Market>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Load (or reuse) the price matrices of a long-layout Parquet file.
pub fn load(path: &Path) -> Result<Arc<Market>, String> {
    let path = &crate::data::price_table(path)?;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open: {e}"))?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some(m) = cache().lock().map_err(|_| "cache poisoned".to_string())?.get(&key) {
        return Ok(Arc::clone(m));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let market = Arc::new(decode(bytes)?);
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

pub fn decode(bytes: Vec<u8>) -> Result<Market, String> {
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let md = reader.metadata();
    let schema = md.file_metadata().schema_descr();
    let index = |name: &str| (0..schema.num_columns()).find(|&i| schema.column(i).name() == name);
    let date_i = index("date").ok_or("no `date` column")?;
    let symbol_i = index("symbol").ok_or("no `symbol` column")?;
    let close_i = index("close");
    let adj_i = index("adj_close");
    if close_i.is_none() && adj_i.is_none() {
        return Err("no prices: the file needs a `close` (or `adj_close`) column".into());
    }
    let open_i = index("open");

    let mut dates: Vec<Option<i32>> = Vec::new();
    let mut symbols: Vec<Option<String>> = Vec::new();
    let mut fields: HashMap<usize, Vec<Option<f64>>> = HashMap::new();
    for rg in 0..md.num_row_groups() {
        let group = reader.get_row_group(rg).map_err(|e| e.to_string())?;
        let n = usize::try_from(group.metadata().num_rows()).map_err(|_| "negative row count")?;
        for i in [Some(date_i), Some(symbol_i), close_i, adj_i, open_i].into_iter().flatten() {
            let col = schema.column(i);
            let r = group.get_column_reader(i).map_err(|e| e.to_string())?;
            let decoded = read_column(r, n, col.physical_type(), col.logical_type_ref(), col.name())?;
            match (i, decoded) {
                (i, Col::Dates(v)) if i == date_i => dates.extend(v),
                (i, Col::Strings(v)) if i == date_i => {
                    dates.extend(v.into_iter().map(|s| s.and_then(|s| parse_iso_date(&s))))
                }
                (i, Col::Strings(v)) if i == symbol_i => symbols.extend(v),
                (i, Col::Numbers(v)) if i != date_i && i != symbol_i => fields.entry(i).or_default().extend(v),
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
    let all_dates: BTreeSet<i32> = dates.iter().flatten().copied().collect();
    let all_symbols: BTreeSet<&str> = symbols.iter().flatten().map(String::as_str).collect();
    let date_ix: HashMap<i32, usize> = all_dates.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let sym_ix: HashMap<&str, usize> = all_symbols.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let (rows, cols) = (all_dates.len(), all_symbols.len());
    let mut seen = vec![false; rows * cols];
    let mut slots = Vec::with_capacity(dates.len());
    for (d, s) in dates.iter().zip(&symbols) {
        let (Some(d), Some(s)) = (d, s) else { continue };
        let slot = sym_ix[s.as_str()] * rows + date_ix[d];
        if std::mem::replace(&mut seen[slot], true) {
            return Err(format!("duplicate row for date {} and symbol `{s}`", crate::position::iso_date(*d)));
        }
        slots.push(slot);
    }
    let matrix = |i: Option<usize>| -> Option<Vec<f64>> {
        let values = fields.get(&i?)?;
        let mut m = vec![f64::NAN; rows * cols];
        for (slot, v) in slots.iter().zip(values) {
            m[*slot] = v.unwrap_or(f64::NAN);
        }
        Some(m)
    };
    let close = matrix(close_i);
    let adj_close = matrix(adj_i);
    Ok(Market {
        dates: all_dates.into_iter().collect(),
        symbols: all_symbols.into_iter().map(str::to_string).collect(),
        close: close.clone().or_else(|| adj_close.clone()).unwrap_or_default(),
        open: matrix(open_i),
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

/// `YYYY-MM-DD` (anything after the date, such as a time, is ignored) → days
/// since 1970-01-01.
pub fn parse_iso_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's civil-from-days.
pub fn civil(days: i32) -> (i64, i64, i64) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Howard Hinnant's days-from-civil.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_round_trip() {
        for d in [-1000, 0, 19_000, 19_723, 20_000] {
            assert_eq!(parse_iso_date(&crate::position::iso_date(d)), Some(d));
        }
        assert_eq!(parse_iso_date("2024-01-02T09:30:00"), Some(19_724));
        assert_eq!(parse_iso_date("2024/01/02"), None);
        assert_eq!(parse_iso_date("2024-13-02"), None);
    }

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
