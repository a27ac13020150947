// SamplerChain: building from params, determinism of the seeded RNG, the
// sampled distribution, parameter validation, and a full-size vocabulary step.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ember/error.h"
#include "ember/sampler.h"
#include "sampling/rng.h"

using namespace ember;

namespace {

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

SamplingParams pure_softmax(uint64_t seed) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

std::vector<int32_t> draws(SamplerChain& chain, const std::vector<float>& logits, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(chain.sample(logits));
  return out;
}

// The message of the ember::Error that fn throws ("" if none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::InvalidArgument);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("sampler: the RNG is xoshiro256** seeded by splitmix64, the same on every platform") {
  sampling::Rng rng(42);
  CHECK(rng.next_u64() == 0x15780b2e0c2ec716ull);
  CHECK(rng.next_u64() == 0x6104d9866d113a7eull);
  CHECK(rng.next_u64() == 0xae17533239e499a1ull);
  sampling::Rng zero(0);
  CHECK(zero.next_u64() == 0x99ec5f36cb75f2b4ull);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.next_double();
    CHECK((u >= 0.0 && u < 1.0));
  }
}

TEST_CASE("sampler: from_params builds llama.cpp's default order") {
  SamplingParams p;
  p.repeat_penalty = 1.1f;
  p.typical_p = 0.9f;
  p.logit_bias = {{2, 1.0f}};
  p.seed = 7;
  auto chain = SamplerChain::from_params(p, 100);
  CHECK(chain.describe() ==
        "penalties(64, 1.1, 0, 0) -> logit_bias(1 tokens) -> top_k(40) -> typical(0.9) -> top_p(0.95) -> "
        "min_p(0.05) -> temperature(0.8) -> dist");
  CHECK(chain.seed() == 7);

  SamplingParams g;
  g.temperature = 0.0f;
  CHECK(SamplerChain::from_params(g, 100).describe() == "greedy");
  CHECK(SamplerChain::from_params(pure_softmax(1), 100).describe() == "dist");
}

TEST_CASE("sampler: temperature 0 is argmax") {
  for (float t : {0.0f, -1.0f}) {
    SamplingParams p;
    p.temperature = t;
    auto chain = SamplerChain::from_params(p, 4096);
    for (uint32_t row = 0; row < 50; ++row) {
      const auto logits = random_logits(4096, row);
      CHECK(chain.sample(logits) == argmax(logits));
    }
  }
}

TEST_CASE("sampler: top_k 1 equals greedy") {
  SamplingParams p;
  p.top_k = 1;
  p.temperature = 1.5f;
  p.seed = 3;
  auto chain = SamplerChain::from_params(p, 4096);
  for (uint32_t row = 0; row < 50; ++row) {
    const auto logits = random_logits(4096, 100 + row);
    CHECK(chain.sample(logits) == argmax(logits));
  }
}

TEST_CASE("sampler: same seed gives the same 1000 samples, different seeds differ") {
  const auto logits = random_logits(1000, 9, 1.0f);
  auto a = SamplerChain::from_params(pure_softmax(1234), 1000);
  auto b = SamplerChain::from_params(pure_softmax(1234), 1000);
  auto c = SamplerChain::from_params(pure_softmax(1235), 1000);
  const auto sa = draws(a, logits, 1000);
  CHECK(sa == draws(b, logits, 1000));
  const auto sc = draws(c, logits, 1000);
  CHECK(sa != sc);
  size_t same = 0;
  for (size_t i = 0; i < sa.size(); ++i) same += sa[i] == sc[i];
  CHECK(same < 100);

  a.reset();
  CHECK(draws(a, logits, 1000) == sa);  // reset restarts the sequence
}

TEST_CASE("sampler: the default seed picks a random seed and reports it") {
  auto a = SamplerChain::from_params(pure_softmax(kDefaultSeed), 10);
  auto b = SamplerChain::from_params(pure_softmax(kDefaultSeed), 10);
  CHECK(a.seed() != kDefaultSeed);
  CHECK(a.seed() != b.seed());
  // Replaying the reported seed reproduces the run.
  const auto logits = random_logits(10, 1, 1.0f);
  auto replay = SamplerChain::from_params(pure_softmax(a.seed()), 10);
  CHECK(draws(a, logits, 200) == draws(replay, logits, 200));
}

