// parse_tool_calls on the Hermes, Llama 3.1 and Mistral formats: one and
// several calls, content around them, whitespace, malformed calls kept as
// text, and random or truncated output that must never throw.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_call_stream.h"
#include "ember/tool_calls.h"

using namespace ember;
using nlohmann::json;

namespace {

bool valid_id(const std::string& id) {
  if (id.size() != 29 || id.rfind("call_", 0) != 0) return false;
  for (size_t i = 5; i < id.size(); ++i) {
    const char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool is_json_object(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object();
}

}  // namespace

TEST_CASE("tool calls: Hermes, one call, arguments re-serialized compact") {
  const auto r = parse_tool_calls(
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>",
      ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].name == "get_weather");
  CHECK(r.calls[0].arguments == R"({"city":"Paris","days":3})");
  CHECK(valid_id(r.calls[0].id));
  CHECK(r.content == "");
}

TEST_CASE("tool calls: Hermes, several calls with content before and after, distinct ids") {
  const std::string out =
      "Let me check both cities.\n"
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
      "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}</tool_call>\n\n"
      "One moment.";
  const auto r = parse_tool_calls(out, ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[0].arguments == R"({"city":"Paris"})");
  CHECK(r.calls[1].arguments == R"({"city":"Oslo"})");
  CHECK(r.calls[0].id != r.calls[1].id);
  CHECK(valid_id(r.calls[1].id));
  CHECK(r.content == "Let me check both cities.\nOne moment.");
  // Same output, same ids; another seed, other ids.
  const auto again = parse_tool_calls(out, ToolCallFormat::Hermes);
  CHECK(again.calls[0].id == r.calls[0].id);
  const auto seeded = parse_tool_calls(out, ToolCallFormat::Hermes, 7);
  CHECK(seeded.calls[0].id != r.calls[0].id);
}

TEST_CASE("tool calls: Hermes whitespace variants, unicode and nested arguments") {
  for (const std::string out : {
           "<tool_call>{\"name\":\"f\",\"arguments\":{\"q\":\"caf\\u00e9 \\\"x\\\"\",\"n\":{\"a\":[1,2,{}]}}}</tool_call>",
           "<tool_call>\r\n\t {\"name\" : \"f\" ,\n \"arguments\" :\n {\"q\" : \"café \\\"x\\\"\", \"n\": {\"a\": [1, 2, {}]}}}  \n\n</tool_call>",
           "  \n<tool_call>  {\"arguments\": {\"q\": \"café \\\"x\\\"\", \"n\": {\"a\": [1,2,{}]}}, \"name\": \"f\"}</tool_call>  \n",
       }) {
    CAPTURE(out);
    const auto r = parse_tool_calls(out, ToolCallFormat::Hermes);
    REQUIRE(r.calls.size() == 1);
    CHECK(r.calls[0].name == "f");
    CHECK(json::parse(r.calls[0].arguments) == json::parse(R"({"q":"café \"x\"","n":{"a":[1,2,{}]}})"));
    CHECK(r.content == "");
  }
}

TEST_CASE("tool calls: Hermes without the closing tag at the end of the output is a call") {
  const auto r = parse_tool_calls("Sure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n", ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].arguments == "{}");
  CHECK(r.content == "Sure.");
  // ... but not when other text follows the JSON
  const auto t = parse_tool_calls("<tool_call>{\"name\": \"f\", \"arguments\": {}} and more", ToolCallFormat::Hermes);
  CHECK(t.calls.empty());
}

