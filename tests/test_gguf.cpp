// GGUF reader, writer, listing and Tensor against the reference files in shared/testdata.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/tensor.h"

namespace fs = std::filesystem;
using namespace ember;
using namespace ember::gguf;

namespace {

const std::string kShared = EMBER_SHARED_DIR "/testdata/";
const std::string kListings = EMBER_TEST_DATA_DIR "/gguf_listings/";

std::vector<std::string> reference_ggufs() {
  std::vector<std::string> paths;
  for (const char* dir : {"models", "tokenizer"})
    for (const auto& e : fs::directory_iterator(kShared + dir))
      if (e.path().extension() == ".gguf") paths.push_back(e.path().string());
  paths.push_back(kShared + "quant/quant_vectors.gguf");
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A temporary file removed at scope exit.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string& name)
      : path((fs::temp_directory_path() / ("ember-test-gguf-" + std::to_string(::getpid()) + "-" + name)).string()) {}
  ~TempPath() { fs::remove(path); }
};

}  // namespace

TEST_CASE("gguf: every reference file lists exactly as the Python gguf package reads it") {
  const std::vector<std::string> paths = reference_ggufs();
  REQUIRE(paths.size() >= 18);
  ListingOptions opt;
  opt.tensor_hashes = true;  // pins each tensor's data pointer and size too
  for (const std::string& path : paths) {
    CAPTURE(path);
    const std::string expected = read_text(kListings + fs::path(path).filename().string() + ".txt");
    REQUIRE_FALSE(expected.empty());
    for (bool mmap : {true, false}) {
      CAPTURE(mmap);
      const File f = File::open(path, ReadOptions{mmap});
      CHECK(format_listing(f, opt) == expected);
    }
  }
}

TEST_CASE("gguf: typed getters read the tiny llama model and name the key on a wrong type") {
  const File f = File::open(kShared + "models/tiny-llama-Q4_K_M.gguf");
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 32);
  CHECK(f.get_string("general.architecture") == "llama");
  CHECK(f.get_uint("llama.context_length") == 1024u);
  CHECK(f.get_int("llama.block_count") == 4);
  CHECK(f.get_float("llama.rope.freq_base") == 10000.0);
  CHECK(f.get_float("llama.attention.layer_norm_rms_epsilon") == double(1e-5f));
  CHECK(f.get_bool("tokenizer.ggml.add_bos_token") == true);
  CHECK_FALSE(f.get_uint("llama.no_such_key").has_value());
  CHECK(f.get_array("llama.no_such_key") == nullptr);

  const std::string msg = error_of([&] { (void)f.get_uint("general.architecture"); });
  CHECK(msg.find("tiny-llama-Q4_K_M.gguf") != std::string::npos);
  CHECK(msg.find("key 'general.architecture': expected an unsigned integer, found string") != std::string::npos);
  CHECK(error_of([&] { (void)f.get_string("tokenizer.ggml.tokens"); }).find("found array<string>") !=
        std::string::npos);
  CHECK(error_of([&] { (void)f.get_array("general.name"); }).find("expected an array") != std::string::npos);

  const Value* tokens = f.get_array("tokenizer.ggml.tokens");
  REQUIRE(tokens);
  CHECK(tokens->array_type() == ValueType::String);
  REQUIRE(tokens->strings().size() == 32000);
  CHECK(tokens->strings()[1] == "<s>");
  CHECK(tokens->at(2) == Value::string("</s>"));
  CHECK(f.find("tokenizer.ggml.scores")->numbers<float>().size() == 32000);
  CHECK(f.find("tokenizer.ggml.token_type")->numbers<int32_t>()[0] == 2);
  CHECK(f.find("tokenizer.ggml.token_type")->to_ints().size() == 32000);
  CHECK(error_of([&] { (void)f.find("tokenizer.ggml.token_type")->numbers<float>(); })
            .find("expected an array of f32, found an array of i32") != std::string::npos);
  CHECK(error_of([&] { (void)f.find("tokenizer.ggml.scores")->strings(); }).find("array of strings") !=
        std::string::npos);

  const TensorInfo* emb = f.find_tensor("token_embd.weight");
  REQUIRE(emb);
  CHECK(emb->type == DType::Q6_K);
  CHECK(emb->shape == std::vector<int64_t>{256, 32000});
  CHECK(emb->n_elements == 256u * 32000u);
  CHECK(emb->n_bytes == 32000u * 210u);
  CHECK(emb->data == f.bytes().data() + f.data_offset() + emb->offset);
  CHECK(f.find_tensor("no.such.tensor") == nullptr);
}

