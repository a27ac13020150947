// The KV cache's layout and bookkeeping, without a model.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "ember/error.h"
#include "session/kv_cache.h"

using namespace ember;

namespace {

KvDims dims(DType type, int n_ctx = 16, int n_seq = 3) {
  return {.n_layer = 2, .n_head_kv = 2, .head_dim_k = 64, .head_dim_v = 32, .n_ctx = n_ctx, .n_seq = n_seq, .type = type};
}

std::string error_of(const KvDims& d) {
  try {
    KvCache kv(d);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Fills the K row and the V entries of (layer, seq, head, pos) with a byte derived from all four.
uint8_t tag(int l, int s, int h, int p) { return uint8_t(1 + l * 64 + s * 16 + h * 8 + p); }

void fill(KvCache& kv, int s, int p) {
  const KvDims& d = kv.dims();
  for (int l = 0; l < d.n_layer; ++l)
    for (int h = 0; h < d.n_head_kv; ++h) {
      std::memset(kv.k_row(l, s, h, p), tag(l, s, h, p), kv.k_row_bytes());
      if (kv.v_transposed()) {
        auto* vt = reinterpret_cast<uint16_t*>(kv.v_block(l, s, h));
        for (int i = 0; i < d.head_dim_v; ++i) vt[size_t(i) * size_t(d.n_ctx) + size_t(p)] = tag(l, s, h, p);
      } else {
        std::memset(kv.v_block(l, s, h) + size_t(p) * kv.v_row_bytes(), tag(l, s, h, p), kv.v_row_bytes());
      }
    }
  kv.set_used(s, p, true);
}

// True if (layer, seq=s, head, pos=p) holds the tag written for (src_seq, p).
bool holds(const KvCache& kv, int s, int p, int src_seq) {
  const KvDims& d = kv.dims();
  for (int l = 0; l < d.n_layer; ++l)
    for (int h = 0; h < d.n_head_kv; ++h) {
      const uint8_t want = tag(l, src_seq, h, p);
      const uint8_t* k = kv.k_row(l, s, h, p);
      for (size_t i = 0; i < kv.k_row_bytes(); ++i)
        if (k[i] != want) return false;
      if (kv.v_transposed()) {
        const auto* vt = reinterpret_cast<const uint16_t*>(kv.v_block(l, s, h));
        for (int i = 0; i < d.head_dim_v; ++i)
          if (vt[size_t(i) * size_t(d.n_ctx) + size_t(p)] != want) return false;
      } else {
        const uint8_t* v = kv.v_block(l, s, h) + size_t(p) * kv.v_row_bytes();
        for (size_t i = 0; i < kv.v_row_bytes(); ++i)
          if (v[i] != want) return false;
      }
    }
  return true;
}

}  // namespace

TEST_CASE("kv_cache: row sizes and total bytes follow the element type") {
  const KvCache f16(dims(DType::F16)), q8(dims(DType::Q8_0)), q4(dims(DType::Q4_0));
  CHECK(f16.k_row_bytes() == 128);
  CHECK(f16.v_row_bytes() == 64);
  CHECK(q8.k_row_bytes() == 2 * 34);
  CHECK(q8.v_row_bytes() == 34);
  CHECK(q4.k_row_bytes() == 2 * 18);
  CHECK(q4.v_row_bytes() == 18);
  const size_t rows = 2 * 3 * 2 * 16;  // layers x seqs x heads x positions
  CHECK(f16.bytes() == rows * (128 + 64));
  CHECK(q4.bytes() == rows * (36 + 18));
  CHECK(f16.v_transposed());
  CHECK(!q8.v_transposed());
}

TEST_CASE("kv_cache: other types and head sizes off the block size are rejected") {
  CHECK(error_of(dims(DType::Q4_1)) == "[kv_cache] kv_type 'q4_1' is not supported (supported: f16, q8_0, q4_0)");
  CHECK(error_of(dims(DType::F32)).find("kv_type 'f32'") != std::string::npos);
  KvDims odd = dims(DType::Q8_0);
  odd.head_dim_k = 48;
  CHECK(error_of(odd).find("multiples of 32") != std::string::npos);
  odd.type = DType::F16;
  CHECK(error_of(odd) == "(no error)");
}

TEST_CASE("kv_cache: used flags and pos_max follow set_used, remove, keep_only and clear") {
  KvCache kv(dims(DType::Q8_0));
  CHECK(kv.pos_max(0) == -1);
  for (int p : {0, 1, 2, 5, 9}) kv.set_used(0, p, true);
  kv.set_used(1, 3, true);
  CHECK(kv.pos_max(0) == 9);
  CHECK(kv.is_used(0, 5));
  CHECK(!kv.is_used(0, 4));
  kv.set_used(0, 9, false);
  CHECK(kv.pos_max(0) == 5);
  kv.remove(0, 2, 100);
  CHECK(kv.pos_max(0) == 1);
  CHECK(!kv.is_used(0, 5));
  kv.remove(0, 0, 0);  // empty range
  CHECK(kv.pos_max(0) == 1);
  kv.keep_only(1);
  CHECK(kv.pos_max(0) == -1);
  CHECK(kv.pos_max(1) == 3);
  kv.clear();
  CHECK(kv.pos_max(1) == -1);
  CHECK(!kv.is_used(1, 3));
}

TEST_CASE("kv_cache: copy moves the key and value rows of used positions only") {
  for (DType t : {DType::F16, DType::Q8_0, DType::Q4_0}) {
    CAPTURE(std::string(dtype_name(t)));
    KvCache kv(dims(t));
    for (int p : {0, 1, 2, 3, 6, 7}) fill(kv, 0, p);
    fill(kv, 2, 10);
    kv.copy(0, 2, 1, 7);  // positions 1, 2, 3, 6
    CHECK(kv.pos_max(2) == 10);
    for (int p : {1, 2, 3, 6}) {
      CHECK(kv.is_used(2, p));
      CHECK(holds(kv, 2, p, 0));
    }
    CHECK(!kv.is_used(2, 0));
    CHECK(!kv.is_used(2, 7));
    CHECK(!kv.is_used(2, 4));
    CHECK(holds(kv, 2, 10, 2));  // untouched
    CHECK(holds(kv, 0, 3, 0));   // the source too
    kv.copy(0, 0, 0, 16);        // onto itself: nothing happens
    CHECK(kv.pos_max(0) == 7);
  }
}

TEST_CASE("kv_cache: removed f16 values are zeroed, so a zero probability never meets a stale inf") {
  KvCache kv(dims(DType::F16));
  fill(kv, 1, 4);
  kv.remove(1, 0, 16);
  const auto* vt = reinterpret_cast<const uint16_t*>(kv.v_block(1, 1, 1));
  for (int i = 0; i < kv.dims().head_dim_v; ++i) CHECK(vt[size_t(i) * 16 + 4] == 0);
}
