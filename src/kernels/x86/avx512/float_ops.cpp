// STUB: avx512 float ops, to be written.
#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"

namespace ember::kernels {
std::span<const FloatOpsKernel> EMBER_AVX512_SET(float_ops_kernels)() { return {}; }
}  // namespace ember::kernels
