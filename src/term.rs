//! Terminal width and fitting text into it: the width the tables and the
//! progress line are drawn for, and model ids shortened in the middle (the
//! creator and the version at the end are what tell ids apart).

use std::io::IsTerminal;

/// Width assumed when neither `COLUMNS` nor the terminal says.
pub const DEFAULT_WIDTH: usize = 80;
/// Narrowest width honoured (below it, lines would hold nothing useful).
const MIN_WIDTH: usize = 40;

/// Columns available on standard output: `COLUMNS` when set (so tests and
/// scripts can fix it), else the terminal's width, else 80.
pub fn width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|w| *w > 0);
    from_env
        .or_else(tty_width)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

#[cfg(unix)]
fn tty_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() && !std::io::stderr().is_terminal() {
        return None;
    }
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we own.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
            return Some(usize::from(ws.ws_col));
        }
    }
    None
}

#[cfg(not(unix))]
fn tty_width() -> Option<usize> {
    None
}

/// `text` in at most `max` characters: unchanged when it fits, else its
/// start and end joined by `…` (never wrapped).
pub fn shorten_middle(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    let keep = max - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// `text` cut to `max` characters with a trailing `…` when longer.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` broken at spaces into lines of at most `width` columns, each
/// starting with `indent` (a word longer than a line gets a line of its own).
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        let fits = columns(&line) + 1 + columns(word) <= width;
        if line.len() > indent.len() && !fits {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        lines.push(line);
    }
    lines
}

/// Display width of `text` in terminal columns (one per character: the
/// tables hold no wide characters).
pub fn columns(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_in_the_middle_and_keeps_short_text() {
        assert_eq!(shorten_middle("openai/gpt-5", 20), "openai/gpt-5");
        let s = shorten_middle("sim/ttft-120-itl-1-tok-4-jitter-0.3", 16);
        assert_eq!(s, "sim/ttft…ter-0.3");
        assert_eq!(columns(&s), 16);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(
            wrap("a, bb, ccc, dd", 8, "  "),
            ["  a, bb,", "  ccc,", "  dd"]
        );
    }
}
