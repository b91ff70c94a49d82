// Sampling ops: rand/randn/randint/randperm/bernoulli/multinomial and the in-place
// fills. Values are computed on the CPU from Philox blocks (Note [Philox streams]
// in norch/utils/generator.h) and copied to the tensor's device, so a seed gives the
// same numbers on every device and thread count. Random ops record no backward.
#include "norch/ops/random.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/unary.h"
#include "norch/tensor/iterator.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"

namespace norch {

namespace {

using Block = std::array<uint32_t, 4>;

Generator& get(Generator* gen) { return gen ? *gen : *default_generator(); }

// [0, 1) with 53 random bits from two words.
inline double uniform53(uint32_t hi, uint32_t lo) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

// out[i] = f(philox block at counter offset + i); elementwise and order-free, so
// the loop may run on any number of threads and still give the same values.
template <typename T, typename F>
void generate(T* out, int64_t n, uint64_t offset, uint64_t key, const F& f) {
#pragma omp parallel for if (n > 32768)
  for (int64_t i = 0; i < n; ++i) out[i] = f(philox4x32(offset + uint64_t(i), 0, key));
}

// Fills `self` (any layout, any device) with values of `fn(block) -> T` per element.
// `fn` is called as fn(scalar_t tag, block) through a dtype dispatch.
template <typename Fn>
Tensor& fill_random(Tensor& self, Generator* gen, const char* op, Fn fn) {
  autograd::check_inplace(self, op);
  const int64_t n = self.numel();
  Generator& g = get(gen);
  const auto [key, offset] = g.reserve(uint64_t(n));
  const bool direct = self.device().is_cpu() && self.is_contiguous();
  Tensor buf = direct ? self : empty(self.sizes(), TensorOptions(self.dtype()));
  fn(buf, n, offset, key);
  if (!direct) copy_data(self, buf);
  self.bump_version();
  // A non-leaf that is overwritten gets a node passing zero gradient to its old
  // history (PyTorch's behaviour: the new values do not depend on the old ones).
  if (autograd::needs_grad(self))
    autograd::record(op, {self}, {self}, {}, [](autograd::BackwardContext&, const TensorList&) -> TensorList {
      return {Tensor()};
    });
  return self;
}

template <typename T>
void uniform_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double from, double to) {
  const T lo = T(from), hi = T(to);
  const T below_hi = std::nextafter(hi, lo);
  generate(out, n, offset, key, [&](const Block& b) {
    T u = sizeof(T) == 4 ? T(double(b[0] >> 8) * (1.0 / 16777216.0)) : T(uniform53(b[0], b[1]));
    T v = T(lo + (hi - lo) * u);
    return v >= hi && hi > lo ? below_hi : v;  // rounding must not reach `to`
  });
}

// Box-Muller on (0, 1] x [0, 1): one normal per block (the sine half is dropped
// so that element i depends on block i alone).
template <typename T>
void normal_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double mean, double std) {
  generate(out, n, offset, key, [&](const Block& b) {
    const double u1 = 1.0 - uniform53(b[0], b[1]);
    const double u2 = uniform53(b[2], b[3]);
    return T(mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
  });
}

// from + r mod range; the modulo bias is below 2^-64 * range, negligible for ranges we draw.
template <typename T>
void int_loop(T* out, int64_t n, uint64_t offset, uint64_t key, int64_t from, uint64_t range) {
  generate(out, n, offset, key, [&](const Block& b) {
    const uint64_t r = (uint64_t(b[0]) << 32) | b[1];
    return T(int64_t(uint64_t(from) + r % range));
  });
}

template <typename T>
void bernoulli_loop(T* out, int64_t n, uint64_t offset, uint64_t key, const double* p, bool scalar_p) {
#pragma omp parallel for if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const Block b = philox4x32(offset + uint64_t(i), 0, key);
    out[i] = T(uniform53(b[0], b[1]) < p[scalar_p ? 0 : i] ? 1 : 0);
  }
}

