#pragma once
// The float ops written once over xsimd and instantiated per ISA file
// (x86/avx2/float_ops.cpp, x86/avx512/float_ops.cpp) with that file's arch.
//
// Include only from ISA files. Everything here has internal linkage and uses
// no <cmath>/std templates: an out-of-line copy of an inline function built
// with ISA flags could otherwise be picked by the linker for baseline callers.
// xsimd's own templates carry the arch in their names, so they cannot clash.
//
// Tails (n not a multiple of the batch width) go through a padded stack
// buffer with the same vector code, so a row's last elements are computed
// exactly like the rest.
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "kernels/kernels.h"

namespace ember::kernels {
namespace {

// Index generators for xsimd::make_batch_constant / make_batch_bool_constant.
struct SwapPairs {  // (1, 0, 3, 2, ...)
  static constexpr uint32_t get(unsigned i, unsigned) { return i ^ 1u; }
};
struct DupEven {  // (0, 0, 2, 2, ...)
  static constexpr uint32_t get(unsigned i, unsigned) { return i & ~1u; }
};
struct DupOdd {  // (1, 1, 3, 3, ...)
  static constexpr uint32_t get(unsigned i, unsigned) { return i | 1u; }
};
struct EvenLanes {
  static constexpr bool get(unsigned i, unsigned) { return (i & 1u) == 0; }
};
struct LowHalf {
  static constexpr bool get(unsigned i, unsigned n) { return i < n / 2; }
};
// From interleaved (c0 s0 c1 s1 ...): evens to the low half, odds to the high.
struct EvensThenOdds {
  static constexpr uint32_t get(unsigned i, unsigned n) { return i < n / 2 ? 2 * i : 2 * (i - n / 2) + 1; }
};
// The same with the halves swapped: odds low, evens high.
struct OddsThenEvens {
  static constexpr uint32_t get(unsigned i, unsigned n) { return i < n / 2 ? 2 * i + 1 : 2 * (i - n / 2); }
};

template <class Arch>
struct SimdFloatOps {
  using B = xsimd::batch<float, Arch>;
  using U = xsimd::batch<uint32_t, Arch>;
  static constexpr int64_t N = int64_t(B::size);
  // Reductions add float lanes for this many batches, then fold into a double,
  // so long rows keep close to the double-accumulating reference.
  static constexpr int64_t kFoldBatches = 32;

  static B load_tail(const float* p, int64_t r, float pad) {
    alignas(64) float buf[N];
    for (int64_t i = 0; i < N; ++i) buf[i] = i < r ? p[i] : pad;
    return B::load_aligned(buf);
  }
  static void store_tail(float* p, const B& v, int64_t r) {
    alignas(64) float buf[N];
    v.store_aligned(buf);
    for (int64_t i = 0; i < r; ++i) p[i] = buf[i];
  }
  static float lane_max(const B& v) {
    alignas(64) float buf[N];
    v.store_aligned(buf);
    float m = buf[0];
    for (int64_t i = 1; i < N; ++i) m = buf[i] > m ? buf[i] : m;
    return m;
  }

  // y[i] = f(x[i]) batch-wise; y may alias x.
  template <class F>
  static void map1(float* y, const float* x, int64_t n, F f) {
    int64_t i = 0;
    for (; i + N <= n; i += N) f(B::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < n) store_tail(y + i, f(load_tail(x + i, n - i, 0.0f)), n - i);
  }
  // y[i] = f(a[i], b[i]) batch-wise; y may alias a or b.
  template <class F>
  static void map2(float* y, const float* a, const float* b, int64_t n, F f) {
    int64_t i = 0;
    for (; i + N <= n; i += N) f(B::load_unaligned(a + i), B::load_unaligned(b + i)).store_unaligned(y + i);
    if (i < n) store_tail(y + i, f(load_tail(a + i, n - i, 0.0f), load_tail(b + i, n - i, 0.0f)), n - i);
  }

  // x / (1 + e^-x): e^-x overflows to inf for x < -88, giving -0, never NaN.
  static B silu_b(const B& x) { return x / (B(1.0f) + xsimd::exp(-x)); }

  static void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps) {
    if (n <= 0) return;
    double ss = 0;
    int64_t i = 0;
    while (i + N <= n) {
      B acc(0.0f);
      const int64_t end = i + kFoldBatches * N < n ? i + kFoldBatches * N : n;
      for (; i + N <= end; i += N) {
        const B v = B::load_unaligned(x + i);
        acc = xsimd::fma(v, v, acc);
      }
      ss += double(xsimd::hadd(acc));
    }
    if (i < n) {
      const B v = load_tail(x + i, n - i, 0.0f);
      ss += double(xsimd::hadd(v * v));
    }
    const B scale(float(1.0 / __builtin_sqrt(ss / double(n) + double(eps))));
    if (w == nullptr) {
      map1(y, x, n, [&](const B& v) { return v * scale; });
    } else {
      map2(y, x, w, n, [&](const B& v, const B& wv) { return v * scale * wv; });
    }
  }