TEST_CASE("sampler: 100k samples from softmax([0, ln 2]) split 1:2 within 1%") {
  const std::vector<float> logits = {0.0f, std::log(2.0f)};
  for (uint64_t seed : {1ull, 2ull, 0xC0FFEEull}) {
    auto chain = SamplerChain::from_params(pure_softmax(seed), 2);
    int counts[2] = {0, 0};
    const int n = 100000;
    for (int i = 0; i < n; ++i) ++counts[chain.sample(logits)];
    CAPTURE(seed);
    CAPTURE(counts[0]);
    CHECK(std::fabs(counts[1] / double(n) - 2.0 / 3.0) < 0.01);
    CHECK(std::fabs(counts[0] / double(n) - 1.0 / 3.0) < 0.01);
  }
}

TEST_CASE("sampler: a banned token is never sampled") {
  SamplingParams p = pure_softmax(77);
  p.logit_bias = {{1, -std::numeric_limits<float>::infinity()}};
  auto chain = SamplerChain::from_params(p, 3);
  const std::vector<float> logits = {0.0f, 3.0f, 0.0f};  // token 1 would win ~90%
  for (int i = 0; i < 2000; ++i) CHECK(chain.sample(logits) != 1);

  SamplingParams g;
  g.temperature = 0.0f;
  g.logit_bias = p.logit_bias;
  CHECK(SamplerChain::from_params(g, 3).sample(logits) == 0);
}

TEST_CASE("sampler: accepted tokens are penalized on the next step") {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 4.0f;
  p.repeat_last_n = 2;
  auto chain = SamplerChain::from_params(p, 3);
  const std::vector<float> logits = {1.0f, 2.0f, 1.5f};
  CHECK(chain.sample(logits) == 1);
  chain.accept(1);
  CHECK(chain.sample(logits) == 2);  // 2 / 4 < 1.5
  chain.accept(2);
  CHECK(chain.sample(logits) == 0);
  chain.accept(0);  // window is now [2, 0]: token 1 is free again
  CHECK(chain.sample(logits) == 1);
  chain.reset();
  CHECK(chain.sample(logits) == 1);
}

TEST_CASE("sampler: parameter validation errors name the field") {
  struct Case {
    const char* field;
    void (*edit)(SamplingParams&);
  };
  const Case cases[] = {
      {"top_p", [](SamplingParams& p) { p.top_p = 1.5f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 0.0f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = -0.1f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = 1.01f; }},
      {"typical_p", [](SamplingParams& p) { p.typical_p = 0.0f; }},
      {"repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = 0.0f; }},
      {"repeat_last_n", [](SamplingParams& p) { p.repeat_last_n = -2; }},
      {"temperature", [](SamplingParams& p) { p.temperature = std::nanf(""); }},
      {"top_p", [](SamplingParams& p) { p.top_p = std::nanf(""); }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = std::nanf(""); }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = std::numeric_limits<float>::infinity(); }},
      {"logit_bias", [](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }},
      {"logit_bias", [](SamplingParams& p) { p.logit_bias = {{3, std::nanf("")}}; }},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    c.edit(p);
    const std::string msg = error_of([&] { p.validate(); });
    CAPTURE(msg);
    CHECK(msg.rfind("[sampler] ", 0) == 0);
    CHECK(msg.find(c.field) != std::string::npos);
    CHECK(error_of([&] { SamplerChain::from_params(p, 10); }) == msg);
  }
  SamplingParams p;
  p.top_p = 1.5f;
  CHECK(error_of([&] { p.validate(); }) == "[sampler] top_p must be in (0, 1], got 1.5");

  SamplingParams ok;
  ok.temperature = -1.0f;  // greedy, not an error
  ok.top_k = -5;           // off
  ok.repeat_last_n = -1;
  ok.logit_bias = {{0, -std::numeric_limits<float>::infinity()}};
  CHECK_NOTHROW(ok.validate());
}

TEST_CASE("sampler: logit_bias ids and logits sizes are checked against n_vocab") {
  SamplingParams p;
  p.logit_bias = {{10, 1.0f}};
  const std::string msg = error_of([&] { SamplerChain::from_params(p, 10); });
  CHECK(msg.find("logit_bias") != std::string::npos);
  CHECK(msg.find("10") != std::string::npos);

  auto chain = SamplerChain::from_params(SamplingParams{}, 10);
  CHECK(error_of([&] { chain.sample(std::vector<float>(9, 0.0f)); }).find("n_vocab") != std::string::npos);
  CHECK(error_of([&] { chain.accept(10); }).find("accept") != std::string::npos);
  CHECK(error_of([&] { chain.accept(-1); }).find("accept") != std::string::npos);
  CHECK(error_of([&] { SamplerChain::from_params(SamplingParams{}, 0); }).find("n_vocab") != std::string::npos);
}

