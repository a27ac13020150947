// The chat-template API against Python jinja2's renderings: the real templates
// in shared/testdata/templates (renderings.json), SmolLM2's own template from
// its GGUF (tests/data/chat/smollm2_renderings.json, made by make_fixtures.py),
// and the ChatML fallback.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ember/chat.h"
#include "ember/error.h"
#include "ember/gguf.h"

using namespace ember;
using json = nlohmann::ordered_json;

namespace {

const std::string kTemplateDir = EMBER_SHARED_DIR "/testdata/templates/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// renderings.json was made with strftime_now fixed at this time.
ChatRenderOptions fixed_time() {
  ChatRenderOptions o;
  o.now = ChatDateTime{2026, 11, 23, 12, 0, 0};
  return o;
}

// The context jinja2 saw: tools only when there are some.
json context_of(const json& c) {
  json ctx = {{"messages", c["messages"]},
              {"add_generation_prompt", c["add_generation_prompt"]},
              {"bos_token", c["bos_token"]},
              {"eos_token", c["eos_token"]}};
  if (!c["tools"].is_null()) ctx["tools"] = c["tools"];
  return ctx;
}

// The same conversation as ChatTemplateInputs.
ChatTemplateInputs inputs_of(const json& c) {
  ChatTemplateInputs in;
  for (const json& m : c["messages"]) {
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    if (m.contains("content") && m["content"].is_string()) msg.content = m["content"].get<std::string>();
    if (m.contains("tool_call_id")) msg.tool_call_id = m["tool_call_id"].get<std::string>();
    if (m.contains("name")) msg.name = m["name"].get<std::string>();
    if (m.contains("tool_calls")) {
      for (const json& tc : m["tool_calls"]) {
        ChatToolCall call;
        call.id = tc.value("id", "");
        call.name = tc["function"]["name"].get<std::string>();
        const json& args = tc["function"]["arguments"];
        call.arguments = args.is_string() ? args.get<std::string>() : args.dump();
        msg.tool_calls.push_back(call);
      }
    }
    in.messages.push_back(msg);
  }
  if (!c["tools"].is_null()) in.tools_json = c["tools"].dump();
  in.add_generation_prompt = c["add_generation_prompt"].get<bool>();
  in.bos_token = c["bos_token"].get<std::string>();
  in.eos_token = c["eos_token"].get<std::string>();
  return in;
}

std::string case_name(const json& c) {
  return c["template"].get<std::string>() + " / " + c["conversation"].get<std::string>() +
         (c["tools"].is_null() ? "" : " / tools") + (c["add_generation_prompt"].get<bool>() ? " / gen" : "");
}

// Checks one rendering against a case's expected text or error; true if it agrees.
template <typename Render>
bool check_case(const json& c, const std::string& name, Render render) {
  if (c.contains("expected")) {
    std::string out;
    try {
      out = render();
    } catch (const Error& e) {
      FAIL_CHECK(name << ": " << e.what());
      return false;
    }
    CHECK_MESSAGE(out == c["expected"].get<std::string>(), name);
    return out == c["expected"].get<std::string>();
  }
  const std::string want = c["expected_error"].get<std::string>();
  try {
    std::string out = render();
    FAIL_CHECK(name << ": rendered instead of raising " << want);
    return false;
  } catch (const Error& e) {
    bool ok = std::string(e.what()).find(want) != std::string::npos;
    CHECK_MESSAGE(ok, name << ": '" << e.what() << "' does not contain '" << want << "'");
    return ok;
  }
}

std::string smollm2_path() {
  const char* dir = std::getenv("EMBER_MODEL_DIR");
  const char* home = std::getenv("HOME");
  const std::string base = dir && *dir ? dir : std::string(home ? home : "") + "/.cache/ember/models";
  return base + "/SmolLM2-135M-Instruct.Q4_1.gguf";
}

}  // namespace

