// STUB: avx2 float ops, to be written.
#include "kernels/kernel_sets.h"


namespace ember::kernels {
std::span<const FloatOpsKernel> float_ops_kernels_avx2() { return {}; }
}  // namespace ember::kernels
