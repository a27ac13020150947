#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ember/error.h"
#include "tokenizer/unicode.h"

namespace ember::tok {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

struct MatchData {
  explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* md;
};

}  // namespace

Regex::Regex(std::string_view pattern) : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  // MATCH_INVALID_UTF: any bytes may be matched against; invalid sequences just never match.
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &err,
                                   &err_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    throw Error(ErrorKind::Internal, "[tokenizer] regex '" + pattern_ + "' at offset " + std::to_string(err_offset) +
                                         ": " + reinterpret_cast<const char*>(msg));
  }
  // Without JIT support PCRE2 falls back to its interpreter, which gives the same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto owner = std::make_shared<Code>();
  owner->code = code;
  code_ = std::move(owner);
}

void Regex::split(std::string_view text, const std::vector<Span>& in, std::vector<Span>& out) const {
  MatchData match(code_->code);
  if (!match.md) throw Error(ErrorKind::Internal, "[tokenizer] regex: out of memory for match data");
  const auto* base = reinterpret_cast<PCRE2_SPTR>(text.data());
  for (const Span& span : in) {
    const PCRE2_SPTR subject = base + span.begin;
    const size_t len = span.end - span.begin;
    size_t pos = 0;   // where the next search starts
    size_t done = 0;  // end of the last piece emitted
    while (pos < len) {
      const int rc = pcre2_match(code_->code, subject, len, pos, 0, match.md, nullptr);
      if (rc < 0) break;  // no match (or a resource limit): the rest stays one piece
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match.md);
      const size_t m0 = ov[0], m1 = ov[1];
      if (m1 <= m0) {  // an empty match splits nothing; step past one byte
        pos = m0 < len ? m0 + utf8_next(std::string_view(reinterpret_cast<const char*>(subject), len), m0).len : len;
        continue;
      }
      if (m0 > done) out.push_back({span.begin + done, span.begin + m0});
      out.push_back({span.begin + m0, span.begin + m1});
      done = pos = m1;
    }
    if (done < len) out.push_back({span.begin + done, span.end});
  }
}

}  // namespace ember::tok
