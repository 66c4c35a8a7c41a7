//! Watching a running container: the kill policy (pure), the container's
//! cgroup counters, the kernel log's OOM-kill records, and the live monitor that ties them to one run. The
//! `docker stats` stream and its parsing live in the engine.

pub mod cgroup;
pub mod kmsg;
mod live;
mod policy;

pub use cgroup::{parse_cfs, parse_cpu_max, CgroupFiles};
pub use kmsg::KernelLog;
pub use live::{Monitor, Report};
pub use policy::{KillPolicy, Violation};
