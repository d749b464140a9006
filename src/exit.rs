//! Exit codes, in one place, and the error type that carries "this was the
//! user's input" up to `main`.

/// Success.
pub const OK: i32 = 0;
/// Checks failed, a regression was found, or a budget stopped the run.
pub const FAILED: i32 = 1;
/// Usage or configuration error; nothing was sent.
pub const USAGE: i32 = 2;
/// The run itself failed: gateway unreachable or every request failed.
pub const RUN_FAILED: i32 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: i32 = 130;

/// A problem with the user's input or configuration, found before anything
/// was sent. `main` maps it to exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(msg: impl Into<String>) -> Self {
        UsageError(msg.into())
    }
}

/// Shorthand for returning a usage error from an `anyhow` function.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::exit::UsageError(format!($($arg)*)))
    };
}

/// The exit code for an error that ended a command.
pub fn code_for(err: &anyhow::Error) -> i32 {
    let is_usage = err.chain().any(|e| {
        e.is::<UsageError>() || e.is::<crate::suite::SuiteError>() || e.is::<clap::Error>()
    });
    if is_usage {
        USAGE
    } else {
        RUN_FAILED
    }
}
