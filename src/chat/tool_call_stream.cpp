#include "chat/tool_call_stream.h"

#include <array>

namespace ember::chat {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

OpenerMatch tool_call_opener_at(std::string_view s, size_t i) {
  static constexpr std::array<std::string_view, 3> kLiterals = {"<tool_call>", "[TOOL_CALLS]", "<|python_tag|>"};
  if (i >= s.size()) return OpenerMatch::No;
  const std::string_view rest = s.substr(i);
  for (std::string_view lit : kLiterals) {
    if (rest.starts_with(lit)) return OpenerMatch::Full;
    if (lit.starts_with(rest)) return OpenerMatch::Partial;
  }
  // Markers that are control tokens do not show in the stream; the JSON after them does.
  size_t j = i;
  if (s[j] == '[') {
    ++j;
    while (j < s.size() && is_space(s[j])) ++j;
    if (j == s.size()) return OpenerMatch::Partial;
  }
  if (s[j] != '{') return OpenerMatch::No;
  ++j;
  while (j < s.size() && is_space(s[j])) ++j;
  if (j == s.size()) return OpenerMatch::Partial;
  if (s[j] != '"') return OpenerMatch::No;
  const std::string_view key = s.substr(j + 1);
  for (std::string_view k : {"name\"", "type\"", "function\""}) {
    if (key.starts_with(k)) return OpenerMatch::Full;
    if (k.starts_with(key)) return OpenerMatch::Partial;
  }
  return OpenerMatch::No;
}

bool ToolCallStream::push(std::string_view piece) {
  pending_ += piece;
  if (holding_) return true;
  size_t safe = pending_.size();
  for (size_t i = 0; i < pending_.size(); ++i) {
    const OpenerMatch m = tool_call_opener_at(pending_, i);
    if (m == OpenerMatch::No) continue;
    safe = i;
    holding_ = m == OpenerMatch::Full;
    break;
  }
  // Whitespace next to a call is trimmed from the content, so it waits to see what follows.
  while (safe > 0 && is_space(pending_[safe - 1])) --safe;
  if (safe == 0) return true;
  const bool go_on = emit(pending_.substr(0, safe));
  pending_.erase(0, safe);
  return go_on;
}

void ToolCallStream::finish(const std::string& content) {
  if (content.size() > emitted_.size() && content.compare(0, emitted_.size(), emitted_) == 0)
    emit(content.substr(emitted_.size()));
}

bool ToolCallStream::emit(const std::string& text) {
  emitted_ += text;
  return !sink_ || sink_(text);
}

}  // namespace ember::chat
