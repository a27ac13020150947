// Acceptance test against ggml's own quantization vectors
// (shared/testdata/quant/quant_vectors.gguf; see its test.description):
// for every type in the file, on every ISA this CPU supports,
//  - dequantize(q.T) reproduces deq.T exactly,
//  - ember's quantizer has a row RMSE within 1.02 x ggml's (ref_err.T),
//  - ember's dot of q.T with y (quantized to test.act_type.T) matches dot.T
//    within 1e-4 x |x_row| |y_row|.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ember/gguf.h"
#include "kernels/kernels.h"

using namespace ember;
using namespace ember::kernels;

namespace {

const char* kVectors = EMBER_SHARED_DIR "/testdata/quant/quant_vectors.gguf";

struct Vectors {
  gguf::File file = gguf::File::open(kVectors);
  int64_t n = 0, rows = 0;
  Vectors() {
    n = int64_t(*file.get_uint("test.n_per_row"));
    rows = int64_t(*file.get_uint("test.nrows"));
  }
  const gguf::TensorInfo& tensor(const std::string& name) const {
    const gguf::TensorInfo* t = file.find_tensor(name);
    if (!t) throw std::runtime_error("quant_vectors.gguf has no tensor " + name);
    return *t;
  }
  const float* f32(const std::string& name) const { return reinterpret_cast<const float*>(tensor(name).data); }
  // The type names present: every "q.T" tensor.
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& t : file.tensors())
      if (t.name.rfind("q.", 0) == 0) out.push_back(t.name.substr(2));
    return out;
  }
};

double row_norm(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("quant vectors: the file holds all 14 types ember must match") {
  Vectors v;
  CHECK(v.types().size() == 14);
  CHECK(v.n == 1024);
  CHECK(v.rows == 4);
}

TEST_CASE("quant vectors: dequantizing q.T reproduces deq.T exactly") {
  Vectors v;
  for (const std::string& name : v.types()) {
    const gguf::TensorInfo& q = v.tensor("q." + name);
    const TypeTraits& tr = type_traits(q.type);
    REQUIRE_MESSAGE(bool(tr.to_float), name);
    const size_t row_bytes = *dtype_row_bytes(q.type, uint64_t(v.n));
    const float* want = v.f32("deq." + name);
    std::vector<float> got(static_cast<size_t>(v.n));
    for (int64_t r = 0; r < v.rows; ++r) {
      tr.to_float(q.data + size_t(r) * row_bytes, got.data(), v.n);
      CHECK_MESSAGE(std::memcmp(got.data(), want + r * v.n, size_t(v.n) * 4) == 0, name << " row " << r);
    }
  }
}

TEST_CASE("quant vectors: ember's quantizer is within 1.02x of ggml's row RMSE") {
  Vectors v;
  const float* x = v.f32("x");
  for (const std::string& name : v.types()) {
    const DType t = v.tensor("q." + name).type;
    const TypeTraits& tr = type_traits(t);
    const float* ref_err = v.f32("ref_err." + name);
    std::vector<uint8_t> q(*dtype_row_bytes(t, uint64_t(v.n)));
    std::vector<float> deq(static_cast<size_t>(v.n));
    for (int64_t r = 0; r < v.rows; ++r) {
      const float* xr = x + r * v.n;
      tr.from_float(xr, q.data(), v.n);
      tr.to_float(q.data(), deq.data(), v.n);
      double se = 0;
      for (int64_t i = 0; i < v.n; ++i) se += double(deq[size_t(i)] - xr[i]) * double(deq[size_t(i)] - xr[i]);
      const double rmse = std::sqrt(se / double(v.n));
      CHECK_MESSAGE(rmse <= 1.02 * double(ref_err[r]) + 1e-12,
                    name << " row " << r << ": rmse " << rmse << " vs ggml " << ref_err[r] << " (ratio "
                         << rmse / double(ref_err[r]) << ")");
    }
  }
}

TEST_CASE("quant vectors: every ISA's dot of q.T with y matches dot.T") {
  Vectors v;
  const float* x = v.f32("x");
  const float* y = v.f32("y");
  int checked = 0;
  for (const std::string& name : v.types()) {
    const DType t = v.tensor("q." + name).type;
    const TypeTraits& tr = type_traits(t);
    const std::string act_name = *v.file.get_string("test.act_type." + name);
    const DType act = tr.vec_dot_type;
    CHECK_MESSAGE(std::string(type_traits(act).name) == act_name, name);
    const size_t row_bytes = *dtype_row_bytes(t, uint64_t(v.n));
    const float* want = v.f32("dot." + name);
    std::vector<uint8_t> qy(*dtype_row_bytes(act, uint64_t(v.n)));
    for (const DotKernel& k : dot_kernels()) {
      if (k.type != t || !cpu_features().supports(k.isa)) continue;
      // the activation row through this ISA's own quantizer, as the matmul does
      FromFloatFn quant = kernel_table(k.isa).quantize[uint32_t(act)];
      if (!quant) quant = type_traits(act).from_float;
      for (int64_t r = 0; r < v.rows; ++r) {
        quant(y + r * v.n, qy.data(), v.n);
        const float got = k.fn(v.n, v.tensor("q." + name).data + size_t(r) * row_bytes, qy.data());
        const double tol = 1e-4 * row_norm(x + r * v.n, v.n) * row_norm(y + r * v.n, v.n);
        CHECK_MESSAGE(std::fabs(double(got) - double(want[r])) <= tol,
                      std::string(k.name) << " row " << r << ": " << got << " vs ggml " << want[r]);
      }
      ++checked;
    }
  }
  MESSAGE("checked " << checked << " dot kernels");
}
