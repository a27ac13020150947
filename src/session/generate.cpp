// Session::generate: the prompt -> text loop over decode() and logits(),
// with the sampler chain, streaming detokenization and stop strings.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "ember/error.h"
#include "ember/sampler.h"
#include "ember/session.h"
#include "ember/stop.h"
#include "ember/tokenizer.h"

namespace ember {

const char* stop_reason_name(StopReason r) noexcept {
  switch (r) {
    case StopReason::EndOfGeneration: return "end of generation";
    case StopReason::Length: return "length";
    case StopReason::StopString: return "stop string";
    case StopReason::ContextFull: return "context full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

GenerateResult Session::generate(std::string_view prompt, const GenerateParams& params, const OnPiece& on_piece) {
  if (!model().has_tokenizer())
    throw Error(ErrorKind::InvalidArgument, "[generate] the model has no tokenizer; use generate_tokens()");
  std::vector<int32_t> tokens = model().tokenizer().encode(prompt, params.add_special, params.parse_special);
  return generate_tokens(tokens, params, on_piece);
}

GenerateResult Session::generate_tokens(std::span<const int32_t> prompt_in, const GenerateParams& params,
                                        const OnPiece& on_piece) {
  const auto t_start = Clock::now();
  params.sampling.validate();
  if (params.n_predict < -1)
    throw Error(ErrorKind::InvalidArgument,
                "[generate] n_predict must be >= -1 (-1: no limit), got " + std::to_string(params.n_predict));
  const int n_vocab = this->n_vocab(), n_ctx = this->n_ctx();
  std::vector<int32_t> prompt(prompt_in.begin(), prompt_in.end());
  if (prompt.empty()) {
    // Nothing to condition on: start from BOS where the vocabulary has one.
    const int32_t bos = model().has_tokenizer() ? model().tokenizer().bos() : -1;
    if (bos < 0) throw Error(ErrorKind::InvalidArgument, "[generate] empty prompt and the vocabulary has no BOS token");
    prompt.push_back(bos);
  }
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= n_vocab)
      throw Error(ErrorKind::InvalidArgument, "[generate] prompt token " + std::to_string(i) + " has id " +
                                                  std::to_string(prompt[i]) + ", outside the vocabulary (" +
                                                  std::to_string(n_vocab) + ")");
  if (int64_t(prompt.size()) >= n_ctx)
    throw Error(ErrorKind::InvalidArgument, "[generate] the prompt has " + std::to_string(prompt.size()) +
                                                " tokens; the context holds " + std::to_string(n_ctx) +
                                                " (the prompt plus at least one generated token must fit)");
  // Built before anything changes, so bad logit_bias ids leave the cache alone.
  SamplerChain chain = SamplerChain::from_params(params.sampling, n_vocab);
  std::atomic<bool>& cancel = cancel_flag();
  cancel.store(false, std::memory_order_relaxed);

  GenerateResult result;
  GenerateStats& st = result.stats;
  st.prompt_tokens = int32_t(prompt.size());

  // Reuse the cached prefix; at least the last prompt token is evaluated again for its logits.
  const std::vector<int32_t> cached = kv_tokens(0);
  size_t keep = 0;
  while (keep < cached.size() && keep < prompt.size() && cached[keep] == prompt[keep]) ++keep;
  keep = std::min(keep, prompt.size() - 1);
  kv_remove(0, int(keep), -1);
  st.reused_tokens = int32_t(keep);

  const auto t_prefill = Clock::now();
  const size_t chunk = size_t(std::max(1, this->params().n_batch));
  for (size_t b = keep; b < prompt.size(); b += chunk) {
    const size_t e = std::min(prompt.size(), b + chunk);
    Batch batch;
    batch.entries.reserve(e - b);
    for (size_t i = b; i < e; ++i) batch.add(prompt[i], int32_t(i), 0, i + 1 == prompt.size());
    decode(batch);
    if (params.on_prompt_progress) params.on_prompt_progress(int32_t(e), int32_t(prompt.size()));
    if (cancel.load(std::memory_order_relaxed)) {
      result.stop_reason = StopReason::Cancelled;
      return result;
    }
  }
  st.prefill_ms = ms_since(t_prefill);
  st.prefill_tok_s = st.prefill_ms > 0 ? double(prompt.size() - keep) * 1000.0 / st.prefill_ms : 0.0;

  for (int32_t t : prompt) chain.accept(t);  // the prompt counts for the repetition penalties
  const Tokenizer* tok = model().has_tokenizer() ? &model().tokenizer() : nullptr;
  std::optional<StreamDecoder> text;
  if (tok) text.emplace(*tok, /*special=*/false);
  StopMatcher stops(params.stop);
  bool stopped_by_caller = false;
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return;
    result.text += piece;
    if (on_piece && !on_piece(piece)) stopped_by_caller = true;
  };

  Clock::time_point t_first{};
  int32_t pos = int32_t(prompt.size());
  result.stop_reason = StopReason::Length;
  for (;;) {
    if (params.n_predict >= 0 && st.generated_tokens >= params.n_predict) {
      result.stop_reason = StopReason::Length;
      break;
    }
    const int32_t id = chain.sample(logits(-1));
    chain.accept(id);
    if (st.generated_tokens == 0) {
      t_first = Clock::now();
      st.ttft_ms = ms_since(t_start);
    }
    if (!params.ignore_eos && tok && tok->is_eog(id)) {
      result.stop_reason = StopReason::EndOfGeneration;
      break;
    }
    ++st.generated_tokens;
    result.tokens.push_back(id);
    if (text) {
      const StopMatcher::Step step = stops.push(text->push(id));
      emit(step.text);
      if (step.stopped) {
        result.stop_reason = StopReason::StopString;
        break;
      }
    }
    if (stopped_by_caller || cancel.load(std::memory_order_relaxed)) {
      result.stop_reason = StopReason::Cancelled;
      break;
    }
    if (pos >= n_ctx) {
      result.stop_reason = StopReason::ContextFull;
      break;
    }
    Batch next;
    next.add(id, pos++, 0, true);
    decode(next);
  }
  if (text && result.stop_reason != StopReason::StopString) {
    const StopMatcher::Step tail = stops.push(text->flush());
    emit(tail.text);
    if (!tail.stopped) emit(stops.flush());
  }
  if (st.generated_tokens > 0) {
    st.decode_ms = ms_since(t_first);
    st.decode_tok_s = st.generated_tokens > 1 && st.decode_ms > 0 ? (st.generated_tokens - 1) * 1000.0 / st.decode_ms : 0.0;
  }
  return result;
}

}  // namespace ember
