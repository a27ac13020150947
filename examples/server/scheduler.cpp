#include "scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>

#include "ember/error.h"
#include "ember/log.h"
#include "ember/session.h"
#include "ember/stop.h"
#include "ember/tokenizer.h"
#include "embeddings.h"

namespace ember::server {

const char* finish_reason_name(FinishReason r) noexcept {
  switch (r) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::ToolCalls: return "tool_calls";
  }
  return "stop";
}

namespace {

using Clock = std::chrono::steady_clock;

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

/// A sequence of the KV cache and the request it serves.
struct Scheduler::Slot {
  int seq = 0;
  std::shared_ptr<GenJob> job;  // null: free
  uint64_t admitted = 0;        // admission order, for FIFO prompt processing
  size_t n_past = 0;            // prompt tokens in the cache
  int32_t cached = 0;           // of those, reused from the previous request
  bool generating = false;      // prompt done; `pending` is the next token to decode
  int32_t pending = 0;
  int32_t pos = 0;              // position of `pending`
  int32_t n_generated = 0;
  int32_t n_unsent = 0;         // tokens whose text is still held back
  size_t forced_next = 0;
  int out_index = -1;           // row of the last decode's logits, -1: none
  std::optional<StreamDecoder> text;
  std::optional<StopMatcher> stops;
  Clock::time_point t_start;
};

struct Scheduler::Engine {
  Session session;
  std::vector<Slot> slots;
  std::unique_ptr<Embedder> embedder;  // made on the first embeddings request
  uint64_t n_admitted = 0;
  Batch batch;

  Engine(std::shared_ptr<const Model> model, const SessionParams& sp) : session(std::move(model), sp) {}
};

Scheduler::Scheduler(std::shared_ptr<const Model> model, const SchedulerParams& params)
    : model_(std::move(model)), params_(params) {
  if (params.n_parallel < 1 || params.n_parallel > 256)
    throw Error(ErrorKind::InvalidArgument, "[serve] --parallel must be in 1..256, got " + std::to_string(params.n_parallel));
  if (params.max_queue < 0)
    throw Error(ErrorKind::InvalidArgument, "[serve] --queue must be >= 0, got " + std::to_string(params.max_queue));
  SessionParams sp;
  sp.n_ctx = params.n_ctx;
  sp.n_seq_max = params.n_parallel;
  sp.n_threads = params.n_threads;
  sp.n_batch = params.n_batch;
  sp.kv_type = params.kv_type;
  engine_ = std::make_unique<Engine>(model_, sp);
  n_ctx_ = engine_->session.n_ctx();
  n_parallel_ = params.n_parallel;
  engine_->slots.resize(size_t(n_parallel_));
  for (int i = 0; i < n_parallel_; ++i) engine_->slots[size_t(i)].seq = i;
  engine_->batch.entries.reserve(size_t(engine_->session.params().n_batch) + size_t(n_parallel_));
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Admission Scheduler::submit(std::shared_ptr<GenJob> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Admission::Stopping;
    // A free sequence takes the request at once; otherwise it waits, up to max_queue of them.
    const int free_slots = n_parallel_ - n_active_;
    if (int(waiting_.size() + embed_waiting_.size()) >= free_slots + params_.max_queue) return Admission::QueueFull;
    waiting_.push_back(std::move(job));
  }
  wake_.notify_all();
  return Admission::Queued;
}

Admission Scheduler::submit(std::shared_ptr<EmbedJob> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Admission::Stopping;
    const int free_slots = n_parallel_ - n_active_;
    if (int(waiting_.size() + embed_waiting_.size()) >= free_slots + params_.max_queue) return Admission::QueueFull;
    embed_waiting_.push_back(std::move(job));
  }
  wake_.notify_all();
  return Admission::Queued;
}

