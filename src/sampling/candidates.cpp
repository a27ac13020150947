#include <algorithm>
#include <cmath>
#include <limits>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

void TokenCandidates::assign(std::span<const float> logits) {
  const size_t n = logits.size();
  items.resize(n);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const float l = logits[i];
    items[i] = TokenProb{static_cast<int32_t>(i), std::isnan(l) ? neg_inf : l, 0.0f};
  }
  sorted = false;
  selected = -1;
}

void TokenCandidates::sort() {
  if (!sorted) std::sort(items.begin(), items.end(), sampling::ranks_before);
  sorted = true;
}

void TokenCandidates::sort_top(size_t k) {
  if (sorted) return;
  if (k >= items.size()) {
    sort();
    return;
  }
  if (k == 0) return;
  const auto mid = items.begin() + static_cast<std::ptrdiff_t>(k);
  std::nth_element(items.begin(), mid, items.end(), sampling::ranks_before);
  std::sort(items.begin(), mid, sampling::ranks_before);
}

void TokenCandidates::softmax() {
  if (items.empty()) return;
  float max_logit = -std::numeric_limits<float>::infinity();
  for (const TokenProb& t : items) max_logit = std::max(max_logit, t.logit);

  if (std::isinf(max_logit)) {
    // Degenerate rows: all -inf (everything banned) reads as "all equal";
    // +inf logits (e.g. a +inf bias) take all the mass between them.
    const bool pos = max_logit > 0;
    size_t count = 0;
    for (const TokenProb& t : items) count += (!pos || t.logit == max_logit);
    const float share = 1.0f / static_cast<float>(count);
    for (TokenProb& t : items) t.p = (!pos || t.logit == max_logit) ? share : 0.0f;
    return;
  }

  double sum = 0.0;
  for (TokenProb& t : items) {
    t.p = std::exp(t.logit - max_logit);
    sum += t.p;
  }
  const double inv = 1.0 / sum;  // sum >= 1: the max item contributes exp(0)
  for (TokenProb& t : items) t.p = static_cast<float>(t.p * inv);
}

void TokenCandidates::truncate(size_t n) {
  if (n < items.size()) items.resize(n);
  if (selected >= static_cast<int64_t>(items.size())) selected = -1;
}

TokenProb* TokenCandidates::find(int32_t id) noexcept {
  if (id < 0) return nullptr;
  const size_t i = static_cast<size_t>(id);
  if (i < items.size() && items[i].id == id) return &items[i];
  for (TokenProb& t : items) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

}  // namespace ember