template <typename T>
void exponential_loop(T* out, int64_t n, uint64_t offset, uint64_t key, double lambd) {
  generate(out, n, offset, key, [&](const Block& b) {
    return T(-std::log1p(-uniform53(b[0], b[1])) / lambd);
  });
}

void check_probabilities(const Tensor& p64, const char* op) {
  const double* p = p64.data<double>();
  bool ok = true;
  for (int64_t i = 0; i < p64.numel(); ++i) ok = ok && p[i] >= 0.0 && p[i] <= 1.0;
  NORCH_CHECK(ok, op, ": expected all probabilities p to be in [0, 1] (0 <= p <= 1)");
}

double to_vector_min(const Tensor& t) {
  Tensor c = contiguous(to_dtype(to_device(t, Device()), ScalarType::Float64));
  const double* p = c.data<double>();
  double lo = p[0];
  for (int64_t i = 1; i < c.numel(); ++i) lo = std::min(lo, p[i]);
  return lo;
}

}  // namespace

Tensor& uniform_(Tensor& self, double from, double to, Generator* gen) {
  NORCH_CHECK(from <= to, "uniform_ expects to return a [from, to) range, but found from=", from, " > to=", to);
  return fill_random(self, gen, "UniformBackward0", [&](Tensor& buf, int64_t n, uint64_t off, uint64_t key) {
    NORCH_DISPATCH_FLOATING_TYPES(buf.dtype(), "uniform_", [&] { uniform_loop(buf.data<scalar_t>(), n, off, key, from, to); });
  });
}

Tensor& normal_(Tensor& self, double mean, double std, Generator* gen) {
  NORCH_CHECK(std >= 0.0, "normal expects std >= 0.0, but found std ", std);
  return fill_random(self, gen, "NormalBackward0", [&](Tensor& buf, int64_t n, uint64_t off, uint64_t key) {
    NORCH_DISPATCH_FLOATING_TYPES(buf.dtype(), "normal_", [&] { normal_loop(buf.data<scalar_t>(), n, off, key, mean, std); });
  });
}

Tensor& random_(Tensor& self, int64_t from, std::optional<int64_t> to, Generator* gen) {
  // Inclusive upper bound when `to` is absent: the largest integer the dtype holds
  // exactly (2^mantissa digits for floats).
  int64_t max_value = 0;
  switch (self.dtype()) {
    case ScalarType::Bool: max_value = 1; break;
    case ScalarType::UInt8: max_value = 255; break;
    case ScalarType::Int32: max_value = std::numeric_limits<int32_t>::max(); break;
    case ScalarType::Int64: max_value = std::numeric_limits<int64_t>::max(); break;
    case ScalarType::Float32: max_value = int64_t(1) << 24; break;
    case ScalarType::Float64: max_value = int64_t(1) << 53; break;
  }
  const int64_t min_value = self.dtype() == ScalarType::Int32   ? std::numeric_limits<int32_t>::min()
                            : self.dtype() == ScalarType::Int64 ? std::numeric_limits<int64_t>::min()
                            : is_floating_point(self.dtype())   ? -max_value
                                                                : 0;
  uint64_t range;
  if (to) {
    NORCH_CHECK(from < *to, "random_ expects 'from' to be less than 'to', but got from=", from, " >= to=", *to);
    NORCH_CHECK(from >= min_value && *to - 1 <= max_value, "random_ expects 'from' and 'to' - 1 to be in the range of ",
                dtype_name(self.dtype()), " [", min_value, ", ", max_value, "], but got from=", from, " to=", *to);
    range = uint64_t(*to) - uint64_t(from);
  } else {
    NORCH_CHECK(from >= min_value && from <= max_value, "random_ expects 'from' to be in the range of ",
                dtype_name(self.dtype()), ", but got from=", from);
    range = uint64_t(max_value) - uint64_t(from) + 1;  // 2^63 at most: fits
  }
  return fill_random(self, gen, "RandomBackward0", [&](Tensor& buf, int64_t n, uint64_t off, uint64_t key) {
    NORCH_DISPATCH_ALL_TYPES(buf.dtype(), "random_", [&] { int_loop(buf.data<scalar_t>(), n, off, key, from, range); });
  });
}

