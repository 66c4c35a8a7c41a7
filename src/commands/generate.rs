//! `finsandbox generate`: completions and the man page, for packaging. Their
//! bytes are the output itself, written straight to stdout.

use clap::CommandFactory;

use crate::cli::{Cli, GenerateCommand};
use crate::error::{code, Error, Result};

pub fn generate(what: &GenerateCommand) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout();
    match what {
        GenerateCommand::Completions { shell } => clap_complete::generate(*shell, &mut cmd, "finsandbox", &mut out),
        GenerateCommand::Man => {
            clap_mangen::Man::new(cmd).render(&mut out).map_err(|e| Error::Internal(e.to_string()))?
        }
    }
    Ok(code::OK)
}
