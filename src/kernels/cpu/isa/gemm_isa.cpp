// Packed, cache-blocked, threaded SGEMM/DGEMM, compiled once per instruction set
// (Note [SIMD dispatch] in CMakeLists.txt); isa_dispatch.cpp picks the copy to run.
//
// Blocking (Goto/BLIS): for each MCO-tall block of A, NC-wide block of B and KC-deep slice
// of K, the B block is packed into NR-wide panels (KC x NC, kept in each core's L2) and
// the A block into MR-tall panels (v5: B is read in place where packing does not pay).
// Each thread then owns a rectangle of MR x NR tiles and
// walks it row-panel outer, column-panel inner, so one A micro-panel (MR x KC) stays in
// L1 while B micro-panels stream from L2. Packing reads through arbitrary strides, so
// transposed operands are never copied beforehand. Edges are zero-padded in the packed
// panels; edge tiles are computed into a scratch tile and only the valid part is stored.
//
// Kernel versions (GemmArgs::kernel, norch._C._set_gemm_kernel; each is tested against
// the reference loop in bmm_kernel.cpp by test_linalg.py). SGEMM GFLOP/s on one core
// of an AMD EPYC (Zen 5, AVX-512, FMA peak 275-289 GFLOP/s measured beside them), best
// thread-CPU-time of 20+ calls, row-major operands, machine at load 15 (the quiet
// figures, load 0.4, in brackets):
//                          1024^3         2048^3         256^3   64x784x256  16x150x4096
//   reference loop (i-k-j, the compiler vectorises the j loop): 30 at 256^3
//   v1 12x32 tiles, ic-jc-pc    214 [246]      211 [227]      247     223         155
//   v2 A packed once per KC     230 [251]      231 [243]      245     223         163
//   v3 4x4 transposing packs    230 [257]      242 [248]      260     225         159
//   v4 equal K and N blocks     236 [252]      253 [244]      261     238         159
//   v5 B read in place          257            252            271     264         214
// DGEMM (FMA peak 144): v1 101, 95, 109 and v5 121, 117, 129 at 1024^3, 2048^3 and
// 64x784x256 (84%, 81%, 90% of peak).
// OpenBLAS 0.3.31 (SkylakeX kernels) reaches ~250 at 1024^3 in the same conditions,
// PyTorch 2.13 (MKL on this AMD CPU) ~110: benchmarks/bench_gemm.py prints both.
// v2: the loop order ic -> jc -> pc repacked each A block for every NC block of B.
// v3: the scalar transposing copy stored one element per 12 (or 32) and was 15% of a
// 2048^3 call (perf). v4: K = 784 ran as 3 x 256 + 16. v5: for few row panels (M up to
// 72) or short B rows, packing B costs more than the reuse it buys. Tried and dropped:
// prefetching the C tile and unrolling k by 4 (no gain, 1024^3 slower).
// Row and column tables (GemmArgs::b_rows / b_cols, any version): B's rows (or columns)
// are windows into one buffer, for the stride-1 convolution of conv_rows_kernel.cpp. A
// row table is read in place by the micro-kernel (its Tab argument: step k loads from
// bp + rows[k]) where v5 would read a strided B in place, and packed from the table
// otherwise; a column table is always packed (4 x 4 transposes through a pointer per
// column). test_conv_blocked.py checks both against PyTorch on every version and level.
//
// This file may use only its own code, intrinsics and C library calls: any inline
// function from a shared header (std:: templates included) would be compiled here with
// this file's ISA flags and might be the copy the linker keeps for the whole library.
#ifndef NORCH_ISA
#error "gemm_isa.cpp is compiled only through the per-ISA wrappers that CMake generates"
#endif

#include <stdint.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "kernels/cpu/isa/gemm.h"

