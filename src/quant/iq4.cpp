// iq4_nl / iq4_xs: 4-bit indices into a fixed non-linear codebook
// (kvalues_iq4nl), with one f16 scale per 32 (iq4_nl) or a 6-bit scale per 32
// under an f16 super-block scale (iq4_xs).
//
// The quantizer fits each 32-element block by least squares: for a set of
// candidate inverse scales it maps every element to its nearest codebook level
// and keeps the assignment with the best fit sumqx^2 / sumq2; the scale is then
// refined by alternating "best scale for this assignment" and "nearest levels
// for this scale". Without an importance matrix every element counts equally,
// so the fit minimises the plain squared error (the row RMSE).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

namespace ember::ref {
namespace {

constexpr int kLevels = 16;
constexpr float kF16Max = 65504.0f;
// Blocks whose largest magnitude is below this quantize to zero (no 1/tiny).
constexpr float kZeroEps = 1e-30f;

// mid[k] is halfway between levels k and k+1.
constexpr std::array<float, kLevels - 1> kMid = [] {
  std::array<float, kLevels - 1> m{};
  for (int k = 0; k < kLevels - 1; ++k) m[k] = 0.5f * (float(kvalues_iq4nl[k]) + float(kvalues_iq4nl[k + 1]));
  return m;
}();

// kFloorLevel[i]: nearest level to the integer i - 128. Every midpoint is a
// multiple of 0.5, so for v in [i, i + 1) the answer is this entry or the next.
constexpr std::array<uint8_t, 256> kFloorLevel = [] {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    int l = 0;
    while (l < kLevels - 1 && float(i - 128) > kMid[l]) ++l;
    t[i] = uint8_t(l);
  }
  return t;
}();

// Index of the codebook level nearest to v (ties go down).
inline int nearest_level(float v) {
  if (!(v > -128.0f)) return 0;  // also catches NaN
  if (v >= 127.0f) return kLevels - 1;
  const int l = kFloorLevel[int(v + 128.0f)];  // v + 128 > 0: truncation is floor
  return l + int(l < kLevels - 1 && v > kMid[l]);
}

struct Fit {
  float sumqx = 0, sumq2 = 0;
  // Squared error at the best scale for this assignment is sum x^2 - sumqx^2/sumq2,
  // so a larger sumqx^2/sumq2 is a better fit.
  float score() const { return sumq2 > 0 ? sumqx * sumqx / sumq2 : 0.0f; }
  float scale() const { return sumq2 > 0 ? sumqx / sumq2 : 0.0f; }
};

// Maps x[j] * id to the nearest levels. x is normalised (|x| <= 1), so float sums are safe.
Fit assign(const float* x, float id) {
  Fit f;
  for (int j = 0; j < 32; ++j) {
    const float q = kvalues_iq4nl[nearest_level(id * x[j])];
    f.sumqx += q * x[j];
    f.sumq2 += q * q;
  }
  return f;
}

// Squared error of 32 elements against d * level, each at its nearest level
// (written to L when given). Summed in units of d, where the terms stay small.
double error_at(const float* x, float d, uint8_t* L) {
  if (d == 0) {
    double err = 0;
    for (int j = 0; j < 32; ++j) err += double(x[j]) * x[j];
    if (L) std::memset(L, 0, 32);
    return err;
  }
  const float id = 1.0f / d;
  float err = 0;
  for (int j = 0; j < 32; ++j) {
    const float v = id * x[j];
    const int l = nearest_level(v);
    if (L) L[j] = uint8_t(l);
    err += (v - kvalues_iq4nl[l]) * (v - kvalues_iq4nl[l]);
  }
  return double(err) * d * d;
}

// The least-squares scale of one 32-element block (unrounded; 0 for a zero block).
float fit_block_scale(const float* x) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) { amax = std::fabs(x[j]); max = x[j]; }
  if (!(amax >= kZeroEps)) return 0.0f;
  if (!(amax <= kF16Max * 127.0f)) return max > 0 ? -kF16Max : kF16Max;  // saturate (also inf)
  // Fit x / amax: the same problem at a harmless size for float sums.
  float xn[32];
  const float inv = 1.0f / amax;
  for (int j = 0; j < 32; ++j) xn[j] = x[j] * inv;
  const float sign = max < 0 ? -1.0f : 1.0f;
  // The codebook is lopsided (-127 .. 113): try the extreme element on either
  // end, at a coarse grid of positions around the end level; the refinement
  // below does the fine work (a finer grid measured no better).
  Fit best;
  for (int side = 0; side < 2; ++side) {
    const float end = side == 0 ? float(kvalues_iq4nl[0]) : float(kvalues_iq4nl[kLevels - 1]);
    for (int step = -3; step <= 3; ++step) {
      const Fit f = assign(xn, (end + 4.0f * float(step)) * sign);
      if (f.score() > best.score()) best = f;
    }
  }
  // Alternate best scale / nearest levels until the fit stops improving.
  float d = best.scale();
  for (int iter = 0; iter < 4 && d != 0; ++iter) {
    const Fit f = assign(xn, 1.0f / d);
    if (!(f.score() > best.score())) break;
    best = f;
    d = f.scale();
  }
  return d * amax;
}

