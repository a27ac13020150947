// Model loading and Session decoding on the tiny random llama: configuration,
// progress, load errors, determinism across threads and batch splits, KV
// types, multi-sequence batches and invalid input.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/model.h"
#include "ember/session.h"

using namespace ember;
namespace fs = std::filesystem;

// Counts allocations of this test program, to check that decoding does none.
// Not under AddressSanitizer, which has its own operator new.
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

const std::string kTiny = EMBER_SHARED_DIR "/testdata/models/tiny-llama-";

std::shared_ptr<const Model> tiny(const std::string& type = "Q4_K_M") { return Model::load(kTiny + type + ".gguf"); }

// "Once upon a time, there was a little robot who" with BOS, as the reference files hold it.
const std::vector<int32_t> kPrompt = {1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217, 19964, 1058};

std::vector<std::vector<float>> decode_all(Session& s, const std::vector<int32_t>& tokens, int pos0 = 0, int seq = 0) {
  Batch b;
  for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], pos0 + int32_t(i), seq, true);
  s.decode(b);
  std::vector<std::vector<float>> out;
  for (int i = 0; i < s.n_outputs(); ++i) out.emplace_back(s.logits(i).begin(), s.logits(i).end());
  return out;
}

std::vector<float> decode_one(Session& s, int32_t token, int pos, int seq = 0) {
  Batch b;
  b.add(token, pos, seq, true);
  s.decode(b);
  return {s.logits(0).begin(), s.logits(0).end()};
}

double stddev(const std::vector<float>& x) {
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

/// A temporary file removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".gguf")).string()) {}
  ~TempFile() { std::remove(path.c_str()); }
};

struct TensorEdit {
  bool drop = false;
  std::optional<DType> type;
  std::optional<std::vector<int64_t>> shape;
};