namespace norch::cpu::NORCH_ISA {
namespace {

// ---- vector abstraction: one register type per (ISA, dtype) -------------------------
template <typename T>
struct Vec;

#if defined(__AVX512F__)
template <>
struct Vec<float> {
  using R = __m512;
  static constexpr int W = 16;
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static R set1(float v) { return _mm512_set1_ps(v); }
  static R zero() { return _mm512_setzero_ps(); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
};
template <>
struct Vec<double> {
  using R = __m512d;
  static constexpr int W = 8;
  static R load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static R set1(double v) { return _mm512_set1_pd(v); }
  static R zero() { return _mm512_setzero_pd(); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
};
constexpr int kMR = 12, kNRV = 2;  // 24 accumulators + 2 B vectors + 1 broadcast of 32 zmm
#elif defined(__AVX2__) && defined(__FMA__)
template <>
struct Vec<float> {
  using R = __m256;
  static constexpr int W = 8;
  static R load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  static R set1(float v) { return _mm256_set1_ps(v); }
  static R zero() { return _mm256_setzero_ps(); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
};
template <>
struct Vec<double> {
  using R = __m256d;
  static constexpr int W = 4;
  static R load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, R v) { _mm256_storeu_pd(p, v); }
  static R set1(double v) { return _mm256_set1_pd(v); }
  static R zero() { return _mm256_setzero_pd(); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
};
constexpr int kMR = 6, kNRV = 2;  // 12 accumulators + 2 + 1 of 16 ymm
#elif defined(__SSE2__)
template <>
struct Vec<float> {
  using R = __m128;
  static constexpr int W = 4;
  static R load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, R v) { _mm_storeu_ps(p, v); }
  static R set1(float v) { return _mm_set1_ps(v); }
  static R zero() { return _mm_setzero_ps(); }
  static R fma(R a, R b, R c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
  static R add(R a, R b) { return _mm_add_ps(a, b); }
};
template <>
struct Vec<double> {
  using R = __m128d;
  static constexpr int W = 2;
  static R load(const double* p) { return _mm_loadu_pd(p); }
  static void store(double* p, R v) { _mm_storeu_pd(p, v); }
  static R set1(double v) { return _mm_set1_pd(v); }
  static R zero() { return _mm_setzero_pd(); }
  static R fma(R a, R b, R c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
  static R add(R a, R b) { return _mm_add_pd(a, b); }
};
constexpr int kMR = 4, kNRV = 2;  // no FMA: leave registers for the products
#else
template <typename T>
struct Vec {
  using R = T;
  static constexpr int W = 1;
  static R load(const T* p) { return *p; }
  static void store(T* p, R v) { *p = v; }
  static R set1(T v) { return v; }
  static R zero() { return T(0); }
  static R fma(R a, R b, R c) { return a * b + c; }
  static R add(R a, R b) { return a + b; }
};
constexpr int kMR = 4, kNRV = 4;
#endif

constexpr int kLatest = kGemmKernelLatest;
constexpr int64_t kInPlaceRows = 6, kInPlaceStride = 2048;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Cache blocks per dtype. KC x NR of B and MR x KC of A sized for L1, KC x NC for L2.
template <typename T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int64_t KC = 256, NC = 512, MCO = 1152;
};
template <>
struct Blocking<double> {
  static constexpr int64_t KC = 192, NC = 256, MCO = 1152;
};

// Grows, never shrinks; one per calling thread so repeated calls do not page-fault
// fresh memory. Worker threads use slices of their caller's buffer.
struct Buffer {
  void* p = nullptr;
  size_t bytes = 0;
  ~Buffer() { free(p); }
  void* get(size_t n) {
    if (n > bytes) {
      free(p);
      p = aligned_alloc(64, (n + 63) / 64 * 64);
      bytes = p ? n : 0;
    }
    return p;
  }
};
thread_local Buffer tl_pack;

// ---- packing -------------------------------------------------------------------------
// d[k * P + i] = s[i * ld + k] for i < rows, k < kc: the transposing copy both packers
// need when the panel's long side is the source's unit stride (A row-major, B
// transposed). Version 3 onwards moves 4 x 4 (float) or 2 x 2 (double) blocks through
// registers; the scalar loop it replaces stored one element per 12 or 32 and was the
// largest cost outside the micro-kernel (15% of a 2048^3 SGEMM).
#if defined(__SSE2__)
template <typename T>
void transpose_block(const T* s, int64_t ld, T* d, int64_t P);
template <>
inline void transpose_block<float>(const float* s, int64_t ld, float* d, int64_t P) {
  __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + ld), r2 = _mm_loadu_ps(s + 2 * ld),
         r3 = _mm_loadu_ps(s + 3 * ld);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(d, r0);
  _mm_storeu_ps(d + P, r1);
  _mm_storeu_ps(d + 2 * P, r2);
  _mm_storeu_ps(d + 3 * P, r3);
}
template <>
inline void transpose_block<double>(const double* s, int64_t ld, double* d, int64_t P) {
  const __m128d r0 = _mm_loadu_pd(s), r1 = _mm_loadu_pd(s + ld);
  _mm_storeu_pd(d, _mm_unpacklo_pd(r0, r1));
  _mm_storeu_pd(d + P, _mm_unpackhi_pd(r0, r1));
}
template <typename T>
constexpr int64_t kBlock = 16 / sizeof(T);
#else
template <typename T>
inline void transpose_block(const T* s, int64_t ld, T* d, int64_t P) {
  d[0] = s[0];
}
template <typename T>
constexpr int64_t kBlock = 1;
#endif

template <typename T>
void pack_transposed(const T* s, int64_t ld, int64_t rows, int64_t kc, T* d, int64_t P, int ver) {
  constexpr int64_t B = kBlock<T>;
  int64_t i = 0;
  if (ver >= 3)
    for (; i + B <= rows; i += B) {
      int64_t k = 0;
      for (; k + B <= kc; k += B) transpose_block<T>(s + i * ld + k, ld, d + k * P + i, P);
      for (; k < kc; ++k)
        for (int64_t r = 0; r < B; ++r) d[k * P + i + r] = s[(i + r) * ld + k];
    }
  for (; i < rows; ++i)
    for (int64_t k = 0; k < kc; ++k) d[k * P + i] = s[i * ld + k];
}

// A panel p: kc steps of MR values (rows p*MR .. p*MR+MR-1, zero past mc).
template <typename T>
void pack_a_panels(const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, T* dst, int ver) {
  for (int64_t p = 0; p * kMR < mc; ++p) {
    const int64_t rows = min64(kMR, mc - p * kMR);
    const T* src = a + p * kMR * rs;
    T* d = dst + p * kMR * kc;
    if (rows < kMR)
      for (int64_t i = 0; i < kMR * kc; ++i) d[i] = T(0);
    if (cs == 1) {
      pack_transposed<T>(src, rs, rows, kc, d, kMR, ver);
    } else if (rs == 1 && ver >= 3) {  // A transposed: each k step is a contiguous run
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t r = 0; r < rows; ++r) d[k * kMR + r] = src[k * cs + r];
    } else {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < kc; ++k) d[k * kMR + r] = src[r * rs + k * cs];
    }
  }
}

// B panel q: kc steps of NR values (columns q*NR .., zero past nc).
template <typename T>
void pack_b_panels(const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, T* dst, int ver) {
  constexpr int64_t NR = kNRV * Vec<T>::W;
  for (int64_t q = 0; q * NR < nc; ++q) {
    const int64_t cols = min64(NR, nc - q * NR);
    const T* src = b + q * NR * cs;
    T* d = dst + q * NR * kc;
    if (cs == 1 && cols == NR) {
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = src + k * rs;
        T* o = d + k * NR;
        for (int64_t j = 0; j < NR; ++j) o[j] = s[j];
      }
      continue;
    }
    if (cols < NR)
      for (int64_t i = 0; i < NR * kc; ++i) d[i] = T(0);
    if (cs == 1) {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < cols; ++j) d[k * NR + j] = src[k * rs + j];
    } else if (rs == 1) {  // B transposed: columns are contiguous
      pack_transposed<T>(src, cs, cols, kc, d, NR, ver);
    } else {
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = src[j * cs + k * rs];
    }
  }
}

