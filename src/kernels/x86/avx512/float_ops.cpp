// AVX-512 float ops: the xsimd kernels of simd/float_ops_simd.h for 16-wide
// batches. Built for both avx512 levels; nothing here needs VNNI.

// GCC 12's avx512fintrin.h self-initialises its "undefined" vectors, which
// -Wmaybe-uninitialized reports (GCC PR105593) once xsimd's exp is inlined.
// Set before any include so the pragma covers the intrinsic headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "kernels/kernel_sets.h"
#include "kernels/simd/float_ops_simd.h"
#include "kernels/x86/avx512_config.h"

namespace ember::kernels {

std::span<const FloatOpsKernel> EMBER_AVX512_SET(float_ops_kernels)() {
  static constexpr FloatOpsKernel k[] = {
      {"float_ops" EMBER_AVX512_SUFFIX, EMBER_AVX512_ISA, &SimdFloatOps<xsimd::avx512bw>::kOps}};
  return k;
}

}  // namespace ember::kernels
