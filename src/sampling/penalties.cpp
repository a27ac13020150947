#include <cmath>
#include <deque>
#include <limits>
#include <unordered_map>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

class PenaltiesStage final : public SamplerStage {
 public:
  PenaltiesStage(int32_t last_n, float repeat, float frequency, float presence)
      : last_n_(last_n), repeat_(repeat), frequency_(frequency), presence_(presence) {}

  std::string name() const override {
    return "penalties(" + std::to_string(last_n_) + ", " + sampling::format_float(repeat_) + ", " +
           sampling::format_float(frequency_) + ", " + sampling::format_float(presence_) + ")";
  }

  void apply(TokenCandidates& c) override {
    if (counts_.empty()) return;
    sampling::for_each_listed(c, counts_, [this](TokenProb& t, int32_t count) {
      // Dividing a negative logit would raise it, so those are multiplied.
      if (t.logit > 0.0f) {
        t.logit /= repeat_;
      } else {
        t.logit *= repeat_;
      }
      t.logit -= static_cast<float>(count) * frequency_ + presence_;
      if (std::isnan(t.logit)) t.logit = -std::numeric_limits<float>::infinity();  // inf - inf
    });
    c.sorted = false;
  }

  void accept(int32_t token) override {
    if (last_n_ == 0) return;
    ++counts_[token];
    if (last_n_ < 0) return;  // the window is everything since reset()
    window_.push_back(token);
    if (window_.size() > static_cast<size_t>(last_n_)) {
      const int32_t old = window_.front();
      window_.pop_front();
      auto it = counts_.find(old);
      if (--it->second == 0) counts_.erase(it);
    }
  }

  void reset() override {
    window_.clear();
    counts_.clear();
  }

 private:
  int32_t last_n_;
  float repeat_;
  float frequency_;
  float presence_;
  std::deque<int32_t> window_;
  std::unordered_map<int32_t, int32_t> counts_;  // token -> times in the window (> 0)
};

}  // namespace

std::unique_ptr<SamplerStage> make_penalties_stage(int32_t last_n, float repeat, float frequency, float presence) {
  sampling::require_arg(last_n >= -1, "penalties", "last_n must be >= -1", last_n);
  sampling::require_arg(std::isfinite(repeat) && repeat > 0.0f, "penalties", "repeat must be finite and > 0", repeat);
  sampling::require_arg(std::isfinite(frequency), "penalties", "frequency must be finite", frequency);
  sampling::require_arg(std::isfinite(presence), "penalties", "presence must be finite", presence);
  return std::make_unique<PenaltiesStage>(last_n, repeat, frequency, presence);
}

}  // namespace ember
