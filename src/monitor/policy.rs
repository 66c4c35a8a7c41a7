//! The runtime policy: which samples add up to a violation. Pure: samples and
//! their times in, violations out.
//!
//! CPU is judged against the container's own CPU limit: at `--cpus 0.5`
//! docker reports at most ~50%, so the observed value is divided by the limit
//! (50% observed = 100% of what the container may use). Without that the CPU
//! rule could never fire under the default limit.

use serde::Serialize;

use crate::config::MonitorSettings;
use crate::engine::Sample;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    /// `kill`: the run was stopped for it; `warn`: recorded only (the CPU
    /// rules by default: using the quota the kernel enforces is no offence).
    pub action: &'static str,
    pub observed: f64,
    pub threshold: f64,
    /// Seconds since the run started.
    pub at_s: f64,
}

pub struct KillPolicy {
    limits: MonitorSettings,
    cpus: f64,
    cpu_since: Option<f64>,
    memory_since: Option<f64>,
}

impl KillPolicy {
    pub fn new(limits: MonitorSettings, cpus: f64) -> Self {
        KillPolicy { limits, cpus: cpus.max(0.01), cpu_since: None, memory_since: None }
    }

    /// CPU as a percentage of the container's CPU limit.
    pub fn normalised_cpu(&self, s: &Sample) -> Option<f64> {
        s.cpu_percent.map(|c| c / self.cpus)
    }

    /// Feed one sample taken `t` seconds into the run; returns what it broke.
    pub fn observe(&mut self, s: &Sample, t: f64) -> Vec<Violation> {
        let l = &self.limits;
        let mut out = Vec::new();
        let cpu = self.normalised_cpu(s);
        let round = |x: f64| (x * 100.0).round() / 100.0;
        let cpu_action = if l.cpu_kills { "kill" } else { "warn" };
        if let Some(c) = sustained(&mut self.cpu_since, cpu, l.max_cpu_percent, l.cpu_window_seconds, t) {
            out.push(Violation {
                rule: "cpu_sustained",
                action: cpu_action,
                observed: round(c),
                threshold: l.max_cpu_percent,
                at_s: round(t),
            });
        }
        let memory = s.memory_percent;
        if let Some(m) = sustained(&mut self.memory_since, memory, l.max_memory_percent, l.memory_window_seconds, t) {
            out.push(Violation {
                rule: "memory_sustained",
                action: "kill",
                observed: round(m),
                threshold: l.max_memory_percent,
                at_s: round(t),
            });
        }
        if let Some(p) = s.pids {
            if p >= l.max_pids {
                out.push(Violation {
                    rule: "pids",
                    action: "kill",
                    observed: p as f64,
                    threshold: l.max_pids as f64,
                    at_s: round(t),
                });
            }
        }
        if let (Some(c), Some(m)) = (cpu, s.memory_percent) {
            if c > l.combined_percent && m > l.combined_percent {
                out.push(Violation {
                    rule: "cpu_and_memory",
                    action: cpu_action,
                    observed: round(c.min(m)),
                    threshold: l.combined_percent,
                    at_s: round(t),
                });
            }
        }
        out
    }
}

/// One sustained-threshold window: `since` is when the value last went above
/// `threshold`. Returns the value once it has stayed above for `window`
/// seconds. A missing value (`--`) neither starts nor breaks a window.
fn sustained(since: &mut Option<f64>, value: Option<f64>, threshold: f64, window: f64, t: f64) -> Option<f64> {
    match value {
        Some(v) if v > threshold => {
            let start = *since.get_or_insert(t);
            (t - start >= window).then_some(v)
        }
        Some(_) => {
            *since = None;
            None
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cpu: Option<f64>, mem: Option<f64>, pids: Option<u64>) -> Sample {
        Sample { cpu_percent: cpu, memory_percent: mem, memory_bytes: None, pids }
    }

    #[test]
    fn cpu_is_normalised_to_the_limit() {
        let p = KillPolicy::new(MonitorSettings::default(), 0.5);
        assert_eq!(p.normalised_cpu(&sample(Some(49.0), None, None)), Some(98.0));
    }

    #[test]
    fn cpu_must_be_sustained_for_the_window() {
        let mut p = KillPolicy::new(MonitorSettings::default(), 0.5);
        for t in 0..15 {
            assert!(p.observe(&sample(Some(49.0), Some(1.0), Some(3)), t as f64).is_empty(), "fired early at {t}");
        }
        let v = p.observe(&sample(Some(49.0), Some(1.0), Some(3)), 15.0);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, "cpu_sustained");
        assert_eq!(v[0].observed, 98.0);
    }

    #[test]
    fn a_dip_restarts_the_cpu_window() {
        let mut p = KillPolicy::new(MonitorSettings::default(), 1.0);
        for t in 0..10 {
            p.observe(&sample(Some(99.0), None, None), t as f64);
        }
        p.observe(&sample(Some(10.0), None, None), 10.0);
        for t in 11..25 {
            assert!(p.observe(&sample(Some(99.0), None, None), t as f64).is_empty(), "at {t}");
        }
        assert!(!p.observe(&sample(Some(99.0), None, None), 26.0).is_empty());
    }

    #[test]
    fn missing_values_do_not_break_a_window() {
        let mut p = KillPolicy::new(MonitorSettings::default(), 1.0);
        p.observe(&sample(Some(99.0), None, None), 0.0);
        p.observe(&sample(None, None, None), 5.0);
        assert!(!p.observe(&sample(Some(99.0), None, None), 15.0).is_empty());
    }

    #[test]
    fn memory_window() {
        let mut p = KillPolicy::new(MonitorSettings::default(), 1.0);
        assert!(p.observe(&sample(None, Some(96.0), None), 0.0).is_empty());
        assert!(p.observe(&sample(None, Some(96.0), None), 9.0).is_empty());
        assert_eq!(p.observe(&sample(None, Some(96.0), None), 10.0)[0].rule, "memory_sustained");
    }

    #[test]
    fn pids_at_the_limit_fire_at_once() {
        let mut p = KillPolicy::new(MonitorSettings::default(), 1.0);
        assert!(p.observe(&sample(None, None, Some(89)), 0.0).is_empty());
        assert_eq!(p.observe(&sample(None, None, Some(90)), 1.0)[0].rule, "pids");
    }

    #[test]
    fn cpu_and_memory_together_fire_in_one_sample() {
        let mut p = KillPolicy::new(MonitorSettings::default(), 0.5);
        let v = p.observe(&sample(Some(41.0), Some(81.0), None), 0.0);
        assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), ["cpu_and_memory"]);
        assert!(p.observe(&sample(Some(41.0), Some(79.0), None), 1.0).is_empty());
    }
}
