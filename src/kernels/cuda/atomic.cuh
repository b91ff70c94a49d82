// Atomic accumulation into device memory for the floating dtypes, half types
// included: CUDA's native atomicAdd for float and double; for float16/bfloat16 a
// compare-and-swap on the enclosing 32-bit word that adds in float and rounds
// with half.h's own conversion, so each add rounds exactly as the CPU's
// sequential `+=` on the same storage type does (only the order may differ).
#pragma once
#include <cstdint>
#include <type_traits>

#include "norch/tensor/half.h"

namespace norch::cuda_kernels {

template <typename H>
__device__ inline void atomic_add_half(H* p, float v) {
  unsigned int* word = reinterpret_cast<unsigned int*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t(3));
  const unsigned shift = (reinterpret_cast<uintptr_t>(p) & 2) ? 16u : 0u;
  unsigned int old = *word, assumed;
  do {
    assumed = old;
    const H cur(static_cast<uint16_t>((assumed >> shift) & 0xffffu), FromBits{});
    const H next(static_cast<float>(cur) + v);
    old = atomicCAS(word, assumed, (assumed & ~(0xffffu << shift)) | (static_cast<unsigned int>(next.x) << shift));
  } while (old != assumed);
}

template <typename T>
__device__ inline void atomic_add(T* p, T v) {
  if constexpr (is_half_type_v<T>) atomic_add_half(p, static_cast<float>(v));
  else atomicAdd(p, v);
}

}  // namespace norch::cuda_kernels
