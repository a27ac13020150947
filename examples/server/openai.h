#pragma once
// The OpenAI wire format: request bodies checked field by field (a wrong type
// is a 400 naming the field) and response / stream-chunk bodies built.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "ember/chat.h"
#include "ember/sampler.h"
#include "events.h"

namespace ember::server {

using json = nlohmann::json;

/// An error answered as {"error": {"message", "type", "param", "code"}} with an HTTP status.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = {})
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)) {}
  int status() const noexcept { return status_; }
  const std::string& type() const noexcept { return type_; }
  const std::string& param() const noexcept { return param_; }

 private:
  int status_;
  std::string type_;
  std::string param_;
};

/// 400 invalid_request_error.
ApiError bad_request(const std::string& message, const std::string& param = {});
json error_body(int status, const std::string& type, const std::string& message, const std::string& param = {});

/// The body as a JSON object; 400 for malformed JSON or another type.
json parse_body(const std::string& body);

/// Sampling and stopping fields shared by chat and text completions.
struct GenerationFields {
  SamplingParams sampling;
  std::optional<int32_t> max_tokens;  // -1: until end of generation or a full context; unset: the default
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<std::string> forced_output;  // ember_test_force_output (--test-hooks only)
};
GenerationFields parse_generation_fields(const json& body, bool test_hooks);

struct ChatRequest {
  GenerationFields gen;
  std::vector<ChatMessage> messages;
  json tools;  // the request's "tools" array as given (null: none, or tool_choice "none")
  json chat_template_kwargs;  // extra template variables (llama.cpp's field), an object or null
};
ChatRequest parse_chat_request(const json& body, bool test_hooks);

/// A prompt is text or, as OpenAI allows, a list of token ids.
using Prompt = std::variant<std::string, std::vector<int32_t>>;

struct CompletionRequest {
  GenerationFields gen;
  std::vector<Prompt> prompts;  // one choice each
};
CompletionRequest parse_completion_request(const json& body, bool test_hooks);

struct EmbeddingRequest {
  std::vector<Prompt> inputs;
  bool base64 = false;  // encoding_format "base64": little-endian float32 bytes
};
EmbeddingRequest parse_embedding_request(const json& body);

// --- responses -----------------------------------------------------------------

/// prefix + "-" + 24 hex digits from the request's serial number and the clock.
std::string make_id(const char* prefix, uint64_t serial);
int64_t unix_time();

json usage_json(const Usage& u);
json tool_calls_json(const std::vector<ChatToolCall>& calls);
/// float32 values as base64 of their little-endian bytes.
std::string base64_floats(const std::vector<float>& v);

}  // namespace ember::server
