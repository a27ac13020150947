#pragma once
// Chat messages -> prompt tokens for one model: its chat template (or the
// --chat-template override, or ChatML when it has none), rendered with the
// request's tools, then tokenized with special tokens parsed.
//
// Thread safety: immutable after construction; render() and tokenize() may run
// on any number of threads.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ember/chat.h"
#include "ember/model.h"
#include "ember/tool_calls.h"

namespace ember::server {

class ChatPrompt {
 public:
  /// template_source: Jinja text overriding the model's template.
  ChatPrompt(std::shared_ptr<const Model> model, std::optional<std::string> template_source);

  /// The prompt text. tools: the request's "tools" array or null. Throws ember::Error when
  /// the template fails to render (e.g. it raises on the message order).
  std::string render(const std::vector<ChatMessage>& messages, const nlohmann::json& tools,
                     const nlohmann::json& template_kwargs) const;
  /// Token ids of a rendered prompt; a BOS the template wrote is not doubled.
  std::vector<int32_t> tokenize(const std::string& prompt) const;

  /// How replies are parsed for tool calls: the template's format, or Auto when it shows none.
  ToolCallFormat tool_format() const noexcept { return tool_format_; }
  /// Control tokens that must stay visible in replies for the tool-call parser.
  const std::vector<int32_t>& marker_tokens() const noexcept { return marker_tokens_; }
  /// Stop strings every chat request gets (the ChatML fallback's "<|im_end|>" when it is no token).
  const std::vector<std::string>& extra_stops() const noexcept { return extra_stops_; }
  const std::string& source() const noexcept { return source_; }
  bool uses_fallback() const noexcept { return fallback_; }

 private:
  std::shared_ptr<const Model> model_;
  std::string source_;
  std::shared_ptr<const ChatTemplate> template_;
  bool fallback_ = false;
  ToolCallFormat tool_format_ = ToolCallFormat::Auto;
  std::vector<int32_t> marker_tokens_;
  std::vector<std::string> extra_stops_;
  std::string bos_text_, eos_text_;
};

}  // namespace ember::server
