// The Jinja interpreter on its own: snippets against Python jinja2's output
// (tests/data/chat/jinja_cases.json, made by make_fixtures.py), Python string
// semantics, limits, and random or broken templates that must fail cleanly.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/json.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/text.h"
#include "ember/chat.h"
#include "ember/error.h"

using namespace ember;
using json = nlohmann::ordered_json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChatRenderOptions fixed_time() {
  ChatRenderOptions o;
  o.now = ChatDateTime{2026, 11, 23, 12, 0, 0};
  return o;
}

std::string render(const std::string& tmpl, const std::string& ctx = "{}") {
  return render_chat_template_json(tmpl, ctx, fixed_time());
}

// Renders with the interpreter directly and small limits; returns the output
// or "error: <type>" — anything but a crash is fine for the caller.
std::string render_limited(const std::string& tmpl, const jinja::Value& ctx) {
  jinja::RenderOptions o;
  o.max_output_bytes = 1 << 20;
  o.max_steps = 200'000;
  try {
    jinja::Template t = jinja::parse_template(tmpl);
    jinja::Interpreter in(o);
    return in.render(t, ctx);
  } catch (const jinja::JinjaError& e) {
    return "error: " + e.type;
  }
}

}  // namespace

TEST_CASE("jinja: every snippet of jinja_cases.json renders as Python jinja2") {
  const json doc = json::parse(read_file(EMBER_TEST_DATA_DIR "/chat/jinja_cases.json"));
  int passed = 0, total = 0;
  for (const json& c : doc["cases"]) {
    const std::string tmpl = c["template"].get<std::string>();
    if (c.contains("name")) REQUIRE(tmpl == chatml_template());  // the fixture's ChatML is ember's
    const std::string ctx = c["context"].dump();
    ++total;
    if (c.contains("expected")) {
      try {
        const std::string out = render(tmpl, ctx);
        CHECK_MESSAGE(out == c["expected"].get<std::string>(), tmpl);
        passed += out == c["expected"].get<std::string>();
      } catch (const Error& e) {
        FAIL_CHECK(tmpl << ": " << e.what());
      }
    } else {
      // The Python exception type must match; messages match where jinja2's
      // wording is reproducible ("UndefinedError: 'x' is undefined").
      const std::string want = c["expected_error"].get<std::string>();
      const std::string type = want.substr(0, want.find(':'));
      try {
        render(tmpl, ctx);
        FAIL_CHECK(tmpl << ": rendered instead of raising " << want);
      } catch (const Error& e) {
        const std::string got = e.what();
        const bool ok = got.find(": " + type + ": ") != std::string::npos;
        CHECK_MESSAGE(ok, tmpl << ": '" << got << "' is not a " << type << " ('" << want << "')");
        passed += ok;
      }
    }
  }
  MESSAGE("jinja_cases.json: " << passed << " of " << total << " snippets agree with Python jinja2");
}

TEST_CASE("jinja: error messages jinja2 users rely on are reproduced word for word") {
  const json doc = json::parse(read_file(EMBER_TEST_DATA_DIR "/chat/jinja_cases.json"));
  int exact = 0, errors = 0;
  for (const json& c : doc["cases"]) {
    if (!c.contains("expected_error")) continue;
    ++errors;
    try {
      render(c["template"].get<std::string>(), c["context"].dump());
    } catch (const Error& e) {
      exact += std::string(e.what()).find(c["expected_error"].get<std::string>()) != std::string::npos;
    }
  }
  MESSAGE(exact << " of " << errors << " error messages are jinja2's exactly");
  CHECK(exact * 10 >= errors * 8);
}

TEST_CASE("jinja: the generation tag renders its body in a scope of its own") {
  CHECK(render("{% generation %}a{% set q = 1 %}{{ q }}{% endgeneration %}[{{ q }}]") == "a1[]");
}

TEST_CASE("jinja: Python's Unicode case mappings and whitespace") {
  CHECK(render("{{ 'straße'|upper }}") == "STRASSE");
  CHECK(render("{{ 'ΟΔΟΣ ΟΔΟΣ.'|lower }}") == "οδος οδος.");
  CHECK(render("{{ 'ǆemal'.title() }} {{ 'hello wORLD'.title() }}") == "ǅemal Hello World");
  CHECK(render("{{ 'İ'|lower|length }}") == "2");
  CHECK(render("{{ '\u00a0\u3000 x \u2028'|trim }}|") == "x|");
  CHECK(render("{{ 'a\u2029b\x1c" "c'.splitlines() }}") == "['a', 'b', 'c']");
  CHECK(render("{{ ['\u200b', '\u00e9', '\\x07', '\U0001F999'] }}") == "['\\u200b', 'é', '\\x07', '🦙']");
  CHECK(render("{{ '١٢٣'.isdigit() }} {{ 'abc١'.isalnum() }} {{ '½'.isnumeric() }} {{ '½'.isdigit() }}") ==
        "True True True False");
}

