// CPU fill and range kernels.
#include "kernels/cpu/loops.h"
#include "kernels/fill.h"

namespace norch::cpu {
namespace {

void fill_kernel(const Tensor& self, const Scalar& value) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "fill_", [&] {
    const scalar_t v = value.is_floating_point() ? cast<scalar_t>(value.to_double()) : cast<scalar_t>(value.to_int());
    // No inputs: the iterator walks only the output.
    TensorIterator it = TensorIterator::nullary(self, "fill_");
    it.for_each([&](char** ptrs, const int64_t* strides, int64_t n) {
      if (strides[0] == sizeof(scalar_t)) {
        scalar_t* out = reinterpret_cast<scalar_t*>(ptrs[0]);
        for (int64_t i = 0; i < n; ++i) out[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<scalar_t*>(ptrs[0] + i * strides[0]) = v;
      }
    });
  });
}

void range_kernel(const Tensor& self, double start, double step, double end, bool exact_end) {
  const int64_t n = self.numel();
  NORCH_DISPATCH_NUMERIC_TYPES_AND_HALF(self.dtype(), "arange", [&] {
    // The half types compute in float (PyTorch's CPU accumulate type for them), the rest in double.
    using acc_t = std::conditional_t<is_half_type_v<scalar_t>, float, double>;
    const acc_t a = static_cast<acc_t>(start), s = static_cast<acc_t>(step), e = static_cast<acc_t>(end);
    scalar_t* out = self.data<scalar_t>();
    for (int64_t i = 0; i < n; ++i) out[i] = cast<scalar_t>(a + static_cast<acc_t>(i) * s);
    // linspace: the symmetric formula keeps the last value exactly `end`.
    if (exact_end) {
      const int64_t half = n / 2;
      for (int64_t i = half; i < n; ++i) out[i] = cast<scalar_t>(e - static_cast<acc_t>(n - 1 - i) * s);
    }
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(fill_stub, CPU, fill_kernel);
NORCH_REGISTER_KERNEL(range_stub, CPU, range_kernel);
}  // namespace norch::cpu
