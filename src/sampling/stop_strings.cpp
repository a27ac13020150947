#include <algorithm>

#include "ember/stop.h"

namespace ember {

namespace {

// Bytes at the end of s that start a UTF-8 sequence but do not finish it.
size_t incomplete_utf8_tail(std::string_view s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(n, 4); ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 1;
    if ((c & 0xE0) == 0xC0) {
      need = 2;
    } else if ((c & 0xF0) == 0xE0) {
      need = 3;
    } else if ((c & 0xF8) == 0xF0) {
      need = 4;
    }
    return back < need ? back : 0;
  }
  return 0;  // only continuation bytes: invalid, nothing to wait for
}

// Length of the longest proper prefix of `stop` that s ends with.
size_t partial_match(std::string_view s, std::string_view stop) {
  for (size_t k = std::min(s.size(), stop.size() - 1); k > 0; --k) {
    if (s.substr(s.size() - k) == stop.substr(0, k)) return k;
  }
  return 0;
}

}  // namespace

StopMatcher::StopMatcher(std::vector<std::string> stop_strings) {
  for (size_t i = 0; i < stop_strings.size(); ++i) {
    if (stop_strings[i].empty()) continue;
    stops_.push_back(std::move(stop_strings[i]));
    stop_ids_.push_back(static_cast<int>(i));
  }
}

StopMatcher::Step StopMatcher::push(std::string_view piece) {
  Step step;
  if (stopped()) return step;
  pending_.append(piece);

  // pending_ held no complete stop string before this piece, so one search
  // over it finds every match this piece completes.
  size_t best_pos = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t pos = pending_.find(stops_[i]);
    if (pos < best_pos) {
      best_pos = pos;
      stop_index_ = stop_ids_[i];
    }
  }
  if (best_pos != std::string::npos) {
    step.text = pending_.substr(0, best_pos);
    step.stopped = true;
    pending_.clear();
    return step;
  }

  size_t hold = incomplete_utf8_tail(pending_);
  for (const std::string& stop : stops_) hold = std::max(hold, partial_match(pending_, stop));
  step.text = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return step;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

void StopMatcher::reset() {
  pending_.clear();
  stop_index_ = -1;
}

}  // namespace ember
