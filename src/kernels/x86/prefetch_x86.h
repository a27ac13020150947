#pragma once
// Software prefetch for the weight rows the dot kernels stream from memory.
// Include only from ISA files: everything here has internal linkage.
#include <immintrin.h>

#include <cstdint>

namespace ember::kernels {
namespace {

// How far ahead of the bytes being read to prefetch. At ~40 GB/s and ~100 ns
// of memory latency ~4 KB must be in flight; 8 KB measured best on Zen 5
// (single thread, rows out of cache: q4_0 31 -> 34 GB/s, q8_0 37 -> 42 GB/s).
// Past the end of a row this prefetches the next row, which a matrix-vector
// product reads next; prefetches never fault.
inline constexpr uintptr_t kPrefetchAhead = 8192;

// Prefetches the cache lines `kPrefetchAhead` past [p, p + Bytes).
template <int Bytes>
static inline void prefetch_ahead(const void* p) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(p) + kPrefetchAhead;  // may lie past the row: no pointer arithmetic
#pragma GCC unroll 8
  for (int i = 0; i < Bytes; i += 64) _mm_prefetch(reinterpret_cast<const char*>(at + uintptr_t(i)), _MM_HINT_T0);
}

}  // namespace
}  // namespace ember::kernels
