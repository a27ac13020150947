// ember_session_*: creation, raw decoding with logits, the KV cache, cancel.
#include <algorithm>
#include <cstdint>
#include <string>

#include "capi_internal.h"

using namespace ember;
using namespace ember::capi;

namespace {

ember_session_params session_defaults() {
  ember_session_params p{};
  const SessionParams cpp;
  p.struct_size = sizeof p;
  p.n_ctx = cpp.n_ctx;
  p.n_batch = cpp.n_batch;
  p.n_threads = cpp.n_threads;
  p.kv_type = EMBER_KV_F16;
  p.n_seq_max = cpp.n_seq_max;
  return p;
}

DType kv_dtype(int32_t kv_type, const char* fn) {
  switch (kv_type) {
    case EMBER_KV_F16: return DType::F16;
    case EMBER_KV_Q8_0: return DType::Q8_0;
    case EMBER_KV_Q4_0: return DType::Q4_0;
  }
  throw Error(ErrorKind::InvalidArgument, std::string("[") + fn + "] kv_type " + std::to_string(kv_type) +
                                              " is not one of EMBER_KV_F16, EMBER_KV_Q8_0, EMBER_KV_Q4_0");
}

ember_session& session_of(ember_session* s, const char* fn) {
  require(s, fn, "session");
  return *s;
}
const ember_session& session_of(const ember_session* s, const char* fn) {
  require(s, fn, "session");
  return *s;
}


}  // namespace

