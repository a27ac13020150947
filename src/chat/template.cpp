// The chat-template API over the Jinja interpreter: builds the context jinja2
// would see from ChatTemplateInputs or JSON, renders, and turns interpreter
// errors into ember::Error.
#include <ctime>
#include <stdexcept>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/json.h"
#include "chat/jinja/parser.h"
#include "ember/chat.h"
#include "ember/error.h"

namespace ember {

namespace {

using jinja::Value;

[[noreturn]] void throw_jinja(const jinja::JinjaError& e) {
  std::string where = e.line > 0 ? "line " + std::to_string(e.line) + ": " : "";
  throw Error(ErrorKind::InvalidArgument, "[jinja] " + where + e.type + ": " + e.message);
}

Value parse_input_json(std::string_view text, const char* what) {
  try {
    return jinja::parse_json(text);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::InvalidArgument, std::string("[chat_template] ") + what + " is not valid JSON: " + e.what());
  }
}

// Tool-call arguments: a JSON object becomes a dict (as transformers expects),
// anything else stays the string it was.
Value arguments_value(const std::string& text) {
  try {
    Value v = jinja::parse_json(text);
    if (v.is_dict()) return v;
  } catch (const std::invalid_argument&) {
  }
  return Value::string(text);
}

Value message_value(const ChatMessage& m) {
  Value d = Value::dict();
  auto& dd = d.dict_data();
  dd.set("role", Value::string(m.role));
  if (!m.tool_call_id.empty()) dd.set("tool_call_id", Value::string(m.tool_call_id));
  if (!m.name.empty()) dd.set("name", Value::string(m.name));
  dd.set("content", Value::string(m.content));
  if (!m.tool_calls.empty()) {
    std::vector<Value> calls;
    for (const ChatToolCall& c : m.tool_calls) {
      Value call = Value::dict(), fn = Value::dict();
      if (!c.id.empty()) call.dict_data().set("id", Value::string(c.id));
      call.dict_data().set("type", Value::string("function"));
      fn.dict_data().set("name", Value::string(c.name));
      fn.dict_data().set("arguments", arguments_value(c.arguments));
      call.dict_data().set("function", fn);
      calls.push_back(call);
    }
    dd.set("tool_calls", Value::list(std::move(calls)));
  }
  return d;
}

jinja::DateTime now_of(const ChatRenderOptions& options) {
  jinja::DateTime t;
  if (options.now) {
    const ChatDateTime& n = *options.now;
    t = {n.year, n.month, n.day, n.hour, n.minute, n.second};
    return t;
  }
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  t = {local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec};
  return t;
}

}  // namespace

struct ChatTemplate::Impl {
  std::string source;
  jinja::Template tmpl;

  std::string render(const Value& context, const ChatRenderOptions& options) const {
    jinja::RenderOptions ro;
    ro.now = now_of(options);
    ro.max_output_bytes = options.max_output_bytes;
    jinja::Interpreter interp(ro);
    try {
      return interp.render(tmpl, context);
    } catch (const jinja::JinjaError& e) {
      throw_jinja(e);
    }
  }
};

ChatTemplate ChatTemplate::parse(std::string_view source) {
  auto impl = std::make_shared<Impl>();
  impl->source = std::string(source);
  try {
    impl->tmpl = jinja::parse_template(source);
  } catch (const jinja::JinjaError& e) {
    throw_jinja(e);
  }
  ChatTemplate t;
  t.impl_ = std::move(impl);
  return t;
}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs, const ChatRenderOptions& options) const {
  Value ctx = Value::dict();
  auto& d = ctx.dict_data();
  std::vector<Value> messages;
  messages.reserve(inputs.messages.size());
  for (const ChatMessage& m : inputs.messages) messages.push_back(message_value(m));
  d.set("messages", Value::list(std::move(messages)));
  if (!inputs.tools_json.empty()) d.set("tools", parse_input_json(inputs.tools_json, "tools_json"));
  d.set("add_generation_prompt", Value::boolean(inputs.add_generation_prompt));
  d.set("bos_token", Value::string(inputs.bos_token));
  d.set("eos_token", Value::string(inputs.eos_token));
  if (!inputs.extra_context_json.empty()) {
    Value extra = parse_input_json(inputs.extra_context_json, "extra_context_json");
    if (!extra.is_dict()) throw Error(ErrorKind::InvalidArgument, "[chat_template] extra_context_json is not a JSON object");
    for (const auto& [k, v] : extra.dict_data().entries()) d.set(k, v);
  }
  return impl_->render(ctx, options);
}

std::string ChatTemplate::render_json(std::string_view context_json, const ChatRenderOptions& options) const {
  Value ctx = parse_input_json(context_json, "the context");
  if (!ctx.is_dict()) throw Error(ErrorKind::InvalidArgument, "[chat_template] the context is not a JSON object");
  return impl_->render(ctx, options);
}

const std::string& ChatTemplate::source() const noexcept { return impl_->source; }

std::string render_chat_template(std::string_view tmpl, const ChatTemplateInputs& inputs,
                                 const ChatRenderOptions& options) {
  return ChatTemplate::parse(tmpl).render(inputs, options);
}

std::string render_chat_template_json(std::string_view tmpl, std::string_view context_json,
                                      const ChatRenderOptions& options) {
  return ChatTemplate::parse(tmpl).render_json(context_json, options);
}

const std::string& chatml_template() {
  static const std::string kChatml =
      "{% for message in messages %}"
      "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
      "{% endfor %}"
      "{% if add_generation_prompt %}"
      "{{ '<|im_start|>assistant\\n' }}"
      "{% endif %}";
  return kChatml;
}

}  // namespace ember
