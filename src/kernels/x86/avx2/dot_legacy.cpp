// AVX2 dots of the legacy 32-element block types against q8_0 / q8_1: one
// block per 256-bit register, maddubs/madd integer products, the f16 scales
// of four blocks converted at once (see x86/legacy_blocks_avx2.h).
#include "kernels/kernel_sets.h"
#include "kernels/x86/legacy_blocks_avx2.h"

namespace ember::kernels {
namespace {

template <class X, class Y>
float vec_dot(int64_t n, const void* vx, const void* vy) {
  return avx2_blocks::dot_blocks(n / 32, static_cast<const X*>(vx), static_cast<const Y*>(vy));
}

}  // namespace

std::span<const DotKernel> dot_kernels_legacy_avx2() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q4_0_q8_0__avx2", DType::Q4_0, Isa::Avx2, vec_dot<block_q4_0, block_q8_0>},
      {"vec_dot_q4_1_q8_1__avx2", DType::Q4_1, Isa::Avx2, vec_dot<block_q4_1, block_q8_1>},
      {"vec_dot_q5_0_q8_0__avx2", DType::Q5_0, Isa::Avx2, vec_dot<block_q5_0, block_q8_0>},
      {"vec_dot_q5_1_q8_1__avx2", DType::Q5_1, Isa::Avx2, vec_dot<block_q5_1, block_q8_1>},
      {"vec_dot_q8_0_q8_0__avx2", DType::Q8_0, Isa::Avx2, vec_dot<block_q8_0, block_q8_0>},
  };
  return k;
}

}  // namespace ember::kernels