/// Writes tiny-llama-f16 with some metadata keys replaced and some tensors dropped or re-declared
/// (a re-declared tensor keeps the leading bytes of its data).
void write_variant(const std::string& path, const std::map<std::string, gguf::Value>& keys,
                   const std::map<std::string, TensorEdit>& edits) {
  const gguf::File src = gguf::File::open(kTiny + "f16.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : src.metadata()) w.set(k, keys.count(k) ? keys.at(k) : v);
  for (const auto& [k, v] : keys)
    if (!src.find(k)) w.set(k, v);
  for (const gguf::TensorInfo& t : src.tensors()) {
    const auto it = edits.find(t.name);
    if (it == edits.end()) {
      w.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
      continue;
    }
    if (it->second.drop) continue;
    const DType type = it->second.type.value_or(t.type);
    const std::vector<int64_t> shape = it->second.shape.value_or(t.shape);
    uint64_t n = 1;
    for (int64_t d : shape) n *= uint64_t(d);
    const uint64_t bytes = *dtype_row_bytes(type, n);
    REQUIRE(bytes <= t.n_bytes);
    w.add_tensor_ref(t.name, type, shape, t.data, bytes);
  }
  w.write(path);
}

std::string load_error(const std::string& path) {
  try {
    Model::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded)";
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("model: the tiny llama's hyper-parameters come from its llama.* keys") {
  const auto m = tiny("f16");
  const ModelConfig& c = m->config();
  CHECK(c.arch == "llama");
  CHECK(c.n_vocab == 32000);
  CHECK(c.n_ctx_train == 1024);
  CHECK(c.n_embd == 256);
  CHECK(c.n_layer == 4);
  CHECK(c.n_head == 8);
  CHECK(c.n_head_kv == 4);
  CHECK(c.head_dim == 32);
  CHECK(c.head_dim_v == 32);
  CHECK(c.n_ff == 768);
  CHECK(c.n_rot == 32);
  CHECK(c.rope_type == RopeType::Normal);
  CHECK(c.rope_freq_base == 10000.0f);
  CHECK(c.rope_freq_scale == 1.0f);
  CHECK(c.norm_eps == doctest::Approx(1e-5));
  CHECK(c.tied_embeddings);
  CHECK(c.weight_type == DType::F16);
  CHECK(m->description().find("llama") != std::string::npos);
  CHECK(!m->chat_template().has_value());
  CHECK(m->default_n_threads() >= 1);
  REQUIRE(m->has_tokenizer());
  CHECK(m->tokenizer().n_vocab() == 32000);
  CHECK(m->tokenizer().bos() == 1);
}

TEST_CASE("model: on_progress runs from 0 to 1, and returning false cancels the load") {
  std::vector<float> seen;
  ModelParams p;
  p.on_progress = [&](float f) {
    seen.push_back(f);
    return true;
  };
  Model::load(kTiny + "Q8_0.gguf", p);
  REQUIRE(seen.size() >= 3);
  CHECK(seen.front() == 0.0f);
  CHECK(seen.back() == 1.0f);
  CHECK(std::is_sorted(seen.begin(), seen.end()));

  int calls = 0;
  p.on_progress = [&](float f) { return ++calls < 3; };
  const std::string err = error_of([&] { Model::load(kTiny + "Q8_0.gguf", p); });
  CHECK(err.find("[model]") != std::string::npos);
  CHECK(err.find("cancelled") != std::string::npos);
  CHECK(calls == 3);
  calls = 0;
  try {
    Model::load(kTiny + "Q8_0.gguf", p);
    FAIL("a cancelled load returned");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Cancelled);
  }
}

TEST_CASE("model: vocab_only loads the tokenizer and no weights; a session refuses it") {
  const auto m = Model::load(kTiny + "Q4_0.gguf", {.vocab_only = true});
  CHECK(m->vocab_only());
  CHECK(m->config().n_vocab == 32000);
  CHECK(m->tokenizer().n_vocab() == 32000);
  CHECK_THROWS_AS(m->weights(), Error);
  CHECK(error_of([&] { Session s(m); }).find("vocab_only") != std::string::npos);
}

TEST_CASE("model: vocabulary-only files of any architecture load with vocab_only, and fail to load as models") {
  const std::string dir = EMBER_SHARED_DIR "/testdata/tokenizer/ggml-vocab-";
  for (const char* name : {"gpt-2", "bert-bge", "phi-3", "llama-spm"}) {
    CAPTURE(std::string(name));
    const auto m = Model::load(dir + name + ".gguf", {.vocab_only = true});
    CHECK(m->vocab_only());
    CHECK(m->config().n_vocab == m->tokenizer().n_vocab());
    CHECK(m->description().find("vocab") != std::string::npos);
    CHECK_THROWS_AS(Model::load(dir + name + ".gguf"), Error);
  }
  // (later architectures extend the list)
  CHECK(load_error(dir + "gpt-2.gguf").rfind("[model] architecture 'gpt2' is not supported (supported: llama, qwen2, qwen3", 0) == 0);
  CHECK(load_error(dir + "llama-spm.gguf").find("missing") != std::string::npos);
}

TEST_CASE("model: load errors name the architecture, the tensor, its shape or its type") {
  SUBCASE("unknown architecture") {
    TempFile f("ember-arch");
    write_variant(f.path, {{"general.architecture", gguf::Value::string("foo")}}, {});
    CHECK(load_error(f.path).rfind("[model] architecture 'foo' is not supported (supported: llama, qwen2, qwen3", 0) == 0);
  }
  SUBCASE("missing tensor") {
    TempFile f("ember-missing");
    write_variant(f.path, {}, {{"blk.3.attn_q.weight", {.drop = true}}});
    CHECK(load_error(f.path) == "[model] tensor 'blk.3.attn_q.weight' missing");
  }
  SUBCASE("wrong shape") {
    TempFile f("ember-shape");
    write_variant(f.path, {}, {{"blk.2.ffn_up.weight", {.shape = std::vector<int64_t>{256, 512}}}});
    CHECK(load_error(f.path) == "[model] tensor 'blk.2.ffn_up.weight' has shape [256, 512], expected [256, 768]");
  }
  SUBCASE("a type ember cannot compute with") {
    TempFile f("ember-type");
    write_variant(f.path, {}, {{"blk.0.attn_k.weight", {.type = DType::IQ2_XXS}}});
    CHECK(load_error(f.path) == "[model] tensor 'blk.0.attn_k.weight' has type iq2_xxs, which ember cannot compute with");
  }
  SUBCASE("missing hyper-parameter") {
    TempFile f("ember-key");
    write_variant(f.path, {{"general.architecture", gguf::Value::string("qwen2")}}, {});
    // The llama.* keys do not describe a qwen2 model.
    CHECK(load_error(f.path).find("key 'qwen2.embedding_length' missing") != std::string::npos);
  }
  SUBCASE("qwen2 needs q/k/v biases") {
    TempFile f("ember-qwen2");
    std::map<std::string, gguf::Value> keys;
    const gguf::File src = gguf::File::open(kTiny + "f16.gguf");
    for (const auto& [k, v] : src.metadata())
      if (k.rfind("llama.", 0) == 0) keys["qwen2." + k.substr(6)] = v;
    keys["general.architecture"] = gguf::Value::string("qwen2");
    write_variant(f.path, keys, {});
    CHECK(load_error(f.path) == "[model] tensor 'blk.0.attn_q.bias' missing");
  }
  SUBCASE("unsupported rope scaling") {
    TempFile f("ember-yarn");
    write_variant(f.path, {{"llama.rope.scaling.type", gguf::Value::string("yarn")}}, {});
    CHECK(load_error(f.path).find("rope scaling type 'yarn' is not supported") != std::string::npos);
  }
}

TEST_CASE("model: linear rope scaling divides positions by the factor") {
  TempFile f("ember-linear");
  write_variant(f.path,
                {{"llama.rope.scaling.type", gguf::Value::string("linear")},
                 {"llama.rope.scaling.factor", gguf::Value::f32(2.0f)}},
                {});
  const auto scaled = Model::load(f.path);
  CHECK(scaled->config().rope_freq_scale == 0.5f);
  // Position 2p with scale 1/2 rotates like position p unscaled: with a
  // single token the attention only sees itself, so compare two tokens whose
  // relative distance halves.
  Session a(scaled, {.n_ctx = 64, .n_threads = 1});
  Session b(tiny("f16"), {.n_ctx = 64, .n_threads = 1});
  Batch ba, bb;
  ba.add(1, 0), ba.add(9038, 8, 0, true);
  bb.add(1, 0), bb.add(9038, 4, 0, true);
  a.decode(ba);
  b.decode(bb);
  const std::vector<float> la(a.logits(0).begin(), a.logits(0).end()), lb(b.logits(0).begin(), b.logits(0).end());
  CHECK(diff_ratio(la, lb) < 1e-3);
}

TEST_CASE("session: 1 and 2 threads give bit-identical logits") {
  const auto m = tiny("Q4_K_M");
  Session s1(m, {.n_ctx = 64, .n_threads = 1}), s2(m, {.n_ctx = 64, .n_threads = 2});
  const auto a = decode_all(s1, kPrompt), b = decode_all(s2, kPrompt);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) == 0);
  for (int step = 0; step < 4; ++step) {
    const int pos = int(kPrompt.size()) + step;
    const auto x = decode_one(s1, 1000 + step, pos), y = decode_one(s2, 1000 + step, pos);
    CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("session: a prompt in one batch, token by token and in n_batch chunks gives the same logits") {
  for (const char* type : {"f16", "Q8_0", "Q4_K_M"}) {
    CAPTURE(std::string(type));
    const auto m = tiny(type);
    Session whole(m, {.n_ctx = 64, .n_threads = 2});
    Session single(m, {.n_ctx = 64, .n_threads = 2});
    Session chunked(m, {.n_ctx = 64, .n_batch = 5, .n_threads = 2});
    const auto a = decode_all(whole, kPrompt);
    const auto c = decode_all(chunked, kPrompt);
    REQUIRE(c.size() == kPrompt.size());
    for (size_t i = 0; i < kPrompt.size(); ++i) {
      const auto b = decode_one(single, kPrompt[i], int(i));
      CHECK(diff_ratio(b, a[i]) <= 1e-4);
      CHECK(diff_ratio(c[i], a[i]) <= 1e-4);
    }
  }
}

TEST_CASE("session: only the entries that ask for logits get them, in batch order") {
  const auto m = tiny("Q8_0");
  Session all(m, {.n_ctx = 64}), some(m, {.n_ctx = 64});
  const auto ref = decode_all(all, kPrompt);
  Batch b;
  for (size_t i = 0; i < kPrompt.size(); ++i) b.add(kPrompt[i], int(i), 0, i == 3 || i == 7 || i + 1 == kPrompt.size());
  some.decode(b);
  REQUIRE(some.n_outputs() == 3);
  const auto row = [&](int i) { return std::vector<float>(some.logits(i).begin(), some.logits(i).end()); };
  CHECK(diff_ratio(row(0), ref[3]) <= 1e-5);
  CHECK(diff_ratio(row(1), ref[7]) <= 1e-5);
  CHECK(diff_ratio(row(2), ref.back()) <= 1e-5);
  CHECK(diff_ratio(row(-1), ref.back()) <= 1e-5);
  CHECK_THROWS_AS(some.logits(3), Error);
  CHECK_THROWS_AS(some.logits(-4), Error);
}

TEST_CASE("session: q8_0 and q4_0 KV caches run and stay close to f16") {
  // The random model amplifies small differences (see test_model_parity), so
  // this is a loose check; the real model's check is in test_model_smollm2.
  const auto m = tiny("f16");
  Session f16(m, {.n_ctx = 64}), q8(m, {.n_ctx = 64, .kv_type = DType::Q8_0}), q4(m, {.n_ctx = 64, .kv_type = DType::Q4_0});
  const auto a = decode_all(f16, kPrompt), b = decode_all(q8, kPrompt), c = decode_all(q4, kPrompt);
  double worst8 = 0, worst4 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(all_finite(b[i]));
    CHECK(all_finite(c[i]));
    worst8 = std::max(worst8, diff_ratio(b[i], a[i]));
    worst4 = std::max(worst4, diff_ratio(c[i], a[i]));
  }
  MESSAGE("tiny-llama-f16 KV q8_0 vs f16: " << worst8 << " x std; q4_0 vs f16: " << worst4 << " x std");
  CHECK(worst8 < 0.3);
  CHECK(worst4 < 1.5);
  CHECK(q8.kv_bytes() < f16.kv_bytes());
  CHECK(q4.kv_bytes() < q8.kv_bytes());
}

