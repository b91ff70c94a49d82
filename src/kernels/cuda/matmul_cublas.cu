// CUDA bmm: cuBLAS for float32/float64 and float16/bfloat16 (or a ladder kernel,
// Note [CUDA matmul ladder]), the naive kernel for integer dtypes and for
// bmm_reference. The half types go through cublasGemmStridedBatchedEx with 16-bit
// operands and CUBLAS_COMPUTE_32F: products accumulate in float32 and round once
// into the 16-bit output, as the CPU's half matmul does (and PyTorch's).
//
// cuBLAS is column-major and norch row-major. A row-major [r, c] matrix is the
// column-major [c, r] matrix of its transpose, so out = a @ b is computed as
// out^T = b^T a^T: cuBLAS's first operand is b, its second a, and its m/n swap.
// A transposed or otherwise strided operand is described to cuBLAS by its
// leading dimension and a transpose flag (no copy); only a layout that is neither
// row- nor column-major (e.g. a stride-2 column view) is copied first.
#include <cublas_v2.h>

#include <climits>
#include <mutex>
#include <vector>

#include "kernels/cuda/matmul.cuh"
#include "kernels/linalg.h"
#include "norch/tensor/dtype.h"

namespace norch::cuda_kernels {
namespace {

const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

void check_cublas(cublasStatus_t s, const char* op) {
  if (s != CUBLAS_STATUS_SUCCESS) NORCH_ERROR(op, ": cuBLAS error: ", cublas_status_name(s));
}

// One handle per (thread, device): a cuBLAS handle must not be used by two threads at
// once, and is bound to the device that was current when it was created. Creating one
// costs milliseconds, so they are made once and never destroyed (cublasDestroy at
// thread or process exit can run after the driver has been torn down).
cublasHandle_t handle() {
  thread_local std::vector<cublasHandle_t> handles;
  int dev = 0;
  check(cudaGetDevice(&dev), "bmm");
  if (static_cast<int>(handles.size()) <= dev) handles.resize(dev + 1, nullptr);
  if (!handles[dev]) check_cublas(cublasCreate(&handles[dev]), "bmm");
  check_cublas(cublasSetStream(handles[dev], cuda::current_stream()), "bmm");
  return handles[dev];
}

// How cuBLAS reads the transpose X^T ([c, r] column-major) of a row-major view X [r, c]
// with element strides (rs, cs). A dim of size 1 has no meaningful stride, so it never
// disqualifies a layout.
struct Operand {
  bool ok;
  cublasOperation_t op;
  int64_t ld;
};

Operand describe(int64_t r, int64_t c, int64_t rs, int64_t cs) {
  const int64_t one_c = c > 1 ? c : 1, one_r = r > 1 ? r : 1;
  // Rows contiguous: X^T is column-major [c, r] with leading dimension rs.
  if ((cs == 1 || c == 1) && (r == 1 || rs >= one_c)) return {true, CUBLAS_OP_N, r == 1 ? one_c : rs};
  // Columns contiguous: X itself is column-major [r, c] with leading dimension cs; ask for its transpose.
  if ((rs == 1 || r == 1) && (c == 1 || cs >= one_r)) return {true, CUBLAS_OP_T, c == 1 ? one_r : cs};
  return {false, CUBLAS_OP_N, 0};
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

bool use_tf32(ScalarType dt) {
  return dt == ScalarType::Float32 && float32_matmul_precision() != MatmulPrecision::Highest;
}

void bmm_cublas(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  const int64_t B = a_in.sizes()[0], n = a_in.sizes()[1], k = a_in.sizes()[2], m = b_in.sizes()[2];
  Tensor a = a_in, b = b_in;
  // cuBLAS operand 1 is b ([k, m] row-major, read as b^T [m, k]); operand 2 is a.
  Operand ob = describe(k, m, b.strides()[1], b.strides()[2]);
  if (!ob.ok) {
    b = b.contiguous();
    ob = describe(k, m, b.strides()[1], b.strides()[2]);
  }
  Operand oa = describe(n, k, a.strides()[1], a.strides()[2]);
  if (!oa.ok) {
    a = a.contiguous();
    oa = describe(n, k, a.strides()[1], a.strides()[2]);
  }
  // A batch dim of size 1 may carry any stride; cuBLAS reads only batch 0 then.
  const int64_t sa = B == 1 ? 0 : a.strides()[0], sb = B == 1 ? 0 : b.strides()[0];
  if (!(fits_int(n) && fits_int(m) && fits_int(k) && fits_int(B) && fits_int(oa.ld) && fits_int(ob.ld)) ||
      sa < 0 || sb < 0) {
    // Beyond cuBLAS's 32-bit sizes: the plain kernel indexes in 64 bits.
    return bmm_naive(a, b, out);
  }
  cublasHandle_t h = handle();
  const ScalarType dt = out.dtype();
  if (dt != ScalarType::Float64) {
    // alpha and beta are float for every CUBLAS_COMPUTE_32F variant.
    const float alpha = 1.f, beta = 0.f;
    const cudaDataType_t type = dt == ScalarType::Float16    ? CUDA_R_16F
                                : dt == ScalarType::BFloat16 ? CUDA_R_16BF
                                                             : CUDA_R_32F;
    const cublasComputeType_t compute = use_tf32(dt) ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    check_cublas(cublasGemmStridedBatchedEx(h, ob.op, oa.op, static_cast<int>(m), static_cast<int>(n),
                                            static_cast<int>(k), &alpha, b.data_ptr(), type,
                                            static_cast<int>(ob.ld), sb, a.data_ptr(), type,
                                            static_cast<int>(oa.ld), sa, &beta, out.data_ptr(), type,
                                            static_cast<int>(m), n * m, static_cast<int>(B), compute,
                                            CUBLAS_GEMM_DEFAULT),
                 "bmm");
  } else {
    const double alpha = 1.0, beta = 0.0;
    check_cublas(cublasDgemmStridedBatched(h, ob.op, oa.op, static_cast<int>(m), static_cast<int>(n),
                                           static_cast<int>(k), &alpha, b.data<double>(), static_cast<int>(ob.ld),
                                           sb, a.data<double>(), static_cast<int>(oa.ld), sa, &beta,
                                           out.data<double>(), static_cast<int>(m), n * m, static_cast<int>(B)),
                 "bmm");
  }
  check_launch("bmm");
}

void bmm_cuda(const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!is_floating_point(out.dtype())) return bmm_naive(a, b, out);
  switch (cuda_matmul_kernel()) {
    case CudaMatmulKernel::Naive: return bmm_naive(a, b, out);
    case CudaMatmulKernel::Tiled: return bmm_tiled(a, b, out);
    default: return bmm_cublas(a, b, out);
  }
}

}  // namespace

NORCH_REGISTER_KERNEL(bmm_stub, CUDA, bmm_cuda);
NORCH_REGISTER_KERNEL(bmm_reference_stub, CUDA, bmm_naive);

}  // namespace norch::cuda_kernels
