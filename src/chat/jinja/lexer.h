#pragma once
// Splits template source into tokens the way jinja2's lexer does with
// trim_blocks and lstrip_blocks on: data between tags (with whitespace
// control applied), tag delimiters, and the names, literals and operators
// inside tags. Comments vanish and {% raw %} bodies come out as data.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::jinja {

enum class Tok : uint8_t { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Op, Eof };

struct Token {
  Tok type;
  std::string text;  // data, name, decoded string literal, or operator
  int line = 1;
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

/// Throws JinjaError("TemplateSyntaxError", …) with the line set.
std::vector<Token> tokenize(std::string_view source, const LexOptions& options = {});

}  // namespace ember::jinja
