// The real default model, SmolLM2-135M-Instruct Q4_1 (fetched by
// scripts/fetch-models into ~/.cache/ember/models or $EMBER_MODEL_DIR):
// finite logits, greedy decoding equal to llama.cpp's, and the quantized KV
// caches close to f16. Skipped with a message when the file is absent.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ember/model.h"
#include "ember/session.h"

using namespace ember;

namespace {

std::string model_path() {
  const char* dir = std::getenv("EMBER_MODEL_DIR");
  const char* home = std::getenv("HOME");
  const std::string base = dir && *dir ? dir : std::string(home ? home : "") + "/.cache/ember/models";
  return base + "/SmolLM2-135M-Instruct.Q4_1.gguf";
}

std::shared_ptr<const Model> load_or_skip() {
  const std::string path = model_path();
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not found (run scripts/fetch-models)");
    return nullptr;
  }
  return Model::load(path);
}

int32_t argmax(std::span<const float> x) { return int32_t(std::max_element(x.begin(), x.end()) - x.begin()); }

double stddev(std::span<const float> x) {
  double s = 0, s2 = 0;
  for (float v : x) s += v, s2 += double(v) * v;
  const double mean = s / double(x.size());
  return std::sqrt(std::max(0.0, s2 / double(x.size()) - mean * mean));
}

}  // namespace

TEST_CASE("smollm2: a forward pass gives finite logits") {
  const auto m = load_or_skip();
  if (!m) return;
  CHECK(m->config().arch == "llama");
  CHECK(m->config().n_layer == 30);
  CHECK(m->config().n_head_kv == 3);
  CHECK(m->config().tied_embeddings);
  CHECK(m->chat_template().has_value());
  Session s(m, {.n_ctx = 256, .n_threads = 2});
  const std::vector<int32_t> prompt = {504, 3575, 282, 4649, 314};  // "The capital of France is"
  s.decode(Batch::from_tokens(prompt));
  const auto l = s.logits(-1);
  REQUIRE(l.size() == 49152);
  CHECK(std::all_of(l.begin(), l.end(), [](float v) { return std::isfinite(v); }));
  CHECK(stddev(l) > 0.5);
  CHECK(argmax(l) == 7042);  // " Paris"
}

TEST_CASE("smollm2: greedy decoding agrees with llama.cpp wherever llama.cpp's choice was clear") {
  const auto m = load_or_skip();
  if (!m) return;
  std::ifstream in(EMBER_TEST_DATA_DIR "/reference/smollm2_greedy.json");
  REQUIRE(in.good());
  const auto ref = nlohmann::json::parse(in);
  // ember and llama.cpp (and ember's own scalar and SIMD kernels) differ by up
  // to ~0.3 in the top logits of this Q4_1 model: quantized activations round
  // differently after float sums taken in another order. Steps whose
  // top-1/top-2 gap is below this are not compared; llama.cpp's token is fed
  // back at every step (teacher forcing), so one close call does not end the check.
  constexpr double kMarginMin = 0.5;
  for (const auto& c : ref["cases"]) {
    const auto prompt = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto greedy = c["greedy_tokens"].get<std::vector<int32_t>>();
    const auto margin = c["greedy_margin"].get<std::vector<double>>();
    CAPTURE(c["prompt"].get<std::string>());
    Session s(m, {.n_ctx = 256, .n_threads = 2});
    s.decode(Batch::from_tokens(prompt));
    int pos = int(prompt.size()), compared = 0;
    for (size_t step = 0; step < greedy.size(); ++step) {
      if (margin[step] >= kMarginMin) {
        CHECK_MESSAGE(argmax(s.logits(-1)) == greedy[step], "step " << step << " (margin " << margin[step] << ")");
        ++compared;
      }
      Batch b;
      b.add(greedy[step], pos++, 0, true);
      s.decode(b);
    }
    MESSAGE(compared << " of " << greedy.size() << " greedy steps compared with llama.cpp's");
    CHECK(compared >= 16);
  }
}

TEST_CASE("smollm2: q8_0 and q4_0 KV caches stay close to f16") {
  const auto m = load_or_skip();
  if (!m) return;
  const std::vector<int32_t> prompt = {1604, 3987, 46477, 24, 94, 727, 472, 1620, 14362, 260, 304, 29, 373,
                                       24681, 46477, 1230, 7996, 198, 504, 3575, 282, 4649, 314};
  std::vector<std::vector<std::vector<float>>> out;  // [kv type][position][vocab]
  for (DType kv : {DType::F16, DType::Q8_0, DType::Q4_0}) {
    Session s(m, {.n_ctx = 128, .n_threads = 2, .kv_type = kv});
    Batch b;
    for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], int(i), 0, true);
    s.decode(b);
    out.emplace_back();
    for (int i = 0; i < s.n_outputs(); ++i) out.back().emplace_back(s.logits(i).begin(), s.logits(i).end());
  }
  // RMS of the logit error over the vocabulary / std, averaged over positions.
  // llama.cpp's own q8_0 / q4_0 caches measure 0.075 / 0.25 here.
  auto rms_ratio = [&](int t) {
    double sum = 0;
    for (size_t i = 0; i < prompt.size(); ++i) {
      double se = 0;
      for (size_t j = 0; j < out[0][i].size(); ++j) se += std::pow(double(out[t][i][j]) - out[0][i][j], 2);
      sum += std::sqrt(se / double(out[0][i].size())) / stddev(out[0][i]);
    }
    return sum / double(prompt.size());
  };
  const double r8 = rms_ratio(1), r4 = rms_ratio(2);
  MESSAGE("SmolLM2 logit RMS error / std vs the f16 KV cache: q8_0 " << r8 << ", q4_0 " << r4);
  CHECK(r8 < 0.12);
  CHECK(r4 < 0.4);
  CHECK(argmax(out[1].back()) == argmax(out[0].back()));
  CHECK(argmax(out[2].back()) == argmax(out[0].back()));
}
