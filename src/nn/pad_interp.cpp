// Padding and interpolation: pad (constant, reflect, replicate, circular) and
// interpolate (nearest, linear, bilinear, area). Everything except constant
// padding is a separable resampling map (Note [Separable resampling] in
// kernels/conv.h); constant padding's backward is constant padding by the
// negated amounts, which crops what was added and zero-fills what was cropped.
#include <cmath>

#include "kernels/conv.h"
#include "nn/nn_utils.h"
#include "norch/autograd/function.h"
#include "norch/nn/functional.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"
#include "norch/tensor/size_math.h"

namespace norch {

using autograd::BackwardContext;
using nn_detail::bracket;

namespace {

Tensor constant_pad(const Tensor& input, const Shape& pad, double value) {
  const int64_t npad = static_cast<int64_t>(pad.size()) / 2, D = input.dim();
  Shape out_shape = input.sizes();
  for (int64_t i = 0; i < npad; ++i) {
    const int64_t d = D - 1 - i;
    const int64_t n = checked_add(checked_add(input.sizes()[d], pad[2 * i], "pad"), pad[2 * i + 1], "pad");
    NORCH_CHECK(n >= 0, "pad: the input size ", input.sizes()[d], ", plus negative padding ", pad[2 * i], " and ",
                pad[2 * i + 1], " resulted in a negative output size, which is invalid. Check dimension ", d,
                " of your input.");
    out_shape[d] = n;
  }
  Tensor out = full(out_shape, Scalar(value), TensorOptions(input.dtype(), input.device()));
  Tensor src = input.detach(), dst = out;
  bool any = out.numel() > 0;
  for (int64_t i = 0; i < npad && any; ++i) {
    const int64_t d = D - 1 - i, lo = pad[2 * i], hi = pad[2 * i + 1];
    const int64_t len = input.sizes()[d] + std::min<int64_t>(lo, 0) + std::min<int64_t>(hi, 0);
    if (len <= 0) { any = false; break; }
    src = narrow(src, d, std::max<int64_t>(-lo, 0), len);
    dst = narrow(dst, d, std::max<int64_t>(lo, 0), len);
  }
  if (any && src.numel() > 0) copy_data(dst, src);
  if (autograd::needs_grad(input))
    autograd::record("ConstantPadNdBackward0", {input}, {out}, {}, [pad](BackwardContext&, const TensorList& g) {
      Shape neg(pad.size());
      for (size_t i = 0; i < pad.size(); ++i) neg[i] = -pad[i];
      return TensorList{constant_pad(g[0], neg, 0.0)};
    });
  return out;
}

TapsPtr identity_taps(int64_t n) {
  auto t = std::make_shared<Taps>(n, n, 1);
  for (int64_t i = 0; i < n; ++i) { t->add(i, 1.0); t->next(); }
  return t;
}

// One dim of reflect/replicate/circular padding as a gather of source positions.
TapsPtr pad_taps(int64_t in, int64_t lo, int64_t hi, const std::string& mode, int64_t dim, const Tensor& input) {
  if (mode == "reflect")
    NORCH_CHECK(lo < in && hi < in, "pad: padding size should be less than the corresponding input dimension, but ",
                "got: padding (", lo, ", ", hi, ") at dimension ", dim, " of input ", bracket(input.sizes()));
  if (mode == "circular")
    NORCH_CHECK(lo <= in && hi <= in, "pad: padding value causes wrapping around more than once (padding (", lo, ", ",
                hi, ") at dimension ", dim, " of input ", bracket(input.sizes()), ")");
  const int64_t out = checked_add(checked_add(in, lo, "pad"), hi, "pad");
  NORCH_CHECK(out >= 0, "pad: the input size ", in, ", plus negative padding ", lo, " and ", hi,
              " resulted in a negative output size, which is invalid. Check dimension ", dim, " of your input.");
  // Circular padding wraps within what remains after any negative (cropping) side,
  // as PyTorch does: pad((1, -1)) of [0 1 2 3 4] is [3 0 1 2 3].
  const int64_t kept_lo = std::max<int64_t>(0, -lo), kept = in - kept_lo - std::max<int64_t>(0, -hi);
  NORCH_CHECK(mode != "circular" || kept > 0 || out == 0, "pad: circular padding of dimension ", dim,
              " of input ", bracket(input.sizes()), " crops it away entirely (padding (", lo, ", ", hi, "))");
  auto t = std::make_shared<Taps>(in, out, 1);
  for (int64_t i = 0; i < out; ++i) {
    int64_t s = i - lo;
    if (mode == "reflect") {
      if (s < 0) s = -s;
      if (s >= in) s = 2 * (in - 1) - s;
    } else if (mode == "replicate") {
      s = std::min(std::max<int64_t>(s, 0), in - 1);
    } else {
      const int64_t q = i - std::max<int64_t>(lo, 0);  // position relative to the kept range
      s = kept_lo + ((q % kept) + kept) % kept;
    }
    t->add(s, 1.0);
    t->next();
  }
  return t;
}

// PyTorch computes interpolation coordinates in the input's precision (float for float32).
template <typename T>
T source_scale(int64_t in, int64_t out, bool align_corners, std::optional<double> scale) {
  if (align_corners) return out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  if (scale && *scale > 0) return static_cast<T>(1.0 / *scale);
  return static_cast<T>(in) / static_cast<T>(out);
}

template <typename T>
TapsPtr nearest_taps(int64_t in, int64_t out, std::optional<double> scale) {
  auto t = std::make_shared<Taps>(in, out, 1);
  const T sc = source_scale<T>(in, out, false, scale);
  for (int64_t o = 0; o < out; ++o) {
    int64_t s;
    if (out == in) s = o;
    else if (out == 2 * in) s = o >> 1;
    else s = std::min(static_cast<int64_t>(std::floor(static_cast<T>(o) * sc)), in - 1);
    t->add(s, 1.0);
    t->next();
  }
  return t;
}

template <typename T>
TapsPtr linear_taps(int64_t in, int64_t out, bool align_corners, std::optional<double> scale) {
  auto t = std::make_shared<Taps>(in, out, 2);
  const T sc = source_scale<T>(in, out, align_corners, scale);
  for (int64_t o = 0; o < out; ++o) {
    T src = align_corners ? sc * static_cast<T>(o) : std::max(sc * (static_cast<T>(o) + T(0.5)) - T(0.5), T(0));
    int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
    const T l1 = std::min(std::max(src - static_cast<T>(i0), T(0)), T(1));
    t->add(i0, static_cast<double>(T(1) - l1));
    t->add(i1, static_cast<double>(l1));
    t->next();
  }
  return t;
}

}  // namespace

Tensor pad(const Tensor& input, const Shape& pad, const std::string& mode, std::optional<double> value) {
  NORCH_CHECK(pad.size() % 2 == 0, "Padding length must be divisible by 2");
  const int64_t npad = static_cast<int64_t>(pad.size()) / 2;
  NORCH_CHECK(npad <= input.dim(), "Padding length should be less than or equal to two times the input dimension ",
              "but got padding length ", pad.size(), " and input of dimension ", input.dim());
  if (mode == "constant") return constant_pad(input, pad, value.value_or(0.0));
  if (mode != "reflect" && mode != "replicate" && mode != "circular")
    NORCH_NOT_IMPLEMENTED("Unrecognised padding mode ", mode);
  NORCH_CHECK(!value || *value == 0.0, "Padding mode \"", mode, "\" doesn't take in value argument");
  // PyTorch's table of supported combinations; an empty pad must not reach the
  // per-dim code below, which reads pad[0] and pad[1].
  if (npad == 0 || npad > 3 || input.dim() < npad + 1 || input.dim() > npad + 2)
    NORCH_NOT_IMPLEMENTED("Padding size ", pad.size(), " is not supported for ", input.dim(), "D input tensor.\n",
                          "Supported combinations for non-constant padding:\n",
                          "  - 2D or 3D input: padding size = 2 (pads last dimension)\n",
                          "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n",
                          "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)");
  if (npad > 2)
    NORCH_NOT_IMPLEMENTED("pad: ", mode, " padding of the last ", npad, " dims is implemented for ", npad + 1, "D or ",
                          npad + 2, "D input, but got input of size ", bracket(input.sizes()));
  NORCH_CHECK(input.is_floating_point(), "pad: ", mode, " padding is not implemented for dtype ",
              dtype_name(input.dtype()));
  const int64_t D = input.dim();
  for (int64_t d = D - npad - 1; d < D; ++d)
    NORCH_CHECK(input.sizes()[d] > 0 || d == 0, "pad: expected input to have non-zero size for non-batch dimensions,",
                " but got input of size ", bracket(input.sizes()));
  TapsPtr cols = pad_taps(input.sizes()[D - 1], pad[0], pad[1], mode, D - 1, input);
  const bool two = npad == 2;
  Tensor x = two ? input : unsqueeze(input, -2);
  TapsPtr rows = two ? pad_taps(input.sizes()[D - 2], pad[2], pad[3], mode, D - 2, input) : identity_taps(1);
  const char* name = mode == "reflect" ? (two ? "ReflectionPad2DBackward0" : "ReflectionPad1DBackward0")
                     : mode == "replicate" ? (two ? "ReplicationPad2DBackward0" : "ReplicationPad1DBackward0")
                                           : "CircularPadBackward0";
  Tensor out = nn_detail::resample2d(x, rows, cols, name, "PadBackwardBackward0");
  return two ? out : squeeze(out, {-2});
}

Tensor interpolate(const Tensor& input, std::optional<Shape> size, std::optional<std::vector<double>> scale_factor,
                   const std::string& mode, std::optional<bool> align_corners,
                   std::optional<bool> recompute_scale_factor) {
  const bool known = mode == "nearest" || mode == "linear" || mode == "bilinear" || mode == "area";
  if (!known) NORCH_NOT_IMPLEMENTED("interpolate: mode '", mode, "' is not implemented (nearest | linear | bilinear | area)");
  if (input.dim() != 3 && input.dim() != 4)
    NORCH_NOT_IMPLEMENTED("Input Error: Only 3D and 4D input Tensors are supported (got ", input.dim(),
                          "D) for the modes: nearest | linear | bilinear | area (got ", mode, ")");
  const int64_t ns = input.dim() - 2;
  if (mode == "bilinear" && ns != 2) NORCH_NOT_IMPLEMENTED("Got ", input.dim(), "D input, but bilinear mode needs 4D input");
  if (mode == "linear" && ns != 1) NORCH_NOT_IMPLEMENTED("Got ", input.dim(), "D input, but linear mode needs 3D input");
  const bool linear = mode == "linear" || mode == "bilinear";
  NORCH_CHECK_VALUE(!align_corners || linear, "align_corners option can only be set with the interpolating modes: ",
                    "linear | bilinear | bicubic | trilinear");
  NORCH_CHECK_VALUE(!(size && scale_factor), "only one of size or scale_factor should be defined");
  NORCH_CHECK_VALUE(size || scale_factor, "either size or scale_factor should be defined");
  NORCH_CHECK(input.is_floating_point(), "interpolate: not implemented for dtype ", dtype_name(input.dtype()));
  Shape in_sp(input.sizes().end() - ns, input.sizes().end()), out_sp(ns);
  std::vector<std::optional<double>> scales(ns);
  if (size) {
    NORCH_CHECK_VALUE(size->size() == 1 || static_cast<int64_t>(size->size()) == ns,
                      "Input and output must have the same number of spatial dimensions, but got input with spatial ",
                      "dimensions of ", bracket(in_sp), " and output size of ", bracket(*size),
                      ". Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ",
                      "...,oK) format.");
    for (int64_t i = 0; i < ns; ++i) out_sp[i] = size->size() == 1 ? (*size)[0] : (*size)[i];
  } else {
    const auto& sf = *scale_factor;
    NORCH_CHECK_VALUE(sf.size() == 1 || static_cast<int64_t>(sf.size()) == ns,
                      "Input and scale_factor must have the same number of spatial dimensions, but got input with ",
                      "spatial dimensions of ", bracket(in_sp), " and scale_factor of length ", sf.size(), ".");
    for (int64_t i = 0; i < ns; ++i) {
      const double f = sf.size() == 1 ? sf[0] : sf[i];
      NORCH_CHECK(std::isfinite(f) && f > 0, "interpolate: scale_factor must be positive and finite, but got ", f);
      // Checked: a huge factor gives a double outside int64, whose cast is undefined.
      out_sp[i] = checked_double_to_int64(std::floor(static_cast<double>(in_sp[i]) * f));
      if (!recompute_scale_factor.value_or(false)) scales[i] = f;
    }
  }
  for (int64_t i = 0; i < ns; ++i)
    NORCH_CHECK(out_sp[i] > 0 && in_sp[i] > 0, "interpolate: input and output sizes should be greater than 0, but ",
                "got input ", bracket(in_sp), " and output ", bracket(out_sp));
  // PyTorch's overflow message for an output that cannot exist, before any work.
  Shape out_shape(input.sizes().begin(), input.sizes().end() - ns);
  out_shape.insert(out_shape.end(), out_sp.begin(), out_sp.end());
  storage_nbytes(out_shape, input.element_size());
  if (mode == "area")
    return ns == 1 ? adaptive_avg_pool1d(input, out_sp) : adaptive_avg_pool2d(input, out_sp);

  const bool ac = align_corners.value_or(false);
  const bool dbl = input.dtype() == ScalarType::Float64;
  auto taps = [&](int64_t i) {
    if (linear)
      return dbl ? linear_taps<double>(in_sp[i], out_sp[i], ac, scales[i])
                 : linear_taps<float>(in_sp[i], out_sp[i], ac, scales[i]);
    return dbl ? nearest_taps<double>(in_sp[i], out_sp[i], scales[i]) : nearest_taps<float>(in_sp[i], out_sp[i], scales[i]);
  };
  const char* name = linear ? (ns == 2 ? "UpsampleBilinear2DBackward0" : "UpsampleLinear1DBackward0")
                            : (ns == 2 ? "UpsampleNearest2DBackward0" : "UpsampleNearest1DBackward0");
  if (ns == 1)
    return squeeze(nn_detail::resample2d(unsqueeze(input, -2), identity_taps(1), taps(0), name,
                                         "UpsampleBackwardBackward0"),
                   {-2});
  return nn_detail::resample2d(input, taps(0), taps(1), name, "UpsampleBackwardBackward0");
}

}  // namespace norch
