#pragma once
// JSON in (template contexts, tool-call arguments) and out (the tojson
// filter, which transformers implements with Python's json.dumps).
#include <optional>
#include <string>
#include <string_view>

#include "chat/jinja/value.h"

namespace ember::jinja {

/// Parses JSON text into values (objects keep their key order). Throws
/// std::invalid_argument with the parser's message.
Value parse_json(std::string_view text);

struct JsonOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // nullopt: one line
  std::optional<std::string> item_separator;  // nullopt: ", ", or "," with an indent (json.dumps)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

/// json.dumps(v, …) byte for byte; raises TypeError for values JSON cannot hold.
std::string to_json(const Value& v, const JsonOptions& options);

}  // namespace ember::jinja
