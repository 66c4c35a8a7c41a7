//! `finsandbox data sample` and `finsandbox data import`: writing long-layout
//! Parquet on the host.
//!
//! The sample is a deterministic synthetic market (a fixed-seed generator, so
//! the same bytes on every machine) for examples, tests and benchmarks: a
//! directory with daily prices, a monthly revenue table and a quarterly
//! fundamentals table, in the finlab naming the compatibility layer serves
//! (`price:收盤價`, `monthly_revenue:當月營收`, ...).

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::score::{days_from_civil, parse_iso_date};

/// A long-layout table: one row per (date, symbol), numeric fields.
#[derive(Default)]
pub struct Table {
    pub dates: Vec<i32>,
    pub symbols: Vec<String>,
    pub fields: Vec<(String, Vec<Option<f64>>)>,
}

pub fn write_table(path: &Path, t: &Table) -> Result<(), String> {
    use parquet::basic::{LogicalType, Repetition, Type as Physical};
    use parquet::schema::types::Type;
    // Built field by field (not parsed from text) so that finlab's column
    // names, such as `去年同月增減(%)`, are written as they are.
    let mut fields = vec![
        Arc::new(
            Type::primitive_type_builder("date", Physical::INT32)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::Date))
                .build()
                .map_err(|e| e.to_string())?,
        ),
        Arc::new(
            Type::primitive_type_builder("symbol", Physical::BYTE_ARRAY)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::String))
                .build()
                .map_err(|e| e.to_string())?,
        ),
    ];
    for (name, _) in &t.fields {
        if name.is_empty() || name == "date" || name == "symbol" {
            return Err(format!("column name `{name}` cannot be written"));
        }
        fields.push(Arc::new(
            Type::primitive_type_builder(name, Physical::DOUBLE)
                .with_repetition(Repetition::OPTIONAL)
                .build()
                .map_err(|e| e.to_string())?,
        ));
    }
    let schema = Arc::new(Type::group_type_builder("market").with_fields(fields).build().map_err(|e| e.to_string())?);
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let file = File::create(path).map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    let mut w = SerializedFileWriter::new(file, schema, Arc::new(props)).map_err(|e| e.to_string())?;
    let mut rg = w.next_row_group().map_err(|e| e.to_string())?;
    let mut col = 0;
    while let Some(mut c) = rg.next_column().map_err(|e| e.to_string())? {
        let res = match col {
            0 => c.typed::<Int32Type>().write_batch(&t.dates, None, None),
            1 => {
                let v: Vec<ByteArray> = t.symbols.iter().map(|s| ByteArray::from(s.as_str())).collect();
                c.typed::<ByteArrayType>().write_batch(&v, None, None)
            }
            k => {
                let values = &t.fields[k - 2].1;
                let defs: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
                let dense: Vec<f64> = values.iter().flatten().copied().collect();
                c.typed::<DoubleType>().write_batch(&dense, Some(&defs), None)
            }
        };
        res.map_err(|e| e.to_string())?;
        c.close().map_err(|e| e.to_string())?;
        col += 1;
    }
    rg.close().map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// A dated series as Parquet: `date` (DATE) and one DOUBLE column.
pub fn write_series(path: &Path, dates: &[i32], name: &str, values: &[f64]) -> Result<(), String> {
    let schema = format!("message series {{ required int32 date (DATE); required double {name}; }}");
    let schema = Arc::new(parse_message_type(&schema).map_err(|e| e.to_string())?);
    let file = File::create(path).map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    let mut w = SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
        .map_err(|e| e.to_string())?;
    let mut rg = w.next_row_group().map_err(|e| e.to_string())?;
    if let Some(mut c) = rg.next_column().map_err(|e| e.to_string())? {
        c.typed::<Int32Type>().write_batch(dates, None, None).map_err(|e| e.to_string())?;
        c.close().map_err(|e| e.to_string())?;
    }
    if let Some(mut c) = rg.next_column().map_err(|e| e.to_string())? {
        c.typed::<DoubleType>().write_batch(values, None, None).map_err(|e| e.to_string())?;
        c.close().map_err(|e| e.to_string())?;
    }
    rg.close().map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// A small deterministic generator (xorshift64): the same numbers on every
/// machine, for the sample data and the benchmarks.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

pub struct SampleSpec {
    pub symbols: usize,
    pub years: i32,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec { symbols: 300, years: 6 }
    }
}

