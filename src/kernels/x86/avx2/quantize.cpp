// STUB: avx2 activation quantizers, to be written.
#include "kernels/kernel_sets.h"


namespace ember::kernels {
std::span<const QuantizeKernel> quantize_kernels_avx2() { return {}; }
}  // namespace ember::kernels
