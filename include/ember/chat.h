#pragma once
// Chat templates: the Jinja templates models ship in tokenizer.chat_template,
// rendered byte for byte as Python jinja2 renders them in Hugging Face
// transformers' configuration (trim_blocks, lstrip_blocks, loopcontrols, the
// immutable sandbox, tojson as json.dumps(ensure_ascii=False),
// raise_exception, strftime_now). See docs/chat-templates.md.
//
// Errors: a template that does not parse, fails while rendering, or calls
// raise_exception throws ember::Error("[jinja] line N: <Python exception>: <message>"),
// e.g. "[jinja] line 1: TemplateError: System role not supported". Bad JSON
// in the inputs throws ember::Error("[chat_template] ...").
//
// Thread safety: a ChatTemplate is immutable after parse(); render() may run
// on any number of threads at once. Copies share the parsed template.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

struct ChatToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text; a JSON object reaches the template as a dict
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", "tool", …
  std::string content;
  std::vector<ChatToolCall> tool_calls;  // assistant messages
  std::string tool_call_id;              // tool messages (omitted when empty)
  std::string name;                      // tool messages (omitted when empty)
};

struct ChatTemplateInputs {
  std::vector<ChatMessage> messages;
  std::string tools_json;  // a JSON array of tools (OpenAI format), or empty: no `tools` variable
  bool add_generation_prompt = false;
  std::string bos_token, eos_token;
  std::string extra_context_json;  // a JSON object whose keys are added to (and override) the context
};

/// The wall-clock time strftime_now() formats.
struct ChatDateTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

struct ChatRenderOptions {
  std::optional<ChatDateTime> now;               // unset: the local time when rendering
  size_t max_output_bytes = size_t(64) << 20;    // longer output (or any longer string) is an error
};

/// A parsed template, to render many times.
class ChatTemplate {
 public:
  /// Parses template source; throws ember::Error("[jinja] line N: ...") for a syntax error.
  static ChatTemplate parse(std::string_view source);

  /// Renders with `messages` (list of dicts with the keys role, content and, when set,
  /// tool_call_id, name, tool_calls as [{"id", "type": "function", "function":
  /// {"name", "arguments"}}]), `tools`, `add_generation_prompt`, `bos_token`, `eos_token`.
  std::string render(const ChatTemplateInputs& inputs, const ChatRenderOptions& options = {}) const;

  /// Renders with the variables of a JSON object (messages as JSON, so any field reaches the
  /// template, content may be null, arguments may be objects or strings).
  std::string render_json(std::string_view context_json, const ChatRenderOptions& options = {}) const;

  const std::string& source() const noexcept;

 private:
  ChatTemplate() = default;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

/// ChatTemplate::parse(tmpl).render(inputs, options).
std::string render_chat_template(std::string_view tmpl, const ChatTemplateInputs& inputs,
                                 const ChatRenderOptions& options = {});
/// ChatTemplate::parse(tmpl).render_json(context_json, options).
std::string render_chat_template_json(std::string_view tmpl, std::string_view context_json,
                                      const ChatRenderOptions& options = {});

/// The standard ChatML template (<|im_start|>role\ncontent<|im_end|>\n …), for models
/// that ship none.
const std::string& chatml_template();

}  // namespace ember
