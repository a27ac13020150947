// ember: the command-line front end.
//   ember run      -m MODEL -p PROMPT   generate text, streamed to stdout
//   ember bench    -m MODEL -p 512 -n 128 -t 2   prefill and decode tok/s
//   ember tokenize -m MODEL -p TEXT     token ids and pieces
//   ember gguf     FILE                 the file's metadata and tensors
//   ember serve    -m MODEL --port 8080  OpenAI-compatible HTTP server (examples/server)
#include <cstdio>
#include <exception>

#include "commands.h"
#include "ember/error.h"
#include "serve.h"

int main(int argc, char** argv) {
  CLI::App app{"ember: run local LLMs (GGUF) on the CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ember 0.1.0");
  ember::cli::add_run_command(app);
  ember::cli::add_bench_command(app);
  ember::cli::add_tokenize_command(app);
  ember::cli::add_gguf_command(app);
  ember::server::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ember::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
