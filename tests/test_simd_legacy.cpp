// The x86 SIMD kernels of the float dots, the legacy quant dots and the
// activation quantizers against their scalar references, on every ISA level
// this CPU runs. Buffers start 4 bytes past a 64-byte boundary: the kernels
// must not assume vector alignment (rows of 18/20/22/24/34/36-byte blocks
// never are aligned); 4 keeps the alignment the block structs themselves need.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

using namespace ember;
using namespace ember::kernels;

namespace {

constexpr DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};
constexpr DType kLegacyTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0};
constexpr DType kActivationTypes[] = {DType::Q8_0, DType::Q8_1, DType::Q8_K, DType::F16, DType::BF16};

template <class T, size_t N>
bool one_of(DType t, const T (&list)[N]) {
  for (DType u : list)
    if (u == t) return true;
  return false;
}

// A byte buffer whose data() is 4 bytes past a 64-byte boundary and which
// ends exactly at data() + n, so AddressSanitizer sees any access past the row.
class OddBuffer {
 public:
  explicit OddBuffer(size_t n) : base_(static_cast<uint8_t*>(::operator new(n + 4, std::align_val_t(64)))) {}
  ~OddBuffer() { ::operator delete(base_, std::align_val_t(64)); }
  OddBuffer(const OddBuffer&) = delete;
  OddBuffer& operator=(const OddBuffer&) = delete;
  uint8_t* data() { return base_ + 4; }

 private:
  uint8_t* base_;
};

const QuantizeKernel* scalar_quantizer(DType t) {
  for (const QuantizeKernel& k : quantize_kernels())
    if (k.type == t && k.isa == Isa::Scalar) return &k;
  return nullptr;
}

const DotKernel* scalar_dot(DType t) {
  for (const DotKernel& k : dot_kernels())
    if (k.type == t && k.isa == Isa::Scalar) return &k;
  return nullptr;
}

// Random weight blocks: every quant bit pattern, scales (and mins) over
// several magnitudes with both signs, some blocks with zero scale.
void random_weights(DType t, uint8_t* out, int64_t n, std::mt19937& rng) {
  const TypeTraits& tr = type_traits(t);
  const int64_t nb = n / tr.block_size;
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> mant(-2.0f, 2.0f);
  std::uniform_int_distribution<int> expo(-12, 3);
  auto scale = [&] { return f32_to_f16(std::ldexp(mant(rng), expo(rng))); };
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* blk = out + b * int64_t(tr.type_size);
    for (size_t i = 0; i < tr.type_size; ++i) blk[i] = uint8_t(byte(rng));
    const uint16_t d = (b % 7 == 3) ? uint16_t(0) : scale();
    std::memcpy(blk, &d, 2);
    if (t == DType::Q4_1 || t == DType::Q5_1) {
      const uint16_t m = scale();
      std::memcpy(blk + 2, &m, 2);
    }
  }
}

// Activations through the reference quantizer (so q8_1's s = d * sum(qs) holds
// and no quant is -128), with per-block magnitudes and some all-zero blocks.
std::vector<float> random_activations(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::uniform_int_distribution<int> expo(-10, 6);
  std::vector<float> x(static_cast<size_t>(n), 0.0f);
  for (int64_t b = 0; b < n / 32; ++b) {
    if (b % 5 == 2) continue;  // zero block: d = 0
    const float s = std::ldexp(1.0f, expo(rng));
    for (int j = 0; j < 32; ++j) x[size_t(b * 32 + j)] = s * dist(rng);
  }
  return x;
}

bool bytes_equal(const uint8_t* a, const uint8_t* b, size_t n, size_t* first_diff) {
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) {
      *first_diff = i;
      return false;
    }
  return true;
}

}  // namespace

