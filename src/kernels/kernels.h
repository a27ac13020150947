#pragma once
// Kernel registry: one list of kernels (kernel_list.cpp) feeds the run-time
// dispatch table, the tests and the benchmarks. The ISA is chosen once.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ember/dtype.h"

namespace ember::kernels {

/// Instruction-set levels. On x86 each level includes the ones before it:
/// scalar < avx2 (AVX2+FMA+F16C) < avx512 (F/BW/VL/DQ) < avx512vnni.
enum class Isa : uint8_t { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3, Neon = 4 };
inline constexpr int kIsaCount = 5;

const char* isa_name(Isa isa) noexcept;
std::optional<Isa> isa_from_name(std::string_view name) noexcept;
/// True where code built for `needed` runs on a CPU of level `have`.
bool isa_covers(Isa have, Isa needed) noexcept;

struct CpuFeatures {
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avxvnni = false;
  bool neon = false, dotprod = false;
  bool os_avx = false, os_avx512 = false;  // XCR0 says the OS saves the registers
  bool supports(Isa isa) const noexcept;
  Isa best() const noexcept;
};

/// Detected once, on first use (the only mutable-at-start state in ember).
const CpuFeatures& cpu_features() noexcept;

/// Element-wise float ops a transformer needs; one instance per ISA.
struct FloatOps {
  /// y = x / sqrt(mean(x^2) + eps) * w; w may be null (no weight).
  void (*rms_norm)(float* y, const float* x, const float* w, int64_t n, float eps);
  /// x = exp(x - max x) / sum, in place.
  void (*softmax)(float* x, int64_t n);
  /// y = x * sigmoid(x)
  void (*silu)(float* y, const float* x, int64_t n);
  /// y = gelu(x), tanh approximation as in GPT-2/ggml.
  void (*gelu)(float* y, const float* x, int64_t n);
  /// y = silu(gate) * up, the llama feed-forward gate.
  void (*swiglu)(float* y, const float* gate, const float* up, int64_t n);
  void (*add)(float* y, const float* a, const float* b, int64_t n);
  void (*mul)(float* y, const float* a, const float* b, int64_t n);
  /// y = s * x
  void (*scale)(float* y, const float* x, float s, int64_t n);
  /// y += a * x
  void (*axpy)(float* y, const float* x, float a, int64_t n);
  /// Rotates the first n_rot dims of each of n_heads vectors (stride head_dim)
  /// by the angles whose cos/sin are cs[2i], cs[2i+1], i < n_rot/2.
  /// neox: pairs (i, i + n_rot/2); otherwise adjacent pairs (2i, 2i+1).
  void (*rope)(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, bool neox);
};

struct DotKernel {
  const char* name;  // "vec_dot_q4_0_q8_0__avx2"
  DType type;        // weight type; the activation type is type_traits(type).vec_dot_type
  Isa isa;
  VecDotFn fn;
};

/// A weight row times up to 4 activation rows, each weight block decoded once:
/// out[i] = dot(w, act + i * act_stride) for i < n_act (1..4), each bit-identical to the
/// vec_dot of the same ISA and weight type. The GEMM (matmul with m > 1) uses it where present.
using VecDot4Fn = void (*)(int64_t n, const void* w, const void* act, size_t act_stride, int n_act, float* out);
inline constexpr int kDot4Rows = 4;

struct Dot4Kernel {
  const char* name;  // "vec_dot_4x_q4_K_q8_K__avx512vnni"
  DType type;        // weight type, as DotKernel
  Isa isa;
  VecDot4Fn fn;
};

/// Row quantizers used on activations at run time (q8_0, q8_1, q8_K, f16, bf16).
struct QuantizeKernel {
  const char* name;  // "quantize_row_q8_K__avx512"
  DType type;
  Isa isa;
  FromFloatFn fn;
};

struct FloatOpsKernel {
  const char* name;  // "float_ops__avx2"
  Isa isa;
  const FloatOps* ops;
};

/// The one list of kernels; the scalar references come first.
std::span<const DotKernel> dot_kernels();
std::span<const Dot4Kernel> dot4_kernels();
std::span<const QuantizeKernel> quantize_kernels();
std::span<const FloatOpsKernel> float_ops_kernels();

/// The kernels chosen for one ISA: for each slot, the best entry the ISA covers.
struct KernelTable {
  Isa isa = Isa::Scalar;
  VecDotFn vec_dot[kDTypeCount] = {};
  const char* vec_dot_name[kDTypeCount] = {};
  VecDot4Fn vec_dot_4x[kDTypeCount] = {};  // null: the GEMM calls vec_dot per activation row
  const char* vec_dot_4x_name[kDTypeCount] = {};
  FromFloatFn quantize[kDTypeCount] = {};
  const FloatOps* ops = nullptr;
};

/// Table for `isa`; throws ember::Error if this CPU cannot run it.
const KernelTable& kernel_table(Isa isa);
/// Table for $EMBER_CPU if set (throws if unknown or unsupported), else the best ISA.
const KernelTable& default_kernel_table();

}  // namespace ember::kernels
