#pragma once
// The sampler's random source: xoshiro256** seeded through splitmix64, with
// the uniform draw made from raw bits here so that one seed gives the same
// tokens with every standard library and on every platform.
#include <cstdint>

namespace ember::sampling {

class Rng {
 public:
  explicit Rng(uint64_t seed) { seed_with(seed); }

  void seed_with(uint64_t seed);
  uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4];
};

}  // namespace ember::sampling
