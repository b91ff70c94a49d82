// bfloat16 GEMM with AVX-512 BF16's vdpbf16ps, which multiplies pairs of bfloat16
// values and accumulates each pair's sum into float32 lanes: products along K are taken
// two at a time, so B is packed as (k, k+1) pairs per column, and A is read as 32-bit
// (k, k+1) pairs that one broadcast spreads over the lanes. vdpbf16ps treats subnormal
// inputs and results as zero, so products below 2^-126 vanish where PyTorch's bfloat16
// matmul may keep them; every other result is float32 sums rounded once, with
// norch::BFloat16's rounding (nearest even, NaN -> 0x7fc0).
//
// v2 and v3 (this file): a row-major A with even K is read in place, its rows already
// being the pairs a broadcast needs (otherwise each thread packs its rows once, with
// 16 x 16 dword transposes); B is packed per block (KC x NC, kept in L2) into 32-column
// panels with word permutes (row-major B) or dword transposes (a transposed weight). A
// 12 x 32 tile keeps 24 accumulators in registers over all of K up to 1024 (longer K in
// slices through a float buffer) and rounds them straight into the bfloat16 output:
// no float C, no second pass. Rows outer, panels inner, so a tile's
// 12 A rows stay in L1 while the block's B panels stream from L2; the next tile's A is
// prefetched into L2. Threads take rectangles of C on the pool (Note [GEMM threading]
// in gemm_isa.cpp), each packing its own B; every output's sum runs over the same
// pairs in the same order whatever the thread count, so results are bit-identical
// across thread counts and across v1/v2/v3 (slicing K only stores and reloads exact
// float partial sums; it does not change the order).
// v3 is v2's code with other settings (Tune2): K slices of 512 pairs, not 256, beside a
// 768 KiB B block; software prefetch while packing B; output rounding by
// vcvtne2ps2bf16 (round32) rather than integer arithmetic.
//
// Versions (GemmArgs::kernel, norch._C._set_gemm_bf16_kernel; test_half_gemm.py tests
// each against the reference loop and against each other). GFLOP/s on one core of an
// AMD EPYC (Zen 5, AVX-512 BF16, no AMX), process CPU time, median of 7 samples,
// beside PyTorch 2.13's bfloat16 matmul (oneDNN) and norch's float32 GEMM in the same
// run (benchmarks/bench_bf16_gemm.py --threads 1 --cpu-time --versions), load average
// 8.5; the vdpbf16ps peak measured beside them is 500-518 GFLOP/s (FMA: 270-277).
//                     256^3  512^3  1024^3  64x784x256  2048x512x128  x@W^T  dY@W  dY^T@x (*)
//   v1 8x32, packed A    386    430     329         324           376    241   317     340
//   v2 12x32, A direct   478    505     495         450           507    451   428     429
//   v3 v2 + Tune2 (**)   478    497     507         438           504    444   427     452
//   torch bf16           407    477     479         359           486    365   358     380
//   norch float32        242    245     238         235           229    206   228     239
// (*) linear 784 -> 256 at batch 64. The 1024 -> 4096 layer at batch 256 (x@W^T,
// dY@W with K = 4096, dY^T@x with A transposed): v1 243/313/236, v2 461/422/452,
// torch 459/435/454.
// (**) A later run (load average 2.5-2.9), v2/v3/torch in that run: 256^3 470/478/412,
// x@W^T 446/444/365, dY^T@x 427/452/384; the 1024 -> 4096 layer 480/497/470,
// 455/487/460, 472/498/480 (v3/torch 1.04-1.06; the default column, the same kernel
// timed apart, 1.02-1.03, and 1.03 on all three in the run before). On 2 threads, wall
// time, the same three: v3 479/469/494 against torch 457/450/475 with the other core
// busy, and 969/934/539 against 884/880/477 in a run where it came free (x@W^T at 97%
// and dY@W at 92% of the 2-thread peak): they do scale where the second core is idle;
// the "44% of peak" seen before most likely had another process on that core.
// v2 -> v3, by measurement (1 thread, CPU time): the prefetch of B's rows 4 pairs
// ahead while packing (each row's run is only the block's width, too short for the
// hardware prefetcher) made B's packing ~25% faster and dY@W (K = 4096) 3.5%; 512-pair
// slices and the 768 KiB block ~2% more there (fewer partial-sum round trips); the
// column prefetch in the transposed-B packing ~2.5% on x@W^T (4096); round32 ~3-8%
// where K is short (dY^T@x 784x64: 426 -> 467), the rounding epilogue having been
// ~5% of a 128-pair tile's instructions, on the same vector pipes as the products.
// Tried and dropped (no measurable gain): K up to 4096 in one slice (a 64-column B
// block), packing a transposed A K-major, streaming stores of an 8 MiB output.
// v1 -> v2, by measurement: packing was scalar (64x784x256 spent more time packing B
// than multiplying); A's packing is gone for row-major A; C no longer makes a float32
// round trip and a second rounding pass (2048x512x128, K = 128, was output-bound);
// 16 accumulators became 24; the tile was templated on first/last slice with unrolled
// stores (the compiler had spilled all 24 accumulators before storing); row-major B is
// packed pair by pair across the whole block (one panel at a time read one cache line
// per row, 8 KiB apart: 256x4096x4096 went from 367 to 411); long K runs in 256-pair
// slices beside a wider B block (256x4096x1024: 0.93x -> 0.97-1.0x torch); tiles of equal
// height (a 4-row edge tile has 8 accumulators, too few for the latency). Tried: a
// 768 KiB B block (no change) and software prefetch of B, of the next A tile and of the
// partial sums (within noise, kept).
//
// Compiled once per ISA like every file here (Note [SIMD dispatch]); only the avx512
// copy has code, and its dpbf16 functions carry the avx512bf16 target attribute, so
// the build needs no extra flag and the rest of the copy stays plain AVX-512. As in
// gemm_isa.cpp, only this file's code, intrinsics and C library calls are used.
#ifndef NORCH_ISA
#error "gemm_bf16.cpp is compiled only through the per-ISA wrappers that CMake generates"
#endif

