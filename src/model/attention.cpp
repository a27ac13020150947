// Attention over the KV cache. Work items are (tile of consecutive tokens of
// one sequence, KV head, group of query heads[, chunk of cells]): the item
// reads each cached key and value row once and applies it to all of its
// queries. Decoding a few tokens over a long context splits the cells into
// fixed chunks (flash-decoding): each chunk's softmax and output are
// combined afterwards, weighted by their sums. Items and chunks depend only
// on the batch and the context, never on the thread count, so neither do
// the results.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "ember/error.h"
#include "model/blocks.h"
#include "quant/fp16.h"

namespace ember::model {
namespace {

constexpr int kMaxTile = 32;
constexpr int64_t kScoreBudget = int64_t(1) << 20;  // floats of scores per thread
constexpr int kMaxChunkedTokens = 4;  // batches up to this size may split their cells
// Cells per chunk: long, because every chunk costs one f16 value dot per
// dimension and head (a 256-cell chunk made decoding at depth 2048 15% slower).
constexpr int64_t kChunk = 2048;

FromFloatFn row_quantizer(const kernels::KernelTable& kt, DType t) {
  const FromFloatFn f = kt.quantize[uint32_t(t)];
  return f ? f : type_traits(t).from_float;
}

// Quantized KV caches hold keys and values rotated by an orthonormal
// Hadamard matrix, as llama.cpp does since its PR 21038: the rotation spreads
// outlier channels over the whole block, so q4_0/q8_0 lose far less (on
// SmolLM2 the q4_0 cache's logit error halves). Queries get the same rotation
// (dot products are unchanged) and the attention output is rotated back
// (H = Hᵀ = H⁻¹). Blocks of the largest power of two dividing the head size.
constexpr int kMaxHead = 1024;

int64_t hadamard_block(int64_t n) {
  int64_t b = n & -n;
  return std::min<int64_t>(b, 256);
}

void hadamard(float* x, int64_t n) {
  const int64_t blk = hadamard_block(n);
  const float norm = 1.0f / std::sqrt(float(blk));
  for (int64_t b = 0; b < n; b += blk) {
    float* v = x + b;
    for (int64_t h = 1; h < blk; h <<= 1)
      for (int64_t i = 0; i < blk; i += 2 * h)
        for (int64_t j = i; j < i + h; ++j) {
          const float a = v[j], c = v[j + h];
          v[j] = a + c;
          v[j + h] = a - c;
        }
    for (int64_t j = 0; j < blk; ++j) v[j] *= norm;
  }
}

bool rotated(const KvCache& kv) { return kv.dims().type != DType::F16; }

}  // namespace

void AttentionScratch::reserve(const ModelConfig& c, const KvCache& kv, int n_threads) {
  if (c.head_dim > kMaxHead || c.head_dim_v > kMaxHead)
    throw Error(ErrorKind::Unsupported, "[session] head size " + std::to_string(std::max(c.head_dim, c.head_dim_v)) +
                                            " is larger than the KV cache supports (" + std::to_string(kMaxHead) + ")");
  const int r = c.n_head / c.n_head_kv;
  const int64_t n_ctx = kv.dims().n_ctx;
  tile = int(std::clamp<int64_t>(kScoreBudget / (int64_t(r) * n_ctx), 1, kMaxTile));
  const DType act = type_traits(kv.dims().type).vec_dot_type;
  const size_t q_row = size_t(*dtype_row_bytes(act, uint64_t(c.head_dim)));
  threads.resize(size_t(n_threads));
  for (PerThread& t : threads) {
    t.scores.resize(size_t(tile) * size_t(r) * size_t(n_ctx));
    t.q.resize(size_t(tile) * size_t(r) * q_row);
    t.v.resize(size_t(std::max(c.head_dim, c.head_dim_v)));
    t.p16.resize(kv.v_transposed() ? size_t(n_ctx) : 0);
  }
  max_chunks = int((n_ctx + kChunk - 1) / kChunk);
  partial.resize(max_chunks > 1 ? size_t(kMaxChunkedTokens) * size_t(c.n_head) * size_t(max_chunks) *
                                      size_t(c.head_dim_v + 2)
                                : 0);
}

void kv_store(const kernels::KernelTable& kt, KvCache& kv, int layer, const ModelConfig& c, const Ubatch& ub, int i,
              const float* k, const float* v) {
  const FromFloatFn quant = row_quantizer(kt, kv.dims().type);
  const int seq = ub.seq[i], pos = ub.pos[i];
  const bool rot = rotated(kv);
  float tmp[kMaxHead];
  for (int g = 0; g < c.n_head_kv; ++g) {
    const float* kg = k + int64_t(g) * c.head_dim;
    if (rot) {
      std::memcpy(tmp, kg, size_t(c.head_dim) * sizeof(float));
      hadamard(tmp, c.head_dim);
      kg = tmp;
    }
    quant(kg, kv.k_row(layer, seq, g, pos), c.head_dim);
    const float* vg = v + int64_t(g) * c.head_dim_v;
    if (rot) {
      std::memcpy(tmp, vg, size_t(c.head_dim_v) * sizeof(float));
      hadamard(tmp, c.head_dim_v);
      vg = tmp;
    }
    if (kv.v_transposed()) {
      auto* vt = reinterpret_cast<uint16_t*>(kv.v_block(layer, seq, g)) + pos;
      for (int d = 0; d < c.head_dim_v; ++d) vt[size_t(d) * size_t(kv.dims().n_ctx)] = f32_to_f16(vg[d]);
    } else {
      quant(vg, kv.v_block(layer, seq, g) + size_t(pos) * kv.v_row_bytes(), c.head_dim_v);
    }
  }
}

namespace {

// Everything one attention() call shares between its work items; the pool's
// lambda captures only a pointer to it (no std::function allocation).
struct AttentionJob {
  const kernels::KernelTable& kt;
  const KvCache& kv;
  const ModelConfig& c;
  const Ubatch& ub;
  const float* q;
  float* out;
  AttentionScratch& scratch;
  int layer;
  float scale;
  int r, heads_per_item, n_splits, n_chunks;
  int64_t q_stride, o_stride;
  size_t q_row;
  VecDotFn dot;
  FromFloatFn quant;
  ToFloatFn v_to_float;
  bool rot;
  int window;      // > 0: sliding window (cells p' seen from p satisfy p - p' < window)
  int first_cell;  // no query of the batch sees a cell before this one
  std::atomic<int64_t> next{0};