  static void softmax(float* x, int64_t n) {
    if (n <= 0) return;
    const float ninf = -__builtin_inff();
    B mx(ninf);
    int64_t i = 0;
    for (; i + N <= n; i += N) mx = xsimd::max(mx, B::load_unaligned(x + i));
    if (i < n) mx = xsimd::max(mx, load_tail(x + i, n - i, ninf));
    const B m(lane_max(mx));

    // Masked (-inf) entries give exp(-inf) = 0; tail padding is -inf too.
    double sum = 0;
    i = 0;
    while (i + N <= n) {
      B acc(0.0f);
      const int64_t end = i + kFoldBatches * N < n ? i + kFoldBatches * N : n;
      for (; i + N <= end; i += N) {
        const B e = xsimd::exp(B::load_unaligned(x + i) - m);
        e.store_unaligned(x + i);
        acc += e;
      }
      sum += double(xsimd::hadd(acc));
    }
    if (i < n) {
      const B e = xsimd::exp(load_tail(x + i, n - i, ninf) - m);
      store_tail(x + i, e, n - i);
      sum += double(xsimd::hadd(e));
    }
    const B inv(float(1.0 / sum));
    map1(x, x, n, [&](const B& v) { return v * inv; });
  }

  static void silu(float* y, const float* x, int64_t n) { map1(y, x, n, silu_b); }

  // 0.5 x (1 + tanh(u)) written as x / (1 + e^(-2u)), the same function
  // without the cancellation in 1 + tanh(u) for negative x.
  static void gelu(float* y, const float* x, int64_t n) {
    map1(y, x, n, [](const B& v) {
      const B k(-2.0f * 0.79788456080286535588f);
      const B t = k * v * xsimd::fma(B(0.044715f), v * v, B(1.0f));
      return v / (B(1.0f) + xsimd::exp(t));
    });
  }

  static void swiglu(float* y, const float* gate, const float* up, int64_t n) {
    map2(y, gate, up, n, [](const B& g, const B& u) { return silu_b(g) * u; });
  }

  static void add(float* y, const float* a, const float* b, int64_t n) {
    map2(y, a, b, n, [](const B& u, const B& v) { return u + v; });
  }
  static void mul(float* y, const float* a, const float* b, int64_t n) {
    map2(y, a, b, n, [](const B& u, const B& v) { return u * v; });
  }
  static void scale(float* y, const float* x, float s, int64_t n) {
    const B sv(s);
    map1(y, x, n, [&](const B& v) { return v * sv; });
  }
  static void axpy(float* y, const float* x, float a, int64_t n) {
    const B av(a);
    map2(y, x, y, n, [&](const B& xv, const B& yv) { return xsimd::fma(av, xv, yv); });
  }

  static void rope_pair(float* v, int64_t i0, int64_t i1, float c, float s) {
    const float x0 = v[i0], x1 = v[i1];
    v[i0] = x0 * c - x1 * s;
    v[i1] = x0 * s + x1 * c;
  }

  static void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, bool neox) {
    const int64_t half = n_rot / 2;
    constexpr auto low = xsimd::make_batch_bool_constant<B, LowHalf>();
    constexpr auto even = xsimd::make_batch_bool_constant<B, EvenLanes>();
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + h * head_dim;
      int64_t i = 0;
      if (neox) {
        // Pairs (i, i + half); cs is interleaved, so split two loads into cos and sin.
        for (; i + N <= half; i += N) {
          const B cs0 = B::load_unaligned(cs + 2 * i), cs1 = B::load_unaligned(cs + 2 * i + N);
          const B c = xsimd::select(low, xsimd::swizzle(cs0, xsimd::make_batch_constant<U, EvensThenOdds>()),
                                    xsimd::swizzle(cs1, xsimd::make_batch_constant<U, OddsThenEvens>()));
          const B s = xsimd::select(low, xsimd::swizzle(cs0, xsimd::make_batch_constant<U, OddsThenEvens>()),
                                    xsimd::swizzle(cs1, xsimd::make_batch_constant<U, EvensThenOdds>()));
          const B x0 = B::load_unaligned(v + i), x1 = B::load_unaligned(v + half + i);
          (x0 * c - x1 * s).store_unaligned(v + i);
          (x0 * s + x1 * c).store_unaligned(v + half + i);
        }
        for (; i < half; ++i) rope_pair(v, i, i + half, cs[2 * i], cs[2 * i + 1]);
      } else {
        // Adjacent pairs line up with the interleaved (cos, sin) table.
        const int64_t n_pairs_vec = (half / (N / 2)) * (N / 2);
        for (; i < n_pairs_vec; i += N / 2) {
          const B t = B::load_unaligned(cs + 2 * i);
          const B c = xsimd::swizzle(t, xsimd::make_batch_constant<U, DupEven>());
          const B s = xsimd::swizzle(t, xsimd::make_batch_constant<U, DupOdd>());
          const B xv = B::load_unaligned(v + 2 * i);
          const B p = xv * c, q = xsimd::swizzle(xv, xsimd::make_batch_constant<U, SwapPairs>()) * s;
          xsimd::select(even, p - q, p + q).store_unaligned(v + 2 * i);
        }
        for (; i < half; ++i) rope_pair(v, 2 * i, 2 * i + 1, cs[2 * i], cs[2 * i + 1]);
      }
    }
  }

  static constexpr FloatOps kOps = {rms_norm, softmax, silu, gelu, swiglu, add, mul, scale, axpy, rope};
};

}  // namespace
}  // namespace ember::kernels
