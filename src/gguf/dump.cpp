// The text listing of a GGUF file, shared by `ember-gguf` and the tests. Its
// exact format is mirrored by tests/data/gguf_listings/make_listings.py.
#include "gguf/codec.h"

namespace ember::gguf {
namespace {

void append_hash(std::string& out, uint64_t h) {
  static const char* digits = "0123456789abcdef";
  out += " fnv1a64=";
  for (int shift = 60; shift >= 0; shift -= 4) out += digits[(h >> shift) & 15];
}

}  // namespace

std::string format_listing(const File& file, const ListingOptions& opt) {
  std::string out;
  out += "GGUF version " + std::to_string(file.version()) + "\n";
  out += "tensors: " + std::to_string(file.tensors().size()) + "\n";
  out += "metadata keys: " + std::to_string(file.metadata().size()) + "\n";
  out += "alignment: " + std::to_string(file.alignment()) + "\n";
  out += "data offset: " + std::to_string(file.data_offset()) + "\n";
  out += "file size: " + std::to_string(file.file_size()) + "\n";

  out += "metadata:\n";
  for (const auto& [key, value] : file.metadata()) {
    out += "  ";
    append_escaped(out, key);
    out += ": ";
    if (value.is_array()) {
      out += std::string("array<") + value_type_name(value.array_type()) + ">[" + std::to_string(value.size()) + "]";
    } else {
      out += value_type_name(value.type());
    }
    out += " = ";
    out += value.to_display(opt.max_items, opt.max_string_bytes);
    const std::string* s = value.as_string();
    if (value.is_array() || (s && s->size() > opt.max_string_bytes)) append_hash(out, value.content_hash());
    out += '\n';
  }

  out += "tensors:\n";
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const TensorInfo& t = file.tensors()[i];
    out += "  " + std::to_string(i) + ": ";
    append_escaped(out, t.name);
    out += ' ';
    out += dtype_name(t.type);
    out += " [";
    for (size_t d = 0; d < t.shape.size(); ++d) out += (d ? ", " : "") + std::to_string(t.shape[d]);
    out += "] offset " + std::to_string(t.offset) + " bytes " + std::to_string(t.n_bytes);
    if (opt.tensor_hashes) append_hash(out, fnv1a64(t.data, t.n_bytes));
    out += '\n';
  }
  return out;
}

}  // namespace ember::gguf
