#pragma once
// Element types of GGUF tensors. The numeric values are ggml's type ids, so a
// DType read from a file is the number stored there.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ember {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3,
  Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

/// One past the largest type id; sizes tables indexed by DType.
inline constexpr uint32_t kDTypeCount = 40;

/// Elements per super-block of the K-quants.
inline constexpr int64_t QK_K = 256;

using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
/// Dot product of n elements: x is a row of the weight type, y a row of its activation type.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);

/// Everything ember knows about one element type. Types ember can only
/// size (for reading and inspecting files) have null function pointers.
struct TypeTraits {
  const char* name = nullptr;  // as ggml spells it: "q4_K", "f16", ...
  int64_t block_size = 0;      // elements per block
  size_t type_size = 0;        // bytes per block
  bool is_quantized = false;
  ToFloatFn to_float = nullptr;      // reference dequantize
  FromFloatFn from_float = nullptr;  // reference quantize
  VecDotFn vec_dot = nullptr;        // scalar reference dot against vec_dot_type
  DType vec_dot_type = DType::F32;   // activation type the dot kernels take
};

/// Traits of a type id; nullptr for ids that are not ggml types.
const TypeTraits* find_type_traits(uint32_t id) noexcept;
/// Traits of a known type (throws ember::Error for an unknown id).
const TypeTraits& type_traits(DType t);
/// "q4_K" -> DType::Q4_K (case-insensitive); nullopt when unknown.
std::optional<DType> dtype_from_name(std::string_view name) noexcept;
inline const char* dtype_name(DType t) { return type_traits(t).name; }
/// True where ember has reference quantize, dequantize and dot for the type.
inline bool dtype_supported(DType t) { return type_traits(t).vec_dot != nullptr; }

/// Bytes taken by n elements of type t (n must be a multiple of the block size).
/// Returns nullopt if n is not a multiple of the block size or the size overflows.
std::optional<uint64_t> dtype_row_bytes(DType t, uint64_t n) noexcept;

}  // namespace ember
