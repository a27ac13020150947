#include "http.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <vector>

#include "ember/error.h"
#include "ember/log.h"
#include "chat/tool_call_stream.h"
#include "ember/tool_calls.h"
#include "openai.h"
#include "sse.h"

namespace ember::server {
namespace {

using namespace std::chrono_literals;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  send_json(res, e.status(), error_body(e.status(), e.type(), e.what(), e.param()));
}

ApiError unavailable(const std::string& message) { return ApiError(503, "unavailable_error", message); }

/// Runs a handler so that nothing it throws escapes: ApiError keeps its status,
/// ember::Error from checking input is a 400, anything else a 500.
template <class F>
httplib::Server::Handler guarded(F fn) {
  return [fn](const httplib::Request& req, httplib::Response& res) {
    try {
      fn(req, res);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const Error& e) {
      const bool input = e.kind() == ErrorKind::InvalidArgument || e.kind() == ErrorKind::Unsupported;
      send_error(res, ApiError(input ? 400 : 500, input ? "invalid_request_error" : "server_error", e.what()));
    } catch (const std::exception& e) {
      log(LogLevel::Error, std::string("[serve] ") + req.path + ": " + e.what());
      send_error(res, ApiError(500, "server_error", std::string("internal error: ") + e.what()));
    }
  };
}

void check_prompt_fits(size_t n_prompt, int n_ctx, const char* param) {
  if (n_prompt == 0) throw bad_request("the prompt is empty", param);
  if (n_prompt >= size_t(n_ctx))
    throw bad_request("the prompt has " + std::to_string(n_prompt) + " tokens; the context holds " +
                          std::to_string(n_ctx) + " tokens per sequence (-c): the prompt plus at least one " +
                          "generated token must fit",
                      param);
}

std::vector<int32_t> prompt_tokens(const ServerState& st, const Prompt& p, const char* param, bool add_special) {
  const Tokenizer& tok = st.model->tokenizer();
  if (const auto* ids = std::get_if<std::vector<int32_t>>(&p)) {
    for (int32_t id : *ids)
      if (id >= tok.n_vocab())
        throw bad_request("token id " + std::to_string(id) + " is outside the vocabulary (" +
                              std::to_string(tok.n_vocab()) + " tokens)",
                          param);
    return *ids;
  }
  return tok.encode(std::get<std::string>(p), add_special, /*parse_special=*/true);
}

std::shared_ptr<GenJob> make_job(const ServerState& st, std::vector<int32_t> prompt, const GenerationFields& g,
                                 int32_t default_max_tokens, const char* param) {
  check_prompt_fits(prompt.size(), st.scheduler->n_ctx(), param);
  auto job = std::make_shared<GenJob>();
  job->prompt = std::move(prompt);
  try {
    job->sampler.emplace(SamplerChain::from_params(g.sampling, st.model->config().n_vocab));
  } catch (const Error& e) {
    throw bad_request(e.what(), "logit_bias");
  }
  job->max_tokens = g.max_tokens.value_or(default_max_tokens);
  job->stop = g.stop;
  if (g.forced_output)
    job->forced = st.model->tokenizer().encode(*g.forced_output, /*add_special=*/false, /*parse_special=*/true);
  return job;
}

void submit(Scheduler& sched, std::shared_ptr<GenJob> job) {
  switch (sched.submit(std::move(job))) {
    case Admission::Queued: return;
    case Admission::QueueFull:
      throw unavailable("the server is busy: every sequence is in use and the queue (--queue) is full; retry later");
    case Admission::Stopping: throw unavailable("the server is shutting down");
  }
}

struct Collected {
  std::string text;
  FinishReason finish = FinishReason::Stop;
  Usage usage;
};

/// Waits for a non-streamed job to end.
Collected collect(GenJob& job) {
  Collected c;
  for (;;) {
    std::optional<Event> e = job.events.pop(1000ms);
    if (!e) continue;
    switch (e->kind) {
      case Event::Kind::Text: c.text += e->text; break;
      case Event::Kind::Done:
        c.finish = e->finish;
        c.usage = e->usage;
        return c;
      case Event::Kind::Failed:
        throw ApiError(e->status, e->status == 503 ? "unavailable_error" : "server_error", e->text);
    }
  }
}

/// Turns a job's events into SSE chunks; one per kind of stream.
class StreamFormat {
 public:
  virtual ~StreamFormat() = default;
  virtual std::string start() { return {}; }
  virtual std::string text(const std::string& piece) = 0;
  virtual std::string done(const Event& e) = 0;
};

/// Streams a job's events through a chunked response until the job ends or the client goes.
void stream_job(httplib::Response& res, std::shared_ptr<GenJob> job, std::shared_ptr<StreamFormat> format) {
  struct State {
    bool started = false, finished = false;
    int idle = 0;
  };
  auto state = std::make_shared<State>();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [job, format, state](size_t, httplib::DataSink& sink) -> bool {
        if (state->finished) {
          sink.done();
          return true;
        }
        std::string out;
        if (!state->started) {
          out = format->start();
          state->started = true;
        }
        std::deque<Event> events = job->events.pop_all(500ms);
        if (events.empty() && out.empty()) {
          // Nothing to send for a while (queued, or a long prompt): a comment shows whether the client is still there.
          if (++state->idle < 4) return true;
          state->idle = 0;
          out = kSsePing;
        }
        for (Event& e : events) {
          state->idle = 0;
          if (state->finished) break;
          switch (e.kind) {
            case Event::Kind::Text: out += format->text(e.text); break;
            case Event::Kind::Done:
              out += format->done(e);
              out += kSseDone;
              state->finished = true;
              break;
            case Event::Kind::Failed:
              out += sse_data(error_body(e.status, e.status == 503 ? "unavailable_error" : "server_error", e.text));
              out += kSseDone;
              state->finished = true;
              break;
          }
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;  // client gone
        if (state->finished) sink.done();
        return true;
      },
      [job, state](bool) {
        // Ended before the last event (a failed write, a server stop): the scheduler frees the sequence.
        if (!state->finished) job->cancelled.store(true);
      });
}

// --- chat ------------------------------------------------------------------------

struct ChatOutput {
  std::string content;
  std::vector<ChatToolCall> calls;
  FinishReason finish = FinishReason::Stop;
};

ChatOutput chat_output(const ServerState& st, const std::string& text, FinishReason finish, bool tools, uint64_t serial) {
  ChatOutput out;
  out.finish = finish;
  if (!tools) {
    out.content = text;
    return out;
  }
  ParsedToolCalls parsed = parse_tool_calls(text, st.chat->tool_format(), serial);
  out.content = std::move(parsed.content);
  out.calls = std::move(parsed.calls);
  if (!out.calls.empty()) out.finish = FinishReason::ToolCalls;
  return out;
}

class ChatStream : public StreamFormat {
 public:
  ChatStream(const ServerState& st, std::string id, bool tools, bool include_usage, uint64_t serial)
      : st_(st), id_(std::move(id)), tools_(tools), include_usage_(include_usage), serial_(serial),
        sink_([this](std::string_view piece) {
          held_out_ += piece;
          return true;
        }),
        holdback_(sink_) {}

