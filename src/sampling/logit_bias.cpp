#include <cmath>
#include <limits>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class LogitBiasStage final : public SamplerStage {
 public:
  explicit LogitBiasStage(std::map<int32_t, float> bias) : bias_(std::move(bias)) {}
  std::string name() const override { return "logit_bias(" + std::to_string(bias_.size()) + " tokens)"; }

  void apply(TokenCandidates& c) override {
    if (bias_.empty()) return;
    sampling::for_each_listed(c, bias_, [](TokenProb& t, float bias) {
      // A ban must hold even against a +inf logit (inf + -inf would be NaN).
      t.logit = std::isinf(bias) && bias < 0 ? -std::numeric_limits<float>::infinity() : t.logit + bias;
    });
    c.sorted = false;
  }

 private:
  std::map<int32_t, float> bias_;
};

}  // namespace

std::unique_ptr<SamplerStage> make_logit_bias_stage(std::map<int32_t, float> bias) {
  for (const auto& [id, b] : bias) {
    sampling::require_arg(!std::isnan(b) && !(std::isinf(b) && b > 0), "logit_bias", "a bias must be finite or -inf", b);
  }
  return std::make_unique<LogitBiasStage>(std::move(bias));
}

}  // namespace ember
