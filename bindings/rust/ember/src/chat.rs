//! Chat: messages, chat templates and `Chat`, a conversation over a session.

use std::borrow::BorrowMut;
use std::ffi::CString;
use std::fmt;
use std::mem::ManuallyDrop;
use std::os::raw::c_char;
use std::ptr::{self, NonNull};

use ember_sys as sys;

use crate::buffers::{c_string, read_text, read_value};
use crate::error::{check, cstr_lossy, Error, ErrorKind, Result};
use crate::generate::{CallState, Callbacks, GenerateParams, GenerateStats};
use crate::session::Session;

/// One message of a conversation: `role` ("system", "user", "assistant",
/// "tool", ...) and `content`. Richer messages (tool calls, tool results)
/// go through the JSON forms ([`Chat::generate_json`], [`render_chat_template_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// Who speaks.
    pub role: String,
    /// What they say.
    pub content: String,
}

impl Message {
    /// A message of `role` with `content`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Message {
        Message { role: role.into(), content: content.into() }
    }

    /// A "system" message.
    pub fn system(content: impl Into<String>) -> Message {
        Message::new("system", content)
    }

    /// A "user" message.
    pub fn user(content: impl Into<String>) -> Message {
        Message::new("user", content)
    }

    /// An "assistant" message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message::new("assistant", content)
    }

    /// This message as a JSON object: `{"role": "...", "content": "..."}`.
    pub fn to_json(&self) -> String {
        format!("{{\"role\": {}, \"content\": {}}}", json_string(&self.role), json_string(&self.content))
    }
}

/// `messages` as an OpenAI-style JSON array, the form [`Chat::generate_json`] takes.
pub fn messages_to_json(messages: &[Message]) -> String {
    let items: Vec<String> = messages.iter().map(Message::to_json).collect();
    format!("[{}]", items.join(", "))
}

/// `s` as a JSON string literal (quoted and escaped).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// C strings of messages and the `ember_chat_message` array pointing into them.
pub(crate) fn raw_messages(messages: &[Message], place: &str) -> Result<(Vec<CString>, Vec<sys::ember_chat_message>)> {
    let mut keep = Vec::with_capacity(messages.len() * 2);
    for m in messages {
        keep.push(c_string(&m.role, place, "a message role")?);
        keep.push(c_string(&m.content, place, "a message content")?);
    }
    // CStrings own heap buffers: the pointers stay valid as `keep` moves.
    let raw = keep
        .chunks_exact(2)
        .map(|pair| sys::ember_chat_message { role: pair[0].as_ptr(), content: pair[1].as_ptr() })
        .collect();
    Ok((keep, raw))
}

/// Renders a Jinja chat template as Hugging Face transformers'
/// `apply_chat_template` does, with `messages`, `add_generation_prompt`,
/// `bos_token` and `eos_token` (byte for byte).
///
/// A template that does not parse or raises is an
/// [`ErrorKind::InvalidArgument`] giving the template's line.
pub fn render_chat_template(
    template: &str,
    messages: &[Message],
    add_generation_prompt: bool,
    bos_token: &str,
    eos_token: &str,
) -> Result<String> {
    const PLACE: &str = "ember::render_chat_template";
    let tmpl = c_string(template, PLACE, "the template")?;
    let bos = c_string(bos_token, PLACE, "bos_token")?;
    let eos = c_string(eos_token, PLACE, "eos_token")?;
    let (_keep, raw) = raw_messages(messages, PLACE)?;
    read_text(4096, |b, n, out| {
        // SAFETY: every pointer refers to storage alive through the call.
        unsafe {
            sys::ember_render_chat_template(
                tmpl.as_ptr(),
                raw.as_ptr(),
                raw.len(),
                add_generation_prompt,
                bos.as_ptr(),
                eos.as_ptr(),
                b,
                n,
                out,
            )
        }
    })
}

/// Renders a Jinja chat template with every variable taken from a JSON
/// object, e.g. `{"messages": [...], "tools": [...], "add_generation_prompt": true, "bos_token": "<s>"}`.
pub fn render_chat_template_json(template: &str, context_json: &str) -> Result<String> {
    const PLACE: &str = "ember::render_chat_template_json";
    let tmpl = c_string(template, PLACE, "the template")?;
    let ctx = c_string(context_json, PLACE, "the context JSON")?;
    // SAFETY: both strings live through the call.
    read_text(4096, |b, n, out| unsafe { sys::ember_render_chat_template_json(tmpl.as_ptr(), ctx.as_ptr(), b, n, out) })
}

/// Why a chat reply ended (OpenAI's `finish_reason`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// An end of turn or a stop string.
    Stop,
    /// n_predict tokens or a full context.
    Length,
    /// The reply is tool calls.
    ToolCalls,
    /// A callback or a cancel stopped it.
    Cancelled,
    /// A reason this binding does not know (a newer library).
    Other(String),
}

impl FinishReason {
    fn parse(s: &str) -> FinishReason {
        match s {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "cancelled" => FinishReason::Cancelled,
            other => FinishReason::Other(other.to_owned()),
        }
    }

