// run_server: load the model, start the scheduler, listen until SIGINT/SIGTERM.
#include <httplib.h>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "chat_prompt.h"
#include "ember/error.h"
#include "ember/log.h"
#include "http.h"
#include "scheduler.h"
#include "serve.h"

namespace ember::server {
namespace {

DType parse_kv_type(const std::string& s) {
  if (s == "f16") return DType::F16;
  if (s == "q8_0") return DType::Q8_0;
  if (s == "q4_0") return DType::Q4_0;
  throw Error(ErrorKind::InvalidArgument, "[serve] --kv-type must be f16, q8_0 or q4_0, got '" + s + "'");
}

LogLevel parse_log_level(const std::string& s) {
  if (s == "debug") return LogLevel::Debug;
  if (s == "warn") return LogLevel::Warn;
  if (s == "error") return LogLevel::Error;
  return LogLevel::Info;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, "[serve] cannot read the chat template file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// SIGINT and SIGTERM are blocked in every thread and collected by one
/// watcher thread, so no handler runs inside the server's code.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalWatcher() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  template <class F>
  void start(F on_signal) {
    thread_ = std::thread([this, on_signal] {
      while (!done_.load()) {
        const timespec wait{0, 200 * 1000 * 1000};
        const int sig = sigtimedwait(&set_, nullptr, &wait);
        if (sig == SIGINT || sig == SIGTERM) {
          on_signal(sig);
          return;
        }
      }
    });
  }

 private:
  sigset_t set_, old_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

int run_server(const ServeOptions& o) {
  // Before any thread starts, so that they all inherit the blocked mask.
  SignalWatcher signals;
  // A write to a client that went away must fail with EPIPE, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  set_log_level(parse_log_level(o.log_level));

  const DType kv_type = parse_kv_type(o.kv_type);
  std::optional<std::string> tmpl;
  if (!o.chat_template_file.empty()) tmpl = read_text_file(o.chat_template_file);

  ModelParams mp;
  mp.n_threads = o.threads;
  mp.use_mmap = !o.no_mmap;
  std::shared_ptr<const Model> model = Model::load(o.model, mp);
  if (!model->has_tokenizer()) throw Error(ErrorKind::InvalidArgument, "[serve] the model file has no tokenizer");
  ChatPrompt chat(model, tmpl);

  SchedulerParams sp;
  sp.n_ctx = o.n_ctx;
  sp.n_parallel = o.parallel;
  sp.max_queue = o.queue;
  sp.n_threads = o.threads;
  sp.n_batch = o.n_batch;
  sp.kv_type = kv_type;
  Scheduler scheduler(model, sp);

  ServerState st;
  st.opts = o;
  st.model = model;
  st.scheduler = &scheduler;
  st.chat = &chat;
  st.model_id = o.alias.empty() ? std::filesystem::path(o.model).filename().string() : o.alias;
  st.created = int64_t(std::time(nullptr));

  httplib::Server svr;
  // Every waiting request holds a connection thread: enough for the sequences, the queue and a few more.
  const size_t n_http_threads = size_t(o.parallel) + size_t(o.queue) + 8;
  svr.new_task_queue = [n_http_threads] { return new httplib::ThreadPool(n_http_threads); };
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log(LogLevel::Debug, "[serve] " + req.method + " " + req.path + " -> " + std::to_string(res.status));
  });
  setup_routes(svr, st);

  int port = o.port;
  if (port == 0) port = svr.bind_to_any_port(o.host);
  else if (!svr.bind_to_port(o.host, port)) port = -1;
  if (port <= 0)
    throw Error(ErrorKind::Io, "[serve] cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                   " (address in use or not available)");

  std::fprintf(stderr, "ember serve: %s\n", model->description().c_str());
  std::fprintf(stderr, "ember serve: chat template: %s; tool calls: %s\n",
               !o.chat_template_file.empty() ? o.chat_template_file.c_str()
               : chat.uses_fallback()        ? "ChatML (the model has none)"
                                             : "the model's",
               tool_call_format_name(chat.tool_format()));
  std::fprintf(stderr, "ember serve: %d sequences x %d positions, queue %d%s\n", scheduler.n_parallel(),
               scheduler.n_ctx(), o.queue, o.api_key.empty() ? "" : ", API key required");
  std::fprintf(stderr, "ember serve: listening on http://%s:%d\n", o.host.c_str(), port);
  std::fflush(stderr);

  signals.start([&](int sig) {
    log(LogLevel::Info, std::string("[serve] ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": stopping");
    scheduler.stop();  // requests in flight end with 503, so no handler keeps the server waiting
    svr.stop();
  });
  const bool ok = svr.listen_after_bind();
  scheduler.stop();
  std::fprintf(stderr, "ember serve: stopped\n");
  return ok ? 0 : 1;
}

}  // namespace ember::server
