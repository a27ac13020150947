// STUB: AVX-512 iquants dot kernels, to be written.
#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"

namespace ember::kernels {
std::span<const DotKernel> EMBER_AVX512_SET(dot_kernels_iquants)() { return {}; }
}  // namespace ember::kernels
