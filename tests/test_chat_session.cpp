// ChatSession over SmolLM2-135M-Instruct (skipped when absent) and the tiny
// llama (no chat template: the ChatML fallback): rendering, end of turn,
// prefix reuse across turns, BOS handling, streaming and finish reasons.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "ember/chat.h"
#include "ember/chat_session.h"
#include "ember/error.h"
#include "ember/log.h"
#include "ember/model.h"
#include "ember/session.h"

using namespace ember;

namespace {

std::string smollm2_path() {
  const char* dir = std::getenv("EMBER_MODEL_DIR");
  const char* home = std::getenv("HOME");
  const std::string base = dir && *dir ? dir : std::string(home ? home : "") + "/.cache/ember/models";
  return base + "/SmolLM2-135M-Instruct.Q4_1.gguf";
}

std::shared_ptr<const Model> smollm2_or_skip() {
  static std::shared_ptr<const Model> m = [] {
    const std::string path = smollm2_path();
    return std::filesystem::exists(path) ? Model::load(path) : nullptr;
  }();
  if (!m) MESSAGE("skipped: " << smollm2_path() << " not found (run scripts/fetch-models)");
  return m;
}

std::shared_ptr<const Model> tiny() {
  static auto m = Model::load(EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf");
  return m;
}

ChatMessage msg(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

ChatParams greedy(int n) {
  ChatParams p;
  p.generate.sampling.temperature = 0;
  p.generate.n_predict = n;
  return p;
}

const std::vector<ChatMessage> kFrance = {
    msg("system", "You are a concise assistant."),
    msg("user", "What is the capital of France?"),
};

// Collects log messages for its lifetime.
struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> messages;
  LogCapture() {
    set_log_sink([this](LogLevel, std::string_view m) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.emplace_back(m);
    });
  }
  ~LogCapture() { set_log_sink({}); }
};

const char* kTools = R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])";

}  // namespace

TEST_CASE("chat: the rendered prompt is the model's template rendered with its BOS/EOS texts") {
  const auto m = smollm2_or_skip();
  if (!m) return;
  Session s(m, {.n_ctx = 512, .n_threads = 2});
  ChatSession chat(s);
  CHECK_FALSE(chat.uses_fallback_template());
  REQUIRE(m->chat_template());
  CHECK(chat.chat_template() == *m->chat_template());
  CHECK(chat.detected_tool_format() == ToolCallFormat::None);  // SmolLM2's template has no tool syntax

  ChatTemplateInputs in;
  in.messages = kFrance;
  in.add_generation_prompt = true;
  in.bos_token = m->tokenizer().token_text(m->tokenizer().bos());
  in.eos_token = m->tokenizer().token_text(m->tokenizer().eos());
  const std::string want = render_chat_template(*m->chat_template(), in);
  CHECK(chat.render(kFrance, greedy(1)) == want);
  CHECK(want == "<|im_start|>system\nYou are a concise assistant.<|im_end|>\n<|im_start|>user\nWhat is the capital of "
                "France?<|im_end|>\n<|im_start|>assistant\n");
  ChatParams no_prompt = greedy(1);
  no_prompt.add_generation_prompt = false;
  CHECK(chat.render(kFrance, no_prompt) == want.substr(0, want.size() - std::string("<|im_start|>assistant\n").size()));
}

TEST_CASE("chat: SmolLM2 answers a system+user chat and stops at the end of its turn") {
  const auto m = smollm2_or_skip();
  if (!m) return;
  Session s(m, {.n_ctx = 1024, .n_threads = 2});
  ChatSession chat(s);
  std::string streamed;
  const ChatReply r = chat.chat(kFrance, greedy(200), [&](std::string_view p) {
    streamed += p;
    return true;
  });
  MESSAGE("reply: \"" << r.content << "\" (" << r.raw.stats.generated_tokens << " tokens)");
  CHECK(!r.content.empty());
  CHECK(r.content.find("Paris") != std::string::npos);
  CHECK(r.finish_reason == "stop");
  CHECK(r.raw.stop_reason == StopReason::EndOfGeneration);
  CHECK(r.tool_calls.empty());
  CHECK(streamed == r.content);
  CHECK(r.content.find("<|im_end|>") == std::string::npos);
  // The prompt's special tokens were read as such: <|im_start|> is one token at position 0.
  const auto kv = s.kv_tokens(0);
  REQUIRE(!kv.empty());
  CHECK(kv[0] == *m->tokenizer().find("<|im_start|>"));
}

TEST_CASE("chat: a second turn reuses the KV cache of the first") {
  const auto m = smollm2_or_skip();
  if (!m) return;
  Session s(m, {.n_ctx = 1024, .n_threads = 2});
  ChatSession chat(s);
  std::vector<ChatMessage> messages = kFrance;
  const ChatReply first = chat.chat(messages, greedy(64));
  REQUIRE(!first.content.empty());
  messages.push_back(msg("assistant", first.content));
  messages.push_back(msg("user", "And of Italy?"));
  const ChatReply second = chat.chat(messages, greedy(64));
  MESSAGE("turn 1: " << first.raw.stats.prompt_tokens << " prompt tokens; turn 2: " << second.raw.stats.prompt_tokens
                     << " prompt tokens, " << second.raw.stats.reused_tokens << " reused; reply \"" << second.content
                     << "\"");
  CHECK(second.raw.stats.reused_tokens > 0);
  // At least the whole first prompt comes from the cache.
  CHECK(second.raw.stats.reused_tokens >= first.raw.stats.prompt_tokens);
  CHECK(!second.content.empty());
  CHECK(second.finish_reason == "stop");
}

