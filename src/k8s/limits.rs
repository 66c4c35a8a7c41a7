//! The sizes the renderer and the scorer agree on: the renderer sizes the
//! Pod's volumes and ConfigMap with them, the scorer bounds its reads of
//! what the untrusted side wrote with the same numbers. Apart from both, so
//! neither depends on the other for them.

/// What the scorer reads besides the position: the frames' other kinds.
pub const WORK_SLACK_BYTES: u64 = 16 << 20;
/// The data a ConfigMap may hold is 1 MiB in all; keep clear of it.
pub const MAX_CONFIGMAP_BYTES: usize = 1_000_000;
