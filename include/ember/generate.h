#pragma once
// Text generation on a Session: prompt in, streamed pieces of text out.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ember/sampler.h"

namespace ember {

struct GenerateParams {
  SamplingParams sampling;
  /// Tokens to generate at most (-1: until end of generation or a full context).
  int32_t n_predict = 256;
  /// Generation stops when the text contains one of these; it is not returned.
  std::vector<std::string> stop;
  /// Add BOS/EOS as the vocabulary asks.
  bool add_special = true;
  /// Read special tokens written in the prompt ("<|im_start|>") as such.
  bool parse_special = false;
  /// Keep going past end-of-generation tokens.
  bool ignore_eos = false;
  /// Called after each prompt chunk: (tokens done, tokens in the prompt).
  std::function<void(int32_t done, int32_t total)> on_prompt_progress;
};

enum class StopReason { EndOfGeneration, Length, StopString, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r) noexcept;

struct GenerateStats {
  int32_t prompt_tokens = 0;     // tokens of this call's prompt
  int32_t reused_tokens = 0;     // of those, already in the KV cache from the previous call
  int32_t generated_tokens = 0;
  double ttft_ms = 0;            // call start to first generated token
  double prefill_ms = 0;
  double decode_ms = 0;
  double prefill_tok_s = 0;      // prompt tokens evaluated / prefill time
  double decode_tok_s = 0;       // generated tokens after the first / decode time
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;
  StopReason stop_reason = StopReason::Length;
  GenerateStats stats;
};

/// Receives each piece of generated text as soon as it is whole UTF-8;
/// return false to stop.
using OnPiece = std::function<bool(std::string_view piece)>;

}  // namespace ember