TEST_CASE("chat: finish reasons length and cancelled; a stop string ends with stop") {
  const auto m = smollm2_or_skip() ? smollm2_or_skip() : tiny();
  Session s(m, {.n_ctx = 512, .n_threads = 2});
  ChatSession chat(s);
  const ChatReply len = chat.chat(kFrance, greedy(2));
  CHECK(len.finish_reason == "length");
  CHECK(len.raw.stats.generated_tokens == 2);

  int pieces = 0;
  const ChatReply cancelled = chat.chat(kFrance, greedy(50), [&](std::string_view) { return ++pieces < 2; });
  CHECK(cancelled.finish_reason == "cancelled");
  CHECK(pieces == 2);

  ChatParams p = greedy(50);
  s.kv_clear();  // both runs evaluate the whole prompt, so their greedy texts match exactly
  const std::string full = chat.chat(kFrance, p).content;
  REQUIRE(full.size() > 3);
  p.generate.stop = {full.substr(2, 2)};
  s.kv_clear();
  const ChatReply stopped = chat.chat(kFrance, p);
  CHECK(stopped.finish_reason == "stop");
  CHECK(stopped.raw.stop_reason == StopReason::StopString);
  CHECK(stopped.content == full.substr(0, full.find(p.generate.stop[0])));
}

TEST_CASE("chat: with tools, a plain-text reply is content, streamed in full, finish reason stop") {
  const auto m = smollm2_or_skip();
  if (!m) return;
  Session s(m, {.n_ctx = 1024, .n_threads = 2});
  // A template that shows the tools and the Hermes syntax, over SmolLM2's ChatML.
  const std::string tmpl =
      "{% if tools %}<|im_start|>system\nYou may call these tools: {{ tools | tojson }}. "
      "Call one as <tool_call>{\"name\": ..., \"arguments\": ...}</tool_call>.<|im_end|>\n{% endif %}"
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  ChatSession chat(s, tmpl);
  CHECK(chat.detected_tool_format() == ToolCallFormat::Hermes);
  ChatParams p = greedy(60);
  p.tools_json = kTools;
  CHECK(chat.render(kFrance, p).find("\"name\": \"get_weather\"") != std::string::npos);
  std::string streamed;
  const ChatReply r = chat.chat({msg("user", "Say hello.")}, p, [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  MESSAGE("reply: \"" << r.content << "\", " << r.tool_calls.size() << " tool calls, " << r.finish_reason);
  if (r.tool_calls.empty()) {
    CHECK(r.content == r.raw.text);
    CHECK((r.finish_reason == "stop" || r.finish_reason == "length"));
  } else {
    CHECK(r.finish_reason == "tool_calls");
  }
  CHECK(streamed == r.content);
}

TEST_CASE("chat: a model without a chat template gets ChatML and a warning through the log sink") {
  LogCapture logs;
  Session s(tiny(), {.n_ctx = 256, .n_threads = 2});
  ChatSession chat(s);
  CHECK(chat.uses_fallback_template());
  CHECK(chat.chat_template() == chatml_template());
  bool warned = false;
  {
    std::lock_guard<std::mutex> lock(logs.mutex);
    for (const auto& msg : logs.messages) warned = warned || msg.find("ChatML") != std::string::npos;
  }
  CHECK(warned);
  const std::string prompt = chat.render({msg("user", "Hi")}, greedy(1));
  CHECK(prompt.find("<|im_start|>user\nHi<|im_end|>\n") != std::string::npos);
  CHECK(prompt.ends_with("<|im_start|>assistant\n"));
  const ChatReply r = chat.chat({msg("user", "Hi")}, greedy(8));
  CHECK(r.raw.stats.generated_tokens > 0);
  CHECK((r.finish_reason == "length" || r.finish_reason == "stop"));
  // The vocabulary adds BOS; the prompt holds it once.
  const auto kv = s.kv_tokens(0);
  REQUIRE(kv.size() > 2);
  CHECK(kv[0] == tiny()->tokenizer().bos());
  CHECK(kv[1] != tiny()->tokenizer().bos());
}

TEST_CASE("chat: a template that writes bos_token does not double the BOS the vocabulary adds") {
  Session s(tiny(), {.n_ctx = 256, .n_threads = 2});
  ChatSession chat(s, "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}");
  const std::string prompt = chat.render({msg("user", "Hi")}, greedy(1));
  CHECK(prompt == "<s>[user] Hi\n");
  (void)chat.chat({msg("user", "Hi")}, greedy(2));
  const auto kv = s.kv_tokens(0);
  REQUIRE(kv.size() > 2);
  CHECK(kv[0] == tiny()->tokenizer().bos());
  CHECK(kv[1] != tiny()->tokenizer().bos());
  const auto plain = tiny()->tokenizer().encode("[user] Hi\n", true, false);
  CHECK(std::vector<int32_t>(kv.begin(), kv.begin() + long(plain.size())) == plain);
}

TEST_CASE("chat: bad templates and bad tools JSON are errors naming the place") {
  LogCapture logs;  // the ChatML warning
  Session s(tiny(), {.n_ctx = 64, .n_threads = 1});
  CHECK_THROWS_AS(ChatSession(s, std::string("{% for m in messages %}")), Error);
  ChatSession chat(s, std::string("{{ raise_exception('no') }}"));
  CHECK_THROWS_AS((void)chat.render({msg("user", "x")}, greedy(1)), Error);
  ChatSession ok(s);
  ChatParams p = greedy(1);
  p.tools_json = "[{not json";
  CHECK_THROWS_AS((void)ok.chat({msg("user", "x")}, p), Error);
}