TEST_CASE("gguf: a moved File keeps its tensor pointers, and a keepalive outlives the File") {
  Tensor view;
  const uint8_t* data = nullptr;
  {
    File a = File::open(kShared + "quant/quant_vectors.gguf");
    const TensorInfo* x = a.find_tensor("x");
    REQUIRE(x);
    data = x->data;
    File b = std::move(a);
    CHECK(b.find_tensor("x")->data == data);
    view = Tensor::view(*b.find_tensor("x"), b.keepalive());
  }
  // The File is gone; the mapping must still be there.
  CHECK(view.data() == data);
  const Tensor f = view.to_f32();
  float first = 0;
  std::memcpy(&first, data, 4);
  CHECK(static_cast<const float*>(f.data())[0] == first);
}

TEST_CASE("tensor: views of quant_vectors dequantize to the reference deq.T tensors") {
  const File f = File::open(kShared + "quant/quant_vectors.gguf");
  for (const char* t : {"f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0"}) {
    CAPTURE(t);
    const TensorInfo* q = f.find_tensor(std::string("q.") + t);
    const TensorInfo* deq = f.find_tensor(std::string("deq.") + t);
    REQUIRE(q);
    REQUIRE(deq);
    const Tensor got = Tensor::view(*q, f.keepalive()).to_f32();
    CHECK(got.dtype() == DType::F32);
    CHECK(got.ne(0) == 1024);
    CHECK(got.ne(1) == 4);
    REQUIRE(got.n_bytes() == deq->n_bytes);
    CHECK(std::memcmp(got.data(), deq->data, deq->n_bytes) == 0);
  }
}

TEST_CASE("tensor: shape, strides, rows and contiguity") {
  Tensor t = Tensor::empty(DType::Q8_0, {64, 3, 2});
  CHECK(t.n_dims() == 3);
  CHECK(t.n_elements() == 64 * 3 * 2);
  CHECK(t.n_rows() == 6);
  CHECK(t.row_bytes() == 2 * 34);
  CHECK(t.n_bytes() == 6 * 68);
  CHECK(t.strides() == std::array<uint64_t, 4>{34, 68, 204, 408});
  CHECK(t.ne(3) == 1);
  CHECK(t.is_contiguous());
  CHECK_FALSE(t.is_view());
  CHECK(reinterpret_cast<uintptr_t>(t.data()) % Tensor::kAlignment == 0);
  CHECK(t.row(4) == static_cast<const uint8_t*>(t.data()) + 4 * 68);
  CHECK(t.mutable_row(5)[0] == 0);  // zero-filled
  CHECK(error_of([&] { (void)t.row(6); }).find("row 6 out of range") != std::string::npos);

  // Every other row of a [4, 6] f32 buffer: a strided view.
  std::vector<float> buf(24);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = float(i);
  const Tensor s = Tensor::view(DType::F32, {4, 3}, {4, 32}, buf.data(), nullptr);
  CHECK_FALSE(s.is_contiguous());
  CHECK(s.is_view());
  CHECK(reinterpret_cast<const float*>(s.row(2))[0] == 16.0f);
  const Tensor dense = s.to_f32();
  CHECK(dense.is_contiguous());
  CHECK(static_cast<const float*>(dense.data())[4] == 8.0f);
  CHECK(error_of([&] { (void)Tensor(s).mutable_data(); }).find("read-only") != std::string::npos);
}

