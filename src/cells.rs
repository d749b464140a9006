//! Text that leaves evalgate for other programs: CSV cells a spreadsheet
//! cannot run as formulas, and ids without characters that hide or reorder
//! text.
//!
//! CSV: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
//! is a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV
//! injection"); it is written with a leading `'`, which spreadsheets show
//! as text. Numbers are left alone (a negative number is a number). The
//! escape is reversible: a cell that already starts with `'` followed by
//! such a cell gets one more `'`, and [`csv_uncell`] removes exactly one, so
//! evalgate reads back what it wrote.
//!
//! Ids: NUL and the bidirectional overrides and isolates (U+202A–U+202E,
//! U+2066–U+2069) make an id display as something else (`safe\u{202E}gnp.exe`
//! reads as `safeexe.png`); [`clean_id`] removes them.

use std::borrow::Cow;

/// Leading characters that make a spreadsheet cell a formula.
fn formula_start(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// `'` followed by (more `'` and) a formula start.
fn quoted_formula(s: &str) -> bool {
    let rest = s.trim_start_matches('\'');
    rest.len() < s.len() && formula_start(rest)
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `s` as a CSV cell no spreadsheet evaluates.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    if (formula_start(s) && !is_number(s)) || quoted_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The text a [`csv_cell`] was made from.
pub fn csv_uncell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_start(rest) || quoted_formula(rest) => rest,
        _ => s,
    }
}

/// Characters removed from ids: NUL, bidi embeddings/overrides, isolates.
fn hidden(c: char) -> bool {
    matches!(c, '\0' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `id` without NUL and bidi control characters.
pub fn clean_id(id: &str) -> Cow<'_, str> {
    if id.chars().any(hidden) {
        Cow::Owned(id.chars().filter(|&c| !hidden(c)).collect())
    } else {
        Cow::Borrowed(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_numbers_are_not() {
        for (raw, cell) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-inf", "'-inf"),
            ("'=x", "''=x"),
            ("''@x", "'''@x"),
        ] {
            assert_eq!(csv_cell(raw), cell, "{raw:?}");
        }
        for same in [
            "-1.5", "+3", "-0", "1e-3", "plain", "'quoted'", "", "a=b", "'",
        ] {
            assert_eq!(csv_cell(same), same, "{same:?}");
        }
    }

    #[test]
    fn reading_back_gives_what_was_written() {
        for raw in [
            "=cmd", "'=cmd", "''=cmd", "-1.5", "-x", "'-x", "'", "''", "'plain", "plain", "", "@",
            "'-", "'-1",
        ] {
            assert_eq!(csv_uncell(&csv_cell(raw)), raw, "{raw:?}");
        }
    }

    #[test]
    fn ids_lose_nul_and_bidi_controls() {
        assert_eq!(clean_id("safe\u{202E}gnp.exe\0x"), "safegnp.exex");
        assert_eq!(
            clean_id("a\u{202A}\u{202B}\u{202C}\u{202D}\u{2066}\u{2067}\u{2068}\u{2069}b"),
            "ab"
        );
        assert!(matches!(clean_id("openai/gpt-5"), Cow::Borrowed(_)));
        assert_eq!(
            clean_id("日本\u{200F}"),
            "日本\u{200F}",
            "marks are not overrides"
        );
    }
}
