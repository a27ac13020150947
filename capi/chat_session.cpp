// ember_chat_*: a conversation over a session (include/ember/chat_session.h),
// with the last reply kept in the handle for the reply accessors.
#include <optional>
#include <string>
#include <vector>

#include "capi_internal.h"
#include "ember/chat_session.h"

using namespace ember;
using namespace ember::capi;

struct ember_chat {
  ember_chat(ember_session& s, std::optional<std::string> tmpl) : session(&s), chat(s.session, std::move(tmpl)) {}
  ember_session* session;
  ChatSession chat;
  std::optional<ChatReply> reply;
};

namespace {

ember_chat& chat_of(ember_chat* c, const char* fn) {
  require(c, fn, "chat");
  return *c;
}
const ember_chat& chat_of(const ember_chat* c, const char* fn) {
  require(c, fn, "chat");
  return *c;
}

ember_status run_chat(ember_chat* chat, const std::vector<ChatMessage>& messages, const char* tools_json,
                      const ember_generate_params* params, ember_generate_stats* stats, const char* fn) {
  ember_chat& c = chat_of(chat, fn);
  check_stats(stats, fn);
  if (messages.empty()) throw Error(ErrorKind::InvalidArgument, where(fn) + "no messages");
  ChatParams cp;
  OnPiece on_piece;
  cp.generate = read_generate_params(params, *c.session, fn, on_piece);
  if (tools_json) cp.tools_json = tools_json;
  c.reply.reset();
  ember_session& h = *c.session;
  try {
    c.reply = c.chat.chat(messages, cp, on_piece);
  } catch (...) {
    h.own_logits = true;  // as after a failed generate: no row of logits is readable
    h.n_logit_rows = 0;
    throw;
  }
  h.own_logits = false;
  write_stats(c.reply->raw, stats);
  return EMBER_OK;
}

const ChatReply& reply_of(const ember_chat* chat, const char* fn) {
  const ember_chat& c = chat_of(chat, fn);
  if (!c.reply) throw Error(ErrorKind::InvalidArgument, where(fn) + "the chat has no reply yet (or its last turn failed)");
  return *c.reply;
}

}  // namespace

extern "C" {

EMBER_API ember_status ember_chat_create(ember_session* session, const char* tmpl, ember_chat** out_chat) {
  const char* fn = "ember_chat_create";
  return guard(fn, [&]() -> ember_status {
    require(out_chat, fn, "out_chat");
    *out_chat = nullptr;
    require(session, fn, "session");
    std::optional<std::string> t;
    if (tmpl) t = std::string(tmpl);
    *out_chat = new ember_chat(*session, std::move(t));
    return EMBER_OK;
  });
}

EMBER_API void ember_chat_free(ember_chat* chat) { delete chat; }

EMBER_API ember_status ember_chat_uses_fallback_template(const ember_chat* chat, bool* out) {
  const char* fn = "ember_chat_uses_fallback_template";
  return guard(fn, [&]() -> ember_status {
    require(out, fn, "out");
    *out = chat_of(chat, fn).chat.uses_fallback_template();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_chat_render_json(const ember_chat* chat, const char* messages_json,
                                             const char* tools_json, bool add_generation_prompt, char* buf,
                                             size_t buf_size, size_t* out_len) {
  const char* fn = "ember_chat_render_json";
  return guard(fn, [&]() -> ember_status {
    const ember_chat& c = chat_of(chat, fn);
    require(messages_json, fn, "messages_json");
    if (out_len) *out_len = 0;
    ChatParams cp;
    if (tools_json) cp.tools_json = tools_json;
    cp.add_generation_prompt = add_generation_prompt;
    return write_text(c.chat.render(chat_messages_from_json(messages_json), cp), buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_chat_generate(ember_chat* chat, const ember_chat_message* messages, size_t n_messages,
                                           const ember_generate_params* params, ember_generate_stats* stats) {
  const char* fn = "ember_chat_generate";
  return guard(fn, [&]() -> ember_status {
    return run_chat(chat, to_messages(messages, n_messages, fn), nullptr, params, stats, fn);
  });
}

EMBER_API ember_status ember_chat_generate_json(ember_chat* chat, const char* messages_json, const char* tools_json,
                                                const ember_generate_params* params, ember_generate_stats* stats) {
  const char* fn = "ember_chat_generate_json";
  return guard(fn, [&]() -> ember_status {
    require(messages_json, fn, "messages_json");
    return run_chat(chat, chat_messages_from_json(messages_json), tools_json, params, stats, fn);
  });
}

EMBER_API ember_status ember_chat_reply_content(const ember_chat* chat, char* buf, size_t buf_size, size_t* out_len) {
  const char* fn = "ember_chat_reply_content";
  return guard(fn, [&]() -> ember_status {
    if (out_len) *out_len = 0;
    return write_text(reply_of(chat, fn).content, buf, buf_size, out_len, fn);
  });
}

EMBER_API const char* ember_chat_reply_finish_reason(const ember_chat* chat) {
  if (!chat || !chat->reply) return "";
  const std::string& r = chat->reply->finish_reason;
  // Static text, so the pointer outlives the reply.
  for (const char* s : {"stop", "length", "tool_calls", "cancelled"})
    if (r == s) return s;
  return "stop";
}

EMBER_API ember_status ember_chat_reply_n_tool_calls(const ember_chat* chat, size_t* out) {
  const char* fn = "ember_chat_reply_n_tool_calls";
  return guard(fn, [&]() -> ember_status {
    require(out, fn, "out");
    *out = 0;
    *out = reply_of(chat, fn).tool_calls.size();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_chat_reply_tool_call(const ember_chat* chat, size_t i, int field, char* buf,
                                                  size_t buf_size, size_t* out_len) {
  const char* fn = "ember_chat_reply_tool_call";
  return guard(fn, [&]() -> ember_status {
    if (out_len) *out_len = 0;
    const ChatReply& r = reply_of(chat, fn);
    if (i >= r.tool_calls.size())
      throw Error(ErrorKind::InvalidArgument, where(fn) + "tool call " + std::to_string(i) + " of " +
                                                  std::to_string(r.tool_calls.size()));
    const ChatToolCall& call = r.tool_calls[i];
    switch (field) {
      case EMBER_TOOL_CALL_ID: return write_text(call.id, buf, buf_size, out_len, fn);
      case EMBER_TOOL_CALL_NAME: return write_text(call.name, buf, buf_size, out_len, fn);
      case EMBER_TOOL_CALL_ARGUMENTS: return write_text(call.arguments, buf, buf_size, out_len, fn);
    }
    throw Error(ErrorKind::InvalidArgument, where(fn) + "field " + std::to_string(field) +
                                                " is not one of EMBER_TOOL_CALL_ID, _NAME, _ARGUMENTS");
  });
}

EMBER_API ember_status ember_chat_reply_json(const ember_chat* chat, char* buf, size_t buf_size, size_t* out_len) {
  const char* fn = "ember_chat_reply_json";
  return guard(fn, [&]() -> ember_status {
    if (out_len) *out_len = 0;
    return write_text(chat_reply_json(reply_of(chat, fn)), buf, buf_size, out_len, fn);
  });
}

}  // extern "C"
