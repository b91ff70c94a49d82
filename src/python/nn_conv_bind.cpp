// Bindings for convolution, pooling, padding and interpolation (norch._C._nn).
// Only conversions: int-or-tuple arguments become Shapes; checks live in the core.
#include "convert.h"

namespace norch::python {
namespace {

Tensor bias_arg(const std::optional<Tensor>& b) { return b ? *b : Tensor(); }

// adaptive pooling's output_size: an int, or a tuple whose None entries keep the input size.
Shape output_size_arg(py::handle obj) {
  if (PyLong_Check(obj.ptr())) return Shape{obj.cast<int64_t>()};
  Shape r;
  for (auto v : py::reinterpret_borrow<py::sequence>(obj)) r.push_back(v.is_none() ? -1 : v.cast<int64_t>());
  return r;
}

std::optional<std::vector<double>> scale_arg(py::handle obj) {
  if (obj.is_none()) return std::nullopt;
  if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr())) return std::vector<double>{obj.cast<double>()};
  return obj.cast<std::vector<double>>();
}

}  // namespace

void init_nn_conv(py::module_& m, TensorClass&) {
  py::module_ nn = submodule(m, "_nn");

  nn.def(
      "conv2d",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, py::handle stride, py::handle padding,
         py::handle dilation, int64_t groups) {
        const Shape st = to_dims(stride), di = to_dims(dilation);
        if (py::isinstance<py::str>(padding)) {
          const std::string pa = padding.cast<std::string>();
          GilRelease release(x.numel() + w.numel());  // Note [GIL release]
          return conv2d(x, w, bias_arg(b), st, pa, di, groups);
        }
        const Shape pa = to_dims(padding);
        GilRelease release(x.numel() + w.numel());
        return conv2d(x, w, bias_arg(b), st, pa, di, groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1);
  nn.def(
      "conv1d",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, py::handle stride, py::handle padding,
         py::handle dilation, int64_t groups) {
        const Shape st = to_dims(stride), di = to_dims(dilation);
        if (py::isinstance<py::str>(padding)) {
          const std::string pa = padding.cast<std::string>();
          GilRelease release(x.numel() + w.numel());
          return conv1d(x, w, bias_arg(b), st, pa, di, groups);
        }
        const Shape pa = to_dims(padding);
        GilRelease release(x.numel() + w.numel());
        return conv1d(x, w, bias_arg(b), st, pa, di, groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1);
  nn.def(
      "conv_transpose2d",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, py::handle stride, py::handle padding,
         py::handle output_padding, int64_t groups, py::handle dilation) {
        const Shape st = to_dims(stride), pa = to_dims(padding), op = to_dims(output_padding), di = to_dims(dilation);
        GilRelease release(x.numel() + w.numel());
        return conv_transpose2d(x, w, bias_arg(b), st, pa, op, groups, di);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("output_padding") = 0, py::arg("groups") = 1, py::arg("dilation") = 1);
  nn.def(
      "unfold",
      [](const Tensor& x, py::handle k, py::handle d, py::handle p, py::handle s) {
        return unfold(x, to_dims(k), to_dims(d), to_dims(p), to_dims(s));
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("dilation") = 1, py::arg("padding") = 0, py::arg("stride") = 1);
  nn.def(
      "fold",
      [](const Tensor& x, py::handle os, py::handle k, py::handle d, py::handle p, py::handle s) {
        return fold(x, to_dims(os), to_dims(k), to_dims(d), to_dims(p), to_dims(s));
      },
      py::arg("input"), py::arg("output_size"), py::arg("kernel_size"), py::arg("dilation") = 1,
      py::arg("padding") = 0, py::arg("stride") = 1);

  using MaxFn = std::tuple<Tensor, Tensor> (*)(const Tensor&, Shape, Shape, Shape, Shape, bool);
  for (auto [name, fn] : {std::pair<const char*, MaxFn>{"max_pool2d_with_indices", max_pool2d_with_indices},
                          {"max_pool1d_with_indices", max_pool1d_with_indices}}) {
    nn.def(
        name,
        [fn = fn](const Tensor& x, py::handle k, py::handle s, py::handle p, py::handle d, bool ceil_mode) {
          const Shape ks = to_dims(k), st = to_dims(s), pa = to_dims(p), di = to_dims(d);
          GilRelease release(x.numel());
          return fn(x, ks, st, pa, di, ceil_mode);
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("dilation") = 1, py::arg("ceil_mode") = false);
  }
  nn.def(
      "avg_pool2d",
      [](const Tensor& x, py::handle k, py::handle s, py::handle p, bool ceil_mode, bool count_include_pad,
         std::optional<int64_t> divisor_override) {
        const Shape ks = to_dims(k), st = to_dims(s), pa = to_dims(p);
        GilRelease release(x.numel());
        return avg_pool2d(x, ks, st, pa, ceil_mode, count_include_pad, divisor_override);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none());
  nn.def(
      "avg_pool1d",
      [](const Tensor& x, py::handle k, py::handle s, py::handle p, bool ceil_mode, bool count_include_pad) {
        const Shape ks = to_dims(k), st = to_dims(s), pa = to_dims(p);
        GilRelease release(x.numel());
        return avg_pool1d(x, ks, st, pa, ceil_mode, count_include_pad);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true);
  nn.def(
      "adaptive_avg_pool2d",
      [](const Tensor& x, py::handle os) {
        const Shape size = output_size_arg(os);
        GilRelease release(x.numel());
        return adaptive_avg_pool2d(x, size);
      },
      py::arg("input"), py::arg("output_size"));
  nn.def(
      "adaptive_avg_pool1d",
      [](const Tensor& x, py::handle os) {
        const Shape size = output_size_arg(os);
        GilRelease release(x.numel());
        return adaptive_avg_pool1d(x, size);
      },
      py::arg("input"), py::arg("output_size"));
  nn.def(
      "pad",
      [](const Tensor& x, py::handle p, const std::string& mode, std::optional<double> value) {
        return pad(x, to_shape(p), mode, value);
      },
      py::arg("input"), py::arg("pad"), py::arg("mode") = "constant", py::arg("value") = py::none());
  nn.def(
      "interpolate",
      [](const Tensor& x, py::handle size, py::handle scale_factor, const std::string& mode,
         std::optional<bool> align_corners, std::optional<bool> recompute_scale_factor) {
        std::optional<Shape> sz;
        if (!size.is_none()) sz = to_dims(size);
        return interpolate(x, sz, scale_arg(scale_factor), mode, align_corners, recompute_scale_factor);
      },
      py::arg("input"), py::arg("size") = py::none(), py::arg("scale_factor") = py::none(),
      py::arg("mode") = "nearest", py::arg("align_corners") = py::none(),
      py::arg("recompute_scale_factor") = py::none());
}

}  // namespace norch::python
