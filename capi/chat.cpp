// ember_render_chat_template*, ember_model_apply_chat_template: the Jinja chat
// templates of include/ember/chat.h.
#include <string>
#include <vector>

#include "capi_internal.h"
#include "ember/chat.h"
#include "ember/tokenizer.h"

using namespace ember;
using namespace ember::capi;

namespace {

// A special token's text as the vocabulary stores it ("<s>"), "" when there is none.
std::string token_text_or_empty(const Tokenizer& tok, int32_t id) { return id >= 0 ? tok.token_text(id) : ""; }

}  // namespace

namespace ember::capi {

std::vector<ChatMessage> to_messages(const ember_chat_message* messages, size_t n, const char* fn) {
  if (n > 0) require(messages, fn, "messages");
  std::vector<ChatMessage> out(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string at = where(fn) + "messages[" + std::to_string(i) + "].";
    if (!messages[i].role) throw Error(ErrorKind::InvalidArgument, at + "role is NULL");
    if (!messages[i].content) throw Error(ErrorKind::InvalidArgument, at + "content is NULL");
    out[i].role = messages[i].role;
    out[i].content = messages[i].content;
  }
  return out;
}

}  // namespace ember::capi

extern "C" {

EMBER_API ember_status ember_render_chat_template(const char* tmpl, const ember_chat_message* messages,
                                                  size_t n_messages, bool add_generation_prompt,
                                                  const char* bos_token, const char* eos_token, char* buf,
                                                  size_t buf_size, size_t* out_len) {
  const char* fn = "ember_render_chat_template";
  return guard(fn, [&]() -> ember_status {
    require(tmpl, fn, "tmpl");
    if (out_len) *out_len = 0;
    ChatTemplateInputs in;
    in.messages = to_messages(messages, n_messages, fn);
    in.add_generation_prompt = add_generation_prompt;
    in.bos_token = bos_token ? bos_token : "";
    in.eos_token = eos_token ? eos_token : "";
    return write_text(render_chat_template(tmpl, in), buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_render_chat_template_json(const char* tmpl, const char* context_json, char* buf,
                                                       size_t buf_size, size_t* out_len) {
  const char* fn = "ember_render_chat_template_json";
  return guard(fn, [&]() -> ember_status {
    require(tmpl, fn, "tmpl");
    require(context_json, fn, "context_json");
    if (out_len) *out_len = 0;
    return write_text(render_chat_template_json(tmpl, context_json), buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_model_apply_chat_template(const ember_model* model, const ember_chat_message* messages,
                                                       size_t n_messages, bool add_generation_prompt, char* buf,
                                                       size_t buf_size, size_t* out_len) {
  const char* fn = "ember_model_apply_chat_template";
  return guard(fn, [&]() -> ember_status {
    const Model& m = model_of(model, fn);
    if (out_len) *out_len = 0;
    const Tokenizer& tok = m.tokenizer();
    ChatTemplateInputs in;
    in.messages = to_messages(messages, n_messages, fn);
    in.add_generation_prompt = add_generation_prompt;
    in.bos_token = token_text_or_empty(tok, tok.bos());
    in.eos_token = token_text_or_empty(tok, tok.eos());
    const std::optional<std::string> own = m.chat_template();
    return write_text(render_chat_template(own ? *own : chatml_template(), in), buf, buf_size, out_len, fn);
  });
}

}  // extern "C"
