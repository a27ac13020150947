// Versions, status codes, the per-thread last error, and the buffer helpers
// every text- or token-returning entry point shares.
#include <string>

#include "capi_internal.h"

#define EMBER_STR2(x) #x
#define EMBER_STR(x) EMBER_STR2(x)

namespace ember::capi {
namespace {

// The C ABI's error slot (like errno): each thread sees its own last failure.
// `fallback` is used when even the message could not be allocated.
struct LastError {
  std::string message;
  const char* fallback = nullptr;
};

LastError& last_error() noexcept {
  thread_local LastError e;
  return e;
}

}  // namespace

ember_status status_of(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidArgument: return EMBER_ERR_INVALID_ARGUMENT;
    case ErrorKind::InvalidFile: return EMBER_ERR_INVALID_FILE;
    case ErrorKind::Io: return EMBER_ERR_IO;
    case ErrorKind::Unsupported: return EMBER_ERR_UNSUPPORTED;
    case ErrorKind::Internal: return EMBER_ERR_INTERNAL;
    case ErrorKind::Cancelled: return EMBER_ERR_CANCELLED;
  }
  return EMBER_ERR_INTERNAL;
}

ember_status fail(ember_status status, const char* fn, std::string_view msg) noexcept {
  LastError& e = last_error();
  try {
    // Messages from inside the library already name their place ("[session] ...").
    if (!msg.empty() && msg.front() == '[')
      e.message.assign(msg);
    else
      e.message = std::string("[") + fn + "] " + (msg.empty() ? ember_status_string(status) : std::string(msg));
    e.fallback = nullptr;
  } catch (...) {
    e.fallback = ember_status_string(status);
  }
  return status;
}

ember_status write_text(std::string_view text, char* buf, size_t buf_size, size_t* out_len, const char* fn) {
  if (out_len) *out_len = text.size();
  if (!buf && buf_size > 0)
    throw Error(ErrorKind::InvalidArgument,
                std::string("[") + fn + "] buf is NULL but buf_size is " + std::to_string(buf_size));
  if (text.size() >= buf_size) {
    if (buf_size > 0) buf[0] = '\0';
    return fail(EMBER_ERR_BUFFER_TOO_SMALL, fn,
                std::string("[") + fn + "] the text needs " + std::to_string(text.size() + 1) +
                    " bytes with its NUL; the buffer has " + std::to_string(buf_size));
  }
  if (!text.empty()) std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return EMBER_OK;
}

ember_status write_tokens(const std::vector<int32_t>& tokens, ember_token* buf, size_t max, size_t* out_n,
                          const char* fn) {
  if (out_n) *out_n = tokens.size();
  if (!buf && max > 0)
    throw Error(ErrorKind::InvalidArgument,
                std::string("[") + fn + "] tokens is NULL but max_tokens is " + std::to_string(max));
  if (tokens.size() > max)
    return fail(EMBER_ERR_BUFFER_TOO_SMALL, fn,
                std::string("[") + fn + "] " + std::to_string(tokens.size()) + " tokens; the buffer holds " +
                    std::to_string(max));
  if (!tokens.empty()) std::memcpy(buf, tokens.data(), tokens.size() * sizeof(ember_token));
  return EMBER_OK;
}

const Model& model_of(const ember_model* m, const char* fn) {
  require(m, fn, "model");
  return *m->model;
}

}  // namespace ember::capi

extern "C" {

EMBER_API const char* ember_version(void) {
  return EMBER_STR(EMBER_VERSION_MAJOR) "." EMBER_STR(EMBER_VERSION_MINOR) "." EMBER_STR(EMBER_VERSION_PATCH);
}

EMBER_API int ember_abi_version(void) { return EMBER_ABI_VERSION; }

EMBER_API const char* ember_status_string(ember_status status) {
  switch (status) {
    case EMBER_OK: return "ok";
    case EMBER_ERR_INVALID_ARGUMENT: return "invalid argument";
    case EMBER_ERR_INVALID_FILE: return "invalid file";
    case EMBER_ERR_IO: return "I/O error";
    case EMBER_ERR_UNSUPPORTED: return "unsupported";
    case EMBER_ERR_CANCELLED: return "cancelled";
    case EMBER_ERR_OUT_OF_MEMORY: return "out of memory";
    case EMBER_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case EMBER_ERR_INTERNAL: return "internal error";
    case EMBER_ERR_NOT_FOUND: return "not found";
    default: return "unknown status";
  }
}

EMBER_API const char* ember_last_error(void) {
  const auto& e = ember::capi::last_error();
  return e.fallback ? e.fallback : e.message.c_str();
}

}  // extern "C"
