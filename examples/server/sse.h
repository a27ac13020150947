#pragma once
// Server-sent events as the OpenAI streaming API frames them: one
// "data: {json}\n\n" per chunk, then "data: [DONE]\n\n".
#include <string>

#include <nlohmann/json.hpp>

namespace ember::server {

/// "data: " + compact JSON + "\n\n" (the JSON is one line: newlines in strings are escaped).
std::string sse_data(const nlohmann::json& chunk);
/// The stream's last event.
inline constexpr const char* kSseDone = "data: [DONE]\n\n";
/// A comment line clients ignore; writing it shows whether the client is still there.
inline constexpr const char* kSsePing = ": ping\n\n";

}  // namespace ember::server
