// CPU random kernels: Philox blocks turned into uniform, normal, integer,
// Bernoulli and exponential draws, permutations and multinomial samples.
// Elementwise and order-free (Note [Philox streams]), so the loops may run on
// any number of threads and still give the same values.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels/random.h"
#include "kernels/random_math.h"
#include "norch/utils/generator.h"  // philox4x32
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

using random_math::Block;
using random_math::uniform53;

// out[i] = f(philox block at counter offset + i). The per-element math is
// random_math's, the CUDA kernels' too (Note [Portable random math]).
template <typename T, typename F>
void generate(T* out, int64_t n, uint64_t offset, uint64_t key, const F& f) {
  parallel_for(n, grain_for(n, n, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) out[i] = f(random_math::philox(offset + uint64_t(i), 0, key));
  });
}

template <typename T>
void uniform_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double from, double to) {
  const T lo = T(from), hi = T(to);
  const T below_hi = std::nextafter(hi, lo);
  generate(out, n, offset, key, [&](const Block& b) { return random_math::uniform_value<T>(b, lo, hi, below_hi); });
}

// The largest value of the half type T below v (v finite).
template <typename T>
T half_below(T v) {
  uint16_t bits = v.x;
  if ((bits & 0x7fffu) == 0) return T(uint16_t(0x8001u), FromBits{});  // below +-0: -denorm_min
  bits = (bits & 0x8000u) ? uint16_t(bits + 1) : uint16_t(bits - 1);
  return T(bits, FromBits{});
}

// The half types draw in float32 and round (as PyTorch's do), then step below
// `to` if the rounding reached it.
template <typename T>
void uniform_half_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double from, double to) {
  std::vector<float> f(static_cast<size_t>(n));
  uniform_loop(f.data(), n, offset, key, from, to);
  const T hi = T(to);
  const T below_hi = half_below(hi);
  const bool nonempty = static_cast<float>(hi) > static_cast<float>(T(from));
  for (int64_t i = 0; i < n; ++i) {
    const T v = T(f[size_t(i)]);
    out[i] = nonempty && static_cast<float>(v) >= static_cast<float>(hi) ? below_hi : v;
  }
}

// The half types take the float32 draw and round it, as PyTorch does.
template <typename T>
void normal_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double mean, double std) {
  generate(out, n, offset, key, [&](const Block& b) {
    if constexpr (is_half_type_v<T>) return T(random_math::normal_value<float>(b, mean, std));
    else return random_math::normal_value<T>(b, mean, std);
  });
}

template <typename T>
void int_loop(T* out, int64_t n, uint64_t offset, uint64_t key, int64_t from, uint64_t range) {
  generate(out, n, offset, key, [&](const Block& b) { return random_math::int_value<T>(b, from, range); });
}

template <typename T>
void bernoulli_loop(T* out, int64_t n, uint64_t offset, uint64_t key, const double* p, bool scalar_p) {
  parallel_for(n, grain_for(n, n, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i)
      out[i] = random_math::bernoulli_value<T>(random_math::philox(offset + uint64_t(i), 0, key), p[scalar_p ? 0 : i]);
  });
}

template <typename T>
void exponential_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double lambd) {
  generate(out, n, offset, key, [&](const Block& b) {
    if constexpr (is_half_type_v<T>) return T(random_math::exponential_value<float>(b, lambd));
    else return random_math::exponential_value<T>(b, lambd);
  });
}

void uniform_kernel(const Tensor& out, uint64_t key, uint64_t offset, double from, double to) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "uniform_", [&] {
    if constexpr (is_half_type_v<scalar_t>) uniform_half_loop(out.data<scalar_t>(), out.numel(), offset, key, from, to);
    else uniform_loop(out.data<scalar_t>(), out.numel(), offset, key, from, to);
  });
}

void normal_kernel(const Tensor& out, uint64_t key, uint64_t offset, double mean, double std) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "normal_",
                                [&] { normal_loop(out.data<scalar_t>(), out.numel(), offset, key, mean, std); });
}

