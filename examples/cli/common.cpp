#include "common.h"

#include <cstdlib>
#include <filesystem>

#include "ember/error.h"
#include "progress.h"

namespace ember::cli {

std::string resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  namespace fs = std::filesystem;
  fs::path dir;
  if (const char* env = std::getenv("EMBER_MODEL_DIR"); env && *env) dir = env;
  else if (const char* home = std::getenv("HOME"); home && *home) dir = fs::path(home) / ".cache/ember/models";
  const fs::path def = dir / "SmolLM2-135M-Instruct.Q4_1.gguf";
  std::error_code ec;
  if (!dir.empty() && fs::exists(def, ec)) return def.string();
  throw Error(ErrorKind::InvalidArgument,
              "no model given (-m MODEL.gguf) and the default model is not in " + dir.string() +
                  " (run scripts/fetch-models)");
}

std::shared_ptr<const Model> load_model(const std::string& path, int n_threads, bool use_mmap, bool vocab_only) {
  ProgressBar bar("loading");
  ModelParams mp;
  mp.n_threads = n_threads;
  mp.use_mmap = use_mmap;
  mp.vocab_only = vocab_only;
  mp.on_progress = [&](float p) {
    bar.update(p);
    return true;
  };
  auto model = Model::load(path, mp);
  bar.done();
  return model;
}

}  // namespace ember::cli
