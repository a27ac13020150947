// SIMD K-quant dots (q2_K..q6_K against q8_K) against the scalar reference,
// which they must reproduce bit for bit (so that ember's output does not
// depend on the ISA): random blocks straight from random bytes (every bit
// pattern of quants and scales, not only what a quantizer makes), blocks at
// the extremes of every field, rows that are only 2-byte aligned, and ggml's
// dot products from quant_vectors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

using namespace ember;
using namespace ember::kernels;

namespace {

constexpr DType kKTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

bool is_kquant(DType t) {
  for (DType k : kKTypes)
    if (k == t) return true;
  return false;
}

// The SIMD kernels of the K-quants this CPU can run.
std::vector<DotKernel> simd_kquant_kernels() {
  std::vector<DotKernel> out;
  for (const DotKernel& k : dot_kernels())
    if (is_kquant(k.type) && k.isa != Isa::Scalar && cpu_features().supports(k.isa)) out.push_back(k);
  return out;
}

// Sets the f16 scale fields of block b (type t) in a row.
void set_block_scales(DType t, uint8_t* row, int64_t b, f16_bits d, f16_bits dmin) {
  switch (t) {
    case DType::Q2_K: { auto* x = reinterpret_cast<block_q2_K*>(row) + b; x->d = d; x->dmin = dmin; break; }
    case DType::Q3_K: { auto* x = reinterpret_cast<block_q3_K*>(row) + b; x->d = d; break; }
    case DType::Q4_K: { auto* x = reinterpret_cast<block_q4_K*>(row) + b; x->d = d; x->dmin = dmin; break; }
    case DType::Q5_K: { auto* x = reinterpret_cast<block_q5_K*>(row) + b; x->d = d; x->dmin = dmin; break; }
    case DType::Q6_K: { auto* x = reinterpret_cast<block_q6_K*>(row) + b; x->d = d; break; }
    default: FAIL("not a K-quant");
  }
}

void fill_q8_K(std::mt19937& rng, std::vector<block_q8_K>& y, bool extreme) {
  std::uniform_real_distribution<float> dist_d(-0.05f, 0.05f);
  for (auto& blk : y) {
    blk.d = dist_d(rng);
    for (int i = 0; i < QK_K; ++i) blk.qs[i] = extreme ? int8_t(i % 3 ? -128 : 127) : int8_t(rng());
    for (int j = 0; j < QK_K / 16; ++j) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += blk.qs[16 * j + i];
      blk.bsums[j] = int16_t(s);
    }
  }
}

// A finite half of random sign and magnitude between 2^-14 and 2.
f16_bits random_f16(std::mt19937& rng) {
  std::uniform_real_distribution<float> exp2(-14.0f, 1.0f);
  const float v = std::exp2(exp2(rng));
  return f32_to_f16(rng() & 1 ? -v : v);
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Runs kernel k and the scalar reference over x (nb blocks) and y; checks
// their results are the same float, bit for bit.
void check_against_scalar(const DotKernel& k, const uint8_t* x, const block_q8_K* y, int64_t nb, const std::string& what) {
  const int64_t n = nb * QK_K;
  const float want = type_traits(k.type).vec_dot(n, x, y);
  const float got = k.fn(n, x, y);
  CHECK_MESSAGE(same_bits(got, want), k.name << " " << what << " n=" << n << ": got " << std::hexfloat << got
                                              << ", scalar " << want << std::defaultfloat);
}

std::string fixture_path(const std::string& file) { return std::string(EMBER_TEST_DATA_DIR) + "/kquants/" + file; }

std::vector<uint8_t> read_fixture(const std::string& file) {
  std::ifstream in(fixture_path(file), std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << fixture_path(file));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("simd kquants: every x86 SIMD level has a dot kernel for each of q2_K..q6_K") {
#if defined(__x86_64__) || defined(_M_X64)
  for (DType t : kKTypes)
    for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni}) {
      int found = 0;
      for (const DotKernel& k : dot_kernels()) found += k.type == t && k.isa == isa;
      CHECK_MESSAGE(found == 1, type_traits(t).name << " " << isa_name(isa) << ": " << found << " kernels");
    }
#endif
  MESSAGE(simd_kquant_kernels().size() << " SIMD K-quant dot kernels run on this CPU");
}