TEST_CASE("sampler: a chain without a final stage is an error, not a crash") {
  SamplerChain chain;
  chain.add(make_top_k_stage(2));
  CHECK(error_of([&] { chain.sample(std::vector<float>{1.0f, 2.0f, 3.0f}); }).find("dist or greedy") !=
        std::string::npos);
  CHECK(error_of([&] { chain.sample(std::vector<float>{}); }).find("empty") != std::string::npos);
}

TEST_CASE("sampler: NaN and all -inf logits through the default chain") {
  auto chain = SamplerChain::from_params(pure_softmax(5), 4);
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(chain.sample(std::vector<float>{-inf, -inf, -inf, -inf}) == 0);
  const float nan = std::nanf("");
  for (int i = 0; i < 100; ++i) CHECK(chain.sample(std::vector<float>{nan, 1.0f, nan, nan}) == 1);

  auto dflt = SamplerChain::from_params(SamplingParams{}, 4);
  CHECK(dflt.sample(std::vector<float>{nan, nan, nan, nan}) == 0);
}

TEST_CASE("sampler: a 256k-vocabulary step stays cheap") {
  const int32_t n_vocab = 256000;
  const auto logits = random_logits(n_vocab, 21);
  SamplingParams with_top_k;
  with_top_k.seed = 1;
  with_top_k.repeat_penalty = 1.1f;
  SamplingParams nucleus_only = pure_softmax(1);
  nucleus_only.top_p = 0.9f;
  nucleus_only.min_p = 0.0f;
  for (const auto& [label, params] : {std::pair{std::string("default + penalties"), with_top_k},
                                      std::pair{std::string("top_p only"), nucleus_only}}) {
    auto chain = SamplerChain::from_params(params, n_vocab);
    const int steps = 20;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) {
      const int32_t tok = chain.sample(logits);
      CHECK((tok >= 0 && tok < n_vocab));
      chain.accept(tok);
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE(label << ": " << ms / steps << " ms per step over " << n_vocab << " tokens");
  }
}

TEST_CASE("sampler: random parameters and hostile logits always give a valid id") {
  std::mt19937 gen(2024);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {inf, -inf, std::nanf(""), 3.0e38f, -3.0e38f, 0.0f};
  for (int round = 0; round < 300; ++round) {
    SamplingParams p;
    p.temperature = unit(gen) < 0.2f ? 0.0f : unit(gen) * 3.0f + (unit(gen) < 0.1f ? 1e-30f : 0.0f);
    p.top_k = static_cast<int32_t>(gen() % 60) - 5;
    p.top_p = std::max(1e-6f, unit(gen));
    p.min_p = unit(gen) * 0.5f;
    p.typical_p = unit(gen) < 0.5f ? 1.0f : std::max(1e-6f, unit(gen));
    p.repeat_penalty = 0.5f + unit(gen) * 2.0f;
    p.repeat_last_n = static_cast<int32_t>(gen() % 10) - 1;
    p.frequency_penalty = unit(gen) < 0.1f ? 3.0e38f : unit(gen);
    p.presence_penalty = unit(gen) - 0.5f;
    p.seed = gen();
    const int32_t n_vocab = 1 + static_cast<int32_t>(gen() % 300);
    if (unit(gen) < 0.5f) p.logit_bias[static_cast<int32_t>(gen() % n_vocab)] = unit(gen) < 0.5f ? -inf : 10.0f;
    auto chain = SamplerChain::from_params(p, n_vocab);
    CAPTURE(chain.describe());
    for (int step = 0; step < 5; ++step) {
      auto logits = random_logits(static_cast<size_t>(n_vocab), gen(), 10.0f);
      for (float& x : logits) {
        if (unit(gen) < 0.1f) x = specials[gen() % 6];
      }
      const int32_t tok = chain.sample(logits);
      REQUIRE((tok >= 0 && tok < n_vocab));
      chain.accept(tok);
    }
  }
}

TEST_CASE("sampler: stage factories reject arguments that would make NaN logits") {
  CHECK(error_of([] { make_penalties_stage(64, 0.0f, 0.0f, 0.0f); }).find("repeat") != std::string::npos);
  CHECK(error_of([] { make_temperature_stage(std::nanf("")); }).find("temperature") != std::string::npos);
  CHECK(error_of([] { make_logit_bias_stage({{1, std::numeric_limits<float>::infinity()}}); })
            .find("logit_bias") != std::string::npos);
  CHECK(error_of([] { make_top_p_stage(std::nanf("")); }).find("top_p") != std::string::npos);
}
