// ember_session_generate*: sampling parameters in, text out through the
// piece callback and/or a caller buffer, plus the run's statistics.
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "capi_internal.h"
#include "ember/generate.h"

using namespace ember;
using namespace ember::capi;

namespace {

ember_generate_params generate_defaults() {
  ember_generate_params p{};
  const GenerateParams cpp;
  const SamplingParams& s = cpp.sampling;
  p.struct_size = sizeof p;
  p.temperature = s.temperature;
  p.top_k = s.top_k;
  p.top_p = s.top_p;
  p.min_p = s.min_p;
  p.typical_p = s.typical_p;
  p.repeat_penalty = s.repeat_penalty;
  p.repeat_last_n = s.repeat_last_n;
  p.frequency_penalty = s.frequency_penalty;
  p.presence_penalty = s.presence_penalty;
  p.seed = s.seed;
  p.n_predict = cpp.n_predict;
  p.add_special = cpp.add_special;
  p.parse_special = cpp.parse_special;
  p.ignore_eos = cpp.ignore_eos;
  return p;
}
static_assert(kDefaultSeed == EMBER_SEED_RANDOM);

int32_t stop_code(StopReason r) {
  switch (r) {
    case StopReason::EndOfGeneration: return EMBER_STOP_END_OF_GENERATION;
    case StopReason::Length: return EMBER_STOP_LENGTH;
    case StopReason::StopString: return EMBER_STOP_STRING;
    case StopReason::ContextFull: return EMBER_STOP_CONTEXT_FULL;
    case StopReason::Cancelled: return EMBER_STOP_CANCELLED;
  }
  return EMBER_STOP_CANCELLED;
}


GenerateParams to_cpp(const ember_generate_params& p, ember_session& h, const char* fn) {
  GenerateParams g;
  SamplingParams& s = g.sampling;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.typical_p = p.typical_p;
  s.repeat_penalty = p.repeat_penalty;
  s.repeat_last_n = p.repeat_last_n;
  s.frequency_penalty = p.frequency_penalty;
  s.presence_penalty = p.presence_penalty;
  s.seed = p.seed;
  if (p.n_logit_bias > 0) {
    if (!p.logit_bias_tokens)
      throw Error(ErrorKind::InvalidArgument, where(fn) + "params->logit_bias_tokens is NULL");
    if (!p.logit_bias) throw Error(ErrorKind::InvalidArgument, where(fn) + "params->logit_bias is NULL");
    for (size_t i = 0; i < p.n_logit_bias; ++i) s.logit_bias[p.logit_bias_tokens[i]] += p.logit_bias[i];
  }
  g.n_predict = p.n_predict;
  g.add_special = p.add_special;
  g.parse_special = p.parse_special;
  g.ignore_eos = p.ignore_eos;
  if (p.n_stop > 0) {
    if (!p.stop)
      throw Error(ErrorKind::InvalidArgument,
                  where(fn) + "params->stop is NULL but n_stop is " + std::to_string(p.n_stop));
    for (size_t i = 0; i < p.n_stop; ++i) {
      if (!p.stop[i])
        throw Error(ErrorKind::InvalidArgument, where(fn) + "params->stop[" + std::to_string(i) + "] is NULL");
      g.stop.emplace_back(p.stop[i]);
    }
  }
  if (p.on_prompt_progress) {
    const ember_prompt_progress_callback cb = p.on_prompt_progress;
    void* ud = p.on_prompt_progress_user_data;
    Session* s_ptr = &h.session;
    // Session::generate checks its cancel flag right after this callback.
    g.on_prompt_progress = [cb, ud, s_ptr](int32_t done, int32_t total) {
      if (cb(done, total, ud) != 0) s_ptr->cancel();
    };
  }
  return g;
}

}  // namespace

