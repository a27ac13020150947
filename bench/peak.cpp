#include "bench/peak.h"

namespace ember::peak {

namespace {
uint64_t read_scalar(const uint8_t* p, size_t bytes) {
  const auto* q = reinterpret_cast<const uint64_t*>(p);
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= bytes / 8; i += 4) a += q[i], b += q[i + 1], c += q[i + 2], d += q[i + 3];
  return a + b + c + d;
}
}  // namespace

std::span<const PeakKernel> peak_kernels() {
  // 12 independent accumulators x kPeakIters iterations x lanes x 2 flops.
  static const PeakKernel k[] = {
      {"fma_f32__avx2", kernels::Isa::Avx2, fma_avx2, 12 * kPeakIters * 8 * 2},
      {"fma_f32__avx512", kernels::Isa::Avx512, fma_avx512, 12 * kPeakIters * 16 * 2},
      {"dpbusd_int8__avx512vnni", kernels::Isa::Avx512Vnni, vnni_avx512, 12 * kPeakIters * 64 * 2},
  };
  return k;
}

ReadFn best_read_fn() {
  const auto& f = kernels::cpu_features();
  if (f.supports(kernels::Isa::Avx512)) return read_avx512;
  if (f.supports(kernels::Isa::Avx2)) return read_avx2;
  return read_scalar;
}

}  // namespace ember::peak
