// Sampling ops: rand/randn/randint/randperm/bernoulli/normal/multinomial and the
// in-place fills: argument checks, counter reservation and placement. Values are
// computed on the CPU from Philox blocks by the kernels (kernels/random.h; Note
// [Philox streams] in norch/utils/generator.h) and copied to the tensor's device, so a
// seed gives the same numbers on every device and thread count. Random ops record
// no backward.
#include "norch/ops/random.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/random.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/unary.h"
#include "norch/tensor/iterator.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"

namespace norch {

DispatchStub<UniformKernel> uniform_stub("uniform_");
DispatchStub<NormalKernel> normal_stub("normal_");
DispatchStub<RandomKernel> random_stub("random_");
DispatchStub<BernoulliKernel> bernoulli_stub("bernoulli_");
DispatchStub<ExponentialKernel> exponential_stub("exponential_");
DispatchStub<RandpermKernel> randperm_stub("randperm");
DispatchStub<MultinomialKernel> multinomial_stub("multinomial");

namespace {

Generator& get(Generator* gen) { return gen ? *gen : *default_generator(); }

// Fills `self` (any layout, any device): `fn(buf, key, offset)` runs a kernel on a
// contiguous CPU buffer of self's shape and dtype (self itself when it is one).
template <typename Fn>
Tensor& fill_random(Tensor& self, Generator* gen, const char* op, Fn fn) {
  autograd::check_inplace(self, op);
  const int64_t n = self.numel();
  Generator& g = get(gen);
  const auto [key, offset] = g.reserve(uint64_t(n));
  const bool direct = self.device().is_cpu() && self.is_contiguous();
  Tensor buf = direct ? self : empty(self.sizes(), TensorOptions(self.dtype()));
  fn(buf, key, offset);
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
  return fill_random(self, gen, "UniformBackward0", [&](const Tensor& buf, uint64_t key, uint64_t off) {
    uniform_stub(Device())(buf, key, off, from, to);
  });
}

Tensor& normal_(Tensor& self, double mean, double std, Generator* gen) {
  NORCH_CHECK(std >= 0.0, "normal expects std >= 0.0, but found std ", std);
  return fill_random(self, gen, "NormalBackward0", [&](const Tensor& buf, uint64_t key, uint64_t off) {
    normal_stub(Device())(buf, key, off, mean, std);
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
    case ScalarType::Float16: max_value = int64_t(1) << 11; break;
    case ScalarType::BFloat16: max_value = int64_t(1) << 8; break;
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
  return fill_random(self, gen, "RandomBackward0", [&](const Tensor& buf, uint64_t key, uint64_t off) {
    random_stub(Device())(buf, key, off, from, range);
  });
}

Tensor& bernoulli_(Tensor& self, double p, Generator* gen) {
  NORCH_CHECK(p >= 0.0 && p <= 1.0, "bernoulli_ expects p to be in [0, 1], but got p=", p);
  return fill_random(self, gen, "BernoulliBackward0", [&](const Tensor& buf, uint64_t key, uint64_t off) {
    bernoulli_stub(Device())(buf, key, off, &p, true);
  });
}

Tensor& bernoulli_(Tensor& self, const Tensor& p, Generator* gen) {
  NORCH_CHECK(p.is_floating_point(), "bernoulli_: p must be a floating point tensor, got ", dtype_name(p.dtype()));
  Tensor p64 = contiguous(to_dtype(to_device(expand(detach(p), self.sizes()), Device()), ScalarType::Float64));
  check_probabilities(p64, "bernoulli_");
  return fill_random(self, gen, "BernoulliBackward0", [&](const Tensor& buf, uint64_t key, uint64_t off) {
    bernoulli_stub(Device())(buf, key, off, p64.data<double>(), false);
  });
}

Tensor& exponential_(Tensor& self, double lambd, Generator* gen) {
  NORCH_CHECK(lambd > 0.0, "exponential_ expects lambda > 0.0, but found lambda=", lambd);
  return fill_random(self, gen, "ExponentialBackward0", [&](const Tensor& buf, uint64_t key, uint64_t off) {
    exponential_stub(Device())(buf, key, off, lambd);
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
  Generator& g = get(gen);
  const auto [key, offset] = g.reserve(uint64_t(n));
  Tensor idx = empty({n}, TensorOptions(ScalarType::Int64));
  randperm_stub(Device())(idx, key, offset);
  return fresh({n}, opts, [&](Tensor& t) { copy_data(t, idx); });
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  NORCH_CHECK(p.is_floating_point(), "bernoulli: expected a floating point tensor of probabilities, got ",
              dtype_name(p.dtype()));
  return fresh(p.sizes(), TensorOptions(p.dtype(), p.device()), [&](Tensor& t) { bernoulli_(t, p, gen); });
}

Tensor bernoulli(const Tensor& self, double p, Generator* gen) {
  return fresh(self.sizes(), TensorOptions(self.dtype(), self.device()), [&](Tensor& t) { bernoulli_(t, p, gen); });
}

Tensor normal(double mean, double std, const Shape& sizes, TensorOptions opts, Generator* gen) {
  return fresh(sizes, opts, [&](Tensor& t) { normal_(t, mean, std, gen); });
}

Tensor normal(const Tensor& mean, const Scalar& std, Generator* gen) {
  return normal(mean, scalar_to_tensor(std, mean.device()), gen);
}

Tensor normal(const Scalar& mean, const Tensor& std, Generator* gen) {
  return normal(scalar_to_tensor(mean, std.device()), std, gen);
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
  const uint64_t per_row = uint64_t(replacement ? num_samples : cats);
  const auto [key, offset] = get(gen).reserve(uint64_t(rows) * per_row);
  multinomial_stub(Device())(out, reshape(w, {rows, cats}), num_samples, replacement, key, offset);
  return probs.device().is_cpu() ? out : to_device(out, probs.device());
}

}  // namespace norch