TEST_CASE("simd legacy dots: q4_0, q4_1, q5_0, q5_1, q8_0 agree with the scalar reference within 1e-5 of |x||y|") {
  std::mt19937 rng(20240611);
  int checked = 0;
  for (const DotKernel& k : dot_kernels()) {
    if (k.isa == Isa::Scalar || !one_of(k.type, kLegacyTypes) || !cpu_features().supports(k.isa)) continue;
    const DotKernel* ref = scalar_dot(k.type);
    REQUIRE(ref != nullptr);
    const TypeTraits& tx = type_traits(k.type);
    const TypeTraits& ty = type_traits(tx.vec_dot_type);
    for (int64_t n : {32, 64, 96, 224, 256, 288, 1024, 4096 + 32, 4096 + 7 * 32, 11008}) {
      for (int rep = 0; rep < 6; ++rep) {
        OddBuffer qx(*dtype_row_bytes(k.type, uint64_t(n))), qy(*dtype_row_bytes(tx.vec_dot_type, uint64_t(n)));
        random_weights(k.type, qx.data(), n, rng);
        const std::vector<float> y = random_activations(n, rng);
        ty.from_float(y.data(), qy.data(), n);
        std::vector<float> fx(static_cast<size_t>(n)), fy(static_cast<size_t>(n));
        tx.to_float(qx.data(), fx.data(), n);
        ty.to_float(qy.data(), fy.data(), n);
        double nx = 0, ny = 0;
        for (int64_t i = 0; i < n; ++i) nx += double(fx[size_t(i)]) * fx[size_t(i)], ny += double(fy[size_t(i)]) * fy[size_t(i)];
        const double tol = 1e-5 * std::sqrt(nx * ny) + 1e-30;
        const float want = ref->fn(n, qx.data(), qy.data());
        const float got = k.fn(n, qx.data(), qy.data());
        CHECK_MESSAGE(std::fabs(double(got) - double(want)) <= tol,
                      std::string(k.name) << " n=" << n << " rep=" << rep << ": got " << got << ", scalar " << want << ", tol " << tol);
      }
    }
    ++checked;
  }
  MESSAGE("checked " << checked << " SIMD legacy dot kernels");
  CHECK(checked >= (cpu_features().supports(Isa::Avx2) ? 5 : 0));
}

TEST_CASE("simd legacy dots: extreme quants (q8_0 weights of -128, all-15 nibbles, all fifth bits) are exact") {
  // With unit scales every product is an integer and the float sums are exact.
  for (const DotKernel& k : dot_kernels()) {
    if (k.isa == Isa::Scalar || !one_of(k.type, kLegacyTypes) || !cpu_features().supports(k.isa)) continue;
    const TypeTraits& tx = type_traits(k.type);
    const int64_t n = 8 * 32 + 3 * 32;  // one 8-block step and a tail
    for (uint8_t fill : {uint8_t(0x00), uint8_t(0xFF), uint8_t(0x80), uint8_t(0x7F)}) {
      OddBuffer qx(*dtype_row_bytes(k.type, uint64_t(n))), qy(*dtype_row_bytes(tx.vec_dot_type, uint64_t(n)));
      for (int64_t b = 0; b < n / 32; ++b) {
        uint8_t* blk = qx.data() + b * int64_t(tx.type_size);
        std::memset(blk, fill, tx.type_size);
        const uint16_t one = f32_to_f16(1.0f);
        std::memcpy(blk, &one, 2);
        if (k.type == DType::Q4_1 || k.type == DType::Q5_1) std::memcpy(blk + 2, &one, 2);
      }
      std::vector<float> y(static_cast<size_t>(n));
      // 127 in every block makes d = 1, so the quants are the values themselves.
      for (int64_t i = 0; i < n; ++i) y[size_t(i)] = i % 32 == 0 ? 127.0f : float((i * 37) % 255 - 127);
      type_traits(tx.vec_dot_type).from_float(y.data(), qy.data(), n);
      const float want = scalar_dot(k.type)->fn(n, qx.data(), qy.data());
      CHECK_MESSAGE(k.fn(n, qx.data(), qy.data()) == want, std::string(k.name) << " fill=" << int(fill));
    }
  }
}