void Scheduler::run() noexcept {
  std::vector<std::shared_ptr<GenJob>> admitted;
  for (;;) {
    std::shared_ptr<EmbedJob> embed_job;
    admitted.clear();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || n_active_ > 0 || !waiting_.empty() || !embed_waiting_.empty(); });
      if (stopping_) break;
      int free_slots = n_parallel_ - n_active_;
      while (free_slots > 0 && !waiting_.empty()) {
        std::shared_ptr<GenJob> job = std::move(waiting_.front());
        waiting_.pop_front();
        if (job->cancelled.load()) continue;
        admitted.push_back(std::move(job));
        --free_slots;
      }
      n_active_ = n_parallel_ - free_slots;
      if (!embed_waiting_.empty()) {
        embed_job = std::move(embed_waiting_.front());
        embed_waiting_.pop_front();
      }
    }
    try {
      admit(admitted);
      if (embed_job) run_embed(*embed_job);
      step();
    } catch (const std::exception& e) {
      // decode() leaves the session usable after an error; the requests in flight are lost.
      log(LogLevel::Error, std::string("[serve] step failed: ") + e.what());
      fail_active(std::string("internal error: ") + e.what(), 500);
    }
  }

  // Shutting down: everyone still waiting gets an answer.
  fail_active("the server is shutting down", 503);
  std::deque<std::shared_ptr<GenJob>> waiting;
  std::deque<std::shared_ptr<EmbedJob>> embeds;
  {
    std::lock_guard lock(mutex_);
    waiting.swap(waiting_);
    embeds.swap(embed_waiting_);
  }
  for (auto& job : waiting) job->events.push({Event::Kind::Failed, "the server is shutting down", 0, {}, {}, 503});
  for (auto& job : embeds)
    job->result.set_exception(std::make_exception_ptr(Error(ErrorKind::Internal, "the server is shutting down")));
}

void Scheduler::admit(std::vector<std::shared_ptr<GenJob>>& jobs) {
  Engine& en = *engine_;
  for (auto& job : jobs) {
    // The free sequence whose cached tokens share the longest prefix with the prompt.
    Slot* best = nullptr;
    size_t best_common = 0;
    for (Slot& s : en.slots) {
      if (s.job) continue;
      const size_t common = common_prefix(en.session.kv_tokens(s.seq), job->prompt);
      if (!best || common > best_common) best = &s, best_common = common;
    }
    if (!best) {  // cannot happen: run() admits only as many as there are free slots
      job->events.push({Event::Kind::Failed, "no free sequence", 0, {}, {}, 500});
      continue;
    }
    Slot& s = *best;
    // The last prompt token is evaluated again for its logits.
    const size_t keep = std::min(best_common, job->prompt.size() - 1);
    en.session.kv_remove(s.seq, int(keep), -1);
    s.job = std::move(job);
    s.admitted = en.n_admitted++;
    s.n_past = keep;
    s.cached = int32_t(keep);
    s.generating = false;
    s.pending = 0;
    s.pos = 0;
    s.n_generated = 0;
    s.n_unsent = 0;
    s.forced_next = 0;
    s.out_index = -1;
    s.text.emplace(model_->tokenizer(), /*special=*/false);
    s.stops.emplace(s.job->stop);
    s.t_start = Clock::now();
    // The prompt counts for the repetition penalties, as in Session::generate.
    for (int32_t t : s.job->prompt) s.job->sampler->accept(t);
  }
}

void Scheduler::step() {
  Engine& en = *engine_;
  for (Slot& s : en.slots)
    if (s.job && s.job->cancelled.load()) {
      log(LogLevel::Info, "[serve] seq " + std::to_string(s.seq) + ": client gone, request cancelled");
      release(s, /*drop_cells=*/true);
    }

  Batch& batch = en.batch;
  batch.clear();
  int n_out = 0;
  for (Slot& s : en.slots) {
    s.out_index = -1;
    if (!s.job || !s.generating) continue;
    batch.add(s.pending, s.pos, s.seq, true);
    s.out_index = n_out++;
  }
  // Prompt chunks fill the rest of the step's budget, oldest request first.
  int budget = std::max(1, en.session.params().n_batch - int(batch.size()));
  std::vector<Slot*> reading;
  for (Slot& s : en.slots)
    if (s.job && !s.generating) reading.push_back(&s);
  std::sort(reading.begin(), reading.end(), [](const Slot* a, const Slot* b) { return a->admitted < b->admitted; });
  for (Slot* sp : reading) {
    if (budget <= 0) break;
    Slot& s = *sp;
    const auto& prompt = s.job->prompt;
    const size_t end = std::min(prompt.size(), s.n_past + size_t(budget));
    for (size_t i = s.n_past; i < end; ++i) {
      const bool last = i + 1 == prompt.size();
      batch.add(prompt[i], int32_t(i), s.seq, last);
      if (last) s.out_index = n_out++;
    }
    budget -= int(end - s.n_past);
    s.n_past = end;
  }
  if (batch.empty()) return;

  en.session.decode(batch);

  for (Slot& s : en.slots) {
    if (!s.job || s.out_index < 0) continue;
    if (!s.generating) {
      s.generating = true;
      s.pos = int32_t(s.job->prompt.size());
    } else {
      ++s.pos;
    }
    on_logits(s, en.session.logits(s.out_index));
  }
}

