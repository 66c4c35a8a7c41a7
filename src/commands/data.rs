//! `finsandbox data sample` and `finsandbox data import`: market data files
//! written on the host.

use std::path::Path;

use serde::Serialize;

use crate::error::{code, ConfigError, InputError, Result};
use crate::printer::{CommandOutput, Render};
use crate::sample;

#[derive(Serialize)]
pub struct Written {
    pub path: String,
    pub rows: u64,
    /// What was written, for people.
    #[serde(skip)]
    pub summary: String,
}

impl Render for Written {
    fn render_text(&self, _color: bool) -> String {
        format!("{}\n", self.summary)
    }
}

impl CommandOutput for Written {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

pub fn sample(out: &Path, symbols: usize, years: i32, finlab: bool) -> Result<Written> {
    if symbols == 0 || symbols > 20_000 || !(1..=30).contains(&years) {
        return Err(ConfigError::Value {
            key: "--symbols/--years".into(),
            origin: "command line".into(),
            message: "symbols 1..=20000, years 1..=30".into(),
        }
        .into());
    }
    let spec = sample::SampleSpec { symbols, years };
    let s = if finlab { sample::write_finlab_sample(out, &spec) } else { sample::write_sample(out, &spec) }
        .map_err(|message| InputError::Data { path: out.to_path_buf(), message })?;
    Ok(Written {
        path: out.display().to_string(),
        rows: s.price_rows as u64,
        summary: format!(
            "wrote {}: {} symbols, {} trading days ({} price rows), {}",
            out.display(),
            s.symbols,
            s.days,
            s.price_rows,
            if finlab {
                "finlab-shaped tables (price, etl, monthly_revenue, fundamental_features, ...)"
            } else {
                "monthly and quarterly tables"
            }
        ),
    })
}

pub fn import(csv: &Path, out: &Path) -> Result<Written> {
    let n = sample::import_csv(csv, out).map_err(|message| InputError::Data { path: csv.to_path_buf(), message })?;
    Ok(Written {
        path: out.display().to_string(),
        rows: n as u64,
        summary: format!("wrote {}: {n} rows", out.display()),
    })
}
