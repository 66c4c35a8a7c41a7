//! finsandbox as a library: the binary (`src/main.rs`) is a thin front end,
//! and benchmarks reach the same code. From the top down:
//!
//! * `commands` (one file per command) drive `run`, the pipeline of one run:
//!   read → `screen` → `data` → preflight (`engine`, `image`) → start and
//!   supervise (`engine`, `monitor`, `harness` frames) → decide → `score` →
//!   `report`; the `printer` renders what a command returns.
//! * `cleanup` and `selftest` use the engine beside the pipeline; `k8s`
//!   renders the same protections as Kubernetes objects instead of running.
//! * `scale` hands a batch to a scheduler (Slurm): run directory, shards,
//!   the batch script; each array task is an ordinary `batch`.
//! * `observe` is what `exec`, `batch` and `cleanup` report beside their
//!   output: `metrics` (counters merged under a lock into node_exporter's
//!   textfile format), `metrics_server` (`batch --metrics-listen`), `audit`
//!   (one JSON line per run).
//! * At the bottom: `config` (layers), `error` (exit codes), `host` (boot id,
//!   run ids, hashes, processes), `jsonl` (lines appended under a lock),
//!   `position`, `harness` (the embedded Python).

pub mod audit;
pub mod batch;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod dates;
pub mod engine;
pub mod error;
pub mod fsread;
pub mod harness;
pub mod host;
pub mod image;
pub mod jsonl;
pub mod k8s;
pub mod metrics;
pub mod metrics_server;
pub mod monitor;
pub mod notebook;
pub mod observe;
pub mod position;
pub mod printer;
pub mod report;
pub mod run;
pub mod sample;
pub mod scale;
pub mod score;
pub mod screen;
pub mod seccomp;
pub mod selftest;
pub mod stage;
