// ember-server: the same server as `ember serve`, as a program of its own.
#include <cstdio>
#include <exception>

#include "ember/error.h"
#include "serve.h"

int main(int argc, char** argv) {
  CLI::App app{"ember-server: an OpenAI-compatible HTTP server for a GGUF model"};
  ember::server::ServeOptions opts;
  ember::server::add_serve_flags(app, opts);
  try {
    app.parse(argc, argv);
    return ember::server::run_server(opts);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
