// Scalar dots of the K-quants against q8_K. Inside a super-block everything
// is exact integer arithmetic; the float scales enter once per block. The
// mins of q2_K/q4_K/q5_K fold in through q8_K's 16-element sums (bsums).
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kquant_util.h"
#include "quant/quant_ref.h"

namespace ember::ref {
namespace {

// sum over elements [first, first + len) of q * q8.
int dot_range(const int8_t* q, const int8_t* q8, int first, int len) {
  int s = 0;
  for (int i = first; i < first + len; ++i) s += int(q[i]) * int(q8[i]);
  return s;
}

// sum of the bsums covering a sub-block of sub_len (16 or 32) elements.
int bsum_range(const block_q8_K& y, int sub, int sub_len) {
  int s = 0;
  for (int k = sub * sub_len / 16; k < (sub + 1) * sub_len / 16; ++k) s += y.bsums[k];
  return s;
}

}  // namespace

float vec_dot_q2_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q2_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  int8_t q[QK_K];
  int sc[16], m[16];
  float sum = 0;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    unpack_q2_K(x[b], q, sc, m);
    int isum = 0, msum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += sc[j] * dot_range(q, y[b].qs, 16 * j, 16);
      msum += m[j] * y[b].bsums[j];
    }
    sum += y[b].d * f16_to_f32(x[b].d) * float(isum) - y[b].d * f16_to_f32(x[b].dmin) * float(msum);
  }
  return sum;
}

float vec_dot_q3_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q3_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  int8_t q[QK_K];
  int sc[16];
  float sum = 0;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    unpack_q3_K(x[b], q, sc);
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += sc[j] * dot_range(q, y[b].qs, 16 * j, 16);
    sum += y[b].d * f16_to_f32(x[b].d) * float(isum);
  }
  return sum;
}

float vec_dot_q4_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  int8_t q[QK_K];
  int sc[8], m[8];
  float sum = 0;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    unpack_q4_K(x[b], q, sc, m);
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      isum += sc[j] * dot_range(q, y[b].qs, 32 * j, 32);
      msum += m[j] * bsum_range(y[b], j, 32);
    }
    sum += y[b].d * f16_to_f32(x[b].d) * float(isum) - y[b].d * f16_to_f32(x[b].dmin) * float(msum);
  }
  return sum;
}

float vec_dot_q5_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q5_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  int8_t q[QK_K];
  int sc[8], m[8];
  float sum = 0;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    unpack_q5_K(x[b], q, sc, m);
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      isum += sc[j] * dot_range(q, y[b].qs, 32 * j, 32);
      msum += m[j] * bsum_range(y[b], j, 32);
    }
    sum += y[b].d * f16_to_f32(x[b].d) * float(isum) - y[b].d * f16_to_f32(x[b].dmin) * float(msum);
  }
  return sum;
}

float vec_dot_q6_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  int8_t q[QK_K];
  int sc[16];
  float sum = 0;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    unpack_q6_K(x[b], q, sc);
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += sc[j] * dot_range(q, y[b].qs, 16 * j, 16);
    sum += y[b].d * f16_to_f32(x[b].d) * float(isum);
  }
  return sum;
}

}  // namespace ember::ref