    /// The library's text: "stop", "length", "tool_calls" or "cancelled".
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Cancelled => "cancelled",
            FinishReason::Other(s) => s,
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tool call of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The call's id (to answer it with a "tool" message).
    pub id: String,
    /// The function's name.
    pub name: String,
    /// The arguments, a JSON object as text.
    pub arguments: String,
}

/// An assistant turn from [`Chat::generate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChatReply {
    /// The reply's text, without tool calls.
    pub content: String,
    /// Tool calls the reply made (only when tools were given).
    pub tool_calls: Vec<ToolCall>,
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// The reply as an OpenAI assistant message, ready to append to the
    /// messages of the next turn: `{"role": "assistant", "content": ..., "tool_calls": [...]}`.
    pub json: String,
    /// Figures of the generation.
    pub stats: GenerateStats,
}

/// A conversation over a session: messages are rendered with the model's
/// chat template (or the one given), generated from with the template's
/// end-of-turn tokens as stops, and the reply is split into content and tool
/// calls. Each turn reuses the KV cache for the prefix it shares with the
/// previous one (sequence 0 of the session).
///
/// `S` is the session, owned (`Chat<Session>`) or borrowed
/// (`Chat<&mut Session>`); like a session, a chat is used by one thread at a
/// time. The session's [`crate::CancelHandle`] cancels a running turn.
pub struct Chat<S: BorrowMut<Session>> {
    raw: NonNull<sys::ember_chat>,
    session: ManuallyDrop<S>,
}

// SAFETY: the chat is used by one thread at a time like its session; moving
// it (with its session) to another thread is what a Session allows.
unsafe impl<S: BorrowMut<Session> + Send> Send for Chat<S> {}

impl<S: BorrowMut<Session>> Chat<S> {
    /// A chat over `session` with the model's chat template (ChatML, with a
    /// warning in the log, when the file has none).
    pub fn new(session: S) -> Result<Chat<S>> {
        Self::create(session, None)
    }

    /// A chat over `session` with the Jinja template `template`. A template
    /// that does not parse is an [`ErrorKind::InvalidArgument`] naming its line.
    pub fn with_template(session: S, template: &str) -> Result<Chat<S>> {
        Self::create(session, Some(template))
    }

    fn create(mut session: S, template: Option<&str>) -> Result<Chat<S>> {
        let tmpl = template.map(|t| c_string(t, "ember::Chat::new", "the template")).transpose()?;
        let mut out: *mut sys::ember_chat = ptr::null_mut();
        {
            let s: &mut Session = session.borrow_mut();
            let _guard = s.inner().acquire();
            let tmpl_ptr = tmpl.as_ref().map_or(ptr::null(), |t| t.as_ptr());
            // SAFETY: the session is live and ours; the template lives through the call.
            check(unsafe { sys::ember_chat_create(s.as_ptr(), tmpl_ptr, &mut out) })?;
        }
        let raw = NonNull::new(out).ok_or_else(|| {
            Error::new(ErrorKind::Internal, "[ember::Chat::new] the library returned EMBER_OK and no chat")
        })?;
        Ok(Chat { raw, session: ManuallyDrop::new(session) })
    }

    /// The session the chat runs on.
    pub fn session(&self) -> &Session {
        (*self.session).borrow()
    }

    /// Ends the chat and gives the session back.
    pub fn into_session(self) -> S {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the chat is freed once here and `this` is never dropped;
        // the session is taken out exactly once.
        unsafe {
            sys::ember_chat_free(this.raw.as_ptr());
            ManuallyDrop::take(&mut this.session)
        }
    }

    /// True when the model has no chat template and ChatML is used instead.
    pub fn uses_fallback_template(&self) -> Result<bool> {
        let c = self.raw.as_ptr();
        // SAFETY: the chat is live; the out pointer valid.
        read_value(|o| unsafe { sys::ember_chat_uses_fallback_template(c, o) })
    }

    /// The prompt text the template gives for `messages_json` (and
    /// `tools_json`, an OpenAI "tools" array), without generating.
    pub fn render_json(
        &self,
        messages_json: &str,
        tools_json: Option<&str>,
        add_generation_prompt: bool,
    ) -> Result<String> {
        const PLACE: &str = "ember::Chat::render_json";
        let msgs = c_string(messages_json, PLACE, "messages_json")?;
        let tools = tools_json.map(|t| c_string(t, PLACE, "tools_json")).transpose()?;
        let tools_ptr = tools.as_ref().map_or(ptr::null(), |t| t.as_ptr());
        let c = self.raw.as_ptr();
        read_text(4096, |b, n, out| {
            // SAFETY: the chat is live; the strings live through the call.
            unsafe { sys::ember_chat_render_json(c, msgs.as_ptr(), tools_ptr, add_generation_prompt, b, n, out) }
        })
    }

    /// The prompt text the template gives for `messages`, without generating.
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String> {
        self.render_json(&messages_to_json(messages), None, add_generation_prompt)
    }

    /// One assistant turn after `messages`. `params`: sampling, n_predict
    /// and stop strings as for [`Session::generate`] (add_special and
    /// parse_special are decided by the chat).
    pub fn generate(&mut self, messages: &[Message], params: &GenerateParams) -> Result<ChatReply> {
        self.generate_with(messages, params, Callbacks::new())
    }

