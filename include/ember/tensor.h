#pragma once
// A small tensor: an element type, up to 4 dimensions (ne[0] the fastest-
// varying, as in ggml), strides in bytes, and data that is either a read-only
// view (of a mapped GGUF file, kept alive by a shared owner) or owned
// (64-byte aligned). No autograd, no graph.
//
// Copies are shallow: they share the data, like views. Reading one Tensor from
// several threads is safe; writing owned data while others read it is not.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "ember/dtype.h"

namespace ember {

namespace gguf {
struct TensorInfo;
}

class Tensor {
 public:
  static constexpr int kMaxDims = 4;
  static constexpr size_t kAlignment = 64;  // of owned data

  /// A null tensor: no dimensions, no data.
  Tensor() = default;

  /// A read-only view of a tensor in a GGUF file; keepalive owns the bytes
  /// (gguf::File::keepalive()). Throws ember::Error on a bad shape.
  static Tensor view(const gguf::TensorInfo& info, std::shared_ptr<const void> keepalive);
  /// A read-only view of contiguous data laid out as shape in type.
  static Tensor view(DType type, const std::vector<int64_t>& shape, const void* data,
                     std::shared_ptr<const void> keepalive);
  /// A read-only strided view: strides[0] must be the type's block size in
  /// bytes (blocks of a row are contiguous); strides[1..] may be anything.
  static Tensor view(DType type, const std::vector<int64_t>& shape, const std::vector<uint64_t>& strides,
                     const void* data, std::shared_ptr<const void> keepalive);
  /// An owned, contiguous, zero-filled tensor.
  static Tensor empty(DType type, const std::vector<int64_t>& shape);

  bool is_null() const noexcept { return n_dims_ == 0; }
  DType dtype() const noexcept { return type_; }
  int n_dims() const noexcept { return n_dims_; }
  /// Size of dimension i (1 for i >= n_dims()).
  int64_t ne(int i) const noexcept { return i >= 0 && i < kMaxDims ? ne_[size_t(i)] : 1; }
  const std::array<int64_t, kMaxDims>& shape() const noexcept { return ne_; }
  /// Byte strides: nb[0] is the size of one block, nb[1] of one row for contiguous tensors.
  const std::array<uint64_t, kMaxDims>& strides() const noexcept { return nb_; }

  int64_t n_elements() const noexcept;
  /// Rows: the product of ne[1..3].
  int64_t n_rows() const noexcept;
  /// Bytes of one row (ne[0] elements).
  uint64_t row_bytes() const noexcept { return row_bytes_; }
  /// Bytes of all elements (the data size when contiguous).
  uint64_t n_bytes() const noexcept { return row_bytes_ * uint64_t(n_rows()); }

  const void* data() const noexcept { return data_; }
  /// Writable data; throws ember::Error for read-only views.
  void* mutable_data();
  bool is_view() const noexcept { return !writable_; }
  /// Start of row i, i in [0, n_rows()) over dims 1..3 flattened (ne[1] fastest).
  const uint8_t* row(int64_t i) const;
  uint8_t* mutable_row(int64_t i);
  /// Strides are those of a dense tensor of this shape.
  bool is_contiguous() const noexcept;

  /// A new owned f32 tensor of the same shape, dequantized with the type's
  /// reference to_float; throws ember::Error (Unsupported) if there is none.
  Tensor to_f32() const;

 private:
  static Tensor make(DType type, const std::vector<int64_t>& shape, const std::vector<uint64_t>* strides);

  DType type_ = DType::F32;
  int n_dims_ = 0;
  std::array<int64_t, kMaxDims> ne_{1, 1, 1, 1};
  std::array<uint64_t, kMaxDims> nb_{0, 0, 0, 0};
  uint64_t row_bytes_ = 0;
  uint8_t* data_ = nullptr;  // const unless writable_
  bool writable_ = false;
  std::shared_ptr<const void> owner_;
};

}  // namespace ember
