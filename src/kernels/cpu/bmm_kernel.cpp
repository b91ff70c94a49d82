// CPU batched matrix product: the plain reference loop (i-k-j order so the
// innermost loop walks contiguous rows of b and out).
// Note: #pragma cannot appear inside NORCH_DISPATCH_* arguments (they are macro
// arguments); loops with pragmas live in templates like bmm_typed below.
#include "kernels/cpu/loops.h"
#include "kernels/linalg.h"
#include "norch/ops/copy.h"

namespace norch::cpu {
namespace {

template <typename T>
void bmm_typed(const T* pa, const T* pb, T* po, int64_t B, int64_t n, int64_t k, int64_t m) {
  const bool parallel = B * n * m * k > 32768;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t bn = 0; bn < B * n; ++bn) {
    const int64_t bi = bn / n;
    T* row = po + bn * m;
    for (int64_t j = 0; j < m; ++j) row[j] = T(0);
    for (int64_t kk = 0; kk < k; ++kk) {
      const T av = pa[bn * k + kk];
      const T* brow = pb + (bi * k + kk) * m;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) row[j] += av * brow[j];
    }
  }
}

void bmm_reference(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  Tensor a = contiguous(a_in), b = contiguous(b_in);
  const int64_t B = a.sizes()[0], n = a.sizes()[1], k = a.sizes()[2], m = b.sizes()[2];
  NORCH_DISPATCH_NUMERIC_TYPES(out.dtype(), "bmm", [&] {
    bmm_typed<scalar_t>(a.data<scalar_t>(), b.data<scalar_t>(), out.data<scalar_t>(), B, n, k, m);
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(bmm_stub, CPU, bmm_reference);
}  // namespace norch::cpu
