// gemma3: the sliding window's exact reach and its chunked decode path on a
// tiny gemma3 file made from the tiny llama (always present), and parity with
// llama.cpp on the real Gemma 3 270M Q4_K_M (scripts/fetch-models --gemma,
// in ~/.cache/ember/models or $EMBER_MODEL_DIR; skipped with a message when
// absent): prompt tokens, top-20 logits, greedy text, and a prompt longer
// than the 512-token window.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/model.h"
#include "ember/session.h"

using namespace ember;
namespace fs = std::filesystem;

// Counts allocations of this test program, to check that decoding does none.
// Not under AddressSanitizer, which has its own operator new. (GCC 12, once it
// inlines nlohmann::json, takes this malloc/free pair for a mismatch.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
static std::atomic<long> g_allocations{0};
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCountsAllocations = false;
#else
constexpr bool kCountsAllocations = true;
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

// ---- the tiny gemma3 -------------------------------------------------------

/// A temporary file removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".gguf")).string()) {}
  ~TempFile() { std::remove(path.c_str()); }
};

/// tiny-llama-f16 (4 layers, all local under gemma3's 5-in-6 pattern) as a
/// gemma3 file with the given window; QK and post norms are weights near 1.
void write_tiny_gemma3(const std::string& path, uint32_t window) {
  const gguf::File src = gguf::File::open(EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : src.metadata()) w.set(k.rfind("llama.", 0) == 0 ? "gemma3." + k.substr(6) : k, v);
  w.set("general.architecture", gguf::Value::string("gemma3"));
  w.set("gemma3.attention.sliding_window", gguf::Value::u32(window));
  std::vector<float> head(32), embd(256);
  for (size_t i = 0; i < head.size(); ++i) head[i] = 1.0f + 0.01f * float(i % 7);
  for (size_t i = 0; i < embd.size(); ++i) embd[i] = 0.5f + 0.01f * float(i % 13);
  for (const gguf::TensorInfo& t : src.tensors()) {
    w.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
    if (t.name.find("attn_norm.weight") == std::string::npos) continue;
    const std::string blk = t.name.substr(0, t.name.find("attn_norm"));
    w.add_tensor(blk + "attn_q_norm.weight", DType::F32, {32}, head.data(), 32 * 4);
    w.add_tensor(blk + "attn_k_norm.weight", DType::F32, {32}, head.data(), 32 * 4);
    w.add_tensor(blk + "post_attention_norm.weight", DType::F32, {256}, embd.data(), 256 * 4);
    w.add_tensor(blk + "post_ffw_norm.weight", DType::F32, {256}, embd.data(), 256 * 4);
  }
  w.write(path);
}

std::vector<int32_t> some_tokens(size_t n) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = int32_t(3 + (i * 7919) % 31000);
  return t;
}

std::vector<float> last_logits(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& tokens, int n_ctx,
                               int threads = 2, DType kv = DType::F16) {
  Session s(m, {.n_ctx = n_ctx, .n_threads = threads, .kv_type = kv});
  s.decode(Batch::from_tokens(tokens));
  return {s.logits(-1).begin(), s.logits(-1).end()};
}

double stddev(std::span<const float> x) {
  double s = 0, s2 = 0;
  for (float v : x) s += v, s2 += double(v) * v;
  const double mean = s / double(x.size());
  return std::sqrt(std::max(0.0, s2 / double(x.size()) - mean * mean));
}

/// max |a - b| / std(b)
double diff_ratio(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  return m / stddev(b);
}

