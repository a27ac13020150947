#pragma once
// PCRE2 (UTF + UCP + JIT) patterns for the pre-tokenizers. A Regex is
// immutable once built and may be shared by threads; each split() call uses
// its own match data.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ember::tok {

/// A piece of the text being tokenized, as a byte range.
struct Span {
  size_t begin;
  size_t end;
};

class Regex {
 public:
  /// Compiles pattern (our own table's, so a failure is an Internal error naming it).
  explicit Regex(std::string_view pattern);

  /// Splits every span of `in` at this pattern's matches, keeping both the
  /// matches and the text between them ("isolated" splitting), and appends the
  /// pieces in order to out. Each span is matched on its own, so lookarounds
  /// do not see past it. Bytes that are not valid UTF-8 never match.
  void split(std::string_view text, const std::vector<Span>& in, std::vector<Span>& out) const;

  const std::string& pattern() const noexcept { return pattern_; }

 private:
  struct Code;
  std::string pattern_;
  std::shared_ptr<const Code> code_;
};

}  // namespace ember::tok