void random_kernel(const Tensor& out, uint64_t key, uint64_t offset, int64_t from, uint64_t range) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(out.dtype(), "random_",
                           [&] { int_loop(out.data<scalar_t>(), out.numel(), offset, key, from, range); });
}

void bernoulli_kernel(const Tensor& out, uint64_t key, uint64_t offset, const double* p, bool scalar_p) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(out.dtype(), "bernoulli_",
                           [&] { bernoulli_loop(out.data<scalar_t>(), out.numel(), offset, key, p, scalar_p); });
}

void exponential_kernel(const Tensor& out, uint64_t key, uint64_t offset, double lambd) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "exponential_",
                                [&] { exponential_loop(out.data<scalar_t>(), out.numel(), offset, key, lambd); });
}

void randperm_kernel(const Tensor& out, uint64_t key, uint64_t offset) {
  const int64_t n = out.numel();
  int64_t* perm = out.data<int64_t>();
  std::iota(perm, perm + n, int64_t{0});
  // Fisher-Yates: position i swaps with a uniform j in [0, i].
  for (int64_t i = n - 1; i > 0; --i) {
    const auto b = philox4x32(offset + uint64_t(i), 0, key);
    const uint64_t r = (uint64_t(b[0]) << 32) | b[1];
    std::swap(perm[i], perm[r % uint64_t(i + 1)]);
  }
}

void multinomial_kernel(const Tensor& out, const Tensor& weights, int64_t num_samples, bool replacement,
                        uint64_t key, uint64_t offset) {
  const int64_t rows = weights.size(0), cats = weights.size(1);
  const double* pw = weights.data<double>();
  int64_t* po = out.data<int64_t>();
  const uint64_t per_row = uint64_t(replacement ? num_samples : cats);
  std::vector<double> cdf(static_cast<size_t>(cats));
  std::vector<std::pair<double, int64_t>> keys(static_cast<size_t>(cats));
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = pw + r * cats;
    const uint64_t base = offset + uint64_t(r) * per_row;
    if (replacement) {
      // Inverse CDF: the first category whose cumulative weight exceeds u * total.
      std::partial_sum(row, row + cats, cdf.begin());
      const double total = cdf.back();
      for (int64_t s = 0; s < num_samples; ++s) {
        const auto b = philox4x32(base + uint64_t(s), 0, key);
        const double u = uniform53(b[0], b[1]) * total;
        int64_t c = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
        if (c >= cats) {  // u rounded up to the total: take the last category with weight
          c = cats - 1;
          while (row[c] == 0.0) --c;
        }
        po[r * num_samples + s] = c;
      }
    } else {
      // Exponential race: key_c = E_c / w_c with E_c ~ Exp(1); the k smallest keys
      // are k draws without replacement in order (the algorithm PyTorch uses).
      for (int64_t c = 0; c < cats; ++c) {
        const auto b = philox4x32(base + uint64_t(c), 0, key);
        const double e = -std::log1p(-uniform53(b[0], b[1]));
        keys[size_t(c)] = {row[c] > 0.0 ? e / row[c] : std::numeric_limits<double>::infinity(), c};
      }
      std::partial_sort(keys.begin(), keys.begin() + num_samples, keys.end());
      for (int64_t s = 0; s < num_samples; ++s) po[r * num_samples + s] = keys[size_t(s)].second;
    }
  }
}

}  // namespace
NORCH_REGISTER_KERNEL(uniform_stub, CPU, uniform_kernel);
NORCH_REGISTER_KERNEL(normal_stub, CPU, normal_kernel);
NORCH_REGISTER_KERNEL(random_stub, CPU, random_kernel);
NORCH_REGISTER_KERNEL(bernoulli_stub, CPU, bernoulli_kernel);
NORCH_REGISTER_KERNEL(exponential_stub, CPU, exponential_kernel);
NORCH_REGISTER_KERNEL(randperm_stub, CPU, randperm_kernel);
NORCH_REGISTER_KERNEL(multinomial_stub, CPU, multinomial_kernel);
}  // namespace norch::cpu
