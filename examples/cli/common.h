#pragma once
#include <memory>
#include <string>

#include "ember/model.h"

namespace ember::cli {

/// The model path given, or the default model in the cache
/// ($EMBER_MODEL_DIR or ~/.cache/ember/models) when none was.
std::string resolve_model_path(const std::string& given);

/// Loads with a progress bar on stderr.
std::shared_ptr<const Model> load_model(const std::string& path, int n_threads, bool use_mmap, bool vocab_only = false);



}  // namespace ember::cli
