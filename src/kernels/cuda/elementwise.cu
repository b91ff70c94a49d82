// CUDA copy/cast and fill kernels behind the same DispatchStubs as the CPU ones:
// every (destination, source) dtype pair through functors::cast, the CPU's
// conversion, contiguous or over any strided view. Same-dtype contiguous
// copies are a plain device-to-device memcpy.
#include "kernels/copy.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/fill.h"

namespace norch::cuda_kernels {

namespace {

template <typename To>
struct CastTo {
  template <typename From>
  NORCH_HD To operator()(From v) const { return functors::cast<To>(v); }
};

template <typename T>
struct FillValue {
  T v;
  NORCH_HD T operator()() const { return v; }
};

void copy_cuda(TensorIterator& it) {
  if (it.numel() == 0) return;
  if (it.is_contiguous() && it.output_dtype() == it.common_dtype()) {
    check(cudaMemcpyAsync(it.data(0), it.data(1), static_cast<size_t>(it.numel()) * element_size(it.common_dtype()),
                          cudaMemcpyDeviceToDevice, cuda::current_stream()),
          "copy_");
    return;
  }
  NORCH_CUDA_DISPATCH_ALL_TYPES(it.output_dtype(), "copy_", [&] {
    using dst_t = scalar_t;
    NORCH_CUDA_DISPATCH_ALL_TYPES(it.common_dtype(), "copy_",
                                  [&] { launch_elementwise<dst_t, scalar_t>(it, CastTo<dst_t>{}, "copy_"); });
  });
}

void fill_cuda(const Tensor& self, const Scalar& value) {
  TensorIterator it = TensorIterator::nullary(self, "fill_");
  NORCH_CUDA_DISPATCH_ALL_TYPES(self.dtype(), "fill_", [&] {
    const scalar_t v = value.is_floating_point() ? functors::cast<scalar_t>(value.to_double())
                                                 : functors::cast<scalar_t>(value.to_int());
    launch_elementwise<scalar_t>(it, FillValue<scalar_t>{v}, "fill_");
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(copy_stub, CUDA, copy_cuda);
NORCH_REGISTER_KERNEL(fill_stub, CUDA, fill_cuda);

}  // namespace norch::cuda_kernels
