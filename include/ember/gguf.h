#pragma once
// GGUF files (versions 2 and 3, little-endian): a validating reader that maps
// the file and hands out zero-copy tensor data, a writer, and the text listing
// shared by the `ember-gguf` tool and the tests.
//
// Thread safety: a File is immutable after open(), so it may be read from any
// number of threads. A Writer is not synchronised.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/dtype.h"

namespace ember::gguf {

/// Metadata value types; the numbers are those stored in the file.
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};

/// "u8", "i32", "f32", "bool", "string", "array", ...; "?" for ids outside the enum.
const char* value_type_name(ValueType t) noexcept;
/// Bytes of one scalar of type t in a file; 0 for String and Array, whose size varies.
size_t value_type_size(ValueType t) noexcept;

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;          // GGML_MAX_DIMS
inline constexpr int kMaxArrayDepth = 8;    // arrays of arrays of ... at most this deep

/// A metadata value: a scalar, a string or a (possibly nested) array.
/// Arrays of numbers and strings are stored compactly (one vector per array,
/// not one Value per element) and shared between copies, so copying a Value
/// that holds a 150k-token vocabulary is cheap.
class Value {
 public:
  /// A u8 holding 0.
  Value() = default;

  static Value u8(uint8_t v);
  static Value i8(int8_t v);
  static Value u16(uint16_t v);
  static Value i16(int16_t v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value f32(float v);
  static Value boolean(bool v);
  static Value string(std::string v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value f64(double v);
  /// An array of numbers; T is one of uint8_t, int8_t, ..., uint64_t, int64_t, float, double.
  template <class T>
  static Value number_array(std::vector<T> items);
  static Value bool_array(const std::vector<bool>& items);
  static Value string_array(std::vector<std::string> items);
  /// An array whose elements are arrays (each may have its own element type).
  static Value nested_array(std::vector<Value> items);
  /// An array of elem-typed values given one by one; throws if an item has another type.
  static Value array_of(ValueType elem, const std::vector<Value>& items);

  ValueType type() const noexcept { return type_; }
  bool is_array() const noexcept { return type_ == ValueType::Array; }
  /// Element type of an array; throws ember::Error if this is not an array.
  ValueType array_type() const;
  /// Array length; 0 for anything that is not an array.
  size_t size() const noexcept;

  /// Any integer type whose value fits in int64_t.
  std::optional<int64_t> as_int() const noexcept;
  /// Any integer type whose value is not negative.
  std::optional<uint64_t> as_uint() const noexcept;
  /// f32, f64 or any integer type.
  std::optional<double> as_float() const noexcept;
  std::optional<bool> as_bool() const noexcept;
  /// The string, or nullptr if this is not a string. May hold any bytes.
  const std::string* as_string() const noexcept;

  /// Elements of any array as Values (throws if not an array). For arrays of
  /// arrays this is the storage itself; for arrays of numbers or strings the
  /// Values are built once on first use, so prefer numbers<T>() and strings().
  const std::vector<Value>& array() const;
  /// Element i of an array as a Value; throws if not an array or i is out of range.
  Value at(size_t i) const;
  /// An array of strings, without copies; throws otherwise.
  std::span<const std::string> strings() const;
  /// An array of numbers whose element type is exactly T (uint8_t also
  /// serves arrays of bool, as 0/1 bytes); throws otherwise.
  template <class T>
  std::span<const T> numbers() const;
  /// Any array of integers (or bools) converted to int64_t; throws if an element does not fit.
  std::vector<int64_t> to_ints() const;
  /// Any array of numbers converted to double.
  std::vector<double> to_floats() const;

  /// Human-readable value: numbers in shortest round-trip form, strings quoted
  /// and escaped (cut after max_string_bytes, then `... (N bytes)`), arrays as
  /// `[a, b, ...]` showing at most max_items elements.
  std::string to_display(size_t max_items = 8, size_t max_string_bytes = SIZE_MAX) const;
  /// FNV-1a 64 of the value's bytes as a GGUF file stores them, without the
  /// type tag and, for arrays, without the element type and count.
  uint64_t content_hash() const;

  /// Same type and the same content (floats compared bit for bit).
  bool operator==(const Value& other) const;

 private:
  friend struct ValueCodec;  // src/gguf/codec.h: file encoding of values
  struct ArrayData;
  static Value make_array(std::shared_ptr<const ArrayData> data);

  ValueType type_ = ValueType::U8;
  uint64_t bits_ = 0;  // scalars: the value zero/sign-extended, or the bits of a double for f32/f64
  std::string string_;
  std::shared_ptr<const ArrayData> array_;
};

/// One tensor of a file. shape[0] is ne[0], the fastest-varying dimension.
struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;      // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the file's bytes; valid while the File (or its keepalive) lives
};

struct ReadOptions {
  bool use_mmap = true;  // false: read the file into memory owned by the File
};

/// A validated GGUF file. Every length, count, type, shape and offset is
/// checked before use; a malformed file gives an ember::Error naming the
/// path, the key or tensor and the byte offset, never a crash.
class File {
 public:
  /// Throws ember::Error (Io, InvalidFile or Unsupported).
  static File open(const std::string& path, ReadOptions options = {});
  /// Parses a copy held by the File; messages name the file "<memory>".
  static File from_bytes(std::vector<uint8_t> bytes);

  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() = default;

