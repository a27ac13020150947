#pragma once
// ember serve: an OpenAI-compatible HTTP server over one model. Used by the
// `ember serve` subcommand and by the stand-alone ember-server program.
#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

namespace ember::server {

struct ServeOptions {
  std::string model;                 // GGUF file (required)
  std::string host = "127.0.0.1";    // loopback unless asked otherwise
  int port = 8080;                   // 0: any free port (the chosen one is printed)
  int n_ctx = 0;                     // positions per sequence (0: the model's, at most 4096)
  int parallel = 4;                  // sequences decoded together
  int queue = 64;                    // requests waiting for a sequence; more get 503
  int threads = 0;                   // 0: the model's default
  int n_batch = 512;                 // tokens per decode step
  int n_predict = -1;                // max_tokens when a request gives none (-1: chat unlimited, completions 16)
  std::string kv_type = "f16";
  std::string api_key;               // empty: no authentication
  size_t max_body_bytes = 8u << 20;  // larger request bodies get 413
  std::string chat_template_file;    // Jinja template overriding the model's
  std::string alias;                 // model id reported by /v1/models (default: the file name)
  std::string log_level = "info";
  bool test_hooks = false;           // accept ember_test_force_output (tests only)
  bool no_mmap = false;
};

/// Adds the server's flags to a CLI11 (sub)command.
void add_serve_flags(CLI::App& cmd, ServeOptions& o);
/// Adds `serve` to the ember CLI.
void add_serve_command(CLI::App& app);
/// Loads the model, listens and serves until SIGINT or SIGTERM. Returns the
/// process exit status; throws ember::Error for a model or flag that cannot work.
int run_server(const ServeOptions& o);

}  // namespace ember::server