TEST_CASE("tensor: bad shapes are refused with a message naming the problem") {
  CHECK(error_of([] { Tensor::empty(DType::Q4_0, {33}); }).find("not a multiple of the block size 32 of q4_0") !=
        std::string::npos);
  CHECK(error_of([] { Tensor::empty(DType::F32, {}); }).find("need 1..4") != std::string::npos);
  CHECK(error_of([] { Tensor::empty(DType::F32, {1, 1, 1, 1, 1}); }).find("need 1..4") != std::string::npos);
  CHECK(error_of([] { Tensor::empty(DType::F32, {4, 0}); }).find("dimension < 1") != std::string::npos);
  CHECK(error_of([] { Tensor::empty(DType::F32, {int64_t(1) << 40, int64_t(1) << 40}); }).find("overflows") !=
        std::string::npos);
  CHECK(error_of([] { Tensor::empty(DType(4), {32}); }).find("unknown type id 4") != std::string::npos);
  CHECK(error_of([] { Tensor::empty(DType::IQ2_XXS, {256}).to_f32(); }).find("no dequantize for iq2_xxs") !=
        std::string::npos);
  float x = 0;
  CHECK(error_of([&] { Tensor::view(DType::F32, {1}, {8}, &x, nullptr); }).find("strides[0]") != std::string::npos);
}

TEST_CASE("gguf value: display, conversions and equality") {
  CHECK(Value::f32(1e-5f).to_display() == "0.00001");
  CHECK(Value::f32(1e-6f).to_display() == "1e-06");
  CHECK(Value::f32(999999.44f).to_display() == "999999.44");
  CHECK(Value::f32(0.1f).to_display() == "0.1");
  CHECK(Value::f64(0.1).to_display() == "0.1");
  CHECK(Value::f64(1.0 / 3).to_display() == "0.3333333333333333");
  CHECK(Value::f64(-2.5e300).to_display() == "-2.5e+300");
  CHECK(Value::f32(NAN).to_display() == "nan");
  CHECK(Value::f64(-INFINITY).to_display() == "-inf");
  CHECK(Value::i8(-5).to_display() == "-5");
  CHECK(Value::u64(UINT64_MAX).to_display() == "18446744073709551615");
  CHECK(Value::boolean(true).to_display() == "true");
  CHECK(Value::string("a\"b\\c\n\x01\xc3\xa9").to_display() == "\"a\\\"b\\\\c\\n\\x01\xc3\xa9\"");
  CHECK(Value::string("\xc3\xa9\xc3\xa9").to_display(8, 3) == "\"\xc3\xa9\"... (4 bytes)");  // not cut mid-character
  CHECK(Value::number_array(std::vector<int32_t>{1, 2, 3}).to_display(2) == "[1, 2, ...]");
  CHECK(Value::number_array(std::vector<int32_t>{1, 2, 3}).to_display(0) == "[...]");
  CHECK(Value::bool_array({true, false}).to_display() == "[true, false]");
  CHECK(Value::nested_array({Value::string_array({"a"}), Value::number_array(std::vector<float>{0.5f})})
            .to_display() == "[[\"a\"], [0.5]]");

  CHECK(Value::u64(UINT64_MAX).as_int() == std::nullopt);
  CHECK(Value::u64(UINT64_MAX).as_uint() == UINT64_MAX);
  CHECK(Value::i16(-3).as_uint() == std::nullopt);
  CHECK(Value::i16(-3).as_int() == -3);
  CHECK(Value::u8(7).as_float() == 7.0);
  CHECK(Value::f32(1.5f).as_int() == std::nullopt);
  CHECK(Value::string("x").as_bool() == std::nullopt);
  CHECK(Value::string("x").size() == 0);

  const Value a = Value::number_array(std::vector<uint16_t>{1, 2, 65535});
  CHECK(a.size() == 3);
  CHECK(a.array().size() == 3);
  CHECK(a.array()[2] == Value::u16(65535));
  CHECK(a.to_ints() == std::vector<int64_t>{1, 2, 65535});
  CHECK(a.to_floats() == std::vector<double>{1, 2, 65535});
  CHECK(error_of([&] { (void)a.at(3); }).find("out of range") != std::string::npos);
  CHECK(error_of([] { (void)Value::number_array(std::vector<uint64_t>{UINT64_MAX}).to_ints(); })
            .find("does not fit") != std::string::npos);
  CHECK(Value::array_of(ValueType::I64, {Value::i64(-1), Value::i64(2)}) ==
        Value::number_array(std::vector<int64_t>{-1, 2}));
  CHECK(error_of([] { (void)Value::array_of(ValueType::I64, {Value::i32(1)}); }).find("item 0 is a i32") !=
        std::string::npos);
  CHECK(Value::f32(NAN) == Value::f32(NAN));
  CHECK_FALSE(Value::f64(0.0) == Value::f64(-0.0));
  CHECK_FALSE(Value::u32(1) == Value::i32(1));
  CHECK(Value::string("abc").content_hash() == fnv1a64("\x03\0\0\0\0\0\0\0abc", 11));
}

