// Malformed GGUF files: a small valid file made by the Writer, then corrupted.
// Every case must raise ember::Error naming the problem; none may crash (these
// tests also run under ASan+UBSan).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ember/error.h"
#include "ember/gguf.h"

using namespace ember;
using namespace ember::gguf;

namespace {

std::vector<uint8_t> small_file() {
  Writer w;
  w.set("general.name", Value::string("small"));
  w.set("dup.a", Value::u32(1));
  w.set("dup.b", Value::u32(2));
  w.set("flag", Value::boolean(true));
  w.set("vocab", Value::string_array({"x", "yy"}));
  w.set("ids", Value::number_array(std::vector<int32_t>{1, 2, 3}));
  w.set("nest", Value::nested_array({Value::number_array(std::vector<uint8_t>{9})}));
  w.set_alignment(32);
  const float f[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  w.add_tensor("t.a", DType::F32, {4, 2}, f, sizeof(f));
  uint8_t q[34] = {};
  w.add_tensor("t.b", DType::Q8_0, {32}, q, sizeof(q));
  return w.to_bytes();
}

// Offset of the bytes of string s, stored with its u64 length in front.
size_t find_str(const std::vector<uint8_t>& b, const std::string& s) {
  std::vector<uint8_t> needle(8 + s.size());
  const uint64_t n = s.size();
  std::memcpy(needle.data(), &n, 8);
  std::memcpy(needle.data() + 8, s.data(), s.size());
  auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  REQUIRE(it != b.end());
  return size_t(it - b.begin()) + 8;
}

template <class T>
void poke(std::vector<uint8_t>& b, size_t at, T v) {
  REQUIRE(at + sizeof(T) <= b.size());
  std::memcpy(b.data() + at, &v, sizeof(T));
}

struct Outcome {
  bool threw = false;
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
};

Outcome parse(const std::vector<uint8_t>& b) {
  Outcome o;
  try {
    (void)File::from_bytes(b);
  } catch (const Error& e) {
    o.threw = true;
    o.kind = e.kind();
    o.message = e.what();
  }
  return o;
}

// The file must be refused with a message containing each of the parts.
void check_refused(const std::vector<uint8_t>& b, std::initializer_list<std::string> parts,
                   ErrorKind kind = ErrorKind::InvalidFile) {
  const Outcome o = parse(b);
  REQUIRE(o.threw);
  CAPTURE(o.message);
  CHECK(o.kind == kind);
  CHECK(o.message.rfind("[gguf] <memory>: ", 0) == 0);
  for (const std::string& p : parts) CHECK(o.message.find(p) != std::string::npos);
}

// Tensor info fields, as offsets from the start of the tensor's name bytes.
struct InfoAt {
  size_t n_dims, ne0, ne1, type, offset;
};
InfoAt tensor_a(const std::vector<uint8_t>& b) {
  const size_t n = find_str(b, "t.a") + 3;
  return {n, n + 4, n + 12, n + 20, n + 24};
}
InfoAt tensor_b(const std::vector<uint8_t>& b) {
  const size_t n = find_str(b, "t.b") + 3;
  return {n, n + 4, 0, n + 12, n + 16};
}

}  // namespace

TEST_CASE("gguf malformed: the small file itself is valid") {
  const std::vector<uint8_t> b = small_file();
  const File f = File::from_bytes(b);
  CHECK(f.metadata().size() == 8);
  CHECK(f.tensors().size() == 2);
  CHECK(f.tensors()[1].offset == 32);
  CHECK(f.tensors()[1].data + 34 + 30 == f.bytes().data() + f.file_size());  // padded to 32
}

TEST_CASE("gguf malformed: a file cut at any byte is refused") {
  const std::vector<uint8_t> b = small_file();
  const File f = File::from_bytes(b);
  // Cuts in the padding after the last tensor leave a valid file.
  const size_t end = size_t(f.tensors().back().data + f.tensors().back().n_bytes - f.bytes().data());
  for (size_t n = 0; n < end; ++n) {
    CAPTURE(n);
    const Outcome o = parse(std::vector<uint8_t>(b.begin(), b.begin() + long(n)));
    CHECK(o.threw);
    CHECK(o.kind == ErrorKind::InvalidFile);
  }
  check_refused({}, {"at offset 0: file is empty"});
  check_refused({'G', 'G', 'U'}, {"file too small for a GGUF header (3 bytes)"});
  check_refused({'G', 'G', 'U', 'F', 3, 0, 0, 0}, {"file too small for a GGUF header (8 bytes, need 24)"});
  std::vector<uint8_t> cut(b.begin(), b.begin() + long(find_str(b, "general.name") + 3));
  check_refused(cut, {"at offset 8: kv count 8 and tensor count 2 do not fit in a file of 35 bytes"});

  Writer w;
  w.set("general.name", Value::string("a name"));
  const std::vector<uint8_t> one = w.to_bytes();
  const size_t str_len = find_str(one, "general.name") + 12 + 4;
  check_refused(std::vector<uint8_t>(one.begin(), one.begin() + long(str_len + 2)),
                {"key 'general.name' at offset " + std::to_string(str_len) +
                 ": truncated file: string needs 8 bytes, 2 left"});
  check_refused(std::vector<uint8_t>(one.begin(), one.begin() + long(str_len + 9)),
                {"key 'general.name' at offset " + std::to_string(str_len) +
                 ": string length 6 exceeds the 1 bytes left in the file"});
  check_refused(std::vector<uint8_t>(one.begin(), one.begin() + 37),
                {"key #0 at offset 24: key length 12 exceeds the 5 bytes left in the file"});
}

TEST_CASE("gguf malformed: bad magic, unsupported versions and byte order") {
  std::vector<uint8_t> b = small_file();
  b[0] = 'X';
  check_refused(b, {"at offset 0: not a GGUF file: magic is 'XGUF', expected 'GGUF'"});
  b = small_file();
  poke<uint32_t>(b, 4, 1);
  check_refused(b, {"at offset 4: unsupported GGUF version 1"}, ErrorKind::Unsupported);
  poke<uint32_t>(b, 4, 99);
  check_refused(b, {"unsupported GGUF version 99 (ember reads 2 and 3)"}, ErrorKind::Unsupported);
  poke<uint32_t>(b, 4, 0x03000000);
  check_refused(b, {"big-endian GGUF files are not supported"}, ErrorKind::Unsupported);
  poke<uint32_t>(b, 4, 2);
  CHECK(File::from_bytes(b).version() == 2);
}

TEST_CASE("gguf malformed: huge lengths and counts are refused before allocating") {
  std::vector<uint8_t> b = small_file();
  const size_t name_len = find_str(b, "general.name") + 12 + 4;  // after the key and the type tag
  poke<uint64_t>(b, name_len, uint64_t(1) << 60);
  check_refused(b, {"key 'general.name' at offset " + std::to_string(name_len),
                    "string length 1152921504606846976 exceeds the"});

  b = small_file();
  poke<uint64_t>(b, 24, uint64_t(1) << 62);  // the first key's length
  check_refused(b, {"key #0 at offset 24: key length 4611686018427387904 exceeds"});

  b = small_file();
  const size_t vocab = find_str(b, "vocab") + 5;
  poke<uint64_t>(b, vocab + 8, uint64_t(1) << 61);
  check_refused(b, {"key 'vocab' at offset " + std::to_string(vocab + 4),
                    "array of 2305843009213693952 string cannot fit in the"});
  poke<uint64_t>(b, vocab + 8, UINT64_MAX);
  check_refused(b, {"array of 18446744073709551615 string cannot fit"});

  b = small_file();
  poke<uint64_t>(b, 16, uint64_t(1) << 63);
  check_refused(b, {"at offset 8: kv count 9223372036854775808 and tensor count 2 do not fit in a file of"});
  b = small_file();
  poke<uint64_t>(b, 8, UINT64_MAX);
  check_refused(b, {"tensor count 18446744073709551615 do not fit"});
  b = small_file();
  poke<uint64_t>(b, 8, 3);  // within what the size allows, but there are only 2 infos
  check_refused(b, {"tensor '' at offset", "n_dims 0 is not in 1..4"});  // read from the zero padding
}

TEST_CASE("gguf malformed: arrays nested deeper than 8 levels are refused") {
  auto nested = [](int levels) {
    Value v = Value::number_array(std::vector<uint8_t>{1});
    for (int i = 1; i < levels; ++i) v = Value::nested_array({v});
    Writer w;
    w.set("deep", v);
    return w.to_bytes();
  };
  const File ok = File::from_bytes(nested(kMaxArrayDepth));
  CHECK(ok.find("deep")->to_display() == "[[[[[[[[1]]]]]]]]");
  check_refused(nested(kMaxArrayDepth + 1), {"key 'deep'", "arrays nested more than 8 deep"});
  check_refused(nested(1000), {"arrays nested more than 8 deep"});
}

TEST_CASE("gguf malformed: unknown value types and bad bools") {
  std::vector<uint8_t> b = small_file();
  const size_t flag_type = find_str(b, "flag") + 4;
  poke<uint32_t>(b, flag_type, 13);
  check_refused(b, {"key 'flag' at offset " + std::to_string(flag_type) + ": unknown value type 13"});
  b = small_file();
  poke<uint8_t>(b, flag_type + 4, 2);
  check_refused(b, {"key 'flag'", "bool value 2 is neither 0 nor 1"});
  b = small_file();
  const size_t vocab_elem = find_str(b, "vocab") + 5 + 4;
  poke<uint32_t>(b, vocab_elem, 0xFFFFFFFF);
  check_refused(b, {"key 'vocab' at offset " + std::to_string(vocab_elem), "unknown value type 4294967295"});
}

TEST_CASE("gguf malformed: duplicate keys and tensor names") {
  std::vector<uint8_t> b = small_file();
  const size_t dup = find_str(b, "dup.b");
  b[dup + 4] = 'a';
  check_refused(b, {"key 'dup.a' at offset " + std::to_string(dup - 8) + ": duplicate key (also key #1)"});
  b = small_file();
  b[find_str(b, "t.b") + 2] = 'a';
  check_refused(b, {"tensor 't.a'", "duplicate tensor name (also tensor #0)"});
}

TEST_CASE("gguf malformed: bad general.alignment") {
  std::vector<uint8_t> b = small_file();
  const size_t type_at = find_str(b, "general.alignment") + 17;
  for (uint32_t a : {0u, 3u, 48u}) {
    poke<uint32_t>(b, type_at + 4, a);
    check_refused(b, {"key 'general.alignment'", "alignment " + std::to_string(a) + " is not a non-zero power of two"});
  }
  b = small_file();
  poke<uint32_t>(b, type_at, uint32_t(ValueType::I32));
  check_refused(b, {"key 'general.alignment'", "expected u32, found i32"});
  b = small_file();
  poke<uint32_t>(b, type_at, uint32_t(ValueType::F32));
  check_refused(b, {"expected u32, found f32"});
}

TEST_CASE("gguf malformed: tensor dimensions and types") {
  const std::vector<uint8_t> good = small_file();
  const InfoAt a = tensor_a(good);
  const InfoAt bq = tensor_b(good);
  std::vector<uint8_t> b;

  for (uint32_t n : {0u, 5u, 0xFFFFFFFFu}) {
    b = good;
    poke<uint32_t>(b, a.n_dims, n);
    check_refused(b, {"tensor 't.a' at offset " + std::to_string(a.n_dims) + ": n_dims " + std::to_string(n) +
                      " is not in 1..4"});
  }
  b = good;
  poke<uint64_t>(b, a.ne0, uint64_t(1) << 32);
  poke<uint64_t>(b, a.ne1, uint64_t(1) << 32);
  check_refused(b, {"tensor 't.a'", "element count of shape [4294967296, 4294967296] overflows"});
  b = good;
  poke<uint64_t>(b, a.ne0, uint64_t(1) << 61);  // fits in i64 as elements, not as f32 bytes
  check_refused(b, {"tensor 't.a'", "size in bytes of f32 [2305843009213693952, 2] overflows"});
  b = good;
  poke<uint64_t>(b, a.ne1, uint64_t(1) << 63);
  check_refused(b, {"ne[1] = 9223372036854775808 is negative as an i64"});
  b = good;
  poke<uint64_t>(b, a.ne1, 0);
  check_refused(b, {"ne[1] is 0 (empty tensors are not supported)"}, ErrorKind::Unsupported);
  b = good;
  poke<uint64_t>(b, bq.ne0, 33);
  check_refused(b, {"tensor 't.b'", "ne[0] = 33 is not a multiple of the block size 32 of q8_0"});
  for (uint32_t t : {4u, 99u, 0xFFFFFFFFu}) {
    b = good;
    poke<uint32_t>(b, a.type, t);
    check_refused(b, {"tensor 't.a' at offset " + std::to_string(a.type) + ": unknown tensor type " +
                      std::to_string(t)});
  }
}

TEST_CASE("gguf malformed: tensor data offsets") {
  const std::vector<uint8_t> good = small_file();
  const File f = File::from_bytes(good);
  const InfoAt bq = tensor_b(good);
  std::vector<uint8_t> b = good;
  poke<uint64_t>(b, bq.offset, 33);
  check_refused(b, {"tensor 't.b' at offset " + std::to_string(bq.offset) +
                    ": data offset 33 is not a multiple of the alignment 32"});
  b = good;
  poke<uint64_t>(b, bq.offset, 1 << 20);
  const uint64_t begin = f.data_offset() + (1 << 20);
  check_refused(b, {"tensor 't.b': data [" + std::to_string(begin) + ", " + std::to_string(begin + 34) +
                    ") past end of file (size " + std::to_string(good.size()) + ")"});
  b = good;
  poke<uint64_t>(b, bq.offset, UINT64_MAX - 31);
  check_refused(b, {"tensor 't.b'", "data offset 18446744073709551584 + size 34 overflows"});
  b = good;
  poke<uint64_t>(b, bq.offset, UINT64_MAX - 31 - 64);  // offset + size fits; data start + offset does not
  check_refused(b, {"tensor 't.b'", "overflows"});
}

TEST_CASE("gguf malformed: flipping any byte gives a file or an error, never a crash") {
  const std::vector<uint8_t> good = small_file();
  const size_t header_end = size_t(File::from_bytes(good).data_offset());
  size_t refused = 0, cases = 0;
  for (size_t i = 0; i < header_end; ++i) {
    for (uint8_t v : {uint8_t(0), uint8_t(0xFF), uint8_t(good[i] + 1), uint8_t(good[i] ^ 0x80)}) {
      std::vector<uint8_t> b = good;
      b[i] = v;
      const Outcome o = parse(b);
      ++cases;
      if (!o.threw) continue;
      ++refused;
      CHECK(o.message.rfind("[gguf] <memory>: ", 0) == 0);
    }
  }
  MESSAGE(refused << " of " << cases << " one-byte corruptions refused");
  CHECK(refused > cases / 4);
}

TEST_CASE("gguf malformed: File::open names the path in its messages") {
  std::vector<uint8_t> b = small_file();
  b[find_str(b, "dup.b") + 4] = 'a';
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ember-test-gguf-malformed-" + std::to_string(::getpid()) + ".gguf"))
                               .string();
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
  for (bool mmap : {true, false}) {
    std::string msg;
    try {
      (void)File::open(path, ReadOptions{mmap});
    } catch (const Error& e) {
      msg = e.what();
    }
    CHECK(msg.rfind("[gguf] " + path + ": key 'dup.a' at offset ", 0) == 0);
  }
  std::filesystem::remove(path);
}
