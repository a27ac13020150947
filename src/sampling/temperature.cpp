#include <cmath>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class TemperatureStage final : public SamplerStage {
 public:
  explicit TemperatureStage(float t) : t_(t) {}
  std::string name() const override { return "temperature(" + sampling::format_float(t_) + ")"; }

  void apply(TokenCandidates& c) override {
    if (c.items.empty()) return;
    if (t_ <= 0.0f) {
      // The limit t -> 0 puts all the mass on the best token.
      c.sort_top(1);
      c.truncate(1);
      c.sorted = true;
      return;
    }
    if (t_ == 1.0f) return;
    // Dividing (not multiplying by 1/t) keeps a tiny t from making 0 * inf = NaN.
    for (TokenProb& t : c.items) t.logit /= t_;  // order is unchanged
  }

 private:
  float t_;
};

}  // namespace

std::unique_ptr<SamplerStage> make_temperature_stage(float t) {
  sampling::require_arg(std::isfinite(t), "temperature", "t must be finite", t);
  return std::make_unique<TemperatureStage>(t);
}

}  // namespace ember
