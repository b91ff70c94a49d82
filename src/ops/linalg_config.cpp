// The process-wide matmul settings: float32 precision (Note [float32 matmul
// precision]) and the CUDA kernel of the ladder (Note [CUDA matmul ladder]).
// Atomics: kernels read them on whatever thread runs the op.
#include <atomic>
#include <cstdlib>

#include "kernels/linalg.h"
#include "norch/ops/linalg.h"

namespace norch {

namespace {

std::atomic<MatmulPrecision> g_precision{MatmulPrecision::Highest};

bool parse_kernel(const std::string& s, CudaMatmulKernel& out) {
  if (s == "cublas") out = CudaMatmulKernel::Cublas;
  else if (s == "tiled") out = CudaMatmulKernel::Tiled;
  else if (s == "naive") out = CudaMatmulKernel::Naive;
  else return false;
  return true;
}

// NORCH_CUDA_MATMUL is read on first use; a bad value is reported then (and at every
// use until a kernel is set explicitly), never silently replaced by the default.
std::atomic<CudaMatmulKernel> g_kernel{CudaMatmulKernel::Cublas};
std::atomic<bool> g_kernel_chosen{false};

CudaMatmulKernel kernel_setting() {
  if (!g_kernel_chosen.load(std::memory_order_acquire)) {
    const char* env = std::getenv("NORCH_CUDA_MATMUL");
    CudaMatmulKernel parsed = CudaMatmulKernel::Cublas;
    NORCH_CHECK(!env || !*env || parse_kernel(env, parsed), "NORCH_CUDA_MATMUL=", env,
                " is not a CUDA matmul kernel: expected cublas, tiled or naive");
    bool expected = false;
    if (g_kernel_chosen.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) g_kernel.store(parsed);
  }
  return g_kernel.load(std::memory_order_relaxed);
}

}  // namespace

MatmulPrecision float32_matmul_precision() { return g_precision.load(std::memory_order_relaxed); }

bool set_float32_matmul_precision(const std::string& precision) {
  if (precision == "highest") g_precision = MatmulPrecision::Highest;
  else if (precision == "high") g_precision = MatmulPrecision::High;
  else if (precision == "medium") g_precision = MatmulPrecision::Medium;
  else return false;
  return true;
}

std::string get_float32_matmul_precision() {
  switch (float32_matmul_precision()) {
    case MatmulPrecision::High: return "high";
    case MatmulPrecision::Medium: return "medium";
    default: return "highest";
  }
}

CudaMatmulKernel cuda_matmul_kernel() { return kernel_setting(); }

void set_cuda_matmul_kernel(const std::string& kernel) {
  CudaMatmulKernel k;
  NORCH_CHECK_VALUE(parse_kernel(kernel, k), "set_matmul_kernel: expected 'cublas', 'tiled' or 'naive', but got '",
                    kernel, "'");
  g_kernel.store(k);
  g_kernel_chosen.store(true, std::memory_order_release);
}

std::string get_cuda_matmul_kernel() {
  switch (cuda_matmul_kernel()) {
    case CudaMatmulKernel::Tiled: return "tiled";
    case CudaMatmulKernel::Naive: return "naive";
    default: return "cublas";
  }
}

}  // namespace norch