TEST_CASE("session: invalid input throws before anything changes, and the session stays usable") {
  const auto m = tiny("Q4_0");
  Session s(m, {.n_ctx = 32, .n_seq_max = 2});
  Session ref(m, {.n_ctx = 32, .n_seq_max = 2});
  const auto want = decode_all(ref, {kPrompt.begin(), kPrompt.begin() + 6});

  auto bad = [&](Batch b) { return error_of([&] { s.decode(b); }); };
  Batch b;
  b.add(1, 0), b.add(32000, 1, 0, true);
  CHECK(bad(b) == "[session] batch entry 1: token id 32000 is out of range (n_vocab 32000)");
  b.clear(), b.add(-5, 0, 0, true);
  CHECK(bad(b) == "[session] batch entry 0: token id -5 is out of range (n_vocab 32000)");
  b.clear(), b.add(1, 31), b.add(2, 32, 0, true);
  CHECK(bad(b) == "[session] position 32 is beyond the context size 32");
  b.clear(), b.add(1, -1, 0, true);
  CHECK(bad(b) == "[session] batch entry 0: negative position -1");
  b.clear(), b.add(1, 0, 2, true);
  CHECK(bad(b) == "[session] batch entry 0: seq id 2 is out of range (n_seq_max 2)");
  b.clear(), b.add(1, 0, -1, true);
  CHECK(bad(b).find("seq id -1 is out of range") != std::string::npos);
  CHECK(bad(Batch{}) == "[session] empty batch");
  CHECK(s.n_outputs() == 0);
  CHECK(s.kv_pos_max(0) == -1);
  CHECK_THROWS_AS(s.logits(0), Error);
  CHECK(error_of([&] { s.kv_pos_max(5); }) == "[session] kv_pos_max: seq id 5 is out of range (n_seq_max 2)");
  CHECK_THROWS_AS(s.kv_remove(2), Error);
  CHECK_THROWS_AS(s.kv_copy(0, 3), Error);
  CHECK_THROWS_AS(s.kv_keep_seq(-1), Error);

  const auto got = decode_all(s, {kPrompt.begin(), kPrompt.begin() + 6});
  for (size_t i = 0; i < got.size(); ++i) CHECK(std::memcmp(got[i].data(), want[i].data(), got[i].size() * 4) == 0);
}

