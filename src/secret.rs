//! The API key, kept in memory only: `Debug` and `Display` print a
//! placeholder, so no log line, error or debug print can leak it.

/// A secret string that refuses to be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        ApiKey(value.into())
    }

    /// The raw value, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replace every occurrence of the key in `text` (for messages that echo
    /// request data back, such as a gateway error quoting a header).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let k = ApiKey::new("sk-secret-123");
        assert!(!format!("{k:?} {k} {k:#?}").contains("sk-secret"));
        assert_eq!(k.scrub("bad key sk-secret-123!"), "bad key [redacted]!");
    }
}