TEST_CASE("jinja: float and integer printing follows Python's repr") {
  CHECK(jinja::float_repr(0.1) == "0.1");
  CHECK(jinja::float_repr(1e16) == "1e+16");
  CHECK(jinja::float_repr(1234567890123456.0) == "1234567890123456.0");
  CHECK(jinja::float_repr(0.0001) == "0.0001");
  CHECK(jinja::float_repr(0.00001) == "1e-05");
  CHECK(jinja::float_repr(-0.0) == "-0.0");
  CHECK(jinja::float_repr(1.0 / 3) == "0.3333333333333333");
  CHECK(jinja::float_repr(5e-324) == "5e-324");
  CHECK(jinja::float_repr(1.7976931348623157e308) == "1.7976931348623157e+308");
  CHECK(render("{{ 10 / 5 }} {{ 7 // 2 }} {{ 2 ** 0.5 }} {{ 9007199254740993 }}") ==
        "2.0 3 1.4142135623730951 9007199254740993");
}

TEST_CASE("jinja: limits turn runaway templates into errors") {
  // Macro recursion without end.
  CHECK_THROWS_WITH_AS(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                       doctest::Contains("RecursionError"), Error);
  // Nested brackets past the parser's limit, and far past it.
  for (int depth : {200, 100000}) {
    std::string deep = "{{ " + std::string(depth, '(') + "1" + std::string(depth, ')') + " }}";
    CHECK_THROWS_WITH_AS(render(deep), doctest::Contains("nested too deeply"), Error);
  }
  std::string nested_ifs;
  for (int i = 0; i < 5000; ++i) nested_ifs += "{% if true %}";
  CHECK_THROWS_AS(render(nested_ifs), Error);
  CHECK_THROWS_AS(render("{{ " + std::string(50000, '-') + "1 }}"), Error);
  CHECK_THROWS_AS(render("{{ " + [] {
    std::string s;
    for (int i = 0; i < 50000; ++i) s += "not ";
    return s;
  }() + "x }}"), Error);
  // Output and string sizes.
  ChatRenderOptions small = fixed_time();
  small.max_output_bytes = 1 << 16;
  CHECK_THROWS_WITH_AS(render_chat_template_json("{{ 'x' * 1000000 }}", "{}", small), doctest::Contains("MemoryError"),
                       Error);
  CHECK_THROWS_WITH_AS(render_chat_template_json("{% set s = 'ab' * 1000 %}{{ s.replace('a', s) }}", "{}", small),
                       doctest::Contains("MemoryError"), Error);
  CHECK_THROWS_AS(render("{{ [1, 2, 3] * 100000000000 }}"), Error);
  // Loops that would run for hours.
  CHECK_THROWS_WITH_AS(render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
                       doctest::Contains("steps"), Error);
  CHECK_THROWS_WITH_AS(render("{{ range(100001) }}"), doctest::Contains("OverflowError"), Error);
  // Deep JSON input.
  CHECK_THROWS_AS(render("x", std::string(100000, '[') + std::string(100000, ']')), Error);
  // Chains without brackets nest the syntax tree just as deep.
  for (const char* link : {"|string", ".b", " + 1", "()", " or 1", "[0]"}) {
    std::string chain = "{{ x";
    for (int i = 0; i < 100000; ++i) chain += link;
    CHECK_THROWS_WITH_AS(render(chain + " }}"), doctest::Contains("nested too deeply"), Error);
  }
  // Values nested by a loop, directly or through namespaces, generators and bound methods.
  const char* build = "{% set ns = namespace(x=[1], c=none) %}{% for i in range(100000) %}";
  for (const char* step : {"{% set ns.x = [ns.x] %}", "{% set ns.x = {'a': ns.x} %}", "{% set ns.x = ns.x|select %}",
                           "{% set ns.x = [ns.x.count] %}"}) {
    CHECK_THROWS_WITH_AS(render(std::string(build) + step + "{% endfor %}{{ ns.x }}"),
                         doctest::Contains("RecursionError"), Error);
  }
  CHECK(render(std::string(build) + "{% set ns.c = namespace(y=ns.c) %}{% set ns.x = cycler(ns.x) %}{% endfor %}ok") ==
        "ok");
}