// pack_b_panels for a B whose row k starts at b + rows[k] (GemmArgs::b_rows).
template <typename T>
void pack_b_rows(const T* b, const int64_t* rows, int64_t kc, int64_t nc, T* dst) {
  constexpr int64_t NR = kNRV * Vec<T>::W;
  for (int64_t q = 0; q * NR < nc; ++q) {
    const int64_t cols = min64(NR, nc - q * NR);
    const T* src = b + q * NR;
    T* d = dst + q * NR * kc;
    for (int64_t k = 0; k < kc; ++k) {
      const T* s = src + rows[k];
      T* o = d + k * NR;
      for (int64_t j = 0; j < cols; ++j) o[j] = s[j];
      for (int64_t j = cols; j < NR; ++j) o[j] = T(0);
    }
  }
}

// pack_b_panels for a B whose column j starts at b + cols[j] (GemmArgs::b_cols): the
// transposing copy, through a pointer per column.
#if defined(__SSE2__)
template <typename T>
void transpose_cols(const T* b, const int64_t* t, T* d, int64_t P);
template <>
inline void transpose_cols<float>(const float* b, const int64_t* t, float* d, int64_t P) {
  __m128 r0 = _mm_loadu_ps(b + t[0]), r1 = _mm_loadu_ps(b + t[1]), r2 = _mm_loadu_ps(b + t[2]),
         r3 = _mm_loadu_ps(b + t[3]);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(d, r0);
  _mm_storeu_ps(d + P, r1);
  _mm_storeu_ps(d + 2 * P, r2);
  _mm_storeu_ps(d + 3 * P, r3);
}
template <>
inline void transpose_cols<double>(const double* b, const int64_t* t, double* d, int64_t P) {
  const __m128d r0 = _mm_loadu_pd(b + t[0]), r1 = _mm_loadu_pd(b + t[1]);
  _mm_storeu_pd(d, _mm_unpacklo_pd(r0, r1));
  _mm_storeu_pd(d + P, _mm_unpackhi_pd(r0, r1));
}
#endif

