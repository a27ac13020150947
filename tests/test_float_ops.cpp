// Every float_ops entry this CPU can run, compared with the scalar reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/float_ops_ref.h"

namespace {

using ember::kernels::FloatOps;
using ember::kernels::FloatOpsKernel;
using ember::kernels::Isa;

constexpr int64_t kSizes[] = {1, 7, 16, 33, 256, 1000, 4096};
const FloatOps& ref_ops = ember::ref::kFloatOps;

// The SIMD entries the CPU runs; the scalar one is the oracle, not a subject.
std::vector<FloatOpsKernel> simd_entries() {
  std::vector<FloatOpsKernel> out;
  for (const FloatOpsKernel& k : ember::kernels::float_ops_kernels())
    if (k.isa != Isa::Scalar && ember::kernels::cpu_features().supports(k.isa)) out.push_back(k);
  return out;
}

std::vector<float> random_vec(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Worst |got - want| / (rel * |want| + abs) over the row: <= 1 passes.
struct Worst {
  double ratio = 0, err = 0;
  int64_t at = -1;
};
Worst compare(const std::vector<float>& got, const std::vector<float>& want, double rel, double abs) {
  Worst w;
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(double(got[i]) - double(want[i]));
    const double r = std::isnan(e) ? INFINITY : e / (rel * std::fabs(double(want[i])) + abs);
    if (r > w.ratio) w = {r, e, int64_t(i)};
  }
  return w;
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

#define CHECK_CLOSE(got, want, rel, abs)                                                       \
  do {                                                                                         \
    const Worst w_ = compare(got, want, rel, abs);                                             \
    INFO("worst error " << w_.err << " at " << w_.at << " (" << w_.ratio << " of tolerance)"); \
    CHECK(w_.ratio <= 1.0);                                                                    \
  } while (0)

}  // namespace

TEST_CASE("float_ops: this CPU tests at least one SIMD entry where it has AVX2") {
  if (!ember::kernels::cpu_features().supports(Isa::Avx2)) return;
  const auto entries = simd_entries();
  CHECK(!entries.empty());
  for (const auto& k : entries) MESSAGE("testing " << std::string(k.name));
}

TEST_CASE("float_ops: rms_norm matches the reference within 1e-6 relative, with and without weight") {
  for (const auto& k : simd_entries()) {
    for (int64_t n : kSizes) {
      const std::string name = k.name;
      CAPTURE(name);
      CAPTURE(n);
      const auto x = random_vec(n, -3, 3, 1 + uint32_t(n));
      const auto w = random_vec(n, -2, 2, 2 + uint32_t(n));
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      for (const float* wp : {w.data(), static_cast<const float*>(nullptr)}) {
        CAPTURE(wp != nullptr);
        k.ops->rms_norm(got.data(), x.data(), wp, n, 1e-5f);
        ref_ops.rms_norm(want.data(), x.data(), wp, n, 1e-5f);
        CHECK_CLOSE(got, want, 1e-6, 0.0);
      }
      // In place (y == x).
      std::vector<float> inplace = x;
      k.ops->rms_norm(inplace.data(), inplace.data(), w.data(), n, 1e-6f);
      ref_ops.rms_norm(want.data(), x.data(), w.data(), n, 1e-6f);
      CHECK_CLOSE(inplace, want, 1e-6, 0.0);
    }
  }
}

TEST_CASE("float_ops: softmax matches the reference within 1e-6 absolute and sums to 1 within 1e-5") {
  for (const auto& k : simd_entries()) {
    for (int64_t n : kSizes) {
      const std::string name = k.name;
      CAPTURE(name);
      CAPTURE(n);
      auto got = random_vec(n, -12, 12, 3 + uint32_t(n));
      auto want = got;
      k.ops->softmax(got.data(), n);
      ref_ops.softmax(want.data(), n);
      CHECK_CLOSE(got, want, 0.0, 1e-6);
      double sum = 0;
      for (float v : got) sum += v;
      CHECK(std::fabs(sum - 1.0) <= 1e-5);
    }
  }
}

TEST_CASE("float_ops: softmax gives exactly 0 for -inf (masked) entries and no NaN") {
  const float ninf = -std::numeric_limits<float>::infinity();
  for (const auto& k : simd_entries()) {
    for (int64_t n : kSizes) {
      const std::string name = k.name;
      CAPTURE(name);
      CAPTURE(n);
      auto x = random_vec(n, -5, 5, 4 + uint32_t(n));
      // A causal mask: the second half is -inf (n == 1 keeps its one entry).
      for (int64_t i = (n + 1) / 2; i < n; ++i) x[size_t(i)] = ninf;
      auto want = x;
      k.ops->softmax(x.data(), n);
      ref_ops.softmax(want.data(), n);
      CHECK(all_finite(x));
      for (int64_t i = (n + 1) / 2; i < n; ++i) CHECK(x[size_t(i)] == 0.0f);
      CHECK_CLOSE(x, want, 0.0, 1e-6);
    }
  }
}

TEST_CASE("float_ops: silu, gelu and swiglu match the reference within 1e-5 relative + 1e-7") {
  for (const auto& k : simd_entries()) {
    for (int64_t n : kSizes) {
      const std::string name = k.name;
      CAPTURE(name);
      CAPTURE(n);
      const auto x = random_vec(n, -10, 10, 5 + uint32_t(n));
      const auto up = random_vec(n, -4, 4, 6 + uint32_t(n));
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      SUBCASE("silu") {
        k.ops->silu(got.data(), x.data(), n);
        ref_ops.silu(want.data(), x.data(), n);
        CHECK_CLOSE(got, want, 1e-5, 1e-7);
      }
      SUBCASE("gelu") {
        k.ops->gelu(got.data(), x.data(), n);
        ref_ops.gelu(want.data(), x.data(), n);
        CHECK_CLOSE(got, want, 1e-5, 1e-7);
      }
      SUBCASE("swiglu") {
        k.ops->swiglu(got.data(), x.data(), up.data(), n);
        ref_ops.swiglu(want.data(), x.data(), up.data(), n);
        CHECK_CLOSE(got, want, 1e-5, 1e-7);
      }
      SUBCASE("in place") {
        std::vector<float> y = x;
        k.ops->silu(y.data(), y.data(), n);
        ref_ops.silu(want.data(), x.data(), n);
        CHECK_CLOSE(y, want, 1e-5, 1e-7);
        y = x;
        k.ops->swiglu(y.data(), y.data(), up.data(), n);
        ref_ops.swiglu(want.data(), x.data(), up.data(), n);
        CHECK_CLOSE(y, want, 1e-5, 1e-7);
      }
    }
  }
}

// The reference's 0.5 x (1 + tanh u) cancels for x << 0; a double evaluation
// shows the SIMD form is no worse than the reference there.
TEST_CASE("float_ops: gelu is within 1e-5 relative of a double evaluation") {
  for (const auto& k : simd_entries()) {
    const std::string name = k.name;
      CAPTURE(name);
    const int64_t n = 4096;
    const auto x = random_vec(n, -10, 10, 7);
    std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
    k.ops->gelu(got.data(), x.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double v = x[size_t(i)];
      const double u = 0.7978845608028654 * v * (1.0 + 0.044715 * v * v);
      want[size_t(i)] = float(v / (1.0 + std::exp(-2.0 * u)));  // = 0.5 v (1 + tanh u), without cancelling
    }
    CHECK_CLOSE(got, want, 1e-5, 1e-30);
  }
}

TEST_CASE("float_ops: add, mul, scale and axpy match the reference within 1e-6 relative") {
  for (const auto& k : simd_entries()) {
    for (int64_t n : kSizes) {
      const std::string name = k.name;
      CAPTURE(name);
      CAPTURE(n);
      const auto a = random_vec(n, -4, 4, 8 + uint32_t(n));
      const auto b = random_vec(n, -4, 4, 9 + uint32_t(n));
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      k.ops->add(got.data(), a.data(), b.data(), n);
      ref_ops.add(want.data(), a.data(), b.data(), n);
      CHECK_CLOSE(got, want, 1e-6, 0.0);
      k.ops->mul(got.data(), a.data(), b.data(), n);
      ref_ops.mul(want.data(), a.data(), b.data(), n);
      CHECK_CLOSE(got, want, 1e-6, 0.0);
      k.ops->scale(got.data(), a.data(), -0.37f, n);
      ref_ops.scale(want.data(), a.data(), -0.37f, n);
      CHECK_CLOSE(got, want, 1e-6, 0.0);
      // In place: y aliases a.
      got = a;
      k.ops->add(got.data(), got.data(), b.data(), n);
      ref_ops.add(want.data(), a.data(), b.data(), n);
      CHECK_CLOSE(got, want, 1e-6, 0.0);

      // axpy may fuse a*x + y into one rounding, so the error is measured
      // against the size of the terms, |y| + |a x|, not of a cancelled sum.
      got = b;
      want = b;
      k.ops->axpy(got.data(), a.data(), 0.73f, n);
      ref_ops.axpy(want.data(), a.data(), 0.73f, n);
      double worst = 0;
      for (int64_t i = 0; i < n; ++i) {
        const size_t j = size_t(i);
        const double terms = std::fabs(double(b[j])) + std::fabs(0.73 * a[j]);
        worst = std::max(worst, std::fabs(double(got[j]) - double(want[j])) / terms);
      }
      CHECK(worst <= 1e-6);
    }
  }
}

// cos/sin table as a model builds it: theta_i = pos * base^(-2i/n_rot).
static std::vector<float> rope_table(int64_t n_rot, int pos) {
  std::vector<float> cs(static_cast<size_t>(n_rot));
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double theta = pos * std::pow(10000.0, -2.0 * double(i) / double(n_rot));
    cs[size_t(2 * i)] = float(std::cos(theta));
    cs[size_t(2 * i + 1)] = float(std::sin(theta));
  }
  return cs;
}

