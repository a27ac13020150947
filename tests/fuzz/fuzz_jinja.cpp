// libFuzzer target for the chat-template interpreter: any template source
// must parse and render (against a fixed conversation with tools and tool
// calls) or raise ember::Error — never crash, hang on unbounded output, or
// throw anything else. Seeds: ../shared/testdata/templates/*.jinja and
// tests/fuzz/jinja.dict (see docs/chat-templates.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/chat.h"
#include "ember/error.h"

namespace {

constexpr std::string_view kContext = R"({
  "messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris? Ünïcödé ✓"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2.5, true, null]}}}]},
    {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21}"},
    {"role": "assistant", "content": "Sunny, 21 °C."}
  ],
  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
  "add_generation_prompt": true,
  "bos_token": "<s>",
  "eos_token": "</s>"
})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  ember::ChatRenderOptions options;
  options.now = ember::ChatDateTime{2026, 11, 24, 12, 0, 0};
  options.max_output_bytes = size_t(1) << 20;  // loops that multiply text stop here with an error
  try {
    const ember::ChatTemplate t = ember::ChatTemplate::parse(source);
    (void)t.render_json(kContext, options);
  } catch (const ember::Error&) {
  }
  return 0;
}
