// STUB: avx512 activation quantizers, to be written.
#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"

namespace ember::kernels {
std::span<const QuantizeKernel> EMBER_AVX512_SET(quantize_kernels)() { return {}; }
}  // namespace ember::kernels