TEST_CASE("simd float dots: f32, f16, bf16 agree with the scalar reference within 1e-5 of sum |x_i y_i|") {
  std::mt19937 rng(777);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  int checked = 0;
  for (const DotKernel& k : dot_kernels()) {
    if (k.isa == Isa::Scalar || !one_of(k.type, kFloatTypes) || !cpu_features().supports(k.isa)) continue;
    const DotKernel* ref = scalar_dot(k.type);
    REQUIRE(ref != nullptr);
    const TypeTraits& tr = type_traits(k.type);
    for (int64_t n : {1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 1000, 1024, 4096 + 32, 4133, 16384 + 5}) {
      std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
      const float sx = std::ldexp(1.0f, int(rng() % 8) - 4);
      for (int64_t i = 0; i < n; ++i) x[size_t(i)] = sx * dist(rng), y[size_t(i)] = dist(rng) + 0.5f;
      OddBuffer bx(size_t(n) * tr.type_size), by(size_t(n) * tr.type_size);
      tr.from_float(x.data(), bx.data(), n);
      tr.from_float(y.data(), by.data(), n);
      std::vector<float> fx(static_cast<size_t>(n)), fy(static_cast<size_t>(n));
      tr.to_float(bx.data(), fx.data(), n);
      tr.to_float(by.data(), fy.data(), n);
      double abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs(double(fx[size_t(i)]) * fy[size_t(i)]);
      const float want = ref->fn(n, bx.data(), by.data());
      const float got = k.fn(n, bx.data(), by.data());
      CHECK_MESSAGE(std::fabs(double(got) - double(want)) <= 1e-5 * abs_sum + 1e-30,
                    std::string(k.name) << " n=" << n << ": got " << got << ", scalar " << want);
    }
    ++checked;
  }
  MESSAGE("checked " << checked << " SIMD float dot kernels");
}

