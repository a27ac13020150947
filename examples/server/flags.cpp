// The server's flags, shared by `ember serve` and ember-server; llama-server's names where they overlap.
#include "serve.h"

namespace ember::server {

void add_serve_flags(CLI::App& cmd, ServeOptions& o) {
  cmd.add_option("-m,--model", o.model, "GGUF model")->required();
  cmd.add_option("--host", o.host, "address to listen on (default 127.0.0.1: this machine only)");
  cmd.add_option("--port", o.port, "port (0: any free port, printed at start-up)")->check(CLI::Range(0, 65535));
  cmd.add_option("-c,--ctx-size", o.n_ctx, "context positions per sequence (0: the model's, at most 4096)")
      ->check(CLI::Range(0, 1 << 22));
  cmd.add_option("--parallel,--np", o.parallel, "sequences decoded together (requests served at once)")
      ->check(CLI::Range(1, 256));
  cmd.add_option("--queue", o.queue, "requests that may wait for a free sequence; more are answered 503")
      ->check(CLI::Range(0, 1 << 16));
  cmd.add_option("-t,--threads", o.threads, "compute threads (0: all cores, at most 8)")->check(CLI::Range(0, 1024));
  cmd.add_option("-b,--batch-size", o.n_batch, "tokens per decode step")->check(CLI::Range(1, 1 << 16));
  cmd.add_option("-n,--n-predict", o.n_predict,
                 "max_tokens of requests that give none (-1: chat until the end of the turn, completions 16)")
      ->check(CLI::Range(-1, 1 << 24));
  cmd.add_option("--kv-type", o.kv_type, "KV cache type: f16, q8_0, q4_0");
  cmd.add_option("--api-key", o.api_key, "require 'Authorization: Bearer KEY' (except on /health)");
  cmd.add_option("--max-body-bytes", o.max_body_bytes, "largest request body accepted; larger ones get 413")
      ->check(CLI::Range(size_t(1), size_t(1) << 34));
  cmd.add_option("--chat-template", o.chat_template_file, "Jinja chat template file replacing the model's");
  cmd.add_option("-a,--alias", o.alias, "model id for /v1/models (default: the model's file name)");
  cmd.add_option("--log-level", o.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd.add_flag("--test-hooks", o.test_hooks, "accept the ember_test_force_output request field (tests only)");
  cmd.add_flag("--no-mmap", o.no_mmap, "read the model into memory instead of mapping it");
}

void add_serve_command(CLI::App& app) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (/v1/chat/completions, ...)");
  add_serve_flags(*cmd, *opts);
  cmd->callback([opts] {
    const int rc = run_server(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace ember::server
