#include <cmath>

#include "ember/sampler.h"
#include "sampling/rng.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class DistStage final : public SamplerStage {
 public:
  explicit DistStage(uint64_t seed) : seed_(resolve_seed(seed)), rng_(seed_) {}
  std::string name() const override { return "dist"; }

  void apply(TokenCandidates& c) override {
    const size_t n = c.items.size();
    if (n == 0) return;
    // All -inf (everything banned) carries no preference: fall back to
    // greedy's rule, the lowest id, instead of drawing among banned tokens.
    size_t best = 0;
    for (size_t i = 1; i < n; ++i) {
      if (sampling::ranks_before(c.items[i], c.items[best])) best = i;
    }
    if (std::isinf(c.items[best].logit) && c.items[best].logit < 0) {
      size_t lowest = 0;
      for (size_t i = 1; i < n; ++i) {
        if (c.items[i].id < c.items[lowest].id) lowest = i;
      }
      c.selected = static_cast<int64_t>(lowest);
      return;
    }

    c.softmax();
    double total = 0.0;
    for (const TokenProb& t : c.items) total += t.p;
    const double target = rng_.next_double() * total;
    double cum = 0.0;
    size_t last_nonzero = best;
    for (size_t i = 0; i < n; ++i) {
      if (c.items[i].p <= 0.0f) continue;
      cum += c.items[i].p;
      last_nonzero = i;
      if (target < cum) {
        c.selected = static_cast<int64_t>(i);
        return;
      }
    }
    c.selected = static_cast<int64_t>(last_nonzero);  // rounding ran past the end
  }

  void reset() override { rng_.seed_with(seed_); }

 private:
  uint64_t seed_;
  sampling::Rng rng_;
};

}  // namespace

std::unique_ptr<SamplerStage> make_dist_stage(uint64_t seed) { return std::make_unique<DistStage>(seed); }

}  // namespace ember
