// Tensor shapes, views and owned storage.
#include "ember/tensor.h"

#include <cstring>
#include <new>
#include <string>

#include "ember/error.h"
#include "ember/gguf.h"

namespace ember {
namespace {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorKind::InvalidArgument, "[tensor] " + what); }

}  // namespace

// Checks the shape and fills ne_, nb_ and row_bytes_; data is set by the callers.
Tensor Tensor::make(DType type, const std::vector<int64_t>& shape, const std::vector<uint64_t>* strides) {
  const TypeTraits* traits = find_type_traits(uint32_t(type));
  if (!traits) bad("unknown type id " + std::to_string(uint32_t(type)));
  if (shape.empty() || shape.size() > size_t(kMaxDims))
    bad("shape " + shape_str(shape) + " has " + std::to_string(shape.size()) + " dimensions (need 1..4)");
  int64_t n = 1;
  for (int64_t ne : shape) {
    if (ne < 1) bad("shape " + shape_str(shape) + " has a dimension < 1");
    if (__builtin_mul_overflow(n, ne, &n)) bad("element count of shape " + shape_str(shape) + " overflows");
  }
  if (shape[0] % traits->block_size != 0) {
    bad("ne[0] = " + std::to_string(shape[0]) + " is not a multiple of the block size " +
        std::to_string(traits->block_size) + " of " + traits->name);
  }
  const std::optional<uint64_t> row = dtype_row_bytes(type, uint64_t(shape[0]));
  uint64_t total = 0;
  if (!row || __builtin_mul_overflow(*row, uint64_t(n / shape[0]), &total))
    bad("size in bytes of " + std::string(traits->name) + " " + shape_str(shape) + " overflows");

  Tensor t;
  t.type_ = type;
  t.n_dims_ = int(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t.ne_[i] = shape[i];
  t.row_bytes_ = *row;
  t.nb_[0] = traits->type_size;
  t.nb_[1] = *row;
  for (int i = 2; i < kMaxDims; ++i) t.nb_[size_t(i)] = t.nb_[size_t(i) - 1] * uint64_t(t.ne_[size_t(i) - 1]);
  if (strides) {
    if (strides->size() != shape.size())
      bad(std::to_string(strides->size()) + " strides for " + std::to_string(shape.size()) + " dimensions");
    if ((*strides)[0] != traits->type_size)
      bad("strides[0] = " + std::to_string((*strides)[0]) + " must be the block size in bytes (" +
          std::to_string(traits->type_size) + ")");
    for (size_t i = 1; i < strides->size(); ++i) t.nb_[i] = (*strides)[i];
  }
  return t;
}

Tensor Tensor::view(const gguf::TensorInfo& info, std::shared_ptr<const void> keepalive) {
  if (!info.data) bad("view of tensor '" + info.name + "': no data");
  Tensor t;
  try {
    t = make(info.type, info.shape, nullptr);
  } catch (const Error& e) {
    bad("view of tensor '" + info.name + "': " + std::string(e.what()).substr(9));  // drop "[tensor] "
  }
  t.data_ = const_cast<uint8_t*>(info.data);  // never written: writable_ is false
  t.owner_ = std::move(keepalive);
  return t;
}

Tensor Tensor::view(DType type, const std::vector<int64_t>& shape, const void* data,
                    std::shared_ptr<const void> keepalive) {
  if (!data) bad("view of null data");
  Tensor t = make(type, shape, nullptr);
  t.data_ = static_cast<uint8_t*>(const_cast<void*>(data));
  t.owner_ = std::move(keepalive);
  return t;
}

Tensor Tensor::view(DType type, const std::vector<int64_t>& shape, const std::vector<uint64_t>& strides,
                    const void* data, std::shared_ptr<const void> keepalive) {
  if (!data) bad("view of null data");
  Tensor t = make(type, shape, &strides);
  t.data_ = static_cast<uint8_t*>(const_cast<void*>(data));
  t.owner_ = std::move(keepalive);
  return t;
}

Tensor Tensor::empty(DType type, const std::vector<int64_t>& shape) {
  Tensor t = make(type, shape, nullptr);
  const uint64_t bytes = t.n_bytes();
  if (bytes > uint64_t(PTRDIFF_MAX)) bad("cannot allocate " + std::to_string(bytes) + " bytes");
  auto* p = static_cast<uint8_t*>(::operator new(size_t(bytes), std::align_val_t(kAlignment)));
  std::memset(p, 0, size_t(bytes));
  t.owner_ = std::shared_ptr<uint8_t>(p, [](uint8_t* q) { ::operator delete(q, std::align_val_t(kAlignment)); });
  t.data_ = p;
  t.writable_ = true;
  return t;
}

int64_t Tensor::n_elements() const noexcept {
  if (is_null()) return 0;
  return ne_[0] * ne_[1] * ne_[2] * ne_[3];  // checked for overflow when made
}

int64_t Tensor::n_rows() const noexcept {
  if (is_null()) return 0;
  return ne_[1] * ne_[2] * ne_[3];
}

void* Tensor::mutable_data() {
  if (!writable_) bad("mutable_data on a read-only view");
  return data_;
}

const uint8_t* Tensor::row(int64_t i) const {
  if (i < 0 || i >= n_rows())
    bad("row " + std::to_string(i) + " out of range (" + std::to_string(n_rows()) + " rows)");
  const int64_t i1 = i % ne_[1];
  const int64_t i2 = (i / ne_[1]) % ne_[2];
  const int64_t i3 = i / (ne_[1] * ne_[2]);
  return data_ + uint64_t(i1) * nb_[1] + uint64_t(i2) * nb_[2] + uint64_t(i3) * nb_[3];
}

uint8_t* Tensor::mutable_row(int64_t i) {
  if (!writable_) bad("mutable_row on a read-only view");
  return const_cast<uint8_t*>(row(i));
}

bool Tensor::is_contiguous() const noexcept {
  if (is_null()) return true;
  uint64_t expect = row_bytes_;
  for (int i = 1; i < kMaxDims; ++i) {
    // A dimension of size 1 is never stepped over, so its stride does not matter.
    if (ne_[size_t(i)] != 1 && nb_[size_t(i)] != expect) return false;
    expect *= uint64_t(ne_[size_t(i)]);
  }
  return true;
}

Tensor Tensor::to_f32() const {
  if (is_null()) bad("to_f32 of a null tensor");
  const TypeTraits& traits = type_traits(type_);
  if (!traits.to_float)
    throw Error(ErrorKind::Unsupported, std::string("[tensor] to_f32: no dequantize for ") + traits.name);
  std::vector<int64_t> shape(ne_.begin(), ne_.begin() + n_dims_);
  Tensor out = empty(DType::F32, shape);
  auto* dst = static_cast<float*>(out.mutable_data());
  const int64_t rows = n_rows();
  for (int64_t r = 0; r < rows; ++r) traits.to_float(row(r), dst + r * ne_[0], ne_[0]);
  return out;
}

}  // namespace ember
