//! The container engine: the Docker CLI (or a compatible one) driven as a
//! child process. This is the only module that spawns the engine CLI or
//! reads its output formats; nothing here knows about strategies.

mod argv;
mod command;
mod container;
mod ops;
pub mod stats;

pub use argv::{
    label, run_args, sandbox_env, RunSpec, DATA_TARGET, IN_CONTAINER_GRACE, NOFILE, NPROC, SANDBOX_USER,
    STARTUP_LIMIT_SECONDS,
};
pub use command::{Engine, Flavor};
pub use container::{start, ContainerGuard, RunningContainer};
pub use ops::{
    container_id, cpu_limit, image_inspect, inspect_state, kill, list_labelled, locate, parse_image_record,
    parse_labelled, parse_runtimes, preflight, read_cidfile, remove, runtimes, update_cpus, ContainerState, EngineInfo,
    ImageRecord, LabelledContainer, QUICK,
};
pub use stats::{convert, parse_line, stream as stats_stream, RawStats, Sample};
