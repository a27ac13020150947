#pragma once
// Machine limits for the benchmarks: streaming reads and peak FMA / int8-dot
// throughput, each compiled with its ISA's flags (bench/peak_*.cpp).
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/kernels.h"

namespace ember::peak {

using ReadFn = uint64_t (*)(const uint8_t* p, size_t bytes);
using PeakFn = double (*)();  // runs a fixed amount of work, returns a value to keep

struct PeakKernel {
  const char* name;
  kernels::Isa isa;
  PeakFn fn;
  double ops_per_call;  // flops (FMA = 2) or int8 multiply-adds x2 per call
};

std::span<const PeakKernel> peak_kernels();
/// The widest streaming-read loop this CPU runs.
ReadFn best_read_fn();

// per-ISA pieces (bench/peak_avx2.cpp, bench/peak_avx512.cpp)
uint64_t read_avx2(const uint8_t* p, size_t bytes);
uint64_t read_avx512(const uint8_t* p, size_t bytes);
double fma_avx2();
double fma_avx512();
double vnni_avx512();
inline constexpr double kPeakIters = 1 << 20;

}  // namespace ember::peak