TEST_CASE("session: bad parameters are rejected naming the field") {
  const auto m = tiny("Q4_0");
  CHECK(error_of([&] { Session s(m, {.kv_type = DType::Q4_1}); }) ==
        "[session] kv_type 'q4_1' is not supported (supported: f16, q8_0, q4_0)");
  CHECK(error_of([&] { Session s(m, {.kv_type = DType::F32}); }).find("kv_type 'f32'") != std::string::npos);
  CHECK(error_of([&] { Session s(m, {.n_ctx = -1}); }).find("n_ctx") != std::string::npos);
  CHECK(error_of([&] { Session s(m, {.n_batch = 0}); }).find("n_batch") != std::string::npos);
  CHECK(error_of([&] { Session s(m, {.n_seq_max = 0}); }).find("n_seq_max") != std::string::npos);
  CHECK(error_of([&] { Session s(m, {.n_threads = -2}); }).find("n_threads") != std::string::npos);
  CHECK(error_of([&] { Session s(nullptr); }) == "[session] no model");
  Session d(m);
  CHECK(d.n_ctx() == 1024);  // min(n_ctx_train, 4096)
  CHECK(d.params().n_threads == m->default_n_threads());
  CHECK(d.n_vocab() == 32000);
}

TEST_CASE("session: sequences in one batch do not see each other") {
  const auto m = tiny("Q8_0");
  Session solo(m, {.n_ctx = 64});
  const auto a = decode_all(solo, kPrompt);
  solo.kv_clear();
  const std::vector<int32_t> other = {1, 450, 4996, 17354, 1701};
  const auto o = decode_all(solo, other);

  // Interleave the two prompts, each in its own sequence.
  Session two(m, {.n_ctx = 64, .n_seq_max = 2});
  Batch b;
  for (size_t i = 0; i < std::max(kPrompt.size(), other.size()); ++i) {
    if (i < kPrompt.size()) b.add(kPrompt[i], int(i), 0, true);
    if (i < other.size()) b.add(other[i], int(i), 1, true);
  }
  two.decode(b);
  int out = 0;
  for (size_t i = 0; i < std::max(kPrompt.size(), other.size()); ++i) {
    if (i < kPrompt.size()) {
      const std::vector<float> g(two.logits(out).begin(), two.logits(out).end());
      CHECK(diff_ratio(g, a[i]) <= 1e-5);
      ++out;
    }
    if (i < other.size()) {
      const std::vector<float> g(two.logits(out).begin(), two.logits(out).end());
      CHECK(diff_ratio(g, o[i]) <= 1e-5);
      ++out;
    }
  }
  CHECK(two.kv_pos_max(0) == int(kPrompt.size()) - 1);
  CHECK(two.kv_pos_max(1) == int(other.size()) - 1);
}

