// One Model shared by sessions on several threads: each session's text is
// exactly what it is alone (the weights are read-only; every mutable thing
// lives in the Session). scripts/test also runs this file under
// ThreadSanitizer, where a data race fails it.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "ember/chat_session.h"
#include "ember/model.h"
#include "ember/session.h"

using namespace ember;

namespace {

std::shared_ptr<const Model> tiny() {
  static auto m = Model::load(EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf");
  return m;
}

struct Job {
  std::string prompt;
  float temperature;
  uint64_t seed;
};

// What one session, alone, makes of a job: its text, then an embedding's first component.
std::string run(const std::shared_ptr<const Model>& m, const Job& job, int n_threads) {
  Session s(m, {.n_ctx = 128, .n_threads = n_threads});
  GenerateParams g;
  g.sampling.temperature = job.temperature;
  g.sampling.seed = job.seed;
  g.n_predict = 12;
  std::string streamed;
  const GenerateResult r = s.generate(job.prompt, g, [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  // A second turn reuses the prefix; then an embedding on the same session.
  const GenerateResult r2 = s.generate(job.prompt + r.text, g);
  const std::vector<float> e = s.embed(m->tokenizer().encode(job.prompt, true, false));
  return r.text + "|" + streamed + "|" + r2.text + "|" + std::to_string(e[0]);
}

}  // namespace

TEST_CASE("concurrency: two threads with their own sessions over one model get exactly their solo text") {
  const auto m = tiny();
  const std::vector<Job> jobs = {
      {"Once upon a time, there was a little robot who", 0.0f, 1},
      {"The capital of France is", 0.9f, 1234},
  };
  std::vector<std::string> alone;
  for (const Job& j : jobs) alone.push_back(run(m, j, 1));
  CHECK(alone[0].rfind(" divs divs divs divs divs", 0) == 0);  // the canonical greedy text

  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    std::vector<std::string> together(jobs.size());
    std::vector<std::thread> threads;
    // Round 0: one pool thread per session; round 1: two each (four threads on two cores).
    for (size_t i = 0; i < jobs.size(); ++i)
      threads.emplace_back([&, i] { together[i] = run(m, jobs[i], round + 1); });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < jobs.size(); ++i) CHECK(together[i] == alone[i]);
  }
}

TEST_CASE("concurrency: chat sessions on two threads over one model match their solo replies") {
  const auto m = tiny();
  auto reply = [&](const std::string& text) {
    Session s(m, {.n_ctx = 128, .n_threads = 1});
    ChatSession chat(s);
    ChatParams p;
    p.generate.sampling.temperature = 0;
    p.generate.n_predict = 8;
    return chat.chat({{.role = "user", .content = text}}, p).content;
  };
  const std::string a = reply("Hi!"), b = reply("Tell me a story.");
  std::string ta, tb;
  std::thread t1([&] { ta = reply("Hi!"); });
  std::thread t2([&] { tb = reply("Tell me a story."); });
  t1.join();
  t2.join();
  CHECK(ta == a);
  CHECK(tb == b);
}