  std::string start() override { return chunk({{"role", "assistant"}, {"content", ""}}, nullptr); }

  std::string text(const std::string& piece) override {
    if (!tools_) return chunk({{"content", piece}}, nullptr);
    // Content goes out until what may be a tool call starts; the rest waits for the parser.
    text_ += piece;
    holdback_.push(piece);
    return take_content();
  }

  std::string done(const Event& e) override {
    std::string out;
    FinishReason finish = e.finish;
    if (tools_) {
      const ChatOutput co = chat_output(st_, text_, e.finish, true, serial_);
      holdback_.finish(co.content);
      out += take_content();
      const json calls = tool_calls_json(co.calls);
      for (const json& c : calls) out += chunk({{"tool_calls", json::array({c})}}, nullptr);
      finish = co.finish;
    }
    out += chunk(json::object(), finish_reason_name(finish));
    if (include_usage_) {
      json j = base();
      j["choices"] = json::array();
      j["usage"] = usage_json(e.usage);
      out += sse_data(j);
    }
    return out;
  }

 private:
  json base() const {
    return json{{"id", id_}, {"object", "chat.completion.chunk"}, {"created", unix_time()}, {"model", st_.model_id},
                {"system_fingerprint", "ember"}};
  }
  std::string chunk(json delta, const char* finish) const {
    json j = base();
    j["choices"] = json::array({json{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", finish ? json(finish) : json(nullptr)}}});
    if (include_usage_) j["usage"] = nullptr;
    return sse_data(j);
  }
  std::string take_content() {
    if (held_out_.empty()) return {};
    std::string c = chunk({{"content", held_out_}}, nullptr);
    held_out_.clear();
    return c;
  }

  const ServerState& st_;
  std::string id_;
  bool tools_, include_usage_;
  uint64_t serial_;
  std::string text_;      // everything generated (with tools)
  std::string held_out_;  // content the hold-back released, not yet framed
  OnPiece sink_;
  chat::ToolCallStream holdback_;
};

void handle_chat(ServerState& st, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req.body);
  ChatRequest cr = parse_chat_request(body, st.opts.test_hooks);
  const bool tools = !cr.tools.is_null();
  std::string prompt;
  try {
    prompt = st.chat->render(cr.messages, cr.tools, cr.chat_template_kwargs);
  } catch (const Error& e) {
    throw bad_request(std::string("the chat template cannot render these messages: ") + e.what(), "messages");
  }
  for (const std::string& s : st.chat->extra_stops()) cr.gen.stop.push_back(s);
  auto job = make_job(st, st.chat->tokenize(prompt), cr.gen, st.opts.n_predict, "messages");
  if (tools) job->visible_tokens = st.chat->marker_tokens();
  const uint64_t serial = st.serial.fetch_add(1);
  const std::string id = make_id("chatcmpl", serial);
  submit(*st.scheduler, job);

  if (cr.gen.stream) {
    stream_job(res, job, std::make_shared<ChatStream>(st, id, tools, cr.gen.include_usage, serial));
    return;
  }
  const Collected c = collect(*job);
  const ChatOutput co = chat_output(st, c.text, c.finish, tools, serial);
  json message = {{"role", "assistant"}, {"content", co.content}};
  if (!co.calls.empty()) {
    message["tool_calls"] = tool_calls_json(co.calls);
    if (co.content.empty()) message["content"] = nullptr;
  }
  send_json(res, 200,
            json{{"id", id},
                 {"object", "chat.completion"},
                 {"created", unix_time()},
                 {"model", st.model_id},
                 {"system_fingerprint", "ember"},
                 {"choices", json::array({json{{"index", 0},
                                               {"message", std::move(message)},
                                               {"logprobs", nullptr},
                                               {"finish_reason", finish_reason_name(co.finish)}}})},
                 {"usage", usage_json(c.usage)}});
}

// --- text completions --------------------------------------------------------------

class CompletionStream : public StreamFormat {
 public:
  CompletionStream(const ServerState& st, std::string id, bool include_usage)
      : st_(st), id_(std::move(id)), include_usage_(include_usage) {}

  std::string text(const std::string& piece) override { return chunk(piece, nullptr); }

  std::string done(const Event& e) override {
    std::string out = chunk("", finish_reason_name(e.finish));
    if (include_usage_) {
      json j = base();
      j["choices"] = json::array();
      j["usage"] = usage_json(e.usage);
      out += sse_data(j);
    }
    return out;
  }

 private:
  json base() const {
    return json{{"id", id_}, {"object", "text_completion"}, {"created", unix_time()}, {"model", st_.model_id},
                {"system_fingerprint", "ember"}};
  }
  std::string chunk(const std::string& text, const char* finish) const {
    json j = base();
    j["choices"] = json::array({json{{"index", 0},
                                     {"text", text},
                                     {"logprobs", nullptr},
                                     {"finish_reason", finish ? json(finish) : json(nullptr)}}});
    if (include_usage_) j["usage"] = nullptr;
    return sse_data(j);
  }

  const ServerState& st_;
  std::string id_;
  bool include_usage_;
};

void handle_completion(ServerState& st, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req.body);
  const CompletionRequest cr = parse_completion_request(body, st.opts.test_hooks);
  std::vector<std::shared_ptr<GenJob>> jobs;
  // OpenAI's documented default for text completions is 16 tokens.
  const int32_t default_max = st.opts.n_predict >= 0 ? st.opts.n_predict : 16;
  for (const Prompt& p : cr.prompts)
    jobs.push_back(make_job(st, prompt_tokens(st, p, "prompt", true), cr.gen, default_max, "prompt"));
  const uint64_t serial = st.serial.fetch_add(1);
  const std::string id = make_id("cmpl", serial);
  for (auto& job : jobs) {
    try {
      submit(*st.scheduler, job);
    } catch (...) {
      for (auto& j : jobs) j->cancelled.store(true);  // the ones already queued are dropped
      throw;
    }
  }
  if (cr.gen.stream) {
    stream_job(res, jobs[0], std::make_shared<CompletionStream>(st, id, cr.gen.include_usage));
    return;
  }
  json choices = json::array();
  Usage total;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Collected c;
    try {
      c = collect(*jobs[i]);
    } catch (...) {
      for (auto& j : jobs) j->cancelled.store(true);
      throw;
    }
    choices.push_back({{"index", i}, {"text", c.text}, {"logprobs", nullptr}, {"finish_reason", finish_reason_name(c.finish)}});
    total.prompt_tokens += c.usage.prompt_tokens;
    total.completion_tokens += c.usage.completion_tokens;
    total.cached_tokens += c.usage.cached_tokens;
  }
  send_json(res, 200,
            json{{"id", id},
                 {"object", "text_completion"},
                 {"created", unix_time()},
                 {"model", st.model_id},
                 {"system_fingerprint", "ember"},
                 {"choices", std::move(choices)},
                 {"usage", usage_json(total)}});
}

// --- embeddings --------------------------------------------------------------------

void handle_embeddings(ServerState& st, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req.body);
  const EmbeddingRequest er = parse_embedding_request(body);
  auto job = std::make_shared<EmbedJob>();
  int32_t n_tokens = 0;
  for (size_t i = 0; i < er.inputs.size(); ++i) {
    std::vector<int32_t> toks = prompt_tokens(st, er.inputs[i], "input", true);
    if (toks.empty()) throw bad_request("input " + std::to_string(i) + " has no tokens", "input");
    if (toks.size() > size_t(st.scheduler->n_ctx()))
      throw bad_request("input " + std::to_string(i) + " has " + std::to_string(toks.size()) +
                            " tokens; the context holds " + std::to_string(st.scheduler->n_ctx()) + " (-c)",
                        "input");
    n_tokens += int32_t(toks.size());
    job->inputs.push_back(std::move(toks));
  }
  std::future<std::vector<std::vector<float>>> result = job->result.get_future();
  switch (st.scheduler->submit(job)) {
    case Admission::Queued: break;
    case Admission::QueueFull: throw unavailable("the server is busy: the queue (--queue) is full; retry later");
    case Admission::Stopping: throw unavailable("the server is shutting down");
  }
  const std::vector<std::vector<float>> vecs = result.get();  // rethrows the embedder's error
  json data = json::array();
  for (size_t i = 0; i < vecs.size(); ++i) {
    json item = {{"object", "embedding"}, {"index", i}};
    if (er.base64) item["embedding"] = base64_floats(vecs[i]);
    else item["embedding"] = vecs[i];
    data.push_back(std::move(item));
  }
  send_json(res, 200,
            json{{"object", "list"},
                 {"data", std::move(data)},
                 {"model", st.model_id},
                 {"usage", {{"prompt_tokens", n_tokens}, {"total_tokens", n_tokens}}}});
}

