//! Past one machine: a batch handed to a scheduler the team already runs.
//! finsandbox writes no scheduler: it shards the strategies, submits one
//! array task per shard, and each task (`batch worker`) is the ordinary
//! `batch` over its shard on its node's own engine, with every protection
//! of a local run. Results meet in a run directory on a shared file system.
//!
//! * `rundir.rs`: the run directory (manifest, per-shard result lines,
//!   events, submissions) and the pure pieces over it (sharding, merge);
//! * `slurm.rs`: the batch script and `sbatch`/`squeue`/`scancel`;
//! * here: the status of a shard, decided from facts by a pure function.

pub mod rundir;
pub mod slurm;

use serde::Serialize;

/// A shard as `batch status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardState {
    Pending,
    Running,
    Done,
    Failed,
}

impl ShardState {
    pub fn as_str(self) -> &'static str {
        match self {
            ShardState::Pending => "pending",
            ShardState::Running => "running",
            ShardState::Done => "done",
            ShardState::Failed => "failed",
        }
    }
}

/// What is known about one shard.
#[derive(Debug, Clone, Default)]
pub struct ShardFacts {
    pub total: usize,
    /// Strategies with a result line.
    pub done: usize,
    /// The scheduler's view of its task, when it is still queued.
    pub queued: Option<slurm::Queue>,
    /// The last worker event: `Some(None)` a start without an end,
    /// `Some(Some(code))` an end with its exit code.
    pub last: Option<Option<i32>>,
    /// Whether any job ever covered the shard.
    pub submitted: bool,
}

/// The shard's state and why. Every line present is done, whatever the
/// queue says (a task finishing its last write); otherwise the queue is
/// believed; a shard out of the queue without every line has failed.
pub fn decide(f: &ShardFacts) -> (ShardState, String) {
    if f.done >= f.total {
        return (ShardState::Done, "every strategy has a result".into());
    }
    match f.queued {
        Some(slurm::Queue::Running) => return (ShardState::Running, "running".into()),
        Some(slurm::Queue::Pending) => return (ShardState::Pending, "queued".into()),
        None => {}
    }
    let why = match f.last {
        Some(None) => "its worker started and left no end record (killed, or its node was lost)".to_string(),
        Some(Some(code)) => format!("its worker exited with code {code}"),
        None if f.submitted => "out of the queue, never started (cancelled?)".to_string(),
        None => "never submitted".to_string(),
    };
    (ShardState::Failed, why)
}

#[cfg(test)]
mod tests {
    use super::slurm::Queue;
    use super::*;

    fn facts(done: usize, queued: Option<Queue>, last: Option<Option<i32>>) -> ShardFacts {
        ShardFacts { total: 3, done, queued, last, submitted: true }
    }

    #[test]
    fn every_line_present_is_done_whatever_the_queue_says() {
        assert_eq!(decide(&facts(3, Some(Queue::Running), Some(None))).0, ShardState::Done);
        assert_eq!(decide(&facts(3, None, Some(Some(0)))).0, ShardState::Done);
    }

    #[test]
    fn a_queued_shard_is_pending_or_running() {
        assert_eq!(decide(&facts(0, Some(Queue::Pending), None)).0, ShardState::Pending);
        assert_eq!(decide(&facts(1, Some(Queue::Running), Some(None))).0, ShardState::Running);
    }

    #[test]
    fn out_of_the_queue_and_incomplete_is_failed_with_the_reason() {
        let (s, why) = decide(&facts(1, None, Some(Some(143))));
        assert_eq!(s, ShardState::Failed);
        assert!(why.contains("143"), "{why}");
        assert!(decide(&facts(1, None, Some(None))).1.contains("no end record"));
        assert!(decide(&facts(0, None, None)).1.contains("never started"));
        let never = ShardFacts { submitted: false, ..facts(0, None, None) };
        assert!(decide(&never).1.contains("never submitted"));
    }
}