template <typename T>
void pack_b_cols(const T* b, const int64_t* tab, int64_t kc, int64_t nc, T* dst) {
  constexpr int64_t NR = kNRV * Vec<T>::W;
  [[maybe_unused]] constexpr int64_t B = kBlock<T>;
  for (int64_t q = 0; q * NR < nc; ++q) {
    const int64_t cols = min64(NR, nc - q * NR);
    const int64_t* t = tab + q * NR;
    T* d = dst + q * NR * kc;
    if (cols < NR)
      for (int64_t i = 0; i < NR * kc; ++i) d[i] = T(0);
    int64_t j = 0;
#if defined(__SSE2__)
    for (; j + B <= cols; j += B) {
      int64_t k = 0;
      for (; k + B <= kc; k += B) transpose_cols<T>(b + k, t + j, d + k * NR + j, NR);
      for (; k < kc; ++k)
        for (int64_t r = 0; r < B; ++r) d[k * NR + j + r] = b[t[j + r] + k];
    }
#endif
    for (; j < cols; ++j)
      for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = b[t[j] + k];
  }
}

// ---- micro-kernel: C[R x NV*W] (+)= Ap[R x kc] @ Bp[kc x NV*W] ------------------------
// R <= MR rows and NV <= NRV vectors are template arguments, so the last row panel of an
// M that is not a multiple of MR (M = 64 with MR = 12), or a narrow N (16 columns with
// NR = 32), runs a smaller kernel instead of multiplying padding. Panels keep their
// full MR / NR strides either way. Tab: step k reads B at bp + rows[k] (a row table)
// instead of advancing bp by ldb.
template <typename T, int R, int NV, bool Tab>
void micro_kernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, int64_t ldb,
                  const int64_t* __restrict rows, T* __restrict c, int64_t ldc, bool accumulate) {
  using V = Vec<T>;
  constexpr int W = V::W;
  typename V::R acc[R][NV];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  for (int64_t k = 0; k < kc; ++k) {
    typename V::R bv[NV];
    const T* brow = Tab ? bp + rows[k] : bp;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = V::load(brow + j * W);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const typename V::R av = V::set1(ap[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fma(av, bv[j], acc[i][j]);
    }
    ap += kMR;
    if constexpr (!Tab) bp += ldb;
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      T* p = c + i * ldc + j * W;
      V::store(p, accumulate ? V::add(V::load(p), acc[i][j]) : acc[i][j]);
    }
}

template <typename T>
using KernelFn = void (*)(int64_t, const T*, const T*, int64_t, const int64_t*, T*, int64_t, bool);

// The kernel for 1 <= rows <= MR (a short chain of compares, once per tile).
template <typename T, int NV, bool Tab, int R = 1>
KernelFn<T> kernel_for_rows(int64_t rows) {
  if constexpr (R >= kMR) return micro_kernel<T, kMR, NV, Tab>;
  else return rows == R ? micro_kernel<T, R, NV, Tab> : kernel_for_rows<T, NV, Tab, R + 1>(rows);
}

// Vectors of B a tile of `cols` columns needs: one when it fits in one, else all.
template <typename T>
int vectors_for(int64_t cols) {
  return cols <= Vec<T>::W ? 1 : kNRV;
}

template <typename T, bool Tab>
KernelFn<T> kernel_for(int64_t rows, int nv) {
  return nv == 1 ? kernel_for_rows<T, 1, Tab>(rows) : kernel_for_rows<T, kNRV, Tab>(rows);
}

// A tile cut by the right edge of C: computed into a scratch tile, stored in part.
template <typename T, bool Tab>
void edge_tile(int64_t kc, const T* ap, const T* bp, int64_t ldb, const int64_t* tab, T* c, int64_t ldc,
               bool accumulate, int64_t rows, int64_t cols) {
  constexpr int NR = kNRV * Vec<T>::W;
  alignas(64) T tile[kMR * NR];
  kernel_for<T, Tab>(rows, vectors_for<T>(cols))(kc, ap, bp, ldb, tab, tile, NR, false);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
}

// One MR x NR (or smaller) tile: the full-size kernel, a smaller one, or an edge tile.
template <typename T, bool Tab>
void tile(int64_t kc, const T* ap, const T* bp, int64_t ldb, const int64_t* tab, T* c, int64_t ldc, bool accumulate,
          int64_t rows, int64_t cols) {
  constexpr int64_t NR = kNRV * Vec<T>::W;
  const int nv = vectors_for<T>(cols);
  if (rows == kMR && cols == NR) micro_kernel<T, kMR, kNRV, Tab>(kc, ap, bp, ldb, tab, c, ldc, accumulate);
  else if (cols == nv * Vec<T>::W) kernel_for<T, Tab>(rows, nv)(kc, ap, bp, ldb, tab, c, ldc, accumulate);
  else edge_tile<T, Tab>(kc, ap, bp, ldb, tab, c, ldc, accumulate, rows, cols);
}

// ---- one matrix (or one thread's rectangle of it) --------------------------------------
template <typename T>
struct Mat {
  const T* a;
  int64_t a_rs, a_cs;
  const T* b;
  int64_t b_rs, b_cs;
  T* c;
  int64_t c_rs;
  const int64_t* b_rows;  // GemmArgs::b_rows
  const int64_t* b_cols;  // GemmArgs::b_cols
};

// Version 1 walks ic -> jc -> pc, so the A block is packed again for every NC block of
// B; version 2 onwards walks ic -> pc -> jc and packs each A block once.
template <typename T>
void gemm_one(const Mat<T>& m, int64_t M, int64_t N, int64_t K, T* Ap, T* Bp, int ver) {
  using Bk = Blocking<T>;
  constexpr int64_t NR = kNRV * Vec<T>::W;
  const bool a_once = ver >= 2;
  // Version 4 onwards splits K and N into equal blocks: K = 784 runs as 4 x 196, not
  // 3 x 256 and a 16-deep slice that pays a full pass over C for 2% of the work.
  const int64_t KC = ver >= 4 ? ceil_div(K, ceil_div(K, Bk::KC)) : Bk::KC;
  const int64_t NC = ver >= 4 ? ceil_div(ceil_div(N, ceil_div(N, Bk::NC)), NR) * NR : Bk::NC;
  for (int64_t ic = 0; ic < M; ic += Bk::MCO) {
    const int64_t mc = min64(Bk::MCO, M - ic), mp = ceil_div(mc, kMR);
    for (int64_t outer = 0; outer < (a_once ? K : N); outer += (a_once ? KC : NC)) {
      for (int64_t inner = 0; inner < (a_once ? N : K); inner += (a_once ? NC : KC)) {
        const int64_t pc = a_once ? outer : inner, jc = a_once ? inner : outer;
        const int64_t kc = min64(KC, K - pc);
        const int64_t nc = min64(NC, N - jc), np = ceil_div(nc, NR);
        if (!a_once || jc == 0) {
          const T* ablk = m.a + ic * m.a_rs + pc * m.a_cs;
          pack_a_panels<T>(ablk, m.a_rs, m.a_cs, mc, kc, Ap, ver);
        }
        // Version 5 onwards reads whole panels of a row-major B where they lie (only the
        // ragged right edge is packed) when packing would not pay: the block has few row
        // panels, so each B panel is read only that often, or B's rows are short enough
        // that kc of them stream through the prefetchers and L1 without 4 KiB aliasing.
        // A row table (b_rows) has no row stride to judge by: read in place for few row panels.
        const int64_t* tab = m.b_rows ? m.b_rows + pc : nullptr;
        const bool in_place = ver >= 5 && m.b_cs == 1 &&
                              (mp <= kInPlaceRows || (!tab && m.b_rs * int64_t(sizeof(T)) <= kInPlaceStride));
        const T* bsrc = tab ? m.b + jc : m.b + pc * m.b_rs + jc * m.b_cs;
        const int64_t full = in_place && !m.b_cols ? nc / NR : 0;
        if (m.b_cols) pack_b_cols<T>(m.b + pc, m.b_cols + jc, kc, nc, Bp);
        else if (full < np && tab) pack_b_rows<T>(bsrc + full * NR, tab, kc, nc - full * NR, Bp + full * NR * kc);
        else if (full < np)
          pack_b_panels<T>(bsrc + full * NR * m.b_cs, m.b_rs, m.b_cs, kc, nc - full * NR, Bp + full * NR * kc, ver);
        const bool accumulate = pc > 0;
        for (int64_t ir = 0; ir < mp; ++ir) {
          const int64_t rows = min64(kMR, mc - ir * kMR);
          const T* ap = Ap + ir * kMR * kc;
          for (int64_t jr = 0; jr < np; ++jr) {
            const int64_t cols = min64(NR, nc - jr * NR);
            T* c = m.c + (ic + ir * kMR) * m.c_rs + jc + jr * NR;
            const bool direct = jr < full;
            const T* bp = direct ? bsrc + jr * NR : Bp + jr * NR * kc;
            if (direct && tab) tile<T, true>(kc, ap, bp, 0, tab, c, m.c_rs, accumulate, rows, cols);
            else tile<T, false>(kc, ap, bp, direct ? m.b_rs : NR, nullptr, c, m.c_rs, accumulate, rows, cols);
          }
        }
      }
    }
  }
}

// ---- matrix-vector shapes: packing would pad N (or M) = 1 up to a whole panel ----------
template <typename T>
T dot_strided(const T* x, int64_t xs, const T* y, int64_t ys, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::W;
  int64_t i = 0;
  T sum = T(0);
  if (xs == 1 && ys == 1) {
    typename V::R acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
    for (; i + 4 * W <= n; i += 4 * W)
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) acc[u] = V::fma(V::load(x + i + u * W), V::load(y + i + u * W), acc[u]);
    alignas(64) T lanes[W];
    V::store(lanes, V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
    for (int l = 0; l < W; ++l) sum += lanes[l];
  }
  for (; i < n; ++i) sum += x[i * xs] * y[i * ys];
  return sum;
}

// c[i] = A[i, :] . b[:, 0]   (N == 1)
template <typename T>
void gemv_rows(const Mat<T>& m, int64_t M, int64_t K) {
  if (m.a_cs != 1 && m.a_rs == 1) {  // A transposed: add in its columns, each contiguous
    T* __restrict c = m.c;
    for (int64_t i = 0; i < M; ++i) c[i * m.c_rs] = T(0);
    for (int64_t k = 0; k < K; ++k) {
      const T bv = m.b[k * m.b_rs];
      const T* __restrict col = m.a + k * m.a_cs;
      for (int64_t i = 0; i < M; ++i) c[i * m.c_rs] += bv * col[i];
    }
    return;
  }
  for (int64_t i = 0; i < M; ++i) m.c[i * m.c_rs] = dot_strided<T>(m.a + i * m.a_rs, m.a_cs, m.b, m.b_rs, K);
}

// c[0, j] = sum_k a[0, k] * B[k, j]   (M == 1): rows of B are added in, vectorised over j.
template <typename T>
void gemv_cols(const Mat<T>& m, int64_t N, int64_t K) {
  if (m.b_cs != 1) {  // B transposed: one dot product per column, each contiguous
    for (int64_t j = 0; j < N; ++j) m.c[j] = dot_strided<T>(m.a, m.a_cs, m.b + j * m.b_cs, m.b_rs, K);
    return;
  }
  T* __restrict c = m.c;
  for (int64_t j = 0; j < N; ++j) c[j] = T(0);
  for (int64_t k = 0; k < K; ++k) {
    const T av = m.a[k * m.a_cs];
    const T* __restrict brow = m.b + k * m.b_rs;
    for (int64_t j = 0; j < N; ++j) c[j] += av * brow[j];
  }
}

template <typename T>
void run_one(const Mat<T>& m, int64_t M, int64_t N, int64_t K, T* Ap, T* Bp, int ver) {
  const bool table = m.b_rows || m.b_cols;
  if (N == 1 && !table) gemv_rows<T>(m, M, K);
  else if (M == 1 && !table) gemv_cols<T>(m, N, K);
  else gemm_one<T>(m, M, N, K, Ap, Bp, ver);
}

template <typename T>
Mat<T> matrix(const GemmArgs& g, int64_t i) {
  return Mat<T>{static_cast<const T*>(g.a) + i * g.a_batch, g.a_rs, g.a_cs,
                static_cast<const T*>(g.b) + i * g.b_batch, g.b_rs, g.b_cs,
                static_cast<T*>(g.c) + i * g.c_batch, g.c_rs, g.b_rows, g.b_cols};
}

// Note [GEMM threading]: C is cut into kChunksPerThread rectangles per thread, and each
// chunk is computed from start to end, packing its own panels, with no barrier in
// between. Sharing one packed B block would save some packing but costs two barriers per
// KC slice, and on a busy machine a thread that loses its core stalls every other thread
// at each barrier. The chunks run on src/tensor/parallel.cpp's threads, not OpenMP's: the caller
// starts at once and takes every chunk no helper has claimed, so when the machine's
// other processes keep a helper off the cores, the call costs what one thread costs.
inline void split(int64_t n, int parts, int idx, int64_t& lo, int64_t& hi) {
  const int64_t q = n / parts, r = n % parts;
  lo = idx * q + (idx < r ? idx : r);
  hi = lo + q + (idx < r ? 1 : 0);
}

// nt = tm * tn threads over mp x np tiles of MR x NR: balance the tiles, then prefer the
// split that repacks less (a row split makes every thread pack all of B, and vice versa).
template <typename T>
void thread_grid(int nt, int64_t mp, int64_t np, int& tm, int& tn) {
  constexpr int64_t NR = kNRV * Vec<T>::W;
  double best = -1;
  for (int d = 1; d <= nt; ++d) {
    if (nt % d) continue;
    const int64_t rows = ceil_div(mp, d), cols = ceil_div(np, nt / d);
    const double cost = double(rows * cols) * kMR * NR + 16.0 * double(rows * kMR + cols * NR);
    if (best < 0 || cost < best) {
      best = cost;
      tm = d;
      tn = nt / d;
    }
  }
}

// Chunks per thread. Two would bound the wait for a helper that starts late to a
// quarter of the work, but when no helper gets a core the caller then packs four
// rectangles instead of two: 10% slower than one thread at 64x784x256 under load 20,
// against 2-5% with one chunk per thread.
constexpr int kChunksPerThread = 1;

template <typename T>
struct Job {
  const GemmArgs& g;
  int64_t M, N, K;
  int ver;
  T* buf;
  size_t slot_elems, a_elems;
  bool per_matrix = false;
  int64_t mp = 0, np = 0, chunks = 0;
  int tm = 1, tn = 1;
};

template <typename T>
void run_chunk(void* ctx, int64_t chunk, int slot) {
  const Job<T>& j = *static_cast<const Job<T>*>(ctx);
  constexpr int64_t NR = kNRV * Vec<T>::W;
  T* Ap = j.buf + size_t(slot) * j.slot_elems;
  T* Bp = Ap + j.a_elems;
  if (j.per_matrix) {
    int64_t i0, i1;
    split(j.g.batch, int(j.chunks), int(chunk), i0, i1);
    for (int64_t i = i0; i < i1; ++i) run_one<T>(matrix<T>(j.g, i), j.M, j.N, j.K, Ap, Bp, j.ver);
    return;
  }
  int64_t ir0, ir1, jr0, jr1;
  split(j.mp, j.tm, int(chunk) / j.tn, ir0, ir1);
  split(j.np, j.tn, int(chunk) % j.tn, jr0, jr1);
  const int64_t r0 = ir0 * kMR, r1 = min64(j.M, ir1 * kMR), c0 = jr0 * NR, c1 = min64(j.N, jr1 * NR);
  if (r0 >= r1 || c0 >= c1) return;
  for (int64_t i = 0; i < j.g.batch; ++i) {
    Mat<T> m = matrix<T>(j.g, i);
    m.a += r0 * m.a_rs;
    if (m.b_cols) m.b_cols += c0;
    else m.b += c0 * m.b_cs;
    m.c += r0 * m.c_rs + c0;
    run_one<T>(m, r1 - r0, c1 - c0, j.K, Ap, Bp, j.ver);
  }
}

template <typename T>
bool gemm(const GemmArgs& g) {
  using Bk = Blocking<T>;
  constexpr int64_t NR = kNRV * Vec<T>::W;
  const int64_t M = g.M, N = g.N, K = g.K;
  const int ver = g.kernel < 1 || g.kernel > kLatest ? kLatest : g.kernel;
  if (g.batch <= 0 || M <= 0 || N <= 0) return true;
  if (K <= 0) {
    for (int64_t i = 0; i < g.batch; ++i)
      for (int64_t r = 0; r < M; ++r)
        for (int64_t j = 0; j < N; ++j) static_cast<T*>(g.c)[i * g.c_batch + r * g.c_rs + j] = T(0);
    return true;
  }
  // Roughly 2^20 multiply-adds (4 us) per thread before another thread pays for waking it.
  constexpr double kPerThread = 1048576.0;
  const double work = double(M) * double(N) * double(K);
  const double total = work * double(g.batch);
  int nt = g.threads < 1 ? 1 : g.threads;
  if (total < kPerThread * nt) nt = total < kPerThread ? 1 : int(total / kPerThread);
  // Per-thread slices rounded to whole cache lines.
  constexpr int64_t kLine = 64 / int64_t(sizeof(T));
  const size_t a_elems = size_t(ceil_div(ceil_div(min64(M, Bk::MCO), kMR) * kMR * min64(K, Bk::KC), kLine) * kLine);
  const size_t b_elems = size_t(ceil_div(ceil_div(min64(N, Bk::NC), NR) * NR * min64(K, Bk::KC), kLine) * kLine);
  T* buf = static_cast<T*>(tl_pack.get(size_t(nt) * (a_elems + b_elems) * sizeof(T)));
  if (!buf) return false;
  if (nt == 1) {
    for (int64_t i = 0; i < g.batch; ++i) run_one<T>(matrix<T>(g, i), M, N, K, buf, buf + a_elems, ver);
    return true;
  }
  // Many small matrices: ranges of whole matrices per chunk. Otherwise each matrix is
  // cut into a grid of rectangles, one per chunk (Note [GEMM threading]).
  Job<T> job{g, M, N, K, ver, buf, a_elems + b_elems, a_elems};
  job.per_matrix = g.batch >= nt && work < kPerThread * 4;
  job.mp = ceil_div(M, kMR);
  job.np = ceil_div(N, NR);
  const int64_t chunks = job.per_matrix ? min64(g.batch, int64_t(kChunksPerThread) * nt) : kChunksPerThread * nt;
  if (!job.per_matrix) thread_grid<T>(int(chunks), job.mp, job.np, job.tm, job.tn);
  job.chunks = chunks;
  run_chunks(nt, chunks, &run_chunk<T>, &job);
  return true;
}

}  // namespace

bool gemm_f32(const GemmArgs& args) { return gemm<float>(args); }
bool gemm_f64(const GemmArgs& args) { return gemm<double>(args); }

}  // namespace norch::cpu::NORCH_ISA
