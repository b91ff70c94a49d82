// bfloat16 GEMM kernel v1 (gemm_bf16.cpp's header lists the versions), kept beside v2
// as the version it is tested and measured against. vdpbf16ps multiplies pairs of
// bfloat16 values and accumulates each pair's sum into float32 lanes, so B is packed
// as (k, k+1) pairs per column and each row of A as 32-bit (k, k+1) pairs that one
// broadcast spreads over the lanes.
//
// Blocking: B is packed into NR-wide panels of K/2 pairs, A into MR-tall panels;
// each MR x NR tile accumulates in 16 zmm registers over one slice of KC pairs (the
// first slice starts from zero, later ones from the partial sums stored in C). Per
// slice, threads (OpenMP) take (block of MCP A panels, B panel) pairs, block outer, so
// a thread's A block stays in L2 across B panels and each B slice stays in L1 while
// the block's A panels run past it. K and the edges are zero-padded in the packs;
// edge tiles store through masks. C is float32 in a kept buffer, rounded to bfloat16
// in a second pass (round_to_bf16, norch::BFloat16's rounding).
//
// Compiled once per ISA like every file here (Note [SIMD dispatch]); only the avx512
// copy has code, and its dpbf16 functions carry the avx512bf16 target attribute. Only
// this file's code, intrinsics and C library calls are used (as in gemm_isa.cpp).
#ifndef NORCH_ISA
#error "gemm_bf16_v1.cpp is compiled only through the per-ISA wrappers that CMake generates"
#endif

#if defined(__AVX512F__)
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/cpu/isa/gemm_bf16.h"

namespace norch::cpu::NORCH_ISA {
namespace {

constexpr int64_t MR = 8;    // rows of a tile
constexpr int64_t NR = 32;   // columns of a tile: two zmm of 16 float lanes
constexpr int64_t KC = 128;  // pairs of K per pass: a 16 KiB B micro-panel slice, kept in L1
constexpr int64_t MCP = 32;  // A panels per block (256 rows x KC pairs: 128 KiB, kept in L2)

#define NORCH_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// dst[(p * NR + j) * 2 + t] = B[2p + t][j0 + j], zero past K and past the last column.
void pack_b_panel(const uint16_t* b, int64_t rs, int64_t cs, int64_t K, int64_t j0, int64_t ncols, uint16_t* dst) {
  const int64_t P = (K + 1) / 2;
  for (int64_t p = 0; p < P; ++p) {
    uint16_t* d = dst + p * NR * 2;
    for (int64_t j = 0; j < NR; ++j) {
      const bool col = j < ncols;
      const int64_t k = 2 * p;
      d[2 * j] = col ? b[k * rs + (j0 + j) * cs] : 0;
      d[2 * j + 1] = (col && k + 1 < K) ? b[(k + 1) * rs + (j0 + j) * cs] : 0;
    }
  }
}

// dst[p * MR + r] = A[i0 + r][2p] | A[i0 + r][2p + 1] << 16, zero past K and past the last row.
void pack_a_panel(const uint16_t* a, int64_t rs, int64_t cs, int64_t K, int64_t i0, int64_t nrows, uint32_t* dst) {
  const int64_t P = (K + 1) / 2;
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t r = 0; r < MR; ++r) {
      uint32_t v = 0;
      if (r < nrows) {
        const uint16_t* row = a + (i0 + r) * rs;
        v = row[2 * p * cs];
        if (2 * p + 1 < K) v |= static_cast<uint32_t>(row[(2 * p + 1) * cs]) << 16;
      }
      dst[p * MR + r] = v;
    }
  }
}

// One MR x NR tile over `np` pairs; `accumulate` adds to what C holds.
NORCH_BF16_TARGET void tile(const uint32_t* ap, const uint16_t* bp, int64_t np, float* c, int64_t ldc, int64_t rows,
                            int64_t cols, bool accumulate) {
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1u);
  const __mmask16 m1 = cols >= 32 ? __mmask16(0xffff) : (cols > 16 ? __mmask16((1u << (cols - 16)) - 1u) : __mmask16(0));
  __m512 acc[MR][2];
  for (int64_t r = 0; r < MR; ++r) {
    if (accumulate && r < rows) {
      acc[r][0] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
      acc[r][1] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
    } else {
      acc[r][0] = _mm512_setzero_ps();
      acc[r][1] = _mm512_setzero_ps();
    }
  }
  for (int64_t p = 0; p < np; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + p * NR * 2);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + p * NR * 2 + 32);
    const uint32_t* a = ap + p * MR;
    for (int64_t r = 0; r < MR; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[r]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
  }
}

// The rounding of norch::BFloat16(float), 16 lanes at a time.
void round_to_bf16(const float* src, uint16_t* dst, int64_t n, int threads) {
  const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1), qnan = _mm512_set1_epi32(0x7fc0);
