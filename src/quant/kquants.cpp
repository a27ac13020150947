// Reference quantize / dequantize of the K-quants (256-element super-blocks).
// Dequantization multiplies in the same order as ggml's reference so that the
// floats agree bit for bit: (d * sc) * q - (dmin * m).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ember/error.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kquant_util.h"
#include "quant/quant_ref.h"

namespace ember::ref {

void dequantize_row_q2_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q2_K*>(vx);
  int8_t q[QK_K];
  int sc[16], m[16];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q2_K(x[b], q, sc, m);
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * float(sc[j]), ml = dmin * float(m[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * float(q[i]) - ml;
    }
  }
}

void dequantize_row_q3_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q3_K*>(vx);
  int8_t q[QK_K];
  int sc[16];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q3_K(x[b], q, sc);
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * float(sc[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * float(q[i]);
    }
  }
}

void dequantize_row_q4_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  int8_t q[QK_K];
  int sc[8], m[8];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q4_K(x[b], q, sc, m);
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      const float dl = d * float(sc[j]), ml = dmin * float(m[j]);
      for (int i = 32 * j; i < 32 * j + 32; ++i) y[i] = dl * float(q[i]) - ml;
    }
  }
}

void dequantize_row_q5_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q5_K*>(vx);
  int8_t q[QK_K];
  int sc[8], m[8];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q5_K(x[b], q, sc, m);
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      const float dl = d * float(sc[j]), ml = dmin * float(m[j]);
      for (int i = 32 * j; i < 32 * j + 32; ++i) y[i] = dl * float(q[i]) - ml;
    }
  }
}

void dequantize_row_q6_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  int8_t q[QK_K];
  int sc[16];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q6_K(x[b], q, sc);
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * float(sc[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * float(q[i]);
    }
  }
}

