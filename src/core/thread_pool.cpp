// Workers spin briefly on the generation counter before sleeping: a decode
// step runs hundreds of small parallel sections, and waking a sleeping
// thread costs more than the work of one of them.
#include "ember/thread_pool.h"

#include <chrono>

#include "ember/error.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define EMBER_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define EMBER_CPU_RELAX() __asm__ volatile("yield")
#else
#define EMBER_CPU_RELAX() ((void)0)
#endif

namespace ember {

namespace {
constexpr auto kSpinTime = std::chrono::microseconds(200);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1 || n_threads > 1024)
    throw Error(ErrorKind::InvalidArgument, "[thread_pool] n_threads must be in 1..1024, got " + std::to_string(n_threads));
  workers_.reserve(size_t(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::execute(int ith) noexcept {
  try {
    (*job_)(ith, n_threads_);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  for (;;) {
    // Spin, then sleep until the generation moves on.
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (uint32_t i = 0; gen == seen && std::chrono::steady_clock::now() < spin_until; ++i) {
      for (int k = 0; k < 64; ++k) EMBER_CPU_RELAX();
      if (i % 16 == 15) std::this_thread::yield();  // let a descheduled peer run on a busy machine
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    execute(ith);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  error_ = nullptr;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    // Under the lock, so a worker between its check and its wait cannot miss it.
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  execute(0);
  // Spin while the others finish; past the spin budget yield the core, since a
  // worker that the OS descheduled (other processes on the machine) can only
  // finish if it gets to run.
  for (uint32_t i = 0; pending_.load(std::memory_order_acquire) != 0; ++i) {
    if (i < 4096)
      EMBER_CPU_RELAX();
    else
      std::this_thread::yield();
  }
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int64_t chunks = (n + grain - 1) / grain;
  if (chunks == 1 || n_threads_ == 1) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  run([&](int, int) {
    for (int64_t c = next.fetch_add(1, std::memory_order_relaxed); c < chunks;
         c = next.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t begin = c * grain;
      fn(begin, std::min(n, begin + grain));
    }
  });
}

}  // namespace ember
