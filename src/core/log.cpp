#include "ember/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace ember {
namespace {

struct Logger {
  std::mutex mutex;
  LogSink sink;
  std::atomic<int> level{int(LogLevel::Warn)};
};

Logger& logger() {
  static Logger l;
  return l;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warning";
    case LogLevel::Error: return "error";
    case LogLevel::None: break;
  }
  return "";
}

}  // namespace

void set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(logger().mutex);
  logger().sink = std::move(sink);
}

void set_log_level(LogLevel level) { logger().level.store(int(level), std::memory_order_relaxed); }
LogLevel log_level() noexcept { return LogLevel(logger().level.load(std::memory_order_relaxed)); }

void log(LogLevel level, std::string_view message) {
  if (int(level) < logger().level.load(std::memory_order_relaxed) || level == LogLevel::None) return;
  std::lock_guard<std::mutex> lock(logger().mutex);
  if (logger().sink) {
    logger().sink(level, message);
    return;
  }
  std::fprintf(stderr, "ember %s: %.*s\n", level_name(level), int(message.size()), message.data());
}

}  // namespace ember