TEST_CASE("float_ops: rope (neox and adjacent pairs, full and partial rotation) matches the reference within 1e-6") {
  struct Shape {
    int64_t n_heads, head_dim, n_rot;
  };
  // Full rotation at common head sizes, partial rotation (phi, stablelm), odd tails.
  const Shape shapes[] = {{4, 128, 128}, {3, 64, 64}, {2, 80, 32}, {5, 96, 24}, {2, 40, 34},
                          {1, 16, 16},   {2, 8, 6},   {1, 2, 2},   {2, 256, 64}, {3, 34, 34}};
  for (const auto& k : simd_entries()) {
    for (const Shape& s : shapes) {
      for (bool neox : {false, true}) {
        const std::string name = k.name;
      CAPTURE(name);
        CAPTURE(s.head_dim);
        CAPTURE(s.n_rot);
        CAPTURE(neox);
        const auto cs = rope_table(s.n_rot, 1234);
        auto got = random_vec(s.n_heads * s.head_dim, -3, 3, uint32_t(s.head_dim * 7 + s.n_rot));
        auto want = got;
        k.ops->rope(got.data(), s.n_heads, s.head_dim, s.n_rot, cs.data(), neox);
        ref_ops.rope(want.data(), s.n_heads, s.head_dim, s.n_rot, cs.data(), neox);
        CHECK_CLOSE(got, want, 0.0, 1e-6);
      }
    }
  }
}