bool all_finite(std::span<const float> x) {
  return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

// ---- the real model --------------------------------------------------------

std::string gemma_path() {
  const char* dir = std::getenv("EMBER_MODEL_DIR");
  const char* home = std::getenv("HOME");
  const std::string base = dir && *dir ? dir : std::string(home ? home : "") + "/.cache/ember/models";
  return base + "/gemma-3-270m-q4_k_m.gguf";
}

std::shared_ptr<const Model> gemma_or_skip() {
  static std::shared_ptr<const Model> m = [] {
    const std::string path = gemma_path();
    return fs::exists(path) ? Model::load(path) : nullptr;
  }();
  if (!m) MESSAGE("skipped: " << gemma_path() << " not found (run scripts/fetch-models --gemma)");
  return m;
}

nlohmann::json reference() {
  std::ifstream in(EMBER_TEST_DATA_DIR "/reference/gemma3_greedy.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

int32_t argmax(std::span<const float> x) { return int32_t(std::max_element(x.begin(), x.end()) - x.begin()); }

GenerateParams greedy(int n) {
  GenerateParams p;
  p.sampling.temperature = 0;
  p.n_predict = n;
  return p;
}

}  // namespace

TEST_CASE("gemma3: a tiny gemma3 file loads with its window, 5-in-6 local layers, post-norms and head-size scale") {
  TempFile f("ember-gemma3-tiny");
  write_tiny_gemma3(f.path, 8);
  const auto m = Model::load(f.path);
  const ModelConfig& c = m->config();
  CHECK(c.arch == "gemma3");
  CHECK(c.rope_type == RopeType::Neox);
  CHECK(c.n_swa == 8);
  CHECK(c.swa_period == 6);
  CHECK(c.rope_freq_base_swa == 10000.0f);
  CHECK(c.attn_scale == doctest::Approx(1.0 / std::sqrt(32.0)));
  CHECK(c.final_logit_softcap == 0.0f);
  CHECK(all_finite(last_logits(m, some_tokens(20), 32)));
}

TEST_CASE("gemma3: a tiny gemma3 without its post-norms is rejected naming the tensor") {
  TempFile f("ember-gemma3-nopost");
  const gguf::File src = gguf::File::open(EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : src.metadata()) w.set(k.rfind("llama.", 0) == 0 ? "gemma3." + k.substr(6) : k, v);
  w.set("general.architecture", gguf::Value::string("gemma3"));
  std::vector<float> ones(32, 1.0f);
  for (const gguf::TensorInfo& t : src.tensors()) {
    w.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
    if (t.name.find("attn_norm.weight") == std::string::npos) continue;
    const std::string blk = t.name.substr(0, t.name.find("attn_norm"));
    w.add_tensor(blk + "attn_q_norm.weight", DType::F32, {32}, ones.data(), 32 * 4);
    w.add_tensor(blk + "attn_k_norm.weight", DType::F32, {32}, ones.data(), 32 * 4);
  }
  w.write(f.path);
  std::string err;
  try {
    Model::load(f.path);
  } catch (const Error& e) {
    err = e.what();
  }
  CHECK(err == "[model] tensor 'blk.0.post_attention_norm.weight' missing");
}

TEST_CASE("gemma3: an unknown architecture's error lists gemma3 among the supported ones") {
  TempFile f("ember-gemma3-foo");
  const gguf::File src = gguf::File::open(EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  w.set("general.architecture", gguf::Value::string("foo"));
  w.write(f.path);
  std::string err;
  try {
    Model::load(f.path);
  } catch (const Error& e) {
    err = e.what();
  }
  CHECK(err == "[model] architecture 'foo' is not supported (supported: llama, qwen2, qwen3, gemma3)");
}

TEST_CASE("gemma3: a query sees exactly the keys less than the window behind it") {
  // 4 local layers of window W: the last position p depends on the tokens at
  // p - 4 (W - 1) and later, and on nothing before. Changing the token just
  // outside leaves its logits bit-identical; just inside changes them. Both
  // the prompt as one batch (tiles of many queries) and token by token.
  constexpr int W = 8, N = 40, p = N - 1, reach = 4 * (W - 1);
  TempFile f("ember-gemma3-window");
  write_tiny_gemma3(f.path, W);
  const auto m = Model::load(f.path);
  const auto base = some_tokens(N);
  auto with = [&](int pos) {
    auto t = base;
    t[size_t(pos)] = 1234;
    return t;
  };
  auto one_by_one = [&](const std::vector<int32_t>& t) {
    Session s(m, {.n_ctx = 64, .n_threads = 2});
    for (int i = 0; i < N; ++i) {
      Batch b;
      b.add(t[size_t(i)], i, 0, i == N - 1);
      s.decode(b);
    }
    return std::vector<float>(s.logits(-1).begin(), s.logits(-1).end());
  };
  const auto ref = last_logits(m, base, 64);
  const auto outside = last_logits(m, with(p - reach - 1), 64);
  const auto inside = last_logits(m, with(p - reach), 64);
  CHECK(std::memcmp(outside.data(), ref.data(), ref.size() * 4) == 0);
  CHECK(diff_ratio(inside, ref) > 1e-4);
  MESSAGE("changing the farthest token in reach moves the logits by " << diff_ratio(inside, ref) << " x std");

  const auto ref1 = one_by_one(base);
  CHECK(std::memcmp(one_by_one(with(p - reach - 1)).data(), ref1.data(), ref1.size() * 4) == 0);
  CHECK(diff_ratio(one_by_one(with(p - reach)), ref1) > 1e-4);
  CHECK(diff_ratio(ref1, ref) < 2e-2);  // one batch and token by token agree

  // With a window wider than the context, even the first token reaches the last one.
  TempFile g("ember-gemma3-wide");
  write_tiny_gemma3(g.path, 4096);
  const auto wide = Model::load(g.path);
  CHECK(diff_ratio(last_logits(wide, with(0), 64), last_logits(wide, base, 64)) > 1e-4);
}

TEST_CASE("gemma3: a token decoded over a long context with a window (chunked cells) matches the batch path") {
  // Window 4200 at position 5000: cells 801..5000, more than two 2048-cell
  // chunks, so a lone token splits them (chunks start at the window, not at
  // cell 0); first in a 5-token batch it does not. Sequences 0/1 hold the
  // context, 2/3 the same with holes inside the window across a chunk boundary.
  TempFile f("ember-gemma3-chunks");
  write_tiny_gemma3(f.path, 4200);
  const auto m = Model::load(f.path);
  const auto ctx = some_tokens(5000);
  const int pos = int(ctx.size());
  auto next_logits = [&](Session& s, int seq, int batch) {
    Batch next;
    for (int i = 0; i < batch; ++i) next.add(500 + i, pos + i, seq, i == 0);
    s.decode(next);
    return std::vector<float>(s.logits(0).begin(), s.logits(0).end());
  };
  for (DType kv : {DType::F16, DType::Q8_0}) {
    CAPTURE(std::string(dtype_name(kv)));
    Session s(m, {.n_ctx = 5024, .n_threads = 2, .kv_type = kv, .n_seq_max = 4});
    s.decode(Batch::from_tokens(ctx));
    for (int q = 1; q < 4; ++q) s.kv_copy(0, q);
    s.kv_remove(2, 2000, 3200);
    s.kv_remove(3, 2000, 3200);
    const auto chunked = next_logits(s, 0, 1), plain = next_logits(s, 1, 5);
    const auto chunked_hole = next_logits(s, 2, 1), plain_hole = next_logits(s, 3, 5);
    for (const auto* l : {&chunked, &plain, &chunked_hole, &plain_hole}) CHECK(all_finite(*l));
    const double d = diff_ratio(chunked, plain), dh = diff_ratio(chunked_hole, plain_hole);
    MESSAGE("chunked vs plain: " << d << " x std; with holes: " << dh << " x std");
    CHECK(d > 0);  // the lone token did take the other path
    CHECK(d < 2e-2);
    CHECK(dh < 2e-2);
    CHECK(diff_ratio(chunked, chunked_hole) > 1e-3);  // the holes were noticed
  }
}

TEST_CASE("gemma3: decoding a token allocates nothing once the session is warm") {
  if (!kCountsAllocations) {
    MESSAGE("skipped: allocations are not counted under AddressSanitizer");
    return;
  }
  TempFile f("ember-gemma3-alloc");
  write_tiny_gemma3(f.path, 8);
  Session s(Model::load(f.path), {.n_ctx = 64, .n_threads = 2});
  s.decode(Batch::from_tokens(some_tokens(20)));
  Batch b;
  b.add(100, 20, 0, true);
  s.decode(b);  // warm: the logits buffer has its size
  for (int step = 1; step < 4; ++step) {
    b.entries[0] = {int32_t(100 + step), 20 + step, 0, true};
    const long before = g_allocations.load();
    s.decode(b);
    CHECK(g_allocations.load() - before == 0);
  }
}

TEST_CASE("gemma3: Gemma 3 270M's hyper-parameters") {
  const auto m = gemma_or_skip();
  if (!m) return;
  const ModelConfig& c = m->config();
  CHECK(c.arch == "gemma3");
  CHECK(c.n_layer == 18);
  CHECK(c.n_embd == 640);
  CHECK(c.n_head == 4);
  CHECK(c.n_head_kv == 1);
  CHECK(c.head_dim == 256);
  CHECK(c.n_ff == 2048);
  CHECK(c.n_vocab == 262144);
  CHECK(c.n_swa == 512);
  CHECK(c.swa_period == 6);
  CHECK(c.rope_freq_base == 1e6f);
  CHECK(c.rope_freq_base_swa == 10000.0f);
  CHECK(c.rope_freq_scale == 1.0f);
  CHECK(c.attn_scale == 1.0f / 16.0f);
  CHECK(c.final_logit_softcap == 0.0f);
  CHECK(c.norm_eps == doctest::Approx(1e-6));
  CHECK(c.tied_embeddings);
}

TEST_CASE("gemma3: ember's prompt tokens equal llama.cpp's") {
  const auto m = gemma_or_skip();
  if (!m) return;
  const nlohmann::json ref = reference();
  for (const auto& c : ref["cases"]) {
    const std::string prompt = c["prompt"].get<std::string>();
    CAPTURE(prompt.substr(0, 40));
    CHECK(m->tokenizer().encode(prompt, true, false) == c["prompt_tokens"].get<std::vector<int32_t>>());
  }
}

TEST_CASE("gemma3: the top-20 logits at the last prompt position are close to llama.cpp's") {
  const auto m = gemma_or_skip();
  if (!m) return;
  const nlohmann::json ref = reference();
  for (const auto& c : ref["cases"]) {
    const auto prompt = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto ids = c["top_ids"].get<std::vector<int32_t>>();
    const auto want = c["top_logits"].get<std::vector<double>>();
    const double ref_std = c["logit_std"].get<double>();
    CAPTURE(prompt.size());
    const auto got = last_logits(m, prompt, 1024);
    double worst = 0;
    for (size_t i = 0; i < ids.size(); ++i) worst = std::max(worst, std::fabs(double(got[size_t(ids[i])]) - want[i]));
    MESSAGE(prompt.size() << "-token prompt: top-20 logits within " << worst << " of llama.cpp's (" << worst / ref_std
                          << " x std " << ref_std << "), ember's std " << stddev(got));
    // llama.cpp itself moves these logits by up to 0.17 x std between its
    // batched prompt and the prompt fed one token at a time, and rounding alone
    // moves ember's as far: on the 670-token prompt (beyond the 512-token
    // window) the scalar kernels give 0.21, AVX2 0.14 (-O3) to 0.26 (-O2 with
    // sanitizers, where GCC fuses other multiply-adds), AVX-512 0.18 to 0.32.
    // The limit sits above that spread; the greedy tests below check the text.
    CHECK(worst / ref_std < 0.4);
    CHECK(argmax(got) == ids[0]);
  }
}

TEST_CASE("gemma3: greedy text equals llama.cpp's up to its first close call (margin < 0.3)") {
  const auto m = gemma_or_skip();
  if (!m) return;
  const nlohmann::json ref = reference();
  for (const auto& c : ref["cases"]) {
    const std::string prompt = c["prompt"].get<std::string>();
    const auto prompt_tokens = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto want = c["greedy_tokens"].get<std::vector<int32_t>>();
    const auto margin = c["greedy_margin"].get<std::vector<double>>();
    CAPTURE(prompt.substr(0, 40));
    size_t n_check = 0;
    while (n_check < want.size() && margin[n_check] >= 0.3) ++n_check;
    Session s(m, {.n_ctx = 1024, .n_threads = 2});
    const GenerateResult r = s.generate(prompt, greedy(int(want.size())));
    REQUIRE(r.tokens.size() >= n_check);
    size_t same = 0;
    while (same < std::min(r.tokens.size(), want.size()) && r.tokens[same] == want[same]) ++same;
    for (size_t i = 0; i < n_check; ++i) CHECK_MESSAGE(r.tokens[i] == want[i], "step " << i);
    MESSAGE(prompt_tokens.size() << "-token prompt: identical to llama.cpp for " << same << " of " << want.size()
                                 << " tokens (first close call at step " << n_check << "): \"" << r.text << "\"");
  }
}

TEST_CASE("gemma3: with llama.cpp's tokens fed back, greedy choices agree wherever its margin is clear") {
  // Teacher forcing: one close call does not end the comparison; steps whose
  // top-1/top-2 gap is below 0.5 are not compared (ember and llama.cpp round
  // quantized activations differently).
  const auto m = gemma_or_skip();
  if (!m) return;
  constexpr double kMarginMin = 0.5;
  const nlohmann::json ref = reference();
  for (const auto& c : ref["cases"]) {
    const auto prompt = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto want = c["greedy_tokens"].get<std::vector<int32_t>>();
    const auto margin = c["greedy_margin"].get<std::vector<double>>();
    CAPTURE(prompt.size());
    Session s(m, {.n_ctx = 1024, .n_threads = 2});
    s.decode(Batch::from_tokens(prompt));
    int pos = int(prompt.size()), compared = 0;
    for (size_t step = 0; step < want.size(); ++step) {
      if (margin[step] >= kMarginMin) {
        CHECK_MESSAGE(argmax(s.logits(-1)) == want[step], "step " << step << " (margin " << margin[step] << ")");
        ++compared;
      }
      Batch b;
      b.add(want[step], pos++, 0, true);
      s.decode(b);
    }
    MESSAGE(prompt.size() << "-token prompt: " << compared << " of " << want.size()
                          << " greedy steps compared with llama.cpp's");
    CHECK(compared >= 16);
  }
}
