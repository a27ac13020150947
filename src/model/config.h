#pragma once
// Hyper-parameters from a GGUF file's metadata.
#include "ember/gguf.h"
#include "ember/model.h"

namespace ember::model {

/// Reads the `<arch>.*` keys. vocab_only: only the architecture name and the
/// vocabulary size are required (vocabulary files carry no shapes).
/// Throws ember::Error for a missing key or an out-of-range value.
ModelConfig read_config(const gguf::File& file, bool vocab_only);

}  // namespace ember::model
