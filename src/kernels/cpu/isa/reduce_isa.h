// The per-instruction-set reduction loops of reduce_isa.cpp (Note [SIMD dispatch] in
// CMakeLists.txt) and the table reduce_kernel.cpp picks them from. Like gemm.h, free of
// inline functions and templates, since the per-ISA translation units include it.
//
// Every loop assigns elements to vector lanes and folds the lanes in one fixed order
// that does not depend on the vector width, so the baseline, AVX2 and AVX-512 copies
// return the same bits.
#pragma once
#include <cstdint>

namespace norch::cpu {

// Length of the blocks a long floating sum is cut into: reduce_kernel.cpp adds the
// block sums in order (and may compute blocks on different threads); sum_f32/sum_f64
// accept any n but are called with at most this many elements.
constexpr int64_t kSumBlock = 65536;

struct ReduceIsa {
  // Floating sums in two levels: float (double) lanes over chunks of 16 elements
  // each, the chunk results accumulated in double lanes, folded pairwise.
  double (*sum_f32)(const float* p, int64_t n);
  double (*sum_f64)(const double* p, int64_t n);
  int64_t (*sum_i64)(const int64_t* p, int64_t n);
  // Sum of (p[i] - mean)^2 in double lanes (the deviation taken in double), for var/std.
  double (*sumsq_f32)(const float* p, int64_t n, double mean);
  double (*sumsq_f64)(const double* p, int64_t n, double mean);
  float (*prod_f32)(const float* p, int64_t n);
  double (*prod_f64)(const double* p, int64_t n);
  int64_t (*prod_i64)(const int64_t* p, int64_t n);
  // is_max selects max over min; a NaN anywhere gives NaN, as the scalar combine does.
  float (*extreme_f32)(const float* p, int64_t n, bool is_max);
  double (*extreme_f64)(const double* p, int64_t n, bool is_max);
  int64_t (*extreme_i64)(const int64_t* p, int64_t n, bool is_max);
  int32_t (*extreme_i32)(const int32_t* p, int64_t n, bool is_max);
  // Index of the first max (min) of p[0, n), n > 0; the first NaN if there is one.
  int64_t (*arg_f32)(const float* p, int64_t n, bool is_max);
  int64_t (*arg_f64)(const double* p, int64_t n, bool is_max);
  int64_t (*arg_i64)(const int64_t* p, int64_t n, bool is_max);
  int64_t (*arg_i32)(const int32_t* p, int64_t n, bool is_max);
};

#define NORCH_DECLARE_REDUCE_ISA(isa) \
  namespace isa {                     \
  extern const ReduceIsa reduce_isa;  \
  }
NORCH_DECLARE_REDUCE_ISA(baseline)
#if defined(__x86_64__) || defined(_M_X64)
NORCH_DECLARE_REDUCE_ISA(avx2)
NORCH_DECLARE_REDUCE_ISA(avx512)
#endif
#undef NORCH_DECLARE_REDUCE_ISA

}  // namespace norch::cpu
