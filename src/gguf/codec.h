#pragma once
// Internal to src/gguf: how values are encoded in a file, shared by the
// reader, the writer, the content hash and the listing.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ember/gguf.h"

namespace ember::gguf {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader and writer copy little-endian data as is");

/// Where encoded bytes go: a buffer, a file or a hash.
class ByteSink {
 public:
  virtual void put(const void* data, size_t n) = 0;
  void put_u32(uint32_t v) { put(&v, 4); }
  void put_u64(uint64_t v) { put(&v, 8); }
  void put_string(std::string_view s) {
    put_u64(s.size());
    put(s.data(), s.size());
  }

 protected:
  ~ByteSink() = default;
};

class VectorSink final : public ByteSink {
 public:
  explicit VectorSink(std::vector<uint8_t>& out) : out_(out) {}
  void put(const void* data, size_t n) override {
    if (n == 0) return;
    const size_t old = out_.size();
    out_.resize(old + n);
    std::memcpy(out_.data() + old, data, n);
  }

 private:
  std::vector<uint8_t>& out_;
};

class HashSink final : public ByteSink {
 public:
  void put(const void* data, size_t n) override { h_ = fnv1a64(data, n, h_); }
  uint64_t hash() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

struct ValueCodec {
  /// The value's bytes as stored after its type tag (arrays: element type, count, elements).
  static void write_value(const Value& v, ByteSink& out);
  /// An array's elements only, as stored after its element type and count.
  static void write_elements(const Value& v, ByteSink& out);
  /// A scalar from the little-endian bits read from a file (zero-extended to 64 bits).
  static Value scalar_from_bits(ValueType t, uint64_t bits);
  /// An array of bools from 0/1 bytes.
  static Value bool_array_from_bytes(std::vector<uint8_t> bytes);
};

/// Appends s with '"', '\\' and control bytes escaped; other bytes (UTF-8 included) as they are.
void append_escaped(std::string& out, std::string_view s);
/// The shortest decimal that reads back to v (as a float when single), in
/// fixed notation for exponents -5..15 and scientific otherwise.
std::string format_float(double v, bool single);

}  // namespace ember::gguf
