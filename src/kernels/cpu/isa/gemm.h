// The fast CPU GEMM's interface: one problem record, one entry per instruction set.
// Must stay free of inline functions and templates: it is included by the per-ISA
// translation units (Note [SIMD dispatch] in CMakeLists.txt), and an inline function
// compiled there with -mavx512f could be the copy the linker keeps for everyone.
#pragma once
#include <cstdint>

namespace norch {
// The pool the packed GEMM runs on, declared again here rather than by including
// norch/tensor/parallel.h, whose parallel_for template must not be compiled per ISA.
using ChunkFn = void (*)(void* ctx, int64_t chunk, int slot);
void run_chunks(int threads, int64_t chunks, ChunkFn fn, void* ctx);
}  // namespace norch

namespace norch::cpu {

// C[b] = A[b] @ B[b] for b < batch; A[b] is M x K, B[b] is K x N, C[b] is M x N.
// All strides count elements. A and B may have any strides (transposed views are read
// in place by the packing routines); C is row-major with row stride c_rs. K == 0
// writes zeros.
struct GemmArgs {
  int64_t batch, M, N, K;
  const void* a;
  int64_t a_batch, a_rs, a_cs;
  const void* b;
  int64_t b_batch, b_rs, b_cs;
  void* c;
  int64_t c_batch, c_rs;
  int threads;  // upper bound; small problems use fewer
  int kernel;   // version (gemm_isa.cpp's header); 0 or out of range: the newest
  // When set, row k of B[b] starts at b + b * b_batch + b_rows[k] (b_rs is unused and
  // b_cs must be 1): B's rows are windows into one buffer, as in a stride-1
  // convolution's taps over a padded plane (Note [Row-table convolution]).
  const int64_t* b_rows = nullptr;
  // When set, column j of B[b] starts at b + b * b_batch + b_cols[j] (b_cs is unused and
  // b_rs must be 1): the transpose of the row table, for the weight gradient.
  const int64_t* b_cols = nullptr;
};

// The newest kernel version; gemm_isa.cpp's header lists what each one changed.
constexpr int kGemmKernelLatest = 5;

#define NORCH_DECLARE_GEMM_ISA(isa)    \
  namespace isa {                      \
  bool gemm_f32(const GemmArgs& args); \
  bool gemm_f64(const GemmArgs& args); \
  }
NORCH_DECLARE_GEMM_ISA(baseline)
#if defined(__x86_64__) || defined(_M_X64)
NORCH_DECLARE_GEMM_ISA(avx2)
NORCH_DECLARE_GEMM_ISA(avx512)
#endif
#undef NORCH_DECLARE_GEMM_ISA

// The pool the packed GEMM runs on (norch/tensor/parallel.h): the caller takes chunks no
// helper has claimed, so a helper that cannot get a core costs nothing (Note [GEMM threading]).
using norch::ChunkFn;
using norch::run_chunks;

// simd_level_name(), the level isa_dispatch.cpp picked, is declared in norch/debug.h.
// Both return false only when the packing buffer cannot be allocated.
bool gemm_f32(const GemmArgs& args);
bool gemm_f64(const GemmArgs& args);

}  // namespace norch::cpu