void Scheduler::on_logits(Slot& s, std::span<const float> logits) {
  GenJob& job = *s.job;
  const Tokenizer& tok = model_->tokenizer();
  if (job.max_tokens == 0) return finish(s, FinishReason::Length);
  int32_t id;
  if (job.forced) {
    if (s.forced_next >= job.forced->size()) return finish(s, FinishReason::Stop);
    id = (*job.forced)[s.forced_next++];
  } else {
    id = job.sampler->sample(logits);
  }
  job.sampler->accept(id);
  if (tok.is_eog(id)) return finish(s, FinishReason::Stop);
  ++s.n_generated;
  ++s.n_unsent;
  std::string piece;
  if (std::find(job.visible_tokens.begin(), job.visible_tokens.end(), id) != job.visible_tokens.end())
    piece = s.text->flush() + tok.token_to_piece(id, /*special=*/true);
  else
    piece = s.text->push(id);
  const StopMatcher::Step st = s.stops->push(piece);
  if (!st.text.empty()) {
    job.events.push({Event::Kind::Text, st.text, s.n_unsent, {}, {}, 0});
    s.n_unsent = 0;
  }
  if (st.stopped) return finish(s, FinishReason::Stop);
  if (job.max_tokens >= 0 && s.n_generated >= job.max_tokens) return finish(s, FinishReason::Length);
  if (s.pos >= n_ctx_) return finish(s, FinishReason::Length);  // no cell left for this token
  s.pending = id;
}

void Scheduler::finish(Slot& s, FinishReason reason) {
  GenJob& job = *s.job;
  if (!s.stops->stopped()) {
    const StopMatcher::Step tail = s.stops->push(s.text->flush());
    std::string rest = tail.text;
    if (!tail.stopped) rest += s.stops->flush();
    if (!rest.empty()) job.events.push({Event::Kind::Text, rest, s.n_unsent, {}, {}, 0});
  }
  Event done{Event::Kind::Done, {}, 0, reason, {}, 0};
  done.usage.prompt_tokens = int32_t(job.prompt.size());
  done.usage.completion_tokens = s.n_generated;
  done.usage.cached_tokens = s.cached;
  const double secs = std::chrono::duration<double>(Clock::now() - s.t_start).count();
  log(LogLevel::Info, "[serve] seq " + std::to_string(s.seq) + ": prompt " + std::to_string(job.prompt.size()) +
                          " (cached " + std::to_string(s.cached) + "), generated " + std::to_string(s.n_generated) +
                          ", " + finish_reason_name(reason) + ", " + std::to_string(int(secs * 1000)) + " ms");
  job.events.push(std::move(done));
  // The cells stay: the next request on this sequence may share their prefix.
  release(s, /*drop_cells=*/false);
}

void Scheduler::release(Slot& s, bool drop_cells) {
  if (drop_cells) engine_->session.kv_remove(s.seq);
  s.job.reset();
  s.text.reset();
  s.stops.reset();
  s.out_index = -1;
  std::lock_guard lock(mutex_);
  --n_active_;
}

void Scheduler::fail_active(const std::string& message, int status) {
  for (Slot& s : engine_->slots) {
    if (!s.job) continue;
    s.job->events.push({Event::Kind::Failed, message, 0, {}, {}, status});
    release(s, /*drop_cells=*/true);
  }
}

void Scheduler::run_embed(EmbedJob& job) {
  Engine& en = *engine_;
  try {
    if (!en.embedder)
      en.embedder = std::make_unique<Embedder>(model_, n_ctx_, en.session.params().n_batch, en.session.params().n_threads);
    std::vector<std::vector<float>> out;
    out.reserve(job.inputs.size());
    for (const auto& in : job.inputs) out.push_back(en.embedder->embed(in));
    job.result.set_value(std::move(out));
  } catch (...) {
    job.result.set_exception(std::current_exception());
  }
}

}  // namespace ember::server