#pragma omp parallel for schedule(static) num_threads(n > 65536 ? threads : 1)
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, src + i);
    const __m512i x = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), one);
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, bias), lsb), 16);
    r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), qnan);
    _mm256_mask_storeu_epi16(dst + i, m, _mm512_cvtepi32_epi16(r));
  }
}

// C (float32, row-major, c_rs apart) = A @ B.
bool gemm_v1_f32(const GemmArgs& g) {
  const int64_t M = g.M, N = g.N, K = g.K;
  if (M <= 0 || N <= 0) return true;
  const int64_t P = (K + 1) / 2;
  // Panels are PS pairs apart: a few pairs past P, so that panels of a power-of-two K
  // do not all map to the same cache sets.
  const int64_t PS = P + 3;
  const int64_t mp = (M + MR - 1) / MR, npn = (N + NR - 1) / NR;
  const size_t a_elems = static_cast<size_t>(mp * MR * PS);
  const size_t b_elems = static_cast<size_t>(npn * NR * 2 * PS);
  static thread_local Bf16Scratch a_scratch, b_scratch;
  bool a_owned = false, b_owned = false;
  uint32_t* apack = static_cast<uint32_t*>(bf16_scratch(a_scratch, a_elems * 4, &a_owned));
  uint16_t* bpack = static_cast<uint16_t*>(bf16_scratch(b_scratch, b_elems * 2, &b_owned));
  if (!apack || !bpack) {
    if (a_owned) free(apack);
    if (b_owned) free(bpack);
    return false;
  }
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const int threads = flops > 2e5 ? (g.threads > 0 ? g.threads : 1) : 1;
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const uint16_t* a = static_cast<const uint16_t*>(g.a) + bi * g.a_batch;
    const uint16_t* b = static_cast<const uint16_t*>(g.b) + bi * g.b_batch;
    float* c = static_cast<float*>(g.c) + bi * g.c_batch;
    if (K == 0) {
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) c[i * g.c_rs + j] = 0.0f;
      continue;
    }
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
      for (int64_t jp = 0; jp < npn; ++jp)
        pack_b_panel(b, g.b_rs, g.b_cs, K, jp * NR, N - jp * NR < NR ? N - jp * NR : NR, bpack + jp * NR * 2 * PS);
#pragma omp for schedule(static)
      for (int64_t ip = 0; ip < mp; ++ip)
        pack_a_panel(a, g.a_rs, g.a_cs, K, ip * MR, M - ip * MR < MR ? M - ip * MR : MR, apack + ip * MR * PS);
      const int64_t nblocks = (mp + MCP - 1) / MCP;
      for (int64_t p0 = 0; p0 < P; p0 += KC) {
        const int64_t np = P - p0 < KC ? P - p0 : KC;
#pragma omp for collapse(2) schedule(static)
        for (int64_t blk = 0; blk < nblocks; ++blk) {
          for (int64_t jp = 0; jp < npn; ++jp) {
            const int64_t cols = N - jp * NR < NR ? N - jp * NR : NR;
            const int64_t ip_end = (blk + 1) * MCP < mp ? (blk + 1) * MCP : mp;
            for (int64_t ip = blk * MCP; ip < ip_end; ++ip) {
              const int64_t rows = M - ip * MR < MR ? M - ip * MR : MR;
              tile(apack + ip * MR * PS + p0 * MR, bpack + jp * NR * 2 * PS + p0 * NR * 2, np,
                   c + ip * MR * g.c_rs + jp * NR, g.c_rs, rows, cols, p0 > 0);
            }
          }
        }
      }
    }
  }
  if (a_owned) free(apack);
  if (b_owned) free(bpack);
  return true;
}


}  // namespace

// v1 writes float32 sums and rounds them in a second pass, through a kept buffer.
bool gemm_bf16_v1(const GemmArgs& g) {
  const size_t count = size_t(g.batch * g.M * g.N);
  static thread_local Bf16Scratch sums;
  bool owned = false;
  float* c = static_cast<float*>(bf16_scratch(sums, count * 4, &owned));
  if (!c) return false;
  GemmArgs f = g;
  f.c = c;
  f.c_rs = g.N;
  f.c_batch = g.M * g.N;
  const bool ok = gemm_v1_f32(f);
  uint16_t* out = static_cast<uint16_t*>(g.c);
  if (ok && g.c_rs == g.N && g.c_batch == g.M * g.N)
    round_to_bf16(c, out, int64_t(count), g.threads);
  else if (ok)
    for (int64_t bi = 0; bi < g.batch; ++bi)
      for (int64_t i = 0; i < g.M; ++i) round_to_bf16(c + (bi * g.M + i) * g.N, out + bi * g.c_batch + i * g.c_rs, g.N, 1);
  if (owned) free(c);
  return ok;
}

}  // namespace norch::cpu::NORCH_ISA
#endif  // __AVX512F__
