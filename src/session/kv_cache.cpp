#include "session/kv_cache.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ember/error.h"

namespace ember {

void KvCache::FreeDeleter::operator()(uint8_t* p) const noexcept { std::free(p); }

KvCache::KvCache(const KvDims& d) : d_(d) {
  if (d.type != DType::F16 && d.type != DType::Q8_0 && d.type != DType::Q4_0)
    throw Error(ErrorKind::InvalidArgument, std::string("[kv_cache] kv_type '") + type_traits(d.type).name +
                                                "' is not supported (supported: f16, q8_0, q4_0)");
  const TypeTraits& tr = type_traits(d.type);
  if (d.head_dim_k % tr.block_size != 0 || d.head_dim_v % tr.block_size != 0)
    throw Error(ErrorKind::InvalidArgument, std::string("[kv_cache] kv_type '") + tr.name +
                                                "' needs head sizes that are multiples of " +
                                                std::to_string(tr.block_size) + " (this model has " +
                                                std::to_string(d.head_dim_k) + ")");
  if (d.n_layer <= 0 || d.n_head_kv <= 0 || d.n_ctx <= 0 || d.n_seq <= 0)
    throw Error(ErrorKind::InvalidArgument, "[kv_cache] bad dimensions");
  v_trans_ = d.type == DType::F16;
  k_row_ = size_t(d.head_dim_k / tr.block_size) * tr.type_size;
  v_row_ = size_t(d.head_dim_v / tr.block_size) * tr.type_size;
  const size_t rows = size_t(d.n_layer) * size_t(d.n_seq) * size_t(d.n_head_kv) * size_t(d.n_ctx);
  k_bytes_ = rows * k_row_;
  v_bytes_ = rows * v_row_;
  // calloc: large blocks come zeroed from the OS and are only touched when
  // written. Zeros matter for transposed values: positions that were never
  // written are multiplied by probability 0, which must not meet a NaN.
  k_.reset(static_cast<uint8_t*>(std::calloc(k_bytes_, 1)));
  v_.reset(static_cast<uint8_t*>(std::calloc(v_bytes_, 1)));
  if (!k_ || !v_)
    throw Error(ErrorKind::Io, "[kv_cache] cannot allocate " + std::to_string((k_bytes_ + v_bytes_) >> 20) + " MiB");
  used_.assign(size_t(d.n_seq) * size_t(d.n_ctx), 0);
  pos_max_.assign(size_t(d.n_seq), -1);
}

void KvCache::set_used(int seq, int pos, bool on) {
  used_[size_t(seq) * size_t(d_.n_ctx) + size_t(pos)] = on ? 1 : 0;
  if (on)
    pos_max_[size_t(seq)] = std::max(pos_max_[size_t(seq)], pos);
  else if (pos == pos_max_[size_t(seq)])
    refresh_pos_max(seq);
}

void KvCache::refresh_pos_max(int seq) {
  const uint8_t* u = used(seq);
  int p = pos_max_[size_t(seq)];
  while (p >= 0 && !u[p]) --p;
  pos_max_[size_t(seq)] = p;
}

// Dropped transposed values are zeroed: an inf left there would turn the
// zero probability it meets into NaN.
void KvCache::zero_values(int seq, int p0, int p1) {
  if (!v_trans_ || p0 >= p1) return;
  for (int l = 0; l < d_.n_layer; ++l)
    for (int h = 0; h < d_.n_head_kv; ++h) {
      auto* vt = reinterpret_cast<uint16_t*>(v_block(l, seq, h));
      for (int dim = 0; dim < d_.head_dim_v; ++dim)
        std::memset(vt + size_t(dim) * size_t(d_.n_ctx) + size_t(p0), 0, size_t(p1 - p0) * sizeof(uint16_t));
    }
}

void KvCache::clear() {
  for (int s = 0; s < d_.n_seq; ++s) remove(s, 0, d_.n_ctx);
}

void KvCache::remove(int seq, int p0, int p1) {
  p0 = std::max(p0, 0);
  p1 = std::min(p1, pos_max_[size_t(seq)] + 1);  // nothing is held past pos_max
  if (p0 >= p1) return;
  std::fill(used_.begin() + ptrdiff_t(size_t(seq) * size_t(d_.n_ctx) + size_t(p0)),
            used_.begin() + ptrdiff_t(size_t(seq) * size_t(d_.n_ctx) + size_t(p1)), 0);
  zero_values(seq, p0, p1);
  refresh_pos_max(seq);
}

void KvCache::keep_only(int seq) {
  for (int s = 0; s < d_.n_seq; ++s)
    if (s != seq) remove(s, 0, d_.n_ctx);
}

void KvCache::copy(int src, int dst, int p0, int p1) {
  p0 = std::max(p0, 0);
  p1 = std::min(p1, d_.n_ctx);
  if (src == dst || p0 >= p1) return;
  const uint8_t* u = used(src);
  for (int p = p0; p < p1;) {
    if (!u[p]) {
      ++p;
      continue;
    }
    int e = p;  // a run of used positions: one copy per (layer, head[, value dim])
    while (e < p1 && u[e]) ++e;
    const size_t n = size_t(e - p);
    for (int l = 0; l < d_.n_layer; ++l)
      for (int h = 0; h < d_.n_head_kv; ++h) {
        std::memcpy(k_row(l, dst, h, p), k_row(l, src, h, p), n * k_row_);
        if (v_trans_) {
          auto* to = reinterpret_cast<uint16_t*>(v_block(l, dst, h));
          const auto* from = reinterpret_cast<const uint16_t*>(v_block(l, src, h));
          for (int dim = 0; dim < d_.head_dim_v; ++dim)
            std::memcpy(to + size_t(dim) * size_t(d_.n_ctx) + size_t(p), from + size_t(dim) * size_t(d_.n_ctx) + size_t(p),
                        n * sizeof(uint16_t));
        } else {
          std::memcpy(v_block(l, dst, h) + size_t(p) * v_row_, v_block(l, src, h) + size_t(p) * v_row_, n * v_row_);
        }
      }
    for (int q = p; q < e; ++q) set_used(dst, q, true);
    p = e;
  }
}

}  // namespace ember