  /// Output, max score and softmax sum of (token, head, chunk) when chunked.
  float* partial(int token, int head, int chunk) const {
    const size_t slot = (size_t(token) * size_t(c.n_head) + size_t(head)) * size_t(n_chunks) + size_t(chunk);
    return scratch.partial.data() + slot * size_t(c.head_dim_v + 2);
  }
  void run_item(AttentionScratch::PerThread& ts, int64_t item) const;
  void combine_chunks() const;
};

void AttentionJob::run_item(AttentionScratch::PerThread& ts, int64_t item) const {
  const kernels::FloatOps& ops = *kt.ops;
  const int64_t hd = c.head_dim, hdv = c.head_dim_v, n_ctx = kv.dims().n_ctx;
  const size_t k_row = kv.k_row_bytes(), v_row = kv.v_row_bytes();
  const std::vector<int32_t>& starts = scratch.tile_start;
  const int chunk = int(item % n_chunks);
  item /= n_chunks;
  const int tile = int(item / (c.n_head_kv * n_splits));
  const int g = int(item / n_splits % c.n_head_kv);
  const int h0 = g * r + int(item % n_splits) * heads_per_item;
  const int nh = std::min(heads_per_item, (g + 1) * r - h0);
  const int t0 = starts[size_t(tile)], nt = starts[size_t(tile) + 1] - t0;
  const int seq = ub.seq[t0];
  const int32_t* pos = ub.pos + t0;
  int n_c = 0, p_min = pos[0];
  for (int ti = 0; ti < nt; ++ti) n_c = std::max(n_c, pos[ti] + 1), p_min = std::min(p_min, pos[ti]);
  const int lo = window > 0 ? std::max(0, p_min - window + 1) : 0;
  // This item's cells: [c0, c1); a query sees those up to its own position
  // (and, with a window, none before its window).
  const int start = first_cell + int(chunk * kChunk);
  const int c0 = std::max(lo, start), c1 = n_chunks > 1 ? std::min<int>(n_c, start + int(kChunk)) : n_c;
  const int w = c1 - c0;
  auto seen = [&](int ti) { return std::max(0, std::min(c1, pos[ti] + 1) - c0); };
  auto dest = [&](int ti, int hi) {
    return n_chunks > 1 ? partial(t0 + ti, h0 + hi, chunk) : out + (t0 + ti) * o_stride + (h0 + hi) * hdv;
  };
  const uint8_t* used = kv.used(seq);
  float* sc = ts.scores.data();  // row (ti * nh + hi) holds w scores
  if (w <= 0) {  // (only when chunked: unchunked items always see their own cell)
    for (int ti = 0; ti < nt; ++ti)
      for (int hi = 0; hi < nh; ++hi) dest(ti, hi)[hdv + 1] = 0.0f;  // nothing seen: weight 0
    return;
  }

  for (int ti = 0; ti < nt; ++ti)
    for (int hi = 0; hi < nh; ++hi) {
      const float* qh = q + (t0 + ti) * q_stride + (h0 + hi) * hd;
      if (rot) {
        std::memcpy(ts.v.data(), qh, size_t(hd) * sizeof(float));
        hadamard(ts.v.data(), hd);
        qh = ts.v.data();
      }
      quant(qh, ts.q.data() + size_t(ti * nh + hi) * q_row, hd);
    }

  // Scores: each cached key row is read once and dotted with every query of the item.
  const uint8_t* kbase = kv.k_row(layer, seq, g, 0);
  for (int cell = c0; cell < c1; ++cell) {
    if (!used[cell]) {
      for (int row = 0; row < nt * nh; ++row) sc[int64_t(row) * w + cell - c0] = -std::numeric_limits<float>::infinity();
      continue;
    }
    const uint8_t* krow = kbase + size_t(cell) * k_row;
    for (int ti = 0; ti < nt; ++ti) {
      if (pos[ti] < cell) continue;
      if (window > 0 && pos[ti] - cell >= window) {  // slid out of this query's window
        for (int hi = 0; hi < nh; ++hi) sc[int64_t(ti * nh + hi) * w + cell - c0] = -std::numeric_limits<float>::infinity();
        continue;
      }
      for (int hi = 0; hi < nh; ++hi) {
        const int row = ti * nh + hi;
        sc[int64_t(row) * w + cell - c0] = dot(hd, krow, ts.q.data() + size_t(row) * q_row) * scale;
      }
    }
  }
  for (int ti = 0; ti < nt; ++ti)
    for (int hi = 0; hi < nh; ++hi) {
      float* row = sc + int64_t(ti * nh + hi) * w;
      const int len = seen(ti);
      if (n_chunks == 1) {
        ops.softmax(row, len);
        continue;
      }
      // A chunk keeps its max score m and softmax sum l = sum exp(s - m);
      // after softmax the max cell holds exp(0) / l.
      int arg = -1;
      for (int j = 0; j < len; ++j)
        if (row[j] != -std::numeric_limits<float>::infinity() && (arg < 0 || row[j] > row[arg])) arg = j;
      float* part = dest(ti, hi);
      if (arg < 0) {  // only holes in this chunk
        std::fill(row, row + len, 0.0f);
        part[hdv + 1] = 0.0f;
        continue;
      }
      part[hdv] = row[arg];
      ops.softmax(row, len);
      part[hdv + 1] = 1.0f / row[arg];
    }

  if (kv.v_transposed()) {
    // out[d] = p · V[d]: the probabilities go to f16 (as in llama.cpp) and
    // each value dimension is one f16 dot over the positions.
    const auto* vt = reinterpret_cast<const uint16_t*>(kv.v_block(layer, seq, g)) + c0;
    const VecDotFn vdot = kt.vec_dot[uint32_t(DType::F16)];
    const FromFloatFn to_f16 = row_quantizer(kt, DType::F16);
    for (int ti = 0; ti < nt; ++ti)
      for (int hi = 0; hi < nh; ++hi) {
        float* o = dest(ti, hi);
        const int64_t len = seen(ti);
        if (len == 0) {
          std::fill(o, o + hdv, 0.0f);
          continue;
        }
        // Dots over a multiple of 64 positions stay in the kernel's vector
        // loop; the positions past the query's get probability 0 (their
        // values are finite: written, or zeroed when allocated or removed).
        const int64_t padded = std::min<int64_t>((len + 63) / 64 * 64, n_ctx - c0);
        to_f16(sc + int64_t(ti * nh + hi) * w, ts.p16.data(), len);
        std::fill(ts.p16.begin() + len, ts.p16.begin() + padded, uint16_t(0));
        for (int64_t dim = 0; dim < hdv; ++dim) o[dim] = vdot(padded, vt + dim * n_ctx, ts.p16.data());
      }
  } else {
    // Quantized values: dequantize each row once, add it to every query's output.
    for (int ti = 0; ti < nt; ++ti)
      for (int hi = 0; hi < nh; ++hi) std::fill(dest(ti, hi), dest(ti, hi) + hdv, 0.0f);
    const uint8_t* vbase = kv.v_block(layer, seq, g);
    for (int cell = c0; cell < c1; ++cell) {
      if (!used[cell]) continue;
      v_to_float(vbase + size_t(cell) * v_row, ts.v.data(), hdv);
      for (int ti = 0; ti < nt; ++ti) {
        if (pos[ti] < cell) continue;
        for (int hi = 0; hi < nh; ++hi) {
          const float p = sc[int64_t(ti * nh + hi) * w + cell - c0];
          if (p != 0.0f) ops.axpy(dest(ti, hi), ts.v.data(), p, hdv);
        }
      }
    }
  }
  if (rot && n_chunks == 1)
    for (int ti = 0; ti < nt; ++ti)
      for (int hi = 0; hi < nh; ++hi) hadamard(dest(ti, hi), hdv);
}

// out = sum_j w_j o_j / sum_j w_j with w_j = l_j exp(m_j - max m): the
// chunks' softmaxes put back on one scale.
void AttentionJob::combine_chunks() const {
  const int64_t hdv = c.head_dim_v;
  for (int t = 0; t < ub.n_tokens; ++t)
    for (int h = 0; h < c.n_head; ++h) {
      float m = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < n_chunks; ++j)
        if (partial(t, h, j)[hdv + 1] > 0.0f) m = std::max(m, partial(t, h, j)[hdv]);
      float* o = out + t * o_stride + h * hdv;
      std::fill(o, o + hdv, 0.0f);
      double total = 0;
      for (int j = 0; j < n_chunks; ++j) total += partial(t, h, j)[hdv + 1] * std::exp(double(partial(t, h, j)[hdv] - m));
      for (int j = 0; j < n_chunks; ++j) {
        const float* part = partial(t, h, j);
        if (part[hdv + 1] > 0.0f)
          kt.ops->axpy(o, part, float(part[hdv + 1] * std::exp(double(part[hdv] - m)) / total), hdv);
      }
      if (rot) hadamard(o, hdv);
    }
}

}  // namespace