#if defined(__AVX512F__)
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/cpu/isa/gemm_bf16.h"

namespace norch::cpu::NORCH_ISA {
namespace {

#define NORCH_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

constexpr int MR2 = 12;       // rows of a tile (24 accumulators with NV2 = 2)
constexpr int NV2 = 2;        // zmm per tile row: NR2 = 32 columns
constexpr int64_t NR2 = 16 * NV2;
// K up to 2 * KC2 runs as one slice, the sums never leaving the registers (12 A rows of
// it, 24 KiB, stay in L1); longer K in slices of about Tune2::slice pairs, whose partial
// sums go through memory, so that the B block can be wider and A is streamed fewer times.
constexpr int64_t KC2 = 512;
constexpr int64_t kPrefetch2 = 16;  // pairs of B fetched ahead of the tile

// What v2 and v3 differ in; the tile, the loops and every sum's order are the same.
struct Tune2 {
  int64_t slice;               // pairs per K slice when K takes more than one
  int64_t block, block_sliced; // bytes of one packed B block (kept in L2, 1 MiB), one / several slices
  int64_t pf_rows;             // row-major B: pack-time prefetch this many pairs ahead (0: none)
  int64_t pf_cols;             // transposed B: this many 32-element column runs ahead (0: none)
  bool hw_round;               // round the output with round32 rather than round16
};
constexpr Tune2 kTuneV2{256, int64_t(512) << 10, int64_t(512) << 10, 0, 0, false};
constexpr Tune2 kTuneV3{512, int64_t(512) << 10, int64_t(768) << 10, 4, 2, true};

struct TileOut {
  float* cf;     // float partial sums when K takes more than one slice
  int64_t cfs;
  uint16_t* co;  // the bfloat16 result
  int64_t cos;
  int cols;
  bool first, last;
};

// norch::BFloat16's rounding (nearest even, NaN -> 0x7fc0) of 16 float lanes.
inline __m256i round16(__m512 v) {
  const __m512i x = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb), 16);
  r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_set1_epi32(0x7fc0));
  return _mm512_cvtepi32_epi16(r);
}

