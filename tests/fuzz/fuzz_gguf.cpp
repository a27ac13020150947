// libFuzzer target for the GGUF reader. Any input must either parse or raise
// ember::Error; whatever parses is walked completely (every value, every
// tensor byte) so a bad pointer or length shows up under ASan, then written
// back with the Writer and read again, which must give the same file.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/tensor.h"

using namespace ember;
using namespace ember::gguf;

namespace {

[[noreturn]] void invariant_broken() { __builtin_trap(); }

void walk_value(const Value& v, uint64_t& sink) {
  sink += v.to_display(4, 64).size();
  sink += v.content_hash();
  if (auto i = v.as_int()) sink += uint64_t(*i);
  if (auto u = v.as_uint()) sink += *u;
  if (auto d = v.as_float()) sink += *d > 0;
  if (const std::string* s = v.as_string()) sink += s->size();
  if (!v.is_array()) return;
  const size_t n = v.size();
  if (n > 0) {
    walk_value(v.at(0), sink);
    walk_value(v.at(n - 1), sink);
  }
  switch (v.array_type()) {
    case ValueType::String:
      for (const std::string& s : v.strings()) sink += s.size();
      break;
    case ValueType::Array:
      for (const Value& item : v.array()) walk_value(item, sink);
      break;
    case ValueType::F32: case ValueType::F64:
      sink += v.to_floats().size();
      break;
    default:
      if (v.array_type() != ValueType::U64) sink += v.to_ints().size();
      break;
  }
}

void walk(const File& f) {
  uint64_t sink = 0;
  for (const auto& [key, value] : f.metadata()) {
    if (f.find(key) != &value) invariant_broken();
    walk_value(value, sink);
  }
  ListingOptions opt;
  opt.tensor_hashes = true;  // reads every byte of every tensor
  sink += format_listing(f, opt).size();
  for (const TensorInfo& t : f.tensors()) {
    if (f.find_tensor(t.name) != &t) invariant_broken();
    if (t.data < f.bytes().data() || t.data + t.n_bytes > f.bytes().data() + f.bytes().size()) invariant_broken();
    const Tensor view = Tensor::view(t, f.keepalive());
    if (view.n_bytes() != t.n_bytes || uint64_t(view.n_elements()) != t.n_elements) invariant_broken();
    const uint8_t* last = view.row(view.n_rows() - 1);
    sink += last[view.row_bytes() - 1];
  }
  volatile uint64_t keep = sink;
  (void)keep;
}

// Written back and read again, a file must keep its metadata and tensor data.
void round_trip(const File& f) {
  Writer w;
  for (const auto& [key, value] : f.metadata()) w.set(key, value);
  for (const TensorInfo& t : f.tensors()) w.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
  const File g = File::from_bytes(w.to_bytes());
  if (g.metadata().size() != f.metadata().size() || g.tensors().size() != f.tensors().size()) invariant_broken();
  for (size_t i = 0; i < f.metadata().size(); ++i)
    if (!(g.metadata()[i] == f.metadata()[i])) invariant_broken();
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const TensorInfo& a = f.tensors()[i];
    const TensorInfo& b = g.tensors()[i];
    if (a.name != b.name || a.type != b.type || a.shape != b.shape || a.n_bytes != b.n_bytes ||
        std::memcmp(a.data, b.data, a.n_bytes) != 0)
      invariant_broken();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  try {
    const File f = File::from_bytes(std::move(bytes));
    walk(f);
    round_trip(f);
  } catch (const Error&) {
    // Refusing a malformed file is the expected outcome; anything else escapes and is reported.
  }
  return 0;
}