TEST_CASE("session: a prefix copied to another sequence continues like the original") {
  const auto m = tiny("Q4_K_M");
  for (DType kv : {DType::F16, DType::Q8_0, DType::Q4_0}) {
    CAPTURE(std::string(dtype_name(kv)));
    Session s(m, {.n_ctx = 64, .kv_type = kv, .n_seq_max = 3});
    decode_all(s, kPrompt);
    s.kv_copy(0, 2);
    CHECK(s.kv_pos_max(2) == int(kPrompt.size()) - 1);
    const int pos = int(kPrompt.size());
    const auto a = decode_one(s, 3000, pos, 0);
    const auto b = decode_one(s, 3000, pos, 2);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);

    // A partial copy: seq 1 gets positions [0, 5) and continues from there.
    s.kv_copy(0, 1, 0, 5);
    CHECK(s.kv_pos_max(1) == 4);
    Session fresh(m, {.n_ctx = 64, .kv_type = kv});
    decode_all(fresh, {kPrompt.begin(), kPrompt.begin() + 5});
    const auto c = decode_one(s, 777, 5, 1), d = decode_one(fresh, 777, 5, 0);
    CHECK(std::memcmp(c.data(), d.data(), c.size() * 4) == 0);

    s.kv_keep_seq(1);
    CHECK(s.kv_pos_max(0) == -1);
    CHECK(s.kv_pos_max(2) == -1);
    CHECK(s.kv_pos_max(1) == 5);
  }
}

TEST_CASE("session: removing the tail and decoding it again reproduces the logits") {
  const auto m = tiny("Q6_K");
  Session s(m, {.n_ctx = 64});
  const auto a = decode_all(s, kPrompt);
  CHECK(s.kv_pos_max(0) == int(kPrompt.size()) - 1);
  s.kv_remove(0, 7);
  CHECK(s.kv_pos_max(0) == 6);
  const auto b = decode_all(s, {kPrompt.begin() + 7, kPrompt.end()}, 7);
  for (size_t i = 0; i < b.size(); ++i) CHECK(std::memcmp(b[i].data(), a[7 + i].data(), b[i].size() * 4) == 0);
  s.kv_remove(-1);
  CHECK(s.kv_pos_max(0) == -1);
  s.kv_clear();
  CHECK(s.kv_pos_max(0) == -1);
}

