#pragma once
// The float dots (f32, f16, bf16) written once over xsimd and instantiated by
// x86/avx2/dot_float.cpp and x86/avx512/dot_float.cpp with their arch and a
// loader that turns a pointer into two float batches (F16C / bit operations
// for the 16-bit types, which xsimd 8 cannot load).
//
// Include only from ISA files: everything here has internal linkage.
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "kernels/x86/prefetch_x86.h"
#include "quant/fp16.h"

namespace ember::kernels {
namespace {
namespace float_dot {

template <class B>
struct Two {
  B a, b;
};

// Two batches of products accumulate in float for at most this many steps,
// then fold into a double, so long rows stay close to the double-accumulating
// reference (each float partial sum holds <= 32 products).
inline constexpr int64_t kFoldSteps = 32;

// sum a[i] * b[i]. load2(p) gives the 2N elements at p as two batches, in an
// order that may differ from memory but is the same for a and b; scalar(p)
// gives one element.
template <class Arch, class T, class Load2, class Scalar>
static inline float dot(int64_t n, const T* a, const T* b, Load2 load2, Scalar scalar) {
  using B = xsimd::batch<float, Arch>;
  constexpr int64_t N = int64_t(B::size);
  double total = 0;
  int64_t i = 0;
  while (i + 4 * N <= n) {
    B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
    const int64_t steps = (n - i) / (4 * N) < kFoldSteps ? (n - i) / (4 * N) : kFoldSteps;
    for (int64_t k = 0; k < steps; ++k, i += 4 * N) {
      prefetch_ahead<int(4 * N * sizeof(T))>(a + i);
      const Two<B> x0 = load2(a + i), y0 = load2(b + i);
      const Two<B> x1 = load2(a + i + 2 * N), y1 = load2(b + i + 2 * N);
      s0 = xsimd::fma(x0.a, y0.a, s0);
      s1 = xsimd::fma(x0.b, y0.b, s1);
      s2 = xsimd::fma(x1.a, y1.a, s2);
      s3 = xsimd::fma(x1.b, y1.b, s3);
    }
    total += double(xsimd::hadd((s0 + s1) + (s2 + s3)));
  }
  if (i + 2 * N <= n) {
    const Two<B> x = load2(a + i), y = load2(b + i);
    total += double(xsimd::hadd(xsimd::fma(x.a, y.a, x.b * y.b)));
    i += 2 * N;
  }
  for (; i < n; ++i) total += double(scalar(a + i)) * double(scalar(b + i));
  return float(total);
}

static inline float f32_at(const float* p) { return *p; }
static inline float f16_at(const uint16_t* p) { return f16_to_f32(*p); }
static inline float bf16_at(const uint16_t* p) { return bf16_to_f32(*p); }

}  // namespace float_dot
}  // namespace
}  // namespace ember::kernels