/// Write the sample dataset into `dir` (created if needed): `price.parquet`
/// (daily OHLCV and adj_close), `monthly_revenue.parquet` (當月營收, published
/// on the 10th of the next month) and `fundamental_features.parquet`
/// (quarterly ROE稅後 and 營業利益率, published after each quarter).
pub fn write_sample(dir: &Path, spec: &SampleSpec) -> Result<SampleSummary, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut rng = Rng(0x5eed_f1a5_b0c5_0001);
    let start = days_from_civil(2018, 1, 1);
    let end = days_from_civil(2018 + i64::from(spec.years), 1, 1);
    let days: Vec<i32> = (start..end).filter(|d| (d - 4).rem_euclid(7) < 5).collect();
    let symbols: Vec<String> = (0..spec.symbols).map(|i| format!("{}", 1101 + i * 7)).collect();
    let mut t = SampleTables::default();
    for sym in &symbols {
        let drift = (rng.uniform() - 0.3) * 0.0008;
        let vol = 0.01 + rng.uniform() * 0.025;
        let close = 10.0 + rng.uniform() * 190.0;
        let listed_from = if rng.uniform() < 0.1 { (rng.uniform() * days.len() as f64 / 2.0) as usize } else { 0 };
        let level = 1e8 * (0.5 + rng.uniform() * 20.0);
        t.prices(&mut rng, sym, &days[listed_from.min(days.len())..], (drift, vol, close));
        t.reports(&mut rng, sym, spec.years, end, level);
    }
    let price_rows = t.price.dates.len();
    t.write(dir)?;
    Ok(SampleSummary { symbols: symbols.len(), days: days.len(), price_rows })
}

/// The three tables of `data sample`, filled symbol by symbol.
#[derive(Default)]
struct SampleTables {
    price: Table,
    cols: [Vec<Option<f64>>; 6],
    revenue: Table,
    rev_col: Vec<Option<f64>>,
    fund: Table,
    roe: Vec<Option<f64>>,
    margin: Vec<Option<f64>>,
}

impl SampleTables {
    const PRICE_FIELDS: [&'static str; 6] = ["open", "high", "low", "close", "volume", "adj_close"];

    /// A random walk with rare halts and a July dividend (the raw price
    /// drops, `adj_close` does not).
    fn prices(&mut self, rng: &mut Rng, sym: &str, days: &[i32], (drift, vol, mut close): (f64, f64, f64)) {
        let mut factor = 1.0; // adj_close / close: falls at each ex-dividend day
        for d in days {
            let ret = drift + vol * rng.normal();
            let open = close * (1.0 + vol * 0.3 * rng.normal());
            close *= ret.exp();
            let high = open.max(close) * (1.0 + vol * 0.5 * rng.uniform());
            let low = open.min(close) * (1.0 - vol * 0.5 * rng.uniform());
            let (_, m, dd) = crate::dates::civil(*d);
            if m == 7 && dd <= 7 && (d - 4).rem_euclid(7) == 0 {
                factor *= 0.97;
            }
            let volume = (1e5 * (1.0 + 20.0 * rng.uniform())).round();
            let halted = rng.uniform() < 0.002;
            self.price.dates.push(*d);
            self.price.symbols.push(sym.to_string());
            let round = |x: f64| (x * 100.0).round() / 100.0;
            for (k, v) in [open, high, low, close, volume, close * factor].into_iter().enumerate() {
                let value = if halted && k != 4 {
                    None
                } else if k == 4 {
                    Some(v)
                } else {
                    Some(round(v))
                };
                self.cols[k].push(value);
            }
        }
    }

    /// Monthly revenue, published on the 10th of the next month; quarterly
    /// fundamentals, published at the statutory deadlines.
    fn reports(&mut self, rng: &mut Rng, sym: &str, years: i32, end: i32, mut level: f64) {
        for y in 2018..2018 + i64::from(years) {
            for m in 1..=12 {
                level *= (0.01 * rng.normal() + 0.003 + if m == 1 { 0.05 * rng.normal() } else { 0.0 }).exp();
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let published = days_from_civil(ny, nm, 10);
                if published >= end {
                    continue;
                }
                self.revenue.dates.push(published);
                self.revenue.symbols.push(sym.to_string());
                self.rev_col.push(Some(level.round()));
            }
            for (q, (pm, pd)) in [(5, 15), (8, 14), (11, 14), (15, 31)].into_iter().enumerate() {
                let (py, pm) = if pm > 12 { (y + 1, pm - 12) } else { (y, pm) };
                let published = days_from_civil(py, pm, pd);
                if published >= end {
                    continue;
                }
                self.fund.dates.push(published);
                self.fund.symbols.push(sym.to_string());
                self.roe.push(Some(((2.0 + 3.0 * rng.normal() + q as f64 * 0.1) * 100.0).round() / 100.0));
                self.margin.push(Some(((8.0 + 6.0 * rng.normal()) * 100.0).round() / 100.0));
            }
        }
    }

    fn write(self, dir: &Path) -> Result<(), String> {
        let mut price = self.price;
        price.fields = Self::PRICE_FIELDS.iter().map(|n| n.to_string()).zip(self.cols).collect();
        let mut revenue = self.revenue;
        revenue.fields = vec![("當月營收".to_string(), self.rev_col)];
        let mut fund = self.fund;
        fund.fields = vec![("ROE稅後".to_string(), self.roe), ("營業利益率".to_string(), self.margin)];
        write_table(&dir.join("price.parquet"), &price)?;
        write_table(&dir.join("monthly_revenue.parquet"), &revenue)?;
        write_table(&dir.join("fundamental_features.parquet"), &fund)
    }
}

/// A table being filled row by row: one `(date, symbol)` and one value per field.
struct Builder {
    table: Table,
}

impl Builder {
    fn new(fields: &[&str]) -> Self {
        Builder {
            table: Table {
                dates: Vec::new(),
                symbols: Vec::new(),
                fields: fields.iter().map(|f| (f.to_string(), Vec::new())).collect(),
            },
        }
    }
    fn row(&mut self, date: i32, symbol: &str, values: &[Option<f64>]) {
        self.table.dates.push(date);
        self.table.symbols.push(symbol.to_string());
        for ((_, col), v) in self.table.fields.iter_mut().zip(values) {
            col.push(*v);
        }
    }
}

fn month_end(y: i64, m: i64) -> i32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) - 1
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub struct SampleSummary {
    pub symbols: usize,
    pub days: usize,
    pub price_rows: usize,
}

