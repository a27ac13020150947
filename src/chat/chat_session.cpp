#include "ember/chat_session.h"

#include <algorithm>
#include <unordered_set>

#include "ember/error.h"
#include "ember/log.h"
#include "ember/stop.h"
#include "ember/tokenizer.h"
#include "chat/tool_call_stream.h"

namespace ember {
namespace {

std::string token_text_or_empty(const Tokenizer& tok, int32_t id) {
  if (id < 0 || id >= tok.n_vocab()) return {};
  return tok.token_text(id);
}

const char* finish_reason_of(StopReason r) {
  switch (r) {
    case StopReason::EndOfGeneration:
    case StopReason::StopString: return "stop";
    case StopReason::Length:
    case StopReason::ContextFull: return "length";
    case StopReason::Cancelled: return "cancelled";
  }
  return "stop";
}

}  // namespace

ChatSession::ChatSession(Session& session, std::optional<std::string> chat_template) : session_(session) {
  const Model& model = session_.model();
  if (!chat_template) chat_template = model.chat_template();
  if (chat_template && !chat_template->empty()) {
    template_ = std::move(*chat_template);
  } else {
    template_ = chatml_template();
    fallback_ = true;
    log(LogLevel::Warn, "[chat] the model has no tokenizer.chat_template; using ChatML");
  }
  parsed_ = ChatTemplate::parse(template_);
  detected_format_ = detect_tool_call_format(template_);
  if (model.has_tokenizer()) {
    const Tokenizer& tok = model.tokenizer();
    bos_text_ = token_text_or_empty(tok, tok.bos());
    eos_text_ = token_text_or_empty(tok, tok.eos());
  }
}

std::string ChatSession::render(const std::vector<ChatMessage>& messages, const ChatParams& params) const {
  if (!params.tools_json.empty()) check_tools_json(params.tools_json);
  ChatTemplateInputs in;
  in.messages = messages;
  in.tools_json = params.tools_json;
  in.add_generation_prompt = params.add_generation_prompt;
  in.bos_token = bos_text_;
  in.eos_token = eos_text_;
  return parsed_->render(in);
}

ChatReply ChatSession::chat(const std::vector<ChatMessage>& messages, const ChatParams& params,
                            const OnPiece& on_piece) {
  std::string prompt = render(messages, params);
  const Model& model = session_.model();
  if (!model.has_tokenizer()) throw Error(ErrorKind::InvalidArgument, "[chat] the model has no tokenizer");
  const Tokenizer& tok = model.tokenizer();
  // The tokenizer adds BOS/EOS as the vocabulary asks; the template's own copies go.
  if (tok.add_bos() && !bos_text_.empty() && prompt.starts_with(bos_text_)) prompt.erase(0, bos_text_.size());
  if (tok.add_eos() && !eos_text_.empty() && prompt.ends_with(eos_text_))
    prompt.erase(prompt.size() - eos_text_.size());

  GenerateParams gp = params.generate;
  gp.add_special = true;
  gp.parse_special = true;
  if (fallback_ && !tok.find("<|im_end|>") &&
      std::find(gp.stop.begin(), gp.stop.end(), "<|im_end|>") == gp.stop.end())
    gp.stop.push_back("<|im_end|>");

  const bool with_tools = !params.tools_json.empty() && params.tool_format != ToolCallFormat::None;
  ToolCallFormat format = params.tool_format == ToolCallFormat::Auto ? detected_format_ : params.tool_format;
  if (format == ToolCallFormat::None) format = ToolCallFormat::Auto;

  ChatReply reply;
  if (!with_tools) {
    reply.raw = session_.generate(prompt, gp, on_piece);
    reply.content = reply.raw.text;
    reply.finish_reason = finish_reason_of(reply.raw.stop_reason);
    return reply;
  }

  chat::ToolCallStream hold(on_piece);
  reply.raw = session_.generate(prompt, gp, [&](std::string_view piece) { return hold.push(piece); });

  // Generated text drops control tokens; the format's markers among them are put back for the parser.
  std::unordered_set<int32_t> markers;
  for (const std::string& m : tool_call_marker_tokens(format))
    if (auto id = tok.find(m); id && tok.token_type(*id) == TokenType::Control) markers.insert(*id);
  std::string text = reply.raw.text;
  if (std::any_of(reply.raw.tokens.begin(), reply.raw.tokens.end(), [&](int32_t t) { return markers.count(t) > 0; })) {
    StreamDecoder dec(tok, /*special=*/false);
    std::string full;
    for (int32_t t : reply.raw.tokens) {
      if (markers.count(t)) full += dec.flush() + tok.token_text(t);
      else full += dec.push(t);
    }
    full += dec.flush();
    StopMatcher stops(gp.stop);  // cut where generation cut
    const StopMatcher::Step step = stops.push(full);
    text = step.text + (step.stopped ? std::string() : stops.flush());
  }

  ParsedToolCalls parsed = parse_tool_calls(text, format, n_turns_++);
  reply.content = std::move(parsed.content);
  reply.tool_calls = std::move(parsed.calls);
  reply.finish_reason = finish_reason_of(reply.raw.stop_reason);
  if (!reply.tool_calls.empty() && reply.raw.stop_reason != StopReason::Cancelled) reply.finish_reason = "tool_calls";
  if (reply.raw.stop_reason != StopReason::Cancelled) hold.finish(reply.content);
  return reply;
}

}  // namespace ember