float clamp_f16(float d) { return std::clamp(d, -kF16Max, kF16Max); }

void pack_nibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < QK4_NL / 2; ++j) qs[j] = uint8_t(L[j] | (L[j + QK4_NL / 2] << 4));
}

void quantize_block_iq4_nl(const float* x, block_iq4_nl& y) {
  const uint16_t d16 = f32_to_f16(clamp_f16(fit_block_scale(x)));
  uint8_t L[QK4_NL];
  // Re-assign against the scale actually stored.
  error_at(x, f16_to_f32(d16), L);
  y.d = d16;
  pack_nibbles(L, y.qs);
}

// 6-bit sub-block scale ib of an iq4_xs block, minus its offset 32.
int iq4_xs_scale(const block_iq4_xs& b, int ib) {
  const int lo = (b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF;
  const int hi = (b.scales_h >> (2 * ib)) & 3;
  return (lo | (hi << 4)) - 32;
}

constexpr int kSubBlocks = QK_K / 32;

void quantize_block_iq4_xs(const float* x, block_iq4_xs& y) {
  float scales[kSubBlocks];
  float smax = 0, samax = 0;
  for (int ib = 0; ib < kSubBlocks; ++ib) {
    scales[ib] = fit_block_scale(x + 32 * ib);
    if (std::fabs(scales[ib]) > samax) { samax = std::fabs(scales[ib]); smax = scales[ib]; }
  }
  y = block_iq4_xs{};
  if (samax == 0) return;  // all zero: d = 0
  // Super-block scale candidates: the largest sub-scale at -32 (the one end of
  // the 6-bit range that needs no clamping) or a little inside it; for each,
  // every sub-block picks the 6-bit scale near its own fit with least error.
  double best_err = -1;
  uint16_t best_d16 = 0;
  int best_l[kSubBlocks] = {};
  for (int t = 0; t < 4; ++t) {
    const uint16_t d16 = f32_to_f16(clamp_f16(-smax / (32.0f - float(t))));
    const float d = f16_to_f32(d16);
    if (d == 0) continue;
    double err = 0;
    int ls[kSubBlocks];
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const int l0 = int(std::nearbyint(std::clamp(scales[ib] / d, -32.0f, 31.0f)));
      double be = -1;
      for (int l = std::max(-32, l0 - 1); l <= std::min(31, l0 + 1); ++l) {
        const double e = error_at(x + 32 * ib, d * float(l), nullptr);
        if (be < 0 || e < be) { be = e; ls[ib] = l; }
      }
      err += be;
    }
    if (best_err < 0 || err < best_err) {
      best_err = err;
      best_d16 = d16;
      std::copy(ls, ls + kSubBlocks, best_l);
    }
  }
  y.d = best_d16;
  const float d = f16_to_f32(best_d16);
  for (int ib = 0; ib < kSubBlocks; ++ib) {
    uint8_t L[32];
    error_at(x + 32 * ib, d * float(best_l[ib]), L);
    pack_nibbles(L, y.qs + 16 * ib);
    const int l = best_l[ib] + 32;
    y.scales_l[ib / 2] |= uint8_t((l & 0xF) << (4 * (ib % 2)));
    y.scales_h |= uint16_t((l >> 4) << (2 * ib));
  }
}

}  // namespace

void quantize_row_iq4_nl(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_iq4_nl*>(vy);
  for (int64_t b = 0; b < n / QK4_NL; ++b) quantize_block_iq4_nl(x + b * QK4_NL, y[b]);
}

void dequantize_row_iq4_nl(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_iq4_nl*>(vx);
  for (int64_t b = 0; b < n / QK4_NL; ++b, y += QK4_NL) {
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < QK4_NL / 2; ++j) {
      y[j] = d * float(kvalues_iq4nl[x[b].qs[j] & 0xF]);
      y[j + QK4_NL / 2] = d * float(kvalues_iq4nl[x[b].qs[j] >> 4]);
    }
  }
}

void quantize_row_iq4_xs(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_iq4_xs*>(vy);
  for (int64_t b = 0; b < n / QK_K; ++b) quantize_block_iq4_xs(x + b * QK_K, y[b]);
}

void dequantize_row_iq4_xs(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_iq4_xs*>(vx);
  for (int64_t b = 0; b < n / QK_K; ++b) {
    const float d = f16_to_f32(x[b].d);
    for (int ib = 0; ib < kSubBlocks; ++ib, y += 32) {
      const float dl = d * float(iq4_xs_scale(x[b], ib));
      const uint8_t* qs = x[b].qs + 16 * ib;
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * float(kvalues_iq4nl[qs[j] & 0xF]);
        y[j + 16] = dl * float(kvalues_iq4nl[qs[j] >> 4]);
      }
    }
  }
}

}  // namespace ember::ref
