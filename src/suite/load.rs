//! Entry points: read a suite file, parse it, and list its problems.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::build::build;
use super::error::{from_serde, SuiteError};
use super::raw::RawSuite;
use super::types::Suite;

/// Limits applied while loading a suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Largest local image file (`--max-image-mb`).
    pub max_image_bytes: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_image_bytes: super::media::DEFAULT_MAX_IMAGE_BYTES,
        }
    }
}

/// Largest suite file read.
const MAX_SUITE_FILE: u64 = 16 * 1024 * 1024;

/// Read and parse the suite at `path` with the default limits.
pub fn load(path: &Path) -> Result<Suite, SuiteError> {
    load_with(path, &LoadOptions::default())
}

/// Read and parse the suite at `path`.
pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Suite, SuiteError> {
    let src = read(path)?;
    parse_all(&src, path, opts).map_err(|mut list| list.swap_remove(0))
}

/// The suite file's text, size-limited.
pub fn read(path: &Path) -> Result<String, SuiteError> {
    let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_SUITE_FILE);
    if too_big {
        return Err(SuiteError::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: format!(
                "the file is over {} MB: put rows in a data file (`cases_from:`)",
                MAX_SUITE_FILE / (1024 * 1024)
            ),
        });
    }
    std::fs::read_to_string(path).map_err(|error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    })
}

/// Parse suite text; `path` is used in messages and kept on the suite
/// (files it names are relative to its directory).
/// Returns the first problem; see [`errors`] for all of them.
pub fn parse(src: &str, path: &Path) -> Result<Suite, SuiteError> {
    parse_all(src, path, &LoadOptions::default()).map_err(|mut list| list.swap_remove(0))
}

/// Every problem found in the suite text (empty when it is valid), for
/// `evalgate validate`. A YAML or schema error stops the scan, so it is
/// reported alone.
pub fn errors(src: &str, path: &Path, opts: &LoadOptions) -> Vec<SuiteError> {
    parse_all(src, path, opts).err().unwrap_or_default()
}

fn parse_all(src: &str, path: &Path, opts: &LoadOptions) -> Result<Suite, Vec<SuiteError>> {
    let hash = hex(&Sha256::digest(src.as_bytes()));
    if let Some(e) = empty_file(src, path) {
        return Err(vec![e]);
    }
    let raw: RawSuite = match serde_yaml::from_str(src) {
        Ok(raw) => raw,
        Err(e) => {
            // The untyped tree usually still parses; use it to name cases.
            let tree: Option<serde_yaml::Value> = serde_yaml::from_str(src).ok();
            let case_id = |i: usize| {
                tree.as_ref()?
                    .get("cases")?
                    .get(i)?
                    .get("id")
                    .or_else(|| {
                        tree.as_ref()?
                            .get("cases")?
                            .get(i)?
                            .get("cases_from")?
                            .get("file")
                    })
                    .and_then(|v| match v {
                        serde_yaml::Value::String(s) => Some(s.clone()),
                        serde_yaml::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
            };
            return Err(vec![from_serde(&e, path.to_path_buf(), &case_id)]);
        }
    };
    build(raw, src, path, hash, opts)
}

/// serde's message for an empty file is unhelpful; say what a suite needs.
fn empty_file(src: &str, path: &Path) -> Option<SuiteError> {
    let blank = src
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    blank.then(|| SuiteError::Invalid {
        path: path.to_path_buf(),
        line: None,
        message: "the file is empty: a suite needs at least `name:` and `cases:`".into(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
