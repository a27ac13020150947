// The 4-activation-row dots (Dot4Kernel) the GEMM uses: every one in the list,
// on every ISA this CPU has, equals its own ISA's vec_dot bit for bit; the
// dispatch table pairs them right; and matmul's GEMM equals per-row vec_dot.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"

using namespace ember;
using namespace ember::kernels;

namespace {

std::vector<float> random_row(std::mt19937& rng, int64_t n, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v) f = dist(rng);
  return v;
}

const DotKernel* same_isa_dot(const Dot4Kernel& k) {
  for (const DotKernel& d : dot_kernels())
    if (d.type == k.type && d.isa == k.isa) return &d;
  return nullptr;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("dot4: every 4x kernel equals its ISA's vec_dot bit for bit, for 1 to 4 activation rows") {
  std::mt19937 rng(2024);
  int checked = 0;
  for (const Dot4Kernel& k : dot4_kernels()) {
    if (!cpu_features().supports(k.isa)) continue;
    const DotKernel* d = same_isa_dot(k);
    REQUIRE_MESSAGE(d != nullptr, std::string(k.name) << ": no vec_dot of the same type and ISA");
    const TypeTraits& tr = type_traits(k.type);
    const TypeTraits& at = type_traits(tr.vec_dot_type);
    // Block counts around the kernels' steps (8 legacy blocks, 4 super-blocks) and their tails.
    for (int64_t blocks : {1, 2, 3, 5, 7, 8, 9, 13, 17, 36}) {
      const int64_t n = blocks * tr.block_size;
      if (n % at.block_size) continue;
      const size_t w_bytes = *dtype_row_bytes(k.type, uint64_t(n));
      const size_t a_bytes = *dtype_row_bytes(tr.vec_dot_type, uint64_t(n));
      const size_t stride = a_bytes + 40;  // rows need not be packed, nor aligned
      for (int rep = 0; rep < 3; ++rep) {
        std::vector<uint8_t> w(w_bytes), act(stride * 4);
        tr.from_float(random_row(rng, n, rep == 2 ? 1e-3f : 1.0f).data(), w.data(), n);
        for (int i = 0; i < 4; ++i)
          at.from_float(random_row(rng, n, i == 3 ? 30.0f : 1.0f).data(), act.data() + size_t(i) * stride, n);
        for (int n_act = 1; n_act <= 4; ++n_act) {
          float out[4] = {};
          k.fn(n, w.data(), act.data(), stride, n_act, out);
          for (int i = 0; i < n_act; ++i) {
            const float want = d->fn(n, w.data(), act.data() + size_t(i) * stride);
            CHECK_MESSAGE(same_bits(out[i], want), k.name << " n=" << n << " rows=" << n_act << " row " << i << ": "
                                                          << out[i] << " vs " << d->name << " " << want);
          }
        }
        ++checked;
      }
    }
  }
  MESSAGE("checked " << checked << " weight rows over the 4x kernels this CPU runs");
  if (cpu_features().supports(Isa::Avx512)) CHECK(checked > 0);
}

TEST_CASE("dot4: the table takes a 4x kernel only with the vec_dot of its own ISA") {
  for (int i = 0; i < kIsaCount; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (!cpu_features().supports(isa)) continue;
    const KernelTable& kt = kernel_table(isa);
    for (uint32_t t = 0; t < kDTypeCount; ++t) {
      if (!kt.vec_dot_4x[t]) continue;
      REQUIRE(kt.vec_dot_name[t] != nullptr);
      std::string want = kt.vec_dot_name[t];
      want.replace(0, std::strlen("vec_dot_"), "vec_dot_4x_");
      CHECK(std::string(kt.vec_dot_4x_name[t]) == want);
    }
    if (isa == Isa::Avx512 || isa == Isa::Avx512Vnni)
      for (DType t : {DType::Q4_K, DType::Q6_K, DType::Q8_0, DType::Q4_1})
        CHECK_MESSAGE(bool(kt.vec_dot_4x[uint32_t(t)]), isa_name(isa) << " " << type_traits(t).name);
  }
}

TEST_CASE("matmul: the GEMM with 4x kernels equals per-row vec_dot bit for bit") {
  std::mt19937 rng(99);
  ThreadPool pool(2);
  int checked = 0;
  for (int ii = 0; ii < kIsaCount; ++ii) {
    const Isa isa = static_cast<Isa>(ii);
    if (!cpu_features().supports(isa)) continue;
    const KernelTable& kt = kernel_table(isa);
    for (uint32_t ti = 0; ti < kDTypeCount; ++ti) {
      if (!kt.vec_dot_4x[ti]) continue;
      const auto t = static_cast<DType>(ti);
      const TypeTraits& tr = type_traits(t);
      // 5 super-blocks; for the legacy types 43 blocks (five 8-block steps and a tail).
      const int64_t k = tr.block_size == 32 ? 43 * 32 : 5 * 256, rows = 37;
      const size_t row_bytes = *dtype_row_bytes(t, uint64_t(k));
      std::vector<uint8_t> w(row_bytes * size_t(rows));
      for (int64_t r = 0; r < rows; ++r) tr.from_float(random_row(rng, k, 1.0f).data(), w.data() + size_t(r) * row_bytes, k);
      const WeightMatrix wm{t, w.data(), rows, k, row_bytes};
      const MatmulKernels mk = matmul_kernels(kt, t);
      REQUIRE(bool(mk.dot4));
      const size_t a_bytes = *dtype_row_bytes(tr.vec_dot_type, uint64_t(k));
      for (int64_t m : {2, 3, 5, 17, 64, 70}) {
        std::vector<float> x(static_cast<size_t>(m * k));
        for (int64_t i = 0; i < m; ++i) {
          const auto r = random_row(rng, k, 1.0f);
          std::copy(r.begin(), r.end(), x.begin() + i * k);
        }
        std::vector<float> y(static_cast<size_t>(m * rows)), want(y.size());
        MatmulScratch scratch;
        matmul(kt, pool, wm, x.data(), m, y.data(), scratch);
        std::vector<uint8_t> qa(a_bytes);
        for (int64_t i = 0; i < m; ++i) {
          mk.quantize(x.data() + i * k, qa.data(), k);
          for (int64_t r = 0; r < rows; ++r)
            want[size_t(i * rows + r)] = kt.vec_dot[ti](k, w.data() + size_t(r) * row_bytes, qa.data());
        }
        CHECK_MESSAGE(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)) == 0,
                      kt.vec_dot_4x_name[ti] << " m=" << m);
        ++checked;
      }
    }
  }
  MESSAGE("checked " << checked << " GEMMs");
  if (cpu_features().supports(Isa::Avx512)) CHECK(checked > 0);
}
