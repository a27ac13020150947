#include "ember/session.h"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <string>

#include "ember/error.h"
#include "kernels/kernels.h"
#include "model/arch.h"
#include "model/forward.h"
#include "session/kv_cache.h"

namespace ember {

namespace {

constexpr int kDefaultCtx = 4096;
constexpr int kMaxCtx = 1 << 22;  // keeps n_ctx * n_seq_max and cell offsets far from overflow

SessionParams resolve(const Model& m, SessionParams p) {
  const ModelConfig& c = m.config();
  if (p.n_ctx < 0) throw Error(ErrorKind::InvalidArgument, "[session] n_ctx must be >= 0, got " + std::to_string(p.n_ctx));
  if (p.n_ctx == 0) p.n_ctx = std::min(c.n_ctx_train > 0 ? c.n_ctx_train : kDefaultCtx, kDefaultCtx);
  if (p.n_ctx > kMaxCtx)
    throw Error(ErrorKind::InvalidArgument,
                "[session] n_ctx " + std::to_string(p.n_ctx) + " is larger than " + std::to_string(kMaxCtx));
  if (p.n_batch <= 0)
    throw Error(ErrorKind::InvalidArgument, "[session] n_batch must be positive, got " + std::to_string(p.n_batch));
  if (p.n_seq_max <= 0 || p.n_seq_max > 256)
    throw Error(ErrorKind::InvalidArgument, "[session] n_seq_max must be in 1..256, got " + std::to_string(p.n_seq_max));
  p.n_batch = int(std::min<int64_t>(p.n_batch, int64_t(p.n_ctx) * p.n_seq_max));
  if (p.n_threads < 0)
    throw Error(ErrorKind::InvalidArgument, "[session] n_threads must be >= 0, got " + std::to_string(p.n_threads));
  if (p.n_threads == 0) p.n_threads = m.default_n_threads();
  if (p.kv_type != DType::F16 && p.kv_type != DType::Q8_0 && p.kv_type != DType::Q4_0) {
    const TypeTraits* tr = find_type_traits(uint32_t(p.kv_type));
    throw Error(ErrorKind::InvalidArgument, std::string("[session] kv_type '") + (tr ? tr->name : "?") +
                                                "' is not supported (supported: f16, q8_0, q4_0)");
  }
  return p;
}

}  // namespace

struct Session::State {
  std::shared_ptr<const Model> model;
  SessionParams params;
  const model::Weights& w;
  const kernels::KernelTable& kt;
  ThreadPool pool;
  KvCache kv;
  model::Workspace ws;
  std::vector<float> logits;  // n_outputs rows of n_vocab
  // The token at each cell of each sequence (-1: empty), mirroring the KV
  // cache so generate() can find the prefix it may reuse.
  std::vector<std::vector<int32_t>> cell_tokens;
  std::atomic<bool> cancel{false};
  int n_outputs = 0;
  // The current chunk of the batch, split into arrays.
  std::vector<int32_t> token, pos, seq;
  std::vector<uint8_t> want;

  State(std::shared_ptr<const Model> m, const SessionParams& p)
      : model(std::move(m)),
        params(p),
        w(model->weights()),
        kt(kernels::default_kernel_table()),
        pool(p.n_threads),
        kv(KvDims{w.config.n_layer, w.config.n_head_kv, w.config.head_dim, w.config.head_dim_v, p.n_ctx, p.n_seq_max,
                  p.kv_type}) {
    ws.reserve(w.config, kv, p.n_batch, p.n_threads);
    token.reserve(size_t(p.n_batch));
    pos.reserve(size_t(p.n_batch));
    seq.reserve(size_t(p.n_batch));
    want.reserve(size_t(p.n_batch));
    cell_tokens.resize(size_t(p.n_seq_max));
    for (auto& v : cell_tokens) v.reserve(size_t(p.n_ctx));  // 4 bytes per cell: decode never grows it
  }

  void set_cell_token(int seq, int pos, int32_t token) {
    auto& v = cell_tokens[size_t(seq)];
    if (v.size() <= size_t(pos)) v.resize(size_t(pos) + 1, -1);
    v[size_t(pos)] = token;
  }
  void clear_cell_tokens(int seq, int p0, int p1) {
    auto& v = cell_tokens[size_t(seq)];
    for (int p = p0; p < p1 && size_t(p) < v.size(); ++p) v[size_t(p)] = -1;
    while (!v.empty() && v.back() < 0) v.pop_back();
  }

  void run(const Batch& batch, model::Output output);