TEST_CASE("simd quantizers: q8_0, q8_1, q8_K, f16, bf16 rows are bit-identical to the scalar reference") {
  std::mt19937 rng(4242);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::uniform_int_distribution<int> expo(-20, 20);

  // Rows that stress rounding and the max search. A block whose max |x| is
  // 127 has id = 1 (q8_0/q8_1) or iscale = 1 (q8_K), so x = k + 0.5 are exact
  // ties of roundf / nearbyint.
  auto make_row = [&](int64_t n, int kind) {
    std::vector<float> x(static_cast<size_t>(n));
    const float s = std::ldexp(1.0f, expo(rng));
    for (auto& v : x) v = s * dist(rng);
    switch (kind) {
      case 1:  // ties, halves everywhere
        for (int64_t i = 0; i < n; ++i) x[size_t(i)] = float(int(rng() % 255) - 127) + ((rng() & 1) ? 0.5f : -0.5f);
        for (int64_t b = 0; b + 32 <= n; b += 32) x[size_t(b + rng() % 32)] = (rng() & 1) ? 127.0f : -127.0f;
        break;
      case 2:  // zero blocks and blocks with one non-zero
        for (int64_t i = 0; i < n; ++i) x[size_t(i)] = ((i / 32) % 3 == 0) ? 0.0f : ((i % 97 == 5) ? x[size_t(i)] : 0.0f);
        break;
      case 3:  // +m and -m both present
        for (int64_t b = 0; b + 256 <= n; b += 256) {
          x[size_t(b + 200)] = 50.0f;
          x[size_t(b + 17 + rng() % 150)] = (rng() & 1) ? -50.0f : 50.0f;
        }
        break;
      case 4:  // tiny values (subnormal scales), huge values
        for (auto& v : x) v *= (rng() & 1) ? 1e-40f : 1e30f;
        break;
      case 5:  // specials for the float conversions, and NaNs a max search must skip
        for (int64_t i = 0; i < n; i += 13) x[size_t(i)] = std::numeric_limits<float>::quiet_NaN();
        if (n > 3) x[3] = 65520.0f, x[2] = -65504.0f, x[1] = 6e-8f, x[0] = -3e-5f;
        break;
      case 6:  // infinities
        for (int64_t i = 5; i < n; i += 101) x[size_t(i)] = (i & 1) ? INFINITY : -INFINITY;
        break;
      default: break;
    }
    return x;
  };

  int checked = 0;
  for (const QuantizeKernel& k : quantize_kernels()) {
    if (k.isa == Isa::Scalar || !one_of(k.type, kActivationTypes) || !cpu_features().supports(k.isa)) continue;
    const QuantizeKernel* ref = scalar_quantizer(k.type);
    REQUIRE(ref != nullptr);
    const int64_t bs = type_traits(k.type).block_size;
    std::vector<int64_t> sizes = {32, 64, 96, 256, 512, 1024, 4096 + 256};
    if (bs == 1) sizes.insert(sizes.end(), {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 4133});
    int rows = 0;
    for (int64_t n : sizes) {
      if (n % bs) continue;
      for (int kind = 0; kind <= 6; ++kind) {
        // NaN and infinity inputs give the integer quantizers undefined float -> int
        // conversions in the reference; only the float conversions are held to them.
        if (kind >= 5 && bs > 1) continue;
        for (int rep = 0; rep < (kind == 0 ? 20 : 4); ++rep, ++rows) {
          const std::vector<float> x = make_row(n, kind);
          const size_t bytes = *dtype_row_bytes(k.type, uint64_t(n));
          OddBuffer want(bytes), got(bytes);
          std::memset(want.data(), 0xAB, bytes);
          std::memset(got.data(), 0xCD, bytes);
          ref->fn(x.data(), want.data(), n);
          k.fn(x.data(), got.data(), n);
          size_t at = 0;
          const bool same = bytes_equal(want.data(), got.data(), bytes, &at);
          CHECK_MESSAGE(same, std::string(k.name) << " n=" << n << " kind=" << kind << " rep=" << rep << ": first difference at byte " << at);
        }
      }
    }
    MESSAGE(std::string(k.name) << ": " << rows << " rows compared");
    ++checked;
  }
  MESSAGE("checked " << checked << " SIMD quantizers");
}

TEST_CASE("simd quantizers: roundf and nearbyint are replicated on every tie from -127 to 127") {
  // A block holding 127 has id = 1: every other element quantizes to roundf(x)
  // (q8_0, q8_1) or nearbyint(x) (q8_K).
  std::vector<float> ties;
  for (int i = -256; i <= 256; ++i) ties.push_back(float(i) * 0.5f);
  for (float v : {0.49999997f, -0.49999997f, 1.4999999f, -2.5000002f, 126.49999f}) ties.push_back(v);
  for (const QuantizeKernel& k : quantize_kernels()) {
    if (k.isa == Isa::Scalar || !cpu_features().supports(k.isa)) continue;
    if (k.type != DType::Q8_0 && k.type != DType::Q8_1 && k.type != DType::Q8_K) continue;
    const int64_t n = k.type == DType::Q8_K ? QK_K : 32;
    const float anchor = 127.0f;
    for (size_t start = 0; start < ties.size(); start += size_t(n - 1)) {
      std::vector<float> x(static_cast<size_t>(n), 0.0f);
      x[0] = anchor;
      for (int64_t j = 1; j < n && start + size_t(j - 1) < ties.size(); ++j) {
        const float v = ties[start + size_t(j - 1)];
        x[size_t(j)] = std::fabs(v) > std::fabs(anchor) ? 0.0f : v;
      }
      const size_t bytes = *dtype_row_bytes(k.type, uint64_t(n));
      std::vector<uint8_t> want(bytes), got(bytes);
      scalar_quantizer(k.type)->fn(x.data(), want.data(), n);
      k.fn(x.data(), got.data(), n);
      CHECK_MESSAGE(std::memcmp(want.data(), got.data(), bytes) == 0, std::string(k.name) << " ties from " << start);
    }
  }
}
