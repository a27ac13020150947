// Scalar reference K-quants (q2_K..q6_K): dequantization bit-exact against
// ggml, dots against q8_K, quantizer quality against ggml's reference
// quantizer, and robustness on degenerate rows. The ggml vectors are a small
// extract of quant_vectors.gguf in tests/data/kquants (see make_fixture.py).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "quant/blocks.h"
#include "quant/quant_ref.h"

using namespace ember;

namespace {

constexpr int kRows = 4, kCols = 1024;

struct KType {
  const char* name;
  size_t block_bytes;
  void (*quantize)(const float*, void*, int64_t);
  void (*dequantize)(const void*, float*, int64_t);
  float (*dot)(int64_t, const void*, const void*);
};

const KType kTypes[] = {
    {"q2_K", sizeof(block_q2_K), ref::quantize_row_q2_K, ref::dequantize_row_q2_K, ref::vec_dot_q2_K_q8_K},
    {"q3_K", sizeof(block_q3_K), ref::quantize_row_q3_K, ref::dequantize_row_q3_K, ref::vec_dot_q3_K_q8_K},
    {"q4_K", sizeof(block_q4_K), ref::quantize_row_q4_K, ref::dequantize_row_q4_K, ref::vec_dot_q4_K_q8_K},
    {"q5_K", sizeof(block_q5_K), ref::quantize_row_q5_K, ref::dequantize_row_q5_K, ref::vec_dot_q5_K_q8_K},
    {"q6_K", sizeof(block_q6_K), ref::quantize_row_q6_K, ref::dequantize_row_q6_K, ref::vec_dot_q6_K_q8_K},
};

std::string data_path(const std::string& file) { return std::string(EMBER_TEST_DATA_DIR) + "/kquants/" + file; }

std::vector<uint8_t> read_bytes(const std::string& file) {
  std::ifstream in(data_path(file), std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << data_path(file));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> read_f32(const std::string& file) {
  const auto bytes = read_bytes(file);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

struct Expected {
  double ref_rmse = 0, ref_dot = 0;
  uint64_t deq_hash = 0;
};

// expected.txt: "type row ref_rmse ref_dot deq_fnv1a64" per line.
Expected expected_for(const std::string& type, int row) {
  std::ifstream in(data_path("expected.txt"));
  REQUIRE(in.good());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string t, hash;
    int r;
    Expected e;
    s >> t >> r >> e.ref_rmse >> e.ref_dot >> hash;
    if (t == type && r == row) {
      e.deq_hash = std::stoull(hash, nullptr, 16);
      return e;
    }
  }
  FAIL("no expected values for " << type << " row " << row);
  return {};
}

uint64_t fnv1a64(const float* v, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  const auto* p = reinterpret_cast<const uint8_t*>(v);
  for (size_t i = 0; i < n * 4; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

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

std::vector<float> roundtrip(const KType& t, const std::vector<float>& x) {
  std::vector<uint8_t> q(x.size() / QK_K * t.block_bytes);
  t.quantize(x.data(), q.data(), int64_t(x.size()));
  std::vector<float> out(x.size());
  t.dequantize(q.data(), out.data(), int64_t(x.size()));
  return out;
}

bool all_finite(const std::vector<float>& v) {
  for (float f : v)
    if (!std::isfinite(f)) return false;
  return true;
}

}  // namespace

TEST_CASE("k-quants: dequantize reproduces ggml's reference bit for bit") {
  for (const auto& t : kTypes) {
    const auto q = read_bytes(std::string("q.") + t.name + ".bin");
    const size_t row_bytes = kCols / QK_K * t.block_bytes;
    REQUIRE(q.size() == kRows * row_bytes);
    for (int r = 0; r < kRows; ++r) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(r);
      std::vector<float> out(kCols);
      t.dequantize(q.data() + r * row_bytes, out.data(), kCols);
      CHECK(fnv1a64(out.data(), kCols) == expected_for(t.name, r).deq_hash);
    }
  }
}

TEST_CASE("k-quants: dot with q8_K matches ggml's CPU kernels within 1e-4 |x||y|") {
  const auto x = read_f32("x.f32"), y = read_f32("y.f32");
  for (const auto& t : kTypes) {
    const auto q = read_bytes(std::string("q.") + t.name + ".bin");
    const size_t row_bytes = kCols / QK_K * t.block_bytes;
    for (int r = 0; r < kRows; ++r) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(r);
      block_q8_K yq[kCols / QK_K];
      ref::quantize_row_q8_K(&y[r * kCols], yq, kCols);
      const double got = t.dot(kCols, q.data() + r * row_bytes, yq);
      const double tol = 1e-4 * norm(&x[r * kCols], kCols) * norm(&y[r * kCols], kCols);
      CHECK(std::fabs(got - expected_for(t.name, r).ref_dot) <= tol);
    }
  }
}

TEST_CASE("k-quants: dot with q8_K equals the dot of the dequantized rows") {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss;
  const int n = 4 * QK_K;
  std::vector<float> x(n), y(n), xd(n), yd(n);
  for (const auto& t : kTypes) {
    std::vector<uint8_t> q(n / QK_K * t.block_bytes);
    // Random bytes exercise every bit of the layout, including quants and
    // scales a quantizer would never produce; keep the f16 scales finite.
    for (int trial = 0; trial < 20; ++trial) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(trial);
      for (auto& b : q) b = uint8_t(rng());
      for (int b = 0; b < n / QK_K; ++b) {
        uint8_t* blk = q.data() + b * t.block_bytes;
        // the f16 scales sit at the start (q4_K, q5_K) or end (the others) of the block
        const bool head = std::string(t.name) == "q4_K" || std::string(t.name) == "q5_K";
        const int nscales = head || std::string(t.name) == "q2_K" ? 2 : 1;
        uint8_t* s = head ? blk : blk + t.block_bytes - 2 * nscales;
        for (int k = 0; k < nscales; ++k) s[2 * k + 1] = uint8_t(0x38 | (s[2 * k + 1] & 0x83));
      }
      for (auto& v : y) v = gauss(rng);
      block_q8_K yq[n / QK_K];
      ref::quantize_row_q8_K(y.data(), yq, n);
      t.dequantize(q.data(), xd.data(), n);
      ref::dequantize_row_q8_K(yq, yd.data(), n);
      REQUIRE(all_finite(xd));
      double want = 0;
      for (int i = 0; i < n; ++i) want += double(xd[i]) * yd[i];
      const double got = t.dot(n, q.data(), yq);
      CHECK(std::fabs(got - want) <= 1e-5 * norm(xd.data(), n) * norm(yd.data(), n));
    }
  }
}