TEST_CASE("chat template: every case of renderings.json renders exactly as Python jinja2") {
  const json doc = json::parse(read_file(kTemplateDir + "renderings.json"));
  int passed = 0, total = 0;
  for (const json& c : doc["cases"]) {
    const std::string tmpl = read_file(kTemplateDir + c["template"].get<std::string>());
    const std::string ctx = context_of(c).dump();
    ++total;
    passed += check_case(c, case_name(c), [&] { return render_chat_template_json(tmpl, ctx, fixed_time()); });
  }
  MESSAGE("renderings.json: " << passed << " of " << total << " cases match Python jinja2");
  CHECK(total == 112);
}

TEST_CASE("chat template: ChatTemplateInputs reach the template as the renderings' message dicts") {
  const json doc = json::parse(read_file(kTemplateDir + "renderings.json"));
  int passed = 0, total = 0;
  for (const json& c : doc["cases"]) {
    // Contents that are not strings (null, lists) need the JSON entry point.
    bool plain = true;
    for (const json& m : c["messages"]) plain = plain && m.contains("content") && m["content"].is_string();
    if (!plain) continue;
    const ChatTemplate t = ChatTemplate::parse(read_file(kTemplateDir + c["template"].get<std::string>()));
    const ChatTemplateInputs in = inputs_of(c);
    ++total;
    passed += check_case(c, case_name(c), [&] { return t.render(in, fixed_time()); });
  }
  MESSAGE("renderings.json through ChatTemplateInputs: " << passed << " of " << total << " cases match");
  CHECK(total > 100);
}

TEST_CASE("chat template: SmolLM2's template from its GGUF renders as Python jinja2") {
  const std::string path = smollm2_path();
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not found (run scripts/fetch-models)");
    return;
  }
  const gguf::File file = gguf::File::open(path);
  const std::optional<std::string> tmpl = file.get_string("tokenizer.chat_template");
  REQUIRE(tmpl.has_value());
  const json doc = json::parse(read_file(EMBER_TEST_DATA_DIR "/chat/smollm2_renderings.json"));
  REQUIRE_MESSAGE(*tmpl == doc["template"].get<std::string>(), "the GGUF's template is not the fixture's");
  const ChatTemplate t = ChatTemplate::parse(*tmpl);
  int passed = 0, total = 0;
  for (const json& c : doc["cases"]) {
    ++total;
    const std::string ctx = c["context"].dump();
    passed += check_case(c, "smollm2 / " + c["conversation"].get<std::string>(),
                         [&] { return t.render_json(ctx, fixed_time()); });
  }
  MESSAGE("SmolLM2 GGUF template: " << passed << " of " << total << " conversations match Python jinja2");
  CHECK(total == 10);
}

