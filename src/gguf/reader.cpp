// GGUF reader. Nothing read from the file is used before it is checked: every
// length and count against the bytes left, every type against the known
// ones, every shape and offset against overflow and the end of the file.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

#include "ember/error.h"
#include "gguf/codec.h"

namespace ember::gguf {
namespace {

// Smallest encodings, used to bound counts by the bytes left before allocating.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one ne, type, offset
constexpr uint64_t kHeaderBytes = 4 + 4 + 8 + 8;
// Reserve at most this many entries up front; vectors grow past it as items really arrive.
constexpr uint64_t kMaxReserve = 4096;

class Mapping {
 public:
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  ~Mapping() { ::munmap(addr_, size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }

 private:
  void* addr_;
  size_t size_;
};

// File bytes held in memory, 64-byte aligned like the tensors ember allocates.
class OwnedBytes {
 public:
  explicit OwnedBytes(size_t size)
      : data_(static_cast<uint8_t*>(::operator new(size ? size : 1, std::align_val_t(64)))) {}
  ~OwnedBytes() { ::operator delete(data_, std::align_val_t(64)); }
  OwnedBytes(const OwnedBytes&) = delete;
  OwnedBytes& operator=(const OwnedBytes&) = delete;
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_;
};

std::string quoted(std::string_view s) {
  std::string out = "'";
  append_escaped(out, s);
  out += '\'';
  return out;
}

std::string type_description(const Value& v) {
  if (!v.is_array()) return value_type_name(v.type());
  return std::string("array<") + value_type_name(v.array_type()) + ">";
}

[[noreturn]] void io_error(const std::string& path, const std::string& what, int err) {
  throw Error(ErrorKind::Io, "[gguf] " + path + ": " + what + ": " + std::system_category().message(err));
}

}  // namespace

class FileParser {
 public:
  explicit FileParser(File& file) : f_(file) {}

  void parse() {
    if (f_.size_ == 0) fail(ErrorKind::InvalidFile, 0, "file is empty");
    if (f_.size_ < 4) fail(ErrorKind::InvalidFile, 0, "file too small for a GGUF header (" + size_str() + ")");
    const uint32_t magic = u32("magic");
    if (magic != kMagic) {
      fail(ErrorKind::InvalidFile, 0,
           "not a GGUF file: magic is " + quoted(std::string_view(reinterpret_cast<const char*>(f_.base_), 4)) +
               ", expected 'GGUF'");
    }
    if (f_.size_ < kHeaderBytes)
      fail(ErrorKind::InvalidFile, 0, "file too small for a GGUF header (" + size_str() + ", need 24)");
    read_version();
    const uint64_t n_tensors = u64("tensor count");
    const uint64_t n_kv = u64("kv count");
    if (n_kv > left() / kMinKvBytes || n_tensors > left() / kMinTensorInfoBytes ||
        n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes > left()) {
      fail(ErrorKind::InvalidFile, 8,
           "kv count " + std::to_string(n_kv) + " and tensor count " + std::to_string(n_tensors) +
               " do not fit in a file of " + size_str());
    }
    read_metadata(n_kv);
    read_tensor_infos(n_tensors);
    place_tensor_data();
  }

 private:
  struct InfoPos {
    uint64_t offset;  // where the tensor info starts, for messages
  };

  File& f_;
  uint64_t pos_ = 0;
  std::string where_;  // the key or tensor being read, for messages
  std::vector<InfoPos> info_pos_;

  [[noreturn]] void fail(ErrorKind kind, uint64_t offset, const std::string& what) const {
    std::string msg = "[gguf] " + f_.path_ + ": ";
    if (!where_.empty()) msg += where_ + " ";
    msg += "at offset " + std::to_string(offset) + ": " + what;
    throw Error(kind, msg);
  }

  std::string size_str() const { return std::to_string(f_.size_) + " bytes"; }
  uint64_t left() const { return f_.size_ - pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > left()) {
      fail(ErrorKind::InvalidFile, pos_,
           std::string("truncated file: ") + what + " needs " + std::to_string(n) + " bytes, " +
               std::to_string(left()) + " left");
    }
  }

  uint64_t scalar_bits(size_t n, const char* what) {
    need(n, what);
    uint64_t v = 0;
    std::memcpy(&v, f_.base_ + pos_, n);  // little-endian host (codec.h)
    pos_ += n;
    return v;
  }
  uint32_t u32(const char* what) { return uint32_t(scalar_bits(4, what)); }
  uint64_t u64(const char* what) { return scalar_bits(8, what); }

