// Every kernel in the one list against its scalar reference, on every ISA this
// CPU has; the dispatch table; the thread pool and the matmul driver.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ember/error.h"
#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"

using namespace ember;
using namespace ember::kernels;

namespace {

std::vector<float> random_row(std::mt19937& rng, int64_t n, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v) f = dist(rng);
  return v;
}

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  const TypeTraits& tr = type_traits(t);
  std::vector<uint8_t> q(*dtype_row_bytes(t, x.size()));
  tr.from_float(x.data(), q.data(), int64_t(x.size()));
  return q;
}

const DotKernel* scalar_dot(DType t) {
  for (const DotKernel& k : dot_kernels())
    if (k.type == t && k.isa == Isa::Scalar) return &k;
  return nullptr;
}

}  // namespace

TEST_CASE("kernels: every dot kernel matches the scalar reference on this CPU's ISAs") {
  std::mt19937 rng(1234);
  int checked = 0;
  for (const DotKernel& k : dot_kernels()) {
    if (k.isa == Isa::Scalar || !cpu_features().supports(k.isa)) continue;
    const DotKernel* ref = scalar_dot(k.type);
    REQUIRE_MESSAGE(ref != nullptr, std::string(k.name));
    const TypeTraits& tr = type_traits(k.type);
    for (int64_t n : {int64_t(256), int64_t(1024), int64_t(4096 + 256)}) {
      if (n % tr.block_size) continue;
      for (int rep = 0; rep < 4; ++rep) {
        const auto x = random_row(rng, n, rep == 3 ? 1e-3f : 1.0f);
        const auto y = random_row(rng, n);
        const auto qx = quantize(k.type, x);
        const auto qy = quantize(tr.vec_dot_type, y);
        double norm_x = 0, norm_y = 0;
        for (int64_t i = 0; i < n; ++i) norm_x += double(x[size_t(i)]) * x[size_t(i)], norm_y += double(y[size_t(i)]) * y[size_t(i)];
        const double tol = 1e-5 * std::sqrt(norm_x * norm_y) + 1e-30;
        const float want = ref->fn(n, qx.data(), qy.data());
        const float got = k.fn(n, qx.data(), qy.data());
        CHECK_MESSAGE(std::fabs(double(got) - double(want)) <= tol,
                      std::string(k.name) << " n=" << n << " rep=" << rep << ": got " << got << ", scalar " << want);
      }
    }
    ++checked;
  }
  MESSAGE("checked " << checked << " SIMD dot kernels");
}

TEST_CASE("kernels: every activation quantizer is bit-identical to the scalar one") {
  std::mt19937 rng(99);
  for (const QuantizeKernel& k : quantize_kernels()) {
    if (k.isa == Isa::Scalar || !cpu_features().supports(k.isa)) continue;
    const TypeTraits& tr = type_traits(k.type);
    for (int64_t n : {int64_t(256), int64_t(4096)}) {
      auto x = random_row(rng, n, 3.0f);
      x[5] = 0.5f;  // exact ties after scaling are likely somewhere; force a few round numbers too
      x[7] = -2.5f;
      std::vector<uint8_t> want(*dtype_row_bytes(k.type, uint64_t(n))), got(want.size(), 0xAB);
      tr.from_float(x.data(), want.data(), n);
      k.fn(x.data(), got.data(), n);
      CHECK_MESSAGE(std::memcmp(want.data(), got.data(), want.size()) == 0, std::string(k.name) << " n=" << n);
    }
  }
}

TEST_CASE("kernels: the table for each supported ISA has a dot for every computable type") {
  for (int i = 0; i < kIsaCount; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (!cpu_features().supports(isa)) {
      CHECK_THROWS_AS(kernel_table(isa), ember::Error);
      continue;
    }
    const KernelTable& kt = kernel_table(isa);
    CHECK(kt.ops != nullptr);
    for (uint32_t t = 0; t < kDTypeCount; ++t) {
      const TypeTraits* tr = find_type_traits(t);
      if (!tr || !tr->vec_dot) continue;
      CHECK_MESSAGE(bool(kt.vec_dot[t]), std::string(isa_name(isa)) << " " << std::string(tr->name));
      CHECK_MESSAGE((bool(kt.quantize[uint32_t(tr->vec_dot_type)]) || tr->vec_dot_type == DType::F32),
                    std::string(isa_name(isa)) << " " << std::string(tr->name));
    }
  }
  MESSAGE("best ISA here: " << std::string(isa_name(cpu_features().best())));
}