    /// Like [`Chat::generate`], streaming the reply's pieces to `callbacks`.
    pub fn generate_with(
        &mut self,
        messages: &[Message],
        params: &GenerateParams,
        callbacks: Callbacks<'_>,
    ) -> Result<ChatReply> {
        let (_keep, raw_msgs) = raw_messages(messages, "ember::Chat::generate")?;
        self.turn(params, callbacks, |chat, p, stats| {
            // SAFETY: the chat is live and its session ours; every pointer
            // refers to storage alive through the call.
            unsafe { sys::ember_chat_generate(chat, raw_msgs.as_ptr(), raw_msgs.len(), p, stats) }
        })
    }

    /// One assistant turn after `messages_json`, an OpenAI-style JSON array
    /// (`[{"role": "user", "content": "..."}, {"role": "assistant", "tool_calls": [...]},
    /// {"role": "tool", "tool_call_id": "...", "content": "..."}]`), with
    /// `tools_json` an OpenAI "tools" array. With tools, the reply is parsed
    /// for tool calls (Hermes/Qwen, Llama 3.1, Mistral formats).
    pub fn generate_json(
        &mut self,
        messages_json: &str,
        tools_json: Option<&str>,
        params: &GenerateParams,
    ) -> Result<ChatReply> {
        self.generate_json_with(messages_json, tools_json, params, Callbacks::new())
    }

    /// Like [`Chat::generate_json`], streaming the reply's pieces to `callbacks`.
    pub fn generate_json_with(
        &mut self,
        messages_json: &str,
        tools_json: Option<&str>,
        params: &GenerateParams,
        callbacks: Callbacks<'_>,
    ) -> Result<ChatReply> {
        const PLACE: &str = "ember::Chat::generate_json";
        let msgs = c_string(messages_json, PLACE, "messages_json")?;
        let tools = tools_json.map(|t| c_string(t, PLACE, "tools_json")).transpose()?;
        let tools_ptr: *const c_char = tools.as_ref().map_or(ptr::null(), |t| t.as_ptr());
        self.turn(params, callbacks, |chat, p, stats| {
            // SAFETY: as in generate_with.
            unsafe { sys::ember_chat_generate_json(chat, msgs.as_ptr(), tools_ptr, p, stats) }
        })
    }

    fn turn(
        &mut self,
        params: &GenerateParams,
        mut callbacks: Callbacks<'_>,
        call: impl FnOnce(*mut sys::ember_chat, *const sys::ember_generate_params, *mut sys::ember_generate_stats) -> i32,
    ) -> Result<ChatReply> {
        let mut raw = params.to_raw("ember::Chat::generate")?;
        let mut stats = GenerateStats::empty_raw();
        {
            let session: &mut Session = (*self.session).borrow_mut();
            let guard = session.inner().acquire();
            let mut state = CallState::new(&mut callbacks, &guard.inner().stop_requested, false);
            state.install(&mut raw.raw);
            let status = call(self.raw.as_ptr(), &raw.raw, &mut stats);
            let result = check(status);
            if result.is_ok() {
                state.flush();
            }
            state.resume_panic();
            result?;
        }
        self.reply(GenerateStats::from_raw(&stats))
    }

    fn reply(&self, stats: GenerateStats) -> Result<ChatReply> {
        let c = self.raw.as_ptr();
        // SAFETY (each call): the chat is live, buffers sized as passed.
        let content = read_text(256, |b, n, out| unsafe { sys::ember_chat_reply_content(c, b, n, out) })?;
        let finish = unsafe { cstr_lossy(sys::ember_chat_reply_finish_reason(c)) };
        let n_calls: usize = read_value(|o| unsafe { sys::ember_chat_reply_n_tool_calls(c, o) })?;
        let mut tool_calls = Vec::with_capacity(n_calls);
        for i in 0..n_calls {
            let field = |f| read_text(64, |b, n, out| unsafe { sys::ember_chat_reply_tool_call(c, i, f, b, n, out) });
            tool_calls.push(ToolCall {
                id: field(sys::EMBER_TOOL_CALL_ID)?,
                name: field(sys::EMBER_TOOL_CALL_NAME)?,
                arguments: field(sys::EMBER_TOOL_CALL_ARGUMENTS)?,
            });
        }
        let json = read_text(256, |b, n, out| unsafe { sys::ember_chat_reply_json(c, b, n, out) })?;
        Ok(ChatReply { content, tool_calls, finish_reason: FinishReason::parse(&finish), json, stats })
    }
}

impl<S: BorrowMut<Session>> Drop for Chat<S> {
    fn drop(&mut self) {
        // SAFETY: freed once, before the session it uses (dropped next).
        unsafe {
            sys::ember_chat_free(self.raw.as_ptr());
            ManuallyDrop::drop(&mut self.session);
        }
    }
}

impl<S: BorrowMut<Session>> fmt::Debug for Chat<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chat").field("uses_fallback_template", &self.uses_fallback_template().ok()).finish()
    }
}
