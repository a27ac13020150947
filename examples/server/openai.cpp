#include "openai.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace ember::server {

ApiError bad_request(const std::string& message, const std::string& param) {
  return ApiError(400, "invalid_request_error", message, param);
}

json error_body(int status, const std::string& type, const std::string& message, const std::string& param) {
  json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", status}};
  if (!param.empty()) e["param"] = param;
  return json{{"error", std::move(e)}};
}

json parse_body(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    // nlohmann's message names the byte offset of the problem.
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    throw bad_request("the request body is not valid JSON: " + what);
  }
  if (!j.is_object()) throw bad_request("the request body must be a JSON object");
  return j;
}

namespace {

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "invalid";
    default: return "a number";
  }
}

// A field that is absent or null reads as "not given".
const json* field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::optional<double> get_number(const json& obj, const char* key, double lo, double hi) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw bad_request(std::string("'") + key + "' must be a number, got " + type_name(*v), key);
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi))
    throw bad_request(std::string("'") + key + "' must be between " + fmt(lo) + " and " + fmt(hi) + ", got " + fmt(d), key);
  return d;
}

std::optional<int64_t> get_int(const json& obj, const char* key, int64_t lo, int64_t hi) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  int64_t i;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    i = u > uint64_t(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max() : int64_t(u);
  } else if (v->is_number_integer()) {
    i = v->get<int64_t>();
  } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e15) {
    i = int64_t(v->get<double>());
  } else {
    throw bad_request(std::string("'") + key + "' must be an integer, got " + (v->is_number() ? "a fraction" : type_name(*v)),
                      key);
  }
  if (i < lo || i > hi)
    throw bad_request(std::string("'") + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                          ", got " + std::to_string(i),
                      key);
  return i;
}

std::optional<bool> get_bool(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw bad_request(std::string("'") + key + "' must be a boolean, got " + type_name(*v), key);
  return v->get<bool>();
}

std::optional<std::string> get_string(const json& obj, const char* key, const std::string& path = {}) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  const std::string name = path.empty() ? key : path;
  if (!v->is_string()) throw bad_request("'" + name + "' must be a string, got " + type_name(*v), name);
  return v->get<std::string>();
}

// A token id list: every element an integer in [0, 2^31).
std::optional<std::vector<int32_t>> as_tokens(const json& v) {
  if (!v.is_array() || v.empty()) return std::nullopt;
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (const json& t : v) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max())
      return std::nullopt;
    out.push_back(int32_t(t.get<int64_t>()));
  }
  return out;
}

// string | [string, ...] | [int, ...] | [[int, ...], ...]
std::vector<Prompt> get_prompts(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) throw bad_request(std::string("'") + key + "' is required", key);
  std::vector<Prompt> out;
  if (v->is_string()) {
    out.emplace_back(v->get<std::string>());
  } else if (auto toks = as_tokens(*v)) {
    out.emplace_back(std::move(*toks));
  } else if (v->is_array() && !v->empty()) {
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (e.is_string()) out.emplace_back(e.get<std::string>());
      else if (auto t = as_tokens(e)) out.emplace_back(std::move(*t));
      else
        throw bad_request(std::string("'") + key + "[" + std::to_string(i) +
                              "]' must be a string or a non-empty list of token ids, got " + type_name(e),
                          key);
    }
  } else {
    throw bad_request(std::string("'") + key + "' must be a string, a list of strings or a list of token ids, got " +
                          (v->is_array() ? "an empty list" : type_name(*v)),
                      key);
  }
  constexpr size_t kMaxPrompts = 64;
  if (out.size() > kMaxPrompts)
    throw bad_request(std::string("'") + key + "' holds " + std::to_string(out.size()) + " items; at most " +
                          std::to_string(kMaxPrompts) + " are accepted",
                      key);
  return out;
}

}  // namespace

