//! finsandbox as a library: the binary (`src/main.rs`) is a thin front end,
//! and benchmarks reach the same code. The modules follow one run's flow:
//! `screen` → `data` → `engine` (argv, preflight) → `harness` → `exec` →
//! `position` → `report`.

pub mod cleanup;
pub mod cli;
pub mod config;
pub mod data;
pub mod engine;
pub mod error;
pub mod exec;
pub mod harness;
pub mod image;
pub mod monitor;
pub mod notebook;
pub mod position;
pub mod report;
pub mod sample;
pub mod score;
pub mod screen;
pub mod selftest;