TEST_CASE("gguf writer: every value type and tensor round-trips through the reader") {
  Writer w;
  w.set("t.u8", Value::u8(200));
  w.set("t.i8", Value::i8(-100));
  w.set("t.u16", Value::u16(60000));
  w.set("t.i16", Value::i16(-30000));
  w.set("t.u32", Value::u32(4000000000u));
  w.set("t.i32", Value::i32(-2000000000));
  w.set("t.f32", Value::f32(3.25f));
  w.set("t.bool", Value::boolean(true));
  w.set("t.string", Value::string(std::string("with\0nul", 8)));
  w.set("t.u64", Value::u64(UINT64_MAX));
  w.set("t.i64", Value::i64(INT64_MIN));
  w.set("t.f64", Value::f64(-1e300));
  w.set("t.empty_string", Value::string(""));
  w.set("t.strings", Value::string_array({"a", "", "ccc"}));
  w.set("t.floats", Value::number_array(std::vector<float>{1, NAN, -0.0f}));
  w.set("t.bools", Value::bool_array({true, false, true}));
  w.set("t.empty", Value::number_array(std::vector<int64_t>{}));
  w.set("t.nested", Value::nested_array({Value::nested_array({Value::string_array({"deep"})}),
                                         Value::number_array(std::vector<int8_t>{-1})}));
  w.set("t.u32", Value::u32(7));  // replaces in place
  w.set_alignment(64);

  std::vector<float> f32s(12);
  for (size_t i = 0; i < f32s.size(); ++i) f32s[i] = float(i) - 5.5f;
  std::vector<uint8_t> q8(2 * 34 * 3);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = uint8_t(i * 7);
  const std::vector<uint16_t> f16s(5, 0x3c00);
  w.add_tensor("a", DType::F32, {4, 3}, f32s.data(), f32s.size() * 4);
  w.add_tensor("b.q8", DType::Q8_0, {64, 3}, q8.data(), q8.size());
  w.add_tensor_ref("c", DType::F16, {5}, f16s.data(), f16s.size() * 2);
  w.add_tensor("d", DType::I8, {1, 1, 1, 3}, "xyz", 3);

  const std::vector<uint8_t> bytes = w.to_bytes();
  TempPath tmp("roundtrip.gguf");
  w.write(tmp.path);
  const File from_disk = File::open(tmp.path);
  CHECK(std::vector<uint8_t>(from_disk.bytes().begin(), from_disk.bytes().end()) == bytes);

  const File f = File::from_bytes(bytes);
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 64);
  CHECK(f.data_offset() % 64 == 0);
  REQUIRE(f.metadata().size() == 19);
  CHECK(f.metadata()[4].first == "t.u32");
  CHECK(f.get_uint("t.u32") == 7u);
  CHECK(f.metadata().back().first == "general.alignment");
  // Writer keys in order, each equal to what was set.
  Writer again;
  for (const auto& [k, v] : f.metadata()) again.set(k, v);
  for (const TensorInfo& t : f.tensors()) again.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
  CHECK(again.to_bytes() == bytes);

  CHECK(*f.get_string("t.string") == std::string("with\0nul", 8));
  CHECK(f.get_int("t.i64") == INT64_MIN);
  CHECK(f.get_uint("t.u64") == UINT64_MAX);
  CHECK(f.get_float("t.f64") == -1e300);
  CHECK(f.find("t.floats")->at(1) == Value::f32(NAN));
  CHECK(f.find("t.bools")->numbers<uint8_t>()[2] == 1);
  CHECK(f.find("t.nested")->array()[0].array()[0].strings()[0] == "deep");
  CHECK(f.find("t.empty")->size() == 0);
  CHECK(f.find("t.empty")->array_type() == ValueType::I64);

  REQUIRE(f.tensors().size() == 4);
  CHECK(f.tensors()[1].name == "b.q8");
  CHECK(f.tensors()[1].shape == std::vector<int64_t>{64, 3});
  CHECK(std::memcmp(f.tensors()[0].data, f32s.data(), 48) == 0);
  CHECK(std::memcmp(f.tensors()[1].data, q8.data(), q8.size()) == 0);
  CHECK(std::memcmp(f.tensors()[2].data, f16s.data(), 10) == 0);
  CHECK(std::memcmp(f.tensors()[3].data, "xyz", 3) == 0);
  for (const TensorInfo& t : f.tensors()) CHECK(t.offset % 64 == 0);
}

