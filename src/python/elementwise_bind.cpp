// Elementwise ops: module functions, Tensor methods and Python operators.
#include "convert.h"

namespace norch::python {

namespace {

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
using UnaryFn = Tensor (*)(const Tensor&);

int64_t larger(const Tensor& a, const Tensor& b) { return a.numel() > b.numel() ? a.numel() : b.numel(); }

// a (op) b where either side may be a Python number; NotImplemented otherwise,
// so that Python can try the reflected operator.
template <BinaryFn F, bool Reflected = false>
py::object binary_operator(const Tensor& self, py::handle other) {
  auto o = as_tensor_arg(other, self.device());
  if (!o) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  Tensor out = run_kernel(larger(self, *o), [&] { return Reflected ? F(*o, self) : F(self, *o); });
  return py::cast(std::move(out));
}

template <typename F>
void def_binary(py::module_& m, TensorClass& cls, const char* name, F f) {
  m.def(name, [f](py::handle a, py::handle b) {
    Tensor ta = to_tensor_arg(a, "input");
    Tensor tb = to_tensor_arg(b, "other", ta.device());
    return run_kernel(larger(ta, tb), [&] { return f(ta, tb); });
  }, py::arg("input"), py::arg("other"));
  cls.def(name, [f](const Tensor& a, py::handle b) {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    return run_kernel(larger(a, tb), [&] { return f(a, tb); });
  }, py::arg("other"));
}

template <typename F>
void def_binary_inplace(TensorClass& cls, const char* name, F f) {
  cls.def(name, [f](Tensor& a, py::handle b) -> Tensor& {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    run_kernel(larger(a, tb), [&] { f(a, tb); });
    return a;
  }, py::arg("other"));
}

template <typename F>
void def_unary(py::module_& m, TensorClass& cls, const char* name, F f) {
  m.def(name, [f](const Tensor& a) { return run_kernel(a.numel(), [&] { return f(a); }); }, py::arg("input"));
  cls.def(name, [f](const Tensor& a) { return run_kernel(a.numel(), [&] { return f(a); }); });
}

}  // namespace

void init_elementwise(py::module_& m, TensorClass& cls) {
  // Operators. Python numbers become wrapped-number tensors (weak in promotion).
  // + - * / // % & | ^ << >> and their in-place forms are number slots
  // (Note [Operator slots], operators_bind.cpp).
  cls.def("__pow__", [](const Tensor& a, py::handle b) { return binary_operator<static_cast<BinaryFn>(pow)>(a, b); })
      .def("__rpow__", [](const Tensor& a, py::handle b) { return binary_operator<static_cast<BinaryFn>(pow), true>(a, b); })
      .def("__eq__", [](const Tensor& a, py::handle b) -> py::object {
        // As PyTorch: == alone among the operators reads a NumPy array as a tensor.
        if (py::isinstance<py::array>(b)) return py::cast(eq(a, tensor_from_data(b, std::nullopt, a.device(), false)));
        return binary_operator<eq>(a, b);
      })
      .def("__ne__", &binary_operator<ne>)
      .def("__lt__", &binary_operator<lt>)
      .def("__le__", &binary_operator<le>)
      .def("__gt__", &binary_operator<gt>)
      .def("__ge__", &binary_operator<ge>)
      .def("__neg__", [](const Tensor& a) { return neg(a); })
      .def("__pos__", [](const Tensor& a) { return a; })
      .def("__abs__", [](const Tensor& a) { return abs(a); })
      .def("__invert__", [](const Tensor& a) {
        // The operator raises TypeError where the function raises NotImplementedError, as in PyTorch.
        NORCH_CHECK_TYPE(is_integral(a.dtype(), true),
                         "~ (operator.invert) is only implemented on integer and Boolean-type tensors");
        return bitwise_not(a);
      })
      .def("__ipow__", [](Tensor& a, py::handle b) -> py::object {
        auto o = as_tensor_arg(b, a.device());
        if (!o) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        run_kernel(larger(a, *o), [&] { pow_(a, *o); });
        return py::cast(a);
      })
      .def("__hash__", [](const Tensor& t) { return reinterpret_cast<intptr_t>(t.impl()); });

  // Functions and methods with PyTorch's names.
  m.def("add", [](py::handle a, py::handle b, py::handle alpha) {
    Tensor ta = to_tensor_arg(a, "input"), tb = to_tensor_arg(b, "other", ta.device());
    Scalar s = to_scalar(alpha);
    return run_kernel(larger(ta, tb), [&] { return add(ta, tb, s); });
  }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  cls.def("add", [](const Tensor& a, py::handle b, py::handle alpha) {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    Scalar s = to_scalar(alpha);
    return run_kernel(larger(a, tb), [&] { return add(a, tb, s); });
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  cls.def("add_", [](Tensor& a, py::handle b, py::handle alpha) -> Tensor& {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    Scalar s = to_scalar(alpha);
    return run_kernel(larger(a, tb), [&]() -> Tensor& { return add_(a, tb, s); });
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  m.def("sub", [](py::handle a, py::handle b, py::handle alpha) {
    Tensor ta = to_tensor_arg(a, "input"), tb = to_tensor_arg(b, "other", ta.device());
    Scalar s = to_scalar(alpha);
    return run_kernel(larger(ta, tb), [&] { return sub(ta, tb, s); });
  }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  cls.def("sub", [](const Tensor& a, py::handle b, py::handle alpha) {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    Scalar s = to_scalar(alpha);
    return run_kernel(larger(a, tb), [&] { return sub(a, tb, s); });
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  cls.def("sub_", [](Tensor& a, py::handle b, py::handle alpha) -> Tensor& {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    Scalar s = to_scalar(alpha);
    return run_kernel(larger(a, tb), [&]() -> Tensor& { return sub_(a, tb, s); });
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  auto div_fn = [](const Tensor& a, const Tensor& b, py::object mode) {
    std::string m = mode.is_none() ? std::string() : mode.cast<std::string>();
    return run_kernel(larger(a, b), [&] { return div(a, b, m); });
  };
  m.def("div", [div_fn](py::handle a, py::handle b, py::object mode) {
    Tensor ta = to_tensor_arg(a, "input");
    return div_fn(ta, to_tensor_arg(b, "other", ta.device()), mode);
  }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
  cls.def("div", [div_fn](const Tensor& a, py::handle b, py::object mode) {
    return div_fn(a, to_tensor_arg(b, "other", a.device()), mode);
  }, py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
  cls.def("div_", [](Tensor& a, py::handle b, py::object mode) -> Tensor& {
    Tensor tb = to_tensor_arg(b, "other", a.device());
    std::string m = mode.is_none() ? std::string() : mode.cast<std::string>();
    return run_kernel(larger(a, tb), [&]() -> Tensor& { return div_(a, tb, m); });
  }, py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
  m.attr("divide") = m.attr("div");
  m.attr("true_divide") = m.attr("div");

  def_binary(m, cls, "mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  def_binary(m, cls, "multiply", [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  def_binary(m, cls, "floor_divide", floor_divide);
  def_binary(m, cls, "remainder", remainder);
  def_binary(m, cls, "fmod", fmod);
  def_binary(m, cls, "pow", static_cast<BinaryFn>(pow));
  def_binary(m, cls, "maximum", maximum);
  def_binary(m, cls, "minimum", minimum);
  def_binary(m, cls, "atan2", atan2);
  def_binary(m, cls, "hypot", hypot);
  def_binary(m, cls, "eq", eq);
  def_binary(m, cls, "ne", ne);
  def_binary(m, cls, "lt", lt);
  def_binary(m, cls, "le", le);
  def_binary(m, cls, "gt", gt);
  def_binary(m, cls, "ge", ge);
  def_binary(m, cls, "greater", gt);
  def_binary(m, cls, "less", lt);
  def_binary(m, cls, "logical_and", logical_and);
  def_binary(m, cls, "logical_or", logical_or);
  def_binary(m, cls, "logical_xor", logical_xor);
  def_binary(m, cls, "bitwise_and", bitwise_and);
  def_binary(m, cls, "bitwise_or", bitwise_or);
  def_binary(m, cls, "bitwise_xor", bitwise_xor);
  def_binary(m, cls, "bitwise_left_shift", bitwise_left_shift);
  def_binary(m, cls, "bitwise_right_shift", bitwise_right_shift);
  def_binary_inplace(cls, "mul_", [](Tensor& a, const Tensor& b) { mul_(a, b); });
  def_binary_inplace(cls, "pow_", [](Tensor& a, const Tensor& b) { pow_(a, b); });
  def_binary_inplace(cls, "remainder_", [](Tensor& a, const Tensor& b) { remainder_(a, b); });
  def_binary_inplace(cls, "floor_divide_", [](Tensor& a, const Tensor& b) { floor_divide_(a, b); });
  def_binary_inplace(cls, "maximum_", [](Tensor& a, const Tensor& b) { maximum_(a, b); });
  def_binary_inplace(cls, "minimum_", [](Tensor& a, const Tensor& b) { minimum_(a, b); });
  def_binary_inplace(cls, "fmod_", [](Tensor& a, const Tensor& b) { fmod_(a, b); });
  def_binary_inplace(cls, "atan2_", [](Tensor& a, const Tensor& b) { atan2_(a, b); });
  def_binary_inplace(cls, "hypot_", [](Tensor& a, const Tensor& b) { hypot_(a, b); });
  def_binary_inplace(cls, "bitwise_left_shift_", [](Tensor& a, const Tensor& b) { bitwise_left_shift_(a, b); });
  def_binary_inplace(cls, "bitwise_right_shift_", [](Tensor& a, const Tensor& b) { bitwise_right_shift_(a, b); });
  def_binary_inplace(cls, "bitwise_and_", [](Tensor& a, const Tensor& b) { bitwise_and_(a, b); });
  def_binary_inplace(cls, "bitwise_or_", [](Tensor& a, const Tensor& b) { bitwise_or_(a, b); });
  def_binary_inplace(cls, "bitwise_xor_", [](Tensor& a, const Tensor& b) { bitwise_xor_(a, b); });

  def_unary(m, cls, "neg", static_cast<UnaryFn>(neg));
  def_unary(m, cls, "negative", static_cast<UnaryFn>(neg));
  def_unary(m, cls, "abs", static_cast<UnaryFn>(abs));
  def_unary(m, cls, "sign", sign);
  def_unary(m, cls, "exp", static_cast<UnaryFn>(exp));
  def_unary(m, cls, "exp2", static_cast<UnaryFn>(exp2));
  def_unary(m, cls, "log", static_cast<UnaryFn>(log));
  def_unary(m, cls, "log2", static_cast<UnaryFn>(log2));
  def_unary(m, cls, "log10", static_cast<UnaryFn>(log10));
  def_unary(m, cls, "log1p", static_cast<UnaryFn>(log1p));
  def_unary(m, cls, "expm1", static_cast<UnaryFn>(expm1));
  def_unary(m, cls, "sqrt", static_cast<UnaryFn>(sqrt));
  def_unary(m, cls, "rsqrt", rsqrt);
  def_unary(m, cls, "sin", static_cast<UnaryFn>(sin));
  def_unary(m, cls, "cos", static_cast<UnaryFn>(cos));
  def_unary(m, cls, "tan", static_cast<UnaryFn>(tan));
  def_unary(m, cls, "asin", static_cast<UnaryFn>(asin));
  def_unary(m, cls, "acos", static_cast<UnaryFn>(acos));
  def_unary(m, cls, "atan", static_cast<UnaryFn>(atan));
  def_unary(m, cls, "sinh", static_cast<UnaryFn>(sinh));
  def_unary(m, cls, "cosh", static_cast<UnaryFn>(cosh));
  def_unary(m, cls, "tanh", static_cast<UnaryFn>(tanh));
  def_unary(m, cls, "sigmoid", sigmoid);
  def_unary(m, cls, "relu", relu);
  def_unary(m, cls, "erf", static_cast<UnaryFn>(erf));
  def_unary(m, cls, "floor", static_cast<UnaryFn>(floor));
  def_unary(m, cls, "ceil", static_cast<UnaryFn>(ceil));
  def_unary(m, cls, "trunc", static_cast<UnaryFn>(trunc));
  def_unary(m, cls, "frac", frac);
  def_unary(m, cls, "reciprocal", reciprocal);
  def_unary(m, cls, "sinc", sinc);
  def_unary(m, cls, "square", square);
  def_unary(m, cls, "logical_not", logical_not);
  def_unary(m, cls, "bitwise_not", bitwise_not);
  def_unary(m, cls, "isnan", static_cast<UnaryFn>(isnan));
  def_unary(m, cls, "isinf", static_cast<UnaryFn>(isinf));
  def_unary(m, cls, "isfinite", static_cast<UnaryFn>(isfinite));
  auto round_fn = [](const Tensor& a, int64_t decimals) { return round(a, decimals); };
  m.def("round", round_fn, py::arg("input"), py::kw_only(), py::arg("decimals") = 0);
  cls.def("round", round_fn, py::kw_only(), py::arg("decimals") = 0);

  using InplaceUnary = Tensor& (*)(Tensor&);
  auto def_inplace = [&](const char* name, InplaceUnary f) {
    cls.def(name, [f](Tensor& a) -> Tensor& { return run_kernel(a.numel(), [&]() -> Tensor& { return f(a); }); });
  };
  def_inplace("neg_", neg_);
  def_inplace("abs_", abs_);
  def_inplace("exp_", exp_);
  def_inplace("log_", log_);
  def_inplace("sqrt_", sqrt_);
  def_inplace("sigmoid_", sigmoid_);
  def_inplace("tanh_", tanh_);
  def_inplace("relu_", relu_);
  def_inplace("floor_", floor_);
  def_inplace("ceil_", ceil_);
  def_inplace("round_", round_);
  def_inplace("trunc_", trunc_);
  def_inplace("reciprocal_", reciprocal_);
  def_inplace("sinc_", sinc_);
  def_inplace("square_", square_);
  def_inplace("sign_", sign_);
  def_inplace("exp2_", exp2_);
  def_inplace("log2_", log2_);
  def_inplace("log10_", log10_);
  def_inplace("log1p_", log1p_);
  def_inplace("expm1_", expm1_);
  def_inplace("rsqrt_", rsqrt_);
  def_inplace("sin_", sin_);
  def_inplace("cos_", cos_);
  def_inplace("tan_", tan_);
  def_inplace("asin_", asin_);
  def_inplace("acos_", acos_);
  def_inplace("atan_", atan_);
  def_inplace("sinh_", sinh_);
  def_inplace("cosh_", cosh_);
  def_inplace("erf_", erf_);
  def_inplace("frac_", frac_);
  def_inplace("logical_not_", logical_not_);
  def_inplace("bitwise_not_", bitwise_not_);

  auto opt_scalar = [](py::handle o) -> std::optional<Scalar> {
    if (o.is_none()) return std::nullopt;
    return to_scalar(o);
  };
  auto clamp_fn = [opt_scalar](const Tensor& a, py::handle min, py::handle max) {
    if (py::isinstance<Tensor>(min) || py::isinstance<Tensor>(max)) {
      Tensor lo = min.is_none() ? Tensor() : to_tensor_arg(min, "min", a.device());
      Tensor hi = max.is_none() ? Tensor() : to_tensor_arg(max, "max", a.device());
      return clamp(a, lo, hi);
    }
    return clamp(a, opt_scalar(min), opt_scalar(max));
  };
  m.def("clamp", clamp_fn, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  m.attr("clip") = m.attr("clamp");
  cls.def("clamp", clamp_fn, py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("clip", clamp_fn, py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("clamp_", [opt_scalar](Tensor& a, py::handle min, py::handle max) -> Tensor& {
    if (py::isinstance<Tensor>(min) || py::isinstance<Tensor>(max)) {
      Tensor lo = min.is_none() ? Tensor() : to_tensor_arg(min, "min", a.device());
      Tensor hi = max.is_none() ? Tensor() : to_tensor_arg(max, "max", a.device());
      return clamp_(a, lo, hi);
    }
    return clamp_(a, opt_scalar(min), opt_scalar(max));
  }, py::arg("min") = py::none(), py::arg("max") = py::none());
  auto nan_fn = [](const Tensor& a, std::optional<double> nan, std::optional<double> posinf, std::optional<double> neginf) {
    return nan_to_num(a, nan, posinf, neginf);
  };
  m.def("nan_to_num", nan_fn, py::arg("input"), py::arg("nan") = 0.0, py::arg("posinf") = py::none(),
        py::arg("neginf") = py::none());
  cls.def("nan_to_num", nan_fn, py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none());
  cls.def("nan_to_num_", [](Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                            std::optional<double> neginf) -> Tensor& { return nan_to_num_(a, nan, posinf, neginf); },
          py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none());
  auto where_fn = [](const Tensor& cond, py::handle a, py::handle b) {
    Tensor ta = to_tensor_arg(a, "input", cond.device());
    return where(cond, ta, to_tensor_arg(b, "other", cond.device()));
  };
  m.def("where", where_fn, py::arg("condition"), py::arg("input"), py::arg("other"));
  cls.def("where", [where_fn](const Tensor& self, const Tensor& cond, py::handle other) {
    return where_fn(cond, py::cast(self), other);
  }, py::arg("condition"), py::arg("other"));
  auto lerp_fn = [](const Tensor& a, const Tensor& b, py::handle w) {
    return lerp(a, b, to_tensor_arg(w, "weight", a.device()));
  };
  m.def("lerp", lerp_fn, py::arg("input"), py::arg("end"), py::arg("weight"));
  cls.def("lerp", lerp_fn, py::arg("end"), py::arg("weight"));
}

}  // namespace norch::python
