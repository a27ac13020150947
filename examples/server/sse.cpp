#include "sse.h"

#include "events.h"

namespace ember::server {

std::string sse_data(const nlohmann::json& chunk) {
  // Invalid UTF-8 (cannot come from the stream decoder, but never worth a throw) is replaced.
  return "data: " + chunk.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

void EventQueue::push(Event e) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(e));
  }
  ready_.notify_one();
}

std::optional<Event> EventQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::deque<Event> EventQueue::pop_all(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !events_.empty(); });
  std::deque<Event> out;
  out.swap(events_);
  return out;
}

}  // namespace ember::server