Tensor& bernoulli_(Tensor& self, double p, Generator* gen) {
  NORCH_CHECK(p >= 0.0 && p <= 1.0, "bernoulli_ expects p to be in [0, 1], but got p=", p);
  return fill_random(self, gen, "BernoulliBackward0", [&](Tensor& buf, int64_t n, uint64_t off, uint64_t key) {
    NORCH_DISPATCH_ALL_TYPES(buf.dtype(), "bernoulli_",
                             [&] { bernoulli_loop(buf.data<scalar_t>(), n, off, key, &p, true); });
  });
}

Tensor& bernoulli_(Tensor& self, const Tensor& p, Generator* gen) {
  NORCH_CHECK(p.is_floating_point(), "bernoulli_: p must be a floating point tensor, got ", dtype_name(p.dtype()));
  Tensor p64 = contiguous(to_dtype(to_device(expand(detach(p), self.sizes()), Device()), ScalarType::Float64));
  check_probabilities(p64, "bernoulli_");
  return fill_random(self, gen, "BernoulliBackward0", [&](Tensor& buf, int64_t n, uint64_t off, uint64_t key) {
    NORCH_DISPATCH_ALL_TYPES(buf.dtype(), "bernoulli_",
                             [&] { bernoulli_loop(buf.data<scalar_t>(), n, off, key, p64.data<double>(), false); });
  });
}

Tensor& exponential_(Tensor& self, double lambd, Generator* gen) {
  NORCH_CHECK(lambd > 0.0, "exponential_ expects lambda > 0.0, but found lambda=", lambd);
  return fill_random(self, gen, "ExponentialBackward0", [&](Tensor& buf, int64_t n, uint64_t off, uint64_t key) {
    NORCH_DISPATCH_FLOATING_TYPES(buf.dtype(), "exponential_",
                                  [&] { exponential_loop(buf.data<scalar_t>(), n, off, key, lambd); });
  });
}

namespace {
// Fresh tensors are filled without grad, then marked (they are leaves).
template <typename Fill>
Tensor fresh(const Shape& sizes, TensorOptions opts, Fill fill) {
  const bool rg = opts.requires_grad;
  opts.requires_grad = false;
  Tensor t = empty(sizes, opts);
  fill(t);
  if (rg) t.set_requires_grad(true);
  return t;
}
}  // namespace

Tensor rand(const Shape& sizes, TensorOptions opts, Generator* gen) {
  return fresh(sizes, opts, [&](Tensor& t) { uniform_(t, 0.0, 1.0, gen); });
}

Tensor randn(const Shape& sizes, TensorOptions opts, Generator* gen) {
  return fresh(sizes, opts, [&](Tensor& t) { normal_(t, 0.0, 1.0, gen); });
}

Tensor randint(int64_t low, int64_t high, const Shape& sizes, TensorOptions opts, Generator* gen) {
  return fresh(sizes, opts, [&](Tensor& t) { random_(t, low, high, gen); });
}

Tensor randperm(int64_t n, TensorOptions opts, Generator* gen) {
  NORCH_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  Generator& g = get(gen);
  const auto [key, offset] = g.reserve(uint64_t(n));
  // Fisher-Yates: position i swaps with a uniform j in [0, i].
  for (int64_t i = n - 1; i > 0; --i) {
    const Block b = philox4x32(offset + uint64_t(i), 0, key);
    const uint64_t r = (uint64_t(b[0]) << 32) | b[1];
    std::swap(perm[size_t(i)], perm[size_t(r % uint64_t(i + 1))]);
  }
  Tensor idx = empty({n}, TensorOptions(ScalarType::Int64));
  std::copy(perm.begin(), perm.end(), idx.data<int64_t>());
  return fresh({n}, opts, [&](Tensor& t) { copy_data(t, idx); });
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  NORCH_CHECK(p.is_floating_point(), "bernoulli: expected a floating point tensor of probabilities, got ",
              dtype_name(p.dtype()));
  return fresh(p.sizes(), TensorOptions(p.dtype(), p.device()), [&](Tensor& t) { bernoulli_(t, p, gen); });
}

