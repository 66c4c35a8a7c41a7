//! The one alias table (src/harness/aliases.json) and which columns hold the
//! prices.
//!
//! finlab's data names its price columns in Chinese (`price:收盤價`), the
//! project's own samples in English (`close`), and the adjusted close lives
//! in another table (`etl:adj_close`). Both the host (scoring) and the
//! harness (`data.get`, indicators, `hold_until` stops) must price with the
//! same columns, so the host resolves them here, once, and sends the answer
//! to the harness with the alias table itself: neither side derives it on
//! its own.
//!
//! A key resolves verbatim first (`TABLE:COL`, or a bare field looked up in
//! the single file, then `price`, then every table by name), then through the
//! other members of each alias group that holds it, in either direction.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::{Deserialize, Serialize};

/// The alias table as shipped (also sent to the harness verbatim).
pub const ALIASES_JSON: &str = include_str!("../harness/aliases.json");

#[derive(Deserialize)]
struct AliasFile {
    groups: BTreeMap<String, Vec<String>>,
}

/// Canonical name → keys of the group.
pub fn alias_groups() -> &'static BTreeMap<String, Vec<String>> {
    static GROUPS: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        // The file is part of the binary and checked by a unit test; an
        // unreadable table would mean no aliases, never a panic.
        serde_json::from_str::<AliasFile>(ALIASES_JSON).map(|f| f.groups).unwrap_or_default()
    })
}

/// The alias groups as a JSON value, for the harness request.
pub fn alias_groups_json() -> serde_json::Value {
    serde_json::to_value(alias_groups()).unwrap_or(serde_json::Value::Null)
}

/// One column of one table. `table` is empty for a single-file dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub table: String,
    pub file: PathBuf,
    pub column: String,
}

impl Column {
    /// The `data.get` key of this column.
    pub fn key(&self) -> String {
        if self.table.is_empty() {
            self.column.clone()
        } else {
            format!("{}:{}", self.table, self.column)
        }
    }
}

/// Where the prices are. `close` is required; scoring uses `adj_close` when
/// present, else `close`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceSpec {
    pub close: Column,
    pub open: Option<Column>,
    pub high: Option<Column>,
    pub low: Option<Column>,
    pub adj_close: Option<Column>,
}

impl PriceSpec {
    /// `{"close": "price:收盤價", "adj_close": "etl:adj_close", ...}`: what
    /// the harness's `data.price(name)` reads.
    pub fn keys(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::from([("close", self.close.key())]);
        for (name, col) in
            [("open", &self.open), ("high", &self.high), ("low", &self.low), ("adj_close", &self.adj_close)]
        {
            if let Some(c) = col {
                m.insert(name, c.key());
            }
        }
        m
    }

    /// The files scoring reads (close's first).
    pub fn files(&self) -> Vec<&Path> {
        let mut v: Vec<&Path> = vec![self.close.file.as_path()];
        for c in [&self.open, &self.adj_close].into_iter().flatten() {
            if !v.contains(&c.file.as_path()) {
                v.push(c.file.as_path());
            }
        }
        v
    }
}

/// Table name → (file, field columns). A single file is the table "".
pub type Tables = Vec<(String, PathBuf, Vec<String>)>;

/// The tables of a dataset and their field columns (footers only).
pub fn tables(path: &Path) -> Result<Tables, String> {
    let list: Vec<(String, PathBuf)> =
        if path.is_dir() { tables_in(path)? } else { vec![(String::new(), path.to_path_buf())] };
    let mut out = Vec::with_capacity(list.len());
    for (name, file) in list {
        let f = File::open(&file).map_err(|e| format!("cannot open `{}`: {e}", file.display()))?;
        let r = SerializedFileReader::new(f)
            .map_err(|e| format!("`{}`: not a readable Parquet file: {e}", file.display()))?;
        let schema = r.metadata().file_metadata().schema_descr();
        let fields = (0..schema.num_columns())
            .map(|i| schema.column(i).name().to_string())
            .filter(|n| n != "date" && n != "symbol")
            .collect();
        out.push((name, file, fields));
    }
    Ok(out)
}

fn verbatim(key: &str, tables: &Tables) -> Option<Column> {
    let col = |(t, f, _): &(String, PathBuf, Vec<String>), c: &str| Column {
        table: t.clone(),
        file: f.clone(),
        column: c.to_string(),
    };
    if let Some((table, field)) = key.split_once(':') {
        return tables.iter().find(|(t, _, fs)| t == table && fs.iter().any(|f| f == field)).map(|t| col(t, field));
    }
    let mut order: Vec<&(String, PathBuf, Vec<String>)> = tables.iter().filter(|(t, _, _)| t.is_empty()).collect();
    order.extend(tables.iter().filter(|(t, _, _)| t == "price"));
    order.extend(tables.iter().filter(|(t, _, _)| !t.is_empty() && t != "price"));
    order.into_iter().find(|(_, _, fs)| fs.iter().any(|f| f == key)).map(|t| col(t, key))
}