GenerationFields parse_generation_fields(const json& body, bool test_hooks) {
  GenerationFields g;
  SamplingParams& sp = g.sampling;
  if (auto t = get_number(body, "temperature", 0, 2)) sp.temperature = float(*t);
  if (auto p = get_number(body, "top_p", 0, 1)) {
    if (*p == 0) sp.temperature = 0;  // only the most likely token is left
    else sp.top_p = float(*p);
  }
  if (auto k = get_int(body, "top_k", 0, std::numeric_limits<int32_t>::max())) sp.top_k = int32_t(*k);
  if (auto m = get_number(body, "min_p", 0, 1)) sp.min_p = float(*m);
  if (auto t = get_number(body, "typical_p", 0, 1)) {
    if (*t == 0) throw bad_request("'typical_p' must be in (0, 1], got 0", "typical_p");
    sp.typical_p = float(*t);
  }
  if (auto r = get_number(body, "repeat_penalty", 0, 100)) {
    if (*r == 0) throw bad_request("'repeat_penalty' must be positive, got 0", "repeat_penalty");
    sp.repeat_penalty = float(*r);
  }
  if (auto n = get_int(body, "repeat_last_n", -1, std::numeric_limits<int32_t>::max())) sp.repeat_last_n = int32_t(*n);
  if (auto p = get_number(body, "presence_penalty", -2, 2)) sp.presence_penalty = float(*p);
  if (auto f = get_number(body, "frequency_penalty", -2, 2)) sp.frequency_penalty = float(*f);
  if (auto s = get_int(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
    sp.seed = *s < 0 ? kDefaultSeed : uint64_t(*s);

  if (const json* lb = field(body, "logit_bias")) {
    if (!lb->is_object()) throw bad_request(std::string("'logit_bias' must be an object, got ") + type_name(*lb), "logit_bias");
    for (const auto& [key, val] : lb->items()) {
      int64_t id = -1;
      char* end = nullptr;
      if (!key.empty()) id = std::strtoll(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || id < 0 || id > std::numeric_limits<int32_t>::max())
        throw bad_request("'logit_bias' keys must be token ids, got '" + key + "'", "logit_bias");
      if (!val.is_number())
        throw bad_request("'logit_bias[" + key + "]' must be a number, got " + type_name(val), "logit_bias");
      const double b = val.get<double>();
      if (!(b >= -100 && b <= 100))
        throw bad_request("'logit_bias[" + key + "]' must be between -100 and 100, got " + fmt(b), "logit_bias");
      // -100 bans the token, as OpenAI documents.
      sp.logit_bias[int32_t(id)] = b <= -100 ? -std::numeric_limits<float>::infinity() : float(b);
    }
  }

  constexpr int64_t kMaxTokens = 1 << 24;
  if (auto n = get_int(body, "max_tokens", 1, kMaxTokens)) g.max_tokens = int32_t(*n);
  if (auto n = get_int(body, "max_completion_tokens", 1, kMaxTokens)) g.max_tokens = int32_t(*n);
  if (auto n = get_int(body, "n_predict", -1, kMaxTokens)) {  // llama.cpp's name
    if (*n == 0) throw bad_request("'n_predict' must be -1 (no limit) or positive, got 0", "n_predict");
    g.max_tokens = int32_t(*n);
  }
  if (auto n = get_int(body, "n", 1, 128); n && *n != 1)
    throw bad_request("'n' must be 1: one choice per request is supported", "n");

  if (const json* st = field(body, "stop")) {
    constexpr size_t kMaxStops = 16;
    if (st->is_string()) {
      g.stop.push_back(st->get<std::string>());
    } else if (st->is_array()) {
      if (st->size() > kMaxStops)
        throw bad_request("'stop' holds " + std::to_string(st->size()) + " strings; at most 16 are accepted", "stop");
      for (const json& s : *st) {
        if (!s.is_string()) throw bad_request(std::string("'stop' items must be strings, got ") + type_name(s), "stop");
        g.stop.push_back(s.get<std::string>());
      }
    } else {
      throw bad_request(std::string("'stop' must be a string or a list of strings, got ") + type_name(*st), "stop");
    }
  }

  g.stream = get_bool(body, "stream").value_or(false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object())
      throw bad_request(std::string("'stream_options' must be an object, got ") + type_name(*so), "stream_options");
    g.include_usage = get_bool(*so, "include_usage").value_or(false);
  }
  if (get_bool(body, "logprobs").value_or(false)) throw bad_request("'logprobs' is not supported", "logprobs");
  if (field(body, "top_logprobs")) throw bad_request("'top_logprobs' is not supported", "top_logprobs");
  if (const json* rf = field(body, "response_format")) {
    if (!rf->is_object())
      throw bad_request(std::string("'response_format' must be an object, got ") + type_name(*rf), "response_format");
    const auto type = get_string(*rf, "type", "response_format.type").value_or("text");
    if (type != "text") throw bad_request("'response_format' type '" + type + "' is not supported (only \"text\")",
                                          "response_format");
  }

  if (const json* f = field(body, "ember_test_force_output")) {
    if (!test_hooks)
      throw bad_request("'ember_test_force_output' is a test hook: start the server with --test-hooks to use it",
                        "ember_test_force_output");
    if (!f->is_string())
      throw bad_request(std::string("'ember_test_force_output' must be a string, got ") + type_name(*f),
                        "ember_test_force_output");
    g.forced_output = f->get<std::string>();
  }

  try {
    sp.validate();
  } catch (const std::exception& e) {
    throw bad_request(e.what());
  }
  return g;
}

namespace {

// content: string | null | [{"type": "text", "text": ...}, ...]
std::string message_content(const json& msg, const std::string& where) {
  const json* c = field(msg, "content");
  if (!c) return {};
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array())
    throw bad_request("'" + where + ".content' must be a string, a list of parts or null, got " + type_name(*c),
                      "messages");
  std::string text;
  for (size_t i = 0; i < c->size(); ++i) {
    const json& part = (*c)[i];
    const std::string pw = where + ".content[" + std::to_string(i) + "]";
    if (!part.is_object()) throw bad_request("'" + pw + "' must be an object, got " + type_name(part), "messages");
    const auto type = get_string(part, "type", pw + ".type");
    if (type != "text")
      throw bad_request("'" + pw + ".type' " + (type ? "'" + *type + "' is not supported (only \"text\")" : "is required"),
                        "messages");
    const auto t = get_string(part, "text", pw + ".text");
    if (!t) throw bad_request("'" + pw + ".text' is required", "messages");
    text += *t;
  }
  return text;
}

std::vector<ChatToolCall> message_tool_calls(const json& msg, const std::string& where) {
  std::vector<ChatToolCall> calls;
  const json* tc = field(msg, "tool_calls");
  if (!tc) return calls;
  if (!tc->is_array())
    throw bad_request("'" + where + ".tool_calls' must be a list, got " + type_name(*tc), "messages");
  for (size_t i = 0; i < tc->size(); ++i) {
    const json& c = (*tc)[i];
    const std::string cw = where + ".tool_calls[" + std::to_string(i) + "]";
    if (!c.is_object()) throw bad_request("'" + cw + "' must be an object, got " + type_name(c), "messages");
    const json* fn = field(c, "function");
    if (!fn || !fn->is_object()) throw bad_request("'" + cw + ".function' must be an object", "messages");
    ChatToolCall call;
    call.id = get_string(c, "id", cw + ".id").value_or("");
    const auto name = get_string(*fn, "name", cw + ".function.name");
    if (!name) throw bad_request("'" + cw + ".function.name' is required", "messages");
    call.name = *name;
    const json* args = field(*fn, "arguments");
    if (!args) call.arguments = "{}";
    else if (args->is_string()) call.arguments = args->get<std::string>();
    else if (args->is_object()) call.arguments = args->dump();
    else
      throw bad_request("'" + cw + ".function.arguments' must be a JSON string or an object, got " + type_name(*args),
                        "messages");
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace

ChatRequest parse_chat_request(const json& body, bool test_hooks) {
  ChatRequest r;
  r.gen = parse_generation_fields(body, test_hooks);
  const json* msgs = field(body, "messages");
  if (!msgs) throw bad_request("'messages' is required", "messages");
  if (!msgs->is_array()) throw bad_request(std::string("'messages' must be a list, got ") + type_name(*msgs), "messages");
  if (msgs->empty()) throw bad_request("'messages' must not be empty", "messages");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw bad_request("'" + where + "' must be an object, got " + type_name(m), "messages");
    const auto role = get_string(m, "role", where + ".role");
    if (!role) throw bad_request("'" + where + ".role' is required", "messages");
    if (*role != "system" && *role != "developer" && *role != "user" && *role != "assistant" && *role != "tool")
      throw bad_request("'" + where + ".role' must be system, developer, user, assistant or tool, got '" + *role + "'",
                        "messages");
    ChatMessage msg;
    msg.role = *role == "developer" ? "system" : *role;
    msg.content = message_content(m, where);
    msg.tool_calls = message_tool_calls(m, where);
    msg.tool_call_id = get_string(m, "tool_call_id", where + ".tool_call_id").value_or("");
    msg.name = get_string(m, "name", where + ".name").value_or("");
    r.messages.push_back(std::move(msg));
  }

  if (const json* tools = field(body, "tools")) {
    if (!tools->is_array()) throw bad_request(std::string("'tools' must be a list, got ") + type_name(*tools), "tools");
    for (size_t i = 0; i < tools->size(); ++i) {
      const json& t = (*tools)[i];
      const std::string where = "tools[" + std::to_string(i) + "]";
      if (!t.is_object()) throw bad_request("'" + where + "' must be an object, got " + type_name(t), "tools");
      const auto type = get_string(t, "type", where + ".type").value_or("function");
      if (type != "function") throw bad_request("'" + where + ".type' must be \"function\", got '" + type + "'", "tools");
      const json* fn = field(t, "function");
      if (!fn || !fn->is_object()) throw bad_request("'" + where + ".function' must be an object", "tools");
      if (!get_string(*fn, "name", where + ".function.name"))
        throw bad_request("'" + where + ".function.name' is required", "tools");
    }
    if (!tools->empty()) r.tools = *tools;
  }
  if (const json* choice = field(body, "tool_choice")) {
    if (choice->is_string()) {
      const std::string c = choice->get<std::string>();
      if (c == "none") r.tools = nullptr;
      else if (c != "auto" && c != "required")
        throw bad_request("'tool_choice' must be \"none\", \"auto\", \"required\" or an object, got '" + c + "'",
                          "tool_choice");
    } else if (!choice->is_object()) {
      throw bad_request(std::string("'tool_choice' must be a string or an object, got ") + type_name(*choice),
                        "tool_choice");
    }
  }
  if (const json* kw = field(body, "chat_template_kwargs")) {
    if (!kw->is_object())
      throw bad_request(std::string("'chat_template_kwargs' must be an object, got ") + type_name(*kw),
                        "chat_template_kwargs");
    r.chat_template_kwargs = *kw;
  }
  return r;
}

CompletionRequest parse_completion_request(const json& body, bool test_hooks) {
  CompletionRequest r;
  r.gen = parse_generation_fields(body, test_hooks);
  r.prompts = get_prompts(body, "prompt");
  if (r.gen.stream && r.prompts.size() != 1)
    throw bad_request("streaming needs a single prompt, got " + std::to_string(r.prompts.size()), "prompt");
  if (get_bool(body, "echo").value_or(false)) throw bad_request("'echo' is not supported", "echo");
  if (field(body, "suffix")) throw bad_request("'suffix' is not supported", "suffix");
  if (get_int(body, "best_of", 1, 1)) {}  // only 1
  return r;
}

EmbeddingRequest parse_embedding_request(const json& body) {
  EmbeddingRequest r;
  r.inputs = get_prompts(body, "input");
  for (size_t i = 0; i < r.inputs.size(); ++i)
    if (const auto* s = std::get_if<std::string>(&r.inputs[i]); s && s->empty())
      throw bad_request("'input' must not hold empty strings (item " + std::to_string(i) + ")", "input");
  const std::string fmt_name = get_string(body, "encoding_format").value_or("float");
  if (fmt_name != "float" && fmt_name != "base64")
    throw bad_request("'encoding_format' must be \"float\" or \"base64\", got '" + fmt_name + "'", "encoding_format");
  r.base64 = fmt_name == "base64";
  if (field(body, "dimensions")) throw bad_request("'dimensions' is not supported", "dimensions");
  return r;
}

std::string make_id(const char* prefix, uint64_t serial) {
  const uint64_t n = serial;
  const uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%08x%016llx", prefix, unsigned(n), (unsigned long long)(t * 0x9E3779B97F4A7C15ull));
  return buf;
}

int64_t unix_time() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json usage_json(const Usage& u) {
  return json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

json tool_calls_json(const std::vector<ChatToolCall>& calls) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i)
    out.push_back({{"index", i},
                   {"id", calls[i].id},
                   {"type", "function"},
                   {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
  return out;
}

std::string base64_floats(const std::vector<float>& v) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + size_t(b)] = char((u >> (8 * b)) & 0xFF);  // little-endian
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (i + 1 < bytes.size() ? uint32_t(uint8_t(bytes[i + 1])) << 8 : 0) |
                       (i + 2 < bytes.size() ? uint32_t(uint8_t(bytes[i + 2])) : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

}  // namespace ember::server
