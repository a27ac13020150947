#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace ember::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(isatty(2)) {}
  ~ProgressBar() { done(); }

  void update(double fraction) {
    if (!tty_ || finished_) return;
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && now - last_ < std::chrono::milliseconds(50)) return;
    last_ = now;
    const int width = 30, filled = int(fraction * width + 0.5);
    std::fprintf(stderr, "\r%s [%s%s] %3d%%", label_.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), '.').c_str(), int(fraction * 100 + 0.5));
    drawn_ = true;
  }
  void done() {
    if (drawn_ && !finished_) std::fprintf(stderr, "\r\033[K");
    finished_ = true;
  }

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false, finished_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace ember::cli
