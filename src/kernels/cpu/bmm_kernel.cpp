// CPU batched matrix product: the plain reference loop, and the fast path that hands
// float32/float64 to the packed GEMM (src/kernels/cpu/isa/gemm_isa.cpp) through the
// run-time ISA dispatcher. The reference stays as the oracle the fast path is tested
// against (norch._C._bmm_reference) and as the kernel for integer dtypes.
// The half types convert their operands to float, multiply with the float
// kernels (accumulating in float32, as PyTorch's CPU matmul does) and round once.
// Note: #pragma cannot appear inside NORCH_DISPATCH_* arguments (they are macro
// arguments); loops with pragmas live in templates like bmm_typed below.
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu/isa/gemm.h"
#include "kernels/cpu/isa/gemm_bf16.h"
#include "norch/debug.h"
#include "kernels/cpu/loops.h"
#include "kernels/linalg.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

// i-k-j order so the innermost loop walks rows of b and out. a and b are read
// through their strides (the header lets ops pass transposed views), so the
// reference needs no copy and no op.
template <typename T>
void bmm_typed(const T* pa, const int64_t* sa, const T* pb, const int64_t* sb, T* po, int64_t B, int64_t n,
               int64_t k, int64_t m) {
  parallel_for(B * n, grain_for(B * n, B * n * m * k, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t bn = b_; bn < e_; ++bn) {
      const int64_t bi = bn / n, i = bn % n;
      T* row = po + bn * m;
      for (int64_t j = 0; j < m; ++j) row[j] = T(0);
      for (int64_t kk = 0; kk < k; ++kk) {
        const T av = pa[bi * sa[0] + i * sa[1] + kk * sa[2]];
        const T* brow = pb + bi * sb[0] + kk * sb[1];
        const int64_t sj = sb[2];
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) row[j] += av * brow[j * sj];
      }
    }
  });
}

// A strided 3-d half-type operand as a contiguous float buffer.
template <typename T>
std::vector<float> to_float3(const Tensor& t) {
  const T* p = t.data<T>();
  const int64_t d0 = t.sizes()[0], d1 = t.sizes()[1], d2 = t.sizes()[2];
  const int64_t s0 = t.strides()[0], s1 = t.strides()[1], s2 = t.strides()[2];
  std::vector<float> f(static_cast<size_t>(d0 * d1 * d2));
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j)
      for (int64_t l = 0; l < d2; ++l) f[(i * d1 + j) * d2 + l] = static_cast<float>(p[i * s0 + j * s1 + l * s2]);
  return f;
}

// Runs `mm(a, b, c, strides...)` on float copies of half-type a and b, then rounds into out.
template <typename T, typename MM>
void bmm_via_float(const Tensor& a, const Tensor& b, const Tensor& out, MM mm) {
  const int64_t B = a.sizes()[0], n = a.sizes()[1], k = a.sizes()[2], m = b.sizes()[2];
  const std::vector<float> fa = to_float3<T>(a), fb = to_float3<T>(b);
  std::vector<float> fc(static_cast<size_t>(B * n * m));
  const int64_t sa[3] = {n * k, k, 1}, sb[3] = {k * m, m, 1};
  mm(fa.data(), sa, fb.data(), sb, fc.data(), B, n, k, m);
  T* o = out.data<T>();
  for (size_t i = 0; i < fc.size(); ++i) o[i] = T(fc[i]);
}

void bmm_reference_kernel(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t B = a.sizes()[0], n = a.sizes()[1], k = a.sizes()[2], m = b.sizes()[2];
  if (is_reduced_float(out.dtype())) {
    return NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "bmm", [&] {
      if constexpr (is_half_type_v<scalar_t>) bmm_via_float<scalar_t>(a, b, out, bmm_typed<float>);
    });
  }
  NORCH_DISPATCH_NUMERIC_TYPES(out.dtype(), "bmm", [&] {
    bmm_typed<scalar_t>(a.data<scalar_t>(), a.strides().data(), b.data<scalar_t>(), b.strides().data(),
                        out.data<scalar_t>(), B, n, k, m);
  });
}