// ---------------------------------------------------------------------------
// Quantizers. Each super-block is fitted in three steps, all minimising the
// plain squared error of the dequantized values:
//  1. every sub-block gets its best real scale (and min) by a grid of
//     candidate scales, each refined by least squares on its quants;
//  2. the super-block scale(s) map those onto the integer scale codes, and
//     each sub-block tries the codes around its ideal one, requantizing its
//     elements with the exact f16-rounded values the dequantizer will use;
//  3. the super-block scale(s) are refitted by least squares to the chosen
//     codes and step 2 repeats while the error drops.
namespace {

// How a K-quant represents a super-block: value = d*sc*q - dmin*m per sub-block.
struct KFormat {
  int n_sub, sub_len;
  int qmin, qmax;      // element codes
  int sc_min, sc_max;  // sub-block scale codes
  int m_max;           // sub-block min codes; 0 for the types without mins
  int radius;          // scale codes tried on each side of the ideal one
};

struct KBlock {
  float d = 0, dmin = 0;  // already rounded to f16
  int sc[16] = {}, m[16] = {};
  int8_t q[QK_K] = {};
};

// Nearest integer of v within [lo, hi] (halves round up); NaN lands on lo
// instead of being UB. Truncating a non-negative value is floor, which avoids
// a libm call on baseline x86-64.
int round_clamp(float v, int lo, int hi) {
  v = v > float(lo) ? v : float(lo);
  v = v < float(hi) ? v : float(hi);
  return int(v - float(lo) + 0.5f) + lo;
}

// v rounded to f16 the way it will be stored, kept finite.
float f16_round(float v) {
  constexpr float kF16Max = 65504.0f;
  return f16_to_f32(f32_to_f16(std::fmin(std::fmax(v, -kF16Max), kF16Max)));
}

// Quants of x for the values a*q - b (in the dequantizer's float arithmetic)
// and the squared error they leave.
double requantize(const float* x, int n, float a, float b, int qmin, int qmax, int8_t* q) {
  double err = 0;
  if (a == 0) {
    for (int i = 0; i < n; ++i) {
      q[i] = 0;
      err += (double(b) + x[i]) * (double(b) + x[i]);
    }
    return err;
  }
  const float ia = 1.0f / a;
  for (int i = 0; i < n; ++i) {
    const int qi = round_clamp((x[i] + b) * ia, qmin, qmax);
    q[i] = int8_t(qi);
    const float e = a * float(qi) - b - x[i];
    err += double(e) * e;
  }
  return err;
}

struct Affine {
  float a = 0, b = 0;  // x ~ a*q - b with a >= 0, b >= 0
};

// Sums over a sub-block that least squares on fixed quants needs.
struct Sums {
  double n = 0, sx = 0, sxx = 0;  // of x alone
  double sq = 0, sqq = 0, sqx = 0;
};

Sums x_sums(const float* x, int n) {
  Sums s;
  s.n = n;
  for (int i = 0; i < n; ++i) {
    s.sx += x[i];
    s.sxx += double(x[i]) * x[i];
  }
  return s;
}

// Quantizes at a*q - b and adds the quant sums to s (whose x sums are set).
void quant_sums(const float* x, int n, float a, float b, int qmin, int qmax, Sums& s) {
  const float ia = 1.0f / a;
  int sq = 0, sqq = 0;
  double sqx = 0;
  for (int i = 0; i < n; ++i) {
    const int qi = round_clamp((x[i] + b) * ia, qmin, qmax);
    sq += qi;
    sqq += qi * qi;
    sqx += qi * double(x[i]);
  }
  s.sq = sq;
  s.sqq = sqq;
  s.sqx = sqx;
}

// Least-squares a, b for the quants summed in s, keeping b >= 0 (the formats
// store mins as unsigned codes under one shared dmin); returns the squared
// error of that fit with the quants held fixed.
double lsq_affine(const Sums& s, Affine& fit) {
  const double det = s.n * s.sqq - s.sq * s.sq;
  double a = 0, c = s.sx / s.n;  // x ~ a*q + c
  if (det > 0) {
    a = (s.n * s.sqx - s.sq * s.sx) / det;
    c = (s.sx - a * s.sq) / s.n;
  }
  if (c > 0) {
    c = 0;
    a = s.sqq > 0 ? s.sqx / s.sqq : 0;
  }
  if (a < 0) {
    a = 0;
    c = std::min(s.sx / s.n, 0.0);
  }
  fit = {float(a), float(-c)};
  return std::max(0.0, a * a * s.sqq + 2 * a * c * s.sq + s.n * c * c - 2 * a * s.sqx - 2 * c * s.sx + s.sxx);
}

// Least-squares signed scale for the quants summed in s, and its error.
double lsq_scale(const Sums& s, float& scale) {
  if (!(s.sqq > 0)) {
    scale = 0;
    return s.sxx;
  }
  scale = float(s.sqx / s.sqq);
  return std::max(0.0, s.sxx - s.sqx * s.sqx / s.sqq);
}

constexpr int kGridSteps = 24;
constexpr int kRefineSteps = 8;
constexpr float kDShrink[] = {0.85f, 0.7f, 0.55f, 0.4f};
constexpr float kStandOut = 1.5f;

// Best a, b for one sub-block with quants in [0, qmax]. Grid candidates are
// scored by the error of their least-squares fit on fixed quants, an upper
// bound on the error after requantizing; the best is then refined.
Affine fit_affine(const float* x, int n, int qmax) {
  float mn = 0, mx = x[0];
  for (int i = 0; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  if (!(mx > mn)) return {0.0f, -mn};  // constant non-positive (or NaN) sub-block
  Sums s = x_sums(x, n);
  Affine best{(mx - mn) / qmax, -mn};
  double best_err = std::numeric_limits<double>::infinity();
  // The grid sets how many levels the range [mn, mx] spans: fewer than qmax
  // clips the tails, more leaves room for a better-placed grid.
  for (int k = 0; k < kGridSteps; ++k) {
    const float levels = qmax * (0.7f + 0.6f * k / (kGridSteps - 1)) + 0.5f * k / (kGridSteps - 1);
    quant_sums(x, n, (mx - mn) / levels, -mn, 0, qmax, s);
    Affine fit;
    const double err = lsq_affine(s, fit);
    if (err < best_err && fit.a > 0) { best_err = err; best = fit; }
  }
  for (int it = 0; it < kRefineSteps; ++it) {
    quant_sums(x, n, best.a, best.b, 0, qmax, s);
    Affine fit;
    const double err = lsq_affine(s, fit);
    if (!(err < best_err) || !(fit.a > 0)) break;
    best_err = err;
    best = fit;
  }
  return best;
}

// Best signed scale for one sub-block with quants in [qmin, qmax], qmin = -qmax - 1.
float fit_symmetric(const float* x, int n, int qmin, int qmax) {
  float amax = 0, xm = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); xm = x[i]; }
  if (!(amax > 0)) return 0.0f;
  Sums s = x_sums(x, n);
  float best = xm / qmin;
  double best_err = std::numeric_limits<double>::infinity();
  // The extreme element goes either to the negative end (one level more) or
  // to the positive end; the grid also tries clipping it.
  for (const int end : {qmin, qmax}) {
    for (int k = 0; k < kGridSteps; ++k) {
      quant_sums(x, n, xm / (end * (0.6f + 0.55f * k / (kGridSteps - 1))), 0, qmin, qmax, s);
      float sc;
      const double err = lsq_scale(s, sc);
      if (err < best_err && sc != 0) { best_err = err; best = sc; }
    }
  }
  for (int it = 0; it < kRefineSteps; ++it) {
    quant_sums(x, n, best, 0, qmin, qmax, s);
    float sc;
    const double err = lsq_scale(s, sc);
    if (!(err < best_err) || sc == 0) break;
    best_err = err;
    best = sc;
  }
  return best;
}

