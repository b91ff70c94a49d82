// norch/debug.h — NORCH_DEBUG=1 prints each dispatched kernel (and, for
// elementwise ops, shapes and dtype); NORCH_DEBUG=2 also prints autograd nodes
// as the engine runs them. Read once from the environment. Also the one public
// entry for run-time facts about the build that tests print (the SIMD level).
#pragma once

namespace norch {

int debug_level();
void debug_print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

namespace cpu {
// Which per-ISA copy of the fast CPU kernels this process runs (Note [SIMD dispatch]
// in CMakeLists.txt; defined in src/kernels/cpu/isa_dispatch.cpp): the best level the
// CPU supports, or the one named by NORCH_SIMD=avx512|avx2|baseline (never above
// what the CPU has). Public so that tests and benchmarks can report it.
const char* simd_level_name();
// The packed GEMM's kernel version (src/kernels/cpu/isa/gemm_isa.cpp keeps each one
// beside the reference loop, numbered): 0 runs the newest. Returns the previous
// setting. For tests and benchmarks; not thread-safe against running GEMMs.
int set_gemm_kernel(int version);
int gemm_kernel_latest();
// The same for the bfloat16 GEMM (src/kernels/cpu/isa/gemm_bf16.cpp).
int set_gemm_bf16_kernel(int version);
int gemm_bf16_kernel_latest();
// The packed GEMM with B addressed through a table (GemmArgs::b_rows / b_cols, the
// stride-1 convolution's operand), for its tests: C [M x N] = A [M x K] @ B with
// B[k][j] = b[offsets[k] + j] (columns false, K offsets) or b[offsets[j] + k]
// (columns true, N offsets); A and C row-major, float32 (f64 false) or float64.
// Returns false only when the packing buffer cannot be allocated.
bool gemm_table(bool f64, long long M, long long N, long long K, const void* a, const void* b,
                const long long* offsets, bool columns, void* c, int threads);
}  // namespace cpu

}  // namespace norch
