//! finsandbox: parse the command line, read the environment once, dispatch
//! to the command, map errors to exit codes. The commands live in
//! `src/commands/`, one file each.

use std::io::IsTerminal;

use clap::{CommandFactory, FromArgMatches};

use finsandbox::cli::Cli;
use finsandbox::commands::{self, Context};
use finsandbox::config::{self, EnvMap};
use finsandbox::printer::Printer;

fn main() {
    // `--version`: the commit and the embedded profile's hash, so a result
    // can be traced to exactly what ran.
    let long_version = format!(
        "{} (commit {}, seccomp profile sha256 {})",
        env!("CARGO_PKG_VERSION"),
        env!("FINSANDBOX_COMMIT"),
        finsandbox::seccomp::embedded_sha256()
    );
    // Once per process; clap keeps `&'static str` without its `string` feature.
    let version: &'static str = Box::leak(long_version.into_boxed_str());
    let matches = Cli::command().version(version).long_version(version).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The process environment is read once, here, and passed down.
    let env: EnvMap = std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
        .collect();
    let printer = Printer {
        json: cli.json,
        quiet: cli.quiet,
        color: std::io::stderr().is_terminal() && !env.contains_key(config::env::NO_COLOR),
    };
    let code = match commands::dispatch(&Context { cli: &cli, env: &env, printer: &printer }) {
        Ok(code) => code,
        Err(e) => {
            printer.error(e.kind(), &e.to_string(), e.hint().as_deref(), e.exit_code());
            e.exit_code()
        }
    };
    std::process::exit(code);
}
