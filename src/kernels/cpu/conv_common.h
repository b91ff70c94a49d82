// What the CPU conv2d kernels share: per-thread scratch, the problem's shape, the
// zero-padded plane copy, and the row-table paths (conv_rows_kernel.cpp) that
// conv_kernel.cpp chooses between and the unfolding ones.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "kernels/conv.h"

namespace norch::cpu::conv {

constexpr int64_t kBlockBytes = 384 << 10;
constexpr int64_t kWeightGroups = 8;

// Scratch that grows and is kept, one per thread and dtype, so steady-state calls
// neither allocate nor fault in pages; a block too large to keep (one huge sample)
// gets memory of its own, freed when the block is done.
constexpr size_t kKeepBytes = size_t(8) << 20;

template <typename T>
class Scratch {
 public:
  Scratch(int which, size_t n) {
    if (n * sizeof(T) > kKeepBytes) {
      own_.resize(n);
      p_ = own_.data();
      return;
    }
    thread_local std::vector<T> kept[4];
    if (kept[which].size() < n) kept[which].resize(n);
    p_ = kept[which].data();
  }
  T* get() const { return p_; }

 private:
  std::vector<T> own_;
  T* p_ = nullptr;
};

struct ConvShape {
  int64_t N, C, G, OC, Cg, OCg, K, Ckk, L, plane, nb, blocks;
  ConvShape(int64_t n, int64_t c, int64_t g, int64_t oc, const Window2d& w, size_t elem)
      : N(n), C(c), G(g), OC(oc), Cg(c / g), OCg(oc / g), K(w.kh * w.kw), Ckk(c / g * w.kh * w.kw),
        L(w.oh * w.ow), plane(w.H * w.W) {
    const int64_t per_sample = std::max<int64_t>(C * K * L * int64_t(elem), 1);
    nb = std::max<int64_t>(1, std::min<int64_t>(N, kBlockBytes / per_sample));
    blocks = (N + nb - 1) / nb;
  }
};

// The part of a plane's zero-extended copy that the windows reach: rows -ph .. Hp-ph-1,
// columns -pw .. Wp-pw-1, so each row of a tap's columns is one plain copy.
template <typename T>
void pad_plane(const T* plane, const Window2d& w, int64_t Hp, int64_t Wp, T* dst) {
  const int64_t xlo = std::min(w.pw, Wp), xhi = std::max(xlo, std::min(Wp, w.W + w.pw));
  for (int64_t y = 0; y < Hp; ++y) {
    T* d = dst + y * Wp;
    const int64_t sy = y - w.ph;
    if (sy < 0 || sy >= w.H) {
      std::fill(d, d + Wp, T(0));
      continue;
    }
    std::fill(d, d + xlo, T(0));
    std::memcpy(d + xlo, plane + sy * w.W + (xlo - w.pw), sizeof(T) * size_t(xhi - xlo));
    std::fill(d + xhi, d + Wp, T(0));
  }
}

// Note [Row-table convolution] (conv_rows_kernel.cpp): which stride-1 shapes run it, and
// the two products. Both run on the calling thread's pool, per sample, and sum (the
// weight gradient) in fixed runs of samples, so results do not depend on thread count.
bool use_rows(const Window2d& w, const ConvShape& s);
bool use_rows_grad_input(const Window2d& t, const ConvShape& ts);
bool use_rows_grad_weight(const Window2d& w, const ConvShape& s);
template <typename T>
void conv_forward_rows(const T* x, const T* wt, const T* bias, const Window2d& w, const ConvShape& s, T* out,
                       std::atomic<bool>& ok);
// The weight gradient's padded-width grid multiplies its zero columns by real inputs, so
// an inf or NaN in x would give NaN where the true sum (PyTorch's) is finite or inf; such
// inputs take the unfolding path. One read of x, a few percent of the pass.
template <typename T>
bool all_finite(const T* x, int64_t n) {
  T probe = T(0);
#pragma omp simd reduction(+ : probe)
  for (int64_t i = 0; i < n; ++i) probe += x[i] * T(0);
  return probe == T(0);
}
template <typename T>
void conv_grad_weight_rows(const T* grad, const T* x, const Window2d& w, const ConvShape& s, T* gw,
                           std::atomic<bool>& ok);

}  // namespace norch::cpu::conv
