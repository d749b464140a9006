//! Dispatch: one parsed command in, one exit code out. `main` only builds
//! the runtime and prints errors.

use crate::cli::{Cli, Command};
use crate::cmd;

/// Run the command; an error's exit code comes from [`crate::exit::Error`].
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        // A list of concurrency levels is a sweep of runs.
        Command::Run(args) if args.concurrency_levels.len() > 1 => cmd::sweep::run(*args).await,
        Command::Run(args) => cmd::run::run(*args).await,
        Command::Validate(args) => Ok(cmd::validate::run(&args)),
        Command::Models(args) => cmd::info::models(&args).await,
        Command::Credits(args) => cmd::info::credits(&args).await,
        Command::Report(args) => cmd::report::run(&args),
        Command::Sim(args) => cmd::sim::run(&args).await,
        Command::Init(args) => cmd::init::run(&args),
        Command::Compare(args) => cmd::compare::run(&args).await,
        Command::Trend(args) => cmd::trend::run(&args).await,
        Command::Merge(args) => cmd::merge::run(&args).await,
        Command::Completions(args) => cmd::shell::completions(&args),
        Command::Man => cmd::shell::man(),
        Command::History(c) => cmd::history::run(&c).await,
    }
}

/// Parse, run on a multi-threaded runtime, print the error chain, map to an exit code.
pub fn main_with(cli: Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return crate::exit::RUN_FAILED;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            let err = crate::exit::Error::from(err);
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}