TEST_CASE("chat template: the ChatML fallback") {
  ChatTemplateInputs in;
  in.messages = {{"system", "Be brief.", {}, "", ""}, {"user", "Hi", {}, "", ""}};
  in.add_generation_prompt = true;
  CHECK(render_chat_template(chatml_template(), in) ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  in.add_generation_prompt = false;
  CHECK(render_chat_template(chatml_template(), in) ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST_CASE("chat template: messages, tool calls and extra context as the template sees them") {
  const char* tmpl =
      "{% for m in messages %}{{ m|tojson }}\n{% endfor %}{{ tools|tojson }}|{{ add_generation_prompt }}|"
      "{{ bos_token }}|{{ eos_token }}|{{ custom }}";
  ChatTemplateInputs in;
  ChatMessage call{"assistant", "", {{"call_1", "get_weather", R"({"city": "Paris"})"}, {"", "raw", "not json"}}, "", ""};
  ChatMessage result{"tool", "18C", {}, "call_1", "get_weather"};
  in.messages = {{"user", "Weather?", {}, "", ""}, call, result};
  in.tools_json = R"([{"type": "function", "function": {"name": "get_weather"}}])";
  in.bos_token = "<s>";
  in.extra_context_json = R"({"custom": [1, 2], "bos_token": "<bos>"})";
  CHECK(render_chat_template(tmpl, in) ==
        "{\"role\": \"user\", \"content\": \"Weather?\"}\n"
        "{\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"id\": \"call_1\", \"type\": \"function\", "
        "\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}}, {\"type\": \"function\", "
        "\"function\": {\"name\": \"raw\", \"arguments\": \"not json\"}}]}\n"
        "{\"role\": \"tool\", \"tool_call_id\": \"call_1\", \"name\": \"get_weather\", \"content\": \"18C\"}\n"
        "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}]|False|<bos>||[1, 2]");

  in.tools_json.clear();
  CHECK(render_chat_template("{{ tools is defined }}", in) == "False");
  in.tools_json = "[oops";
  CHECK_THROWS_WITH_AS(render_chat_template("x", in), doctest::Contains("[chat_template] tools_json is not valid JSON"),
                       Error);
  in.tools_json.clear();
  in.extra_context_json = "[1]";
  CHECK_THROWS_WITH_AS(render_chat_template("x", in), doctest::Contains("extra_context_json is not a JSON object"),
                       Error);
  CHECK_THROWS_WITH_AS(render_chat_template_json("x", "{\"a\": "), doctest::Contains("[chat_template]"), Error);
  CHECK(render_chat_template_json("{{ messages[0].content is none }}", R"({"messages": [{"content": null}]})") ==
        "True");
}

TEST_CASE("chat template: errors name the line and carry the template's message") {
  const char* tmpl = "line 1\n{% if messages[0]['role'] == 'system' %}\n{{ raise_exception('System role not supported') }}\n{% endif %}";
  ChatTemplateInputs in;
  in.messages = {{"system", "x", {}, "", ""}};
  CHECK_THROWS_WITH_AS(render_chat_template(tmpl, in),
                       "[jinja] line 3: TemplateError: System role not supported", Error);
  CHECK_THROWS_WITH_AS(ChatTemplate::parse("ok\n\n{% if x %}\n{% endfor %}"),
                       doctest::Contains("[jinja] line 4: TemplateSyntaxError"), Error);
  CHECK_THROWS_WITH_AS(render_chat_template_json("a\nb {{ x.y }}", "{}"),
                       "[jinja] line 2: UndefinedError: 'x' is undefined", Error);
  ChatRenderOptions small;
  small.max_output_bytes = 1000;
  CHECK_THROWS_WITH_AS(render_chat_template_json("{% for i in range(1000) %}xx{% endfor %}", "{}", small),
                       doctest::Contains("larger than 1000 bytes"), Error);
}

TEST_CASE("chat template: strftime_now formats the time it is given, else the local time") {
  ChatRenderOptions o;
  o.now = ChatDateTime{2024, 7, 26, 9, 5, 3};
  CHECK(render_chat_template_json("{{ strftime_now('%d %b %Y %A %H:%M:%S %j %-d') }}", "{}", o) ==
        "26 Jul 2024 Friday 09:05:03 208 26");
  const std::string year = render_chat_template_json("{{ strftime_now('%Y') }}", "{}");
  CHECK(year.size() == 4);
  CHECK(year >= "2024");
}

TEST_CASE("chat template: one parsed template renders on many threads at once") {
  const ChatTemplate t = ChatTemplate::parse(read_file(kTemplateDir + "Qwen-Qwen2.5-7B-Instruct.jinja"));
  CHECK(t.source().find("im_start") != std::string::npos);
  const ChatTemplate copy = t;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 200; ++i) {
        ChatTemplateInputs in;
        in.messages = {{"user", "message " + std::to_string(k * 1000 + i), {}, "", ""}};
        in.add_generation_prompt = true;
        const std::string want = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                                 "assistant.<|im_end|>\n<|im_start|>user\nmessage " +
                                 std::to_string(k * 1000 + i) + "<|im_end|>\n<|im_start|>assistant\n";
        if ((k % 2 ? copy : t).render(in) != want) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
}