// 32 float lanes (lo: columns 0-15, hi: 16-31) rounded to bfloat16 by vcvtne2ps2bf16:
// nearest even like round16, whose result it equals bit for bit here because
// vdpbf16ps flushes subnormal results, so no sum it rounds is subnormal; only NaN
// differs (the hardware keeps sign and payload), and is set to norch's 0x7fc0.
NORCH_BF16_TARGET inline __m512i round32(__m512 lo, __m512 hi) {
  const __m512i r = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
  const __mmask32 nan =
      _mm512_kunpackw(_mm512_cmp_ps_mask(hi, hi, _CMP_UNORD_Q), _mm512_cmp_ps_mask(lo, lo, _CMP_UNORD_Q));
  return _mm512_mask_mov_epi16(r, nan, _mm512_set1_epi16(0x7fc0));
}

// What a tile does with its sums: store the partial sums (more K slices follow), or
// round into the bfloat16 output with round16 (v2) or round32 (v3: a third of the
// instructions, where round16's were ~5% of a 128-pair tile's, beside the products).
enum Out2 { kPartial = 0, kRound = 1, kRoundHw = 2 };

// R x NR2 tile over np pairs. a: row 0's first pair, rows `ars` bytes apart; b: the
// packed panel, NR2 dwords (column pairs) per pair. First: start from zero, not from the
// partial sums in cf; O: what to do with the sums (Out2).
template <int R, bool First, int O>
NORCH_BF16_TARGET void micro2(const char* a, int64_t ars, const uint32_t* b, int64_t np, const TileOut& t) {
  __mmask16 mk[NV2];
  for (int v = 0; v < NV2; ++v) {
    const int c = t.cols - 16 * v;
    mk[v] = c >= 16 ? __mmask16(0xffff) : c > 0 ? __mmask16((1u << c) - 1u) : __mmask16(0);
  }
  __m512 acc[R][NV2];
  if (First) {
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV2; ++v) acc[r][v] = _mm512_setzero_ps();
  } else {
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV2; ++v) acc[r][v] = _mm512_maskz_loadu_ps(mk[v], t.cf + r * t.cfs + 16 * v);
  }
  for (int64_t p = 0; p < np; ++p) {
    __m512i bv[NV2];
    for (int v = 0; v < NV2; ++v) bv[v] = _mm512_load_si512(b + p * NR2 + 16 * v);
    _mm_prefetch(reinterpret_cast<const char*>(b + (p + kPrefetch2) * NR2), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + (p + kPrefetch2) * NR2 + 16), _MM_HINT_T0);
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(*reinterpret_cast<const int*>(a + r * ars + p * 4));
      for (int v = 0; v < NV2; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], (__m512bh)av, (__m512bh)bv[v]);
    }
  }
  // Unrolled, so that the accumulators are stored from their registers, not spilled first.
  static_assert(NV2 == 2, "round32 takes one row's two vectors");
  if (O == kRoundHw) {
    uint16_t* co = t.co;
    const int64_t cos = t.cos;
    const __mmask32 m32 = _mm512_kunpackw(mk[1], mk[0]);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_epi16(co + r * cos, m32, round32(acc[r][0], acc[r][1]));
  } else if (O == kRound) {
    uint16_t* co = t.co;
    const int64_t cos = t.cos;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV2; ++v) _mm256_mask_storeu_epi16(co + r * cos + 16 * v, mk[v], round16(acc[r][v]));
  } else {
    float* cf = t.cf;
    const int64_t cfs = t.cfs;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV2; ++v) _mm512_mask_storeu_ps(cf + r * cfs + 16 * v, mk[v], acc[r][v]);
  }
}