TEST_CASE("float_ops: exp-based ops stay finite for inputs of +-80 and beyond") {
  const float edge[] = {80.0f, -80.0f, 88.5f, -88.5f, 100.0f, -100.0f, 1e4f, -1e4f, 1e-30f, -1e-30f, 0.0f};
  std::vector<float> x;
  for (int rep = 0; rep < 5; ++rep)
    for (float v : edge) x.push_back(v);  // 55 entries: full batches and a tail
  const int64_t n = int64_t(x.size());
  for (const auto& k : simd_entries()) {
    const std::string name = k.name;
      CAPTURE(name);
    std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
    k.ops->silu(got.data(), x.data(), n);
    ref_ops.silu(want.data(), x.data(), n);
    CHECK(all_finite(got));
    CHECK_CLOSE(got, want, 1e-5, 1e-7);
    k.ops->gelu(got.data(), x.data(), n);
    CHECK(all_finite(got));
    ref_ops.gelu(want.data(), x.data(), n);
    CHECK_CLOSE(got, want, 1e-5, 1e-7);
    k.ops->swiglu(got.data(), x.data(), x.data(), n);
    CHECK(all_finite(got));
    got = x;
    k.ops->softmax(got.data(), n);
    CHECK(all_finite(got));
    want = x;
    ref_ops.softmax(want.data(), n);
    CHECK_CLOSE(got, want, 0.0, 1e-6);
    k.ops->rms_norm(got.data(), x.data(), nullptr, n, 1e-5f);
    CHECK(all_finite(got));
  }
}