void bmm_float_gemm(const float* pa, const int64_t* sa, const float* pb, const int64_t* sb, float* po, int64_t B,
                    int64_t n, int64_t k, int64_t m) {
  GemmArgs g{};
  g.batch = B;
  g.M = n;
  g.K = k;
  g.N = m;
  g.a = pa;
  g.a_batch = sa[0];
  g.a_rs = sa[1];
  g.a_cs = sa[2];
  g.b = pb;
  g.b_batch = sb[0];
  g.b_rs = sb[1];
  g.b_cs = sb[2];
  g.c = po;
  g.c_batch = n * m;
  g.c_rs = m;
  g.threads = get_num_threads();
  NORCH_CHECK(gemm_f32(g), "bmm: could not allocate the packing buffer for shapes [", B, ", ", n, ", ", k, "] and [",
              B, ", ", k, ", ", m, "]");
}

// AVX-512 BF16 runs only where the CPU has it and the dispatcher kept the avx512
// level (NORCH_SIMD=avx2 or baseline turns it off with the rest).
bool use_bf16_dot() {
#if defined(__x86_64__) || defined(_M_X64)
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0 && std::strcmp(simd_level_name(), "avx512") == 0;
  }();
  return ok;
#else
  return false;
#endif
}

// The GEMM's view of a [B, n, k] @ [B, k, m] -> [B, n, m] product of strided tensors.
GemmArgs gemm_args(const Tensor& a, const Tensor& b, const Tensor& out) {
  GemmArgs g{};
  g.batch = a.sizes()[0];
  g.M = a.sizes()[1];
  g.K = a.sizes()[2];
  g.N = b.sizes()[2];
  g.a = a.data_ptr();
  g.a_batch = a.strides()[0];
  g.a_rs = a.strides()[1];
  g.a_cs = a.strides()[2];
  g.b = b.data_ptr();
  g.b_batch = b.strides()[0];
  g.b_rs = b.strides()[1];
  g.b_cs = b.strides()[2];
  g.c = out.data_ptr();
  g.c_batch = out.strides()[0];
  g.c_rs = out.strides()[1];
  g.threads = get_num_threads();
  return g;
}

// bfloat16 operands straight into vdpbf16ps (no float copies), float32 sums rounded once.
void bmm_bf16_dot(const Tensor& a, const Tensor& b, const Tensor& out) {
#if defined(__x86_64__) || defined(_M_X64)
  GemmArgs g = gemm_args(a, b, out);
  g.kernel = gemm_bf16_kernel();
  NORCH_CHECK(avx512::gemm_bf16(g), "bmm: could not allocate the packing buffer for shapes ", a.sizes(), " and ",
              b.sizes());
#else
  bmm_via_float<BFloat16>(a, b, out, bmm_float_gemm);
#endif
}

void bmm_fast_kernel(const Tensor& a, const Tensor& b, const Tensor& out) {
  const ScalarType dt = out.dtype();
  if (dt == ScalarType::Float16) return bmm_via_float<Half>(a, b, out, bmm_float_gemm);
  if (dt == ScalarType::BFloat16) {
    if (use_bf16_dot()) return bmm_bf16_dot(a, b, out);
    return bmm_via_float<BFloat16>(a, b, out, bmm_float_gemm);
  }
  if (dt != ScalarType::Float32 && dt != ScalarType::Float64) return bmm_reference_kernel(a, b, out);
  GemmArgs g = gemm_args(a, b, out);
  const bool ok = dt == ScalarType::Float32 ? gemm_f32(g) : gemm_f64(g);
  NORCH_CHECK(ok, "bmm: could not allocate the packing buffer for shapes ", a.sizes(), " and ", b.sizes());
}

}  // namespace
NORCH_REGISTER_KERNEL(bmm_stub, CPU, bmm_fast_kernel);
NORCH_REGISTER_KERNEL(bmm_reference_stub, CPU, bmm_reference_kernel);
}  // namespace norch::cpu
