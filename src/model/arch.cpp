#include "model/arch.h"

#include "model/forward.h"

namespace ember::model {
namespace {

// llama.cpp's converter permutes llama's Q/K rows so that rotating adjacent
// pairs matches the Hugging Face (half-split) rotation; qwen files are not
// permuted and need the NeoX pairing.
constexpr ArchInfo kArchs[] = {
    {"llama", RopeType::Normal, Need::Optional, Need::No, forward_llama},
    {"qwen2", RopeType::Neox, Need::Required, Need::No, forward_llama},
    {"qwen3", RopeType::Neox, Need::No, Need::Required, forward_llama},
    // llama.cpp's gemma3 has 5 local layers to every global one (no key says so).
    {"gemma3", RopeType::Neox, Need::No, Need::Required, forward_gemma3, Need::Required, 6},
};

}  // namespace

const ArchInfo* find_arch(std::string_view name) noexcept {
  for (const ArchInfo& a : kArchs)
    if (a.name == name) return &a;
  return nullptr;
}

std::string supported_archs() {
  std::string s;
  for (const ArchInfo& a : kArchs) {
    if (!s.empty()) s += ", ";
    s += a.name;
  }
  return s;
}

}  // namespace ember::model
