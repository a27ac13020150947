#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

// Locally typical sampling (Meister et al. 2022): prefer tokens whose
// surprisal -log p is close to the distribution's entropy H.
class TypicalStage final : public SamplerStage {
 public:
  explicit TypicalStage(float p) : p_(p) {}
  std::string name() const override { return "typical(" + sampling::format_float(p_) + ")"; }

  void apply(TokenCandidates& c) override {
    const size_t n = c.items.size();
    if (p_ >= 1.0f || n <= 1) return;
    c.softmax();

    double entropy = 0.0;
    for (const TokenProb& t : c.items) {
      if (t.p > 0.0f) entropy -= static_cast<double>(t.p) * std::log(static_cast<double>(t.p));
    }
    scored_.clear();
    scored_.reserve(n);
    for (const TokenProb& t : c.items) {
      const double score = t.p > 0.0f ? std::fabs(-std::log(static_cast<double>(t.p)) - entropy)
                                      : std::numeric_limits<double>::infinity();
      scored_.emplace_back(score, t);
    }
    std::sort(scored_.begin(), scored_.end(), [](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return sampling::ranks_before(a.second, b.second);
    });

    size_t keep = n;
    double cum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      cum += scored_[i].second.p;
      if (cum >= p_) {
        keep = i + 1;
        break;
      }
    }
    c.items.resize(keep);
    for (size_t i = 0; i < keep; ++i) c.items[i] = scored_[i].second;
    c.sorted = false;  // now in typicality order
  }

 private:
  float p_;
  std::vector<std::pair<double, TokenProb>> scored_;
};

}  // namespace

std::unique_ptr<SamplerStage> make_typical_stage(float p) {
  sampling::require_arg(!std::isnan(p), "typical", "p must not be NaN", p);
  return std::make_unique<TypicalStage>(p);
}

}  // namespace ember