  std::string string(const char* what) {
    const uint64_t at = pos_;
    const uint64_t len = u64(what);
    if (len > left()) {
      fail(ErrorKind::InvalidFile, at,
           std::string(what) + " length " + std::to_string(len) + " exceeds the " + std::to_string(left()) +
               " bytes left in the file");
    }
    std::string s(reinterpret_cast<const char*>(f_.base_ + pos_), size_t(len));
    pos_ += len;
    return s;
  }

  void read_version() {
    const uint32_t v = u32("version");
    if (v != 0 && (v & 0xFFFF) == 0) {
      fail(ErrorKind::Unsupported, 4,
           "version field " + std::to_string(v) + " looks byte-swapped: big-endian GGUF files are not supported");
    }
    if (v == 1) {
      fail(ErrorKind::Unsupported, 4,
           "unsupported GGUF version 1 (it uses 32-bit lengths; re-convert the model to version 3)");
    }
    if (v != 2 && v != 3)
      fail(ErrorKind::Unsupported, 4, "unsupported GGUF version " + std::to_string(v) + " (ember reads 2 and 3)");
    f_.version_ = v;
  }

  ValueType value_type(const char* what) {
    const uint64_t at = pos_;
    const uint32_t t = u32(what);
    if (t > uint32_t(ValueType::F64)) fail(ErrorKind::InvalidFile, at, "unknown value type " + std::to_string(t));
    return ValueType(t);
  }

  Value read_value(ValueType t, int depth) {
    switch (t) {
      case ValueType::String: return Value::string(string("string"));
      case ValueType::Array: return read_array(depth + 1);
      case ValueType::Bool: {
        const uint64_t at = pos_;
        const uint64_t b = scalar_bits(1, "bool");
        if (b > 1) fail(ErrorKind::InvalidFile, at, "bool value " + std::to_string(b) + " is neither 0 nor 1");
        return ValueCodec::scalar_from_bits(t, b);
      }
      default: return ValueCodec::scalar_from_bits(t, scalar_bits(value_type_size(t), value_type_name(t)));
    }
  }

