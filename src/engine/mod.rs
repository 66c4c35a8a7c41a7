//! The container engine: the Docker CLI (or a compatible one) driven as a
//! child process. Nothing here knows about strategies.

mod argv;
mod command;
mod ops;

pub use argv::{label, run_args, RunSpec, DATA_TARGET};
pub use command::{Engine, Flavor};
pub use ops::{
    check_image, inspect_state, kill, locate, preflight, remove, ContainerState, EngineInfo, ImageInfo, QUICK,
};
