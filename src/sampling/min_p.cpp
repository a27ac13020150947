#include <algorithm>
#include <cmath>
#include <limits>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class MinPStage final : public SamplerStage {
 public:
  explicit MinPStage(float p) : p_(p) {}
  std::string name() const override { return "min_p(" + sampling::format_float(p_) + ")"; }

  void apply(TokenCandidates& c) override {
    if (p_ <= 0.0f || c.items.empty()) return;
    // p_i >= p * p_max  <=>  logit_i >= max_logit + ln p, so no softmax is needed.
    float max_logit = -std::numeric_limits<float>::infinity();
    if (c.sorted) {
      max_logit = c.items[0].logit;
    } else {
      for (const TokenProb& t : c.items) max_logit = std::max(max_logit, t.logit);
    }
    const float threshold = max_logit + std::log(p_);
    // The best item always passes (ln p <= 0), so at least one is kept.
    if (c.sorted) {
      size_t keep = 1;
      while (keep < c.items.size() && c.items[keep].logit >= threshold) ++keep;
      c.truncate(keep);
      return;
    }
    size_t out = 0;
    for (size_t i = 0; i < c.items.size(); ++i) {
      if (c.items[i].logit >= threshold) c.items[out++] = c.items[i];
    }
    c.items.resize(out);
  }

 private:
  float p_;
};

}  // namespace

std::unique_ptr<SamplerStage> make_min_p_stage(float p) {
  sampling::require_arg(!std::isnan(p), "min_p", "p must not be NaN", p);
  return std::make_unique<MinPStage>(std::min(p, 1.0f));  // above 1 nothing but the best could pass anyway
}

}  // namespace ember