void attention(const kernels::KernelTable& kt, ThreadPool& pool, const KvCache& kv, int layer, const ModelConfig& c,
               const Ubatch& ub, const float* q, float* out, float scale, AttentionScratch& scratch, int window) {
  const KvDims& d = kv.dims();
  const int r = c.n_head / c.n_head_kv;
  const DType act = type_traits(d.type).vec_dot_type;

  // Tiles: runs of at most `tile` consecutive tokens of the same sequence.
  std::vector<int32_t>& starts = scratch.tile_start;
  starts.clear();
  int max_pos = 0, min_pos = ub.pos[0];
  for (int i = 0; i < ub.n_tokens; ++i) {
    if (starts.empty() || i - starts.back() >= scratch.tile || ub.seq[i] != ub.seq[starts.back()]) starts.push_back(i);
    max_pos = std::max(max_pos, ub.pos[i]);
    min_pos = std::min(min_pos, ub.pos[i]);
  }
  const int first_cell = window > 0 ? std::max(0, min_pos - window + 1) : 0;
  const int n_tiles = int(starts.size());
  starts.push_back(ub.n_tokens);

  // A few tokens over many cells: chunks of cells, all query heads of a KV
  // head per item (each K/V row is read once). Few tiles otherwise (short
  // decode): one query head per item, so every thread has work.
  const int n_chunks = ub.n_tokens <= kMaxChunkedTokens && max_pos + 1 - first_cell > 2 * kChunk
                           ? int((max_pos - first_cell + kChunk) / kChunk)
                           : 1;
  const int heads_per_item = n_chunks > 1 || int64_t(n_tiles) * c.n_head_kv >= 2 * pool.size() ? r : 1;
  const int n_splits = (r + heads_per_item - 1) / heads_per_item;
  const int64_t n_items = int64_t(n_tiles) * c.n_head_kv * n_splits * n_chunks;

  AttentionJob job{kt,
                   kv,
                   c,
                   ub,
                   q,
                   out,
                   scratch,
                   layer,
                   scale,
                   r,
                   heads_per_item,
                   n_splits,
                   n_chunks,
                   int64_t(c.n_head) * c.head_dim,
                   int64_t(c.n_head) * c.head_dim_v,
                   size_t(*dtype_row_bytes(act, uint64_t(c.head_dim))),
                   kt.vec_dot[uint32_t(d.type)],
                   row_quantizer(kt, act),
                   type_traits(d.type).to_float,
                   rotated(kv),
                   window,
                   first_cell};
  AttentionJob* j = &job;
  pool.run([j, n_items](int ith, int) {
    AttentionScratch::PerThread& ts = j->scratch.threads[size_t(ith)];
    for (int64_t item = j->next.fetch_add(1); item < n_items; item = j->next.fetch_add(1)) j->run_item(ts, item);
  });
  if (n_chunks > 1) job.combine_chunks();
}

}  // namespace ember::model
