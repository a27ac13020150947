#include <algorithm>
#include <functional>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class TopKStage final : public SamplerStage {
 public:
  explicit TopKStage(int32_t k) : k_(k) {}
  std::string name() const override { return "top_k(" + std::to_string(k_) + ")"; }

  void apply(TokenCandidates& c) override {
    if (k_ <= 0) return;
    const size_t k = static_cast<size_t>(k_);
    if (k >= c.items.size()) return;
    if (!c.sorted) {
      compact_to_threshold(c, k);
      c.sort_top(k);
    }
    c.truncate(k);
    c.sorted = true;
  }

 private:
  // On a 32k-256k vocabulary, a k-float min-heap finds the k-th best logit
  // in one cheap pass (a new value rarely beats the heap's top), so only
  // about k items are left for the exact sort.
  void compact_to_threshold(TokenCandidates& c, size_t k) {
    heap_.clear();
    for (size_t i = 0; i < k; ++i) heap_.push_back(c.items[i].logit);
    std::make_heap(heap_.begin(), heap_.end(), std::greater<float>());
    for (size_t i = k; i < c.items.size(); ++i) {
      const float l = c.items[i].logit;
      if (l > heap_.front()) {
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<float>());
        heap_.back() = l;
        std::push_heap(heap_.begin(), heap_.end(), std::greater<float>());
      }
    }
    const float threshold = heap_.front();
    // Keep everything at the threshold: ties are then settled by id in sort_top.
    size_t out = 0;
    for (size_t i = 0; i < c.items.size(); ++i) {
      if (c.items[i].logit >= threshold) c.items[out++] = c.items[i];
    }
    c.items.resize(out);
  }

  int32_t k_;
  std::vector<float> heap_;
};

}  // namespace

std::unique_ptr<SamplerStage> make_top_k_stage(int32_t k) { return std::make_unique<TopKStage>(k); }

}  // namespace ember
