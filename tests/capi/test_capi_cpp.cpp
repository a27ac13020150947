// The C ABI against the C++ API it wraps: the same text, tokens and logits
// for the same inputs, the same defaults, and C++ exceptions from a host's
// callback stopped at the wall.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ember.h"
#include "ember/chat.h"
#include "ember/error.h"
#include "ember/model.h"
#include "ember/session.h"

using namespace ember;

namespace {

const char* kTiny = EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf";
const std::string kPrompt = "Once upon a time, there was a little robot who";

struct CModel {
  ember_model* m = nullptr;
  CModel() { REQUIRE(ember_model_load(kTiny, nullptr, &m) == EMBER_OK); }
  ~CModel() { ember_model_free(m); }
};

struct CSession {
  ember_session* s = nullptr;
  CSession(const ember_model* m, int n_ctx, int n_batch) {
    ember_session_params p;
    ember_session_default_params(&p, sizeof p);
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.n_threads = 2;
    REQUIRE(ember_session_create(m, &p, &s) == EMBER_OK);
  }
  ~CSession() { ember_session_free(s); }
};

std::string c_generate(ember_session* s, const std::string& prompt, const ember_generate_params& gp) {
  size_t len = 0;
  REQUIRE(ember_session_generate(s, prompt.data(), prompt.size(), &gp, nullptr, 0, &len, nullptr) == EMBER_OK);
  std::string text(len + 1, '\0');
  // the same prompt again: the cached prefix is reused, the greedy/seeded text is the same
  REQUIRE(ember_session_generate(s, prompt.data(), prompt.size(), &gp, text.data(), text.size(), &len, nullptr) ==
          EMBER_OK);
  text.resize(len);
  return text;
}

}  // namespace

TEST_CASE("capi: greedy and seeded text equal Session::generate's for the same prompt and parameters") {
  const auto model = Model::load(kTiny);
  CModel cm;
  for (const float temperature : {0.0f, 0.8f}) {
    CAPTURE(temperature);
    GenerateParams g;
    g.sampling.temperature = temperature;
    g.sampling.seed = 1234;
    g.n_predict = 32;
    Session session(model, {.n_ctx = 128, .n_threads = 2});
    const GenerateResult want = session.generate(kPrompt, g);

    ember_generate_params gp;
    ember_generate_default_params(&gp, sizeof gp);
    gp.temperature = temperature;
    gp.seed = 1234;
    gp.n_predict = 32;
    CSession cs(cm.m, 128, 512);
    const std::string got = c_generate(cs.s, kPrompt, gp);
    CHECK(got == want.text);
    CHECK(!got.empty());
    MESSAGE("temperature " << temperature << ": \"" << got << "\"");
  }
}

TEST_CASE("capi: tokenize, detokenize and token_to_piece equal the C++ tokenizer's") {
  ModelParams mp;
  mp.vocab_only = true;
  const auto model = Model::load(kTiny, mp);
  const Tokenizer& tok = model->tokenizer();
  CModel cm;
  for (const std::string& text : {kPrompt, std::string("héllo wörld 你好 🙂"), std::string("<s>a</s> b\n\n c"),
                                 std::string(" leading space"), std::string("")}) {
    CAPTURE(text);
    for (const bool special : {false, true}) {
      const std::vector<int32_t> want = tok.encode(text, special, special);
      std::vector<ember_token> got(want.size() + 4);
      size_t n = 0;
      REQUIRE(ember_tokenize(cm.m, text.data(), text.size(), special, special, got.data(), got.size(), &n) ==
              EMBER_OK);
      got.resize(n);
      CHECK(got == want);
      const std::string want_text = tok.decode(want, special);
      std::vector<char> buf(want_text.size() + 1);
      REQUIRE(ember_detokenize(cm.m, got.data(), got.size(), special, buf.data(), buf.size(), &n) == EMBER_OK);
      CHECK(std::string(buf.data(), n) == want_text);
    }
  }
  for (const int32_t id : {0, 1, 2, 13, 259, 9038, 31999}) {
    char buf[64];
    size_t n = 0;
    REQUIRE(ember_token_to_piece(cm.m, id, true, buf, sizeof buf, &n) == EMBER_OK);
    CHECK(std::string(buf, n) == tok.token_to_piece(id, true));
  }
}

TEST_CASE("capi: logits of a decode equal Session::logits bit for bit") {
  const auto model = Model::load(kTiny);
  CModel cm;
  const std::vector<int32_t> ids = model->tokenizer().encode(kPrompt, true, false);
  Session session(model, {.n_ctx = 64, .n_batch = 512, .n_threads = 2});
  Batch b;
  for (size_t i = 0; i < ids.size(); ++i) b.add(ids[i], int32_t(i), 0, true);
  session.decode(b);

  CSession cs(cm.m, 64, 512);
  REQUIRE(ember_session_decode(cs.s, ids.data(), ids.size(), 0, 0, true) == EMBER_OK);
  for (int i = 0; i < int(ids.size()); ++i) {
    const float* row = nullptr;
    size_t n = 0;
    REQUIRE(ember_session_logits(cs.s, i, &row, &n) == EMBER_OK);
    const auto want = session.logits(i);
    REQUIRE(n == want.size());
    CHECK(std::memcmp(row, want.data(), n * sizeof(float)) == 0);
  }
}

