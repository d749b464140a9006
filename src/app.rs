//! Dispatch: one parsed command in, one exit code out. `main` only builds
//! the runtime and prints errors.

use crate::cli::{Cli, Command};
use crate::cmd;
use crate::stdout_relay::Relay;

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

/// Set by the panic hook: a panic anywhere (a spawned task's included,
/// whose `JoinError` may be dropped on the way) makes the exit non-zero.
static PANICKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keep the default panic message (with its location) and remember the panic.
fn note_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, std::sync::atomic::Ordering::SeqCst);
        default(info);
    }));
}

/// The exit code once the command returned `code`: a run in which anything
/// panicked failed (3), whatever it returned, unless it was interrupted or
/// refused before sending.
fn after_panics(code: i32) -> i32 {
    if !PANICKED.load(std::sync::atomic::Ordering::SeqCst) {
        return code;
    }
    eprintln!(
        "error: evalgate hit an internal error (the panic above is a bug; please report it); \
         the outputs may be incomplete"
    );
    match code {
        crate::exit::OK | crate::exit::FAILED => crate::exit::RUN_FAILED,
        other => other,
    }
}

/// Parse, run on a multi-threaded runtime, print the error chain, map to an
/// exit code. Standard output goes through the [`Relay`], so a reader that
/// closes it early (`| head -1`) ends nothing.
pub fn main_with(cli: Cli) -> i32 {
    let relay = Relay::start();
    let code = run_to_code(cli);
    relay.finish();
    code
}

fn run_to_code(cli: Cli) -> i32 {
    note_panics();
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
    // A panic that unwinds to here (not only one in a spawned task) is
    // an exit 3 too, after the hook printed it.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli))));
    let code = match ran {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            let err = crate::exit::Error::from(err);
            eprintln!("error: {err}");
            err.exit_code()
        }
        Err(_) => crate::exit::RUN_FAILED,
    };
    after_panics(code)
}
