#pragma once
// The try/catch wall between ember.h and the C++ API: handle structs, the
// error plumbing every entry point goes through, and the helpers for
// versioned option structs and caller-provided buffers.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ember.h"
#include "ember/chat.h"
#include "ember/error.h"
#include "ember/generate.h"
#include "ember/model.h"
#include "ember/session.h"

struct ember_model {
  std::shared_ptr<const ember::Model> model;
};

struct ember_session {
  explicit ember_session(ember::Session s) : session(std::move(s)) {}
  ember::Session session;
  // ember_session_decode's own cancel request (Session::cancel covers generate).
  std::atomic<bool> cancel{false};
  // Logits of a decode that ran in several chunks with all_logits: the
  // Session keeps only the last chunk's rows, so they are gathered here.
  std::vector<float> logits;
  int32_t n_logit_rows = 0;
  bool own_logits = false;
};

namespace ember::capi {

/// Records msg (or, when msg is empty, "[fn] <status string>") as this
/// thread's last error and returns status. Never throws. (It does not log:
/// a log callback that calls back into ember would deadlock on the sink's lock.)
ember_status fail(ember_status status, const char* fn, std::string_view msg) noexcept;

ember_status status_of(ErrorKind kind) noexcept;

/// Runs body (returning ember_status) and converts whatever it throws.
template <class F>
ember_status guard(const char* fn, F&& body) noexcept {
  try {
    return body();
  } catch (const Error& e) {
    return fail(status_of(e.kind()), fn, e.what());
  } catch (const std::bad_alloc&) {
    return fail(EMBER_ERR_OUT_OF_MEMORY, fn, {});
  } catch (const std::length_error&) {  // a size past what std containers can hold
    return fail(EMBER_ERR_OUT_OF_MEMORY, fn, {});
  } catch (const std::exception& e) {
    return fail(EMBER_ERR_INTERNAL, fn, e.what());
  } catch (...) {
    return fail(EMBER_ERR_INTERNAL, fn, {});
  }
}

/// "[fn] ", the prefix of every message an entry point writes.
inline std::string where(const char* fn) { return std::string("[") + fn + "] "; }

/// Throws Error(InvalidArgument, "[fn] name is NULL") when p is null.
inline void require(const void* p, const char* fn, const char* name) {
  if (!p) throw Error(ErrorKind::InvalidArgument, std::string("[") + fn + "] " + name + " is NULL");
}

/// Fills a caller's options struct of struct_size bytes from defaults
/// (T's first member is size_t struct_size).
template <class T>
ember_status init_params(T* out, size_t struct_size, const T& defaults, const char* fn) {
  require(out, fn, "params");
  if (struct_size < sizeof(size_t))
    throw Error(ErrorKind::InvalidArgument, std::string("[") + fn + "] struct_size " + std::to_string(struct_size) +
                                                " is too small (pass sizeof the struct)");
  std::memset(static_cast<void*>(out), 0, struct_size);
  std::memcpy(static_cast<void*>(out), &defaults, std::min(struct_size, sizeof(T)));
  out->struct_size = struct_size;
  return EMBER_OK;
}

/// The caller's options (NULL: defaults), reading only its struct_size bytes.
/// Bytes past this library's struct must be zero: they are fields of a newer
/// ember.h that this library would otherwise silently ignore.
template <class T>
T read_params(const T* in, const T& defaults, const char* fn, const char* name) {
  T out = defaults;
  if (!in) return out;
  const size_t n = in->struct_size;
  if (n < sizeof(size_t))
    throw Error(ErrorKind::InvalidArgument, std::string("[") + fn + "] " + name + "->struct_size is " +
                                                std::to_string(n) + ": initialise it with its default_params function");
  std::memcpy(static_cast<void*>(&out), in, std::min(n, sizeof(T)));
  const auto* bytes = reinterpret_cast<const unsigned char*>(in);
  for (size_t i = sizeof(T); i < n; ++i)
    if (bytes[i] != 0)
      throw Error(ErrorKind::Unsupported, std::string("[") + fn + "] " + name + " sets a field at byte " +
                                              std::to_string(i) + " that this libember " + ember_version() +
                                              " does not know (the program was built against a newer ember.h)");
  out.struct_size = sizeof(T);
  return out;
}

/// Copies text into a caller buffer: NUL-terminated, or BUFFER_TOO_SMALL with
/// *out_len set either way (when out_len is given).
ember_status write_text(std::string_view text, char* buf, size_t buf_size, size_t* out_len, const char* fn);

/// Copies tokens into a caller buffer, or BUFFER_TOO_SMALL; *out_n set either way.
ember_status write_tokens(const std::vector<int32_t>& tokens, ember_token* buf, size_t max, size_t* out_n,
                          const char* fn);

/// The caller's {role, content} messages (n > 0 needs a non-NULL array and
/// non-NULL strings; throws naming the field).
std::vector<ChatMessage> to_messages(const ember_chat_message* messages, size_t n, const char* fn);

/// The C++ model behind a handle (after a NULL check).
const Model& model_of(const ember_model* m, const char* fn);

/// The caller's ember_generate_params (NULL: defaults) as GenerateParams, with
/// its piece callback in on_piece; throws ember::Error naming a bad field.
GenerateParams read_generate_params(const ember_generate_params* params, ember_session& h, const char* fn,
                                    OnPiece& on_piece);
/// Throws for a stats struct whose struct_size was not set.
void check_stats(const ember_generate_stats* stats, const char* fn);
/// Fills *stats (if given) from a finished generation, up to its struct_size.
void write_stats(const GenerateResult& r, ember_generate_stats* stats) noexcept;

}  // namespace ember::capi
