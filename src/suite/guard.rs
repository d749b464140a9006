//! Limits checked before serde_yaml sees a suite: the file's size and how
//! deeply its lists and maps nest. serde_yaml's time grows with the square
//! of the nesting (a 400 KB file of nested flow mappings took minutes), so
//! the depth is measured first by a cheap scan of brackets and indentation
//! that knows quotes, comments and block scalars.

use std::io::Read;
use std::path::Path;

use super::error::SuiteError;

/// Largest suite file read.
pub(crate) const MAX_SUITE_BYTES: u64 = 8 << 20;
/// Deepest nesting of lists and maps (block and flow together) allowed.
pub(crate) const MAX_DEPTH: usize = 64;

/// Read the suite file, refusing one larger than [`MAX_SUITE_BYTES`].
pub(crate) fn read(path: &Path) -> Result<String, SuiteError> {
    let read_err = |error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    };
    let too_big = || {
        SuiteError::Invalid {
        path: path.to_path_buf(),
        line: None,
        message: format!(
            "the file is larger than {} MiB, far beyond any suite; check the path, or split the suite and move long texts out",
            MAX_SUITE_BYTES >> 20
        ),
    }
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    if file.metadata().map_err(read_err)?.len() > MAX_SUITE_BYTES {
        return Err(too_big());
    }
    // `take` bounds what a pipe or a growing file can hand over.
    let mut src = String::new();
    file.take(MAX_SUITE_BYTES + 1)
        .read_to_string(&mut src)
        .map_err(read_err)?;
    if src.len() as u64 > MAX_SUITE_BYTES {
        return Err(too_big());
    }
    Ok(src)
}

/// Refuse text nested deeper than [`MAX_DEPTH`], naming the first line
/// that goes past it.
pub(crate) fn check_depth(src: &str, path: &Path) -> Result<(), SuiteError> {
    match deepest_line(src) {
        Some(line) => Err(SuiteError::Invalid {
            path: path.to_path_buf(),
            line: Some(line),
            message: format!(
                "lists and maps are nested deeper than {MAX_DEPTH} levels here; a suite needs a handful: flatten this value"
            ),
        }),
        None => Ok(()),
    }
}

/// The 1-based line where nesting first exceeds [`MAX_DEPTH`], if any.
fn deepest_line(src: &str) -> Option<usize> {
    let mut s = Scan::default();
    for (n, line) in src.lines().enumerate() {
        if s.line(line) {
            return Some(n + 1);
        }
    }
    None
}

/// Scanner state carried from line to line.
#[derive(Default)]
struct Scan {
    /// Open `[` / `{`.
    flow: usize,
    /// Indentation of the enclosing block collections.
    indents: Vec<usize>,
    /// Block depth of the line that opened the current flow collection.
    block_depth: usize,
    /// Inside a block scalar (`|`, `>`) opened at this indentation.
    block_scalar: Option<usize>,
    /// Inside a quoted scalar that spans lines, with its quote.
    quote: Option<u8>,
}

impl Scan {
    /// Take one line; `true` when it nests too deep.
    fn line(&mut self, line: &str) -> bool {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let body = &bytes[indent..];
        if let Some(base) = self.block_scalar {
            if body.is_empty() || indent > base {
                return false;
            }
            self.block_scalar = None;
        }
        let mut i = 0;
        if self.flow == 0 && self.quote.is_none() {
            if body.is_empty() || body[0] == b'#' {
                return false;
            }
            while self.indents.last().is_some_and(|&top| top >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
            self.block_depth = self.indents.len();
            // Compact nested sequences: `- - - x`.
            while body[i..].starts_with(b"- ") {
                self.block_depth += 1;
                i += 2;
                while body.get(i) == Some(&b' ') {
                    i += 1;
                }
            }
            if self.block_depth > MAX_DEPTH {
                return true;
            }
        }
        self.rest(body, i, indent)
    }

    /// Scan `body[i..]` for quotes, comments, brackets and block scalars.
    fn rest(&mut self, body: &[u8], mut i: usize, indent: usize) -> bool {
        // Whether a new token (quote, bracket, block scalar) may start here.
        let mut token_start = i == 0 || self.flow > 0 || body[..i].ends_with(b" ");
        while i < body.len() {
            if let Some(q) = self.quote {
                i = close_quote(body, i, q).map_or(body.len(), |end| {
                    self.quote = None;
                    token_start = false;
                    end
                });
                continue;
            }
            let c = body[i];
            let after_space = i == 0 || body[i - 1] == b' ';
            match c {
                b'#' if after_space => return false,
                b' ' => {}
                b'"' | b'\'' if token_start => {
                    self.quote = Some(c);
                    i += 1;
                    continue;
                }
                b'[' | b'{' if token_start || self.flow > 0 => {
                    self.flow += 1;
                    if self.block_depth + self.flow > MAX_DEPTH {
                        return true;
                    }
                    token_start = true;
                    i += 1;
                    continue;
                }
                b']' | b'}' if self.flow > 0 => self.flow -= 1,
                b',' if self.flow > 0 => {
                    token_start = true;
                    i += 1;
                    continue;
                }
                b'|' | b'>' if token_start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    return false;
                }
                b':' | b'-' | b'?' => {
                    // `key: value`, `- item`, `? key`: a value may follow.
                    let next_blank = body.get(i + 1).is_none_or(|&b| b == b' ');
                    token_start = next_blank || (self.flow > 0 && c == b':');
                    i += 1;
                    continue;
                }
                _ => token_start = false,
            }
            i += 1;
        }
        false
    }
}

/// The index after the quote closing at or after `i`, if on this line
/// (`''` inside single quotes and `\"` inside double quotes are escapes).
fn close_quote(body: &[u8], mut i: usize, q: u8) -> Option<usize> {
    while i < body.len() {
        match body[i] {
            b'\\' if q == b'"' => i += 2,
            b if b == q => {
                if q == b'\'' && body.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_flow_and_block_nesting() {
        let flow = |n: usize| format!("a: {}1{}\n", "{b: ".repeat(n), "}".repeat(n));
        assert_eq!(deepest_line(&flow(60)), None);
        assert_eq!(deepest_line(&flow(64)), Some(1));
        let list = |n: usize| format!("x:\n  a: {}1{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(deepest_line(&list(61)), None);
        assert_eq!(deepest_line(&list(63)), Some(2));
        let mut block = String::new();
        for i in 0..70 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert_eq!(deepest_line(&block), Some(65));
        assert_eq!(deepest_line(&format!("{}x\n", "- ".repeat(70))), Some(1));
        // A flow collection over several lines.
        let multi = format!("a: [\n{}\n]\n", "[\n".repeat(70));
        assert!(deepest_line(&multi).is_some());
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        let text = format!(
            concat!(
                "p: \"{0}\"\n",
                "q: '{0} it''s'  # {{{{\n",
                "r: a[0] and {1}\n",
                "s: |\n  {0}\n  {1}\n",
                "t: >-\n    {1}\n",
                "u: [\"]]]\", '}}}}', x]\n",
                "v: \"multi\n  line {0}\"\n",
                "w: ok\n",
            ),
            "[".repeat(100),
            "{".repeat(100)
        );
        assert_eq!(deepest_line(&text), None, "{text}");
    }

    #[test]
    fn the_shipped_suites_pass() {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/suites")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            assert_eq!(deepest_line(&src), None, "{}", path.display());
        }
    }
}
