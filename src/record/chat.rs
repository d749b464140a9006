//! The chat vocabulary shared by the suite, the gateway client, the checks
//! and the records: messages (text or content parts with images, assistant
//! turns with tool calls, tool results), tool definitions, `tool_choice`,
//! `response_format`, sampling parameters, and the tool calls an answer made.
//!
//! Plain data, no I/O. Each type serializes to its OpenAI wire form, so the
//! client sends them as they are. Image bytes live only in the data URL sent
//! on the wire: `Debug` and every output name an image by path and sha256.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// One chat message as sent to the gateway.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Message {
    pub role: String,
    pub content: Content,
    /// An assistant turn's earlier tool calls (`tool_calls` on the wire).
    pub tool_calls: Vec<AssistantToolCall>,
    /// A `role: tool` message answers this call.
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A plain text message.
    pub fn text(role: &str, content: impl Into<String>) -> Message {
        Message {
            role: role.to_string(),
            content: Content::Text(content.into()),
            ..Message::default()
        }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("role", &self.role)?;
        if self.tool_calls.is_empty() || !self.content.is_empty() {
            m.serialize_entry("content", &self.content)?;
        } else {
            // An assistant turn that only called tools has no content.
            m.serialize_entry("content", &Value::Null)?;
        }
        if !self.tool_calls.is_empty() {
            m.serialize_entry("tool_calls", &self.tool_calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            m.serialize_entry("tool_call_id", id)?;
        }
        m.end()
    }
}

/// A message's content: a string, or a list of text and image parts.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

impl Default for Content {
    fn default() -> Self {
        Content::Text(String::new())
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_string())
    }
}

impl Content {
    /// The text of the message (text parts joined with a newline).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Content::Text(t) => Cow::Borrowed(t),
            Content::Parts(parts) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::Text(t) => Some(t.as_str()),
                        Part::Image(_) => None,
                    })
                    .collect();
                Cow::Owned(texts.join("\n"))
            }
        }
    }

    /// Whether there is no text and no part.
    pub fn is_empty(&self) -> bool {
        match self {
            Content::Text(t) => t.is_empty(),
            Content::Parts(p) => p.is_empty(),
        }
    }

    /// The images of this content.
    pub fn images(&self) -> impl Iterator<Item = &Image> {
        let parts: &[Part] = match self {
            Content::Text(_) => &[],
            Content::Parts(p) => p,
        };
        parts.iter().filter_map(|p| match p {
            Part::Image(i) => Some(i),
            Part::Text(_) => None,
        })
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Text(t) => s.serialize_str(t),
            Content::Parts(parts) => {
                let mut seq = s.serialize_seq(Some(parts.len()))?;
                for p in parts {
                    seq.serialize_element(p)?;
                }
                seq.end()
            }
        }
    }
}

/// One content part.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Text(String),
    Image(Image),
}

impl Serialize for Part {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        match self {
            Part::Text(t) => {
                m.serialize_entry("type", "text")?;
                m.serialize_entry("text", t)?;
            }
            Part::Image(img) => {
                m.serialize_entry("type", "image_url")?;
                m.serialize_entry(
                    "image_url",
                    &ImageUrl {
                        url: &img.url,
                        detail: img.detail.as_deref(),
                    },
                )?;
            }
        }
        m.end()
    }
}

#[derive(Serialize)]
struct ImageUrl<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

/// An image part: a local file sent as a `data:` URL, or a URL passed through.
#[derive(Clone, PartialEq)]
pub struct Image {
    /// What goes on the wire: `data:image/png;base64,...` or the URL given.
    /// Shared, so a case's image is not copied per request.
    pub url: Arc<str>,
    /// `low`, `high` or `auto`.
    pub detail: Option<String>,
    /// Where a `data:` URL came from; `None` for a URL passed through.
    pub file: Option<ImageFile>,
}

/// A local image file as outputs name it (never its bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFile {
    /// The path as written in the suite.
    pub path: String,
    /// sha256 hex of the file's bytes.
    pub sha256: String,
    pub media_type: String,
    pub bytes: u64,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Image");
        match &self.file {
            Some(file) => d.field("file", file),
            None => d.field("url", &self.url),
        };
        d.field("detail", &self.detail).finish()
    }
}

/// A tool call of an earlier assistant turn, given in the suite.
#[derive(Clone, Debug, PartialEq)]
pub struct AssistantToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as a JSON text (the wire form).
    pub arguments: String,
}

