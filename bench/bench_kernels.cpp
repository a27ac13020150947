// Kernel benchmarks, registered from the one kernel list: for every dot
// kernel this CPU can run, a GEMV over a weight matrix larger than the caches
// (reported as GB/s of weights streamed) and a GEMM of 512 activation rows
// (reported as GFLOP/s), both on EMBER_BENCH_THREADS threads (default 2).
// The GEMM rows named gemm/vec_dot_4x_* use a 4-activation-row kernel with
// the vec_dot of its ISA (for m = 1); gemm/vec_dot_* call vec_dot per row.
// Beside them: the machine's memory read bandwidth and peak FMA / VNNI rates.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/peak.h"
#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"

using namespace ember;
using namespace ember::kernels;

namespace {

int bench_threads() {
  const char* env = std::getenv("EMBER_BENCH_THREADS");
  return env ? std::max(1, std::atoi(env)) : 2;
}

// 64-byte aligned buffer, so row starts do not decide the result.
struct Buffer {
  std::unique_ptr<uint8_t[], decltype(&std::free)> p{nullptr, &std::free};
  size_t size = 0;
  explicit Buffer(size_t n) : p(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64)), &std::free), size(n) {}
  uint8_t* data() { return p.get(); }
};

// A weight matrix of `rows` rows: a few rows quantized by the reference
// quantizer, repeated (quantizing 100+ MB would dominate the run).
Buffer make_weights(DType t, int64_t rows, int64_t k, size_t& row_bytes) {
  const TypeTraits& tr = type_traits(t);
  row_bytes = *dtype_row_bytes(t, uint64_t(k));
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t seed_rows = std::min<int64_t>(rows, 16);
  Buffer w(row_bytes * size_t(rows));
  std::vector<float> x(static_cast<size_t>(k));
  for (int64_t r = 0; r < seed_rows; ++r) {
    for (auto& v : x) v = dist(rng);
    tr.from_float(x.data(), w.data() + size_t(r) * row_bytes, k);
  }
  for (int64_t r = seed_rows; r < rows; ++r)
    std::memcpy(w.data() + size_t(r) * row_bytes, w.data() + size_t(r % seed_rows) * row_bytes, row_bytes);
  return w;
}

std::vector<float> make_activations(int64_t m, int64_t k) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(m * k));
  for (auto& v : x) v = dist(rng);
  return x;
}

MatmulKernels kernels_for(const DotKernel& k) {
  const DType act = type_traits(k.type).vec_dot_type;
  MatmulKernels mk{k.fn, kernel_table(k.isa).quantize[uint32_t(act)]};
  if (!mk.quantize) mk.quantize = type_traits(act).from_float;
  return mk;
}

constexpr int64_t kK = 4096;             // row length of a typical 7B-class matrix
constexpr size_t kGemvBytes = 256u << 20;  // far beyond L3 here

void bm_gemv(benchmark::State& state, DotKernel k) {
  size_t row_bytes = *dtype_row_bytes(k.type, kK);
  const int64_t rows = int64_t(kGemvBytes / row_bytes);
  Buffer w = make_weights(k.type, rows, kK, row_bytes);
  const auto x = make_activations(1, kK);
  std::vector<float> y(static_cast<size_t>(rows));
  ThreadPool pool(bench_threads());
  MatmulScratch scratch;
  const WeightMatrix wm{k.type, w.data(), rows, kK, row_bytes};
  const MatmulKernels mk = kernels_for(k);
  for (auto _ : state) {
    matmul(mk, pool, wm, x.data(), kK, 1, y.data(), rows, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(row_bytes) * rows);
  state.counters["threads"] = pool.size();
}

void bm_gemm(benchmark::State& state, DotKernel k, VecDot4Fn dot4) {
  constexpr int64_t kRows = 1024, kM = 512;
  size_t row_bytes = 0;
  Buffer w = make_weights(k.type, kRows, kK, row_bytes);
  const auto x = make_activations(kM, kK);
  std::vector<float> y(static_cast<size_t>(kM * kRows));
  ThreadPool pool(bench_threads());
  MatmulScratch scratch;
  const WeightMatrix wm{k.type, w.data(), kRows, kK, row_bytes};
  MatmulKernels mk = kernels_for(k);
  mk.dot4 = dot4;
  for (auto _ : state) {
    matmul(mk, pool, wm, x.data(), kK, kM, y.data(), kRows, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * kM * kRows * kK * 1e-9 * double(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.counters["threads"] = pool.size();
}

// Memory read bandwidth: each thread sums its share of a 1 GiB buffer.
void bm_memory_read(benchmark::State& state) {
  const size_t bytes = size_t(1) << 30;
  Buffer buf(bytes);
  std::memset(buf.data(), 1, bytes);
  ThreadPool pool(bench_threads());
  const peak::ReadFn read = peak::best_read_fn();
  std::atomic<uint64_t> sink{0};
  for (auto _ : state) {
    pool.run([&](int ith, int nth) {
      const size_t chunk = bytes / size_t(nth) / 64 * 64;
      sink.fetch_add(read(buf.data() + size_t(ith) * chunk, chunk), std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(sink.load());
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
  state.counters["threads"] = pool.size();
}

// Peak arithmetic: independent FMA / VNNI chains on every thread.
void bm_peak(benchmark::State& state, peak::PeakFn fn, double ops_per_call) {
  ThreadPool pool(bench_threads());
  std::atomic<uint64_t> sink{0};
  for (auto _ : state) pool.run([&](int, int) { sink.fetch_add(uint64_t(fn()), std::memory_order_relaxed); });
  benchmark::DoNotOptimize(sink.load());
  state.counters["Gop/s"] = benchmark::Counter(ops_per_call * pool.size() * 1e-9 * double(state.iterations()),
                                               benchmark::Counter::kIsRate);
  state.counters["threads"] = pool.size();
}

void register_all() {
  benchmark::RegisterBenchmark("memory_read", bm_memory_read)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const peak::PeakKernel& p : peak::peak_kernels())
    if (cpu_features().supports(p.isa))
      benchmark::RegisterBenchmark((std::string("peak/") + p.name).c_str(), bm_peak, p.fn, p.ops_per_call)
          ->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const DotKernel& k : dot_kernels()) {
    if (!cpu_features().supports(k.isa)) continue;
    benchmark::RegisterBenchmark((std::string("gemv/") + k.name).c_str(), bm_gemv, k)
        ->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  for (const DotKernel& k : dot_kernels()) {
    if (!cpu_features().supports(k.isa)) continue;
    benchmark::RegisterBenchmark((std::string("gemm/") + k.name).c_str(), bm_gemm, k, VecDot4Fn{nullptr})
        ->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  for (const Dot4Kernel& k4 : dot4_kernels()) {
    if (!cpu_features().supports(k4.isa)) continue;
    for (const DotKernel& k : dot_kernels())
      if (k.type == k4.type && k.isa == k4.isa)
        benchmark::RegisterBenchmark((std::string("gemm/") + k4.name).c_str(), bm_gemm, k, k4.fn)
            ->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
