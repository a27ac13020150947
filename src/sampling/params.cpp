#include <cmath>
#include <string>

#include "ember/error.h"
#include "ember/sampler.h"
#include "sampling/sampling_util.h"

namespace ember {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& rule, const std::string& got) {
  throw Error(ErrorKind::InvalidArgument, "[sampler] " + field + " must be " + rule + ", got " + got);
}

void check_finite(const char* field, float v) {
  if (!std::isfinite(v)) bad(field, "finite", sampling::format_float(v));
}

void check_range(const char* field, float v, float lo, bool lo_open, float hi, const char* rule) {
  const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi;
  if (!ok) bad(field, rule, sampling::format_float(v));
}

}  // namespace

namespace sampling {

void require_arg(bool ok, const char* stage, const char* what, double got) {
  if (!ok) throw Error(ErrorKind::InvalidArgument, std::string("[sampler] ") + stage + ": " + what + ", got " + format_float(got));
}

}  // namespace sampling

void SamplingParams::validate() const {
  check_finite("temperature", temperature);
  check_range("top_p", top_p, 0.0f, true, 1.0f, "in (0, 1]");
  check_range("min_p", min_p, 0.0f, false, 1.0f, "in [0, 1]");
  check_range("typical_p", typical_p, 0.0f, true, 1.0f, "in (0, 1]");
  if (!(std::isfinite(repeat_penalty) && repeat_penalty > 0.0f)) {
    bad("repeat_penalty", "finite and > 0", sampling::format_float(repeat_penalty));
  }
  if (repeat_last_n < -1) bad("repeat_last_n", ">= -1 (-1: whole context)", std::to_string(repeat_last_n));
  check_finite("frequency_penalty", frequency_penalty);
  check_finite("presence_penalty", presence_penalty);
  for (const auto& [id, bias] : logit_bias) {
    if (id < 0) bad("logit_bias token id", ">= 0", std::to_string(id));
    // -inf is the documented ban; +inf or NaN would poison the softmax.
    if (std::isnan(bias) || (std::isinf(bias) && bias > 0)) {
      bad("logit_bias[" + std::to_string(id) + "]", "finite or -inf", sampling::format_float(bias));
    }
  }
}

}  // namespace ember
