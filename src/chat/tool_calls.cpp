#include "ember/tool_calls.h"

#include <optional>

#include <nlohmann/json.hpp>

namespace ember {
namespace {

using nlohmann::json;

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralMarker = "[TOOL_CALLS]";
constexpr std::string_view kMistralArgs = "[ARGS]";
constexpr std::string_view kMistralCallId = "[CALL_ID]";

// Deeper JSON than this is not a tool call; the bound keeps the recursive
// parts of nlohmann (dump) on a short stack whatever the model writes.
constexpr int kMaxJsonDepth = 128;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// One past the bracket closing the object or array that opens at s[start], by
// bracket counting outside strings; npos when the text ends first, brackets
// mismatch or nesting exceeds kMaxJsonDepth. The text in between is validated
// later by the JSON parser.
size_t json_extent(std::string_view s, size_t start) {
  char stack[kMaxJsonDepth];
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '{':
      case '[':
        if (depth == kMaxJsonDepth) return std::string_view::npos;
        stack[depth++] = c == '{' ? '}' : ']';
        break;
      case '}':
      case ']':
        if (depth == 0 || stack[depth - 1] != c) return std::string_view::npos;
        if (--depth == 0) return i + 1;
        break;
      default: break;
    }
    if (depth == 0) return std::string_view::npos;  // start was not a bracket
  }
  return std::string_view::npos;
}

std::optional<json> parse_json(std::string_view text) {
  try {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  } catch (const std::exception&) {  // nlohmann reports through the return value; this is a backstop
    return std::nullopt;
  }
}

std::string compact(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// "call_" + 24 alphanumerics: random-looking, but a pure function of its inputs.
std::string make_call_id(uint64_t output_hash, uint64_t seed, size_t index) {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint64_t state = output_hash ^ (seed * 0xd6e8feb86659fd93ull) ^ (uint64_t(index) << 32 | index);
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlnum[splitmix64(state) % 62];
  return id;
}

// A call object: {"name": str, "arguments"|"parameters": object | str holding an object, "id"?: str};
// the OpenAI shape {"type": "function", "function": {...}} is accepted too.
std::optional<ChatToolCall> call_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const json* obj = &j;
  if (!j.contains("name")) {
    auto f = j.find("function");
    if (f == j.end() || !f->is_object()) return std::nullopt;
    obj = &*f;
  }
  auto name = obj->find("name");
  if (name == obj->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) return std::nullopt;
  auto args = obj->find("arguments");
  if (args == obj->end()) args = obj->find("parameters");
  ChatToolCall call;
  call.name = name->get<std::string>();
  if (args == obj->end() || args->is_null()) {
    call.arguments = "{}";
  } else if (args->is_object()) {
    call.arguments = compact(*args);
  } else if (args->is_string()) {
    // Some models write the OpenAI wire form: arguments as JSON text.
    const auto& text = args->get_ref<const std::string&>();
    const size_t start = skip_space(text, 0);
    if (start >= text.size() || text[start] != '{' || json_extent(text, start) == std::string_view::npos)
      return std::nullopt;
    auto inner = parse_json(text);
    if (!inner || !inner->is_object()) return std::nullopt;
    call.arguments = compact(*inner);
  } else {
    return std::nullopt;
  }
  for (const json* o : {obj, &j}) {
    auto id = o->find("id");
    if (id != o->end() && id->is_string() && !id->get_ref<const std::string&>().empty()) {
      call.id = id->get<std::string>();
      break;
    }
  }
  return call;
}

// The object or array opening at s[start], parsed, with its end; nullopt if truncated or invalid.
struct JsonAt {
  json value;
  size_t end;
};
std::optional<JsonAt> json_at(std::string_view s, size_t start) {
  if (start >= s.size() || (s[start] != '{' && s[start] != '[')) return std::nullopt;
  const size_t end = json_extent(s, start);
  if (end == std::string_view::npos) return std::nullopt;
  auto j = parse_json(s.substr(start, end - start));
  if (!j) return std::nullopt;
  return JsonAt{std::move(*j), end};
}

