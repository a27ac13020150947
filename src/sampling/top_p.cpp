#include <algorithm>
#include <array>
#include <cmath>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

// The nucleus is a prefix of the sorted order. Without a top_k before us the
// set can be the whole vocabulary (256k), so instead of sorting it all we
// bucket the logits below the maximum, find the bucket where the mass
// crosses p, and sort only the items down to that bucket.
constexpr int kBuckets = 256;
constexpr float kBucketsPerUnit = 8.0f;  // 256 buckets cover 32 nats; e^-32 of mass lands in the last

class TopPStage final : public SamplerStage {
 public:
  explicit TopPStage(float p) : p_(p) {}
  std::string name() const override { return "top_p(" + sampling::format_float(p_) + ")"; }

  void apply(TokenCandidates& c) override {
    const size_t n = c.items.size();
    if (p_ >= 1.0f || n <= 1) return;
    c.softmax();
    if (!c.sorted) {
      float max_logit = c.items[0].logit;
      for (const TokenProb& t : c.items) max_logit = std::max(max_logit, t.logit);
      if (std::isfinite(max_logit)) {
        sort_nucleus_candidates(c, max_logit);
      } else {
        c.sort();  // degenerate (+inf or all -inf) rows: rare, keep it simple
      }
    }
    cut(c, c.sorted ? n : sorted_prefix_);
  }

 private:
  static int bucket_of(float logit, float max_logit) {
    const float d = (max_logit - logit) * kBucketsPerUnit;  // >= 0; +inf for -inf logits
    return d < static_cast<float>(kBuckets - 1) ? static_cast<int>(d) : kBuckets - 1;
  }

  // Moves the items of the buckets down to the crossing one to the front and
  // sorts them; sorted_prefix_ is their count.
  void sort_nucleus_candidates(TokenCandidates& c, float max_logit) {
    mass_.fill(0.0);
    for (const TokenProb& t : c.items) mass_[static_cast<size_t>(bucket_of(t.logit, max_logit))] += t.p;
    int last = kBuckets - 1;
    double cum = 0.0;
    for (int b = 0; b < kBuckets; ++b) {
      cum += mass_[static_cast<size_t>(b)];
      if (cum >= p_) {
        last = b;
        break;
      }
    }
    const auto mid = std::partition(c.items.begin(), c.items.end(),
                                    [&](const TokenProb& t) { return bucket_of(t.logit, max_logit) <= last; });
    std::sort(c.items.begin(), mid, sampling::ranks_before);
    sorted_prefix_ = static_cast<size_t>(mid - c.items.begin());
    if (sorted_prefix_ == c.items.size()) c.sorted = true;
  }

  // Keeps the shortest prefix of the first m (sorted) items whose mass is >= p.
  void cut(TokenCandidates& c, size_t m) {
    double cum = 0.0;
    for (size_t i = 0; i < m; ++i) {
      cum += c.items[i].p;
      if (cum >= p_) {
        c.truncate(i + 1);
        c.sorted = true;
        return;
      }
    }
    // Summing in another order left the prefix a hair under p.
    if (m < c.items.size()) {
      c.sort();
      cut(c, c.items.size());
    }
    // Otherwise the whole set sums to just under p: keep all.
  }

  float p_;
  std::array<double, kBuckets> mass_{};
  size_t sorted_prefix_ = 0;
};

}  // namespace

std::unique_ptr<SamplerStage> make_top_p_stage(float p) {
  sampling::require_arg(!std::isnan(p), "top_p", "p must not be NaN", p);
  return std::make_unique<TopPStage>(p);
}

}  // namespace ember