extern "C" {

EMBER_API ember_status ember_session_default_params(ember_session_params* params, size_t struct_size) {
  const char* fn = "ember_session_default_params";
  return guard(fn, [&]() -> ember_status { return init_params(params, struct_size, session_defaults(), fn); });
}

EMBER_API ember_status ember_session_create(const ember_model* model, const ember_session_params* params,
                                            ember_session** out_session) {
  const char* fn = "ember_session_create";
  if (out_session) *out_session = nullptr;
  return guard(fn, [&]() -> ember_status {
    require(model, fn, "model");
    require(out_session, fn, "out_session");
    const ember_session_params p = read_params(params, session_defaults(), fn, "params");
    SessionParams sp;
    sp.n_ctx = p.n_ctx;
    sp.n_batch = p.n_batch;
    sp.n_threads = p.n_threads;
    sp.kv_type = kv_dtype(p.kv_type, fn);
    sp.n_seq_max = p.n_seq_max;
    *out_session = new ember_session(Session(model->model, sp));
    return EMBER_OK;
  });
}

EMBER_API void ember_session_free(ember_session* session) { delete session; }

EMBER_API ember_status ember_session_n_ctx(const ember_session* session, int32_t* out) {
  const char* fn = "ember_session_n_ctx";
  return guard(fn, [&]() -> ember_status {
    const ember_session& s = session_of(session, fn);
    require(out, fn, "out");
    *out = s.session.n_ctx();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_cancel(ember_session* session) {
  const char* fn = "ember_session_cancel";
  return guard(fn, [&]() -> ember_status {
    ember_session& s = session_of(session, fn);
    s.cancel.store(true, std::memory_order_relaxed);
    s.session.cancel();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_decode(ember_session* session, const ember_token* tokens, size_t n, int32_t pos0,
                                            int32_t seq_id, bool all_logits) {
  const char* fn = "ember_session_decode";
  return guard(fn, [&]() -> ember_status {
    ember_session& h = session_of(session, fn);
    require(tokens, fn, "tokens");
    Session& s = h.session;
    const SessionParams& sp = s.params();
    const int64_t n_vocab = s.n_vocab();
    // Checked here for the whole batch, so a bad entry in a later chunk cannot
    // leave the earlier chunks in the cache.
    if (n == 0) throw Error(ErrorKind::InvalidArgument, where(fn) + "n is 0 (nothing to decode)");
    if (pos0 < 0)
      throw Error(ErrorKind::InvalidArgument, where(fn) + "pos0 is negative (" + std::to_string(pos0) + ")");
    if (int64_t(n) > int64_t(sp.n_ctx) - pos0)
      throw Error(ErrorKind::InvalidArgument, where(fn) + std::to_string(n) + " tokens from position " +
                                                  std::to_string(pos0) + " do not fit the context of " +
                                                  std::to_string(sp.n_ctx));
    if (seq_id < 0 || seq_id >= sp.n_seq_max)
      throw Error(ErrorKind::InvalidArgument, where(fn) + "seq_id " + std::to_string(seq_id) +
                                                  " is out of range (n_seq_max " + std::to_string(sp.n_seq_max) + ")");
    for (size_t i = 0; i < n; ++i)
      if (tokens[i] < 0 || tokens[i] >= n_vocab)
        throw Error(ErrorKind::InvalidArgument, where(fn) + "tokens[" + std::to_string(i) + "] = " +
                                                    std::to_string(tokens[i]) + " is out of range (n_vocab " +
                                                    std::to_string(n_vocab) + ")");

    const size_t chunk = size_t(std::max(1, sp.n_batch));
    const bool gather = all_logits && n > chunk;
    h.cancel.store(false, std::memory_order_relaxed);
    h.own_logits = true;  // until this call succeeds, no rows are readable
    h.n_logit_rows = 0;
    if (gather) h.logits.resize(n * size_t(n_vocab));

    Batch batch;
    batch.entries.reserve(std::min(n, chunk));
    for (size_t b = 0; b < n; b += chunk) {
      if (b > 0 && h.cancel.load(std::memory_order_relaxed))
        return fail(EMBER_ERR_CANCELLED, fn,
                    where(fn) + "cancelled after " + std::to_string(b) + " of " + std::to_string(n) +
                        " tokens (those stay in the KV cache)");
      const size_t e = std::min(n, b + chunk);
      batch.clear();
      for (size_t i = b; i < e; ++i) batch.add(tokens[i], pos0 + int32_t(i), seq_id, all_logits || i + 1 == n);
      s.decode(batch);
      if (gather)
        for (size_t i = b; i < e; ++i) {
          const std::span<const float> row = s.logits(int(i - b));
          std::copy(row.begin(), row.end(), h.logits.begin() + ptrdiff_t(i * size_t(n_vocab)));
        }
    }
    h.own_logits = gather;
    h.n_logit_rows = all_logits ? int32_t(n) : 1;
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_n_outputs(const ember_session* session, int32_t* out) {
  const char* fn = "ember_session_n_outputs";
  return guard(fn, [&]() -> ember_status {
    const ember_session& h = session_of(session, fn);
    require(out, fn, "out");
    *out = h.own_logits ? h.n_logit_rows : h.session.n_outputs();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_logits(const ember_session* session, int32_t i, const float** out,
                                            size_t* out_n) {
  const char* fn = "ember_session_logits";
  return guard(fn, [&]() -> ember_status {
    const ember_session& h = session_of(session, fn);
    require(out, fn, "out");
    *out = nullptr;
    if (out_n) *out_n = 0;
    if (!h.own_logits) {
      const std::span<const float> row = h.session.logits(i);
      *out = row.data();
      if (out_n) *out_n = row.size();
      return EMBER_OK;
    }
    const int32_t idx = i < 0 ? h.n_logit_rows + i : i;
    if (idx < 0 || idx >= h.n_logit_rows)
      throw Error(ErrorKind::InvalidArgument, where(fn) + "row " + std::to_string(i) + ": the last decode kept " +
                                                  std::to_string(h.n_logit_rows) + " rows of logits");
    const size_t n_vocab = size_t(h.session.n_vocab());
    *out = h.logits.data() + size_t(idx) * n_vocab;
    if (out_n) *out_n = n_vocab;
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_embed(ember_session* session, const ember_token* tokens, size_t n,
                                           bool normalize, float* out, size_t out_size, size_t* out_n) {
  const char* fn = "ember_session_embed";
  return guard(fn, [&]() -> ember_status {
    ember_session& h = session_of(session, fn);
    if (out_n) *out_n = 0;
    if (n > 0) require(tokens, fn, "tokens");
    const std::vector<float> v = h.session.embed(std::span<const int32_t>(tokens, n), normalize);
    h.own_logits = false;
    h.n_logit_rows = 0;
    if (out_n) *out_n = v.size();
    if (!out || out_size < v.size())
      return fail(EMBER_ERR_BUFFER_TOO_SMALL, fn,
                  where(fn) + "out holds " + std::to_string(out_size) + " floats; the embedding has " +
                      std::to_string(v.size()));
    std::copy(v.begin(), v.end(), out);
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_kv_clear(ember_session* session) {
  const char* fn = "ember_session_kv_clear";
  return guard(fn, [&]() -> ember_status {
    session_of(session, fn).session.kv_clear();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_kv_remove(ember_session* session, int32_t seq, int32_t p0, int32_t p1) {
  const char* fn = "ember_session_kv_remove";
  return guard(fn, [&]() -> ember_status {
    session_of(session, fn).session.kv_remove(seq, p0, p1);
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_kv_keep_seq(ember_session* session, int32_t seq) {
  const char* fn = "ember_session_kv_keep_seq";
  return guard(fn, [&]() -> ember_status {
    session_of(session, fn).session.kv_keep_seq(seq);
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_kv_copy(ember_session* session, int32_t src_seq, int32_t dst_seq, int32_t p0,
                                             int32_t p1) {
  const char* fn = "ember_session_kv_copy";
  return guard(fn, [&]() -> ember_status {
    session_of(session, fn).session.kv_copy(src_seq, dst_seq, p0, p1);
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_kv_pos_max(const ember_session* session, int32_t seq, int32_t* out) {
  const char* fn = "ember_session_kv_pos_max";
  return guard(fn, [&]() -> ember_status {
    const ember_session& h = session_of(session, fn);
    require(out, fn, "out");
    *out = h.session.kv_pos_max(seq);
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_session_kv_bytes(const ember_session* session, size_t* out) {
  const char* fn = "ember_session_kv_bytes";
  return guard(fn, [&]() -> ember_status {
    const ember_session& h = session_of(session, fn);
    require(out, fn, "out");
    *out = h.session.kv_bytes();
    return EMBER_OK;
  });
}

}  // extern "C"