TEST_CASE("simd kquants: dots of random blocks equal the scalar reference's bit for bit") {
  std::mt19937 rng(20240601);
  const auto kernels = simd_kquant_kernels();
  for (const DotKernel& k : kernels) {
    const size_t bs = type_traits(k.type).type_size;
    // 1, 4, 7 and 17 super-blocks: the kernels finish four at a time, then the rest.
    for (int64_t n : {int64_t(256), int64_t(1024), int64_t(7 * 256), int64_t(4096 + 256)}) {
      const int64_t nb = n / QK_K;
      for (int rep = 0; rep < 8; ++rep) {
        // Odd reps start the row 2 bytes into the buffer: K-quant blocks have
        // even sizes (so rows in a file are 2-byte aligned) but rows of
        // 210-byte q6_K or 110-byte q3_K blocks are rarely 4- or 32-byte aligned.
        std::vector<uint8_t> buf(nb * bs + 2);
        for (auto& c : buf) c = uint8_t(rng());
        uint8_t* x = buf.data() + 2 * (rep & 1);
        for (int64_t b = 0; b < nb; ++b) set_block_scales(k.type, x, b, random_f16(rng), random_f16(rng));
        std::vector<block_q8_K> y(static_cast<size_t>(nb));
        fill_q8_K(rng, y, false);
        check_against_scalar(k, x, y.data(), nb, "rep " + std::to_string(rep));
      }
    }
  }
}

TEST_CASE("simd kquants: blocks at the extremes of every field equal the scalar reference's bit for bit") {
  // All-ones bytes give the largest quants and scales (q6_K's scales are then
  // -1, so also try 0x80 = -128 and 0x7F); q8_K at -128/127 pushes maddubs
  // pairs and the i32 sums to their largest magnitudes.
  std::mt19937 rng(7);
  for (const DotKernel& k : simd_kquant_kernels()) {
    const size_t bs = type_traits(k.type).type_size;
    const int64_t nb = 4;
    for (uint8_t fill : {uint8_t(0xFF), uint8_t(0x80), uint8_t(0x7F), uint8_t(0x00)}) {
      std::vector<uint8_t> x(nb * bs, fill);
      for (int64_t b = 0; b < nb; ++b) set_block_scales(k.type, x.data(), b, f32_to_f16(1.0f), f32_to_f16(0.5f));
      std::vector<block_q8_K> y(static_cast<size_t>(nb));
      fill_q8_K(rng, y, true);
      check_against_scalar(k, x.data(), y.data(), nb, "fill " + std::to_string(fill));
    }
  }
}

TEST_CASE("simd kquants: dots of quant_vectors reproduce ggml's and equal the scalar reference's (y quantized to q8_K)") {
  // tests/data/kquants is an extract of quant_vectors.gguf: x, y (4 x 1024 f32)
  // and per type the quantized rows; expected.txt holds ggml's row dots.
  constexpr int kRows = 4, kCols = 1024;
  const auto xb = read_fixture("x.f32"), yb = read_fixture("y.f32");
  REQUIRE(xb.size() == size_t(kRows * kCols * 4));
  REQUIRE(yb.size() == xb.size());
  std::vector<float> x(kRows * kCols), yf(kRows * kCols);
  std::memcpy(x.data(), xb.data(), xb.size());
  std::memcpy(yf.data(), yb.data(), yb.size());

  std::ifstream exp_in(fixture_path("expected.txt"));
  REQUIRE(exp_in.good());
  std::string line;
  int checked = 0;
  while (std::getline(exp_in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name;
    int row = 0;
    double rmse = 0, want = 0;
    ls >> name >> row >> rmse >> want;
    const auto t = dtype_from_name(name);
    REQUIRE(t.has_value());
    const size_t row_bytes = *dtype_row_bytes(*t, kCols);
    const auto q = read_fixture("q." + name + ".bin");
    REQUIRE(q.size() == row_bytes * kRows);
    std::vector<block_q8_K> yq(kCols / QK_K);
    ref::quantize_row_q8_K(yf.data() + row * kCols, yq.data(), kCols);
    double nx = 0, ny = 0;
    for (int i = 0; i < kCols; ++i) {
      nx += double(x[row * kCols + i]) * x[row * kCols + i];
      ny += double(yf[row * kCols + i]) * yf[row * kCols + i];
    }
    const double tol = 1e-4 * std::sqrt(nx * ny);
    for (const DotKernel& k : simd_kquant_kernels()) {
      if (k.type != *t) continue;
      const float got = k.fn(kCols, q.data() + row * row_bytes, yq.data());
      CHECK_MESSAGE(std::fabs(got - want) <= tol, k.name << " row " << row << ": got " << got << ", ggml " << want);
      const float scalar = type_traits(*t).vec_dot(kCols, q.data() + row * row_bytes, yq.data());
      CHECK_MESSAGE(same_bits(got, scalar), k.name << " row " << row << ": got " << std::hexfloat << got << ", scalar "
                                                   << scalar << std::defaultfloat);
      ++checked;
    }
  }
  MESSAGE("checked " << checked << " kernel rows against ggml");
}