  void check_seq(int s, const char* what) const {
    if (s < 0 || s >= params.n_seq_max)
      throw Error(ErrorKind::InvalidArgument, std::string("[session] ") + what + ": seq id " + std::to_string(s) +
                                                  " is out of range (n_seq_max " + std::to_string(params.n_seq_max) + ")");
  }
};

Session::Session(std::shared_ptr<const Model> model, const SessionParams& params) {
  if (!model) throw Error(ErrorKind::InvalidArgument, "[session] no model");
  if (model->vocab_only())
    throw Error(ErrorKind::InvalidArgument, "[session] the model was loaded vocab_only: it cannot be run");
  const SessionParams p = resolve(*model, params);
  s_ = std::make_unique<State>(std::move(model), p);
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const Model& Session::model() const noexcept { return *s_->model; }
const SessionParams& Session::params() const noexcept { return s_->params; }
int Session::n_ctx() const noexcept { return s_->params.n_ctx; }
int Session::n_vocab() const noexcept { return s_->w.config.n_vocab; }
int Session::n_outputs() const noexcept { return s_->n_outputs; }
size_t Session::kv_bytes() const noexcept { return s_->kv.bytes(); }

// Checks every entry, then runs the batch in chunks of n_batch tokens. The
// kept rows (logits, or hidden states with Output::Hidden) go to s.logits in
// batch order. A failing chunk leaves no half-written cells behind.
void Session::State::run(const Batch& batch, model::Output output) {
  State& s = *this;
  s.n_outputs = 0;
  if (batch.empty()) throw Error(ErrorKind::InvalidArgument, "[session] empty batch");
  const int n_vocab = s.w.config.n_vocab;
  int n_out = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const BatchEntry& e = batch.entries[i];
    if (e.token < 0 || e.token >= n_vocab)
      throw Error(ErrorKind::InvalidArgument, "[session] batch entry " + std::to_string(i) + ": token id " +
                                                  std::to_string(e.token) + " is out of range (n_vocab " +
                                                  std::to_string(n_vocab) + ")");
    if (e.pos >= s.params.n_ctx)
      throw Error(ErrorKind::InvalidArgument, "[session] position " + std::to_string(e.pos) +
                                                  " is beyond the context size " + std::to_string(s.params.n_ctx));
    if (e.pos < 0)
      throw Error(ErrorKind::InvalidArgument,
                  "[session] batch entry " + std::to_string(i) + ": negative position " + std::to_string(e.pos));
    s.check_seq(e.seq_id, ("batch entry " + std::to_string(i)).c_str());
    n_out += e.logits ? 1 : 0;
  }
  const size_t row = output == model::Output::Hidden ? size_t(s.w.config.n_embd) : size_t(n_vocab);
  if (s.logits.size() < size_t(n_out) * row) s.logits.resize(size_t(n_out) * row);

  model::ForwardContext ctx{s.w, s.kt, s.pool, s.kv, s.ws, output};
  int out_done = 0;
  for (size_t b = 0; b < batch.size(); b += size_t(s.params.n_batch)) {
    const size_t e = std::min(batch.size(), b + size_t(s.params.n_batch));
    s.token.clear(), s.pos.clear(), s.seq.clear(), s.want.clear();
    int chunk_out = 0;
    for (size_t i = b; i < e; ++i) {
      const BatchEntry& be = batch.entries[i];
      s.token.push_back(be.token);
      s.pos.push_back(be.pos);
      s.seq.push_back(be.seq_id);
      s.want.push_back(be.logits ? 1 : 0);
      chunk_out += be.logits ? 1 : 0;
    }
    // Mark the cells before the pass: tokens of a chunk attend to each other.
    // On failure they are dropped again, so the cache holds no half-written cells.
    for (size_t i = 0; i < s.token.size(); ++i) s.kv.set_used(s.seq[i], s.pos[i], true);
    const model::Ubatch ub{int(s.token.size()), s.token.data(), s.pos.data(), s.seq.data(), s.want.data()};
    try {
      s.w.arch->forward(ctx, ub, s.logits.data() + size_t(out_done) * row);
    } catch (...) {
      for (size_t i = 0; i < s.token.size(); ++i) s.kv.set_used(s.seq[i], s.pos[i], false);
      throw;
    }
    for (size_t i = 0; i < s.token.size(); ++i) s.set_cell_token(s.seq[i], s.pos[i], s.token[i]);
    out_done += chunk_out;
  }
  // Hidden rows are not logits: Session::logits() must not hand them out.
  if (output == model::Output::Logits) s.n_outputs = n_out;
}

void Session::decode(const Batch& batch) { s_->run(batch, model::Output::Logits); }

std::vector<float> Session::embed(std::span<const int32_t> tokens, bool normalize) {
  State& s = *s_;
  const size_t n_embd = size_t(s.w.config.n_embd);
  if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "[session] embed: no tokens");
  if (tokens.size() > size_t(s.params.n_ctx))
    throw Error(ErrorKind::InvalidArgument, "[session] embed: " + std::to_string(tokens.size()) +
                                                " tokens do not fit the context size " + std::to_string(s.params.n_ctx));
  Batch batch = Batch::from_tokens(tokens);
  for (BatchEntry& e : batch.entries) e.logits = true;  // every token's hidden state is pooled

