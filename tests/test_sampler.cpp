// The sampling stages one at a time: what each keeps, drops or changes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "ember/sampler.h"
#include "sampling/sampling_util.h"

using namespace ember;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

TokenCandidates from_logits(const std::vector<float>& logits) {
  TokenCandidates c;
  c.assign(logits);
  return c;
}

std::set<int32_t> ids_of(const TokenCandidates& c) {
  std::set<int32_t> ids;
  for (const TokenProb& t : c.items) ids.insert(t.id);
  return ids;
}

int32_t selected_id(const TokenCandidates& c) {
  REQUIRE(c.selected >= 0);
  REQUIRE(static_cast<size_t>(c.selected) < c.items.size());
  return c.items[static_cast<size_t>(c.selected)].id;
}

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 4.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// log of relative probabilities, so softmax gives exactly these ratios.
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> v;
  for (double p : probs) v.push_back(static_cast<float>(std::log(p)));
  return v;
}

}  // namespace

TEST_CASE("sampler: candidates map NaN logits to -inf and keep ids") {
  auto c = from_logits({1.0f, std::nanf(""), -2.0f});
  REQUIRE(c.size() == 3);
  CHECK(c.items[1].id == 1);
  CHECK(c.items[1].logit == -kInf);
  CHECK_FALSE(c.sorted);
}

TEST_CASE("sampler: sort orders by logit then lower id") {
  auto c = from_logits({1.0f, 3.0f, 1.0f, 3.0f, 2.0f});
  c.sort();
  std::vector<int32_t> ids;
  for (const auto& t : c.items) ids.push_back(t.id);
  CHECK(ids == std::vector<int32_t>{1, 3, 4, 0, 2});
}

TEST_CASE("sampler: softmax of degenerate rows has no NaN") {
  auto all_banned = from_logits({-kInf, -kInf});
  all_banned.softmax();
  CHECK(all_banned.items[0].p == doctest::Approx(0.5));
  auto pos_inf = from_logits({kInf, 0.0f, kInf});
  pos_inf.softmax();
  CHECK(pos_inf.items[0].p == doctest::Approx(0.5));
  CHECK(pos_inf.items[1].p == 0.0f);
}

TEST_CASE("sampler: greedy is argmax with ties to the lowest id") {
  auto greedy = make_greedy_stage();
  auto c = from_logits({0.5f, 2.0f, -1.0f, 2.0f});
  greedy->apply(c);
  CHECK(selected_id(c) == 1);

  auto rows = random_logits(5000, 7);
  auto c2 = from_logits(rows);
  greedy->apply(c2);
  CHECK(selected_id(c2) == std::max_element(rows.begin(), rows.end()) - rows.begin());
}

TEST_CASE("sampler: greedy treats NaN as -inf and picks id 0 when everything is -inf") {
  auto greedy = make_greedy_stage();
  auto c = from_logits({std::nanf(""), -5.0f, std::nanf("")});
  greedy->apply(c);
  CHECK(selected_id(c) == 1);

  auto banned = from_logits({-kInf, -kInf, -kInf});
  greedy->apply(banned);
  CHECK(selected_id(banned) == 0);

  auto nans = from_logits({std::nanf(""), std::nanf("")});
  greedy->apply(nans);
  CHECK(selected_id(nans) == 0);
}

TEST_CASE("sampler: top_k keeps the k best, sorted, ties to the lower id") {
  auto c = from_logits({0.0f, 5.0f, 1.0f, 5.0f, 3.0f, 5.0f});
  make_top_k_stage(2)->apply(c);
  REQUIRE(c.size() == 2);
  CHECK(c.sorted);
  CHECK(c.items[0].id == 1);
  CHECK(c.items[1].id == 3);

  auto rows = random_logits(32000, 3);
  auto big = from_logits(rows);
  make_top_k_stage(40)->apply(big);
  REQUIRE(big.size() == 40);
  auto ref = from_logits(rows);
  ref.sort();
  for (size_t i = 0; i < 40; ++i) CHECK(big.items[i].id == ref.items[i].id);
}

TEST_CASE("sampler: top_k off or larger than the set keeps everything") {
  auto c = from_logits({1.0f, 2.0f, 3.0f});
  make_top_k_stage(0)->apply(c);
  CHECK(c.size() == 3);
  make_top_k_stage(10)->apply(c);
  CHECK(c.size() == 3);
}