TEST_CASE("tool calls: arguments as a string holding JSON, 'parameters', missing arguments") {
  auto r = parse_tool_calls(R"(<tool_call>{"name": "f", "arguments": "{\"city\": \"Paris\"}"}</tool_call>)",
                            ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].arguments == R"({"city":"Paris"})");
  r = parse_tool_calls(R"(<tool_call>{"name": "f", "parameters": {"x": 1}}</tool_call>)", ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].arguments == R"({"x":1})");
  r = parse_tool_calls(R"(<tool_call>{"name": "list_files"}</tool_call>)", ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].arguments == "{}");
  // The OpenAI shape
  r = parse_tool_calls(R"(<tool_call>{"type": "function", "function": {"name": "f", "arguments": {"a": true}}}</tool_call>)",
                       ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].name == "f");
  CHECK(r.calls[0].arguments == R"({"a":true})");
}

TEST_CASE("tool calls: malformed Hermes calls stay as text") {
  const std::vector<std::string> bad = {
      "<tool_call>{\"name\": \"f\", \"arguments\": {\"city\": \"Par",             // truncated
      "<tool_call>{\"name\": \"f\", \"arguments\": {\"city\": Paris}}</tool_call>",  // bad JSON
      "<tool_call>{\"arguments\": {\"a\": 1}}</tool_call>",                         // no name
      "<tool_call>{\"name\": 42, \"arguments\": {}}</tool_call>",                   // name not a string
      "<tool_call>{\"name\": \"\", \"arguments\": {}}</tool_call>",                 // empty name
      "<tool_call>{\"name\": \"f\", \"arguments\": [1, 2]}</tool_call>",            // arguments not an object
      "<tool_call>{\"name\": \"f\", \"arguments\": 3}</tool_call>",
      "<tool_call>{\"name\": \"f\", \"arguments\": \"city=Paris\"}</tool_call>",    // string, not JSON
      "<tool_call>{\"name\": \"f\", \"arguments\": \"[1]\"}</tool_call>",           // string of a non-object
      "<tool_call>[{\"name\": \"f\", \"arguments\": {}}]</tool_call>",              // an array
      "<tool_call>get_weather(city='Paris')</tool_call>",
      "<tool_call>",
      "</tool_call>{\"name\": \"f\", \"arguments\": {}}",
  };
  for (const auto& out : bad) {
    CAPTURE(out);
    const auto r = parse_tool_calls(out, ToolCallFormat::Hermes);
    CHECK(r.calls.empty());
    CHECK(r.content == out);
  }
  // A bad call next to a good one: the good one is taken, the bad one stays as text.
  const auto r = parse_tool_calls(
      "<tool_call>{\"name\": 1}</tool_call>\n<tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>",
      ToolCallFormat::Hermes);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].name == "g");
  CHECK(r.content == "<tool_call>{\"name\": 1}</tool_call>");
}

TEST_CASE("tool calls: Llama 3.1, bare JSON and after <|python_tag|>") {
  auto r = parse_tool_calls(R"({"name": "get_weather", "parameters": {"city": "Paris"}})", ToolCallFormat::Llama31);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].name == "get_weather");
  CHECK(r.calls[0].arguments == R"({"city":"Paris"})");
  CHECK(valid_id(r.calls[0].id));
  CHECK(r.content == "");

  r = parse_tool_calls("<|python_tag|>{\"type\": \"function\", \"name\": \"f\", \"parameters\": {\"x\": [1]}}",
                       ToolCallFormat::Llama31);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].name == "f");
  CHECK(r.calls[0].arguments == R"({"x":[1]})");
  CHECK(r.content == "");
}

TEST_CASE("tool calls: Llama 3.1, several calls separated by ';' or newlines, content around them") {
  auto r = parse_tool_calls(
      "<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"k\": \"v\"}}",
      ToolCallFormat::Llama31);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[0].name == "a");
  CHECK(r.calls[1].name == "b");
  CHECK(r.calls[1].arguments == R"({"k":"v"})");
  CHECK(r.content == "");

  r = parse_tool_calls("I will look that up.\n{\"name\": \"a\", \"parameters\": {}}\n{\"name\": \"b\", \"parameters\": {}}\nDone",
                       ToolCallFormat::Llama31);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.content == "I will look that up.\nDone");

  // JSON that is not a call stays in the content and is not searched inside.
  r = parse_tool_calls(R"(Example: {"user": {"name": "x", "parameters": {}}} ok)", ToolCallFormat::Llama31);
  CHECK(r.calls.empty());
  CHECK(r.content == R"(Example: {"user": {"name": "x", "parameters": {}}} ok)");
}

