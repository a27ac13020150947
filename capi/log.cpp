// ember_set_log_callback / ember_set_log_level: the C face of ember::set_log_sink.
#include <string>

#include "capi_internal.h"
#include "ember/log.h"

using namespace ember;
using namespace ember::capi;

static_assert(int(LogLevel::Debug) == EMBER_LOG_DEBUG && int(LogLevel::Info) == EMBER_LOG_INFO &&
              int(LogLevel::Warn) == EMBER_LOG_WARN && int(LogLevel::Error) == EMBER_LOG_ERROR &&
              int(LogLevel::None) == EMBER_LOG_NONE);

extern "C" {

EMBER_API ember_status ember_set_log_callback(ember_log_callback callback, void* user_data) {
  return guard("ember_set_log_callback", [&]() -> ember_status {
    if (!callback) {
      set_log_sink({});
      return EMBER_OK;
    }
    set_log_sink([callback, user_data](LogLevel level, std::string_view message) {
      const std::string msg(message);  // the callback gets a NUL-terminated copy
      callback(int(level), msg.c_str(), user_data);
    });
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_set_log_level(int level) {
  return guard("ember_set_log_level", [&]() -> ember_status {
    if (level < EMBER_LOG_DEBUG || level > EMBER_LOG_NONE)
      throw Error(ErrorKind::InvalidArgument, "[ember_set_log_level] level " + std::to_string(level) +
                                                  " is not one of EMBER_LOG_DEBUG (0) .. EMBER_LOG_NONE (4)");
    set_log_level(LogLevel(level));
    return EMBER_OK;
  });
}

}  // extern "C"
