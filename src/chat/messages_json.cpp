// OpenAI-style JSON for conversations: the messages array a caller hands the
// C ABI and the bindings, and the assistant message a reply becomes.
#include <string>

#include <nlohmann/json.hpp>

#include "ember/chat_session.h"
#include "ember/error.h"

namespace ember {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error(ErrorKind::InvalidArgument, "[chat] " + where + ": " + what);
}

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

std::string optional_string(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) bad(where + "." + key, std::string("must be a string, got ") + type_name(*it));
  return it->get<std::string>();
}

// content: a string, null, or a list of {"type": "text", "text": ...} parts (joined).
std::string content_of(const json& m, const std::string& where) {
  const auto it = m.find("content");
  if (it == m.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) bad(where + ".content", std::string("must be a string or a list of parts, got ") + type_name(*it));
  std::string text;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& part = (*it)[i];
    const std::string pw = where + ".content[" + std::to_string(i) + "]";
    if (!part.is_object()) bad(pw, std::string("must be an object, got ") + type_name(part));
    if (optional_string(part, "type", pw) != "text") bad(pw + ".type", "only \"text\" parts are supported");
    text += optional_string(part, "text", pw);
  }
  return text;
}

std::vector<ChatToolCall> tool_calls_of(const json& m, const std::string& where) {
  std::vector<ChatToolCall> calls;
  const auto it = m.find("tool_calls");
  if (it == m.end() || it->is_null()) return calls;
  if (!it->is_array()) bad(where + ".tool_calls", std::string("must be a list, got ") + type_name(*it));
  for (size_t i = 0; i < it->size(); ++i) {
    const json& c = (*it)[i];
    const std::string cw = where + ".tool_calls[" + std::to_string(i) + "]";
    if (!c.is_object()) bad(cw, std::string("must be an object, got ") + type_name(c));
    const auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) bad(cw + ".function", "must be an object");
    ChatToolCall call;
    call.id = optional_string(c, "id", cw);
    call.name = optional_string(*fn, "name", cw + ".function");
    if (call.name.empty()) bad(cw + ".function.name", "is required");
    const auto args = fn->find("arguments");
    if (args == fn->end() || args->is_null()) call.arguments = "{}";
    else if (args->is_string()) call.arguments = args->get<std::string>();
    else if (args->is_object()) call.arguments = args->dump();
    else bad(cw + ".function.arguments", std::string("must be a JSON string or an object, got ") + type_name(*args));
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace

std::vector<ChatMessage> chat_messages_from_json(std::string_view messages_json) {
  const json msgs = json::parse(messages_json, nullptr, false);
  if (msgs.is_discarded()) bad("messages", "not valid JSON");
  if (!msgs.is_array()) bad("messages", std::string("must be a list, got ") + type_name(msgs));
  std::vector<ChatMessage> out;
  out.reserve(msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad(where, std::string("must be an object, got ") + type_name(m));
    ChatMessage msg;
    msg.role = optional_string(m, "role", where);
    if (msg.role.empty()) bad(where + ".role", "is required");
    if (msg.role == "developer") msg.role = "system";  // OpenAI's newer name for it
    msg.content = content_of(m, where);
    msg.tool_calls = tool_calls_of(m, where);
    msg.tool_call_id = optional_string(m, "tool_call_id", where);
    msg.name = optional_string(m, "name", where);
    out.push_back(std::move(msg));
  }
  return out;
}

void check_tools_json(std::string_view tools_json) {
  const json tools = json::parse(tools_json, nullptr, false);
  if (tools.is_discarded()) bad("tools", "not valid JSON");
  if (!tools.is_array()) bad("tools", std::string("must be a list, got ") + type_name(tools));
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) bad(where, std::string("must be an object, got ") + type_name(t));
    if (const std::string type = optional_string(t, "type", where); !type.empty() && type != "function")
      bad(where + ".type", "must be \"function\", got \"" + type + "\"");
    const auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) bad(where + ".function", "must be an object");
    if (optional_string(*fn, "name", where + ".function").empty()) bad(where + ".function.name", "is required");
  }
}

std::string chat_reply_json(const ChatReply& reply) {
  using ordered = nlohmann::ordered_json;  // role first, as OpenAI writes it
  ordered msg = {{"role", "assistant"}, {"content", reply.content}};
  if (!reply.tool_calls.empty()) {
    ordered calls = ordered::array();
    for (const ChatToolCall& c : reply.tool_calls)
      calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    msg["tool_calls"] = std::move(calls);
    if (reply.content.empty()) msg["content"] = nullptr;
  }
  // Invalid UTF-8 a model produced becomes U+FFFD instead of an exception.
  return msg.dump(-1, ' ', false, ordered::error_handler_t::replace);
}

}  // namespace ember
