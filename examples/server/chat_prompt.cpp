#include "chat_prompt.h"

#include "ember/error.h"
#include "ember/log.h"
#include "ember/tokenizer.h"

namespace ember::server {
namespace {

std::string token_text_or_empty(const Tokenizer& tok, int32_t id) { return id >= 0 ? tok.token_text(id) : std::string(); }

}  // namespace

ChatPrompt::ChatPrompt(std::shared_ptr<const Model> model, std::optional<std::string> template_source)
    : model_(std::move(model)) {
  if (!template_source) template_source = model_->chat_template();
  if (template_source && !template_source->empty()) {
    source_ = std::move(*template_source);
  } else {
    source_ = chatml_template();
    fallback_ = true;
    log(LogLevel::Warn, "[serve] the model has no tokenizer.chat_template; using ChatML");
  }
  // Parsed once here: a template that does not parse stops the server at start-up, not per request.
  template_ = std::make_shared<ChatTemplate>(ChatTemplate::parse(source_));

  const ToolCallFormat detected = detect_tool_call_format(source_);
  tool_format_ = detected == ToolCallFormat::None ? ToolCallFormat::Auto : detected;
  const Tokenizer& tok = model_->tokenizer();
  bos_text_ = token_text_or_empty(tok, tok.bos());
  eos_text_ = token_text_or_empty(tok, tok.eos());
  for (const std::string& m : tool_call_marker_tokens(tool_format_))
    if (auto id = tok.find(m); id && tok.token_type(*id) == TokenType::Control) marker_tokens_.push_back(*id);
  if (fallback_ && !tok.find("<|im_end|>")) extra_stops_.push_back("<|im_end|>");
}

std::string ChatPrompt::render(const std::vector<ChatMessage>& messages, const nlohmann::json& tools,
                               const nlohmann::json& template_kwargs) const {
  ChatTemplateInputs in;
  in.messages = messages;
  if (!tools.is_null()) in.tools_json = tools.dump();
  in.add_generation_prompt = true;
  in.bos_token = bos_text_;
  in.eos_token = eos_text_;
  if (template_kwargs.is_object()) in.extra_context_json = template_kwargs.dump();
  return template_->render(in);
}

std::vector<int32_t> ChatPrompt::tokenize(const std::string& prompt) const {
  const Tokenizer& tok = model_->tokenizer();
  // The tokenizer adds BOS/EOS as the vocabulary asks; the template's own copies go (as llama.cpp does).
  std::string_view text = prompt;
  if (tok.add_bos() && !bos_text_.empty() && text.starts_with(bos_text_)) text.remove_prefix(bos_text_.size());
  if (tok.add_eos() && !eos_text_.empty() && text.ends_with(eos_text_)) text.remove_suffix(eos_text_.size());
  return tok.encode(text, /*add_special=*/true, /*parse_special=*/true);
}

}  // namespace ember::server
