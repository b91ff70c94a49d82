// Picks, once per process, which per-ISA copy of the fast kernels runs (Note [SIMD dispatch]
// in CMakeLists.txt): the best the CPU supports, lowered by NORCH_SIMD=avx2|baseline for tests.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/isa/gemm.h"
#include "kernels/cpu/isa/gemm_bf16.h"
#include "norch/debug.h"

namespace norch::cpu {
namespace {

enum class Level { Baseline = 0, Avx2 = 1, Avx512 = 2 };
constexpr const char* kNames[] = {"baseline", "avx2", "avx512"};

Level cpu_level() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  // The avx512 copy is compiled with F, BW, DQ and VL; the avx2 copy with AVX2, FMA and F16C.
  if (__builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512bw") != 0 &&
      __builtin_cpu_supports("avx512dq") != 0 && __builtin_cpu_supports("avx512vl") != 0 &&
      __builtin_cpu_supports("fma") != 0)
    return Level::Avx512;
  if (__builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0) return Level::Avx2;
#endif
  return Level::Baseline;
}

Level choose_level() {
  Level best = cpu_level();
  const char* env = std::getenv("NORCH_SIMD");
  if (!env || !*env) return best;
  for (int i = 0; i < 3; ++i) {
    if (std::strcmp(env, kNames[i]) == 0) {
      // Asking for more than the CPU has would crash on an illegal instruction.
      return static_cast<int>(best) < i ? best : static_cast<Level>(i);
    }
  }
  std::fprintf(stderr, "norch: ignoring NORCH_SIMD=%s (expected avx512, avx2 or baseline)\n", env);
  return best;
}

struct Table {
  Level level;
  bool (*f32)(const GemmArgs&);
  bool (*f64)(const GemmArgs&);
};

Table make_table() {
  const Level level = choose_level();
  switch (level) {
#if defined(__x86_64__) || defined(_M_X64)
    case Level::Avx512: return {level, avx512::gemm_f32, avx512::gemm_f64};
    case Level::Avx2: return {level, avx2::gemm_f32, avx2::gemm_f64};
#endif
    default: return {Level::Baseline, baseline::gemm_f32, baseline::gemm_f64};
  }
}

const Table& table() {
  static const Table t = make_table();
  return t;
}

}  // namespace

namespace {
int g_gemm_kernel = 0;
int g_gemm_bf16_kernel = 0;
}
int set_gemm_kernel(int version) {
  const int old = g_gemm_kernel;
  g_gemm_kernel = version;
  return old;
}
int gemm_kernel_latest() { return kGemmKernelLatest; }
int set_gemm_bf16_kernel(int version) {
  const int old = g_gemm_bf16_kernel;
  g_gemm_bf16_kernel = version;
  return old;
}
int gemm_bf16_kernel() { return g_gemm_bf16_kernel; }
int gemm_bf16_kernel_latest() { return kGemmBf16KernelLatest; }

bool gemm_f32(const GemmArgs& args) {
  GemmArgs g = args;
  if (g.kernel == 0) g.kernel = g_gemm_kernel;
  return table().f32(g);
}
bool gemm_f64(const GemmArgs& args) {
  GemmArgs g = args;
  if (g.kernel == 0) g.kernel = g_gemm_kernel;
  return table().f64(g);
}

bool gemm_table(bool f64, long long M, long long N, long long K, const void* a, const void* b,
                const long long* offsets, bool columns, void* c, int threads) {
  static_assert(sizeof(long long) == sizeof(int64_t), "offsets are passed as the table itself");
  GemmArgs g{};
  g.batch = 1;
  g.M = M;
  g.N = N;
  g.K = K;
  g.a = a;
  g.a_rs = K;
  g.a_cs = 1;
  g.b = b;
  g.b_rs = columns ? 1 : 0;
  g.b_cs = columns ? 0 : 1;
  (columns ? g.b_cols : g.b_rows) = reinterpret_cast<const int64_t*>(offsets);
  g.c = c;
  g.c_rs = N;
  g.threads = threads;
  return f64 ? gemm_f64(g) : gemm_f32(g);
}

const char* simd_level_name() { return kNames[static_cast<int>(table().level)]; }

}  // namespace norch::cpu
