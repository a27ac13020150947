// STUB: AVX2 kquants dot kernels, to be written.
#include "kernels/kernel_sets.h"

namespace ember::kernels {
std::span<const DotKernel> dot_kernels_avx2_kquants() { return {}; }
}  // namespace ember::kernels