/// Convert a long CSV (`date,symbol,field...`, header first) to Parquet.
/// Dates are `YYYY-MM-DD`; fields numbers or empty; duplicate (date, symbol)
/// rows are refused. Quoted fields are supported; embedded newlines are not.
pub fn import_csv(csv: &Path, out: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(csv).map_err(|e| format!("cannot read `{}`: {e}", csv.display()))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("the CSV is empty")?;
    let header = split_csv(header);
    let pos = |name: &str| header.iter().position(|h| h.trim() == name);
    let date_i = pos("date").ok_or("the CSV has no `date` column")?;
    let symbol_i = pos("symbol").ok_or("the CSV has no `symbol` column")?;
    let field_ix: Vec<usize> = (0..header.len()).filter(|i| *i != date_i && *i != symbol_i).collect();
    if field_ix.is_empty() {
        return Err("the CSV has no field columns besides `date` and `symbol`".into());
    }
    let mut t = Table {
        dates: Vec::new(),
        symbols: Vec::new(),
        fields: field_ix.iter().map(|&i| (header[i].trim().to_string(), Vec::new())).collect(),
    };
    let mut seen = HashSet::new();
    for (n, line) in lines {
        let cells = split_csv(line);
        let lineno = n + 1;
        if cells.len() != header.len() {
            return Err(format!("line {lineno}: {} cells, the header has {}", cells.len(), header.len()));
        }
        let date = parse_iso_date(&cells[date_i])
            .ok_or_else(|| format!("line {lineno}: `{}` is not a YYYY-MM-DD date", cells[date_i]))?;
        let symbol = cells[symbol_i].trim().to_string();
        if symbol.is_empty() {
            return Err(format!("line {lineno}: empty symbol"));
        }
        if !seen.insert((date, symbol.clone())) {
            return Err(format!("line {lineno}: duplicate row for {} and `{symbol}`", cells[date_i].trim()));
        }
        t.dates.push(date);
        t.symbols.push(symbol);
        for (k, &i) in field_ix.iter().enumerate() {
            let cell = cells[i].trim();
            let v = if cell.is_empty() {
                None
            } else {
                Some(
                    cell.parse::<f64>()
                        .map_err(|_| format!("line {lineno}: `{}` = `{cell}` is not a number", header[i].trim()))?,
                )
            };
            t.fields[k].1.push(v);
        }
    }
    if t.dates.is_empty() {
        return Err("the CSV has a header but no rows".into());
    }
    write_table(out, &t)?;
    Ok(t.dates.len())
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

mod finlab;
#[cfg(test)]
mod tests;

pub use finlab::{write_finlab_sample, FINLAB_TABLES};