  template <class T>
  Value read_numbers(uint64_t count) {
    std::vector<T> items(count);  // count was bounded by the bytes left
    if (count) std::memcpy(items.data(), f_.base_ + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return Value::number_array(std::move(items));
  }

  Value read_array(int depth) {
    const uint64_t at = pos_;
    if (depth > kMaxArrayDepth)
      fail(ErrorKind::InvalidFile, at, "arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
    const ValueType elem = value_type("array element type");
    const uint64_t count = u64("array length");
    const uint64_t min_bytes = elem == ValueType::String ? 8 : elem == ValueType::Array ? 12 : value_type_size(elem);
    if (count > left() / min_bytes) {
      fail(ErrorKind::InvalidFile, at,
           "array of " + std::to_string(count) + " " + value_type_name(elem) + " cannot fit in the " +
               std::to_string(left()) + " bytes left in the file");
    }
    switch (elem) {
      case ValueType::U8: return read_numbers<uint8_t>(count);
      case ValueType::I8: return read_numbers<int8_t>(count);
      case ValueType::U16: return read_numbers<uint16_t>(count);
      case ValueType::I16: return read_numbers<int16_t>(count);
      case ValueType::U32: return read_numbers<uint32_t>(count);
      case ValueType::I32: return read_numbers<int32_t>(count);
      case ValueType::F32: return read_numbers<float>(count);
      case ValueType::U64: return read_numbers<uint64_t>(count);
      case ValueType::I64: return read_numbers<int64_t>(count);
      case ValueType::F64: return read_numbers<double>(count);
      case ValueType::Bool: {
        std::vector<uint8_t> bytes(f_.base_ + pos_, f_.base_ + pos_ + count);
        for (uint64_t i = 0; i < count; ++i)
          if (bytes[i] > 1)
            fail(ErrorKind::InvalidFile, pos_ + i,
                 "bool array element " + std::to_string(i) + " is " + std::to_string(bytes[i]) +
                     ", neither 0 nor 1");
        pos_ += count;
        return ValueCodec::bool_array_from_bytes(std::move(bytes));
      }
      case ValueType::String: {
        std::vector<std::string> items;
        items.reserve(count);
        for (uint64_t i = 0; i < count; ++i) items.push_back(string("string"));
        return Value::string_array(std::move(items));
      }
      case ValueType::Array: {
        std::vector<Value> items;
        items.reserve(std::min(count, kMaxReserve));
        for (uint64_t i = 0; i < count; ++i) {
          const ValueType inner = ValueType::Array;
          items.push_back(read_value(inner, depth));
        }
        return Value::nested_array(std::move(items));
      }
    }
    fail(ErrorKind::Internal, at, "unhandled array element type");
  }

  void read_metadata(uint64_t n_kv) {
    f_.metadata_.reserve(std::min(n_kv, kMaxReserve));
    for (uint64_t i = 0; i < n_kv; ++i) {
      const uint64_t at = pos_;
      where_ = "key #" + std::to_string(i);
      std::string key = string("key");
      where_ = "key " + quoted(key);
      if (auto it = f_.key_index_.find(key); it != f_.key_index_.end())
        fail(ErrorKind::InvalidFile, at, "duplicate key (also key #" + std::to_string(it->second) + ")");
      const ValueType t = value_type("value type");
      Value value = read_value(t, 0);
      if (key == "general.alignment") check_alignment(value, at);
      f_.key_index_.emplace(key, f_.metadata_.size());
      f_.metadata_.emplace_back(std::move(key), std::move(value));
    }
    where_.clear();
  }

  void check_alignment(const Value& v, uint64_t at) {
    if (v.type() != ValueType::U32)
      fail(ErrorKind::InvalidFile, at, "expected u32, found " + type_description(v));
    const uint64_t a = *v.as_uint();
    if (a == 0 || (a & (a - 1)) != 0)
      fail(ErrorKind::InvalidFile, at, "alignment " + std::to_string(a) + " is not a non-zero power of two");
    f_.alignment_ = a;
  }

  void read_tensor_infos(uint64_t n_tensors) {
    f_.tensors_.reserve(std::min(n_tensors, kMaxReserve));
    for (uint64_t i = 0; i < n_tensors; ++i) {
      const uint64_t at = pos_;
      where_ = "tensor #" + std::to_string(i);
      TensorInfo info;
      info.name = string("tensor name");
      where_ = "tensor " + quoted(info.name);
      if (auto it = f_.tensor_index_.find(info.name); it != f_.tensor_index_.end())
        fail(ErrorKind::InvalidFile, at, "duplicate tensor name (also tensor #" + std::to_string(it->second) + ")");

      const uint64_t dims_at = pos_;
      const uint32_t n_dims = u32("n_dims");
      if (n_dims == 0 || n_dims > uint32_t(kMaxDims))
        fail(ErrorKind::InvalidFile, dims_at, "n_dims " + std::to_string(n_dims) + " is not in 1..4");
      int64_t n_elements = 1;
      bool overflow = false;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const uint64_t ne_at = pos_;
        const uint64_t ne = u64("dimension");
        if (ne > uint64_t(INT64_MAX))
          fail(ErrorKind::InvalidFile, ne_at, "ne[" + std::to_string(d) + "] = " + std::to_string(ne) +
                                                  " is negative as an i64");
        if (ne == 0)
          fail(ErrorKind::Unsupported, ne_at, "ne[" + std::to_string(d) + "] is 0 (empty tensors are not supported)");
        info.shape.push_back(int64_t(ne));
        overflow = overflow || __builtin_mul_overflow(n_elements, int64_t(ne), &n_elements);
      }
      if (overflow)
        fail(ErrorKind::InvalidFile, dims_at, "element count of shape " + shape_str(info.shape) + " overflows");

      const uint64_t type_at = pos_;
      const uint32_t type_id = u32("tensor type");
      const TypeTraits* traits = find_type_traits(type_id);
      if (!traits) fail(ErrorKind::InvalidFile, type_at, "unknown tensor type " + std::to_string(type_id));
      info.type = DType(type_id);
      if (info.shape[0] % traits->block_size != 0) {
        fail(ErrorKind::InvalidFile, dims_at,
             "ne[0] = " + std::to_string(info.shape[0]) + " is not a multiple of the block size " +
                 std::to_string(traits->block_size) + " of " + traits->name);
      }
      const std::optional<uint64_t> row_bytes = dtype_row_bytes(info.type, uint64_t(info.shape[0]));
      const uint64_t n_rows = uint64_t(n_elements / info.shape[0]);
      if (!row_bytes || __builtin_mul_overflow(*row_bytes, n_rows, &info.n_bytes)) {
        fail(ErrorKind::InvalidFile, dims_at,
             "size in bytes of " + std::string(traits->name) + " " + shape_str(info.shape) + " overflows");
      }
      info.n_elements = uint64_t(n_elements);

      const uint64_t offset_at = pos_;
      info.offset = u64("tensor offset");
      if (info.offset % f_.alignment_ != 0) {
        fail(ErrorKind::InvalidFile, offset_at,
             "data offset " + std::to_string(info.offset) + " is not a multiple of the alignment " +
                 std::to_string(f_.alignment_));
      }
      f_.tensor_index_.emplace(info.name, f_.tensors_.size());
      f_.tensors_.push_back(std::move(info));
      info_pos_.push_back({at});
    }
    where_.clear();
  }

  void place_tensor_data() {
    // pos_ <= size and alignment <= 2^31, so this cannot overflow.
    f_.data_offset_ = (pos_ + f_.alignment_ - 1) / f_.alignment_ * f_.alignment_;
    for (size_t i = 0; i < f_.tensors_.size(); ++i) {
      TensorInfo& t = f_.tensors_[i];
      where_ = "tensor " + quoted(t.name);
      uint64_t end = 0, file_begin = 0, file_end = 0;
      if (__builtin_add_overflow(t.offset, t.n_bytes, &end) ||
          __builtin_add_overflow(f_.data_offset_, t.offset, &file_begin) ||
          __builtin_add_overflow(f_.data_offset_, end, &file_end)) {
        fail(ErrorKind::InvalidFile, info_pos_[i].offset,
             "data offset " + std::to_string(t.offset) + " + size " + std::to_string(t.n_bytes) + " overflows");
      }
      if (file_end > f_.size_) {
        throw Error(ErrorKind::InvalidFile,
                    "[gguf] " + f_.path_ + ": " + where_ + ": data [" + std::to_string(file_begin) + ", " +
                        std::to_string(file_end) + ") past end of file (size " + std::to_string(f_.size_) + ")");
      }
      t.data = f_.base_ + file_begin;
    }
    where_.clear();
  }

  static std::string shape_str(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

File File::from_bytes(std::vector<uint8_t> bytes) {
  // An exact-size copy, so a sanitizer sees any read past the end.
  auto owned = std::make_shared<OwnedBytes>(bytes.size());
  if (!bytes.empty()) std::memcpy(owned->data(), bytes.data(), bytes.size());
  File f;
  f.path_ = "<memory>";
  f.base_ = owned->data();
  f.size_ = bytes.size();
  f.storage_ = std::move(owned);
  FileParser(f).parse();
  return f;
}

File File::open(const std::string& path, ReadOptions options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error(path, "cannot open", errno);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) io_error(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::Io, "[gguf] " + path + ": not a regular file");
  const size_t size = size_t(st.st_size);

  File f;
  f.path_ = path;
  f.size_ = size;
  if (options.use_mmap && size > 0) {
    void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) io_error(path, "cannot mmap " + std::to_string(size) + " bytes", errno);
    auto mapping = std::make_shared<Mapping>(addr, size);
    f.base_ = mapping->data();
    f.storage_ = std::move(mapping);
  } else {
    auto owned = std::make_shared<OwnedBytes>(size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::read(fd, owned->data() + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) io_error(path, "read failed", errno);
      if (n == 0)
        throw Error(ErrorKind::Io, "[gguf] " + path + ": file shrank while reading (" + std::to_string(done) +
                                       " of " + std::to_string(size) + " bytes)");
      done += size_t(n);
    }
    f.base_ = owned->data();
    f.storage_ = std::move(owned);
  }
  FileParser(f).parse();
  return f;
}

// --- lookups --------------------------------------------------------------------

const Value* File::find(std::string_view key) const noexcept {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const noexcept {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

[[noreturn]] void wrong_type(const File& f, std::string_view key, const char* expected, const Value& v) {
  throw Error(ErrorKind::InvalidFile, "[gguf] " + f.path() + ": key " + quoted(key) + ": expected " + expected +
                                          ", found " + type_description(v));
}

}  // namespace

std::optional<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (const std::string* s = v->as_string()) return *s;
  wrong_type(*this, key, "string", *v);
}

std::optional<uint64_t> File::get_uint(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (auto u = v->as_uint()) return u;
  if (auto i = v->as_int())
    throw Error(ErrorKind::InvalidFile, "[gguf] " + path_ + ": key " + quoted(key) + ": value " +
                                            std::to_string(*i) + " is negative");
  wrong_type(*this, key, "an unsigned integer", *v);
}

std::optional<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (auto i = v->as_int()) return i;
  if (auto u = v->as_uint())
    throw Error(ErrorKind::InvalidFile, "[gguf] " + path_ + ": key " + quoted(key) + ": value " +
                                            std::to_string(*u) + " does not fit in i64");
  wrong_type(*this, key, "an integer", *v);
}

std::optional<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (auto d = v->as_float()) return d;
  wrong_type(*this, key, "a number", *v);
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (auto b = v->as_bool()) return b;
  wrong_type(*this, key, "bool", *v);
}

const Value* File::get_array(std::string_view key) const {
  const Value* v = find(key);
  if (v && !v->is_array()) wrong_type(*this, key, "an array", *v);
  return v;
}

}  // namespace ember::gguf
