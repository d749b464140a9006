//! The simulated gateway: an OpenAI-compatible server on loopback that
//! `evalgate run --sim` and the tests talk to over real HTTP.
//!
//! It shares no parsing code with the client (`crate::gateway`), so a bug in
//! one cannot hide behind the same bug in the other. This module only
//! declares and re-exports; see each file for its concern.

mod catalog;
mod chat;
mod config;
mod faults;
mod generation;
mod judge;
mod profile;
mod server;
mod stats;
mod stream;
mod text;
mod tools;

pub use catalog::{catalog_json, known, price_string, Known};
pub use config::{split_model_id, Fault, FaultParseError, FaultRule, SimConfig, HTTP_FAULTS};
pub use generation::{FALLBACK_SUFFIX, MIN_CACHE_TOKENS, RECORD_CAPACITY};
pub use profile::{profile_for, AnswerKind, PriceTier, Prices, Profile, NAMED};
pub use server::{serve, start, SimServer};
pub use stats::{ImageSeen, RequestStat, StatsSnapshot, TtftSummary, WireSeen, RING_CAPACITY};
