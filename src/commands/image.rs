//! `finsandbox image build`.

use std::io::IsTerminal;

use serde::Serialize;

use super::Context;
use crate::cli::ImageBuildArgs;
use crate::error::{code, Result};
use crate::printer::{CommandOutput, Render};
use crate::{engine, image};

#[derive(Serialize)]
pub struct Built {
    pub image: String,
    pub method: String,
    pub skipped: bool,
}

impl Render for Built {
    fn render_text(&self, _color: bool) -> String {
        if self.skipped {
            format!("image `{}` is current; nothing to do (use --force to rebuild)\n", self.image)
        } else {
            format!("built image `{}` with method {}\n", self.image, self.method)
        }
    }
}

impl CommandOutput for Built {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

pub fn build(ctx: &Context, args: &ImageBuildArgs) -> Result<Built> {
    let engine = engine::locate(ctx.cli.engine.as_deref(), ctx.env)?;
    engine::preflight(&engine)?;
    let opts = image::BuildOptions {
        method: args.method,
        tag: args.tag.clone(),
        mirror: args.mirror.clone(),
        force: args.force,
        show_progress: std::io::stderr().is_terminal() && !ctx.cli.quiet && !ctx.cli.json,
    };
    let (method, skipped) = match image::build(&engine, &opts, ctx.env)? {
        Some(m) => (format!("{m:?}").to_lowercase(), false),
        None => ("existing".into(), true),
    };
    Ok(Built { image: args.tag.clone(), method, skipped })
}
