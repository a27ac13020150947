#pragma once
// The library's log sink: the one piece of mutable global state besides CPU
// detection. By default messages at Warn and above go to stderr; a host
// (or the C ABI's logging callback) may route them elsewhere.
#include <functional>
#include <string_view>

namespace ember {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, None = 4 };

using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// Replaces the sink (an empty function restores the default). Thread-safe.
void set_log_sink(LogSink sink);
/// Messages below this level are dropped before formatting reaches the sink.
void set_log_level(LogLevel level);
LogLevel log_level() noexcept;
/// Sends one message; safe from any thread.
void log(LogLevel level, std::string_view message);

}  // namespace ember
