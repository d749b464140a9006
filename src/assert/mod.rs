//! Answer checks: the `assert:` entries of a suite, compiled once at load
//! time and evaluated against every answer.
//!
//! `check` compiles and evaluates one check, `judge` speaks the grader
//! protocol for `judge` checks, and `score` turns check results into a case
//! verdict.

mod check;
mod eval;
mod judge;
mod score;
mod tools;

pub use check::{compile, Answer, Check};
pub use judge::{judge_messages, parse_verdict, JUDGE_SYSTEM};
pub use score::{failed_summary, score};

#[cfg(test)]
mod tests;
