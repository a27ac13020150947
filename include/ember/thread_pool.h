#pragma once
// The library's own thread pool (no OpenMP). The calling thread takes part
// as thread 0, so a pool of n threads starts n - 1 workers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ember {

class ThreadPool {
 public:
  /// n_threads >= 1 (throws ember::Error otherwise).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const noexcept { return n_threads_; }

  /// Runs fn(ith, nth) once on each of the nth threads and returns when all
  /// are done. The first exception thrown by any thread is rethrown here.
  /// Not reentrant: one run() at a time per pool.
  void run(const std::function<void(int ith, int nth)>& fn);

  /// Splits [0, n) into chunks of `grain` handed out dynamically, so a
  /// thread that the OS delays does not hold up the others.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  void worker(int ith);
  void execute(int ith) noexcept;

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace ember
