//! Integration tests: the real `finsandbox` binary, and (in `sandbox` and
//! `lifecycle`) the real container engine with the real sandbox image.
//!
//! Tests that need the engine fail loudly when it is missing: the engine is
//! part of the product, and `.ci/run` installs and starts it.

mod attacks;
mod batch;
mod cli;
mod compat;
mod finlab;
mod hostile_inputs;
mod install;
mod k8s;
mod lifecycle;
mod metrics;
mod monitor;
mod podman;
mod runtime_policy;
mod sandbox;
mod scoring;
mod screening;
mod selftest;
mod slurm;
mod support;
mod warmup;