Tensor normal(const Tensor& mean, const Tensor& std, Generator* gen) {
  NORCH_CHECK(mean.device() == std.device(), "normal: mean is on ", mean.device().str(), " but std is on ",
              std.device().str());
  autograd::NoGradGuard no_grad;
  Tensor s = detach(std), m = detach(mean);
  NORCH_CHECK(s.numel() == 0 || to_vector_min(s) >= 0.0, "normal expects all elements of std >= 0.0");
  ScalarType dt = result_type({m, s});  // a Python number for std keeps mean's dtype
  if (!is_floating_point(dt)) dt = default_dtype();
  Tensor z = randn(broadcast_shapes(m.sizes(), s.sizes(), "normal"), TensorOptions(dt, m.device()), gen);
  return add(mul(z, s), m);
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* gen) {
  NORCH_CHECK(probs.dim() == 1 || probs.dim() == 2, "multinomial: prob_dist must be 1 or 2 dim, got ", probs.dim(),
              " dims");
  NORCH_CHECK(probs.is_floating_point(), "multinomial only supports floating-point dtypes for input, got: ",
              dtype_name(probs.dtype()));
  NORCH_CHECK(num_samples > 0, "multinomial: cannot sample n_sample <= 0 samples");
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  const int64_t cats = probs.size(-1);
  NORCH_CHECK(cats > 0, "multinomial: number of categories cannot be zero");
  NORCH_CHECK(replacement || num_samples <= cats,
              "multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement (n_sample=",
              num_samples, ", categories=", cats, ")");
  Tensor w = contiguous(to_dtype(to_device(detach(probs), Device()), ScalarType::Float64));
  const double* pw = w.data<double>();
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0.0;
    int64_t nonzero = 0;
    for (int64_t c = 0; c < cats; ++c) {
      const double v = pw[r * cats + c];
      NORCH_CHECK(std::isfinite(v) && v >= 0.0, "multinomial: probability tensor contains either `inf`, `nan` or "
                  "element < 0");
      total += v;
      nonzero += v > 0.0;
    }
    NORCH_CHECK(total > 0.0, "multinomial: invalid multinomial distribution (sum of probabilities <= 0)");
    NORCH_CHECK(replacement || nonzero >= num_samples, "multinomial: invalid multinomial distribution "
                "(with replacement=False, not enough non-negative category to sample)");
  }
  Shape out_shape = probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  Tensor out = empty(out_shape, TensorOptions(ScalarType::Int64));
  int64_t* po = out.data<int64_t>();
  Generator& g = get(gen);
  const uint64_t per_row = uint64_t(replacement ? num_samples : cats);
  const auto [key, offset] = g.reserve(uint64_t(rows) * per_row);
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
        const Block b = philox4x32(base + uint64_t(s), 0, key);
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
        const Block b = philox4x32(base + uint64_t(c), 0, key);
        const double e = -std::log1p(-uniform53(b[0], b[1]));
        keys[size_t(c)] = {row[c] > 0.0 ? e / row[c] : std::numeric_limits<double>::infinity(), c};
      }
      std::partial_sort(keys.begin(), keys.begin() + num_samples, keys.end());
      for (int64_t s = 0; s < num_samples; ++s) po[r * num_samples + s] = keys[size_t(s)].second;
    }
  }
  return probs.device().is_cpu() ? out : to_device(out, probs.device());
}

}  // namespace norch
