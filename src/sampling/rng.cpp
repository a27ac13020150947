#include "sampling/rng.h"

#include <random>

#include "ember/sampler.h"

namespace ember {
namespace sampling {

namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// splitmix64 spreads any seed (even 0) over the 256-bit xoshiro state,
// which must not be all zero.
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

void Rng::seed_with(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& w : s_) w = splitmix64(x);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

}  // namespace sampling

uint64_t resolve_seed(uint64_t seed) {
  if (seed != kDefaultSeed) return seed;
  std::random_device rd;
  uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  // A random seed that happens to equal the sentinel would read as "random"
  // if the caller logged and reused it.
  if (s == kDefaultSeed) s ^= 0x5DEECE66Dull;
  return s;
}

}  // namespace ember