using Micro2 = void (*)(const char*, int64_t, const uint32_t*, int64_t, const TileOut&);
#define NORCH_MICRO2_ROWS(F, O)                                                                          \
  {nullptr,            micro2<1, F, O>,  micro2<2, F, O>,  micro2<3, F, O>, micro2<4, F, O>,             \
   micro2<5, F, O>,    micro2<6, F, O>,  micro2<7, F, O>,  micro2<8, F, O>, micro2<9, F, O>,             \
   micro2<10, F, O>,   micro2<11, F, O>, micro2<12, F, O>}
// kMicro2[first][Out2][rows]
const Micro2 kMicro2[2][3][MR2 + 1] = {
    {NORCH_MICRO2_ROWS(false, kPartial), NORCH_MICRO2_ROWS(false, kRound), NORCH_MICRO2_ROWS(false, kRoundHw)},
    {NORCH_MICRO2_ROWS(true, kPartial), NORCH_MICRO2_ROWS(true, kRound), NORCH_MICRO2_ROWS(true, kRoundHw)}};
#undef NORCH_MICRO2_ROWS

// In-register transpose of 16 rows of 16 dwords.
inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // r[4q + s] now holds, in each 128-bit lane L, element s of rows 4L'..: lanes mix rows
  // (4q..4q+3) x columns (4L + s); the two lane shuffles gather each column's lanes.
  for (int q = 0; q < 2; ++q)
    for (int s = 0; s < 4; ++s) {
      t[8 * q + s] = _mm512_shuffle_i32x4(r[8 * q + s], r[8 * q + 4 + s], 0x88);
      t[8 * q + 4 + s] = _mm512_shuffle_i32x4(r[8 * q + s], r[8 * q + 4 + s], 0xdd);
    }
  for (int s = 0; s < 8; ++s) {
    r[s] = _mm512_shuffle_i32x4(t[s], t[8 + s], 0x88);
    r[8 + s] = _mm512_shuffle_i32x4(t[s], t[8 + s], 0xdd);
  }
}

