// The bfloat16 GEMM on AVX-512 BF16 (vdpbf16ps): C (float32) = A @ B for bfloat16
// A and B given by GemmArgs (a and b point at bfloat16 bits, c at float). Only the
// avx512 copy of gemm_bf16.cpp defines it; bmm_kernel.cpp calls it when the CPU has
// avx512_bf16 and the dispatcher chose the avx512 level. Like gemm.h, free of inline
// functions and templates (Note [SIMD dispatch] in CMakeLists.txt).
#pragma once
#include "kernels/cpu/isa/gemm.h"

namespace norch::cpu {
#if defined(__x86_64__) || defined(_M_X64)
namespace avx512 {
// Returns false only when a packing buffer cannot be allocated.
bool gemm_bf16_dpbf16(const GemmArgs& args);
// dst[i] = src[i] rounded to bfloat16 (nearest even; NaN -> 0x7fc0, as norch::BFloat16 does).
void round_to_bf16(const float* src, uint16_t* dst, int64_t n, int threads);
}  // namespace avx512
#endif
}  // namespace norch::cpu
