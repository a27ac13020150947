#pragma once
#include <string_view>

#include "chat/jinja/ast.h"

namespace ember::jinja {

/// Parses template source as jinja2 does in Hugging Face's configuration
/// (trim_blocks, lstrip_blocks, loopcontrols, the generation tag). Throws
/// JinjaError("TemplateSyntaxError" or "TemplateAssertionError", …) with the line.
Template parse_template(std::string_view source);

/// The filter and test names jinja2 knows (ember implements all but a few).
bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

}  // namespace ember::jinja