TEST_CASE("gguf writer: rewriting a llama.cpp file reproduces it byte for byte") {
  for (const char* name : {"models/tiny-llama-Q4_K_M.gguf", "tokenizer/ggml-vocab-gpt-2.gguf",
                           "quant/quant_vectors.gguf"}) {
    CAPTURE(name);
    const File f = File::open(kShared + name);
    Writer w;
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    for (const TensorInfo& t : f.tensors()) w.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes);
    const std::vector<uint8_t> bytes = w.to_bytes();
    CHECK(bytes == std::vector<uint8_t>(f.bytes().begin(), f.bytes().end()));
  }
}

TEST_CASE("gguf writer: refuses bad tensors and alignments") {
  Writer w;
  float x[4] = {};
  CHECK(error_of([&] { w.add_tensor("t", DType::F32, {4}, x, 12); }).find("12 bytes given") != std::string::npos);
  CHECK(error_of([&] { w.add_tensor("t", DType::Q4_0, {4}, x, 16); }).find("block size") != std::string::npos);
  CHECK(error_of([&] { w.add_tensor("t", DType::F32, {}, x, 0); }).find("need 1..4") != std::string::npos);
  w.add_tensor("t", DType::F32, {4}, x, 16);
  CHECK(error_of([&] { w.add_tensor("t", DType::F32, {4}, x, 16); }).find("duplicate tensor name") !=
        std::string::npos);
  CHECK(error_of([&] { w.set_alignment(24); }).find("not a power of two") != std::string::npos);
  CHECK(error_of([&] { w.set("general.alignment", Value::u64(32)); }).find("u32 power of two") !=
        std::string::npos);
}

TEST_CASE("gguf: open reports missing files, directories and empty files with the path") {
  const std::string missing = kShared + "no/such/file.gguf";
  CHECK(error_of([&] { File::open(missing); }).find(missing + ": cannot open") != std::string::npos);
  try {
    File::open(missing);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Io);
  }
  CHECK(error_of([&] { File::open(kShared + "models"); }).find("not a regular file") != std::string::npos);
  TempPath empty("empty.gguf");
  { std::ofstream(empty.path, std::ios::binary); }
  for (bool mmap : {true, false})
    CHECK(error_of([&] { File::open(empty.path, ReadOptions{mmap}); }).find(empty.path + ": at offset 0: file is empty") !=
          std::string::npos);
}
