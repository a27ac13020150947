// GGUF writer (version 3): header, metadata, tensor infos, then each tensor's
// data at the next multiple of the alignment.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "ember/error.h"
#include "gguf/codec.h"

namespace ember::gguf {
namespace {

constexpr uint32_t kWriteVersion = 3;

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

bool is_power_of_two(uint64_t a) { return a != 0 && (a & (a - 1)) == 0; }

class FileSink final : public ByteSink {
 public:
  FileSink(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  void put(const void* data, size_t n) override {
    if (n && std::fwrite(data, 1, n, f_) != n)
      throw Error(ErrorKind::Io, "[gguf] " + path_ + ": write failed: " + std::system_category().message(errno));
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

void put_zeros(ByteSink& out, uint64_t n) {
  static constexpr uint8_t zeros[64] = {};
  while (n) {
    const uint64_t k = n < sizeof(zeros) ? n : sizeof(zeros);
    out.put(zeros, k);
    n -= k;
  }
}

}  // namespace

void Writer::set(std::string_view key, Value value) {
  if (key == "general.alignment") {
    if (value.type() != ValueType::U32 || !is_power_of_two(*value.as_uint()))
      throw Error(ErrorKind::InvalidArgument, "[gguf] writer: general.alignment must be a u32 power of two");
    alignment_ = uint32_t(*value.as_uint());
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::string(key), std::move(value));
}

void Writer::set_alignment(uint32_t alignment) {
  if (!is_power_of_two(alignment))
    throw Error(ErrorKind::InvalidArgument,
                "[gguf] writer: alignment " + std::to_string(alignment) + " is not a power of two");
  set("general.alignment", Value::u32(alignment));
}

void Writer::add_tensor(std::string name, DType type, const std::vector<int64_t>& shape, const void* data,
                        size_t bytes) {
  add(std::move(name), type, shape, data, bytes, true);
}

void Writer::add_tensor_ref(std::string name, DType type, const std::vector<int64_t>& shape, const void* data,
                            size_t bytes) {
  add(std::move(name), type, shape, data, bytes, false);
}

void Writer::add(std::string name, DType type, const std::vector<int64_t>& shape, const void* data,
                 size_t bytes, bool copy) {
  const std::string where = "[gguf] writer: tensor '" + name + "': ";
  for (const PendingTensor& t : tensors_)
    if (t.name == name) throw Error(ErrorKind::InvalidArgument, where + "duplicate tensor name");
  const TypeTraits* traits = find_type_traits(uint32_t(type));
  if (!traits) throw Error(ErrorKind::InvalidArgument, where + "unknown type " + std::to_string(uint32_t(type)));
  if (shape.empty() || shape.size() > size_t(kMaxDims))
    throw Error(ErrorKind::InvalidArgument, where + std::to_string(shape.size()) + " dimensions (need 1..4)");
  int64_t n = 1;
  for (int64_t ne : shape) {
    if (ne < 1) throw Error(ErrorKind::InvalidArgument, where + "dimension " + std::to_string(ne) + " < 1");
    if (__builtin_mul_overflow(n, ne, &n)) throw Error(ErrorKind::InvalidArgument, where + "element count overflows");
  }
  if (shape[0] % traits->block_size != 0) {
    throw Error(ErrorKind::InvalidArgument, where + "ne[0] = " + std::to_string(shape[0]) +
                                                " is not a multiple of the block size of " + traits->name);
  }
  const std::optional<uint64_t> expected = dtype_row_bytes(type, uint64_t(n));
  if (!expected || *expected != bytes) {
    throw Error(ErrorKind::InvalidArgument, where + std::to_string(bytes) + " bytes given, " + traits->name +
                                                " of this shape takes " +
                                                (expected ? std::to_string(*expected) : std::string("too many")));
  }
  if (!data && bytes) throw Error(ErrorKind::InvalidArgument, where + "null data");
  PendingTensor t{std::move(name), type, shape, {}, static_cast<const uint8_t*>(data), bytes};
  if (copy) {
    t.owned.assign(t.ref, t.ref + bytes);
    t.ref = nullptr;
  }
  tensors_.push_back(std::move(t));
}

std::vector<uint8_t> Writer::header_bytes() const {
  std::vector<uint8_t> out;
  VectorSink sink(out);
  sink.put_u32(kMagic);
  sink.put_u32(kWriteVersion);
  sink.put_u64(tensors_.size());
  sink.put_u64(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put_u32(uint32_t(value.type()));
    ValueCodec::write_value(value, sink);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    sink.put_string(t.name);
    sink.put_u32(uint32_t(t.shape.size()));
    for (int64_t ne : t.shape) sink.put_u64(uint64_t(ne));
    sink.put_u32(uint32_t(t.type));
    sink.put_u64(offset);
    offset += align_up(t.n_bytes, alignment_);
  }
  // Like llama.cpp and gguf-py: the data section (if any) starts aligned and
  // every tensor, the last one included, is padded to the alignment.
  if (!tensors_.empty()) out.resize(align_up(out.size(), alignment_), 0);
  return out;
}

std::vector<uint8_t> Writer::to_bytes() const {
  std::vector<uint8_t> out = header_bytes();
  for (const PendingTensor& t : tensors_) {
    const size_t at = out.size();
    out.resize(at + align_up(t.n_bytes, alignment_), 0);
    std::memcpy(out.data() + at, t.bytes(), t.n_bytes);
  }
  return out;
}

void Writer::write(const std::string& path) const {
  const std::vector<uint8_t> header = header_bytes();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    throw Error(ErrorKind::Io, "[gguf] " + path + ": cannot create: " + std::system_category().message(errno));
  try {
    FileSink sink(f, path);
    sink.put(header.data(), header.size());
    for (const PendingTensor& t : tensors_) {
      sink.put(t.bytes(), t.n_bytes);
      put_zeros(sink, align_up(t.n_bytes, alignment_) - t.n_bytes);
    }
  } catch (...) {
    std::fclose(f);
    throw;
  }
  if (std::fclose(f) != 0)
    throw Error(ErrorKind::Io, "[gguf] " + path + ": write failed: " + std::system_category().message(errno));
}

}  // namespace ember::gguf
