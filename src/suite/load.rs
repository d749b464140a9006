//! Entry points: read a suite file, parse it, and list its problems.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::build::build;
use super::error::{from_serde, SuiteError};
use super::raw::RawSuite;
use super::types::Suite;

/// Read and parse the suite at `path`.
pub fn load(path: &Path) -> Result<Suite, SuiteError> {
    let src = std::fs::read_to_string(path).map_err(|error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&src, path)
}

/// Parse suite text; `path` is used in messages and kept on the suite.
/// Returns the first problem; see [`errors`] for all of them.
pub fn parse(src: &str, path: &Path) -> Result<Suite, SuiteError> {
    parse_all(src, path).map_err(|mut list| list.swap_remove(0))
}

/// Every problem found in the suite text (empty when it is valid), for
/// `evalgate validate`. A YAML or schema error stops the scan, so it is
/// reported alone.
pub fn errors(src: &str, path: &Path) -> Vec<SuiteError> {
    parse_all(src, path).err().unwrap_or_default()
}

fn parse_all(src: &str, path: &Path) -> Result<Suite, Vec<SuiteError>> {
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
                    .and_then(|v| match v {
                        serde_yaml::Value::String(s) => Some(s.clone()),
                        serde_yaml::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
            };
            return Err(vec![from_serde(&e, path.to_path_buf(), &case_id)]);
        }
    };
    build(raw, src, path, hash)
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
