#pragma once
// The channel from the scheduler thread to one request's HTTP handler: the
// scheduler pushes pieces of text as tokens are sampled and one final event;
// the handler (an httplib worker thread) pops them, blocking with a timeout
// so a streaming connection can notice that its client went away.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace ember::server {

enum class FinishReason { Stop, Length, ToolCalls };
const char* finish_reason_name(FinishReason r) noexcept;

struct Usage {
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;  // prompt tokens found in the KV cache (prefix reuse)
};

struct Event {
  enum class Kind { Text, Done, Failed };
  Kind kind = Kind::Text;
  std::string text;    // Text: the next piece (whole UTF-8); Failed: the message
  int32_t n_tokens = 0;  // Text: tokens this piece came from
  FinishReason finish = FinishReason::Stop;  // Done
  Usage usage;                               // Done
  int status = 500;                          // Failed: the HTTP status to report
};

/// Thread safety: push from one thread, pop from another.
class EventQueue {
 public:
  void push(Event e);
  /// The next event, or nullopt after `timeout` without one.
  std::optional<Event> pop(std::chrono::milliseconds timeout);
  /// Every event queued now (possibly none), waiting up to `timeout` for the first.
  std::deque<Event> pop_all(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Event> events_;
};

}  // namespace ember::server
