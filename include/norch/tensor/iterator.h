// norch/tensor/iterator.h — TensorIterator: the one place that broadcasts shapes,
// promotes dtypes, allocates outputs and walks strides for elementwise kernels
// (STYLE habit 4; PyTorch's TensorIterator, kept small).
//
// Build it, then hand it to a device kernel. The kernel sees operand 0 as the
// output, operands 1.. as inputs, all inputs already in `common_dtype()` and
// strides in bytes over a coalesced shape (broadcast dims have stride 0).
#pragma once
#include <algorithm>
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch {

class TensorIterator {
 public:
  struct Config {
    // Promote inputs to a common dtype (PyTorch's result_type). Otherwise all
    // inputs must already share one dtype.
    bool promote_inputs = true;
    // Integer inputs compute in the default float dtype (true division, exp, ...).
    bool promote_integer_to_float = false;
    // The output dtype; unset means the common dtype (comparisons ask for bool).
    bool has_output_dtype = false;
    ScalarType output_dtype = ScalarType::Float32;
    // Allow an existing output whose dtype differs from the result (the result
    // is computed in a temporary and cast on the way out, as copy_ does).
    bool cast_to_output = false;
    // Leave every input in its own dtype (kernels such as where read a bool
    // mask beside float data); the common dtype is then the last input's.
    bool allow_mixed_input_dtypes = false;
    const char* op_name = "op";
  };

  // out may be undefined (allocated here) or an existing tensor (in-place / out=).
  static TensorIterator build(Tensor out, const TensorList& inputs, const Config& cfg);
  static TensorIterator unary(Tensor out, const Tensor& a, const Config& cfg) { return build(out, {a}, cfg); }
  static TensorIterator binary(Tensor out, const Tensor& a, const Tensor& b, const Config& cfg) {
    return build(out, {a, b}, cfg);
  }

  static constexpr int kMaxOperands = 8;
  static constexpr int kMaxDims = 16;

  int ntensors() const { return ntensors_; }
  int ndim() const { return ndim_; }
  // Coalesced iteration shape and per-operand byte strides, indexable as [d].
  const int64_t* shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  char* data(int i) const { return data_[i]; }
  const int64_t* strides(int i) const { return strides_[i]; }  // bytes
  ScalarType common_dtype() const { return common_dtype_; }
  ScalarType output_dtype() const { return output_.dtype(); }
  Device device() const { return device_; }
  // True when every operand is dense and in the same order: one flat loop suffices.
  bool is_contiguous() const;
  // True when operand i is a broadcast scalar (all strides 0).
  bool is_scalar(int i) const;
  // The tensor the caller gets back; writes the temporary into the real
  // output first when the output needed a dtype cast.
  Tensor output();

  // Calls fn(char** ptrs, const int64_t* inner_strides, int64_t n) for runs of
  // elements along the innermost dim, splitting [0, numel) across OpenMP threads
  // when the work is larger than `grain`. The per-run body is the kernel.
  template <typename F>
  void for_each(F&& fn, int64_t grain = 32768) const;
  template <typename F>
  void serial_for_each(F&& fn, int64_t begin, int64_t end) const;

 private:
  // Fixed-size arrays keep building an iterator free of heap allocations:
  // for tiny tensors that bookkeeping, not the arithmetic, is the cost of an op.
  int ndim_ = 0;
  int ntensors_ = 0;
  int64_t numel_ = 0;
  int64_t shape_[kMaxDims] = {};
  char* data_[kMaxOperands] = {};
  int64_t strides_[kMaxOperands][kMaxDims] = {};
  int64_t element_sizes_[kMaxOperands] = {};
  ScalarType common_dtype_ = ScalarType::Float32;
  Device device_;
  Tensor output_;           // what the caller asked to write into
  Tensor output_staging_;   // when output_ needs a cast, the kernel writes here
  std::vector<Tensor> keep_alive_;  // converted inputs (empty unless a cast or move was needed)
};

// Broadcast two shapes as NumPy does; raises with both shapes on mismatch.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op_name = "broadcast");
// PyTorch's result_type: dimensioned tensors > 0-d tensors > Python numbers.
ScalarType result_type(const TensorList& tensors);
ScalarType result_type(const Tensor& a, const Scalar& s);
// PyTorch's can_cast: may an op's result of dtype `from` be written into an
// existing tensor of dtype `to` (in-place ops, out=)? Not to a lower category.
bool can_cast(ScalarType from, ScalarType to);
// Threads used by CPU kernels (norch.set_num_threads).
int get_num_threads();
void set_num_threads(int n);

}  // namespace norch

#include "norch/tensor/iterator_inl.h"
