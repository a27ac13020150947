#include <cstdio>
#include <string>

#include "commands.h"
#include "common.h"
#include "ember/tokenizer.h"

namespace ember::cli {

void add_tokenize_command(CLI::App& app) {
  struct Opts {
    std::string model, prompt;
    bool ids_only = false, no_special = false, parse_special = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("tokenize", "Show the tokens of a text");
  cmd->add_option("-m,--model", o->model, "GGUF model (default: SmolLM2-135M-Instruct from the cache)");
  cmd->add_option("-p,--prompt", o->prompt, "text to tokenize")->required();
  cmd->add_flag("--ids", o->ids_only, "print only the ids, as a list");
  cmd->add_flag("--no-bos", o->no_special, "do not add BOS/EOS");
  cmd->add_flag("--parse-special", o->parse_special, "read special tokens written in the text");
  cmd->callback([o] {
    auto model = load_model(resolve_model_path(o->model), 1, true, /*vocab_only=*/true);
    const Tokenizer& tok = model->tokenizer();
    const auto ids = tok.encode(o->prompt, !o->no_special, o->parse_special);
    if (o->ids_only) {
      std::printf("[");
      for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ", %d" : "%d", ids[i]);
      std::printf("]\n");
      return;
    }
    for (int32_t id : ids) std::printf("%6d -> '%s'\n", id, tok.token_to_piece(id).c_str());
    std::fprintf(stderr, "%zu tokens\n", ids.size());
  });
}

}  // namespace ember::cli
