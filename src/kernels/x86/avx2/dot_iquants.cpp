// STUB: AVX2 iquants dot kernels, to be written.
#include "kernels/kernel_sets.h"

namespace ember::kernels {
std::span<const DotKernel> dot_kernels_iquants_avx2() { return {}; }
}  // namespace ember::kernels