// Packs pairs [p0, p0 + np) of B's columns [j0, j0 + ncols) as one NR2-wide panel:
// dst[p * NR2 + j] = B[2(p0+p)][j0+j] | B[2(p0+p)+1][j0+j] << 16, zero past K and past
// ncols. Row-major B interleaves two rows with one word permute; column-major B (a
// transposed weight) already holds each column's pairs as dwords, and 16 x 16 blocks of
// them are transposed in registers.
void pack_b2(const uint16_t* b, int64_t rs, int64_t cs, int64_t K, int64_t p0, int64_t np, int64_t j0, int64_t ncols,
             uint32_t* dst, int64_t pf_cols) {
  if (cs == 1) {
    alignas(64) static const uint16_t lo_idx[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                                   8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
    alignas(64) static const uint16_t hi_idx[32] = {16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
                                                   24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63};
    const __m512i il = _mm512_load_si512(lo_idx), ih = _mm512_load_si512(hi_idx);
    const __mmask32 cm = ncols >= 32 ? ~__mmask32(0) : (__mmask32(1) << ncols) - 1u;
    for (int64_t p = 0; p < np; ++p) {
      const int64_t k = 2 * (p0 + p);
      const __m512i r0 = _mm512_maskz_loadu_epi16(cm, b + k * rs + j0);
      const __m512i r1 = k + 1 < K ? _mm512_maskz_loadu_epi16(cm, b + (k + 1) * rs + j0) : _mm512_setzero_si512();
      _mm512_store_si512(dst + p * NR2, _mm512_permutex2var_epi16(r0, il, r1));
      _mm512_store_si512(dst + p * NR2 + 16, _mm512_permutex2var_epi16(r0, ih, r1));
    }
    return;
  }
  if (rs == 1) {
    for (int64_t jj = 0; jj < NR2; jj += 16) {
      for (int64_t pp = 0; pp < np; pp += 16) {
        const int64_t k0 = 2 * (p0 + pp), kn = K - k0 < 32 ? K - k0 : 32;
        const __mmask32 km = kn >= 32 ? ~__mmask32(0) : (__mmask32(1) << kn) - 1u;
        __m512i r[16];
        // Sixteen columns read side by side, K * 2 bytes apart, 64 bytes each: too short a run
        // per column for the hardware prefetcher, so the next ones are asked for here.
        if (pf_cols && k0 + 32 * pf_cols < K)
          for (int64_t j = 0; j < 16 && jj + j < ncols; ++j)
            _mm_prefetch(reinterpret_cast<const char*>(b + (j0 + jj + j) * cs + k0 + 32 * pf_cols), _MM_HINT_T0);
        for (int64_t j = 0; j < 16; ++j)
          r[j] = jj + j < ncols ? _mm512_maskz_loadu_epi16(km, b + (j0 + jj + j) * cs + k0) : _mm512_setzero_si512();
        transpose16(r);
        const int64_t n = np - pp < 16 ? np - pp : 16;
        for (int64_t q = 0; q < n; ++q) _mm512_store_si512(dst + (pp + q) * NR2 + jj, r[q]);
      }
    }
    return;
  }
  for (int64_t p = 0; p < np; ++p) {
    const int64_t k = 2 * (p0 + p);
    for (int64_t j = 0; j < NR2; ++j) {
      uint32_t v = 0;
      if (j < ncols) {
        v = b[k * rs + (j0 + j) * cs];
        if (k + 1 < K) v |= static_cast<uint32_t>(b[(k + 1) * rs + (j0 + j) * cs]) << 16;
      }
      dst[p * NR2 + j] = v;
    }
  }
}

// Packs rows [i0, i0 + rows) of A, all K, as rows of pairs PSA dwords apart:
// dst[i * PSA + p] = A[i0+i][2p] | A[i0+i][2p+1] << 16, zero past K. Used where A's
// rows are not pairs in memory already (a transposed A, odd K, other strides).
void pack_a2(const uint16_t* a, int64_t rs, int64_t cs, int64_t K, int64_t i0, int64_t rows, int64_t PSA,
             uint32_t* dst) {
  const int64_t P = (K + 1) / 2;
  if (cs == 1) {  // odd K: the rows are copied with the last pair's high half zeroed
    for (int64_t i = 0; i < rows; ++i) {
      const uint16_t* src = a + (i0 + i) * rs;
      for (int64_t k = 0; k < K; k += 32) {
        const int64_t kn = K - k < 32 ? K - k : 32;
        const __mmask32 km = kn >= 32 ? ~__mmask32(0) : (__mmask32(1) << kn) - 1u;
        _mm512_mask_storeu_epi16(reinterpret_cast<uint16_t*>(dst + i * PSA) + k, __mmask32(0xffffffffu) >> (32 - ((kn + 1) & ~int64_t(1))),
                                 _mm512_maskz_loadu_epi16(km, src + k));
      }
    }
    return;
  }
  if (rs == 1) {  // A transposed: 16 rows of one k are contiguous
    for (int64_t ii = 0; ii < rows; ii += 16) {
      const int64_t ni = rows - ii < 16 ? rows - ii : 16;
      const __mmask16 im = ni >= 16 ? __mmask16(0xffff) : __mmask16((1u << ni) - 1u);
      for (int64_t pp = 0; pp < P; pp += 16) {
        __m512i r[16];
        for (int64_t q = 0; q < 16; ++q) {
          const int64_t k = 2 * (pp + q);
          __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
          if (k < K) lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(im, a + k * cs + i0 + ii));
          if (k + 1 < K) hi = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(im, a + (k + 1) * cs + i0 + ii));
          r[q] = _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
        }
        transpose16(r);
        const int64_t n = P - pp < 16 ? P - pp : 16;
        const __mmask16 pm = n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u);
        for (int64_t i = 0; i < ni; ++i) _mm512_mask_storeu_epi32(dst + (ii + i) * PSA + pp, pm, r[i]);
      }
    }
    return;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t p = 0; p < P; ++p) {
      const uint16_t* row = a + (i0 + i) * rs;
      uint32_t v = row[2 * p * cs];
      if (2 * p + 1 < K) v |= static_cast<uint32_t>(row[(2 * p + 1) * cs]) << 16;
      dst[i * PSA + p] = v;
    }
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline void split(int64_t n, int parts, int idx, int64_t& lo, int64_t& hi) {
  const int64_t q = n / parts, r = n % parts;
  lo = idx * q + (idx < r ? idx : r);
  hi = lo + q + (idx < r ? 1 : 0);
}