bool starts_with_at(std::string_view s, size_t i, std::string_view prefix) {
  return i <= s.size() && s.substr(i).starts_with(prefix);
}

// Calls found in the output, each with the span of text it replaces.
struct Found {
  size_t begin, end;
  std::vector<ChatToolCall> calls;
};

std::vector<Found> find_hermes(std::string_view s) {
  std::vector<Found> found;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t open = s.find(kHermesOpen, pos);
    if (open == std::string_view::npos) break;
    pos = open + 1;
    auto j = json_at(s, skip_space(s, open + kHermesOpen.size()));
    if (!j) continue;
    auto call = call_from_json(j->value);
    if (!call) continue;
    const size_t after = skip_space(s, j->end);
    size_t end;
    if (starts_with_at(s, after, kHermesClose)) end = after + kHermesClose.size();
    else if (after == s.size()) end = after;  // turn ended before the closing tag
    else continue;
    found.push_back({open, end, {std::move(*call)}});
    pos = end;
  }
  return found;
}

std::vector<Found> find_llama31(std::string_view s) {
  std::vector<Found> found;
  size_t i = 0;
  size_t tag = std::string_view::npos;  // a <|python_tag|> right before the next call goes with it
  while (i < s.size()) {
    if (starts_with_at(s, i, kPythonTag)) {
      tag = i;
      i += kPythonTag.size();
      continue;
    }
    if (s[i] != '{') {
      if (!is_space(s[i])) tag = std::string_view::npos;
      ++i;
      continue;
    }
    const size_t end = json_extent(s, i);
    if (end == std::string_view::npos) break;  // never closes: the rest is text
    auto j = parse_json(s.substr(i, end - i));
    std::optional<ChatToolCall> call;
    if (j) call = call_from_json(*j);
    if (call) found.push_back({tag != std::string_view::npos ? tag : i, end, {std::move(*call)}});
    tag = std::string_view::npos;
    i = end;  // an object that is not a call is skipped whole, not searched inside
  }
  return found;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// After [TOOL_CALLS]: a JSON array (or a single object) of calls, or name[CALL_ID]id[ARGS]{...}.
std::optional<Found> mistral_at(std::string_view s, size_t marker) {
  const size_t start = skip_space(s, marker + kMistralMarker.size());
  if (start >= s.size()) return std::nullopt;
  if (s[start] == '[' || s[start] == '{') {
    auto j = json_at(s, start);
    if (!j) return std::nullopt;
    Found f{marker, j->end, {}};
    if (j->value.is_object()) j->value = json::array({std::move(j->value)});
    if (j->value.empty()) return std::nullopt;
    for (const auto& item : j->value) {
      auto call = call_from_json(item);
      if (!call) return std::nullopt;
      f.calls.push_back(std::move(*call));
    }
    return f;
  }
  size_t i = start;
  while (i < s.size() && is_name_char(s[i])) ++i;
  if (i == start) return std::nullopt;
  ChatToolCall call;
  call.name = std::string(s.substr(start, i - start));
  if (starts_with_at(s, i, kMistralCallId)) {
    const size_t id0 = i + kMistralCallId.size();
    i = id0;
    while (i < s.size() && is_name_char(s[i])) ++i;
    call.id = std::string(s.substr(id0, i - id0));
  }
  if (!starts_with_at(s, i, kMistralArgs)) return std::nullopt;
  auto j = json_at(s, skip_space(s, i + kMistralArgs.size()));
  if (!j || !j->value.is_object()) return std::nullopt;
  call.arguments = compact(j->value);
  return Found{marker, j->end, {std::move(call)}};
}

std::vector<Found> find_mistral(std::string_view s) {
  std::vector<Found> found;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t marker = s.find(kMistralMarker, pos);
    if (marker == std::string_view::npos) break;
    auto f = mistral_at(s, marker);
    if (!f) {
      pos = marker + 1;
      continue;
    }
    pos = f->end;
    found.push_back(std::move(*f));
  }
  return found;
}

std::string_view trim_left(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}
std::string_view trim_right(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}

