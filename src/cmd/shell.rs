//! `evalgate completions SHELL` and `evalgate man`: shell completions and the
//! man page, rendered from the clap definitions so they always match the real
//! flags. Both write to stdout; the release archives ship their output.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// A closed pipe (`evalgate man | head`) is the reader's choice, not an error.
fn finish(result: std::io::Result<()>) -> anyhow::Result<i32> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(crate::exit::OK),
        other => other
            .context("cannot write to standard output")
            .map(|()| crate::exit::OK),
    }
}

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<i32> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "evalgate", &mut buf);
    finish(std::io::stdout().lock().write_all(&buf))
}

pub fn man() -> anyhow::Result<i32> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
    finish(std::io::stdout().lock().write_all(&buf))
}
