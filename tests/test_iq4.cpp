// iq4_nl / iq4_xs: the scalar reference against ggml's test vectors
// (tests/data/iq4, extracted by make_fixture.py), and every SIMD dot kernel
// for these types against the scalar one, which they reproduce bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "ember/dtype.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quant_ref.h"

using namespace ember;

namespace {

constexpr int kRows = 4, kCols = 1024;

std::vector<uint8_t> read_bytes(const std::string& name) {
  const std::string path = std::string(EMBER_TEST_DATA_DIR) + "/iq4/" + name;
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "missing fixture " << path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<float> read_f32(const std::string& name) {
  const auto b = read_bytes(name);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

struct TypeCase {
  const char* name;
  DType type;
  int row_bytes;
  void (*quantize)(const float*, void*, int64_t);
  void (*dequantize)(const void*, float*, int64_t);
  float (*dot)(int64_t, const void*, const void*);
  void (*quantize_act)(const float*, void*, int64_t);
  int act_row_bytes;
};

const TypeCase kCases[] = {
    {"iq4_nl", DType::IQ4_NL, kCols / QK4_NL * int(sizeof(block_iq4_nl)), ref::quantize_row_iq4_nl,
     ref::dequantize_row_iq4_nl, ref::vec_dot_iq4_nl_q8_0, ref::quantize_row_q8_0,
     kCols / QK8_0 * int(sizeof(block_q8_0))},
    {"iq4_xs", DType::IQ4_XS, kCols / QK_K * int(sizeof(block_iq4_xs)), ref::quantize_row_iq4_xs,
     ref::dequantize_row_iq4_xs, ref::vec_dot_iq4_xs_q8_K, ref::quantize_row_q8_K,
     kCols / QK_K * int(sizeof(block_q8_K))},
};

double rmse(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(s / n);
}

double norm(const float* a, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double(a[i]) * a[i];
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("iq4: dequantize reproduces ggml's deq.T exactly") {
  for (const TypeCase& c : kCases) {
    const auto q = read_bytes(std::string(c.name) + ".q");
    const auto want = read_f32(std::string(c.name) + ".deq.f32");
    REQUIRE(q.size() == size_t(kRows * c.row_bytes));
    std::vector<float> got(kRows * kCols);
    for (int r = 0; r < kRows; ++r) c.dequantize(q.data() + r * c.row_bytes, got.data() + r * kCols, kCols);
    CHECK_MESSAGE(std::memcmp(got.data(), want.data(), got.size() * 4) == 0, c.name);
  }
}

TEST_CASE("iq4: quantize is at least as accurate as ggml's reference quantizer (row RMSE)") {
  const auto x = read_f32("x.f32");
  for (const TypeCase& c : kCases) {
    const auto ref_err = read_f32(std::string(c.name) + ".ref_err.f32");
    std::vector<uint8_t> q(c.row_bytes);
    std::vector<float> deq(kCols);
    for (int r = 0; r < kRows; ++r) {
      c.quantize(x.data() + r * kCols, q.data(), kCols);
      c.dequantize(q.data(), deq.data(), kCols);
      const double err = rmse(deq.data(), x.data() + r * kCols, kCols);
      MESSAGE(std::string(c.name) << " row " << r << ": rmse " << err << " / ggml " << ref_err[r] << " = " << err / ref_err[r]);
      CHECK(err <= 1.02 * ref_err[r]);
    }
  }
}

TEST_CASE("iq4: the scalar dot of ggml's quants matches ggml's dot.T") {
  const auto y = read_f32("y.f32");
  const auto x = read_f32("x.f32");
  for (const TypeCase& c : kCases) {
    const auto q = read_bytes(std::string(c.name) + ".q");
    const auto want = read_f32(std::string(c.name) + ".dot.f32");
    std::vector<uint8_t> qy(c.act_row_bytes);
    for (int r = 0; r < kRows; ++r) {
      c.quantize_act(y.data() + r * kCols, qy.data(), kCols);
      const float got = c.dot(kCols, q.data() + r * c.row_bytes, qy.data());
      const double tol = 1e-4 * norm(x.data() + r * kCols, kCols) * norm(y.data() + r * kCols, kCols);
      CHECK_MESSAGE(std::fabs(double(got) - want[r]) <= tol, std::string(c.name) << " row " << r << ": " << got << " vs " << want[r]);
    }
  }
}

TEST_CASE("iq4: zero, tiny and huge rows quantize without NaN or Inf") {
  std::vector<float> row(QK_K * 2, 0.0f);
  std::vector<float> deq(row.size());
  std::vector<uint8_t> q(row.size());  // more than either type needs
  auto check_finite = [&](const TypeCase& c, const char* what) {
    c.quantize(row.data(), q.data(), int64_t(row.size()));
    c.dequantize(q.data(), deq.data(), int64_t(row.size()));
    bool finite = true;
    for (float v : deq) finite = finite && std::isfinite(v);
    CHECK_MESSAGE(finite, std::string(c.name) << ": " << what);
  };
  for (const TypeCase& c : kCases) {
    std::fill(row.begin(), row.end(), 0.0f);
    check_finite(c, "all zero");
    for (float v : deq) CHECK(v == 0.0f);
    for (size_t i = 0; i < row.size(); ++i) row[i] = (i % 7 == 0) ? 1e-38f * float(i % 5) : 0.0f;
    check_finite(c, "subnormal-sized");
    for (size_t i = 0; i < row.size(); ++i) row[i] = (i % 3 == 0) ? 1e9f : -float(i);
    check_finite(c, "beyond f16 range");
    for (size_t i = 0; i < row.size(); ++i) row[i] = float(i % 11) - 5.0f;
    row[3] = INFINITY;
    row[40] = -INFINITY;
    row[300] = NAN;
    check_finite(c, "inf and nan elements");
    std::fill(row.begin(), row.end(), 0.0f);
    row[31] = 1.0f;  // one non-zero element per row, others exactly zero
    check_finite(c, "single element");
    CHECK(std::fabs(deq[31] - 1.0f) < 1e-2f);  // the 31 zeros pull the scale a little (no zero level)
  }
}

TEST_CASE("iq4: quantize then dot tracks the float dot on random data") {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  const int n = 4096;
  std::vector<float> x(n), y(n);
  for (auto& v : x) v = dist(rng);
  for (auto& v : y) v = dist(rng);
  double exact = 0;
  for (int i = 0; i < n; ++i) exact += double(x[i]) * y[i];
  for (const TypeCase& c : kCases) {
    std::vector<uint8_t> qx(size_t(c.row_bytes) * n / kCols), qy(size_t(c.act_row_bytes) * n / kCols);
    c.quantize(x.data(), qx.data(), n);
    c.quantize_act(y.data(), qy.data(), n);
    const float got = c.dot(n, qx.data(), qy.data());
    // 4-bit weights: error ~ 0.1 |x||y| / sqrt(n) for random data; allow a margin.
    CHECK_MESSAGE(std::fabs(got - exact) < 0.02 * norm(x.data(), n) * norm(y.data(), n), c.name);
  }
}

namespace {

std::vector<const kernels::DotKernel*> simd_kernels(DType t) {
  std::vector<const kernels::DotKernel*> out;
  for (const kernels::DotKernel& k : kernels::dot_kernels())
    if (k.type == t && k.isa != kernels::Isa::Scalar) out.push_back(&k);
  return out;
}

}  // namespace

TEST_CASE("iq4: each x86 ISA level registers an iq4_nl and an iq4_xs dot") {
#if defined(__x86_64__) || defined(_M_X64)
  for (const kernels::Isa isa : {kernels::Isa::Avx2, kernels::Isa::Avx512, kernels::Isa::Avx512Vnni})
    for (const TypeCase& c : kCases) {
      int found = 0;
      for (const kernels::DotKernel* k : simd_kernels(c.type)) found += k->isa == isa;
      CHECK_MESSAGE(found == 1, std::string(c.name) << " at " << kernels::isa_name(isa));
    }
#endif
}

TEST_CASE("iq4: every SIMD dot kernel equals the scalar reference bit for bit") {
  std::mt19937 rng(42);
  int checked = 0;
  for (const TypeCase& c : kCases) {
    const auto ks = simd_kernels(c.type);
    for (const kernels::DotKernel* k : ks) {
      if (!kernels::cpu_features().supports(k->isa)) {
        MESSAGE("skipping " << k->name << ": CPU lacks " << kernels::isa_name(k->isa));
        continue;
      }
      // The kernels finish 4 iq4_xs / 8 iq4_nl blocks at a time, then the
      // rest: 7 and 17 iq4_xs blocks, 13 iq4_nl blocks.
      for (int n : {256, 1024, 7 * 256, 4096 + 256, 32 * 256, 32 * 13}) {
        if (n % QK_K != 0 && c.type == DType::IQ4_XS) continue;
        for (int rep = 0; rep < 5; ++rep) {
          // rep 3: heavy-tailed weights; rep 4: random raw bytes (every index and scale).
          std::normal_distribution<float> dist(0.0f, rep == 2 ? 1e-3f : 1.0f);
          std::vector<float> x(n), y(n);
          for (auto& v : x) v = dist(rng);
          for (auto& v : y) v = dist(rng);
          if (rep == 3)
            for (int i = 0; i < n; i += 37) x[i] *= 50.0f;
          std::vector<uint8_t> qx(size_t(c.row_bytes) * n / kCols), qy(size_t(c.act_row_bytes) * n / kCols);
          c.quantize(x.data(), qx.data(), n);
          c.quantize_act(y.data(), qy.data(), n);
          if (rep == 4) {
            // Raw bytes in the weight row, then small sane f16 scales back in place.
            for (auto& b : qx) b = uint8_t(rng());
            const int bs = c.type == DType::IQ4_NL ? int(sizeof(block_iq4_nl)) : int(sizeof(block_iq4_xs));
            for (size_t o = 0; o < qx.size(); o += size_t(bs)) {
              const uint16_t d = uint16_t(0x2000 + (rng() & 0x0FFF));  // ~ 2^-7 .. 2^-3, random sign below
              const uint16_t ds = uint16_t(d | ((rng() & 1) << 15));
              std::memcpy(&qx[o], &ds, 2);
            }
          }
          const float want = c.dot(n, qx.data(), qy.data());
          const float got = k->fn(n, qx.data(), qy.data());
          CHECK_MESSAGE(std::memcmp(&got, &want, sizeof got) == 0,
                        k->name << " n=" << n << " rep=" << rep << ": " << std::hexfloat << got << " vs " << want
                                << std::defaultfloat);
        }
      }
      ++checked;
    }
  }
  MESSAGE("checked " << checked << " SIMD iq4 kernels");
}
