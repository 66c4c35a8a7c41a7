//! Watching a running container: the kill policy (pure), the container's
//! cgroup counters, and the live monitor that ties them to one run. The
//! `docker stats` stream and its parsing live in the engine.

pub mod cgroup;
mod live;
mod policy;

pub use cgroup::{parse_cfs, parse_cpu_max, CgroupFiles};
pub use live::{Monitor, Report};
pub use policy::{KillPolicy, Violation};