struct Job2 {
  const GemmArgs& g;
  const Tune2& tune;
  int64_t M, N, K, P;
  bool direct_a;  // A's rows are (k, k+1) pairs in memory: read in place
  int64_t kc, nc; // pairs per slice, columns per B block
  int64_t psa;    // dwords between packed A rows
  float* cf;      // M x N float partial sums per matrix, when K takes several slices
  int tm = 1, tn = 1;
  int64_t grid = 1;  // tm * tn chunks per matrix
  uint32_t* buf = nullptr;
  size_t slot_dwords = 0, a_dwords = 0;
};

void run_chunk2(void* ctx, int64_t chunk, int slot) {
  const Job2& j = *static_cast<const Job2*>(ctx);
  const GemmArgs& g = j.g;
  const int64_t bi = chunk / j.grid, c = chunk % j.grid;
  int64_t t0, t1, q0, q1;
  split(ceil_div(j.M, MR2), j.tm, int(c / j.tn), t0, t1);
  split(ceil_div(j.N, NR2), j.tn, int(c % j.tn), q0, q1);
  const int64_t i0 = t0 * MR2, i1 = min64(j.M, t1 * MR2), c0 = q0 * NR2, c1 = min64(j.N, q1 * NR2);
  if (i0 >= i1 || c0 >= c1) return;
  const uint16_t* a = static_cast<const uint16_t*>(g.a) + bi * g.a_batch;
  const uint16_t* b = static_cast<const uint16_t*>(g.b) + bi * g.b_batch;
  uint16_t* out = static_cast<uint16_t*>(g.c) + bi * g.c_batch;
  float* cf = j.cf ? j.cf + bi * j.M * j.N : nullptr;
  uint32_t* apack = j.buf + size_t(slot) * j.slot_dwords;
  uint32_t* bpack = apack + j.a_dwords;
  const char* abase;
  int64_t ars;
  if (j.direct_a) {
    abase = reinterpret_cast<const char*>(a + i0 * g.a_rs);
    ars = g.a_rs * 2;
  } else {
    pack_a2(a, g.a_rs, g.a_cs, j.K, i0, i1 - i0, j.psa, apack);
    abase = reinterpret_cast<const char*>(apack);
    ars = j.psa * 4;
  }
  for (int64_t jc = c0; jc < c1; jc += j.nc) {
    const int64_t ncb = min64(j.nc, c1 - jc), panels = ceil_div(ncb, NR2);
    for (int64_t pc = 0; pc < j.P; pc += j.kc) {
      const int64_t np = min64(j.kc, j.P - pc);
      // Panels a few lines past np * NR2 dwords apart, so that a power-of-two K does not
      // map every panel onto the same cache sets.
      const int64_t pstride = np * NR2 + 16;
      if (g.b_cs == 1) {
        // Row-major B: pair by pair across the whole block, so each row is read in one
        // sequential run rather than one cache line per row per panel.
        // Each row's run is only the block's width (1 KiB at 512 columns) before the next
        // row: the rows a few pairs ahead are fetched here, the hardware prefetcher
        // having no time to find them (dY @ W, K = 4096: B's packing 25% faster).
        const int64_t pf = j.tune.pf_rows;
        for (int64_t p = 0; p < np; p += 4) {
          if (pf)
            for (int64_t k = 2 * (pc + p + pf), ke = min64(k + 8, j.K); k < ke; ++k)
              for (int64_t c = 0; c < ncb; c += 32)
                _mm_prefetch(reinterpret_cast<const char*>(b + k * g.b_rs + jc + c), _MM_HINT_T0);
          for (int64_t q = 0; q < panels; ++q)
            pack_b2(b, g.b_rs, 1, j.K, pc + p, min64(4, np - p), jc + q * NR2, min64(NR2, ncb - q * NR2),
                    bpack + q * pstride + p * NR2, 0);
        }
      } else {
        for (int64_t q = 0; q < panels; ++q)
          pack_b2(b, g.b_rs, g.b_cs, j.K, pc, np, jc + q * NR2, min64(NR2, ncb - q * NR2), bpack + q * pstride,
                  j.tune.pf_cols);
      }
      TileOut t{};
      t.first = pc == 0;
      t.last = pc + np >= j.P;
      t.cfs = j.N;
      t.cos = g.c_rs;
      // Tiles of equal height (11 and 12 rows rather than twelve 12s and a 4): a short
      // tile has too few accumulators to cover vdpbf16ps's latency.
      const int64_t ntiles = ceil_div(i1 - i0, MR2), base = (i1 - i0) / ntiles, extra = (i1 - i0) % ntiles;
      for (int64_t ti = 0, i = i0; ti < ntiles; ++ti) {
        const int rows = int(base + (ti < extra ? 1 : 0));
        const Micro2 fn = kMicro2[t.first][!t.last ? kPartial : j.tune.hw_round ? kRoundHw : kRound][rows];
        const char* ap = abase + (i - i0) * ars + pc * 4;
        // The next row tile's A slice into L2 while this one runs over the block's panels:
        // read in place it comes from L3 or memory, twelve rows at once.
        const int64_t next_rows = ti + 1 < ntiles ? base + (ti + 1 < extra ? 1 : 0) : 0;
        for (int64_t r = 0; r < next_rows; ++r)
          for (int64_t off = 0; off < np * 4; off += 64) _mm_prefetch(ap + (rows + r) * ars + off, _MM_HINT_T1);
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t col = jc + q * NR2;
          t.cols = int(min64(NR2, ncb - q * NR2));
          t.co = out + i * g.c_rs + col;
          t.cf = cf ? cf + i * j.N + col : nullptr;
          // The partial sums the next tile starts from, out of L3 while this one runs.
          if (!t.first && q + 1 < panels)
            for (int r = 0; r < rows; ++r) {
              _mm_prefetch(reinterpret_cast<const char*>(t.cf + r * j.N + NR2), _MM_HINT_T0);
              _mm_prefetch(reinterpret_cast<const char*>(t.cf + r * j.N + NR2 + 16), _MM_HINT_T0);
            }
          fn(ap, ars, bpack + q * pstride, np, t);
        }
        i += rows;
      }
    }
  }
}

