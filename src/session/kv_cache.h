#pragma once
// The KV cache: for every layer, sequence and KV head, one row of keys per
// position (cell index == position), stored as f16, q8_0 or q4_0. Values are
// rows per position too when quantized; f16 values are stored transposed
// (head_dim_v rows of n_ctx positions), so probabilities · V is a dot product
// over positions, as in llama.cpp. Each sequence has its own n_ctx cells, so
// removing, keeping and copying ranges are plain bookkeeping and row copies.
//
// Arguments are trusted here; the Session checks seq ids and positions.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ember/dtype.h"

namespace ember {

struct KvDims {
  int n_layer = 0;
  int n_head_kv = 0;
  int head_dim_k = 0;
  int head_dim_v = 0;
  int n_ctx = 0;  // cells per sequence
  int n_seq = 1;
  DType type = DType::F16;
};

class KvCache {
 public:
  /// Throws ember::Error if the type is not f16/q8_0/q4_0 or a head size is
  /// not a multiple of its block size. Memory is reserved, not touched.
  explicit KvCache(const KvDims& dims);

  const KvDims& dims() const noexcept { return d_; }
  size_t k_row_bytes() const noexcept { return k_row_; }
  size_t v_row_bytes() const noexcept { return v_row_; }
  size_t bytes() const noexcept { return k_bytes_ + v_bytes_; }

  /// Consecutive K rows of one (layer, seq, head) are k_row_bytes() apart.
  uint8_t* k_row(int layer, int seq, int head, int pos) noexcept { return k_.get() + offset(layer, seq, head, pos) * k_row_; }
  const uint8_t* k_row(int layer, int seq, int head, int pos) const noexcept {
    return k_.get() + offset(layer, seq, head, pos) * k_row_;
  }
  /// True for f16: values of one (layer, seq, head) are head_dim_v rows of n_ctx f16.
  bool v_transposed() const noexcept { return v_trans_; }
  /// Start of the values of one (layer, seq, head): rows per position
  /// (v_row_bytes() apart), or, transposed, n_ctx f16 per value dimension.
  uint8_t* v_block(int layer, int seq, int head) noexcept { return v_.get() + offset(layer, seq, head, 0) * v_row_; }
  const uint8_t* v_block(int layer, int seq, int head) const noexcept {
    return v_.get() + offset(layer, seq, head, 0) * v_row_;
  }

  /// n_ctx flags of seq: nonzero where the position holds keys and values.
  const uint8_t* used(int seq) const noexcept { return used_.data() + size_t(seq) * size_t(d_.n_ctx); }
  bool is_used(int seq, int pos) const noexcept { return used(seq)[pos] != 0; }
  void set_used(int seq, int pos, bool on);
  int pos_max(int seq) const noexcept { return pos_max_[size_t(seq)]; }

  void clear();
  /// Positions [p0, p1) of seq; p1 is clamped to n_ctx.
  void remove(int seq, int p0, int p1);
  void keep_only(int seq);
  /// Rows of src's used positions in [p0, p1) into dst.
  void copy(int src, int dst, int p0, int p1);

 private:
  size_t offset(int layer, int seq, int head, int pos) const noexcept {
    return ((size_t(layer) * size_t(d_.n_seq) + size_t(seq)) * size_t(d_.n_head_kv) + size_t(head)) * size_t(d_.n_ctx) +
           size_t(pos);
  }
  void refresh_pos_max(int seq);
  void zero_values(int seq, int p0, int p1);

  KvDims d_;
  bool v_trans_ = false;
  size_t k_row_ = 0, v_row_ = 0, k_bytes_ = 0, v_bytes_ = 0;
  struct FreeDeleter {
    void operator()(uint8_t* p) const noexcept;
  };
  std::unique_ptr<uint8_t[], FreeDeleter> k_, v_;
  std::vector<uint8_t> used_;   // n_seq * n_ctx
  std::vector<int> pos_max_;    // n_seq
};

}  // namespace ember