  const std::string& path() const noexcept { return path_; }
  uint32_t version() const noexcept { return version_; }
  uint64_t alignment() const noexcept { return alignment_; }
  /// Start of the data section; for files without tensors it may lie past the end.
  uint64_t data_offset() const noexcept { return data_offset_; }
  uint64_t file_size() const noexcept { return size_; }
  /// The whole file.
  std::span<const uint8_t> bytes() const noexcept { return {base_, size_}; }
  /// Owner of the file's bytes: hold it to keep TensorInfo::data valid after the File is gone.
  std::shared_ptr<const void> keepalive() const noexcept { return storage_; }

  /// Key/value pairs in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const noexcept { return metadata_; }
  const Value* find(std::string_view key) const noexcept;
  // Typed getters: nullopt when the key is absent, ember::Error when it holds
  // another type ("[gguf] m.gguf: key 'llama.context_length': expected an unsigned integer, found string").
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<uint64_t> get_uint(std::string_view key) const;  // any integer type, value >= 0
  std::optional<int64_t> get_int(std::string_view key) const;    // any integer type
  std::optional<double> get_float(std::string_view key) const;   // f32, f64 or integer
  std::optional<bool> get_bool(std::string_view key) const;
  /// An array value, or nullptr when absent; throws if the key holds something else.
  const Value* get_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const noexcept;

 private:
  File() = default;
  friend class FileParser;

  std::string path_;
  std::shared_ptr<const void> storage_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t, std::less<>> key_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

/// Builds a version-3 GGUF file. Keys keep the order of their first set();
/// tensors are laid out in the order added, each at an aligned offset.
class Writer {
 public:
  /// Adds or replaces a key. "general.alignment" must be a u32 power of two
  /// and also sets the alignment.
  void set(std::string_view key, Value value);
  /// Tensor data alignment (a power of two); written as general.alignment.
  void set_alignment(uint32_t alignment);
  /// Copies the tensor's bytes; bytes must equal the size of shape in type.
  void add_tensor(std::string name, DType type, const std::vector<int64_t>& shape, const void* data,
                  size_t bytes);
  /// Like add_tensor without a copy: data must stay valid until the last write.
  void add_tensor_ref(std::string name, DType type, const std::vector<int64_t>& shape, const void* data,
                      size_t bytes);

  std::vector<uint8_t> to_bytes() const;
  /// Writes the file, streaming tensor data; throws ember::Error (Io) on failure.
  void write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> owned;  // copied data (add_tensor)
    const uint8_t* ref;          // borrowed data (add_tensor_ref)
    uint64_t n_bytes;
    const uint8_t* bytes() const { return owned.empty() ? ref : owned.data(); }
  };
  void add(std::string name, DType type, const std::vector<int64_t>& shape, const void* data, size_t bytes,
           bool copy);
  std::vector<uint8_t> header_bytes() const;

  uint32_t alignment_ = kDefaultAlignment;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

struct ListingOptions {
  size_t max_items = 8;            // array elements shown per value
  size_t max_string_bytes = 256;   // longer strings are cut (with their length and hash shown)
  bool tensor_hashes = false;      // FNV-1a 64 of each tensor's bytes (reads all data)
};

/// The `ember-gguf` listing: a header line, then every key with its type and
/// value, then every tensor with index, name, type, shape, offset and bytes.
/// Arrays longer than max_items and cut strings also show `fnv1a64=...` of
/// their full content, so a listing pins down the whole metadata.
std::string format_listing(const File& file, const ListingOptions& options = {});

/// FNV-1a 64 over bytes, continuing from state h.
uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) noexcept;

}  // namespace ember::gguf
