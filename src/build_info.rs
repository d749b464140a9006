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
mod tests {
    use super::*;

    #[test]
    fn the_version_line_names_version_commit_and_date() {
        assert!(VERSION_LINE.starts_with(VERSION));
        assert!(VERSION_LINE.contains(&format!("commit {COMMIT}")));
        let date = DATE.as_bytes();
        assert_eq!(date.len(), 10, "{DATE}");
        assert!(date[4] == b'-' && date[7] == b'-', "{DATE}");
    }

    #[test]
    fn the_slug_is_owner_slash_name() {
        let slug = github_slug();
        assert!(
            REPOSITORY.starts_with("https://github.com/"),
            "{REPOSITORY}"
        );
        assert_eq!(
            slug.split('/').filter(|p| !p.is_empty()).count(),
            2,
            "{slug}"
        );
    }
}