TEST_CASE("tool calls: malformed Llama 3.1 calls stay as text") {
  for (const std::string out : {
           R"({"name": "f", "parameters": {"city": "Pa)",
           R"(<|python_tag|>{"name": "f", "parameters": {"city": "Pa)",
           R"({"name": "f", "parameters": "not json"})",
           R"({"name": null, "parameters": {}})",
           R"(<|python_tag|>brave_search.call(query="weather"))",
           R"({"name": "f" "parameters": {}})",
       }) {
    CAPTURE(out);
    const auto r = parse_tool_calls(out, ToolCallFormat::Llama31);
    CHECK(r.calls.empty());
    CHECK(r.content == out);
  }
}

TEST_CASE("tool calls: Mistral, an array of calls keeps the model's ids") {
  auto r = parse_tool_calls(
      R"([TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcDEF123"}, {"name": "g", "arguments": {}}])",
      ToolCallFormat::Mistral);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[0].id == "abcDEF123");
  CHECK(r.calls[0].arguments == R"({"city":"Paris"})");
  CHECK(r.calls[1].name == "g");
  CHECK(valid_id(r.calls[1].id));
  CHECK(r.content == "");

  r = parse_tool_calls("Checking.[TOOL_CALLS][{\"name\":\"f\",\"arguments\":{\"a\":1}}]\n  Trailing words",
                       ToolCallFormat::Mistral);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.content == "Checking.\nTrailing words");
}

TEST_CASE("tool calls: Mistral name[ARGS] form, with and without [CALL_ID]") {
  auto r = parse_tool_calls("[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]f[CALL_ID]x1y2z3w4q[ARGS]{}",
                            ToolCallFormat::Mistral);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[0].name == "get_weather");
  CHECK(r.calls[0].arguments == R"({"city":"Paris"})");
  CHECK(valid_id(r.calls[0].id));
  CHECK(r.calls[1].id == "x1y2z3w4q");
  CHECK(r.content == "");
}

TEST_CASE("tool calls: malformed Mistral calls stay as text") {
  for (const std::string out : {
           R"([TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}}, {"name": "g", "argu)",
           R"([TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}}, {"arguments": {}}])",
           R"([TOOL_CALLS] [])",
           R"([TOOL_CALLS] "f")",
           R"([TOOL_CALLS]f[ARGS]{"a": )",
           R"([TOOL_CALLS]f{"a": 1})",
           "[TOOL_CALLS]",
       }) {
    CAPTURE(out);
    const auto r = parse_tool_calls(out, ToolCallFormat::Mistral);
    CHECK(r.calls.empty());
    CHECK(r.content == out);
  }
}

TEST_CASE("tool calls: Auto recognizes each format; None and plain text give no calls") {
  CHECK(parse_tool_calls("<tool_call>{\"name\": \"h\", \"arguments\": {}}</tool_call>", ToolCallFormat::Auto).calls.at(0).name == "h");
  CHECK(parse_tool_calls("[TOOL_CALLS][{\"name\": \"m\", \"arguments\": {}}]", ToolCallFormat::Auto).calls.at(0).name == "m");
  CHECK(parse_tool_calls("{\"name\": \"l\", \"parameters\": {}}", ToolCallFormat::Auto).calls.at(0).name == "l");
  const std::string call = "<tool_call>{\"name\": \"h\", \"arguments\": {}}</tool_call>";
  auto r = parse_tool_calls(call, ToolCallFormat::None);
  CHECK(r.calls.empty());
  CHECK(r.content == call);
  r = parse_tool_calls("  The answer is 42.\n", ToolCallFormat::Auto);
  CHECK(r.calls.empty());
  CHECK(r.content == "  The answer is 42.\n");
  // Each format leaves the others' syntax alone.
  CHECK(parse_tool_calls(call, ToolCallFormat::Mistral).calls.empty());
  CHECK(parse_tool_calls("[TOOL_CALLS][{\"name\": \"m\", \"arguments\": {}}]", ToolCallFormat::Hermes).calls.empty());
}

