//! Stamps the binary with the git commit and the build date for
//! `evalgate --version` and `run.json`. Never fails: outside a git checkout
//! (a crates.io package, a tarball) the commit comes from the package's
//! `.cargo_vcs_info.json` when cargo wrote one, else it is "unknown".

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = git_commit(&dir)
        .or_else(|| packaged_commit(&dir))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=EVALGATE_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=EVALGATE_BUILD_DATE={}", build_date());
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
    // Rebuild when HEAD moves; only paths that exist (a missing one would
    // rerun this script, and recompile the crate, on every build).
    for name in ["HEAD", "packed-refs"] {
        watch(&dir, &["rev-parse", "--git-path", name]);
    }
    if let Some(head_ref) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch(&dir, &["rev-parse", "--git-path", &head_ref]);
    }
    let vcs_info = dir.join(".cargo_vcs_info.json");
    if vcs_info.exists() {
        println!("cargo:rerun-if-changed={}", vcs_info.display());
    }
}

/// Run git in `dir`; `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn watch(dir: &Path, args: &[&str]) {
    if let Some(path) = git(dir, args) {
        let path = dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// The commit, only when this package is the root of its own checkout (a
/// package unpacked inside someone else's repository is not that commit).
fn git_commit(dir: &Path) -> Option<String> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    git(dir, &["rev-parse", "--short=12", "HEAD"])
}

/// `cargo package` records the commit in `.cargo_vcs_info.json`:
/// `{"git": {"sha1": "..."}, ...}`.
fn packaged_commit(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = &text[text.find("\"sha1\"")? + 6..];
    let start = after.find('"')? + 1;
    let sha: String = after[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .take(12)
        .collect();
    (sha.len() == 12).then_some(sha)
}

/// UTC date of the build, or of `SOURCE_DATE_EPOCH` for reproducible builds.
fn build_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
