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
/// Longest id or name kept per call (real ones are a few dozen bytes).
const MAX_NAME: usize = 256;
/// What all calls of one answer may hold together when no answer limit is
/// given (the default of `--max-answer-bytes`).
const DEFAULT_LIMIT: usize = 4 * 1024 * 1024;

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

/// Calls being assembled, in order of first appearance. Everything kept
/// (ids, names, arguments of every call) shares one byte budget, so a
/// gateway streaming endless calls or arguments cannot grow memory past it.
#[derive(Debug)]
pub struct ToolCallAssembler {
    calls: Vec<Partial>,
    /// Bytes all calls may hold together.
    limit: usize,
    /// Bytes held so far.
    used: usize,
}

impl Default for ToolCallAssembler {
    fn default() -> Self {
        ToolCallAssembler::new(DEFAULT_LIMIT)
    }
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
    /// An assembler keeping at most `limit` bytes of ids, names and
    /// arguments over all calls (the answer limit, `--max-answer-bytes`).
    pub fn new(limit: usize) -> Self {
        ToolCallAssembler {
            calls: Vec::new(),
            limit,
            used: 0,
        }
    }

    /// Whether some call lost part of its id, name or arguments to the limit.
    pub fn truncated(&self) -> bool {
        self.calls.iter().any(|c| c.cut)
    }

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
        let room = self.limit - self.used;
        let call = &mut self.calls[slot];
        let before = call.id.len() + call.name.len() + call.arguments.len();
        // `id` and `name` arrive once; a gateway that repeats them in every
        // fragment must not make them grow.
        if let Some(id) = &d.id {
            if call.id.is_empty() {
                call.cut |= push_within(&mut call.id, &id.0, room.min(MAX_NAME));
            }
        }
        if let Some(f) = &d.function {
            if let Some(name) = &f.name {
                if call.name.is_empty() {
                    let left =
                        room - (call.id.len() + call.name.len() + call.arguments.len() - before);
                    call.cut |= push_within(&mut call.name, &name.0, left.min(MAX_NAME));
                }
            }
            if let Some(args) = &f.arguments {
                let left = room - (call.id.len() + call.name.len() + call.arguments.len() - before);
                call.cut |= push_within(&mut call.arguments, &args.0, left);
            }
        }
        self.used += call.id.len() + call.name.len() + call.arguments.len() - before;
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
                    call.error = Some(
                        "cut at the answer limit (--max-answer-bytes): the calls were longer"
                            .to_string(),
                    );
                }
                call
            })
            .collect()
    }
}

/// Append as much of `piece` to `buf` as `room` bytes allow, cut at a
/// character boundary; true when something was left out.
fn push_within(buf: &mut String, piece: &str, room: usize) -> bool {
    let mut take = piece.len().min(room);
    while !piece.is_char_boundary(take) {
        take -= 1;
    }
    buf.push_str(&piece[..take]);
    take < piece.len()
}
