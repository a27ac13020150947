#pragma once
// The batching engine: one Session whose KV cache holds n_parallel
// sequences, driven by one thread. Each step builds a single Batch with one
// token for every sequence that is generating and the next prompt chunk of
// sequences still reading their prompt, decodes it once, samples each
// sequence with its own SamplerChain and pushes the text to its request's
// EventQueue (continuous batching: requests join and leave between steps).
// Requests beyond the free sequences wait in a FIFO queue of bounded length.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ember/dtype.h"
#include "ember/model.h"
#include "ember/sampler.h"
#include "events.h"

namespace ember::server {

/// One text generation request, shared by its HTTP handler and the scheduler.
struct GenJob {
  std::vector<int32_t> prompt;  // not empty, shorter than the context
  std::optional<SamplerChain> sampler;  // built (and validated) by the handler
  int32_t max_tokens = -1;      // -1: until end of generation or a full context
  std::vector<std::string> stop;
  /// Test hook (--test-hooks): these tokens are emitted instead of sampled ones,
  /// then the request ends as if the model had produced end-of-generation.
  std::optional<std::vector<int32_t>> forced;
  /// Control tokens shown as their text (tool-call markers such as <|python_tag|>);
  /// other control tokens produce no text.
  std::vector<int32_t> visible_tokens;
  EventQueue events;
  /// Set by the handler when its client went away; the scheduler then drops
  /// the request and frees its sequence.
  std::atomic<bool> cancelled{false};
};

/// Inputs to embed (token lists); the result is one vector per input.
struct EmbedJob {
  std::vector<std::vector<int32_t>> inputs;
  std::promise<std::vector<std::vector<float>>> result;
};

struct SchedulerParams {
  int n_ctx = 0;         // positions per sequence (0: the model's, at most 4096)
  int n_parallel = 4;    // sequences decoded together
  int max_queue = 64;    // requests waiting for a sequence before submit() refuses
  int n_threads = 0;     // 0: the model's default
  int n_batch = 512;     // tokens per decode step
  DType kv_type = DType::F16;
};

enum class Admission { Queued, QueueFull, Stopping };

class Scheduler {
 public:
  /// Creates the Session (throws ember::Error for bad parameters) and starts the thread.
  Scheduler(std::shared_ptr<const Model> model, const SchedulerParams& params);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Queues a request; its events arrive on job->events. Thread-safe.
  Admission submit(std::shared_ptr<GenJob> job);
  /// Queues an embedding job, run on the scheduler thread between steps. Thread-safe.
  Admission submit(std::shared_ptr<EmbedJob> job);
  /// Ends the thread; queued and running requests fail with 503.
  void stop();

  int n_ctx() const noexcept { return n_ctx_; }
  int n_parallel() const noexcept { return n_parallel_; }

 private:
  struct Slot;
  void run() noexcept;
  void admit(std::vector<std::shared_ptr<GenJob>>& jobs);
  void step();
  void on_logits(Slot& s, std::span<const float> logits);
  void finish(Slot& s, FinishReason reason);
  void release(Slot& s, bool drop_cells);
  void fail_active(const std::string& message, int status);
  void run_embed(EmbedJob& job);

  std::shared_ptr<const Model> model_;
  SchedulerParams params_;
  int n_ctx_ = 0;
  int n_parallel_ = 0;
  struct Engine;  // the Session, the slots and the embedder: scheduler thread only
  std::unique_ptr<Engine> engine_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<GenJob>> waiting_;
  std::deque<std::shared_ptr<EmbedJob>> embed_waiting_;
  int n_active_ = 0;  // slots holding a request (guarded by mutex_, for the wake condition)
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ember::server