TEST_CASE("jinja: truncated and mutated templates fail cleanly, never crash") {
  std::vector<std::string> corpus;
  const std::string dir = EMBER_SHARED_DIR "/testdata/templates/";
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".jinja") corpus.push_back(read_file(entry.path().string()));
  REQUIRE(corpus.size() >= 8);
  const json doc = json::parse(read_file(EMBER_TEST_DATA_DIR "/chat/jinja_cases.json"));
  for (const json& c : doc["cases"]) corpus.push_back(c["template"].get<std::string>());

  const jinja::Value ctx = jinja::parse_json(R"({
    "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": null, "tool_calls": [{"id": "abcdefghi", "type": "function",
                  "function": {"name": "f", "arguments": {"a": [1, 2.5, "x"]}}}]},
                 {"role": "tool", "tool_call_id": "abcdefghi", "content": "{}"}],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
               "parameters": {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}},
                              "required": ["a"]}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");

  const std::vector<std::string> pieces = {
      "{%", "%}", "{{", "}}", "{#", "#}", "-", "+", "(", ")", "[", "]", "{", "}", "'", "\"", "|", ".", ",", ":",
      "=", "~", "*", "**", "//", " if ", " else ", " for ", " in ", " endfor ", " endif ", " macro ", " endmacro ",
      " set ", " call ", " endcall ", " loop ", " caller() ", " namespace() ", " is ", " not ", " and ", " or ",
      " raw ", " endraw ", " filter ", " recursive ", "\\", "\n", "\xff", "\xe2\x82", " range(9) ", " messages ",
      "|tojson", "|items", "|map(attribute='a')", "|join", "|selectattr('role')", ".split()", " break ", " none "};
  std::mt19937 rng(1234);
  int parsed = 0, rendered = 0, runs = 0;
  for (const std::string& seed : corpus) {
    // Every prefix at a few dozen cut points.
    for (size_t k = 1; k <= 24; ++k) {
      const std::string cut = seed.substr(0, seed.size() * k / 25);
      std::string r = render_limited(cut, ctx);
      ++runs;
      rendered += r.rfind("error: ", 0) != 0;
    }
    // Random edits.
    for (int k = 0; k < 40; ++k) {
      std::string t = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !t.empty(); ++e) {
        size_t pos = rng() % (t.size() + 1);
        switch (rng() % 4) {
          case 0: t.insert(pos, pieces[rng() % pieces.size()]); break;
          case 1: t.erase(pos, 1 + rng() % 8); break;
          case 2: if (pos < t.size()) t[pos] = static_cast<char>(rng() % 256); break;
          default: {  // splice a slice of another corpus entry
            const std::string& other = corpus[rng() % corpus.size()];
            size_t a = rng() % (other.size() + 1), len = rng() % 64;
            t.insert(pos, other.substr(a, len));
          }
        }
      }
      std::string r = render_limited(t, ctx);
      ++runs;
      parsed += r != "error: TemplateSyntaxError";
      rendered += r.rfind("error: ", 0) != 0;
    }
  }
  MESSAGE(runs << " broken templates: " << rendered << " rendered, the rest raised an error");
  CHECK(runs > 5000);
  CHECK(parsed > 0);
}

TEST_CASE("jinja: text helpers agree with Python's str") {
  using namespace ember::jinja;
  CHECK(text::split("  a  b ", std::nullopt, 1) == std::vector<std::string>{"a", "b "});
  CHECK(text::rsplit("  a  b ", std::nullopt, 1) == std::vector<std::string>{"  a", "b"});
  CHECK(text::rsplit("a,b,c", std::string(","), 1) == std::vector<std::string>{"a,b", "c"});
  CHECK(text::pad("ab", 5, U'*', 0) == "**ab*");
  CHECK(text::pad("abc", 6, U'*', 0) == "*abc**");
  CHECK(text::replace("abc", "", "-", -1) == "-a-b-c-");
  CHECK(text::replace("aaa", "a", "b", 2) == "bba");
  CHECK(text::find("héllo", "l", std::nullopt, std::nullopt, false) == 2);
  CHECK(text::count("aaaa", "aa", std::nullopt, std::nullopt) == 2);
  CHECK(text::repr("it's") == "\"it's\"");
  CHECK(text::repr("\"'") == "'\"\\''");
  CHECK(text::slice("héllo", -3, std::nullopt, 1) == "llo");
  CHECK(text::decode("a\xff") == std::u32string{U'a', char32_t(0xDCFF)});
  CHECK(text::encode(text::decode("a\xff\xe2\x82")) == "a\xff\xe2\x82");
}
