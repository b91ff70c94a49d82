// Creation ops. None records autograd history: results are leaves.
#include "norch/ops/creation.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/fill.h"
#include "norch/autograd/function.h"
#include "norch/ops/copy.h"
#include "norch/tensor/size_math.h"

namespace norch {

DispatchStub<FillKernel> fill_stub("fill_");
DispatchStub<RangeKernel> range_stub("arange");

namespace {
// arange, linspace and eye compute their values on the CPU: the result moves to
// the requested device and becomes a leaf that requires grad when asked.
Tensor place(const Tensor& cpu, const TensorOptions& opts) {
  Tensor t = opts.device.is_cpu() ? cpu : to_device(cpu, opts.device);
  if (opts.requires_grad) t.set_requires_grad(true);
  return t;
}

// PyTorch's checked conversion for a fill of a half type: a finite value beyond
// the dtype's largest is refused (infinities pass). Its one-element fill takes
// an unchecked path, so norch skips the check there too.
void check_fill_overflow(const Tensor& t, const Scalar& value) {
  if (!is_reduced_float(t.dtype()) || !value.is_floating_point() || t.numel() == 1) return;
  const double v = std::fabs(value.to_double());
  const double max = t.dtype() == ScalarType::Float16 ? 65504.0 : 3.3895313892515355e+38;
  NORCH_CHECK(!(v > max) || std::isinf(v), "value cannot be converted to type ",
              t.dtype() == ScalarType::Float16 ? "c10::Half" : "c10::BFloat16", " without overflow");
}
}  // namespace

// A value that does not fit the tensor's dtype is refused, as PyTorch's
// checked_convert does, rather than converted (NaN into an int tensor, 300 into uint8).
void check_scalar_fits(const Scalar& value, ScalarType dtype) {
  if (is_reduced_float(dtype)) return;  // the half types: check_fill_overflow's rule, where PyTorch applies it
  NORCH_DISPATCH_ALL_TYPES(dtype, "fill_", [&] {
    bool fits = value.fits<scalar_t>();
    if constexpr (std::is_same_v<scalar_t, float>) {
      // Here (not in tensor()) PyTorch also refuses a finite double beyond float's range.
      const double v = value.to_double();
      fits = !std::isfinite(v) || std::fabs(v) <= static_cast<double>(std::numeric_limits<float>::max());
    }
    NORCH_CHECK(fits, "value cannot be converted to type ", c_type_name<scalar_t>(), " without overflow");
  });
}

Tensor& fill_(Tensor& self, const Scalar& value) {
  autograd::check_inplace(self, "fill_");
  check_scalar_fits(value, self.dtype());
  check_fill_overflow(self, value);
  fill_stub(self.device())(self, value);
  self.bump_version();
  if (autograd::needs_grad(self)) {
    // The old values no longer matter: their gradient is zero.
    Tensor result = alias(self);
    autograd::record("FillBackward0", {self}, {result}, {},
                     [](autograd::BackwardContext&, const TensorList& g) -> TensorList { return {zeros_like(g[0])}; });
    autograd::rebase_history(self, result);
  }
  return self;
}
Tensor& zero_(Tensor& self) { return fill_(self, Scalar(0)); }

Tensor full(const Shape& sizes, const Scalar& value, TensorOptions opts) {
  bool rg = opts.requires_grad;
  opts.requires_grad = false;
  check_scalar_fits(value, opts.dtype);
  Tensor t = empty(sizes, opts);
  check_fill_overflow(t, value);
  fill_stub(t.device())(t, value);
  if (rg) t.set_requires_grad(true);
  return t;
}
Tensor zeros(const Shape& sizes, TensorOptions opts) { return full(sizes, Scalar(0), opts); }
Tensor ones(const Shape& sizes, TensorOptions opts) { return full(sizes, Scalar(1), opts); }
Tensor empty_like(const Tensor& t) { return empty(t.sizes(), TensorOptions(t.dtype(), t.device())); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), TensorOptions(t.dtype(), t.device())); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), TensorOptions(t.dtype(), t.device())); }
Tensor full_like(const Tensor& t, const Scalar& value) {
  return full(t.sizes(), value, TensorOptions(t.dtype(), t.device()));
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, TensorOptions opts) {
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  NORCH_CHECK(std::isfinite(s) && std::isfinite(e), "arange: unsupported range: ", s, " -> ", e);
  NORCH_CHECK(st != 0, "arange: step must be nonzero");
  NORCH_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), "arange: upper bound and larger bound inconsistent with step sign");
  // PyTorch computes integer ranges in int64: the start and step are truncated
  // (a step of 0.5 gives zeros); the length too for int64 alone, so arange(0, 3.5)
  // is [0, 1, 2] in int64 but [0, 1, 2, 3] in int32, and a step of 0.5 is refused.
  double vs = s, vst = st;
  if (is_integral(opts.dtype, true)) {
    vs = std::trunc(s);
    vst = std::trunc(st);
    if (opts.dtype == ScalarType::Int64) {
      NORCH_CHECK_VALUE(vst != 0, "step must be nonzero");
      s = vs;
      st = vst;
      e = std::trunc(e);
    }
  }
  // The length as a double may exceed int64 (a huge range, a tiny step).
  const int64_t n = checked_double_to_int64(std::ceil((e - s) / st));
  Tensor cpu = empty({n}, TensorOptions(opts.dtype));
  range_stub(Device())(cpu, vs, vst, e, false);
  return place(cpu, opts);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions opts) {
  NORCH_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  if (steps > 0) {  // PyTorch checks the bounds only when there is a value to write
    check_scalar_fits(Scalar(start), opts.dtype);
    check_scalar_fits(Scalar(end), opts.dtype);
  }
  Tensor cpu = empty({steps}, TensorOptions(opts.dtype));
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  if (steps > 0) range_stub(Device())(cpu, start, step, end, steps > 1);
  return place(cpu, opts);
}

Tensor eye(int64_t n, int64_t m, TensorOptions opts) {
  if (m < 0) m = n;
  NORCH_CHECK(n >= 0 && m >= 0, "eye: n and m must be non-negative, got n=", n, ", m=", m);
  Tensor cpu = zeros({n, m}, TensorOptions(opts.dtype));
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(opts.dtype, "eye", [&] {
    scalar_t* p = cpu.data<scalar_t>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = scalar_t(1);
  });
  return place(cpu, opts);
}

}  // namespace norch
