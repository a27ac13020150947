#include "embeddings.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "ember/error.h"
#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "model/arch.h"
#include "model/forward.h"
#include "session/kv_cache.h"

namespace ember::server {

struct Embedder::Impl {
  std::shared_ptr<const Model> model;
  model::Weights w;            // the model's views, output replaced by the identity
  std::vector<float> identity; // (n_embd, n_embd)
  int n_ctx, n_batch;
  ThreadPool pool;
  KvCache kv;
  model::Workspace ws;
  std::vector<float> hidden;   // n_batch rows of n_embd
  std::vector<int32_t> token, pos, seq;
  std::vector<uint8_t> want;

  Impl(std::shared_ptr<const Model> m, int ctx, int batch, int threads)
      : model(std::move(m)),
        w(model->weights()),
        n_ctx(ctx),
        n_batch(std::min(batch, ctx)),
        pool(threads > 0 ? threads : model->default_n_threads()),
        kv(KvDims{w.config.n_layer, w.config.n_head_kv, w.config.head_dim, w.config.head_dim_v, ctx, 1, DType::F16}) {
    const int64_t n = w.config.n_embd;
    identity.assign(size_t(n * n), 0.0f);
    for (int64_t i = 0; i < n; ++i) identity[size_t(i * n + i)] = 1.0f;
    w.output = model::Linear{};
    w.output.w = kernels::WeightMatrix{DType::F32, identity.data(), n, n, size_t(n) * sizeof(float)};
    ws.reserve(w.config, kv, n_batch, pool.size());
    hidden.resize(size_t(n_batch) * size_t(n));
  }
};

Embedder::Embedder(std::shared_ptr<const Model> model, int n_ctx, int n_batch, int n_threads)
    : impl_(std::make_unique<Impl>(std::move(model), n_ctx, n_batch, n_threads)) {}
Embedder::~Embedder() = default;

int Embedder::n_ctx() const noexcept { return impl_->n_ctx; }

std::vector<float> Embedder::embed(std::span<const int32_t> tokens) {
  Impl& s = *impl_;
  const int64_t n_embd = s.w.config.n_embd;
  if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "[embeddings] empty input");
  if (int64_t(tokens.size()) > s.n_ctx)
    throw Error(ErrorKind::InvalidArgument, "[embeddings] the input has " + std::to_string(tokens.size()) +
                                                " tokens; at most " + std::to_string(s.n_ctx) + " fit the context");
  for (int32_t t : tokens)
    if (t < 0 || t >= s.w.config.n_vocab)
      throw Error(ErrorKind::InvalidArgument, "[embeddings] token id " + std::to_string(t) + " is outside the vocabulary");

  s.kv.clear();
  std::vector<double> sum(size_t(n_embd), 0.0);
  model::ForwardContext ctx{s.w, kernels::default_kernel_table(), s.pool, s.kv, s.ws};
  for (size_t b = 0; b < tokens.size(); b += size_t(s.n_batch)) {
    const size_t e = std::min(tokens.size(), b + size_t(s.n_batch));
    s.token.assign(tokens.begin() + std::ptrdiff_t(b), tokens.begin() + std::ptrdiff_t(e));
    s.pos.clear();
    for (size_t i = b; i < e; ++i) s.pos.push_back(int32_t(i));
    s.seq.assign(e - b, 0);
    s.want.assign(e - b, 1);
    for (int32_t p : s.pos) s.kv.set_used(0, p, true);
    const model::Ubatch ub{int(e - b), s.token.data(), s.pos.data(), s.seq.data(), s.want.data()};
    s.w.arch->forward(ctx, ub, s.hidden.data());
    for (size_t r = 0; r < e - b; ++r) {
      const float* row = s.hidden.data() + r * size_t(n_embd);
      for (int64_t j = 0; j < n_embd; ++j) sum[size_t(j)] += row[j];
    }
  }
  s.kv.clear();

  std::vector<float> out(static_cast<size_t>(n_embd));
  double norm = 0;
  for (int64_t j = 0; j < n_embd; ++j) {
    const double v = sum[size_t(j)] / double(tokens.size());
    out[size_t(j)] = float(v);
    norm += v * v;
  }
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& v : out) v = float(v / norm);
  return out;
}

}  // namespace ember::server
