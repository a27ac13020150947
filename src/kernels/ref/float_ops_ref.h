#pragma once
#include "kernels/kernels.h"

namespace ember::ref {
/// Scalar float ops (src/kernels/ref/float_ops.cpp): the oracle for the SIMD ones.
extern const kernels::FloatOps kFloatOps;
}  // namespace ember::ref
