// The scalar kernels: portable, and the oracles every other ISA is tested against.
#include "kernels/kernel_sets.h"
#include "kernels/ref/float_ops_ref.h"
#include "quant/quant_ref.h"

namespace ember::kernels {


std::span<const DotKernel> dot_kernels_float_scalar() {
  static constexpr DotKernel k[] = {
      {"vec_dot_f32_f32__scalar", DType::F32, Isa::Scalar, ref::vec_dot_f32_f32},
      {"vec_dot_f16_f16__scalar", DType::F16, Isa::Scalar, ref::vec_dot_f16_f16},
      {"vec_dot_bf16_bf16__scalar", DType::BF16, Isa::Scalar, ref::vec_dot_bf16_bf16},
  };
  return k;
}

std::span<const DotKernel> dot_kernels_legacy_scalar() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q4_0_q8_0__scalar", DType::Q4_0, Isa::Scalar, ref::vec_dot_q4_0_q8_0},
      {"vec_dot_q4_1_q8_1__scalar", DType::Q4_1, Isa::Scalar, ref::vec_dot_q4_1_q8_1},
      {"vec_dot_q5_0_q8_0__scalar", DType::Q5_0, Isa::Scalar, ref::vec_dot_q5_0_q8_0},
      {"vec_dot_q5_1_q8_1__scalar", DType::Q5_1, Isa::Scalar, ref::vec_dot_q5_1_q8_1},
      {"vec_dot_q8_0_q8_0__scalar", DType::Q8_0, Isa::Scalar, ref::vec_dot_q8_0_q8_0},
  };
  return k;
}

std::span<const DotKernel> dot_kernels_kquants_scalar() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q2_K_q8_K__scalar", DType::Q2_K, Isa::Scalar, ref::vec_dot_q2_K_q8_K},
      {"vec_dot_q3_K_q8_K__scalar", DType::Q3_K, Isa::Scalar, ref::vec_dot_q3_K_q8_K},
      {"vec_dot_q4_K_q8_K__scalar", DType::Q4_K, Isa::Scalar, ref::vec_dot_q4_K_q8_K},
      {"vec_dot_q5_K_q8_K__scalar", DType::Q5_K, Isa::Scalar, ref::vec_dot_q5_K_q8_K},
      {"vec_dot_q6_K_q8_K__scalar", DType::Q6_K, Isa::Scalar, ref::vec_dot_q6_K_q8_K},
  };
  return k;
}

std::span<const DotKernel> dot_kernels_iquants_scalar() {
  static constexpr DotKernel k[] = {
      {"vec_dot_iq4_nl_q8_0__scalar", DType::IQ4_NL, Isa::Scalar, ref::vec_dot_iq4_nl_q8_0},
      {"vec_dot_iq4_xs_q8_K__scalar", DType::IQ4_XS, Isa::Scalar, ref::vec_dot_iq4_xs_q8_K},
  };
  return k;
}

std::span<const QuantizeKernel> quantize_kernels_scalar() {
  static constexpr QuantizeKernel k[] = {
      {"quantize_row_f16__scalar", DType::F16, Isa::Scalar, ref::quantize_row_f16},
      {"quantize_row_bf16__scalar", DType::BF16, Isa::Scalar, ref::quantize_row_bf16},
      {"quantize_row_q8_0__scalar", DType::Q8_0, Isa::Scalar, ref::quantize_row_q8_0},
      {"quantize_row_q8_1__scalar", DType::Q8_1, Isa::Scalar, ref::quantize_row_q8_1},
      {"quantize_row_q8_K__scalar", DType::Q8_K, Isa::Scalar, ref::quantize_row_q8_K},
  };
  return k;
}

std::span<const FloatOpsKernel> float_ops_kernels_scalar() {
  static constexpr FloatOpsKernel k[] = {{"float_ops__scalar", Isa::Scalar, &ref::kFloatOps}};
  return k;
}

}  // namespace ember::kernels