TEST_CASE("capi: default params are the C++ defaults") {
  ember_generate_params gp;
  REQUIRE(ember_generate_default_params(&gp, sizeof gp) == EMBER_OK);
  const GenerateParams g;
  CHECK(gp.struct_size == sizeof gp);
  CHECK(gp.temperature == g.sampling.temperature);
  CHECK(gp.top_k == g.sampling.top_k);
  CHECK(gp.top_p == g.sampling.top_p);
  CHECK(gp.min_p == g.sampling.min_p);
  CHECK(gp.typical_p == g.sampling.typical_p);
  CHECK(gp.repeat_penalty == g.sampling.repeat_penalty);
  CHECK(gp.repeat_last_n == g.sampling.repeat_last_n);
  CHECK(gp.frequency_penalty == g.sampling.frequency_penalty);
  CHECK(gp.presence_penalty == g.sampling.presence_penalty);
  CHECK(gp.seed == g.sampling.seed);
  CHECK(gp.n_predict == g.n_predict);
  CHECK(gp.add_special == g.add_special);
  CHECK(gp.parse_special == g.parse_special);
  CHECK(gp.ignore_eos == g.ignore_eos);
  CHECK(gp.stop == nullptr);
  CHECK(!gp.on_piece);

  ember_session_params sp;
  REQUIRE(ember_session_default_params(&sp, sizeof sp) == EMBER_OK);
  const SessionParams s;
  CHECK(sp.n_ctx == s.n_ctx);
  CHECK(sp.n_batch == s.n_batch);
  CHECK(sp.n_threads == s.n_threads);
  CHECK(sp.kv_type == EMBER_KV_F16);
  CHECK(sp.n_seq_max == s.n_seq_max);

  ember_model_params mp;
  REQUIRE(ember_model_default_params(&mp, sizeof mp) == EMBER_OK);
  const ModelParams m;
  CHECK(mp.n_threads == m.n_threads);
  CHECK(mp.use_mmap == m.use_mmap);
  CHECK(mp.vocab_only == m.vocab_only);
  CHECK(!mp.progress);
}

TEST_CASE("capi: a C++ exception thrown by a host's callback becomes a status, not a crash") {
  CModel cm;
  CSession cs(cm.m, 64, 512);
  ember_generate_params gp;
  ember_generate_default_params(&gp, sizeof gp);
  gp.temperature = 0;
  gp.n_predict = 4;
  gp.on_piece = [](const char*, size_t, void*) -> int { throw std::runtime_error("host callback failed"); };
  CHECK(ember_session_generate(cs.s, "Hello", 5, &gp, nullptr, 0, nullptr, nullptr) == EMBER_ERR_INTERNAL);
  CHECK(std::string(ember_last_error()).find("host callback failed") != std::string::npos);
  gp.on_piece = [](const char*, size_t, void*) -> int { throw std::bad_alloc(); };
  CHECK(ember_session_generate(cs.s, "Hello", 5, &gp, nullptr, 0, nullptr, nullptr) == EMBER_ERR_OUT_OF_MEMORY);
  CHECK(std::string(ember_last_error()).find("ember_session_generate") != std::string::npos);
  gp.on_piece = [](const char*, size_t, void*) -> int { throw 42; };
  CHECK(ember_session_generate(cs.s, "Hello", 5, &gp, nullptr, 0, nullptr, nullptr) == EMBER_ERR_INTERNAL);
  // the session is still usable
  gp.on_piece = nullptr;
  char text[64];
  CHECK(ember_session_generate(cs.s, "Hello", 5, &gp, text, sizeof text, nullptr, nullptr) == EMBER_OK);
}

TEST_CASE("capi: ember_last_error is per thread") {
  CModel cm;
  CHECK(ember_model_meta_get(cm.m, "missing.key", nullptr, 0, nullptr) == EMBER_ERR_NOT_FOUND);
  const std::string here = ember_last_error();
  std::string there;
  std::thread([&] {
    there = ember_last_error();
    ember_token t;
    CHECK(ember_token_bos(nullptr, &t) == EMBER_ERR_INVALID_ARGUMENT);
  }).join();
  CHECK(there.empty());
  CHECK(here.find("missing.key") != std::string::npos);
  CHECK(std::string(ember_last_error()) == here);
}