  kv_remove(0);
  try {
    s.run(batch, model::Output::Hidden);
  } catch (...) {
    kv_remove(0);
    throw;
  }
  kv_remove(0);

  // Mean pooling in double, then (optionally) unit length, as OpenAI's embeddings are.
  std::vector<double> mean(n_embd, 0.0);
  for (size_t r = 0; r < tokens.size(); ++r) {
    const float* row = s.logits.data() + r * n_embd;
    for (size_t j = 0; j < n_embd; ++j) mean[j] += row[j];
  }
  double norm2 = 0;
  for (double& v : mean) {
    v /= double(tokens.size());
    norm2 += v * v;
  }
  const double scale = normalize && norm2 > 0 ? 1.0 / std::sqrt(norm2) : 1.0;
  std::vector<float> out(n_embd);
  for (size_t j = 0; j < n_embd; ++j) out[j] = float(mean[j] * scale);
  return out;
}

std::span<const float> Session::logits(int i) const {
  const State& s = *s_;
  const int idx = i < 0 ? s.n_outputs + i : i;
  if (idx < 0 || idx >= s.n_outputs)
    throw Error(ErrorKind::InvalidArgument, "[session] logits(" + std::to_string(i) + "): the last decode kept " +
                                                std::to_string(s.n_outputs) + " rows of logits");
  const size_t n = size_t(s.w.config.n_vocab);
  return {s.logits.data() + size_t(idx) * n, n};
}

void Session::kv_clear() {
  s_->kv.clear();
  for (auto& v : s_->cell_tokens) v.clear();
}

void Session::kv_remove(int seq, int p0, int p1) {
  State& s = *s_;
  if (p0 < 0) p0 = 0;
  if (p1 < 0) p1 = s.params.n_ctx;
  if (seq < 0) {
    for (int q = 0; q < s.params.n_seq_max; ++q) s.kv.remove(q, p0, p1), s.clear_cell_tokens(q, p0, p1);
    return;
  }
  s.check_seq(seq, "kv_remove");
  s.kv.remove(seq, p0, p1);
  s.clear_cell_tokens(seq, p0, p1);
}

void Session::kv_keep_seq(int seq) {
  s_->check_seq(seq, "kv_keep_seq");
  s_->kv.keep_only(seq);
  for (int q = 0; q < s_->params.n_seq_max; ++q)
    if (q != seq) s_->cell_tokens[size_t(q)].clear();
}

void Session::kv_copy(int src_seq, int dst_seq, int p0, int p1) {
  State& s = *s_;
  s.check_seq(src_seq, "kv_copy (source)");
  s.check_seq(dst_seq, "kv_copy (destination)");
  if (p0 < 0) p0 = 0;
  if (p1 < 0) p1 = s.params.n_ctx;
  s.kv.copy(src_seq, dst_seq, p0, p1);
  const auto& src = s.cell_tokens[size_t(src_seq)];
  s.clear_cell_tokens(dst_seq, p0, p1);
  for (int p = p0; p < p1 && size_t(p) < src.size(); ++p)
    if (src[size_t(p)] >= 0) s.set_cell_token(dst_seq, p, src[size_t(p)]);
}

std::vector<int32_t> Session::kv_tokens(int seq) const {
  s_->check_seq(seq, "kv_tokens");
  return s_->cell_tokens[size_t(seq)];
}

void Session::cancel() noexcept { s_->cancel.store(true, std::memory_order_relaxed); }
std::atomic<bool>& Session::cancel_flag() noexcept { return s_->cancel; }

int Session::kv_pos_max(int seq) const {
  s_->check_seq(seq, "kv_pos_max");
  return s_->kv.pos_max(seq);
}

}  // namespace ember
