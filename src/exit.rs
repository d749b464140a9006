//! The exit policy, in one place: the documented codes, the one [`worse`]
//! that ranks them, and the typed top-level [`Error`] whose
//! [`Error::exit_code`] maps what stopped a command to its code.
//!
//! Imports nothing of the crate: every layer may mark an error as the user's
//! input ([`usage`], [`usage!`](crate::usage)) without knowing who reports it.

use std::error::Error as StdError;
use std::fmt;

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

/// The worse of two exit codes: interrupted > run failed > usage > failed >
/// ok. An unknown non-zero code ranks as a failure, never as success.
pub fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        INTERRUPTED => 4,
        RUN_FAILED => 3,
        USAGE => 2,
        OK => 0,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// A problem with the user's input or configuration, found before anything
/// was sent: a message, or a typed error of a lower layer kept as it is
/// (its text and its sources print unchanged). Exit code 2.
#[derive(Debug)]
pub struct UsageError(Box<dyn StdError + Send + Sync>);

impl UsageError {
    /// A usage error from a message.
    pub fn new(msg: impl Into<String>) -> Self {
        UsageError(msg.into().into())
    }

    /// The error as it was raised (downcast it to the layer's own type).
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for UsageError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// Mark a typed error as the user's input (exit 2), keeping its type.
pub fn usage<E: StdError + Send + Sync + 'static>(err: E) -> anyhow::Error {
    anyhow::Error::new(UsageError(Box::new(err)))
}

/// Shorthand for returning a usage error with a message from an `anyhow` function.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::exit::UsageError::new(format!($($arg)*)))
    };
}

/// What stopped a command: the typed top-level error. Commands return
/// `anyhow` errors; this is where they are sorted into exit codes, by the
/// [`UsageError`] marker anywhere in their chain.
#[derive(Debug)]
pub enum Error {
    /// Bad input or configuration, found before anything was sent.
    Usage(anyhow::Error),
    /// The command or the run itself failed.
    Failed(anyhow::Error),
}

impl Error {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => USAGE,
            Error::Failed(_) => RUN_FAILED,
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(err: anyhow::Error) -> Self {
        if err
            .chain()
            .any(|e| e.is::<UsageError>() || e.is::<clap::Error>())
        {
            Error::Usage(err)
        } else {
            Error::Failed(err)
        }
    }
}

impl fmt::Display for Error {
    /// The whole chain, `outer: inner: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Error::Usage(e) | Error::Failed(e)) = self;
        write!(f, "{e:#}")
    }
}

#[cfg(test)]
mod tests;