bool gemm_v2(const GemmArgs& g, const Tune2& tune) {
  const int64_t M = g.M, N = g.N, K = g.K, P = (K + 1) / 2;
  static_assert(NR2 == 32, "pack_b2 fills one 32-column panel per call");
  Job2 j{g, tune, M, N, K, P, false, 0, 0, 0, nullptr};
  j.direct_a = g.a_cs == 1 && K % 2 == 0;
  const int64_t nslices = P <= KC2 ? 1 : ceil_div(P, tune.slice);
  j.kc = ceil_div(P, nslices);  // equal slices
  j.nc = ((nslices > 1 ? tune.block_sliced : tune.block) / (j.kc * 4)) / NR2 * NR2;
  if (j.nc < NR2) j.nc = NR2;
  j.psa = ceil_div(P, 16) * 16 + 8;
  // Threads: ~2^20 multiply-adds (a few microseconds) each before another one is woken.
  const double work = double(M) * double(N) * double(K) * double(g.batch);
  int nt = g.threads < 1 ? 1 : g.threads;
  if (work < 1048576.0 * nt) nt = work < 1048576.0 ? 1 : int(work / 1048576.0);
  const int64_t mt = ceil_div(M, MR2), qn = ceil_div(N, NR2);
  if (g.batch >= nt) {
    j.tm = j.tn = 1;
  } else {
    // nt = tm * tn rectangles: balance the tiles, then prefer the split that packs less
    // (every row rectangle packs all of its columns' B; every column one, with A packed,
    // all of its rows' A).
    double best = -1;
    for (int d = 1; d <= nt; ++d) {
      if (nt % d) continue;
      const double rows = double(ceil_div(mt, d) * MR2), cols = double(ceil_div(qn, nt / d) * NR2);
      const double cost = rows * cols / 32.0 + cols + (j.direct_a ? 0.0 : rows);
      if (best < 0 || cost < best) {
        best = cost;
        j.tm = d;
        j.tn = nt / d;
      }
    }
  }
  j.grid = int64_t(j.tm) * j.tn;
  const int64_t chunks = g.batch * j.grid;
  if (nt > chunks) nt = int(chunks);
  j.a_dwords = j.direct_a ? 0 : size_t((min64(M, ceil_div(mt, j.tm) * MR2) * j.psa + 15) / 16 * 16);
  const int64_t blk_cols = min64(j.nc, ceil_div(qn, j.tn) * NR2);
  j.slot_dwords = j.a_dwords + size_t(ceil_div(blk_cols, NR2) * (j.kc * NR2 + 16));
  static thread_local Bf16Scratch pack_scratch, sum_scratch;
  bool pack_owned = false, sum_owned = false;
  j.buf = static_cast<uint32_t*>(bf16_scratch(pack_scratch, size_t(nt) * j.slot_dwords * 4, &pack_owned));
  if (nslices > 1) j.cf = static_cast<float*>(bf16_scratch(sum_scratch, size_t(g.batch * M * N) * 4, &sum_owned));
  const bool ok = j.buf && (nslices == 1 || j.cf);
  if (ok) {
    if (nt == 1) {
      for (int64_t c = 0; c < chunks; ++c) run_chunk2(&j, c, 0);
    } else {
      run_chunks(nt, chunks, &run_chunk2, &j);
    }
  }
  if (pack_owned) free(j.buf);
  if (sum_owned) free(j.cf);
  return ok;
}

}  // namespace

