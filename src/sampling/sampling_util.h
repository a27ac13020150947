#pragma once
// Helpers shared by the sampling stages (internal).
#include <cstdio>
#include <string>

#include "ember/sampler.h"

namespace ember::sampling {

/// The one candidate order: higher logit first, ties to the lower id. Being a
/// total order, std::sort and std::nth_element give the same result everywhere.
inline bool ranks_before(const TokenProb& a, const TokenProb& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

/// Calls fn(item, value) for every id of `by_id` that is still a candidate:
/// O(1) per id in assign()'s layout, one pass over the items otherwise.
template <class Map, class Fn>
void for_each_listed(TokenCandidates& c, const Map& by_id, Fn&& fn) {
  bool missed = false;
  const size_t n = c.items.size();
  for (const auto& [id, value] : by_id) {
    if (id >= 0 && static_cast<size_t>(id) < n && c.items[id].id == id) {
      fn(c.items[id], value);
    } else {
      missed = true;
    }
  }
  if (!missed) return;
  for (size_t i = 0; i < n; ++i) {
    TokenProb& item = c.items[i];
    // Items already handled above sit at their own index.
    if (static_cast<size_t>(item.id) == i) continue;
    auto it = by_id.find(item.id);
    if (it != by_id.end()) fn(item, it->second);
  }
}

inline std::string format_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Factories check what would put NaN into the logits: a NaN would break the
/// strict ordering std::sort relies on.
void require_arg(bool ok, const char* stage, const char* what, double got);

}  // namespace ember::sampling
