#pragma once
// Per-ISA, per-area kernel lists, named <area>_<isa>. Each is defined in the file that holds the
// kernels (compiled with that ISA's flags) as a static array; kernel_list.cpp,
// compiled for the baseline, joins them into the one list.
#include <span>

#include "kernels/kernels.h"

namespace ember::kernels {

#define EMBER_KERNEL_SET(isa)                                            \
  std::span<const DotKernel> dot_kernels_float_##isa();    /* f32, f16, bf16 */                 \
  std::span<const DotKernel> dot_kernels_legacy_##isa();   /* q4_0 q4_1 q5_0 q5_1 q8_0 */        \
  std::span<const DotKernel> dot_kernels_kquants_##isa();  /* q2_K..q6_K */                      \
  std::span<const DotKernel> dot_kernels_iquants_##isa();  /* iq4_nl iq4_xs */                  \
  std::span<const QuantizeKernel> quantize_kernels_##isa();  /* activation rows */                \
  std::span<const FloatOpsKernel> float_ops_kernels_##isa()

EMBER_KERNEL_SET(scalar);      // src/kernels/ref/
#if defined(__x86_64__) || defined(_M_X64)
EMBER_KERNEL_SET(avx2);        // src/kernels/x86/avx2/
EMBER_KERNEL_SET(avx512);      // src/kernels/x86/avx512/
EMBER_KERNEL_SET(avx512vnni);  // the avx512 sources rebuilt with -mavx512vnni
#endif
#if defined(__aarch64__)
EMBER_KERNEL_SET(neon);        // src/kernels/arm/
#endif
#undef EMBER_KERNEL_SET

// The 4-activation-row dots (Dot4Kernel); only some ISAs and types have them.
#if defined(__x86_64__) || defined(_M_X64)
#define EMBER_DOT4_SET(isa)                                                               \
  std::span<const Dot4Kernel> dot4_kernels_legacy_##isa();  /* q4_0 q4_1 q5_0 q5_1 q8_0 */ \
  std::span<const Dot4Kernel> dot4_kernels_kquants_##isa() /* q4_K q6_K */
EMBER_DOT4_SET(avx2);
EMBER_DOT4_SET(avx512);
EMBER_DOT4_SET(avx512vnni);
#undef EMBER_DOT4_SET
#endif

}  // namespace ember::kernels