TEST_CASE("k-quants: quantize -> dequantize RMSE within 1.02x of ggml's reference quantizer") {
  const auto x = read_f32("x.f32");
  for (const auto& t : kTypes) {
    for (int r = 0; r < kRows; ++r) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(r);
      const std::vector<float> row(x.begin() + r * kCols, x.begin() + (r + 1) * kCols);
      const auto out = roundtrip(t, row);
      const double ratio = rmse(out.data(), row.data(), kCols) / expected_for(t.name, r).ref_rmse;
      CAPTURE(ratio);
      CHECK(ratio <= 1.02);
    }
  }
}

TEST_CASE("k-quants: more bits give a smaller error on gaussian data") {
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss;
  std::vector<float> x(8 * QK_K);
  for (auto& v : x) v = gauss(rng);
  double prev = std::numeric_limits<double>::infinity();
  for (const auto& t : kTypes) {
    const std::string name = t.name;
      CAPTURE(name);
    const double e = rmse(roundtrip(t, x).data(), x.data(), int(x.size()));
    CHECK(e < prev);
    prev = e;
  }
  CHECK(prev < 0.02);  // q6_K on unit gaussians
}

TEST_CASE("k-quants: all-zero rows quantize to exact zeros") {
  const std::vector<float> x(2 * QK_K, 0.0f);
  for (const auto& t : kTypes) {
    const std::string name = t.name;
      CAPTURE(name);
    for (float v : roundtrip(t, x)) CHECK(v == 0.0f);
  }
}

TEST_CASE("k-quants: constant rows come back close to the constant") {
  for (const float c : {1.0f, -1.0f, 3.5e-3f, 1e-4f, -250.0f, 1e5f}) {
    const std::vector<float> x(2 * QK_K, c);
    for (const auto& t : kTypes) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(c);
      const auto out = roundtrip(t, x);
      REQUIRE(all_finite(out));
      // one f16 scale step of the largest code is the worst a sane quantizer does
      CHECK(rmse(out.data(), x.data(), int(x.size())) <= 2e-3 * std::fabs(c));
    }
  }
}

TEST_CASE("k-quants: one huge value is kept and the rest stay finite") {
  std::mt19937 rng(3);
  std::normal_distribution<float> gauss;
  for (const float big : {1e4f, -6e4f, 1e8f}) {
    std::vector<float> x(QK_K);
    for (auto& v : x) v = 0.01f * gauss(rng);
    x[77] = big;
    for (const auto& t : kTypes) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(big);
      const auto out = roundtrip(t, x);
      REQUIRE(all_finite(out));
      if (std::fabs(big) <= 6e4f) {
        CHECK(std::fabs(out[77] - big) <= 0.02 * std::fabs(big));
      }
      // everything else is tiny next to the huge value's scale
      double rest = 0;
      for (int i = 0; i < QK_K; ++i)
        if (i != 77) rest = std::max(rest, double(std::fabs(out[i])));
      CHECK(rest <= 0.2 * std::fabs(big));
    }
  }
}

TEST_CASE("k-quants: denormal and tiny inputs give finite output near the input") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uni(-1, 1);
  for (const float s : {1e-40f, 1e-30f, 1e-10f}) {
    std::vector<float> x(QK_K);
    for (auto& v : x) v = s * uni(rng);
    for (const auto& t : kTypes) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(s);
      const auto out = roundtrip(t, x);
      REQUIRE(all_finite(out));
      // below f16's range the scales underflow; the result must not exceed the input's size
      for (size_t i = 0; i < x.size(); ++i) CHECK(std::fabs(out[i]) <= 2 * s);
    }
  }
}

TEST_CASE("k-quants: NaN and inf in one super-block leave the other super-blocks untouched") {
  std::mt19937 rng(9);
  std::normal_distribution<float> gauss;
  std::vector<float> clean(2 * QK_K);
  for (auto& v : clean) v = gauss(rng);
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
    auto dirty = clean;
    dirty[5] = bad;
    for (const auto& t : kTypes) {
      const std::string name = t.name;
      CAPTURE(name);
      CAPTURE(bad);
      const auto want = roundtrip(t, clean);
      const auto got = roundtrip(t, dirty);  // must not crash; block 0 is garbage in, garbage out
      CHECK(std::memcmp(got.data() + QK_K, want.data() + QK_K, QK_K * sizeof(float)) == 0);
    }
  }
}
