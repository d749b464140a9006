//! Answer checks.