TEST_CASE("kernels: names say the type and the ISA") {
  for (const DotKernel& k : dot_kernels()) {
    const std::string name = k.name;
    CHECK_MESSAGE(name.find(std::string("vec_dot_") + type_traits(k.type).name + "_") == 0, name);
    CHECK_MESSAGE(name.size() > std::string(isa_name(k.isa)).size() + 2, name);
    CHECK_MESSAGE(name.substr(name.size() - std::string(isa_name(k.isa)).size() - 2) == std::string("__") + isa_name(k.isa), name);
  }
}

TEST_CASE("cpu: an unknown ISA name is refused") {
  CHECK_FALSE(isa_from_name("sse9").has_value());
  CHECK(isa_from_name("avx2") == Isa::Avx2);
  CHECK(isa_covers(Isa::Avx512Vnni, Isa::Avx2));
  CHECK_FALSE(isa_covers(Isa::Avx2, Isa::Avx512));
  CHECK_FALSE(isa_covers(Isa::Avx2, Isa::Neon));
}

TEST_CASE("thread_pool: parallel_for covers every index once, with 1 to 4 threads") {
  for (int nt = 1; nt <= 4; ++nt) {
    ThreadPool pool(nt);
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000)}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, 3, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
      });
      for (auto& h : hits) CHECK(h.load() == 1);
    }
  }
}

TEST_CASE("thread_pool: an exception in a worker reaches the caller and the pool stays usable") {
  ThreadPool pool(3);
  CHECK_THROWS_WITH(pool.run([](int ith, int) {
    if (ith == 2) throw ember::Error("boom");
  }),
                    "boom");
  std::atomic<int> ran{0};
  pool.run([&](int, int) { ran.fetch_add(1); });
  CHECK(ran.load() == 3);
  CHECK_THROWS_AS(ThreadPool(0), ember::Error);
}

TEST_CASE("matmul: GEMV and GEMM equal row-by-row scalar dots, and 1 and 2 threads agree bit for bit") {
  std::mt19937 rng(7);
  const int64_t k = 512, rows = 37;
  for (DType t : {DType::F32, DType::F16, DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    const TypeTraits& tr = type_traits(t);
    const size_t row_bytes = *dtype_row_bytes(t, uint64_t(k));
    std::vector<uint8_t> w(row_bytes * size_t(rows));
    try {
      for (int64_t r = 0; r < rows; ++r) tr.from_float(random_row(rng, k).data(), w.data() + size_t(r) * row_bytes, k);
    } catch (const ember::Error& e) {
      FAIL_CHECK(std::string(tr.name) << ": " << std::string(e.what()));
      continue;
    }
    const WeightMatrix wm{t, w.data(), rows, k, row_bytes};
    for (int64_t m : {int64_t(1), int64_t(5), int64_t(70)}) {
      std::vector<float> x(static_cast<size_t>(m * k));
      for (int64_t i = 0; i < m; ++i) {
        auto r = random_row(rng, k);
        std::copy(r.begin(), r.end(), x.begin() + i * k);
      }
      std::vector<float> y1(static_cast<size_t>(m * rows)), y2(y1.size());
      MatmulScratch scratch;
      ThreadPool p1(1), p2(2);
      const KernelTable& kt = default_kernel_table();
      matmul(kt, p1, wm, x.data(), m, y1.data(), scratch);
      matmul(kt, p2, wm, x.data(), m, y2.data(), scratch);
      CHECK_MESSAGE(std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0, std::string(tr.name) << " m=" << m);
      // against the scalar oracle
      const TypeTraits& at = type_traits(tr.vec_dot_type);
      std::vector<uint8_t> qa(*dtype_row_bytes(tr.vec_dot_type, uint64_t(k)));
      for (int64_t i = 0; i < m; ++i) {
        at.from_float(x.data() + i * k, qa.data(), k);
        for (int64_t r = 0; r < rows; ++r) {
          const float want = tr.vec_dot(k, w.data() + size_t(r) * row_bytes, qa.data());
          CHECK(std::fabs(y1[size_t(i * rows + r)] - want) <= 1e-3f * (1.0f + std::fabs(want)));
        }
      }
    }
  }
}

TEST_CASE("matmul: a bad shape is an error naming matmul") {
  ThreadPool pool(1);
  MatmulScratch scratch;
  std::vector<uint8_t> w(18);
  const WeightMatrix wm{DType::Q4_0, w.data(), 1, 20, 18};  // 20 is not a multiple of 32
  float x[20] = {}, y[1];
  CHECK_THROWS_WITH(matmul(default_kernel_table(), pool, wm, x, 1, y, scratch), doctest::Contains("[matmul]"));
}