/// Resolve a `data.get` key: verbatim, then through its alias groups.
pub fn resolve(key: &str, tables: &Tables) -> Option<Column> {
    if let Some(c) = verbatim(key, tables) {
        return Some(c);
    }
    alias_groups()
        .values()
        .filter(|members| members.iter().any(|m| m == key))
        .flat_map(|members| members.iter().filter(|m| *m != key))
        .find_map(|m| verbatim(m, tables))
}

/// The price columns of a dataset (file or directory).
pub fn price_spec(path: &Path) -> Result<PriceSpec, String> {
    let tables = tables(path)?;
    let adj_close = resolve("adj_close", &tables);
    let close = resolve("close", &tables).or_else(|| adj_close.clone()).ok_or_else(|| {
        "no prices: no table has a close; add `price.parquet` with a `close` (or `收盤價`) column, or `etl.parquet` with `adj_close`"
            .to_string()
    })?;
    Ok(PriceSpec {
        close,
        open: resolve("open", &tables),
        high: resolve("high", &tables),
        low: resolve("low", &tables),
        adj_close,
    })
}

/// `(table name, file)` for each `TABLE.parquet`, sorted by name.
pub fn tables_in(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("cannot list: {e}"))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let p = entry.path();
        if p.extension().is_some_and(|x| x == "parquet") {
            // Regular files only: a FIFO named `x.parquet` would hang the
            // reader, a directory is not a table. Refused, not skipped.
            if !entry.file_type().is_ok_and(|t| t.is_file()) {
                return Err(format!("`{}` is not a regular file", p.display()));
            }
            if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                out.push((stem.to_string(), p.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{write_table, Table};

    fn table(path: &Path, fields: &[&str]) {
        let t = Table {
            dates: vec![1, 2],
            symbols: vec!["A".into(), "A".into()],
            fields: fields.iter().map(|f| (f.to_string(), vec![Some(1.0), Some(2.0)])).collect(),
        };
        write_table(path, &t).expect("write");
    }

    #[test]
    fn the_shipped_alias_table_parses_and_names_the_price_fields() {
        let g = alias_groups();
        for name in ["close", "open", "high", "low", "adj_close"] {
            assert!(g.contains_key(name), "{name} missing from aliases.json");
        }
        assert!(g["close"].contains(&"price:收盤價".to_string()));
        assert!(g["open"].contains(&"price:開盤價".to_string()));
        assert!(g["adj_close"].contains(&"etl:adj_close".to_string()));
    }

    #[test]
    fn finlab_named_columns_resolve_in_both_directions() {
        let dir = tempfile::tempdir().expect("tmp");
        table(&dir.path().join("price.parquet"), &["收盤價", "開盤價", "最高價", "最低價"]);
        table(&dir.path().join("etl.parquet"), &["adj_close", "market_value"]);
        let t = tables(dir.path()).expect("tables");
        assert_eq!(resolve("close", &t).map(|c| c.key()).as_deref(), Some("price:收盤價"));
        assert_eq!(resolve("price:收盤價", &t).map(|c| c.key()).as_deref(), Some("price:收盤價"));
        assert_eq!(resolve("open", &t).map(|c| c.key()).as_deref(), Some("price:開盤價"));
        assert_eq!(resolve("etl:adj_close", &t).map(|c| c.key()).as_deref(), Some("etl:adj_close"));
        let spec = price_spec(dir.path()).expect("spec");
        assert_eq!(spec.keys()["close"], "price:收盤價");
        assert_eq!(spec.keys()["adj_close"], "etl:adj_close");
        assert_eq!(spec.files().len(), 2);
    }

    #[test]
    fn english_columns_resolve_verbatim_and_through_the_finlab_names() {
        let dir = tempfile::tempdir().expect("tmp");
        table(&dir.path().join("price.parquet"), &["open", "close"]);
        let t = tables(dir.path()).expect("tables");
        assert_eq!(resolve("close", &t).map(|c| c.key()).as_deref(), Some("price:close"));
        assert_eq!(resolve("price:收盤價", &t).map(|c| c.key()).as_deref(), Some("price:close"));
        assert_eq!(resolve("price:開盤價", &t).map(|c| c.key()).as_deref(), Some("price:open"));
        assert!(resolve("price:最高價", &t).is_none());
        let single = dir.path().join("price.parquet");
        let spec = price_spec(&single).expect("spec");
        assert_eq!(spec.keys()["close"], "close");
    }

    #[test]
    fn a_dataset_without_prices_says_what_to_add() {
        let dir = tempfile::tempdir().expect("tmp");
        table(&dir.path().join("monthly_revenue.parquet"), &["當月營收"]);
        assert!(price_spec(dir.path()).expect_err("none").contains("收盤價"));
    }
}
