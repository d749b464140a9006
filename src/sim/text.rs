//! Deterministic text and hashing helpers for the sim.
//!
//! Everything here is stable across runs and Rust versions (no `DefaultHasher`),
//! so the same seed and prompt give the same answer on every machine.

/// FNV-1a over bytes, finished with splitmix64 for good bit spread.
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

/// Combine several values into one well-mixed hash.
pub fn hash_parts(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x243F_6A88_85A3_08D3u64, |acc, p| mix(acc ^ mix(*p)))
}

/// splitmix64 finaliser.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash mapped to `[0, 1)`.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Append `s` to `out` as the inside of a JSON string (no surrounding quotes).
pub fn push_json_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => out.push_str(&format!("\\u{b:04x}")),
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Lower-case words answers are made of.
const WORDS: &[&str] = &[
    "the",
    "model",
    "answer",
    "request",
    "token",
    "latency",
    "router",
    "service",
    "data",
    "value",
    "result",
    "system",
    "user",
    "network",
    "setting",
    "option",
    "support",
    "order",
    "window",
    "policy",
    "simple",
    "quick",
    "stable",
    "clear",
    "small",
    "large",
    "useful",
    "first",
    "next",
    "each",
    "every",
    "other",
    "is",
    "are",
    "can",
    "will",
    "should",
    "may",
    "returns",
    "shows",
    "keeps",
    "uses",
    "sends",
    "reads",
    "checks",
    "needs",
    "helps",
    "makes",
    "and",
    "or",
    "but",
    "with",
    "for",
    "from",
    "into",
    "over",
    "after",
    "before",
    "when",
    "if",
    "to",
    "of",
    "in",
    "on",
    "by",
    "as",
    "at",
    "this",
    "that",
    "these",
    "it",
    "its",
    "a",
    "an",
    "reset",
    "button",
    "seconds",
    "days",
    "refund",
    "account",
    "device",
    "update",
    "cost",
    "price",
    "step",
    "steps",
    "then",
    "again",
    "usually",
    "often",
    "always",
    "quickly",
    "carefully",
    "directly",
    "gateway",
    "stream",
    "provider",
    "cache",
    "budget",
    "report",
];

/// Capitalised words that open a sentence.
const STARTERS: &[&str] = &[
    "The", "This", "It", "We", "In", "Each", "Our", "A", "Most", "Then", "First", "Usually",
];

/// Produces answer words one chunk at a time from a seeded hash stream.
///
/// Chunk 0 has no leading space; later chunks start with one; a sentence
/// ends with a period every 5–13 words.
#[derive(Debug, Clone)]
pub struct WordStream {
    state: u64,
    index: u64,
    left_in_sentence: u64,
}

impl WordStream {
    /// A stream seeded from `seed`.
    pub fn new(seed: u64) -> Self {
        WordStream {
            state: seed,
            index: 0,
            left_in_sentence: 0,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Append the next chunk (already JSON-safe: the word lists need no escaping).
    pub fn push_next(&mut self, out: &mut String) {
        let r = self.next_u64();
        if self.index > 0 {
            out.push(' ');
        }
        if self.left_in_sentence == 0 {
            out.push_str(STARTERS[(r % STARTERS.len() as u64) as usize]);
            self.left_in_sentence = 5 + (r >> 32) % 9;
        } else {
            out.push_str(WORDS[(r % WORDS.len() as u64) as usize]);
            self.left_in_sentence -= 1;
            if self.left_in_sentence == 0 {
                out.push('.');
            }
        }
        self.index += 1;
    }
}

/// Split text into word chunks whose concatenation is exactly the text:
/// each chunk is the whitespace before a word plus the word.
pub fn word_chunks(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    for c in text.chars() {
        if c.is_whitespace() && in_word {
            chunks.push(std::mem::take(&mut current));
            in_word = false;
        }
        if !c.is_whitespace() {
            in_word = true;
        }
        current.push(c);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Format a non-negative amount given in units of `10^-scale` as a plain
/// decimal string without trailing zeros (`1250000, 12` → `"0.00000125"`).
pub fn decimal(units: u128, scale: u32) -> String {
    let div = 10u128.pow(scale);
    let whole = units / div;
    let frac = units % div;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = scale as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests;
