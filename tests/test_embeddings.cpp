// Session::embed: the mean-pooled last hidden state, against llama.cpp's own
// (tests/data/reference/tiny_llama_embeddings.json, made by
// make_embedding_reference.py with pooling_type mean, normalize=False).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ember/error.h"
#include "ember/model.h"
#include "ember/session.h"

using namespace ember;

namespace {

std::shared_ptr<const Model> tiny() {
  static auto m = Model::load(EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf");
  return m;
}

nlohmann::json reference() {
  std::ifstream f(EMBER_TEST_DATA_DIR "/reference/tiny_llama_embeddings.json");
  REQUIRE(f.good());
  return nlohmann::json::parse(f);
}

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("embeddings: mean-pooled hidden states equal llama.cpp's") {
  const auto m = tiny();
  Session s(m, {.n_ctx = 256, .n_threads = 2});
  const nlohmann::json ref = reference();
  REQUIRE(ref["cases"].size() == 3);
  for (const auto& c : ref["cases"]) {
    const auto tokens = c["tokens"].get<std::vector<int32_t>>();
    const auto want = c["embedding"].get<std::vector<double>>();
    CAPTURE(c["text"].get<std::string>());
    CHECK(m->tokenizer().encode(c["text"].get<std::string>(), true, false) == tokens);
    const std::vector<float> got = s.embed(tokens, false);
    REQUIRE(got.size() == want.size());
    double worst = 0, scale = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
      scale = std::max(scale, std::fabs(want[i]));
    }
    MESSAGE(tokens.size() << " tokens: max |ember - llama.cpp| " << worst << " (largest component " << scale << ")");
    CHECK(worst < 2e-3 * scale);
  }
}

TEST_CASE("embeddings: normalize gives the same direction at unit length") {
  const auto m = tiny();
  Session s(m, {.n_ctx = 256, .n_threads = 2});
  const std::vector<int32_t> tokens = m->tokenizer().encode("Once upon a time", true, false);
  const auto raw = s.embed(tokens, false);
  const auto unit = s.embed(tokens, true);
  CHECK(std::fabs(norm(unit) - 1.0) < 1e-5);
  const double n = norm(raw);
  for (size_t i = 0; i < raw.size(); ++i) CHECK(std::fabs(unit[i] - raw[i] / n) < 1e-6);
}

TEST_CASE("embeddings: chunks of n_batch give what one pass gives, and 1 or 2 threads agree") {
  const auto m = tiny();
  std::vector<int32_t> tokens = m->tokenizer().encode("The quick brown fox jumps over the lazy dog. ", true, false);
  while (tokens.size() < 100) tokens.push_back(tokens[1 + tokens.size() % 10]);
  Session one(m, {.n_ctx = 256, .n_batch = 512, .n_threads = 1});
  Session chunked(m, {.n_ctx = 256, .n_batch = 16, .n_threads = 2});
  const auto a = one.embed(tokens, false), b = chunked.embed(tokens, false);
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  MESSAGE("n_batch 512 vs 16: max diff " << worst);
  CHECK(worst < 1e-3 * norm(a));
}

TEST_CASE("embeddings: bad input is an error and the session stays usable") {
  const auto m = tiny();
  Session s(m, {.n_ctx = 32, .n_threads = 2});
  CHECK_THROWS_WITH_AS(s.embed(std::vector<int32_t>{}), doctest::Contains("no tokens"), Error);
  CHECK_THROWS_WITH_AS(s.embed(std::vector<int32_t>{1, 32000}), doctest::Contains("out of range"), Error);
  CHECK_THROWS_WITH_AS(s.embed(std::vector<int32_t>(33, 1)), doctest::Contains("context size 32"), Error);
  // Generation after an embedding starts from an empty sequence 0 and gives the canonical text.
  const std::vector<int32_t> prompt = {1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217, 19964, 1058};
  s.embed(prompt);
  GenerateParams g;
  g.sampling.temperature = 0;
  g.n_predict = 5;
  const GenerateResult r = s.generate_tokens(prompt, g);
  CHECK(r.text == " divs divs divs divs divs");
  CHECK(r.stats.reused_tokens == 0);
}