// Step 2: integer codes for every sub-block under fixed (f16) d and dmin.
double choose_codes(const float* x, const KFormat& f, const float* a, const float* b, KBlock& blk) {
  int8_t q[QK_K];
  double total = 0;
  for (int j = 0; j < f.n_sub; ++j) {
    const float* xs = x + j * f.sub_len;
    const int ls0 = blk.d != 0 ? round_clamp(a[j] / blk.d, f.sc_min, f.sc_max) : 0;
    const int lm0 = blk.dmin != 0 ? round_clamp(b[j] / blk.dmin, 0, f.m_max) : 0;
    const int mr = f.m_max > 0 ? f.radius : 0;
    double best = std::numeric_limits<double>::infinity();
    for (int ls = std::max(f.sc_min, ls0 - f.radius); ls <= std::min(f.sc_max, ls0 + f.radius); ++ls) {
      for (int lm = std::max(0, lm0 - mr); lm <= std::min(f.m_max, lm0 + mr); ++lm) {
        const double err = requantize(xs, f.sub_len, blk.d * float(ls), blk.dmin * float(lm), f.qmin, f.qmax, q);
        if (err < best) {
          best = err;
          blk.sc[j] = ls;
          blk.m[j] = lm;
          std::memcpy(blk.q + j * f.sub_len, q, size_t(f.sub_len));
        }
      }
    }
    total += best;
  }
  return total;
}

// Step 3: least-squares d (and dmin >= 0) for the codes in blk.
void refit_super_scales(const float* x, const KFormat& f, const KBlock& blk, float& d, float& dmin) {
  double suu = 0, suv = 0, svv = 0, sux = 0, svx = 0;
  for (int j = 0; j < f.n_sub; ++j) {
    for (int i = j * f.sub_len; i < (j + 1) * f.sub_len; ++i) {
      const double u = double(blk.sc[j]) * blk.q[i], v = blk.m[j];
      suu += u * u;
      suv += u * v;
      svv += v * v;
      sux += u * x[i];
      svx += v * x[i];
    }
  }
  if (!(suu > 0)) return;
  // minimise sum (d*u - dmin*v - x)^2
  const double det = suv * suv - suu * svv;
  if (f.m_max > 0 && svv > 0 && std::fabs(det) > 1e-12 * suu * svv) {
    const double nd = (suv * svx - svv * sux) / det;
    const double nm = (suu * svx - suv * sux) / det;
    if (nd > 0 && nm >= 0) {
      d = float(nd);
      dmin = float(nm);
      return;
    }
  }
  d = float((sux + double(dmin) * suv) / suu);
}

