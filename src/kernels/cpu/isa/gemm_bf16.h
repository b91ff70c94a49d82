// The bfloat16 GEMM on AVX-512 BF16 (vdpbf16ps): C = A @ B for bfloat16 A, B and C
// given by GemmArgs (a, b and c point at bfloat16 bits), float32 sums rounded once.
// Only the avx512 copy of gemm_bf16.cpp defines it; bmm_kernel.cpp calls it when the
// CPU has avx512_bf16 and the dispatcher chose the avx512 level. Like gemm.h, free of
// inline functions and templates (Note [SIMD dispatch] in CMakeLists.txt).
#pragma once
#include <cstddef>

#include "kernels/cpu/isa/gemm.h"

namespace norch::cpu {

// The newest bfloat16 kernel version (GemmArgs::kernel; gemm_bf16.cpp's header lists them).
constexpr int kGemmBf16KernelLatest = 3;
// The version set by set_gemm_bf16_kernel (norch/debug.h); 0 runs the newest.
int gemm_bf16_kernel();

#if defined(__x86_64__) || defined(_M_X64)
namespace avx512 {
// Returns false only when a packing buffer cannot be allocated. g.kernel picks the
// version (0 or out of range: the newest).
bool gemm_bf16(const GemmArgs& args);
// Version 1 (gemm_bf16_v1.cpp); gemm_bf16 calls it for g.kernel == 1.
bool gemm_bf16_v1(const GemmArgs& args);

// The packing buffers every version keeps per calling thread (gemm_bf16.cpp): a buffer
// up to 8 MiB is kept for the next call, so repeated products of moderate size do not
// fault in fresh pages each time; a larger one is the caller's to free (*owned).
struct Bf16Scratch {
  void* p = nullptr;
  size_t bytes = 0;
  ~Bf16Scratch();
};
// A 64-byte aligned buffer of at least `bytes` bytes, or nullptr when out of memory.
void* bf16_scratch(Bf16Scratch& s, size_t bytes, bool* owned);
}  // namespace avx512
#endif
}  // namespace norch::cpu
