#include <immintrin.h>

#include "bench/peak.h"

namespace ember::peak {

// Eight independent chains and a software prefetch 8 KB ahead (as the dot
// kernels do): without the prefetch one core cannot keep enough misses in
// flight to reach the memory's bandwidth.
uint64_t read_avx512(const uint8_t* p, size_t bytes) {
  __m512i acc[8];
  for (auto& a : acc) a = _mm512_setzero_si512();
  for (size_t i = 0; i + 512 <= bytes; i += 512) {
    _mm_prefetch(reinterpret_cast<const char*>(p + i + 8192), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p + i + 8192 + 256), _MM_HINT_T0);
    for (int k = 0; k < 8; ++k) acc[k] = _mm512_add_epi64(acc[k], _mm512_load_si512(p + i + 64 * k));
  }
  for (int k = 1; k < 8; ++k) acc[0] = _mm512_add_epi64(acc[0], acc[k]);
  return uint64_t(_mm512_reduce_add_epi64(acc[0]));
}

double fma_avx512() {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int it = 0; it < int(kPeakIters); ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  float s = 0;
  for (int i = 0; i < 12; ++i) s += _mm512_reduce_add_ps(acc[i]);
  return s;
}

double vnni_avx512() {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i u = _mm512_set1_epi8(3), s8 = _mm512_set1_epi8(-2);
  for (int it = 0; it < int(kPeakIters); ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], u, s8);
  long long s = 0;
  for (int i = 0; i < 12; ++i) s += _mm512_reduce_add_epi32(acc[i]);
  return double(s);
}

}  // namespace ember::peak