TEST_CASE("sampler: top_k with -inf ties still keeps exactly k") {
  auto c = from_logits({-kInf, 1.0f, -kInf, -kInf});
  make_top_k_stage(2)->apply(c);
  REQUIRE(c.size() == 2);
  CHECK(c.items[0].id == 1);
  CHECK(c.items[1].id == 0);
}

TEST_CASE("sampler: top_p keeps the smallest set whose mass reaches p") {
  const auto logits = logits_for({0.125, 0.5, 0.125, 0.25});  // ids 1, 3 carry 0.75
  struct Case {
    float p;
    std::set<int32_t> kept;
  };
  for (const Case& k : {Case{0.4f, {1}}, Case{0.5f, {1}}, Case{0.7f, {1, 3}}, Case{0.8f, {1, 3, 0}},
                        Case{0.99f, {0, 1, 2, 3}}, Case{1.0f, {0, 1, 2, 3}}}) {
    CAPTURE(k.p);
    auto c = from_logits(logits);
    make_top_p_stage(k.p)->apply(c);
    CHECK(ids_of(c) == k.kept);
  }
}

TEST_CASE("sampler: top_p over a large unsorted vocabulary matches a full sort") {
  for (float p : {0.1f, 0.5f, 0.9f, 0.999f}) {
    CAPTURE(p);
    const auto rows = random_logits(50000, 11, 1.0f);  // flat: nucleus of thousands of tokens
    auto c = from_logits(rows);
    make_top_p_stage(p)->apply(c);

    auto ref = from_logits(rows);
    ref.softmax();
    ref.sort();
    double cum = 0.0;
    size_t keep = ref.size();
    for (size_t i = 0; i < ref.size(); ++i) {
      cum += ref.items[i].p;
      if (cum >= p) {
        keep = i + 1;
        break;
      }
    }
    REQUIRE(c.size() == keep);
    CHECK(c.sorted);
    for (size_t i = 0; i < keep; ++i) CHECK(c.items[i].id == ref.items[i].id);
  }
}

TEST_CASE("sampler: min_p drops tokens below p times the best probability") {
  const auto logits = logits_for({0.04, 1.0, 0.1, 0.5});
  auto c = from_logits(logits);
  make_min_p_stage(0.05f)->apply(c);
  CHECK(ids_of(c) == std::set<int32_t>{1, 2, 3});

  auto c2 = from_logits(logits);
  make_min_p_stage(0.2f)->apply(c2);
  CHECK(ids_of(c2) == std::set<int32_t>{1, 3});

  auto sorted = from_logits(logits);
  sorted.sort();
  make_min_p_stage(0.2f)->apply(sorted);
  CHECK(sorted.size() == 2);
  CHECK(sorted.items[0].id == 1);

  auto c3 = from_logits(logits);
  make_min_p_stage(1.0f)->apply(c3);
  CHECK(ids_of(c3) == std::set<int32_t>{1});
}

TEST_CASE("sampler: typical keeps the tokens whose surprisal is closest to the entropy") {
  // p = 1/2, 1/4, 1/8, 1/8: H = 1.75 bits; surprisals 1, 2, 3, 3 bits, so
  // |surprisal - H| orders the tokens 1 (0.25), 0 (0.75), then 2 and 3 (1.25).
  const auto logits = logits_for({0.5, 0.25, 0.125, 0.125});
  auto c = from_logits(logits);
  make_typical_stage(0.2f)->apply(c);
  REQUIRE(c.size() == 1);
  CHECK(c.items[0].id == 1);  // the most typical token, not the most probable
  CHECK_FALSE(c.sorted);

  auto c2 = from_logits(logits);
  make_typical_stage(0.7f)->apply(c2);
  REQUIRE(c2.size() == 2);
  CHECK(c2.items[0].id == 1);
  CHECK(c2.items[1].id == 0);

  auto c3 = from_logits(logits);
  make_typical_stage(0.9f)->apply(c3);
  CHECK(ids_of(c3) == std::set<int32_t>{0, 1, 2, 3});

  auto off = from_logits(logits);
  make_typical_stage(1.0f)->apply(off);
  CHECK(off.size() == 4);
}

