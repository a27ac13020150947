#include "ember/error.h"
#include "ember/sampler.h"

namespace ember {

SamplerChain::SamplerChain(int32_t n_vocab) : n_vocab_(n_vocab) {
  if (n_vocab < 0) throw Error(ErrorKind::InvalidArgument, "[sampler] n_vocab must be >= 0, got " + std::to_string(n_vocab));
}
SamplerChain::SamplerChain(SamplerChain&&) noexcept = default;
SamplerChain& SamplerChain::operator=(SamplerChain&&) noexcept = default;
SamplerChain::~SamplerChain() = default;

SamplerChain SamplerChain::from_params(const SamplingParams& params, int32_t n_vocab) {
  params.validate();
  if (n_vocab <= 0) {
    throw Error(ErrorKind::InvalidArgument, "[sampler] n_vocab must be > 0, got " + std::to_string(n_vocab));
  }
  for (const auto& [id, bias] : params.logit_bias) {
    if (id >= n_vocab) {
      throw Error(ErrorKind::InvalidArgument, "[sampler] logit_bias token id " + std::to_string(id) +
                                                  " out of range (n_vocab " + std::to_string(n_vocab) + ")");
    }
  }

  SamplerChain chain(n_vocab);
  const bool penalize = params.repeat_last_n != 0 && (params.repeat_penalty != 1.0f ||
                                                      params.frequency_penalty != 0.0f ||
                                                      params.presence_penalty != 0.0f);
  if (penalize) {
    chain.add(make_penalties_stage(params.repeat_last_n, params.repeat_penalty, params.frequency_penalty,
                                   params.presence_penalty));
  }
  if (!params.logit_bias.empty()) chain.add(make_logit_bias_stage(params.logit_bias));

  if (params.temperature <= 0.0f) {
    // The truncating stages all keep the best token, so argmax needs none of them.
    chain.add(make_greedy_stage());
    return chain;
  }
  if (params.top_k > 0) chain.add(make_top_k_stage(params.top_k));
  if (params.typical_p < 1.0f) chain.add(make_typical_stage(params.typical_p));
  if (params.top_p < 1.0f) chain.add(make_top_p_stage(params.top_p));
  if (params.min_p > 0.0f) chain.add(make_min_p_stage(params.min_p));
  if (params.temperature != 1.0f) chain.add(make_temperature_stage(params.temperature));
  chain.seed_ = resolve_seed(params.seed);
  chain.add(make_dist_stage(chain.seed_));
  return chain;
}

SamplerChain& SamplerChain::add(std::unique_ptr<SamplerStage> stage) {
  if (!stage) throw Error(ErrorKind::InvalidArgument, "[sampler] add: null stage");
  stages_.push_back(std::move(stage));
  return *this;
}

int32_t SamplerChain::sample(std::span<const float> logits) {
  if (logits.empty()) throw Error(ErrorKind::InvalidArgument, "[sampler] sample: empty logits");
  if (n_vocab_ > 0 && logits.size() != static_cast<size_t>(n_vocab_)) {
    throw Error(ErrorKind::InvalidArgument, "[sampler] sample: got " + std::to_string(logits.size()) +
                                                " logits, expected n_vocab " + std::to_string(n_vocab_));
  }
  candidates_.assign(logits);
  return sample(candidates_);
}

int32_t SamplerChain::sample(TokenCandidates& candidates) {
  if (candidates.items.empty()) throw Error(ErrorKind::InvalidArgument, "[sampler] sample: no candidates");
  candidates.selected = -1;
  for (const auto& stage : stages_) stage->apply(candidates);
  if (candidates.selected < 0 || candidates.selected >= static_cast<int64_t>(candidates.items.size())) {
    throw Error(ErrorKind::InvalidArgument,
                "[sampler] sample: no stage selected a token (the chain must end with dist or greedy)");
  }
  return candidates.items[static_cast<size_t>(candidates.selected)].id;
}

void SamplerChain::accept(int32_t token) {
  if (token < 0 || (n_vocab_ > 0 && token >= n_vocab_)) {
    throw Error(ErrorKind::InvalidArgument, "[sampler] accept: token " + std::to_string(token) +
                                                " out of range (n_vocab " + std::to_string(n_vocab_) + ")");
  }
  for (const auto& stage : stages_) stage->accept(token);
}

void SamplerChain::reset() {
  for (const auto& stage : stages_) stage->reset();
}

std::string SamplerChain::describe() const {
  std::string out;
  for (const auto& stage : stages_) {
    if (!out.empty()) out += " -> ";
    out += stage->name();
  }
  return out;
}

}  // namespace ember
