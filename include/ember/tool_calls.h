#pragma once
// Tool calls in model output: the text a model writes when it calls a tool,
// in the three formats open-weight models use, split into calls and content.
//
// Model output is untrusted: anything malformed (bad JSON, a missing name,
// arguments of the wrong type, a call cut off by the token limit) stays in
// the content as plain text. Nothing here throws on model output.
//
// Thread safety: free functions without shared state.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ember/chat.h"

namespace ember {

enum class ToolCallFormat {
  /// Whichever of the formats below the output shows (tried in the order Mistral, Hermes, Llama31).
  Auto,
  /// Qwen2.5/Qwen3, Hermes 2 Pro: <tool_call>{"name": ..., "arguments": {...}}</tool_call>, possibly several.
  Hermes,
  /// Llama 3.1+: {"name": ..., "parameters": {...}}, optionally after <|python_tag|>; several
  /// separated by ';' or newlines.
  Llama31,
  /// Mistral: [TOOL_CALLS] [{"name": ..., "arguments": {...}, "id": "..."}, ...]; also the newer
  /// [TOOL_CALLS]name[ARGS]{...} form.
  Mistral,
  /// No tool calls: everything is content.
  None,
};

const char* tool_call_format_name(ToolCallFormat f) noexcept;

struct ParsedToolCalls {
  /// The text outside the calls. Without calls it is the output unchanged; with calls, the
  /// whitespace next to each removed call is dropped and the remaining pieces are joined by "\n".
  std::string content;
  /// id: the model's own (Mistral) or "call_" + 24 alphanumerics derived from the output, the
  /// call's index and id_seed; arguments: compact JSON text of an object.
  std::vector<ChatToolCall> calls;
};

/// Splits model output into tool calls and content. A call needs a string "name" and an
/// object "arguments" ("parameters" is accepted too, as is a string holding a JSON object;
/// missing arguments are {}). A Hermes call whose closing </tool_call> is missing is accepted
/// when its JSON is complete and nothing but whitespace follows (the model ended its turn
/// there). id_seed varies the generated ids, e.g. per conversation turn.
ParsedToolCalls parse_tool_calls(std::string_view model_output, ToolCallFormat format, uint64_t id_seed = 0);

/// The format a chat template asks its model for, from markers in the template text:
/// "[TOOL_CALLS]" -> Mistral, "<tool_call>" -> Hermes, "<|python_tag|>" or a "parameters"
/// key next to Llama 3 header tokens -> Llama31; None when the template shows no tool syntax.
ToolCallFormat detect_tool_call_format(std::string_view chat_template);

/// Control tokens of the format that must stay visible in generated text for the parser to
/// see them (generation normally drops control tokens): e.g. "<|python_tag|>", "[TOOL_CALLS]".
std::vector<std::string> tool_call_marker_tokens(ToolCallFormat format);

}  // namespace ember