TEST_CASE("sampler: temperature scales logits and t <= 0 keeps only the best") {
  auto c = from_logits({1.0f, -2.0f, 4.0f});
  make_temperature_stage(0.5f)->apply(c);
  CHECK(c.items[0].logit == 2.0f);
  CHECK(c.items[1].logit == -4.0f);
  CHECK(c.items[2].logit == 8.0f);

  auto z = from_logits({1.0f, 4.0f, 4.0f});
  make_temperature_stage(0.0f)->apply(z);
  REQUIRE(z.size() == 1);
  CHECK(z.items[0].id == 1);
}

TEST_CASE("sampler: penalties change exactly the tokens in the window") {
  auto pen = make_penalties_stage(3, 2.0f, 0.5f, 0.25f);
  for (int32_t t : {1, 2, 3, 2}) pen->accept(t);  // window [2, 3, 2]: token 1 has left it
  std::vector<float> logits = {2.0f, 2.0f, 2.0f, -1.0f, 2.0f, 0.0f};
  auto c = from_logits(logits);
  pen->apply(c);
  CHECK(c.items[0].logit == 2.0f);
  CHECK(c.items[1].logit == 2.0f);
  CHECK(c.items[2].logit == doctest::Approx(2.0f / 2 - 2 * 0.5f - 0.25f));   // positive: divided
  CHECK(c.items[3].logit == doctest::Approx(-1.0f * 2 - 1 * 0.5f - 0.25f));  // negative: multiplied
  CHECK(c.items[4].logit == 2.0f);
  CHECK(c.items[5].logit == 0.0f);

  pen->reset();
  auto fresh = from_logits(logits);
  pen->apply(fresh);
  for (size_t i = 0; i < logits.size(); ++i) CHECK(fresh.items[i].logit == logits[i]);
}

TEST_CASE("sampler: penalties find their tokens after the set was reordered") {
  auto pen = make_penalties_stage(-1, 2.0f, 0.0f, 0.0f);
  for (int32_t t : {0, 4, 7}) pen->accept(t);
  auto c = from_logits({8.0f, 1.0f, 2.0f, 3.0f, 6.0f, 5.0f, 4.0f, 7.0f});
  c.sort();
  pen->apply(c);
  for (const auto& t : c.items) {
    const float before = std::vector<float>{8, 1, 2, 3, 6, 5, 4, 7}[static_cast<size_t>(t.id)];
    const bool penalized = t.id == 0 || t.id == 4 || t.id == 7;
    CHECK(t.logit == (penalized ? before / 2 : before));
  }
  CHECK_FALSE(c.sorted);
}

TEST_CASE("sampler: window -1 counts every token since reset") {
  auto pen = make_penalties_stage(-1, 1.0f, 1.0f, 0.0f);
  for (int i = 0; i < 500; ++i) pen->accept(3);
  auto c = from_logits({0.0f, 0.0f, 0.0f, 0.0f});
  pen->apply(c);
  CHECK(c.items[3].logit == -500.0f);
}

TEST_CASE("sampler: logit bias adds to the logit and -inf bans a token") {
  auto c = from_logits({1.0f, 5.0f, 2.0f});
  make_logit_bias_stage({{0, 3.0f}, {1, -kInf}})->apply(c);
  CHECK(c.items[0].logit == 4.0f);
  CHECK(c.items[1].logit == -kInf);
  CHECK(c.items[2].logit == 2.0f);

  auto inf = from_logits({kInf, 0.0f});
  make_logit_bias_stage({{0, -kInf}})->apply(inf);
  CHECK(inf.items[0].logit == -kInf);  // not NaN
}

TEST_CASE("sampler: dist picks the lowest id when every candidate is banned") {
  auto dist = make_dist_stage(1);
  auto c = from_logits({-kInf, -kInf, -kInf});
  dist->apply(c);
  CHECK(selected_id(c) == 0);
}

TEST_CASE("sampler: dist never draws a zero-probability token") {
  auto dist = make_dist_stage(5);
  for (int i = 0; i < 2000; ++i) {
    auto c = from_logits({0.0f, -kInf, 0.0f, -kInf});
    dist->apply(c);
    const int32_t id = selected_id(c);
    CHECK((id == 0 || id == 2));
  }
}