TEST_CASE("session: positions with holes attend only to the cells that are there") {
  // Positions 0,1,2 then 5,6: cells 3 and 4 are empty and must not be read.
  const auto m = tiny("f16");
  const std::vector<int> pos = {0, 1, 2, 5, 6};
  Session whole(m, {.n_ctx = 32}), single(m, {.n_ctx = 32});
  Batch b;
  for (size_t i = 0; i < pos.size(); ++i) b.add(kPrompt[i], pos[i], 0, true);
  whole.decode(b);
  for (size_t i = 0; i < pos.size(); ++i) {
    const std::vector<float> w(whole.logits(int(i)).begin(), whole.logits(int(i)).end());
    CHECK(all_finite(w));
    CHECK(diff_ratio(decode_one(single, kPrompt[i], pos[i]), w) <= 1e-5);
  }
  // A removed cell in the middle is a hole too.
  Session gap(m, {.n_ctx = 32});
  decode_all(gap, {kPrompt.begin(), kPrompt.begin() + 5});
  gap.kv_remove(0, 3, 5);
  const auto g = decode_one(gap, kPrompt[5], 5);
  CHECK(all_finite(g));
}

TEST_CASE("session: decoding a token allocates nothing once the session is warm") {
  if (!kCountsAllocations) {
    MESSAGE("skipped: allocations are not counted under AddressSanitizer");
    return;
  }
  for (DType kv : {DType::F16, DType::Q4_0}) {
    CAPTURE(std::string(dtype_name(kv)));
    Session s(tiny("Q4_K_M"), {.n_ctx = 64, .n_threads = 2, .kv_type = kv});
    decode_all(s, kPrompt);
    Batch b;
    b.add(100, int(kPrompt.size()), 0, true);
    s.decode(b);  // warm: the logits buffer has its size
    for (int step = 1; step < 4; ++step) {
      b.entries[0] = {int32_t(100 + step), int32_t(kPrompt.size()) + step, 0, true};
      const long before = g_allocations.load();
      s.decode(b);
      CHECK(g_allocations.load() - before == 0);
    }
  }
}

namespace {

// llama.cpp's converter stores llama's Q/K rows permuted within each head
// (row 2i + half <- Hugging Face row half * head_dim/2 + i) so that rotating
// adjacent pairs equals Hugging Face's half-split rotation. Undoing that gives
// the layout qwen2/qwen3 files have, which need the NeoX rotation instead.
std::vector<uint16_t> unpermute_rows(const gguf::TensorInfo& t, int n_heads) {
  const int64_t n_in = t.shape[0], rows = t.shape[1], hd = rows / n_heads;
  const auto* src = reinterpret_cast<const uint16_t*>(t.data);
  std::vector<uint16_t> out(size_t(n_in * rows));
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < hd / 2; ++i)
      for (int half = 0; half < 2; ++half) {
        const int64_t from = h * hd + 2 * i + half, to = h * hd + half * hd / 2 + i;
        std::memcpy(out.data() + to * n_in, src + from * n_in, size_t(n_in) * 2);
      }
  return out;
}

