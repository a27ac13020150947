#pragma once
// Streaming a reply that may hold tool calls: content goes out as it is
// generated, but from the first place that looks like the start of a tool
// call to the end, text is held back, so raw call JSON never reaches the
// caller as content. See ChatSession::chat for the rule.
#include <string>
#include <string_view>

#include "ember/generate.h"

namespace ember::chat {

enum class OpenerMatch { No, Partial, Full };

/// Does a tool call seem to start at s[i] (i < s.size())? One of "<tool_call>", "[TOOL_CALLS]",
/// "<|python_tag|>", or '{' / '[' '{' (whitespace allowed between) followed by the key "name",
/// "type" or "function". Partial: s ends while it still could.
OpenerMatch tool_call_opener_at(std::string_view s, size_t i);

class ToolCallStream {
 public:
  /// sink may be empty; it must outlive this object.
  explicit ToolCallStream(const OnPiece& sink) : sink_(sink) {}

  /// Takes the next generated piece; returns false when the sink asked to stop.
  bool push(std::string_view piece);
  /// At the end of generation: sends the part of the final content not sent yet, if what was
  /// sent is a prefix of it.
  void finish(const std::string& content);
  /// Text sent to the sink so far.
  const std::string& emitted() const noexcept { return emitted_; }

 private:
  bool emit(const std::string& text);

  const OnPiece& sink_;
  std::string pending_, emitted_;
  bool holding_ = false;
};

}  // namespace ember::chat
