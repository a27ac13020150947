#pragma once
// The HTTP routes: /v1/chat/completions, /v1/completions, /v1/embeddings,
// /v1/models, /health; API-key check, body limit and JSON errors for every
// failure (including httplib's own 404 and 413).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "chat_prompt.h"
#include "ember/model.h"
#include "scheduler.h"
#include "serve.h"

namespace httplib {
class Server;
}

namespace ember::server {

struct ServerState {
  ServeOptions opts;
  std::shared_ptr<const Model> model;
  Scheduler* scheduler = nullptr;
  const ChatPrompt* chat = nullptr;
  std::string model_id;
  int64_t created = 0;
  std::atomic<uint64_t> serial{0};  // numbers the requests, for response ids
};

/// Registers the routes and handlers; `state` must outlive the server.
void setup_routes(httplib::Server& svr, ServerState& state);

}  // namespace ember::server