TEST_CASE("tool calls: the format is detected from markers in the chat template") {
  CHECK(detect_tool_call_format("{%- if tools %}<tool_call>\\n{\"name\": <function-name>}</tool_call>{% endif %}") ==
        ToolCallFormat::Hermes);
  CHECK(detect_tool_call_format("{{- '<|python_tag|>' + tool_call.name }}") == ToolCallFormat::Llama31);
  CHECK(detect_tool_call_format("<|start_header_id|>{{ '{\"name\": function name, \"parameters\": dictionary}' }}") ==
        ToolCallFormat::Llama31);
  CHECK(detect_tool_call_format("{{ '[TOOL_CALLS] [' }}{% for t in tool_calls %}") == ToolCallFormat::Mistral);
  CHECK(detect_tool_call_format("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}") == ToolCallFormat::None);
  CHECK(detect_tool_call_format("") == ToolCallFormat::None);
}

TEST_CASE("tool calls: random and truncated output never throws and keeps every byte when no call is found") {
  const std::vector<std::string> seeds = {
      "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par\\u00e9\\\"s\", \"n\": [1, {\"x\": null}]}}\n</tool_call>\nok",
      "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"k\": \"v\\\\\"}}; {\"name\": \"b\", \"parameters\": {}}",
      "x[TOOL_CALLS] [{\"name\": \"f\", \"arguments\": {\"a\": \"]}\"}, \"id\": \"abc123XYZ\"}][TOOL_CALLS]g[ARGS]{}",
  };
  const std::string alphabet = "{}[]\":,\\ \n<>|/_abcnmeTOOLS0123456789\x80\xc3\xa9\xff";
  uint64_t state = 0x1234567;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  const ToolCallFormat formats[] = {ToolCallFormat::Auto, ToolCallFormat::Hermes, ToolCallFormat::Llama31,
                                    ToolCallFormat::Mistral, ToolCallFormat::None};
  size_t n_calls = 0, n_runs = 0;
  for (const auto& seed : seeds) {
    // every prefix: the output cut off at each byte
    for (size_t n = 0; n <= seed.size(); ++n)
      for (auto f : formats) {
        const std::string out = seed.substr(0, n);
        ParsedToolCalls r;
        CHECK_NOTHROW(r = parse_tool_calls(out, f));
        if (r.calls.empty()) CHECK(r.content == out);
        for (const auto& c : r.calls) CHECK(is_json_object(c.arguments));
        n_calls += r.calls.size();
        ++n_runs;
      }
    // random mutations
    for (int iter = 0; iter < 3000; ++iter) {
      std::string out = seed;
      const int edits = 1 + int(next() % 4);
      for (int e = 0; e < edits && !out.empty(); ++e) {
        const size_t at = next() % out.size();
        switch (next() % 3) {
          case 0: out.erase(at, 1 + next() % 3); break;
          case 1: out.insert(at, 1, alphabet[next() % alphabet.size()]); break;
          default: out[at] = alphabet[next() % alphabet.size()]; break;
        }
      }
      for (auto f : formats) {
        ParsedToolCalls r;
        CHECK_NOTHROW(r = parse_tool_calls(out, f));
        if (r.calls.empty()) CHECK(r.content == out);
        for (const auto& c : r.calls) {
          CHECK(!c.name.empty());
          CHECK(!c.id.empty());
          CHECK(is_json_object(c.arguments));
        }
        n_calls += r.calls.size();
        ++n_runs;
      }
    }
  }
  // pure noise, including deep nesting
  for (int iter = 0; iter < 2000; ++iter) {
    std::string out;
    const size_t len = next() % 200;
    for (size_t i = 0; i < len; ++i) out += alphabet[next() % alphabet.size()];
    for (auto f : formats) CHECK_NOTHROW((void)parse_tool_calls(out, f));
  }
  const std::string deep = "<tool_call>{\"name\": \"f\", \"arguments\": " + std::string(100000, '[') + "</tool_call>";
  CHECK(parse_tool_calls(deep, ToolCallFormat::Auto).calls.empty());
  std::string nested = "{\"name\": \"f\", \"parameters\": {\"a\": ";
  for (int i = 0; i < 200; ++i) nested += "{\"a\": ";
  nested += "1" + std::string(201, '}') + "}";
  CHECK(parse_tool_calls(nested, ToolCallFormat::Llama31).calls.empty());  // deeper than any tool call
  MESSAGE(n_runs << " parses, " << n_calls << " calls found");
  CHECK(n_calls > 0);
}

