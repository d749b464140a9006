//! Which evalgate this is: version, git commit and build date, stamped by
//! `build.rs`. Shown by `evalgate --version` and recorded in `run.json`, so a
//! result can be traced to the binary that produced it; and the project's
//! repository address, written once in `Cargo.toml`.

use crate::record::BuildInfo;

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Short git commit of the build, or `unknown` outside a checkout.
pub const COMMIT: &str = env!("EVALGATE_GIT_COMMIT");
/// UTC build date, `YYYY-MM-DD`.
pub const DATE: &str = env!("EVALGATE_BUILD_DATE");

/// What `--version` prints after the program name.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("EVALGATE_GIT_COMMIT"),
    ", built ",
    env!("EVALGATE_BUILD_DATE"),
    ")"
);

/// The project's repository, from `Cargo.toml` (the one place it is written).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// `owner/name` of the GitHub repository, e.g. for an action's `uses:`.
pub fn github_slug() -> &'static str {
    REPOSITORY
        .trim_start_matches("https://github.com/")
        .trim_end_matches('/')
        .trim_end_matches(".git")
}

/// This binary's build, as `run.json` records it.
pub fn current() -> BuildInfo {
    BuildInfo {
        version: VERSION.to_string(),
        commit: COMMIT.to_string(),
        date: DATE.to_string(),
    }
}

#[cfg(test)]
mod tests;
