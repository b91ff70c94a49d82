// CPU scans (cumsum, cumprod) along the middle dim of a contiguous [outer, n, inner] tensor.
#include <type_traits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/reduce.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

// Accumulate floats in double, the half types in float and integers in int64,
// as PyTorch's CPU scans do (its CPU acc_type).
template <typename T>
using scan_acc_t = std::conditional_t<is_half_type_v<T>, float,
                                      std::conditional_t<std::is_floating_point_v<T>, double, int64_t>>;

template <typename T>
void scan_typed(ScanOp op, const Tensor& in, const Tensor& out, bool reverse) {
  using A = scan_acc_t<T>;
  const int64_t outer = in.sizes()[0], n = in.sizes()[1], inner = in.sizes()[2];
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  const bool is_sum = op == ScanOp::Sum;
  parallel_for(outer, grain_for(outer, outer * n * inner, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t o = b_; o < e_; ++o) {
      // One running value per inner position; walking j outermost keeps reads contiguous.
      std::vector<A> acc(inner, is_sum ? A(0) : A(1));
      for (int64_t step = 0; step < n; ++step) {
        const int64_t j = reverse ? n - 1 - step : step;
        const T* s = src + (o * n + j) * inner;
        T* d = dst + (o * n + j) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          acc[i] = is_sum ? acc[i] + static_cast<A>(s[i]) : acc[i] * static_cast<A>(s[i]);
          d[i] = static_cast<T>(acc[i]);
        }
      }
    }
  });
}

void scan_kernel(ScanOp op, const Tensor& in, const Tensor& out, bool reverse) {
  NORCH_DISPATCH_NUMERIC_TYPES_AND_HALF(in.dtype(), op == ScanOp::Sum ? "cumsum" : "cumprod",
                               [&] { scan_typed<scalar_t>(op, in, out, reverse); });
}

}  // namespace
NORCH_REGISTER_KERNEL(scan_stub, CPU, scan_kernel);
}  // namespace norch::cpu
