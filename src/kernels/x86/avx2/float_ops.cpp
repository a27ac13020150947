// AVX2+FMA float ops: the xsimd kernels of simd/float_ops_simd.h for 8-wide batches.
#include "kernels/kernel_sets.h"
#include "kernels/simd/float_ops_simd.h"

namespace ember::kernels {

std::span<const FloatOpsKernel> float_ops_kernels_avx2() {
  static constexpr FloatOpsKernel k[] = {
      {"float_ops__avx2", Isa::Avx2, &SimdFloatOps<xsimd::fma3<xsimd::avx2>>::kOps}};
  return k;
}

}  // namespace ember::kernels