// --- models, health ----------------------------------------------------------------

json model_json(const ServerState& st) {
  const ModelConfig& c = st.model->config();
  return json{{"id", st.model_id},
              {"object", "model"},
              {"created", st.created},
              {"owned_by", "ember"},
              {"meta",
               {{"arch", c.arch},
                {"n_vocab", c.n_vocab},
                {"n_ctx_train", c.n_ctx_train},
                {"n_ctx", st.scheduler->n_ctx()},
                {"n_parallel", st.scheduler->n_parallel()},
                {"n_embd", c.n_embd},
                {"n_params", c.n_params}}}};
}

bool authorized(const ServerState& st, const httplib::Request& req) {
  const std::string expected = "Bearer " + st.opts.api_key;
  const std::string got = req.get_header_value("Authorization");
  // Compare every byte so the time taken does not reveal the matching prefix.
  unsigned diff = got.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < got.size() && i < expected.size(); ++i) diff |= unsigned(uint8_t(got[i]) ^ uint8_t(expected[i]));
  return diff == 0;
}

}  // namespace

void setup_routes(httplib::Server& svr, ServerState& st) {
  svr.set_payload_max_length(st.opts.max_body_bytes);

  svr.set_pre_routing_handler([&st](const httplib::Request& req, httplib::Response& res) {
    if (st.opts.api_key.empty() || req.path == "/health" || req.path == "/v1/health")
      return httplib::Server::HandlerResponse::Unhandled;
    if (authorized(st, req)) return httplib::Server::HandlerResponse::Unhandled;
    send_json(res, 401,
              error_body(401, "authentication_error",
                         req.has_header("Authorization") ? "invalid API key" : "missing API key (Authorization: Bearer KEY)"));
    return httplib::Server::HandlerResponse::Handled;
  });

  // httplib's own failures (no route, a body over the limit, a malformed request) get a JSON error too.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([&st](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message, type = "invalid_request_error";
    switch (res.status) {
      case 404: message = "no route for " + req.method + " " + req.path, type = "not_found_error"; break;
      case 413:
        message = "the request body is larger than the limit of " + std::to_string(st.opts.max_body_bytes) +
                  " bytes (--max-body-bytes)";
        break;
      case 400: message = "malformed HTTP request"; break;
      default:
        message = "HTTP " + std::to_string(res.status);
        if (res.status >= 500) type = "server_error";
    }
    res.set_content(dump(error_body(res.status, type, message)), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  auto route = [&](const char* path, void (*fn)(ServerState&, const httplib::Request&, httplib::Response&)) {
    auto handler = guarded([&st, fn](const httplib::Request& req, httplib::Response& res) { fn(st, req, res); });
    svr.Post(std::string("/v1") + path, handler);
    svr.Post(path, handler);  // llama.cpp also answers without the /v1 prefix
  };
  route("/chat/completions", handle_chat);
  route("/completions", handle_completion);
  route("/embeddings", handle_embeddings);

  auto models = guarded([&st](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, json{{"object", "list"}, {"data", json::array({model_json(st)})}});
  });
  svr.Get("/v1/models", models);
  svr.Get("/models", models);
  svr.Get(R"(/v1/models/(.+))", guarded([&st](const httplib::Request& req, httplib::Response& res) {
            if (req.matches[1] != st.model_id)
              throw ApiError(404, "not_found_error", "no model '" + std::string(req.matches[1]) + "'", "model");
            send_json(res, 200, model_json(st));
          }));
  auto health = [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, json{{"status", "ok"}}); };
  svr.Get("/health", health);
  svr.Get("/v1/health", health);
}

}  // namespace ember::server