namespace {

// Feeds text to a ToolCallStream in pieces of n bytes; returns what reached the sink before finish().
std::string stream_in_pieces(chat::ToolCallStream& s, std::string_view text, size_t n) {
  for (size_t i = 0; i < text.size(); i += n) s.push(text.substr(i, n));
  return s.emitted();
}

}  // namespace

TEST_CASE("tool-call streaming: plain text passes through, only trailing whitespace waits") {
  for (size_t n : {1, 3, 100}) {
    std::string got;
    OnPiece sink = [&](std::string_view p) { got += p; return true; };
    chat::ToolCallStream s(sink);
    const std::string text = "The answer: a < b, [1, 2] and {x} hold.\n\n";
    CHECK(stream_in_pieces(s, text, n) == "The answer: a < b, [1, 2] and {x} hold.");
    CHECK(got == s.emitted());
    s.finish(text);  // no calls: the content is the text
    CHECK(got == text);
  }
}

TEST_CASE("tool-call streaming: text from a call's start is held back, whatever the piece size") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Let me check.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>", "Let me check."},
      {"{\"name\": \"f\", \"parameters\": {}}", ""},
      {"  [ {\"name\": \"f\", \"arguments\": {}}]", ""},  // Mistral after an invisible [TOOL_CALLS]
      {"Ok <|python_tag|>{\"name\": \"f\"}", "Ok"},
      {"x {\n  \"type\": \"function\"}", "x"},
  };
  for (const auto& [text, before] : cases) {
    for (size_t n : {1, 2, 5, 1000}) {
      CAPTURE(text);
      CAPTURE(n);
      std::string got;
      OnPiece sink = [&](std::string_view p) { got += p; return true; };
      chat::ToolCallStream s(sink);
      CHECK(stream_in_pieces(s, text, n) == before);
      const auto parsed = parse_tool_calls(text, ToolCallFormat::Auto);
      s.finish(parsed.content);
      CHECK(got == parsed.content);
    }
  }
}

TEST_CASE("tool-call streaming: JSON that is not a call is sent at the end; a sink's stop is passed on") {
  std::string got;
  OnPiece sink = [&](std::string_view p) { got += p; return true; };
  chat::ToolCallStream s(sink);
  const std::string text = "User: {\"name\": \"Bob\", \"age\": 3} is the record.";
  stream_in_pieces(s, text, 4);
  CHECK(got == "User:");
  s.finish(parse_tool_calls(text, ToolCallFormat::Hermes).content);
  CHECK(got == text);

  int calls = 0;
  OnPiece stop = [&](std::string_view) { return ++calls < 2; };
  chat::ToolCallStream t(stop);
  CHECK(t.push("one "));
  CHECK_FALSE(t.push("two "));
}