void quantize_super_block(const float* x, const KFormat& f, KBlock& out) {
  float a[16], b[16] = {};
  if (f.m_max > 0) {
    for (int j = 0; j < f.n_sub; ++j) {
      const Affine fit = fit_affine(x + j * f.sub_len, f.sub_len, f.qmax);
      a[j] = fit.a;
      b[j] = fit.b;
    }
  } else {
    for (int j = 0; j < f.n_sub; ++j) a[j] = fit_symmetric(x + j * f.sub_len, f.sub_len, f.qmin, f.qmax);
  }
  float d = 0, dmin = 0;
  if (f.m_max > 0) {
    float amax = 0, bmax = 0;
    for (int j = 0; j < f.n_sub; ++j) {
      amax = std::max(amax, a[j]);
      bmax = std::max(bmax, b[j]);
    }
    d = amax / f.sc_max;
    dmin = bmax / f.m_max;
  } else {
    // the largest scale takes the code with the larger magnitude (sc_min < 0)
    float big = 0;
    for (int j = 0; j < f.n_sub; ++j)
      if (std::fabs(a[j]) > std::fabs(big)) big = a[j];
    d = big / f.sc_min;
  }
  out = KBlock{};
  double best = std::numeric_limits<double>::infinity();
  // Steps 2 and 3 from one starting (d, dmin), keeping the best result overall.
  auto descend = [&](float dd, float dm) {
    double local = std::numeric_limits<double>::infinity();
    for (int it = 0; it < 4; ++it) {
      KBlock cand;
      cand.d = f16_round(dd);
      cand.dmin = f16_round(dm);
      const double err = choose_codes(x, f, a, b, cand);
      if (!(err < local)) break;
      local = err;
      if (err < best) {
        best = err;
        out = cand;
      }
      refit_super_scales(x, f, cand, dd, dm);
    }
  };
  descend(d, dmin);
  // A smaller d clips the largest sub-block scale but gives the others finer
  // codes, which can win when one sub-block stands out (an outlier).
  float top = 0, second = 0;
  for (int j = 0; j < f.n_sub; ++j) {
    const float v = std::fabs(a[j]);
    if (v > top) { second = top; top = v; } else if (v > second) { second = v; }
  }
  if (top > kStandOut * second)
    for (const float shrink : kDShrink) descend(d * shrink, dmin);
  // Below f16's normal range d keeps few significant bits, so a larger d with
  // smaller scale codes can do better.
  constexpr float kF16MinNormal = 6.103515625e-05f;
  for (float up = 2; up <= 256 && std::fabs(d * up) > 0 && std::fabs(d * up) < 2 * kF16MinNormal; up *= 2)
    descend(d * up, dmin * up);
}

constexpr KFormat kQ2K{16, 16, 0, 3, 0, 15, 15, 2};
constexpr KFormat kQ3K{16, 16, -4, 3, -32, 31, 0, 2};
constexpr KFormat kQ4K{8, 32, 0, 15, 0, 63, 63, 1};
constexpr KFormat kQ5K{8, 32, 0, 31, 0, 63, 63, 1};
constexpr KFormat kQ6K{16, 16, -32, 31, -128, 127, 0, 1};

}  // namespace