constexpr size_t kKeepBytes = size_t(8) << 20;

Bf16Scratch::~Bf16Scratch() { free(p); }

void* bf16_scratch(Bf16Scratch& s, size_t bytes, bool* owned) {
  bytes = (bytes + 63) / 64 * 64;
  *owned = bytes > kKeepBytes;
  if (*owned) return aligned_alloc(64, bytes);
  if (s.bytes < bytes) {
    free(s.p);
    s.p = aligned_alloc(64, bytes);
    s.bytes = s.p ? bytes : 0;
  }
  return s.p;
}

bool gemm_bf16(const GemmArgs& g) {
  if (g.batch <= 0 || g.M <= 0 || g.N <= 0) return true;
  if (g.K <= 0) {
    for (int64_t bi = 0; bi < g.batch; ++bi)
      for (int64_t i = 0; i < g.M; ++i)
        for (int64_t j = 0; j < g.N; ++j) static_cast<uint16_t*>(g.c)[bi * g.c_batch + i * g.c_rs + j] = 0;
    return true;
  }
  switch (g.kernel < 1 || g.kernel > kGemmBf16KernelLatest ? kGemmBf16KernelLatest : g.kernel) {
    case 1: return gemm_bf16_v1(g);
    case 2: return gemm_v2(g, kTuneV2);
    default: return gemm_v2(g, kTuneV3);
  }
}

}  // namespace norch::cpu::NORCH_ISA
#endif  // __AVX512F__
