#pragma once
// A conversation over a Session: messages are rendered with the model's chat
// template, generated from, and the reply is split into content and tool
// calls. The Session's KV cache keeps the prefix the next turn shares with
// this one (Session::generate reuses the longest common token prefix), so a
// follow-up turn only evaluates the new messages.
//
// Thread safety: like its Session, one thread at a time.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ember/chat.h"
#include "ember/generate.h"
#include "ember/session.h"
#include "ember/tool_calls.h"

namespace ember {

struct ChatParams {
  GenerateParams generate;  // add_special and parse_special are set by chat()
  /// OpenAI "tools" array as JSON text, or empty for none. With tools the template gets them
  /// and the reply is parsed for tool calls.
  std::string tools_json;
  bool add_generation_prompt = true;
  /// Auto: the format detected from the template's markers, or every format if it shows none.
  ToolCallFormat tool_format = ToolCallFormat::Auto;
};

struct ChatReply {
  std::string content;
  std::vector<ChatToolCall> tool_calls;
  /// "stop" (end of turn or a stop string), "length" (n_predict or a full context),
  /// "tool_calls" (the reply holds calls), "cancelled" (on_piece returned false or cancel()).
  std::string finish_reason;
  GenerateResult raw;  // the generation as it ran: full text, tokens, stop reason, stats
};

class ChatSession {
 public:
  /// chat_template: Jinja source; by default the model's tokenizer.chat_template, or ChatML
  /// with a warning through ember::log when the model has none. The session must outlive this.
  /// Throws ember::Error("[jinja] ...") for a template that does not parse.
  explicit ChatSession(Session& session, std::optional<std::string> chat_template = std::nullopt);

  /// The prompt text for the messages: the template rendered with bos_token/eos_token
  /// (the vocabulary's token texts), the tools and add_generation_prompt. Throws ember::Error
  /// for bad tools_json (see check_tools_json) or a template that fails to render (see chat.h).
  std::string render(const std::vector<ChatMessage>& messages, const ChatParams& params) const;

  /// Renders, generates and parses the reply. The prompt is tokenized with special tokens
  /// parsed; a BOS the template writes is dropped from the text when the vocabulary adds one
  /// anyway (so it is never doubled), as llama.cpp does. Generation ends at the vocabulary's
  /// end-of-generation tokens (<|im_end|>, <|eot_id|>, <end_of_turn>, ...) or, with the ChatML
  /// fallback on a vocabulary without an <|im_end|> token, at the text "<|im_end|>".
  ///
  /// Streaming: on_piece gets content as it is generated (return false to stop). Without tools
  /// every piece is passed on. With tools, text from the first place that looks like the start
  /// of a tool call ("<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", or '{' / '[{' followed by
  /// a "name", "type" or "function" key) is held back to the end of generation, and so is
  /// trailing whitespace; then the rest of reply.content is sent in one piece. The pieces
  /// concatenated equal reply.content, except when a control token the stream cannot show
  /// (e.g. an invisible [TOOL_CALLS]) sat before held text that then failed to parse as a call.
  ChatReply chat(const std::vector<ChatMessage>& messages, const ChatParams& params, const OnPiece& on_piece = {});

  const std::string& chat_template() const noexcept { return template_; }
  /// True when the model had no chat template and ChatML is used instead.
  bool uses_fallback_template() const noexcept { return fallback_; }
  /// The format Auto resolves to for this template (None: the template shows no tool syntax,
  /// and replies are then searched for every format).
  ToolCallFormat detected_tool_format() const noexcept { return detected_format_; }
  Session& session() noexcept { return session_; }

 private:
  Session& session_;
  std::string template_;
  std::optional<ChatTemplate> parsed_;  // always set after construction
  bool fallback_ = false;
  ToolCallFormat detected_format_ = ToolCallFormat::None;
  std::string bos_text_, eos_text_;
  uint64_t n_turns_ = 0;  // seeds the ids of generated tool calls, so turns do not repeat ids
};

/// OpenAI-style messages ([{"role": "user", "content": "..."}, {"role": "assistant",
/// "tool_calls": [...]}, {"role": "tool", "tool_call_id": "...", "content": "..."}]; content may
/// be null or a list of text parts; "developer" is read as "system"). Throws
/// ember::Error("[chat] messages[i].field: ...") naming what is wrong.
std::vector<ChatMessage> chat_messages_from_json(std::string_view messages_json);

/// Checks an OpenAI "tools" array: a list of {"type": "function", "function": {"name": ...}}
/// objects. Throws ember::Error("[chat] tools[i]...: ...") naming what is wrong.
void check_tools_json(std::string_view tools_json);

/// The reply as an OpenAI assistant message: {"role": "assistant", "content": ..., "tool_calls": [...]}.
std::string chat_reply_json(const ChatReply& reply);

}  // namespace ember
