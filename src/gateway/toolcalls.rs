//! Streaming tool calls: the `delta.tool_calls` entries of one chunk
//! (borrowed from the payload) and their assembly into complete calls.
//!
//! On the wire each call is keyed by `index`; its `id` and `function.name`
//! arrive once, its `function.arguments` as string fragments over many
//! chunks, and parallel calls interleave. The assembler appends each
//! fragment to its call by index, so any interleaving and any split gives
//! the same calls. A stream without tool calls never touches this code.

use std::borrow::Cow;

use serde::Deserialize;

use crate::record::ToolCall;

/// Most calls kept from one answer.
const MAX_CALLS: usize = 128;
/// Longest arguments text kept per call.
const MAX_ARGUMENTS: usize = 4 * 1024 * 1024;

/// One entry of `delta.tool_calls`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ToolCallDelta<'a> {
    /// Which call this fragment belongs to; absent from some gateways when
    /// there is only one call.
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(borrow, default)]
    pub id: Option<Piece<'a>>,
    #[serde(borrow, default)]
    pub function: Option<FunctionDelta<'a>>,
}

/// `function` of a tool-call delta.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    pub name: Option<Piece<'a>>,
    #[serde(borrow, default)]
    pub arguments: Option<Piece<'a>>,
}

/// A string borrowed from the payload when it has no escapes.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Piece<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl ToolCallDelta<'_> {
    /// Whether this fragment carries anything (an id, a name or arguments).
    pub fn has_data(&self) -> bool {
        let f = self.function.as_ref();
        self.id.as_ref().is_some_and(|p| !p.0.is_empty())
            || f.and_then(|f| f.name.as_ref())
                .is_some_and(|p| !p.0.is_empty())
            || f.and_then(|f| f.arguments.as_ref())
                .is_some_and(|p| !p.0.is_empty())
    }
}

/// Calls being assembled, in order of first appearance.
#[derive(Debug, Default)]
pub struct ToolCallAssembler {
    calls: Vec<Partial>,
}

#[derive(Debug)]
struct Partial {
    index: u32,
    id: String,
    name: String,
    arguments: String,
    cut: bool,
}

impl ToolCallAssembler {
    /// Take the `tool_calls` entries of one chunk; `position` is the entry's
    /// place in the array (used when a gateway sends no `index`).
    pub fn add(&mut self, position: usize, d: &ToolCallDelta<'_>) {
        let index = d.index.unwrap_or(position as u32);
        let slot = match self.calls.iter().position(|c| c.index == index) {
            Some(i) => i,
            None => {
                if self.calls.len() >= MAX_CALLS {
                    return;
                }
                self.calls.push(Partial {
                    index,
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                    cut: false,
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[slot];
        // `id` and `name` arrive once; a gateway that repeats them in every
        // fragment must not make them grow.
        if let Some(id) = &d.id {
            if call.id.is_empty() {
                call.id.push_str(&id.0);
            }
        }
        if let Some(f) = &d.function {
            if let Some(name) = &f.name {
                if call.name.is_empty() {
                    call.name.push_str(&name.0);
                }
            }
            if let Some(args) = &f.arguments {
                if call.arguments.len() + args.0.len() > MAX_ARGUMENTS {
                    call.cut = true;
                } else {
                    call.arguments.push_str(&args.0);
                }
            }
        }
    }

    /// Whether no call was seen.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The complete calls, by index, arguments parsed.
    pub fn finish(self) -> Vec<ToolCall> {
        let mut calls = self.calls;
        calls.sort_by_key(|c| c.index);
        calls
            .into_iter()
            .map(|c| {
                let mut call = ToolCall::from_raw(c.id, c.name, c.arguments);
                if c.cut {
                    call.error = Some(format!(
                        "arguments longer than {} MiB were cut",
                        MAX_ARGUMENTS / (1024 * 1024)
                    ));
                }
                call
            })
            .collect()
    }
}
