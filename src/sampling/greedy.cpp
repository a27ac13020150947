#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class GreedyStage final : public SamplerStage {
 public:
  std::string name() const override { return "greedy"; }

  void apply(TokenCandidates& c) override {
    if (c.items.empty()) return;
    if (c.sorted) {
      c.selected = 0;
      return;
    }
    // NaN never reaches here (assign() maps it to -inf), so an all -inf row
    // ties everywhere and yields the lowest id.
    size_t best = 0;
    for (size_t i = 1; i < c.items.size(); ++i) {
      if (sampling::ranks_before(c.items[i], c.items[best])) best = i;
    }
    c.selected = static_cast<int64_t>(best);
  }
};

}  // namespace

std::unique_ptr<SamplerStage> make_greedy_stage() { return std::make_unique<GreedyStage>(); }

}  // namespace ember