namespace ember::capi {

GenerateParams read_generate_params(const ember_generate_params* params, ember_session& h, const char* fn,
                                    OnPiece& on_piece) {
  const ember_generate_params p = read_params(params, generate_defaults(), fn, "params");
  GenerateParams g = to_cpp(p, h, fn);
  on_piece = {};
  if (p.on_piece) {
    const ember_piece_callback cb = p.on_piece;
    void* ud = p.on_piece_user_data;
    on_piece = [cb, ud](std::string_view piece) { return cb(piece.data(), piece.size(), ud) == 0; };
  }
  return g;
}

void check_stats(const ember_generate_stats* stats, const char* fn) {
  if (stats && stats->struct_size < sizeof(size_t))
    throw Error(ErrorKind::InvalidArgument, where(fn) + "stats->struct_size is " +
                                                std::to_string(stats->struct_size) +
                                                ": set it to sizeof(ember_generate_stats)");
}

void write_stats(const GenerateResult& r, ember_generate_stats* stats) noexcept {
  if (!stats) return;
  ember_generate_stats st{};
  st.struct_size = stats->struct_size;
  st.stop_reason = stop_code(r.stop_reason);
  st.prompt_tokens = r.stats.prompt_tokens;
  st.reused_tokens = r.stats.reused_tokens;
  st.generated_tokens = r.stats.generated_tokens;
  st.ttft_ms = r.stats.ttft_ms;
  st.prefill_ms = r.stats.prefill_ms;
  st.decode_ms = r.stats.decode_ms;
  st.prefill_tok_s = r.stats.prefill_tok_s;
  st.decode_tok_s = r.stats.decode_tok_s;
  std::memcpy(static_cast<void*>(stats), &st, std::min(stats->struct_size, sizeof st));
}

}  // namespace ember::capi

namespace {

// Cuts text to at most max bytes without splitting a UTF-8 sequence.
size_t utf8_cut(std::string_view text, size_t max) {
  if (text.size() <= max) return text.size();
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

template <class Run>
ember_status run_generate(ember_session* session, const void* prompt, const ember_generate_params* params, char* text,
                          size_t text_size, size_t* out_text_len, ember_generate_stats* stats, const char* fn, Run run) {
  return guard(fn, [&]() -> ember_status {
    require(session, fn, "session");
    require(prompt, fn, "prompt");
    if (out_text_len) *out_text_len = 0;
    if (!text && text_size > 0)
      throw Error(ErrorKind::InvalidArgument, where(fn) + "text is NULL but text_size is " + std::to_string(text_size));
    if (text_size > 0) text[0] = '\0';
    check_stats(stats, fn);
    ember_session& h = *session;
    OnPiece on_piece;
    const GenerateParams g = read_generate_params(params, h, fn, on_piece);
    GenerateResult r;
    try {
      r = run(h.session, g, on_piece);
    } catch (...) {
      h.own_logits = true;  // whichever rows the failure left behind, none is readable
      h.n_logit_rows = 0;
      throw;
    }
    h.own_logits = false;  // the Session's rows are the generation's last step

    write_stats(r, stats);
    if (out_text_len) *out_text_len = r.text.size();
    if (text_size == 0) return EMBER_OK;  // no buffer: the callback had the text
    const size_t n = utf8_cut(r.text, text_size - 1);
    std::memcpy(text, r.text.data(), n);
    text[n] = '\0';
    if (n < r.text.size())
      return fail(EMBER_ERR_BUFFER_TOO_SMALL, fn,
                  where(fn) + "the generated text needs " + std::to_string(r.text.size() + 1) +
                      " bytes with its NUL; the buffer has " + std::to_string(text_size) +
                      " (it holds the first " + std::to_string(n) + ")");
    return EMBER_OK;
  });
}

}  // namespace

extern "C" {

EMBER_API ember_status ember_generate_default_params(ember_generate_params* params, size_t struct_size) {
  return guard("ember_generate_default_params", [&]() -> ember_status {
    return init_params(params, struct_size, generate_defaults(), "ember_generate_default_params");
  });
}

EMBER_API ember_status ember_session_generate(ember_session* session, const char* prompt, size_t prompt_len,
                                              const ember_generate_params* params, char* text, size_t text_size,
                                              size_t* out_text_len, ember_generate_stats* stats) {
  const char* fn = "ember_session_generate";
  return run_generate(session, prompt, params, text, text_size, out_text_len, stats, fn,
                      [&](Session& s, const GenerateParams& g, const OnPiece& on_piece) {
                        return s.generate(std::string_view(prompt, prompt_len), g, on_piece);
                      });
}

EMBER_API ember_status ember_session_generate_tokens(ember_session* session, const ember_token* prompt,
                                                     size_t n_prompt, const ember_generate_params* params, char* text,
                                                     size_t text_size, size_t* out_text_len,
                                                     ember_generate_stats* stats) {
  const char* fn = "ember_session_generate_tokens";
  return run_generate(session, n_prompt > 0 ? static_cast<const void*>(prompt) : "", params, text, text_size,
                      out_text_len, stats, fn, [&](Session& s, const GenerateParams& g, const OnPiece& on_piece) {
                        return s.generate_tokens(std::span<const int32_t>(prompt, n_prompt), g, on_piece);
                      });
}

}  // extern "C"
