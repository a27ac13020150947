// The one traits table: everything per type lives in this row, nowhere else.
#include <array>
#include <cctype>
#include <string>

#include "ember/dtype.h"
#include "ember/error.h"
#include "quant/blocks.h"
#include "quant/quant_ref.h"

namespace ember {
namespace {

constexpr TypeTraits sized(const char* name, int64_t block, size_t bytes, bool quantized) {
  TypeTraits t;
  t.name = name;
  t.block_size = block;
  t.type_size = bytes;
  t.is_quantized = quantized;
  return t;
}

constexpr TypeTraits full(const char* name, int64_t block, size_t bytes, bool quantized, ToFloatFn to,
                          FromFloatFn from, VecDotFn dot, DType act) {
  TypeTraits t = sized(name, block, bytes, quantized);
  t.to_float = to;
  t.from_float = from;
  t.vec_dot = dot;
  t.vec_dot_type = act;
  return t;
}

// Activation-only types have quantize/dequantize but no dot of their own.
constexpr TypeTraits act_only(const char* name, int64_t block, size_t bytes, ToFloatFn to, FromFloatFn from) {
  return full(name, block, bytes, true, to, from, nullptr, DType::F32);
}

using namespace ember::ref;

constexpr std::array<TypeTraits, kDTypeCount> make_table() {
  std::array<TypeTraits, kDTypeCount> t{};
  auto at = [&](DType d) -> TypeTraits& { return t[static_cast<uint32_t>(d)]; };
  at(DType::F32) = full("f32", 1, 4, false, dequantize_row_f32, quantize_row_f32, vec_dot_f32_f32, DType::F32);
  at(DType::F16) = full("f16", 1, 2, false, dequantize_row_f16, quantize_row_f16, vec_dot_f16_f16, DType::F16);
  at(DType::BF16) = full("bf16", 1, 2, false, dequantize_row_bf16, quantize_row_bf16, vec_dot_bf16_bf16, DType::BF16);
  at(DType::Q4_0) = full("q4_0", QK4_0, sizeof(block_q4_0), true, dequantize_row_q4_0, quantize_row_q4_0, vec_dot_q4_0_q8_0, DType::Q8_0);
  at(DType::Q4_1) = full("q4_1", QK4_1, sizeof(block_q4_1), true, dequantize_row_q4_1, quantize_row_q4_1, vec_dot_q4_1_q8_1, DType::Q8_1);
  at(DType::Q5_0) = full("q5_0", QK5_0, sizeof(block_q5_0), true, dequantize_row_q5_0, quantize_row_q5_0, vec_dot_q5_0_q8_0, DType::Q8_0);
  at(DType::Q5_1) = full("q5_1", QK5_1, sizeof(block_q5_1), true, dequantize_row_q5_1, quantize_row_q5_1, vec_dot_q5_1_q8_1, DType::Q8_1);
  at(DType::Q8_0) = full("q8_0", QK8_0, sizeof(block_q8_0), true, dequantize_row_q8_0, quantize_row_q8_0, vec_dot_q8_0_q8_0, DType::Q8_0);
  at(DType::Q8_1) = act_only("q8_1", QK8_1, sizeof(block_q8_1), dequantize_row_q8_1, quantize_row_q8_1);
  at(DType::Q2_K) = full("q2_K", QK_K, sizeof(block_q2_K), true, dequantize_row_q2_K, quantize_row_q2_K, vec_dot_q2_K_q8_K, DType::Q8_K);
  at(DType::Q3_K) = full("q3_K", QK_K, sizeof(block_q3_K), true, dequantize_row_q3_K, quantize_row_q3_K, vec_dot_q3_K_q8_K, DType::Q8_K);
  at(DType::Q4_K) = full("q4_K", QK_K, sizeof(block_q4_K), true, dequantize_row_q4_K, quantize_row_q4_K, vec_dot_q4_K_q8_K, DType::Q8_K);
  at(DType::Q5_K) = full("q5_K", QK_K, sizeof(block_q5_K), true, dequantize_row_q5_K, quantize_row_q5_K, vec_dot_q5_K_q8_K, DType::Q8_K);
  at(DType::Q6_K) = full("q6_K", QK_K, sizeof(block_q6_K), true, dequantize_row_q6_K, quantize_row_q6_K, vec_dot_q6_K_q8_K, DType::Q8_K);
  at(DType::Q8_K) = act_only("q8_K", QK_K, sizeof(block_q8_K), dequantize_row_q8_K, quantize_row_q8_K);
  at(DType::IQ4_NL) = full("iq4_nl", QK4_NL, sizeof(block_iq4_nl), true, dequantize_row_iq4_nl, quantize_row_iq4_nl, vec_dot_iq4_nl_q8_0, DType::Q8_0);
  at(DType::IQ4_XS) = full("iq4_xs", QK_K, sizeof(block_iq4_xs), true, dequantize_row_iq4_xs, quantize_row_iq4_xs, vec_dot_iq4_xs_q8_K, DType::Q8_K);
  // Types ember reads and sizes but does not compute with.
  at(DType::IQ2_XXS) = sized("iq2_xxs", QK_K, 66, true);
  at(DType::IQ2_XS) = sized("iq2_xs", QK_K, 74, true);
  at(DType::IQ3_XXS) = sized("iq3_xxs", QK_K, 98, true);
  at(DType::IQ1_S) = sized("iq1_s", QK_K, 50, true);
  at(DType::IQ3_S) = sized("iq3_s", QK_K, 110, true);
  at(DType::IQ2_S) = sized("iq2_s", QK_K, 82, true);
  at(DType::IQ1_M) = sized("iq1_m", QK_K, 56, true);
  at(DType::TQ1_0) = sized("tq1_0", QK_K, 54, true);
  at(DType::TQ2_0) = sized("tq2_0", QK_K, 66, true);
  at(DType::MXFP4) = sized("mxfp4", 32, 17, true);
  at(DType::I8) = sized("i8", 1, 1, false);
  at(DType::I16) = sized("i16", 1, 2, false);
  at(DType::I32) = sized("i32", 1, 4, false);
  at(DType::I64) = sized("i64", 1, 8, false);
  at(DType::F64) = sized("f64", 1, 8, false);
  return t;
}

constexpr std::array<TypeTraits, kDTypeCount> kTable = make_table();

}  // namespace

const TypeTraits* find_type_traits(uint32_t id) noexcept {
  if (id >= kDTypeCount || kTable[id].name == nullptr) return nullptr;
  return &kTable[id];
}

const TypeTraits& type_traits(DType t) {
  const TypeTraits* tr = find_type_traits(static_cast<uint32_t>(t));
  if (!tr) throw Error(ErrorKind::InvalidArgument, "[dtype] unknown type id " + std::to_string(uint32_t(t)));
  return *tr;
}

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (uint32_t id = 0; id < kDTypeCount; ++id) {
    const char* n = kTable[id].name;
    if (!n) continue;
    std::string_view sv(n);
    if (sv.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < sv.size() && eq; ++i)
      eq = std::tolower(static_cast<unsigned char>(sv[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (eq) return static_cast<DType>(id);
  }
  return std::nullopt;
}

std::optional<uint64_t> dtype_row_bytes(DType t, uint64_t n) noexcept {
  const TypeTraits* tr = find_type_traits(static_cast<uint32_t>(t));
  if (!tr) return std::nullopt;
  const uint64_t bs = uint64_t(tr->block_size);
  if (n % bs != 0) return std::nullopt;
  const uint64_t blocks = n / bs;
  if (blocks != 0 && tr->type_size > UINT64_MAX / blocks) return std::nullopt;
  return blocks * tr->type_size;
}

}  // namespace ember
