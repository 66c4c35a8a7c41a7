//! What `exec` and `batch` report beside their output, once per run: the
//! metrics ([`crate::metrics`]), the live `/metrics` text
//! ([`crate::metrics_server`]) and the audit log ([`crate::audit`]).
//!
//! Everything is opened and checked before the first run ([`Reporter::open`]):
//! a missing metrics directory or an unwritable audit log is a usage error
//! (exit 2) up front, not a surprise after an hour of batch. After a run,
//! a failure to record is a warning: the run's own result stands.

use std::path::{Path, PathBuf};

use crate::audit;
use crate::config::Observe;
use crate::error::ConfigError;
use crate::metrics::{self, Outcome, State};
use crate::metrics_server::Shared;
use crate::report::RunResult;

pub struct Reporter {
    metrics_dir: Option<PathBuf>,
    audit: Option<audit::Log>,
    user: Option<audit::User>,
    host: String,
    /// The live text for `--metrics-listen`, and this process's own counts
    /// when there is no metrics directory to merge into.
    live: Option<(Shared, State)>,
}

/// One run's outcome as a command saw it.
pub enum Recorded<'a> {
    Result(&'a RunResult),
    /// It stopped with an error before it had a result.
    Error {
        strategy: &'a Path,
        error: &'a crate::error::Error,
    },
    /// A batch's error line (an unreadable strategy).
    ErrorLine {
        strategy: &'a str,
        message: &'a str,
        exit_code: i32,
    },
}

fn refuse(key: &str, message: String) -> ConfigError {
    ConfigError::Value { key: key.into(), origin: "settings".into(), message }
}

impl Reporter {
    /// Check and open what `o` names; `live` is the text a metrics server
    /// serves (its initial content is written here).
    pub fn open(o: &Observe, live: Option<Shared>) -> Result<Reporter, ConfigError> {
        if let Some(d) = &o.metrics_textfile_dir {
            metrics::check_dir(d).map_err(|m| refuse("metrics.textfile_dir", m))?;
        }
        let audit = o.audit_log.as_deref().map(audit::open).transpose().map_err(|m| refuse("audit.log", m))?;
        let (user, host) =
            if audit.is_some() { (Some(audit::current_user()), audit::hostname()) } else { (None, String::new()) };
        let mut r = Reporter {
            metrics_dir: o.metrics_textfile_dir.clone(),
            audit,
            user,
            host,
            live: live.map(|s| (s, State::new())),
        };
        // The server's first scrape sees the counts so far (or zeros).
        if r.live.is_some() {
            let _ = r.update_metrics(|_| {});
        }
        Ok(r)
    }

    fn update_metrics(&mut self, change: impl Fn(&mut State)) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut text = None;
        if let Some(dir) = &self.metrics_dir {
            match metrics::update(dir, &change) {
                Ok((t, w)) => {
                    text = Some(t);
                    warnings.extend(w);
                }
                Err(e) => warnings.push(format!("metrics not updated: {e}")),
            }
        }
        if let Some((shared, state)) = self.live.as_mut() {
            change(state);
            let t = text.unwrap_or_else(|| metrics::render(state));
            if let Ok(mut s) = shared.lock() {
                *s = t;
            }
        }
        warnings
    }

    /// Record one run; the warnings to show (nothing failed: none).
    pub fn record(&mut self, rec: &Recorded) -> Vec<String> {
        let now = crate::host::now_unix();
        let mut warnings = if self.metrics_dir.is_some() || self.live.is_some() {
            let outcome = match rec {
                Recorded::Result(r) => Outcome::Result(r),
                _ => Outcome::Error,
            };
            self.update_metrics(|s| s.record_run(&outcome, now))
        } else {
            Vec::new()
        };
        if let Some(log) = self.audit.as_mut() {
            let user = self.user.clone().unwrap_or(audit::User { uid: 0, name: None });
            let host = self.host.clone();
            let path;
            let entry = match rec {
                Recorded::Result(r) => audit::Entry::of_result(r, now, user, host),
                Recorded::Error { strategy, error } => {
                    path = strategy.display().to_string();
                    audit::Entry::of_error(&path, error.to_string(), error.exit_code(), now, user, host)
                }
                Recorded::ErrorLine { strategy, message, exit_code } => {
                    audit::Entry::of_error(strategy, message.to_string(), *exit_code, now, user, host)
                }
            };
            if let Err(e) = log.append(&entry) {
                warnings.push(e);
            }
        }
        warnings
    }
}

/// `cleanup --metrics-textfile DIR`: the orphans gauge and the reaped counter.
pub fn record_cleanup(dir: &Path, found: u64, reaped: u64) -> Result<Vec<String>, ConfigError> {
    metrics::check_dir(dir).map_err(|m| refuse("--metrics-textfile", m))?;
    let now = crate::host::now_unix();
    Ok(match metrics::update(dir, |s| s.record_cleanup(found, reaped, now)) {
        Ok((_, w)) => w.into_iter().collect(),
        Err(e) => vec![format!("metrics not updated: {e}")],
    })
}