/// tiny-llama-f16 as a qwen2 (zero or given biases) or qwen3 (unit QK norms) file.
void write_qwen(const std::string& path, const std::string& arch, float v_bias = 0.0f) {
  const gguf::File src = gguf::File::open(kTiny + "f16.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : src.metadata())
    w.set(k.rfind("llama.", 0) == 0 ? arch + "." + k.substr(6) : k, v);
  w.set("general.architecture", gguf::Value::string(arch));
  std::vector<float> zeros(256, 0.0f), ones(32, 1.0f), vb(128, v_bias);
  for (const gguf::TensorInfo& t : src.tensors()) {
    const bool q = t.name.find("attn_q.weight") != std::string::npos;
    const bool k = t.name.find("attn_k.weight") != std::string::npos;
    if (q || k) {
      const auto rows = unpermute_rows(t, q ? 8 : 4);
      w.add_tensor(t.name, t.type, t.shape, rows.data(), rows.size() * 2);
    } else {
      w.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
    }
    if (t.name.find("attn_norm.weight") == std::string::npos) continue;
    const std::string blk = t.name.substr(0, t.name.find("attn_norm"));
    if (arch == "qwen2") {
      w.add_tensor(blk + "attn_q.bias", DType::F32, {256}, zeros.data(), 256 * 4);
      w.add_tensor(blk + "attn_k.bias", DType::F32, {128}, zeros.data(), 128 * 4);
      w.add_tensor(blk + "attn_v.bias", DType::F32, {128}, vb.data(), 128 * 4);
    } else {
      w.add_tensor(blk + "attn_q_norm.weight", DType::F32, {32}, ones.data(), 32 * 4);
      w.add_tensor(blk + "attn_k_norm.weight", DType::F32, {32}, ones.data(), 32 * 4);
    }
  }
  w.write(path);
}

}  // namespace

TEST_CASE("model: qwen2 (NeoX rotation of unpermuted Q/K) reproduces the llama logits; biases and qwen3's QK norms act") {
  Session llama(tiny("f16"), {.n_ctx = 32});
  const auto want = decode_all(llama, kPrompt);

  TempFile q2("ember-qwen2");
  write_qwen(q2.path, "qwen2");
  const auto m2 = Model::load(q2.path);
  CHECK(m2->config().rope_type == RopeType::Neox);
  Session s2(m2, {.n_ctx = 32});
  const auto got = decode_all(s2, kPrompt);
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, diff_ratio(got[i], want[i]));
  MESSAGE("qwen2 layout vs llama layout: worst logit diff " << worst << " x std");
  CHECK(worst < 2e-2);

  TempFile q2b("ember-qwen2-bias");
  write_qwen(q2b.path, "qwen2", 0.5f);
  Session sb(Model::load(q2b.path), {.n_ctx = 32});
  const auto biased = decode_all(sb, kPrompt);
  CHECK(diff_ratio(biased.back(), want.back()) > 0.1);

  TempFile q3("ember-qwen3");
  write_qwen(q3.path, "qwen3");
  Session s3(Model::load(q3.path), {.n_ctx = 32});
  const auto normed = decode_all(s3, kPrompt);
  CHECK(all_finite(normed.back()));
  CHECK(diff_ratio(normed.back(), want.back()) > 0.1);
}

TEST_CASE("session: a token decoded over a long context (cells split into chunks) matches the unsplit batch path") {
  // One token alone over > 4096 cells takes the chunked path; the same token
  // first in a 5-token batch (later tokens cannot affect it) takes the plain
  // one. The context is sparse, so it is cheap: positions 0..63 and
  // 4100..4163; the chunk [2048, 4096) between them holds only holes.
  Batch ctx;
  for (int i = 0; i < 128; ++i) ctx.add(int32_t(3 + (i * 7919) % 31000), i < 64 ? i : 4036 + i);
  const int pos = 4164;
  auto next_logits = [&](Session& s, int seq, int batch) {
    Batch next;
    for (int i = 0; i < batch; ++i) next.add(500 + i, pos + i, seq, i == 0);
    s.decode(next);
    return std::vector<float>(s.logits(0).begin(), s.logits(0).end());
  };
  for (DType kv : {DType::F16, DType::Q8_0}) {
    CAPTURE(std::string(dtype_name(kv)));
    std::vector<float> chunked[2];
    for (int threads : {1, 2}) {
      Session s(tiny("f16"), {.n_ctx = 4224, .n_threads = threads, .kv_type = kv, .n_seq_max = 2});
      s.decode(ctx);
      s.kv_copy(0, 1);
      chunked[threads - 1] = next_logits(s, 0, 1);
      const auto plain = next_logits(s, 1, 5);
      CHECK(all_finite(chunked[threads - 1]));
      const double d = diff_ratio(chunked[threads - 1], plain);
      MESSAGE("chunked vs plain: " << d << " x std");
      CHECK(d < 2e-2);
      // The first chunk counts: without its cells the logits move.
      s.kv_remove(0, 0, 64);
      CHECK(diff_ratio(next_logits(s, 0, 1), chunked[threads - 1]) > 1e-2);
    }
    CHECK(std::memcmp(chunked[0].data(), chunked[1].data(), chunked[0].size() * 4) == 0);
  }
}