ParsedToolCalls assemble(std::string_view s, const std::vector<Found>& found, ToolCallFormat format,
                         uint64_t id_seed) {
  ParsedToolCalls out;
  if (found.empty()) {
    out.content = std::string(s);
    return out;
  }
  const uint64_t h = fnv1a(s);
  size_t prev = 0;
  for (size_t k = 0; k <= found.size(); ++k) {
    const size_t end = k < found.size() ? found[k].begin : s.size();
    std::string_view piece = s.substr(prev, end - prev);
    if (k > 0) piece = trim_left(piece);
    if (k < found.size()) piece = trim_right(piece);
    // Llama 3.1 separates calls with ';'
    const bool between = k > 0 && k < found.size();
    if (between && format == ToolCallFormat::Llama31 && piece.find_first_not_of(';') == std::string_view::npos)
      piece = {};
    if (!piece.empty()) {
      if (!out.content.empty()) out.content += '\n';
      out.content += piece;
    }
    if (k < found.size()) {
      for (const auto& c : found[k].calls) {
        out.calls.push_back(c);
        if (out.calls.back().id.empty()) out.calls.back().id = make_call_id(h, id_seed, out.calls.size() - 1);
      }
      prev = found[k].end;
    }
  }
  return out;
}

std::vector<Found> find_calls(std::string_view s, ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::Hermes: return find_hermes(s);
    case ToolCallFormat::Llama31: return find_llama31(s);
    case ToolCallFormat::Mistral: return find_mistral(s);
    case ToolCallFormat::Auto:
    case ToolCallFormat::None: break;
  }
  return {};
}

}  // namespace

const char* tool_call_format_name(ToolCallFormat f) noexcept {
  switch (f) {
    case ToolCallFormat::Auto: return "auto";
    case ToolCallFormat::Hermes: return "hermes";
    case ToolCallFormat::Llama31: return "llama3.1";
    case ToolCallFormat::Mistral: return "mistral";
    case ToolCallFormat::None: return "none";
  }
  return "unknown";
}

ParsedToolCalls parse_tool_calls(std::string_view model_output, ToolCallFormat format, uint64_t id_seed) {
  if (format == ToolCallFormat::Auto) {
    for (ToolCallFormat f : {ToolCallFormat::Mistral, ToolCallFormat::Hermes, ToolCallFormat::Llama31}) {
      auto found = find_calls(model_output, f);
      if (!found.empty()) return assemble(model_output, found, f, id_seed);
    }
    return assemble(model_output, {}, format, id_seed);
  }
  return assemble(model_output, find_calls(model_output, format), format, id_seed);
}

ToolCallFormat detect_tool_call_format(std::string_view t) {
  if (t.find(kMistralMarker) != std::string_view::npos) return ToolCallFormat::Mistral;
  if (t.find(kHermesOpen) != std::string_view::npos) return ToolCallFormat::Hermes;
  if (t.find(kPythonTag) != std::string_view::npos) return ToolCallFormat::Llama31;
  // Llama 3.2 templates describe the call as {"name": ..., "parameters": ...} without the tag.
  if (t.find("<|start_header_id|>") != std::string_view::npos &&
      (t.find("\"parameters\"") != std::string_view::npos || t.find("'parameters'") != std::string_view::npos))
    return ToolCallFormat::Llama31;
  return ToolCallFormat::None;
}

std::vector<std::string> tool_call_marker_tokens(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::Hermes: return {std::string(kHermesOpen), std::string(kHermesClose)};
    case ToolCallFormat::Llama31: return {std::string(kPythonTag)};
    case ToolCallFormat::Mistral:
      return {std::string(kMistralMarker), std::string(kMistralArgs), std::string(kMistralCallId)};
    case ToolCallFormat::Auto:
      return {std::string(kHermesOpen),    std::string(kHermesClose), std::string(kPythonTag),
              std::string(kMistralMarker), std::string(kMistralArgs), std::string(kMistralCallId)};
    case ToolCallFormat::None: break;
  }
  return {};
}

}  // namespace ember
