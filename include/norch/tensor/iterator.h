// norch/tensor/iterator.h — TensorIterator: the one place that broadcasts shapes,
// promotes dtypes, allocates outputs and walks strides for elementwise kernels
// (STYLE habit 4; PyTorch's TensorIterator, kept small).
//
// Build it, then hand it to a device kernel. The kernel sees operand 0 as the
// output, operands 1.. as inputs, all inputs already in `common_dtype()` and
// strides in bytes over a coalesced shape (broadcast dims have stride 0).
//
// Two layers share this class. What a kernel sees (the geometry: strides,
// coalescing, for_each, nullary) is the tensor layer's, in src/tensor/iterator.cpp.
// build() and output() plan an op: they check devices, promote dtypes, allocate
// and cast inputs (to_dtype, to_device, copy_), so they are defined in the ops
// layer, src/ops/iterator_build.cpp, and only ops call them. The iterator cannot
// move up into ops whole, because kernels, which sit below ops, walk it.
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
  // Defined in the ops layer (see above).
  static TensorIterator build(Tensor out, const TensorList& inputs, const Config& cfg);
  static TensorIterator unary(Tensor out, const Tensor& a, const Config& cfg) { return build(out, {a}, cfg); }
  // Note [Binary fast path] (src/ops/iterator_build.cpp): two tensors of one
  // shape, dtype and device into a fresh output skip the planning build() does.
  static TensorIterator binary(Tensor out, const Tensor& a, const Tensor& b, const Config& cfg);

  // An iterator over `out` alone, in its own dtype and device (fill kernels):
  // nothing to promote or cast, so kernels may build it themselves.
  static TensorIterator nullary(const Tensor& out, const char* op_name);

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
  // The tensor the caller gets back; writes the temporary into the real
  // output first when the output needed a dtype cast (ops layer, as build()).
  Tensor output();

  // Calls fn(char** ptrs, const int64_t* inner_strides, int64_t n) for runs of
  // elements along the innermost dim, splitting [0, numel) across pool threads (parallel_for)
  // when the work is larger than `grain`. The per-run body is the kernel.
  template <typename F>
  void for_each(F&& fn, int64_t grain = 32768) const;
  template <typename F>
  void serial_for_each(F&& fn, int64_t begin, int64_t end) const;

 private:
  // The sections of build() (src/ops/iterator_build.cpp), in order.
  bool compute_device(const TensorList& inputs, const Config& cfg);
  static Shape broadcast_inputs(const Tensor& out, const TensorList& inputs, const Config& cfg);
  ScalarType compute_common_dtype(const TensorList& inputs, const Config& cfg);
  Tensor allocate_output(const Tensor& out, Shape& shape, ScalarType out_dtype, bool have_device, const Config& cfg);
  void convert_inputs(const TensorList& inputs, const Config& cfg, const Tensor* ops[]);
  // The geometry (src/tensor/iterator.cpp): byte strides of the ntensors_
  // operands over `shape`, then coalesced.
  void compute_geometry(const Tensor* const ops[], const Shape& shape, const char* op_name);
  void coalesce(const Shape& shape, const int64_t (*full)[kMaxDims]);
  void trace(const char* op_name, const Shape& shape, ScalarType out_dtype) const;

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
// Raises PyTorch's message ("Expected all tensors to be on the same device, but
// found at least two devices, cpu and cuda:0! (when checking arguments for op)")
// unless every defined tensor is on one device. The one home of that message.
void check_same_device(const char* op, const TensorList& tensors);
[[noreturn]] void raise_device_mismatch(const char* op, const Device& a, const Device& b);
// Threads used by CPU kernels (norch.set_num_threads).
int get_num_threads();
void set_num_threads(int n);

}  // namespace norch

#include "norch/tensor/iterator_inl.h"
