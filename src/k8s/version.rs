//! The Kubernetes version a render targets (`--k8s-version`).
//!
//! Only versions whose schemas `scripts/k8s_validate.sh` checks are accepted;
//! anything else is refused rather than rendered on a guess. Fields that
//! change status inside the range are handled here, explicitly.

use std::fmt;

use crate::error::ConfigError;

/// The oldest minor accepted: `backoffLimitPerIndex` (the field that keeps one
/// bad strategy from failing a batch) is beta and on by default from 1.29.
pub const MIN_MINOR: u32 = 29;
/// The newest minor validated with `kubernetes-validate --strict`.
pub const MAX_MINOR: u32 = 37;
/// The default: the newest validated.
pub const DEFAULT: &str = "1.37";
/// `backoffLimitPerIndex` and `maxFailedIndexes` are GA from here.
pub const PER_INDEX_GA_MINOR: u32 = 33;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub minor: u32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

impl Version {
    /// `1.33`, `v1.33` or `1.33.2` (the patch level changes no field).
    pub fn parse(s: &str) -> Result<Version, ConfigError> {
        let bad = |message: String| ConfigError::Value {
            key: "--k8s-version".into(),
            origin: "command line".into(),
            message,
        };
        let t = s.trim().trim_start_matches('v');
        let mut it = t.split('.');
        let (major, minor) = (it.next(), it.next());
        let patch_ok = it.next().is_none_or(|p| p.parse::<u32>().is_ok()) && it.next().is_none();
        let minor = match (major, minor.map(str::parse::<u32>)) {
            (Some("1"), Some(Ok(m))) if patch_ok => m,
            _ => return Err(bad(format!("`{s}` is not a Kubernetes version such as `{DEFAULT}`"))),
        };
        if !(MIN_MINOR..=MAX_MINOR).contains(&minor) {
            return Err(bad(format!(
                "Kubernetes 1.{minor} is not supported: finsandbox renders and validates 1.{MIN_MINOR} to 1.{MAX_MINOR}"
            )));
        }
        Ok(Version { minor })
    }

    /// Whether the per-index backoff fields are GA (else beta).
    pub fn per_index_ga(self) -> bool {
        self.minor >= PER_INDEX_GA_MINOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_people_write() {
        for s in ["1.33", "v1.33", "1.33.4", " 1.29 "] {
            assert!(Version::parse(s).is_ok(), "{s}");
        }
        assert_eq!(Version::parse(DEFAULT).map(|v| v.minor).ok(), Some(MAX_MINOR));
    }

    #[test]
    fn refuses_versions_outside_the_validated_range_and_garbage() {
        for s in ["1.28", "1.38", "2.0", "1", "1.x", "latest", "", "1.33.1.1"] {
            let e = Version::parse(s).expect_err(s).to_string();
            assert!(e.contains("--k8s-version"), "{e}");
        }
    }
}