void quantize_row_q2_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q2_K*>(vy);
  KBlock blk;
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    quantize_super_block(x, kQ2K, blk);
    block_q2_K& o = y[b];
    o = block_q2_K{};
    for (int j = 0; j < 16; ++j) o.scales[j] = uint8_t(blk.sc[j] | (blk.m[j] << 4));
    for (int e = 0; e < QK_K; ++e) o.qs[32 * (e / 128) + e % 32] |= uint8_t(blk.q[e] << (2 * ((e % 128) / 32)));
    o.d = f32_to_f16(blk.d);
    o.dmin = f32_to_f16(blk.dmin);
  }
}

void quantize_row_q3_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q3_K*>(vy);
  KBlock blk;
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    quantize_super_block(x, kQ3K, blk);
    block_q3_K& o = y[b];
    o = block_q3_K{};
    for (int j = 0; j < 16; ++j) {
      const int s = blk.sc[j] + 32;
      o.scales[j % 8] |= uint8_t((s & 0xF) << (j < 8 ? 0 : 4));
      o.scales[8 + j % 4] |= uint8_t((s >> 4) << (2 * (j / 4)));
    }
    for (int e = 0; e < QK_K; ++e) {
      const int u = blk.q[e] + 4;  // 0..7: the high bit set means no -4 offset
      o.qs[32 * (e / 128) + e % 32] |= uint8_t((u & 3) << (2 * ((e % 128) / 32)));
      o.hmask[e % 32] |= uint8_t((u >> 2) << (e / 32));
    }
    o.d = f32_to_f16(blk.d);
  }
}

namespace {
// Inverse of get_scale_min_k4: 6-bit scales and mins into the 12 bytes.
void pack_scale_min_k4(const int* sc, const int* m, uint8_t* q) {
  for (int j = 0; j < K_SCALE_SIZE; ++j) q[j] = 0;
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      q[j] |= uint8_t(sc[j]);
      q[j + 4] |= uint8_t(m[j]);
    } else {
      q[j + 4] = uint8_t((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
      q[j - 4] |= uint8_t((sc[j] >> 4) << 6);
      q[j] |= uint8_t((m[j] >> 4) << 6);
    }
  }
}
}  // namespace

void quantize_row_q4_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q4_K*>(vy);
  KBlock blk;
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    quantize_super_block(x, kQ4K, blk);
    block_q4_K& o = y[b];
    o = block_q4_K{};
    pack_scale_min_k4(blk.sc, blk.m, o.scales);
    for (int e = 0; e < QK_K; ++e) o.qs[32 * (e / 64) + e % 32] |= uint8_t(blk.q[e] << ((e % 64) < 32 ? 0 : 4));
    o.d = f32_to_f16(blk.d);
    o.dmin = f32_to_f16(blk.dmin);
  }
}

void quantize_row_q5_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q5_K*>(vy);
  KBlock blk;
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    quantize_super_block(x, kQ5K, blk);
    block_q5_K& o = y[b];
    o = block_q5_K{};
    pack_scale_min_k4(blk.sc, blk.m, o.scales);
    for (int e = 0; e < QK_K; ++e) {
      o.qs[32 * (e / 64) + e % 32] |= uint8_t((blk.q[e] & 0xF) << ((e % 64) < 32 ? 0 : 4));
      o.qh[e % 32] |= uint8_t((blk.q[e] >> 4) << (e / 32));
    }
    o.d = f32_to_f16(blk.d);
    o.dmin = f32_to_f16(blk.dmin);
  }
}

void quantize_row_q6_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q6_K*>(vy);
  KBlock blk;
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    quantize_super_block(x, kQ6K, blk);
    block_q6_K& o = y[b];
    o = block_q6_K{};
    for (int j = 0; j < 16; ++j) o.scales[j] = int8_t(blk.sc[j]);
    for (int e = 0; e < QK_K; ++e) {
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const int u = blk.q[e] + 32;
      o.ql[64 * h + 32 * (k & 1) + l] |= uint8_t((u & 0xF) << (k < 2 ? 0 : 4));
      o.qh[32 * h + l] |= uint8_t((u >> 4) << (2 * k));
    }
    o.d = f32_to_f16(blk.d);
  }
}

}  // namespace ember::ref