TEST_CASE("capi: SmolLM2's chat template and chat-formatted greedy text equal the C++ API's (skipped without it)") {
  const char* dir = std::getenv("EMBER_MODEL_DIR");
  const char* home = std::getenv("HOME");
  const std::string path = (dir && *dir ? std::string(dir) : std::string(home ? home : "") + "/.cache/ember/models") +
                           "/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not found (run scripts/fetch-models)");
    return;
  }
  const auto model = Model::load(path);
  ember_model* cm = nullptr;
  REQUIRE(ember_model_load(path.c_str(), nullptr, &cm) == EMBER_OK);
  const std::optional<std::string> want = model->chat_template();
  REQUIRE(want);
  size_t len = 0;
  CHECK(ember_model_chat_template(cm, nullptr, 0, &len) == EMBER_ERR_BUFFER_TOO_SMALL);
  std::string got(len + 1, '\0');
  REQUIRE(ember_model_chat_template(cm, got.data(), got.size(), &len) == EMBER_OK);
  CHECK(got.substr(0, len) == *want);

  const std::string prompt = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n";
  GenerateParams g;
  g.sampling.temperature = 0;
  g.n_predict = 24;
  g.parse_special = true;
  Session session(model, {.n_ctx = 256, .n_threads = 2});
  const std::string want_text = session.generate(prompt, g).text;

  ember_session* cs = nullptr;
  ember_session_params sp;
  ember_session_default_params(&sp, sizeof sp);
  sp.n_ctx = 256;
  sp.n_threads = 2;
  REQUIRE(ember_session_create(cm, &sp, &cs) == EMBER_OK);
  ember_generate_params gp;
  ember_generate_default_params(&gp, sizeof gp);
  gp.temperature = 0;
  gp.n_predict = 24;
  gp.parse_special = true;
  char text[1024];
  ember_generate_stats st;
  st.struct_size = sizeof st;
  REQUIRE(ember_session_generate(cs, prompt.data(), prompt.size(), &gp, text, sizeof text, &len, &st) == EMBER_OK);
  CHECK(std::string(text, len) == want_text);
  MESSAGE("\"" << text << "\" (" << st.generated_tokens << " tokens, stop reason " << st.stop_reason << ")");
  ember_session_free(cs);
  ember_model_free(cm);
}

TEST_CASE("capi: chat templates render as the C++ API renders them (shared/testdata/templates)") {
  const std::string dir = EMBER_SHARED_DIR "/testdata/templates/";
  std::ifstream in(dir + "renderings.json");
  REQUIRE(in.good());
  const auto cases = nlohmann::json::parse(in)["cases"];
  int n_plain = 0, n_json = 0;
  for (const auto& c : cases) {
    std::ifstream tf(dir + c["template"].get<std::string>());
    const std::string tmpl((std::istreambuf_iterator<char>(tf)), std::istreambuf_iterator<char>());
    CAPTURE(c["template"].get<std::string>());
    CAPTURE(c["conversation"].get<std::string>());

    // Every case through the JSON entry point, errors included.
    nlohmann::json ctx = {{"messages", c["messages"]},
                          {"add_generation_prompt", c["add_generation_prompt"]},
                          {"bos_token", c["bos_token"]},
                          {"eos_token", c["eos_token"]}};
    if (!c["tools"].is_null()) ctx["tools"] = c["tools"];
    const std::string ctx_text = ctx.dump();
    std::string want;
    bool want_error = false;
    try {
      want = render_chat_template_json(tmpl, ctx_text);
    } catch (const Error&) {
      want_error = true;
    }
    size_t len = 0;
    const ember_status st = ember_render_chat_template_json(tmpl.c_str(), ctx_text.c_str(), nullptr, 0, &len);
    if (want_error) {
      CHECK(st == EMBER_ERR_INVALID_ARGUMENT);
      CHECK(std::string(ember_last_error()).find("[jinja]") != std::string::npos);
      continue;
    }
    REQUIRE((st == EMBER_ERR_BUFFER_TOO_SMALL || (st == EMBER_OK && want.empty())));
    std::string got(len + 1, '\0');
    REQUIRE(ember_render_chat_template_json(tmpl.c_str(), ctx_text.c_str(), got.data(), got.size(), &len) == EMBER_OK);
    got.resize(len);
    CHECK(got == want);
    ++n_json;

    // Plain role/content conversations through the message-array entry point too.
    bool plain = c["tools"].is_null();
    for (const auto& m : c["messages"]) plain = plain && m.size() == 2 && m["content"].is_string();
    if (!plain) continue;
    std::vector<std::string> roles, contents;
    for (const auto& m : c["messages"]) {
      roles.push_back(m["role"].get<std::string>());
      contents.push_back(m["content"].get<std::string>());
    }
    std::vector<ember_chat_message> msgs;
    for (size_t i = 0; i < roles.size(); ++i) msgs.push_back({roles[i].c_str(), contents[i].c_str()});
    const std::string bos = c["bos_token"].get<std::string>(), eos = c["eos_token"].get<std::string>();
    std::vector<char> buf(want.size() + 1);
    REQUIRE(ember_render_chat_template(tmpl.c_str(), msgs.data(), msgs.size(), c["add_generation_prompt"].get<bool>(),
                                       bos.c_str(), eos.c_str(), buf.data(), buf.size(), &len) == EMBER_OK);
    CHECK(std::string(buf.data(), len) == want);
    ++n_plain;
  }
  MESSAGE(n_json << " cases through ember_render_chat_template_json, " << n_plain
                 << " through ember_render_chat_template");
  CHECK(n_plain > 0);
}
