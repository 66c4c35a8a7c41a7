//! Watching a running container: `docker stats` parsing, the kill policy,
//! and the live monitor that ties them to one run.

mod live;
mod policy;
mod stats;

pub use live::{Monitor, Report};
pub use policy::{Limits, Violation};