impl Serialize for AssistantToolCall {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry(
            "function",
            &serde_json::json!({"name": self.name, "arguments": self.arguments}),
        )?;
        m.end()
    }
}

/// A function tool the model may call.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: Option<Value>,
    pub strict: Option<bool>,
}

impl Serialize for Tool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut f = Map::new();
        f.insert("name".into(), Value::String(self.name.clone()));
        if let Some(d) = &self.description {
            f.insert("description".into(), Value::String(d.clone()));
        }
        if let Some(p) = &self.parameters {
            f.insert("parameters".into(), p.clone());
        }
        if let Some(strict) = self.strict {
            f.insert("strict".into(), Value::Bool(strict));
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry("function", &f)?;
        m.end()
    }
}

/// `tool_choice`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    /// Force this function.
    Function(String),
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::None => s.serialize_str("none"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Function(name) => {
                serde_json::json!({"type": "function", "function": {"name": name}}).serialize(s)
            }
        }
    }
}

/// `response_format`.
#[derive(Clone, Debug, PartialEq)]
pub enum ResponseFormat {
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        strict: Option<bool>,
    },
}

impl ResponseFormat {
    /// `json_object` or `json_schema`.
    pub fn kind(&self) -> &'static str {
        match self {
            ResponseFormat::JsonObject => "json_object",
            ResponseFormat::JsonSchema { .. } => "json_schema",
        }
    }
}

impl Serialize for ResponseFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ResponseFormat::JsonObject => serde_json::json!({"type": "json_object"}).serialize(s),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => {
                let mut js = Map::new();
                js.insert("name".into(), Value::String(name.clone()));
                js.insert("schema".into(), schema.clone());
                if let Some(strict) = strict {
                    js.insert("strict".into(), Value::Bool(*strict));
                }
                serde_json::json!({"type": "json_schema", "json_schema": js}).serialize(s)
            }
        }
    }
}

/// `stop`: one sequence or several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

/// Sampling and request parameters (`params:`, `model_params:`). Unknown
/// names are refused (with a did-you-mean); anything else goes in `extra_body`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// `minimal`, `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Merged into the request body as is, for anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_body: Option<Map<String, Value>>,
}

impl Params {
    /// `self` with every parameter `over` sets replacing it (`extra_body`
    /// merged key by key).
    pub fn merged(&self, over: &Params) -> Params {
        let extra_body = match (&self.extra_body, &over.extra_body) {
            (Some(a), Some(b)) => {
                let mut m = a.clone();
                m.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                Some(m)
            }
            (a, b) => b.clone().or_else(|| a.clone()),
        };
        Params {
            temperature: over.temperature.or(self.temperature),
            top_p: over.top_p.or(self.top_p),
            max_tokens: over.max_tokens.or(self.max_tokens),
            seed: over.seed.or(self.seed),
            stop: over.stop.clone().or_else(|| self.stop.clone()),
            presence_penalty: over.presence_penalty.or(self.presence_penalty),
            frequency_penalty: over.frequency_penalty.or(self.frequency_penalty),
            reasoning_effort: over
                .reasoning_effort
                .clone()
                .or_else(|| self.reasoning_effort.clone()),
            extra_body,
        }
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        *self == Params::default()
    }
}

/// One tool call an answer made, assembled from the stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The parsed JSON arguments; the raw text when it is not valid JSON.
    pub arguments: Value,
    /// Why `arguments` is the raw text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ToolCall {
    /// A call from its id, name and the arguments text as streamed.
    pub fn from_raw(id: String, name: String, raw: String) -> ToolCall {
        let text = if raw.trim().is_empty() { "{}" } else { &raw };
        match serde_json::from_str::<Value>(text) {
            Ok(arguments) => ToolCall {
                id,
                name,
                arguments,
                error: None,
            },
            Err(e) => ToolCall {
                id,
                name,
                arguments: Value::String(raw),
                error: Some(format!("arguments are not valid JSON: {e}")),
            },
        }
    }

    /// `name({...})`, for reports.
    pub fn display(&self) -> String {
        let args = match &self.arguments {
            Value::String(raw) if self.error.is_some() => raw.clone(),
            v => v.to_string(),
        };
        match &self.error {
            Some(e) => format!("{}({args}) [{e}]", self.name),
            None => format!("{}({args})", self.name),
        }
    }
}

#[cfg(test)]
mod tests;
