#pragma once
// Stop strings for generation. The matcher is fed the generated text piece by
// piece and says how much of it is safe to show: text that could be the start
// of a stop string is held back until it either completes the stop string
// (generation ends, the stop string is not shown) or stops matching (the text
// is released). An incomplete UTF-8 sequence at the end is held back too, so
// the emitted text never ends inside a code point, even if fed raw token bytes.
//
// Thread safety: one thread at a time.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

class StopMatcher {
 public:
  struct Step {
    std::string text;      // safe to emit now (never includes any part of the stop string)
    bool stopped = false;  // a stop string completed; nothing after it is emitted
  };

  /// Empty stop strings are ignored; no stop strings makes a pass-through
  /// (apart from holding back incomplete UTF-8).
  explicit StopMatcher(std::vector<std::string> stop_strings = {});

  /// Feeds the next piece. After a stop, further pieces return nothing.
  /// If several stop strings complete, the earliest in the text wins (then
  /// the first in the list).
  Step push(std::string_view piece);
  /// Releases the held-back text when generation ends for another reason
  /// (EOG, length). Returns "" after a stop.
  std::string flush();
  /// Forgets held text and the stop, keeping the stop strings.
  void reset();

  bool stopped() const noexcept { return stop_index_ >= 0; }
  /// Index into the stop strings given to the constructor, -1 if none completed.
  int stop_index() const noexcept { return stop_index_; }
  /// Bytes currently held back.
  size_t held() const noexcept { return pending_.size(); }

 private:
  std::vector<std::string> stops_;
  std::vector<int> stop_ids_;  // stops_[i] was constructor argument stop_ids_[i]
  std::string pending_;
  int stop_index_ = -1;
};

}  // namespace ember
